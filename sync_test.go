package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// owPerson returns a person record with an email key.
func owPerson(email any, name string) sync.Item {
	return sync.Item{"email": email, "name": name}
}

// owCopy maps a person to the same shape, keeping the key.
func owCopy(src sync.Item) (sync.Item, error) {
	return sync.Item{"email": src["email"], "name": src["name"]}, nil
}

// owOutcomes describes each entry as "outcome" or "outcome/reason", with
// "would " before planned writes.
func owOutcomes(r sync.Report) []string {
	out := make([]string, len(r.Entries))
	for i, e := range r.Entries {
		s := string(e.Outcome)
		if e.Planned {
			s = "would " + s
		}
		if e.Reason != "" {
			s += "/" + string(e.Reason)
		}
		out[i] = s
	}
	return out
}

// owField returns the value of field in each item.
func owField(items []sync.Item, field string) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it[field]
	}
	return out
}

// owNoIO is a connector that fails the test when it is used.
type owNoIO struct {
	t     *testing.T
	batch int
}

func (c owNoIO) List(context.Context) iter.Seq2[sync.Item, error] {
	c.t.Error("List called")
	return func(func(sync.Item, error) bool) {}
}

func (c owNoIO) MaxBatch() int { return c.batch }

func (c owNoIO) Write(context.Context, []sync.Write) ([]sync.WriteResult, error) {
	c.t.Error("Write called")
	return nil, nil
}

