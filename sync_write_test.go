package sync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// owHooked is a memory connector whose List and Write can be replaced.
type owHooked struct {
	*memory.Connector
	list  func(ctx context.Context) iter.Seq2[sync.Item, error]
	write func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error)
}

func (h *owHooked) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	if h.list != nil {
		return h.list(ctx)
	}
	return h.Connector.List(ctx)
}

func (h *owHooked) Write(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
	if h.write != nil {
		return h.write(ctx, batch)
	}
	return h.Connector.Write(ctx, batch)
}

// owLowerCasing stores the "email" of every write lower-cased, as HubSpot
// does.
func owLowerCasing(c *memory.Connector) *owHooked {
	h := &owHooked{Connector: c}
	h.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
		lowered := make([]sync.Write, len(batch))
		for i, w := range batch {
			w.Item = maps.Clone(w.Item)
			if email, ok := w.Item["email"].(string); ok {
				w.Item["email"] = strings.ToLower(email)
			}
			lowered[i] = w
		}
		return c.Write(ctx, lowered)
	}
	return h
}

func TestOneWay_KeyMismatch(t *testing.T) {
	t.Parallel()
	emails := sync.MustEachKey("emails", "value")
	tests := []struct {
		name       string
		src, dst   []sync.Item
		opts       func(o *sync.Options)
		dstWrap    func(c *memory.Connector) sync.Connector
		want       []string
		wantDetail string // in the entry's Detail
	}{
		{
			name:       "a destination that lower-cases keys, without Normalize",
			src:        []sync.Item{owPerson("Dana@Example.com", "D"), owPerson("eli@x.io", "E")},
			dstWrap:    func(c *memory.Connector) sync.Connector { return owLowerCasing(c) },
			want:       []string{"created/key mismatch", "created"},
			wantDetail: `stored the key as "dana@example.com", not "Dana@Example.com"`,
		},
		{
			name:    "a destination that lower-cases keys, with NormalizeEmail",
			src:     []sync.Item{owPerson("Dana@Example.com", "D")},
			opts:    func(o *sync.Options) { o.Normalize = sync.NormalizeEmail },
			dstWrap: func(c *memory.Connector) sync.Connector { return owLowerCasing(c) },
			want:    []string{"created"},
		},
		{
			name: "a mapping that drops the key",
			src:  []sync.Item{owPerson("a@x.io", "A")},
			opts: func(o *sync.Options) {
				o.Map = func(src sync.Item) (sync.Item, error) {
					return sync.Item{"name": src["name"]}, nil
				}
			},
			want:       []string{"created/key mismatch"},
			wantDetail: "without a usable key",
		},
		{
			name: "a mapping that changes the key",
			src:  []sync.Item{owPerson("a@x.io", "A")},
			opts: func(o *sync.Options) {
				o.Map = func(src sync.Item) (sync.Item, error) {
					return sync.Item{"email": "other@x.io"}, nil
				}
			},
			want:       []string{"created/key mismatch"},
			wantDetail: "the mapping must carry the key over unchanged",
		},
		{
			name: "a mapping that writes another of the record's keys",
			src: []sync.Item{{"emails": []any{
				map[string]any{"value": "a@x.io"}, map[string]any{"value": "work@x.io"},
			}}},
			opts: func(o *sync.Options) {
				o.SourceKey, o.SourceKeys, o.TargetKey = "", emails, "email"
				o.Map = func(src sync.Item) (sync.Item, error) {
					return sync.Item{"email": "work@x.io"}, nil
				}
			},
			want: []string{"created"},
		},
		{
			name: "an update whose result holds no key is not judged",
			src:  []sync.Item{owPerson("a@x.io", "New")},
			dst:  []sync.Item{owPerson("a@x.io", "Old")},
			opts: func(o *sync.Options) { o.Upsert = true },
			dstWrap: func(c *memory.Connector) sync.Connector {
				h := &owHooked{Connector: c}
				h.write = func(ctx context.Context, b []sync.Write) ([]sync.WriteResult, error) {
					results, err := c.Write(ctx, b)
					for i := range results {
						results[i].Item = sync.Item{"id": results[i].Item["id"]}
					}
					return results, err
				}
				return h
			},
			want: []string{"updated"},
		},
		{
			name: "an update whose result holds another key",
			src:  []sync.Item{owPerson("A@x.io", "New")},
			dst:  []sync.Item{owPerson("A@x.io", "Old")},
			opts: func(o *sync.Options) { o.Upsert = true },
			dstWrap: func(c *memory.Connector) sync.Connector {
				return owLowerCasing(c)
			},
			want:       []string{"updated/key mismatch"},
			wantDetail: "set Normalize (such as NormalizeEmail)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			src, mem := memory.New(), memory.New()
			src.Put(tt.src...)
			mem.Put(tt.dst...)
			var dst sync.Connector = mem
			if tt.dstWrap != nil {
				dst = tt.dstWrap(mem)
			}
			opts := sync.Options{SourceKey: "email", Map: owCopy,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if tt.opts != nil {
				tt.opts(&opts)
			}

			report, err := sync.OneWay(t.Context(), src, dst, opts)

			require.NoError(t, err, "the writes succeeded")
			assert.Equal(t, tt.want, owOutcomes(report))
			mismatches := report.CountReason(sync.ReasonKeyMismatch)
			assert.Len(t, report.Problems(), mismatches, "mismatches are problems")
			if tt.wantDetail == "" {
				assert.Zero(t, mismatches)
				assert.NotContains(t, logs.String(), "will not match")
				return
			}
			e := report.Problems()[0]
			assert.Contains(t, e.Detail, tt.wantDetail)
			assert.Contains(t, e.Detail, "the next run")
			assert.NotNil(t, e.Result, "the outcome stands")
			assert.Contains(t, logs.String(), "level=WARN msg=\"written record will not match")
			assert.Contains(t, report.String(), "(key mismatch 1)")
		})
	}
}

