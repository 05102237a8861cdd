package sync_test

import (
	"bytes"
	"context"
	"errors"
	"iter"
	"log/slog"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// owHiding lists the records of c without the fields at paths, as a
// connector that does not request a property would.
func owHiding(c *memory.Connector, paths ...[]string) *owHooked {
	h := &owHooked{Connector: c}
	h.list = func(ctx context.Context) iter.Seq2[sync.Item, error] {
		return func(yield func(sync.Item, error) bool) {
			for item, err := range c.List(ctx) {
				for _, p := range paths {
					owDelete(item, p)
				}
				if !yield(item, err) {
					return
				}
			}
		}
	}
	return h
}

func owDelete(item sync.Item, path []string) {
	for _, k := range path[:len(path)-1] {
		m, ok := item[k].(map[string]any)
		if !ok {
			return
		}
		item = m
	}
	delete(item, path[len(path)-1])
}

func TestOneWay_UpdatesOfFieldsTheTargetDoesNotList(t *testing.T) {
	t.Parallel()
	contact := func(email, phone string) sync.Item {
		return sync.Item{"properties": map[string]any{"email": email, "phone": phone}}
	}
	copyAll := func(src sync.Item) (sync.Item, error) { return maps.Clone(src), nil }
	people := []sync.Item{{"email": "a@x.io", "phone": "1"}, {"email": "b@x.io", "phone": "2"}}
	tests := []struct {
		name        string
		src, dst    []sync.Item
		hide        [][]string
		mapFn       sync.MapFunc
		wantUpdates int
		wantWarning string
	}{
		{
			name:        "a field no listed record has",
			src:         people,
			dst:         people,
			hide:        [][]string{{"phone"}},
			wantUpdates: 2,
			wantWarning: "source→target: no listed target record has the mapped field(s) " +
				"phone, so 2 update(s) writing them will be sent again on every run",
		},
		{
			name:        "a nested field no listed record has",
			src:         []sync.Item{contact("a@x.io", "1")},
			dst:         []sync.Item{contact("a@x.io", "1")},
			hide:        [][]string{{"properties", "phone"}},
			mapFn:       copyAll,
			wantUpdates: 1,
			wantWarning: "the mapped field(s) properties.phone,",
		},
		{
			name:        "a field some listed records have",
			src:         people,
			dst:         []sync.Item{{"email": "a@x.io", "phone": "1"}, {"email": "b@x.io"}},
			wantUpdates: 1,
		},
		{
			name:        "a field listed as null",
			src:         []sync.Item{{"email": "a@x.io", "phone": "1"}},
			dst:         []sync.Item{{"email": "a@x.io", "phone": nil}},
			wantUpdates: 1,
		},
		{
			name: "an empty field no record has",
			src:  []sync.Item{{"email": "a@x.io", "phone": ""}},
			dst:  []sync.Item{{"email": "a@x.io"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			src, mem := memory.New(), memory.New()
			src.Put(tt.src...)
			mem.Put(tt.dst...)
			dst := owHiding(mem, tt.hide...)
			opts := sync.Options{
				SourceKey: "email", Upsert: true, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
				Map: func(src sync.Item) (sync.Item, error) {
					return sync.Item{"email": src["email"], "phone": src["phone"]}, nil
				},
			}
			if tt.mapFn != nil {
				opts.SourceKey, opts.Map = "properties.email", tt.mapFn
			}

			first, err := sync.OneWay(t.Context(), src, dst, opts)
			require.NoError(t, err)
			second, err := sync.OneWay(t.Context(), src, dst, opts)
			require.NoError(t, err)

			assert.Equal(t, tt.wantUpdates, first.Count(sync.Updated))
			if tt.wantWarning == "" {
				assert.Empty(t, first.Warnings)
				assert.Zero(t, second.Count(sync.Updated), "the second run updates nothing")
				return
			}
			assert.Equal(t, tt.wantUpdates, second.Count(sync.Updated),
				"the updates are still due: the field may be one no record has yet")
			require.Len(t, first.Warnings, 1)
			assert.Contains(t, first.Warnings[0], tt.wantWarning)
			assert.Equal(t, first.Warnings, first.Direction("source→target").Warnings)
			assert.Empty(t, first.Direction("other→way").Warnings)
			for _, e := range first.Entries {
				assert.Contains(t, e.Detail, "which no listed target record has")
			}
			assert.Contains(t, logs.String(), "mapped fields missing from every target record")
		})
	}
}

func TestOneWay_Panics(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name   string
		change func(o *sync.Options, src *owHooked)
		wantIs error
	}{
		{
			name: "in a KeysFunc",
			change: func(o *sync.Options, _ *owHooked) {
				o.SourceKey, o.SourceKeys = "", func(sync.Item) []any { panic("keys boom") }
			},
		},
		{
			name: "in a Normalizer",
			change: func(o *sync.Options, _ *owHooked) {
				o.Normalize = func(string) string { panic(errBoom) }
			},
			wantIs: errBoom,
		},
		{
			name: "in Progress while listing",
			change: func(o *sync.Options, _ *owHooked) {
				o.Progress = func(p sync.Progress) {
					if p.Phase == sync.PhaseListing && p.Done == 1000 { // in a listing goroutine
						panic("progress boom")
					}
				}
			},
		},
		{
			name: "in a connector's List",
			change: func(_ *sync.Options, src *owHooked) {
				src.list = func(context.Context) iter.Seq2[sync.Item, error] {
					return func(func(sync.Item, error) bool) { panic("list boom") }
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem, dst := memory.New(), memory.New()
			mem.Put(owSeq(1500)...)
			src := &owHooked{Connector: mem}
			opts := sync.Options{SourceKey: "email", Map: owCopy}
			tt.change(&opts, src)

			report, err := sync.OneWay(t.Context(), src, dst, opts)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "listing source: panic: ")
			assert.Contains(t, err.Error(), "boom")
			assert.Contains(t, err.Error(), "sync_plan_test.go", "a short stack")
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.Empty(t, report.Entries)
			assert.Zero(t, dst.Stats().Calls)
		})
	}
}

func TestTwoWay_StatefulListingPanic(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("a@x.io", "A"))
	fields, err := sync.FieldPaths(map[string]string{"email": "email", "name": "name"})
	require.NoError(t, err)

	_, err = sync.TwoWay(t.Context(), a, b, sync.TwoWayOptions{
		AKeys: func(sync.Item) []any { panic("stateful boom") },
		BKey:  "email", State: memory.NewStateStore(), Pair: "p",
		Fields: sync.FieldMapping{A: fields, B: fields},
	})

	require.Error(t, err)
	assert.Contains(t, err.Error(), "listing a: panic: stateful boom")
}