func TestOneWay_InvalidOptions(t *testing.T) {
	t.Parallel()
	valid := sync.Options{SourceKey: "email", Map: owCopy}
	keys, err := sync.KeysAt("email")
	require.NoError(t, err)
	tests := []struct {
		name      string
		change    func(o *sync.Options)
		nilSrc    bool
		nilDst    bool
		batch     int
		wantField string
		wantPath  bool // the cause is a *KeyPathError
	}{
		{name: "nil source", nilSrc: true, wantField: "src"},
		{name: "nil destination", nilDst: true, wantField: "dst"},
		{name: "no mapping", change: func(o *sync.Options) { o.Map = nil }, wantField: "Map"},
		{name: "no source key", change: func(o *sync.Options) { o.SourceKey = "" }, wantField: "SourceKey"},
		{
			name:      "both source key forms",
			change:    func(o *sync.Options) { o.SourceKeys = keys },
			wantField: "SourceKey",
		},
		{
			name:      "bad source key path",
			change:    func(o *sync.Options) { o.SourceKey = "email[0" },
			wantField: "SourceKey", wantPath: true,
		},
		{
			name:      "bad target key path",
			change:    func(o *sync.Options) { o.TargetKey = "properties..email" },
			wantField: "TargetKey", wantPath: true,
		},
		{
			name:      "both target key forms",
			change:    func(o *sync.Options) { o.TargetKey, o.TargetKeys = "email", keys },
			wantField: "TargetKey",
		},
		{
			name:      "NaN guard",
			change:    func(o *sync.Options) { o.MaxMissingKeys = nanValue() },
			wantField: "MaxMissingKeys",
		},
		{
			name:      "guard share above 1",
			change:    func(o *sync.Options) { o.MaxMissingKeys = 1.5 },
			wantField: "MaxMissingKeys",
		},
		{
			name:      "same names",
			change:    func(o *sync.Options) { o.SourceName, o.TargetName = "x", "x" },
			wantField: "TargetName",
		},
		{name: "destination batch size zero", batch: -1, wantField: "dst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := valid
			if tt.change != nil {
				tt.change(&opts)
			}
			batch := 10
			if tt.batch != 0 {
				batch = 0
			}
			var src sync.Source = owNoIO{t: t, batch: batch}
			var dst sync.Connector = owNoIO{t: t, batch: batch}
			if tt.nilSrc {
				src = nil
			}
			if tt.nilDst {
				dst = nil
			}

			report, err := sync.OneWay(t.Context(), src, dst, opts)

			require.Error(t, err)
			assert.ErrorIs(t, err, sync.ErrInvalidOptions)
			var oe *sync.OptionsError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.wantField, oe.Field)
			var kpe *sync.KeyPathError
			assert.Equal(t, tt.wantPath, errors.As(err, &kpe), "cause is a KeyPathError")
			assert.Empty(t, report.Entries)
			assert.False(t, report.Finished.IsZero())
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestOneWay_Plan(t *testing.T) {
	t.Parallel()
	emails, err := sync.EachKey("emails", "value")
	require.NoError(t, err)
	pdPerson := func(name string, addrs ...string) sync.Item {
		list := make([]any, len(addrs))
		for i, a := range addrs {
			list[i] = map[string]any{"value": a, "label": "work"}
		}
		return sync.Item{"name": name, "emails": list}
	}
	tests := []struct {
		name    string
		src     []sync.Item
		dst     []sync.Item
		opts    func(o *sync.Options)
		want    []string
		wantDst []any // values of "email" in the target afterwards
	}{
		{
			name:    "creates what the target lacks and leaves matches alone",
			src:     []sync.Item{owPerson("a@x.io", "A"), owPerson("b@x.io", "B")},
			dst:     []sync.Item{owPerson("b@x.io", "Bee")},
			want:    []string{"created", "unchanged"},
			wantDst: []any{"b@x.io", "a@x.io"},
		},
		{
			name: "records without a usable key are skipped, never created",
			src: []sync.Item{
				{"name": "absent"}, owPerson(nil, "null"), owPerson("", "empty"),
				owPerson(true, "bool"), owPerson([]any{"a@x.io"}, "array"),
				owPerson(map[string]any{"v": "a@x.io"}, "object"), owPerson("c@x.io", "C"),
			},
			opts: func(o *sync.Options) { o.MaxMissingKeys = -1 },
			want: []string{
				"skipped/missing key", "skipped/missing key", "skipped/missing key",
				"skipped/missing key", "skipped/missing key", "skipped/missing key", "created",
			},
			wantDst: []any{"c@x.io"},
		},
		{
			name: "white space only is an empty key after normalization",
			src:  []sync.Item{owPerson(" \u00a0\t", "blank"), owPerson("d@x.io", "D")},
			opts: func(o *sync.Options) { o.Normalize = sync.NormalizeEmail },
			want: []string{"skipped/missing key", "created"},
			// The mapping copies the raw key.
			wantDst: []any{"d@x.io"},
		},
		{
			name:    "numbers match their JavaScript text",
			src:     []sync.Item{owPerson(42.0, "n"), owPerson(json.Number("7"), "m")},
			dst:     []sync.Item{owPerson("42", "n"), owPerson(7, "m")},
			want:    []string{"unchanged", "unchanged"},
			wantDst: []any{"42", 7},
		},
		{
			name:    "a key held by two target records is ambiguous",
			src:     []sync.Item{owPerson("a@x.io", "A")},
			dst:     []sync.Item{owPerson("a@x.io", "A1"), owPerson("a@x.io", "A2")},
			want:    []string{"skipped/ambiguous"},
			wantDst: []any{"a@x.io", "a@x.io"},
		},
		{
			name: "keys matching two target records are ambiguous",
			src:  []sync.Item{pdPerson("A", "a@x.io", "a@y.io")},
			dst:  []sync.Item{owPerson("a@x.io", "A1"), owPerson("a@y.io", "A2")},
			opts: func(o *sync.Options) {
				o.SourceKey, o.SourceKeys, o.TargetKey = "", emails, "email"
			},
			want:    []string{"skipped/ambiguous"},
			wantDst: []any{"a@x.io", "a@y.io"},
		},
		{
			name: "duplicate source keys give one write",
			src: []sync.Item{
				owPerson("a@x.io", "first"), owPerson("a@x.io", "second"), owPerson("b@x.io", "B"),
			},
			want:    []string{"created", "skipped/duplicate", "created"},
			wantDst: []any{"a@x.io", "b@x.io"},
		},
		{
			name:    "duplicates of a matched record are skipped too",
			src:     []sync.Item{owPerson("a@x.io", "first"), owPerson("a@x.io", "second")},
			dst:     []sync.Item{owPerson("a@x.io", "A")},
			want:    []string{"unchanged", "skipped/duplicate"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "keys equal after normalization are duplicates",
			src: []sync.Item{
				owPerson("Dana@Example.com", "D"), owPerson(" dana@example.COM\u200b", "D2"),
			},
			opts:    func(o *sync.Options) { o.Normalize = sync.NormalizeEmail },
			want:    []string{"created", "skipped/duplicate"},
			wantDst: []any{"Dana@Example.com"},
		},
		{
			name: "normalization applies to both sides",
			src:  []sync.Item{owPerson("  Dana@Example.com", "D")},
			dst:  []sync.Item{owPerson("dana@example.com", "D")},
			opts: func(o *sync.Options) { o.Normalize = sync.NormalizeEmail },
			want: []string{"unchanged"},
			// nothing created
			wantDst: []any{"dana@example.com"},
		},
		{
			name:    "without normalization keys match exactly, and a near match is flagged",
			src:     []sync.Item{owPerson("Dana@Example.com", "D"), owPerson("eli@x.io", "E")},
			dst:     []sync.Item{owPerson(" dana@example.com", "D")},
			want:    []string{"created/key mismatch", "created"},
			wantDst: []any{" dana@example.com", "Dana@Example.com", "eli@x.io"},
		},
		{
			name: "large integer keys keep every digit",
			src: []sync.Item{
				owPerson(int64(9007199254740993), "odd"), owPerson(int64(9007199254740992), "even"),
			},
			dst:     []sync.Item{owPerson(json.Number("9007199254740993"), "odd")},
			want:    []string{"unchanged", "created"},
			wantDst: []any{json.Number("9007199254740993"), int64(9007199254740992)},
		},
		{
			name: "a multi-value key matches through any of its values",
			src:  []sync.Item{pdPerson("A", "a@x.io", "a@y.io")},
			dst:  []sync.Item{owPerson("a@y.io", "A")},
			opts: func(o *sync.Options) {
				o.SourceKey, o.SourceKeys, o.TargetKey = "", emails, "email"
			},
			want:    []string{"unchanged"},
			wantDst: []any{"a@y.io"},
		},
		{
			name: "overlapping multi-value keys never create two records",
			src: []sync.Item{
				pdPerson("A", "a@x.io", "shared@x.io"), pdPerson("B", "shared@x.io", "b@x.io"),
				pdPerson("C", "b@x.io"),
			},
			opts: func(o *sync.Options) {
				o.SourceKey, o.SourceKeys, o.TargetKey = "", emails, "email"
				o.Map = func(src sync.Item) (sync.Item, error) {
					first := src["emails"].([]any)[0].(map[string]any)["value"]
					return sync.Item{"email": first}, nil
				}
			},
			want:    []string{"created", "skipped/duplicate", "skipped/duplicate"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "two source records matching one target record through different keys",
			src:  []sync.Item{owPerson("a@x.io", "A"), owPerson("a@y.io", "A again")},
			dst:  []sync.Item{pdPerson("A", "a@x.io", "a@y.io")},
			opts: func(o *sync.Options) {
				o.TargetKey, o.TargetKeys, o.Upsert = "", emails, true
			},
			want:    []string{"updated", "skipped/duplicate"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "a record whose keys all match one target record is a plain match",
			src:  []sync.Item{pdPerson("A", "a@x.io", "a@y.io")},
			dst:  []sync.Item{pdPerson("A", "a@y.io", "a@x.io")},
			opts: func(o *sync.Options) {
				o.SourceKey, o.SourceKeys = "", emails
				o.Map = func(src sync.Item) (sync.Item, error) { return src, nil }
			},
			want:    []string{"unchanged"},
			wantDst: []any{nil},
		},
		{
			name:    "upsert updates records whose mapped fields differ",
			src:     []sync.Item{owPerson("a@x.io", "New"), owPerson("b@x.io", "Same")},
			dst:     []sync.Item{owPerson("a@x.io", "Old"), owPerson("b@x.io", "Same")},
			opts:    func(o *sync.Options) { o.Upsert = true },
			want:    []string{"updated", "unchanged"},
			wantDst: []any{"a@x.io", "b@x.io"},
		},
		{
			name: "upsert compares scalars as strings",
			src:  []sync.Item{{"email": "a@x.io", "age": 42, "vip": true, "note": nil}},
			dst:  []sync.Item{{"email": "a@x.io", "age": "42", "vip": "true", "note": ""}},
			opts: func(o *sync.Options) {
				o.Upsert = true
				o.Map = func(src sync.Item) (sync.Item, error) {
					return sync.Item{
						"email": src["email"], "age": src["age"], "vip": src["vip"], "note": src["note"],
					}, nil
				}
			},
			want:    []string{"unchanged"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "upsert ignores a key that differs only by normalization",
			src:  []sync.Item{owPerson("Dana@Example.com", "D")},
			dst:  []sync.Item{owPerson("dana@example.com", "D")},
			opts: func(o *sync.Options) {
				o.Upsert, o.Normalize = true, sync.NormalizeEmail
			},
			want:    []string{"unchanged"},
			wantDst: []any{"dana@example.com"},
		},
		{
			name: "upsert uses a custom Equal",
			src:  []sync.Item{owPerson("a@x.io", "New")},
			dst:  []sync.Item{owPerson("a@x.io", "Old")},
			opts: func(o *sync.Options) {
				o.Upsert = true
				o.Equal = func(mapped, target sync.Item) bool { return true }
			},
			want:    []string{"unchanged"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "mapping errors and filtered records are skipped, the rest goes on",
			src: []sync.Item{
				owPerson("a@x.io", "bad"), owPerson("b@x.io", "skip me"), owPerson("c@x.io", "C"),
			},
			opts: func(o *sync.Options) {
				o.Map = func(src sync.Item) (sync.Item, error) {
					switch src["name"] {
					case "bad":
						return nil, errors.New("no name")
					case "skip me":
						return nil, nil
					}
					return owCopy(src)
				}
			},
			want:    []string{"skipped/map error", "skipped/filtered", "created"},
			wantDst: []any{"c@x.io"},
		},
		{
			name: "a record the mapping fails on does not hold its key",
			src: []sync.Item{
				owPerson("a@x.io", "bad"), owPerson("a@x.io", "good"), owPerson("a@x.io", "late"),
			},
			opts: func(o *sync.Options) {
				o.Map = func(src sync.Item) (sync.Item, error) {
					if src["name"] == "bad" {
						return nil, errors.New("bad")
					}
					return owCopy(src)
				}
			},
			want:    []string{"skipped/map error", "created", "skipped/duplicate"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "a filtered record does not hold its key",
			src: []sync.Item{
				owPerson("a@x.io", "skip me"), owPerson("a@x.io", "real"), owPerson("a@x.io", "late"),
			},
			opts: func(o *sync.Options) {
				o.Map = func(src sync.Item) (sync.Item, error) {
					if src["name"] == "skip me" {
						return nil, nil
					}
					return owCopy(src)
				}
			},
			want:    []string{"skipped/filtered", "created", "skipped/duplicate"},
			wantDst: []any{"a@x.io"},
		},
		{
			name: "a filtered record holds neither its key nor its match",
			src:  []sync.Item{owPerson("a@x.io", "skip me"), owPerson("a@x.io", "real")},
			dst:  []sync.Item{owPerson("a@x.io", "old")},
			opts: func(o *sync.Options) {
				o.Upsert = true
				o.Map = func(src sync.Item) (sync.Item, error) {
					if src["name"] == "skip me" {
						return nil, nil
					}
					return owCopy(src)
				}
			},
			want:    []string{"skipped/filtered", "updated"},
			wantDst: []any{"a@x.io"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, dst := memory.New(), memory.New()
			src.Put(tt.src...)
			dst.Put(tt.dst...)
			opts := sync.Options{SourceKey: "email", Map: owCopy}
			if tt.opts != nil {
				tt.opts(&opts)
			}

			report, err := sync.OneWay(t.Context(), src, dst, opts)

			require.NoError(t, err)
			assert.Equal(t, tt.want, owOutcomes(report))
			assert.Equal(t, tt.wantDst, owField(dst.Items(), "email"))
			for i, e := range report.Entries {
				assert.Equal(t, "source→target", e.Direction)
				assert.Equal(t, i, e.Index)
				assert.Equal(t, tt.src[i]["name"], e.Source["name"], "entry %d source", i)
				if e.Outcome == sync.Created || e.Outcome == sync.Updated {
					assert.NotNil(t, e.Written)
					assert.NotEmpty(t, e.Result["id"], "stored record")
				}
			}
		})
	}
}

func TestOneWay_Entries(t *testing.T) {
	t.Parallel()
	src, dst := memory.New(), memory.New()
	src.Put(owPerson("A@x.io", "new"), owPerson("b@x.io", "B2"), owPerson("a@x.io", "dup"))
	dst.Put(owPerson("b@x.io", "B"), owPerson("c@x.io", "C"))
	opts := sync.Options{
		SourceKey: "email", Normalize: sync.NormalizeEmail, Map: owCopy, Upsert: true,
		SourceName: "pipedrive", TargetName: "hubspot",
	}

	report, err := sync.OneWay(t.Context(), src, dst, opts)

	require.NoError(t, err)
	require.Len(t, report.Entries, 3)
	created, updated, dup := report.Entries[0], report.Entries[1], report.Entries[2]
	assert.Equal(t, "pipedrive→hubspot", created.Direction)
	assert.Equal(t, "a@x.io", created.Key, "normalized key")
	assert.Equal(t, sync.Item{"email": "A@x.io", "name": "new"}, created.Written)
	assert.Equal(t, "3", created.Result["id"])
	assert.Nil(t, created.Target)

	assert.Equal(t, "b@x.io", updated.Key)
	assert.Equal(t, "B", updated.Target["name"])
	assert.Equal(t, "B2", updated.Result["name"])

	assert.Equal(t, sync.ReasonDuplicate, dup.Reason)
	assert.Contains(t, dup.Detail, "pipedrive record #0")
	assert.Nil(t, dup.Written)
}

func TestOneWay_AmbiguousDetailNamesTargetIDs(t *testing.T) {
	t.Parallel()
	src, dst := memory.New(), memory.New()
	src.Put(owPerson("a@x.io", "A"))
	dst.Put(sync.Item{"id": "17", "email": "a@x.io"}, sync.Item{"id": "42", "email": "a@x.io"})

	report, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.NoError(t, err)
	require.Len(t, report.Entries, 1)
	assert.Equal(t, "matches 2 target records (id 17, id 42)", report.Entries[0].Detail)
}

func TestOneWay_Guard(t *testing.T) {
	t.Parallel()
	people := func(withKey, without int) []sync.Item {
		var out []sync.Item
		for i := range withKey {
			out = append(out, owPerson(fmt.Sprintf("p%d@x.io", i), "P"))
		}
		for range without {
			out = append(out, sync.Item{"name": "no key"})
		}
		return out
	}
	tests := []struct {
		name      string
		src, dst  []sync.Item
		opts      func(o *sync.Options)
		wantSide  string
		wantCount [2]int // missing, total
	}{
		{name: "half without key is allowed", src: people(5, 5)},
		{name: "more than half refuses", src: people(4, 6), wantSide: "source", wantCount: [2]int{6, 10}},
		{name: "small listings are judged only when no record has a key", src: people(1, 2)},
		{name: "all of a small listing without key refuses", src: people(0, 3), wantSide: "source",
			wantCount: [2]int{3, 3}},
		{
			name: "a wrong target key path refuses",
			src:  people(3, 0), dst: people(12, 0),
			opts:     func(o *sync.Options) { o.TargetKey = "mail" },
			wantSide: "target", wantCount: [2]int{12, 12},
		},
		{
			name: "a one-record target without key refuses",
			src:  people(3, 0), dst: people(0, 1),
			wantSide: "target", wantCount: [2]int{1, 1},
		},
		{name: "a target mostly without keys is fine", src: people(3, 0), dst: people(2, 30)},
		{name: "an empty target is fine", src: people(3, 0)},
		{
			name: "a negative limit lets a target without keys be",
			src:  people(3, 0), dst: people(0, 5),
			opts: func(o *sync.Options) { o.MaxMissingKeys = -1 },
		},
		{
			name: "a higher limit allows more",
			src:  people(4, 6),
			opts: func(o *sync.Options) { o.MaxMissingKeys = 0.6 },
		},
		{
			name:     "an explicit limit applies to small listings too",
			src:      people(4, 1),
			opts:     func(o *sync.Options) { o.MaxMissingKeys = 1e-9 },
			wantSide: "source", wantCount: [2]int{1, 5},
		},
		{
			name: "a negative limit turns the guard off",
			src:  people(0, 20),
			opts: func(o *sync.Options) { o.MaxMissingKeys = -1 },
		},
		{
			name:     "a dry run reports the refusal too",
			src:      people(4, 6),
			opts:     func(o *sync.Options) { o.DryRun = true },
			wantSide: "source", wantCount: [2]int{6, 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, dst := memory.New(), memory.New()
			src.Put(tt.src...)
			dst.Put(tt.dst...)
			opts := sync.Options{SourceKey: "email", Map: owCopy}
			if tt.opts != nil {
				tt.opts(&opts)
			}

			report, err := sync.OneWay(t.Context(), src, dst, opts)

			assert.Len(t, report.Entries, len(tt.src), "the report holds the plan")
			if tt.wantSide == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, sync.ErrKeyPathSuspect)
			var mk *sync.MissingKeysError
			require.ErrorAs(t, err, &mk)
			assert.Equal(t, tt.wantSide, mk.Side)
			assert.Equal(t, tt.wantCount, [2]int{mk.Missing, mk.Total})
			assert.Contains(t, err.Error(), "have no usable key at \"")
			assert.Zero(t, dst.Stats().Calls, "nothing written")
			for _, e := range report.Entries {
				if e.Outcome == sync.Created {
					assert.True(t, e.Planned, "planned, not written")
				}
			}
			planned := report.CountPlanned(sync.Created)
			if report.DryRun {
				assert.Equal(t, planned, report.Count(sync.Created), "a dry run counts its plan")
			} else {
				assert.Zero(t, report.Count(sync.Created), "a refused plan counts as not done")
			}
		})
	}
}

func TestOneWay_DryRun(t *testing.T) {
	t.Parallel()
	src, dst := memory.New(), memory.New()
	src.Put(owPerson("a@x.io", "A"), owPerson("b@x.io", "B"), sync.Item{"name": "no key"})
	dst.Put(owPerson("b@x.io", "Old"))
	opts := sync.Options{SourceKey: "email", Map: owCopy, Upsert: true, DryRun: true}

	report, err := sync.OneWay(t.Context(), src, dst, opts)

	require.NoError(t, err)
	assert.True(t, report.DryRun)
	assert.Equal(t, []string{"would created", "would updated", "skipped/missing key"},
		owOutcomes(report))
	assert.Equal(t, sync.Item{"email": "a@x.io", "name": "A"}, report.Entries[0].Written)
	assert.Equal(t, "Old", report.Entries[1].Target["name"])
	assert.Nil(t, report.Entries[0].Result)
	assert.Zero(t, dst.Stats().Calls, "Write never called")
	assert.Equal(t, []any{"Old"}, owField(dst.Items(), "name"))
	assert.Equal(t, "would create 1, would update 1, unchanged 0, skipped 1 (missing key 1), failed 0",
		report.String())
}

// owSeq returns n people with keys p0@x.io, p1@x.io, ….
func owSeq(n int) []sync.Item {
	out := make([]sync.Item, n)
	for i := range out {
		out[i] = owPerson(fmt.Sprintf("p%d@x.io", i), fmt.Sprint("P", i))
	}
	return out
}

func TestOneWay_Writes(t *testing.T) {
	t.Parallel()
	errTeapot := errors.New("teapot")
	type counts struct{ created, writeErr, batchErr, notAttempted int }
	tests := []struct {
		name      string
		n         int
		fault     func(dst *memory.Connector)
		wantErr   error
		wantCalls int
		want      counts
	}{
		{
			name: "batches of MaxBatch",
			n:    25, wantCalls: 3, want: counts{created: 25},
		},
		{
			name:    "a failed item does not stop the others",
			n:       25,
			fault:   func(dst *memory.Connector) { dst.FailWrite(12, sync.ErrInvalid) },
			wantErr: sync.ErrInvalid,
			want:    counts{created: 24, writeErr: 1}, wantCalls: 3,
		},
		{
			name:    "a failed batch does not stop the run",
			n:       25,
			fault:   func(dst *memory.Connector) { dst.FailBatch(2, errTeapot) },
			wantErr: errTeapot,
			want:    counts{created: 15, batchErr: 10}, wantCalls: 3,
		},
		{
			name: "two failed batches in a row do not stop the run",
			n:    45,
			fault: func(dst *memory.Connector) {
				dst.FailBatch(2, errTeapot)
				dst.FailBatch(3, errTeapot)
			},
			wantErr: errTeapot,
			want:    counts{created: 25, batchErr: 20}, wantCalls: 5,
		},
		{
			name:    "three failed batches in a row stop the run",
			n:       60,
			fault:   func(dst *memory.Connector) { dst.FailAfter(10, errTeapot) },
			wantErr: errTeapot, wantCalls: 4,
			want: counts{created: 10, batchErr: 30, notAttempted: 20},
		},
		{
			name:    "the last batches failing need no stop",
			n:       40,
			fault:   func(dst *memory.Connector) { dst.FailAfter(10, errTeapot) },
			wantErr: errTeapot, wantCalls: 4,
			want: counts{created: 10, batchErr: 30},
		},
		{
			name:    "an authorization error stops the run",
			n:       35,
			fault:   func(dst *memory.Connector) { dst.FailAfter(10, sync.ErrUnauthorized) },
			wantErr: sync.ErrUnauthorized, wantCalls: 2,
			want: counts{created: 10, batchErr: 10, notAttempted: 15},
		},
		{
			name: "a forbidden error stops the run",
			n:    25,
			fault: func(dst *memory.Connector) {
				dst.FailBatch(1, fmt.Errorf("posting batch: %w", sync.ErrForbidden))
			},
			wantErr: sync.ErrForbidden, wantCalls: 1,
			want: counts{batchErr: 10, notAttempted: 15},
		},
		{
			name:    "an exhausted rate budget stops the run",
			n:       25,
			fault:   func(dst *memory.Connector) { dst.FailBatch(3, sync.ErrRateLimited) },
			wantErr: sync.ErrRateLimited, wantCalls: 3,
			want: counts{created: 20, batchErr: 5},
		},
		{
			name:    "results of a batch that failed part-way are kept",
			n:       30,
			fault:   func(dst *memory.Connector) { dst.FailAfter(15, sync.ErrUnauthorized) },
			wantErr: sync.ErrUnauthorized, wantCalls: 2,
			want: counts{created: 15, batchErr: 5, notAttempted: 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, dst := memory.New(), memory.New(memory.WithMaxBatch(10))
			src.Put(owSeq(tt.n)...)
			if tt.fault != nil {
				tt.fault(dst)
			}

			report, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorIs(t, err, sync.ErrWritesFailed, "failed writes fail the run")
				var wf *sync.WriteFailuresError
				require.ErrorAs(t, err, &wf)
				assert.Equal(t, tt.want.writeErr+tt.want.batchErr+tt.want.notAttempted, wf.Failed)
				assert.Equal(t, tt.n, wf.Writes)
				if tt.want.notAttempted > 0 {
					assert.Error(t, wf.Stopped, "stopped early")
				}
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, dst.Stats().Calls)
			got := counts{
				created:      report.Count(sync.Created),
				writeErr:     report.CountReason(sync.ReasonWriteError),
				batchErr:     report.CountReason(sync.ReasonBatchError),
				notAttempted: report.CountReason(sync.ReasonNotAttempted),
			}
			assert.Equal(t, tt.want, got)
			assert.Len(t, dst.Items(), tt.want.created)
			for _, e := range report.Entries {
				assert.False(t, e.Planned, "every entry settled")
				if e.Outcome == sync.Failed {
					assert.Error(t, e.Err)
					assert.NotNil(t, e.Written, "the item that was due")
				}
				if e.Reason == sync.ReasonNotAttempted {
					assert.ErrorIs(t, e.Err, tt.wantErr)
				}
				assert.NotEqual(t, sync.ReasonKeyMismatch, e.Reason)
			}
		})
	}
}

func TestOneWay_ContextCancelledDuringWrites(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src, dst := memory.New(), memory.New(memory.WithMaxBatch(10))
	src.Put(owSeq(30)...)
	writes := 0
	dst.OnWrite(func(sync.Write) {
		writes++
		if writes == 15 {
			cancel()
		}
	})

	report, err := sync.OneWay(ctx, src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 14, report.Count(sync.Created))
	assert.Equal(t, 6, report.CountReason(sync.ReasonBatchError), "unsure writes of the batch")
	assert.Equal(t, 10, report.CountReason(sync.ReasonNotAttempted))
	assert.Len(t, dst.Items(), 14)
	assert.Equal(t, 2, dst.Stats().Calls)
}

func TestOneWay_ContextCancelledBetweenBatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src, dst := memory.New(), memory.New(memory.WithMaxBatch(10))
	src.Put(owSeq(30)...)
	opts := sync.Options{SourceKey: "email", Map: owCopy, Progress: func(p sync.Progress) {
		if p.Phase == sync.PhaseWriting && p.Done == 10 {
			cancel()
		}
	}}

	report, err := sync.OneWay(ctx, src, dst, opts)

	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 10, report.Count(sync.Created))
	assert.Equal(t, 20, report.CountReason(sync.ReasonNotAttempted))
	assert.Equal(t, 1, dst.Stats().Calls, "no batch sent after the cancellation")
}

// owQuitter is a source that, like a careless connector, ends its listing
// without an error when its context is cancelled (which it does itself
// after the first record, standing in for a caller cancelling).
type owQuitter struct {
	items  []sync.Item
	cancel context.CancelFunc
}

func (s owQuitter) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	return func(yield func(sync.Item, error) bool) {
		for i, it := range s.items {
			if ctx.Err() != nil {
				return
			}
			if !yield(it, nil) {
				return
			}
			if i == 0 {
				s.cancel()
			}
		}
	}
}

func TestOneWay_ListingCutShortIsNotTrusted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := owQuitter{items: owSeq(3), cancel: cancel}
	dst := memory.New()

	report, err := sync.OneWay(ctx, src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, report.Entries)
	assert.Zero(t, dst.Stats().Calls)
}

func TestOneWay_ContextCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	src, dst := memory.New(), memory.New()
	src.Put(owSeq(3)...)

	report, err := sync.OneWay(ctx, src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, report.Entries)
	assert.Zero(t, dst.Stats().Calls)
}

func TestOneWay_ListingFails(t *testing.T) {
	t.Parallel()
	errDown := errors.New("service down")
	for _, side := range []string{"source", "target"} {
		t.Run(side, func(t *testing.T) {
			t.Parallel()
			src, dst := memory.New(), memory.New()
			src.Put(owSeq(5)...)
			dst.Put(owSeq(2)...)
			if side == "source" {
				src.FailList(3, errDown)
			} else {
				dst.FailList(1, errDown)
			}

			report, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

			require.ErrorIs(t, err, errDown)
			assert.Contains(t, err.Error(), "listing "+side)
			assert.Empty(t, report.Entries)
			assert.Zero(t, dst.Stats().Calls, "nothing written")
		})
	}
}

// owBlocking is a source whose List yields its items, then waits for
// another listing to start (or for its context to end).
type owBlocking struct {
	items   []sync.Item
	started chan struct{} // closed when this List starts
	other   chan struct{} // waited for after the items
	done    chan struct{} // closed when List returns
	fail    error
}

func (s *owBlocking) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	return func(yield func(sync.Item, error) bool) {
		defer close(s.done)
		close(s.started)
		if s.fail != nil {
			yield(nil, s.fail)
			return
		}
		for _, it := range s.items {
			if !yield(it, nil) {
				return
			}
		}
		select {
		case <-s.other:
		case <-ctx.Done():
			yield(nil, ctx.Err())
		case <-time.After(30 * time.Second): // a deadlock guard, not a timing check
			yield(nil, errors.New("the other listing never started"))
		}
	}
}