func TestTwoWay_KeyMismatchIsReportedOnEveryRun(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("Dana@Example.com", "Dana"))
	lowering := owLowerCasing(b)
	opts := sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy}

	first, err := sync.TwoWay(t.Context(), a, lowering, opts)
	require.NoError(t, err)
	second, err := sync.TwoWay(t.Context(), a, lowering, opts)
	require.NoError(t, err)

	assert.Equal(t, []string{"created/key mismatch"}, owOutcomes(first))
	assert.Equal(t, "a→b: created 1 (key mismatch 1), updated 0, unchanged 0, skipped 0, "+
		"failed 0; b→a: created 0, updated 0, unchanged 0, skipped 0, failed 0", first.String())
	// Without Normalize the next run creates in both directions again; each
	// create says why.
	assert.Equal(t, []string{"created/key mismatch", "created/key mismatch"}, owOutcomes(second))
	for _, e := range second.Problems() {
		assert.Contains(t, e.Detail, "Normalize", e.String())
	}

	fixed := opts
	fixed.Normalize = sync.NormalizeEmail
	third, err := sync.TwoWay(t.Context(), a, lowering, fixed)
	require.NoError(t, err)
	assert.Zero(t, third.Count(sync.Created), "with NormalizeEmail nothing is created: %s", third)
}

func TestOneWay_DryRunFlagsNearMatches(t *testing.T) {
	t.Parallel()
	src, dst := memory.New(), memory.New()
	src.Put(owPerson("Dana@Example.com", "D"))
	dst.Put(owPerson("dana@example.com", "D"))

	report, err := sync.OneWay(t.Context(), src, dst,
		sync.Options{SourceKey: "email", Map: owCopy, DryRun: true})

	require.NoError(t, err)
	require.Equal(t, []string{"would created/key mismatch"}, owOutcomes(report))
	assert.Contains(t, report.Entries[0].Detail,
		`target record id 1 has the key "dana@example.com", which differs only in case`)
}

// owFailing is a destination whose every Write fails as results fills
// them and returns err.
func owFailing(results func(batch []sync.Write) []sync.WriteResult, err error) *owHooked {
	h := &owHooked{Connector: memory.New(memory.WithMaxBatch(2))}
	h.write = func(_ context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
		return results(batch), err
	}
	return h
}