func TestOneWay_ContextCancelledWhilePlanning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		dryRun bool
	}{
		{name: "a run"},
		{name: "a dry run", dryRun: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			src, dst := memory.New(), memory.New()
			src.Put(owSeq(5000)...)
			mapped := 0
			opts := sync.Options{SourceKey: "email", DryRun: tt.dryRun,
				Map: func(item sync.Item) (sync.Item, error) {
					mapped++
					if mapped == 10 {
						cancel()
					}
					return owCopy(item)
				}}

			_, err := sync.OneWay(ctx, src, dst, opts)

			require.ErrorIs(t, err, context.Canceled)
			assert.Contains(t, err.Error(), "planning source→target")
			assert.Less(t, mapped, 2000, "planning stopped soon after the cancellation")
			assert.Zero(t, dst.Stats().Calls)
		})
	}
}

func TestOneWay_DryRunCancelledAfterListing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src, dst := memory.New(), memory.New()
	src.Put(owSeq(3)...)
	opts := sync.Options{SourceKey: "email", Map: owCopy, DryRun: true,
		Progress: func(p sync.Progress) {
			if p.Phase == sync.PhasePlanning {
				cancel()
			}
		}}

	_, err := sync.OneWay(ctx, src, dst, opts)

	require.ErrorIs(t, err, context.Canceled)
}

func TestTwoWay_ReportKeepsBothDirections(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("a@x.io", "A"))

	report, err := sync.TwoWay(t.Context(), a, b,
		sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy})

	require.NoError(t, err)
	assert.Equal(t, []string{"a→b", "b→a"}, report.Directions())
	assert.Equal(t, "a→b: created 1, updated 0, unchanged 0, skipped 0, failed 0; "+
		"b→a: created 0, updated 0, unchanged 0, skipped 0, failed 0", report.String())
	assert.Equal(t, "created 1, updated 0, unchanged 0, skipped 0, failed 0",
		report.Direction("a→b").String())
}

// owCountingHandler is a slog handler that counts the records it receives.
type owCountingHandler struct{ n *int }

func (h owCountingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h owCountingHandler) Handle(context.Context, slog.Record) error {
	*h.n++
	return nil
}
func (h owCountingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h owCountingHandler) WithGroup(string) slog.Handler      { return h }

// TestOneWay_NilLoggerIsSilent swaps the default logger, so it must not run
// in parallel: parallel tests are paused while it runs.
func TestOneWay_NilLoggerIsSilent(t *testing.T) {
	var n int
	prev := slog.Default()
	slog.SetDefault(slog.New(owCountingHandler{n: &n}))
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.Info("the handler counts") // proves the test can fail
	require.Equal(t, 1, n)
	n = 0

	src, dst := memory.New(), memory.New(memory.WithMaxBatch(1))
	src.Put(owPerson("a@x.io", "A"), owPerson("a@x.io", "dup"), sync.Item{},
		owPerson("B@x.io", "B"), owPerson("c@x.io", "C"))
	dst.FailWrite(3, sync.ErrInvalid)
	lowering := owLowerCasing(dst)
	report, err := sync.OneWay(t.Context(), src, lowering,
		sync.Options{SourceKey: "email", Map: owCopy, MaxMissingKeys: -1})

	require.ErrorIs(t, err, sync.ErrWritesFailed)
	require.NotEmpty(t, report.Problems(), "the run had things to log: %s", report)
	assert.Equal(t, 1, report.CountReason(sync.ReasonKeyMismatch))
	assert.Zero(t, n, "nothing went to the default logger")
}

func TestMustKeys(t *testing.T) {
	t.Parallel()
	item := sync.Item{"email": "a@x.io", "emails": []any{map[string]any{"value": "b@x.io"}}}

	assert.Equal(t, []string{"a@x.io"}, sync.MustKeysAt("email").Strings(item, nil))
	assert.Equal(t, []string{"b@x.io"}, sync.MustEachKey("emails", "value").Strings(item, nil))
	assert.Panics(t, func() { sync.MustKeysAt("email[") })
	assert.Panics(t, func() { sync.MustKeysAt() })
	assert.Panics(t, func() { sync.MustEachKey("emails", ".value") })
}