// owListedConnector joins a source with a memory destination.
type owListedConnector struct {
	sync.Source
	*memory.Connector
}

func (c owListedConnector) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	return c.Source.List(ctx)
}

func TestOneWay_ListsBothSidesConcurrently(t *testing.T) {
	t.Parallel()
	srcStarted, dstStarted := make(chan struct{}), make(chan struct{})
	src := &owBlocking{items: owSeq(2), started: srcStarted, other: dstStarted,
		done: make(chan struct{})}
	tgt := &owBlocking{items: owSeq(1), started: dstStarted, other: srcStarted,
		done: make(chan struct{})}
	dst := owListedConnector{Source: tgt, Connector: memory.New()}

	report, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.NoError(t, err)
	assert.Equal(t, []string{"unchanged", "created"}, owOutcomes(report))
}

func TestOneWay_FailedListingCancelsTheOther(t *testing.T) {
	t.Parallel()
	errDown := errors.New("down")
	never := make(chan struct{})
	src := &owBlocking{started: make(chan struct{}), other: never, done: make(chan struct{}),
		fail: errDown}
	tgt := &owBlocking{items: owSeq(1), started: make(chan struct{}), other: never,
		done: make(chan struct{})}
	dst := owListedConnector{Source: tgt, Connector: memory.New()}

	_, err := sync.OneWay(t.Context(), src, dst, sync.Options{SourceKey: "email", Map: owCopy})

	require.ErrorIs(t, err, errDown)
	select {
	case <-tgt.done:
	default:
		t.Error("the other listing outlived OneWay")
	}
}