func TestOneWay_WriteFailureReasons(t *testing.T) {
	t.Parallel()
	errDown := errors.New("503 service unavailable")
	errBad := fmt.Errorf("bad phone: %w", sync.ErrInvalid)
	each := func(err error) func([]sync.Write) []sync.WriteResult {
		return func(batch []sync.Write) []sync.WriteResult {
			out := make([]sync.WriteResult, len(batch))
			for i := range out {
				out[i].Err = err
			}
			return out
		}
	}
	tests := []struct {
		name    string
		dst     *owHooked
		want    sync.Reason
		wantErr error
	}{
		{
			name:    "results holding the batch error are batch errors",
			dst:     owFailing(each(errDown), errDown),
			want:    sync.ReasonBatchError,
			wantErr: errDown,
		},
		{
			name:    "results wrapping the batch error are batch errors",
			dst:     owFailing(each(fmt.Errorf("posting: %w", errDown)), errDown),
			want:    sync.ReasonBatchError,
			wantErr: errDown,
		},
		{
			name:    "results with errors of their own are write errors",
			dst:     owFailing(each(errBad), errDown),
			want:    sync.ReasonWriteError,
			wantErr: sync.ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := memory.New()
			src.Put(owSeq(2)...)

			report, err := sync.OneWay(t.Context(), src, tt.dst,
				sync.Options{SourceKey: "email", Map: owCopy})

			require.ErrorIs(t, err, sync.ErrWritesFailed)
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, 2, report.CountReason(tt.want), report.String())
		})
	}
}

func TestOneWay_StopsWhenBatchesKeepFailing(t *testing.T) {
	t.Parallel()
	errDown := errors.New("dial tcp: connection refused")
	tests := []struct {
		name      string
		fail      func(batch []sync.Write) []sync.WriteResult
		err       error
		wantCalls int
		wantStop  bool
	}{
		{
			name: "every batch fails as a whole",
			fail: func([]sync.Write) []sync.WriteResult { return nil },
			err:  errDown, wantCalls: 3, wantStop: true,
		},
		{
			name: "every item fails with a transport error",
			fail: func(batch []sync.Write) []sync.WriteResult {
				out := make([]sync.WriteResult, len(batch))
				for i := range out {
					out[i].Err = fmt.Errorf("posting: %w", errDown)
				}
				return out
			},
			wantCalls: 3, wantStop: true,
		},
		{
			name: "every item is invalid",
			fail: func(batch []sync.Write) []sync.WriteResult {
				out := make([]sync.WriteResult, len(batch))
				for i := range out {
					out[i].Err = fmt.Errorf("no name: %w", sync.ErrInvalid)
				}
				return out
			},
			wantCalls: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := memory.New()
			src.Put(owSeq(10)...)
			calls := 0
			dst := owFailing(func(b []sync.Write) []sync.WriteResult {
				calls++
				return tt.fail(b)
			}, tt.err)

			report, err := sync.OneWay(t.Context(), src, dst,
				sync.Options{SourceKey: "email", Map: owCopy})

			require.ErrorIs(t, err, sync.ErrWritesFailed, "a run whose writes fail fails")
			assert.Equal(t, tt.wantCalls, calls)
			assert.Equal(t, 10, report.Count(sync.Failed))
			var wf *sync.WriteFailuresError
			require.ErrorAs(t, err, &wf)
			assert.Equal(t, 10, wf.Failed)
			if !tt.wantStop {
				assert.NoError(t, wf.Stopped)
				assert.Zero(t, report.CountReason(sync.ReasonNotAttempted))
				return
			}
			assert.ErrorIs(t, err, errDown, "the error names the cause")
			assert.Contains(t, err.Error(), "3 batches in a row failed")
			assert.Equal(t, 4, report.CountReason(sync.ReasonNotAttempted))
		})
	}
}

func TestTwoWay_WriteFailures(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("a@x.io", "A"))
	b.Put(owPerson("b@x.io", "B"))
	a.FailWrite(1, sync.ErrConflict)

	report, err := sync.TwoWay(t.Context(), a, b,
		sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy})

	require.ErrorIs(t, err, sync.ErrWritesFailed)
	assert.ErrorIs(t, err, sync.ErrConflict)
	assert.Equal(t, []string{"created", "failed/write error"}, owOutcomes(report))
}

func TestOneWay_CreateThatFoundTheRecordIsAnUpdate(t *testing.T) {
	t.Parallel()
	src, mem := memory.New(), memory.New()
	src.Put(owPerson("a@x.io", "A"), owPerson("b@x.io", "B"))
	dst := &owHooked{Connector: mem}
	dst.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
		results, err := mem.Write(ctx, batch)
		for i := range results {
			results[i].Existed = batch[i].Item["email"] == "b@x.io"
		}
		return results, err
	}

	report, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.NoError(t, err)
	assert.Equal(t, []string{"created", "updated"}, owOutcomes(report))
	assert.Equal(t, 1, report.Count(sync.Created))
	assert.Equal(t, 1, report.Count(sync.Updated))
	assert.Contains(t, report.Entries[1].Detail, "already held a record with this key")
	assert.Equal(t, "created 1, updated 1, unchanged 0, skipped 0, failed 0", report.String())
}