func TestOneWay_Progress(t *testing.T) {
	t.Parallel()
	src, dst := memory.New(), memory.New(memory.WithMaxBatch(2))
	src.Put(owSeq(1500)...)
	dst.Put(owSeq(1497)...)
	var got []sync.Progress
	opts := sync.Options{SourceKey: "email", Map: owCopy, Progress: func(p sync.Progress) {
		got = append(got, p)
	}}

	_, err := sync.OneWay(t.Context(), src, dst, opts)

	require.NoError(t, err)
	want := []sync.Progress{
		{Phase: sync.PhaseListing, Total: -1},
		{Phase: sync.PhaseListing, Done: 1000, Total: -1},
		{Phase: sync.PhaseListing, Done: 2000, Total: -1},
		{Phase: sync.PhaseListing, Done: 2997, Total: -1},
		{Phase: sync.PhasePlanning, Direction: "source→target", Total: 1500},
		{Phase: sync.PhasePlanning, Direction: "source→target", Done: 1500, Total: 1500},
		{Phase: sync.PhaseWriting, Direction: "source→target", Total: 3},
		{Phase: sync.PhaseWriting, Direction: "source→target", Done: 2, Total: 3},
		{Phase: sync.PhaseWriting, Direction: "source→target", Done: 3, Total: 3},
	}
	assert.Equal(t, want, got)
}

func TestOneWay_Logging(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, dst := memory.New(), memory.New(memory.WithMaxBatch(1))
	src.Put(owPerson("a@x.io", "Secret Name"), owPerson("a@x.io", "Secret Name"),
		owPerson("b@x.io", "B"))
	dst.FailWrite(2, sync.ErrInvalid)
	opts := sync.Options{SourceKey: "email", Map: owCopy, Logger: logger}

	_, err := sync.OneWay(t.Context(), src, dst, opts)

	require.ErrorIs(t, err, sync.ErrWritesFailed)
	var records []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		records = append(records, rec)
	}
	var msgs []string
	for _, rec := range records {
		msgs = append(msgs, rec["level"].(string)+" "+rec["msg"].(string))
	}
	assert.Equal(t, []string{
		"WARN skipped record", "DEBUG batch written", "WARN write failed", "DEBUG batch written",
		"WARN sync failed",
	}, msgs, "a run with a failed write ends with a warning, not an Info summary")
	assert.NotContains(t, records[4], "error", "the error's text may quote a record")
	assert.Equal(t, 1.0, records[4]["failed"])
	assert.Equal(t, 2.0, records[4]["writes"])
	assert.Equal(t, false, records[4]["stopped"])
	assert.Equal(t, "writes failed", records[4]["cause"])
	assert.Equal(t, "a@x.io", records[0]["key"])
	assert.Equal(t, "duplicate", records[0]["reason"])
	assert.Equal(t, "b@x.io", records[2]["key"])
	assert.NotContains(t, buf.String(), "Secret Name", "record fields stay out of logs")
}

func TestTwoWay(t *testing.T) {
	t.Parallel()
	a, b := memory.New(memory.WithMaxBatch(2)), memory.New(memory.WithMaxBatch(3))
	a.Put(owPerson("Both@x.io", "in both"), owPerson("only-a@x.io", "A1"),
		owPerson("only-a2@x.io", "A2"), sync.Item{"name": "no key"})
	b.Put(owPerson("both@x.io", "in both"), owPerson("only-b@x.io", "B1"),
		owPerson("only-b@x.io", "B1 duplicate"))
	opts := sync.TwoWayOptions{
		AKey: "email", Normalize: sync.NormalizeEmail, AToB: owCopy, BToA: owCopy,
		MaxMissingKeys: -1,
	}

	first, err := sync.TwoWay(t.Context(), a, b, opts)

	require.NoError(t, err)
	assert.Equal(t, []string{
		"unchanged", "created", "created", "skipped/missing key", // a→b
		"unchanged", "created", "skipped/duplicate", // b→a
	}, owOutcomes(first))
	assert.Equal(t, []string{"a→b", "b→a"}, first.Directions())
	assert.Equal(t, []any{"Both@x.io", "only-a@x.io", "only-a2@x.io", nil, "only-b@x.io"},
		owField(a.Items(), "email"))
	assert.Equal(t, []any{"both@x.io", "only-b@x.io", "only-b@x.io", "only-a@x.io", "only-a2@x.io"},
		owField(b.Items(), "email"))
	assert.Equal(t, "a→b: created 2, updated 0, unchanged 1, skipped 1 (missing key 1), failed 0; "+
		"b→a: created 1, updated 0, unchanged 1, skipped 1 (duplicate 1), failed 0", first.String())

	callsA, callsB := a.Stats().Calls, b.Stats().Calls
	second, err := sync.TwoWay(t.Context(), a, b, opts)

	require.NoError(t, err)
	assert.Zero(t, second.Count(sync.Created), "the second run writes nothing")
	assert.Equal(t, callsA, a.Stats().Calls)
	assert.Equal(t, callsB, b.Stats().Calls)
	assert.Equal(t, []string{
		"unchanged", "unchanged", "unchanged", "skipped/missing key",
		"skipped/ambiguous", // b holds only-b@x.io twice
	}, owOutcomes(second.Direction("a→b")))
	assert.Equal(t, []string{
		"unchanged", "unchanged", "skipped/duplicate", "unchanged", "unchanged",
	}, owOutcomes(second.Direction("b→a")))
}

func TestTwoWay_DifferentShapes(t *testing.T) {
	t.Parallel()
	emails, err := sync.EachKey("emails", "value")
	require.NoError(t, err)
	pd, hs := memory.New(), memory.New()
	pd.Put(sync.Item{"name": "Dana", "emails": []any{map[string]any{"value": "Dana@x.io"}}})
	hs.Put(sync.Item{"properties": map[string]any{"email": "eli@x.io", "firstname": "Eli"}})
	opts := sync.TwoWayOptions{
		AKeys: emails, BKey: "properties.email", Normalize: sync.NormalizeEmail,
		AName: "pipedrive", BName: "hubspot",
		AToB: func(p sync.Item) (sync.Item, error) {
			email := p["emails"].([]any)[0].(map[string]any)["value"]
			return sync.Item{"properties": map[string]any{"email": email, "firstname": p["name"]}}, nil
		},
		BToA: func(c sync.Item) (sync.Item, error) {
			props := c["properties"].(map[string]any)
			return sync.Item{"name": props["firstname"], "emails": []any{
				map[string]any{"value": props["email"], "primary": true},
			}}, nil
		},
	}

	report, err := sync.TwoWay(t.Context(), pd, hs, opts)
	require.NoError(t, err)
	again, err := sync.TwoWay(t.Context(), pd, hs, opts)
	require.NoError(t, err)

	assert.Equal(t, "pipedrive→hubspot: created 1, updated 0, unchanged 0, skipped 0, failed 0; "+
		"hubspot→pipedrive: created 1, updated 0, unchanged 0, skipped 0, failed 0", report.String())
	assert.Equal(t, 4, again.Count(sync.Unchanged))
	assert.Len(t, pd.Items(), 2)
	assert.Len(t, hs.Items(), 2)
}

func TestTwoWay_DryRun(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("a@x.io", "A"))
	b.Put(owPerson("b@x.io", "B"))

	report, err := sync.TwoWay(t.Context(), a, b,
		sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy, DryRun: true})

	require.NoError(t, err)
	assert.Equal(t, []string{"would created", "would created"}, owOutcomes(report))
	assert.Zero(t, a.Stats().Calls+b.Stats().Calls)
}

func TestTwoWay_StopInFirstDirection(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owPerson("a@x.io", "A"))
	b.Put(owPerson("b@x.io", "B"))
	b.FailBatch(1, sync.ErrUnauthorized)

	report, err := sync.TwoWay(t.Context(), a, b,
		sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy})

	require.ErrorIs(t, err, sync.ErrUnauthorized)
	assert.Equal(t, []string{"failed/batch error", "failed/not attempted"}, owOutcomes(report))
	assert.Zero(t, a.Stats().Calls, "b→a not written")
}

func TestTwoWay_Guard(t *testing.T) {
	t.Parallel()
	a, b := memory.New(), memory.New()
	a.Put(owSeq(3)...)
	b.Put(sync.Item{"mail": "x@x.io"})

	_, err := sync.TwoWay(t.Context(), a, b,
		sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy})

	var mk *sync.MissingKeysError
	require.ErrorAs(t, err, &mk)
	assert.Equal(t, "b", mk.Side)
	assert.Zero(t, a.Stats().Calls+b.Stats().Calls)
}

func TestTwoWay_InvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      sync.TwoWayOptions
		wantField string
	}{
		{name: "no AToB", opts: sync.TwoWayOptions{AKey: "email", BToA: owCopy}, wantField: "AToB"},
		{name: "no BToA", opts: sync.TwoWayOptions{AKey: "email", AToB: owCopy}, wantField: "BToA"},
		{name: "no key", opts: sync.TwoWayOptions{AToB: owCopy, BToA: owCopy}, wantField: "AKey"},
		{
			name:      "bad B key",
			opts:      sync.TwoWayOptions{AKey: "email", BKey: "a[", AToB: owCopy, BToA: owCopy},
			wantField: "BKey",
		},
		{
			name:      "same names",
			opts:      sync.TwoWayOptions{AKey: "email", AToB: owCopy, BToA: owCopy, AName: "x", BName: "x"},
			wantField: "BName",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sync.TwoWay(t.Context(), owNoIO{t: t, batch: 1}, owNoIO{t: t, batch: 1}, tt.opts)

			var oe *sync.OptionsError
			require.ErrorAs(t, err, &oe)
			assert.ErrorIs(t, err, sync.ErrInvalidOptions)
			assert.Equal(t, tt.wantField, oe.Field)
		})
	}
}
