package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
	"github.com/keysync/sync/memory"
)

// fixedClock returns a clock that reads t until advanced.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func collect(t *testing.T, seq func(func(keysync.Item, error) bool)) ([]keysync.Item, error) {
	t.Helper()
	var items []keysync.Item
	for it, err := range seq {
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
	return items, nil
}

func field(items []keysync.Item, name string) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it[name]
	}
	return out
}

func TestConnector_Put(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	c := memory.New(memory.WithClock(clock.now))

	ids := c.Put(
		keysync.Item{"email": "a@x.io"},
		keysync.Item{"id": "7", "email": "b@x.io", "updated_at": "2020-01-01T00:00:00Z"},
		keysync.Item{"email": "c@x.io", "emails": []map[string]any{{"value": "c@x.io"}}},
	)
	again := c.Put(keysync.Item{"id": "1", "email": "a2@x.io"})

	assert.Equal(t, []string{"1", "7", "8"}, ids, "given IDs are kept and later ones follow them")
	assert.Equal(t, []string{"1"}, again)
	items := c.Items()
	assert.Equal(t, []any{"a2@x.io", "b@x.io", "c@x.io"}, field(items, "email"), "replaced in place")
	assert.Equal(t, []any{"2026-12-03T09:00:00Z", "2020-01-01T00:00:00Z", "2026-12-03T09:00:00Z"},
		field(items, memory.UpdatedField))
	assert.Equal(t, []any{map[string]any{"value": "c@x.io"}}, items[2]["emails"], "stored as decoded JSON")
}

func TestConnector_PutKeepsIDsOfEveryIntegerKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   any
		want string
	}{
		{name: "int", id: 5, want: "5"},
		{name: "int8", id: int8(-5), want: "-5"},
		{name: "int16", id: int16(300), want: "300"},
		{name: "int32", id: int32(70000), want: "70000"},
		{name: "int64", id: int64(9007199254740993), want: "9007199254740993"},
		{name: "uint", id: uint(12), want: "12"},
		{name: "uint8", id: uint8(200), want: "200"},
		{name: "uint16", id: uint16(65000), want: "65000"},
		{name: "uint32", id: uint32(4000000000), want: "4000000000"},
		{name: "uint64", id: uint64(18446744073709551615), want: "18446744073709551615"},
		{name: "float32", id: float32(42), want: "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := memory.New()

			ids := c.Put(keysync.Item{"id": tt.id, "email": "a@x.io"})

			assert.Equal(t, []string{tt.want}, ids)
			assert.Equal(t, tt.want, c.RecordID(keysync.Item{"id": tt.id}))
			_, ok := c.Get(tt.want)
			assert.True(t, ok, "stored under its own ID")
		})
	}
}

func TestConnector_Copies(t *testing.T) {
	t.Parallel()
	c := memory.New()
	in := keysync.Item{"tags": []any{"a"}, "props": map[string]any{"x": "1"}}
	c.Put(in)

	in["tags"].([]any)[0] = "changed"
	out := c.Items()[0]
	out["props"].(map[string]any)["x"] = "changed"
	listed, err := collect(t, c.List(t.Context()))
	require.NoError(t, err)
	listed[0]["tags"] = nil
	got, ok := c.Get("1")

	require.True(t, ok)
	assert.Equal(t, []any{"a"}, got["tags"])
	assert.Equal(t, map[string]any{"x": "1"}, got["props"])
}

func TestConnector_Write(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	c := memory.New(memory.WithClock(clock.now), memory.WithIDField("vid"))
	c.Put(keysync.Item{"properties": map[string]any{"email": "a@x.io", "firstname": "Ann"}})
	clock.advance(time.Minute)
	target, ok := c.Get("1")
	require.True(t, ok)

	results, err := c.Write(t.Context(), []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{"properties": map[string]any{"email": "b@x.io"}}},
		{
			Op: keysync.OpUpdate, Target: target,
			Item: keysync.Item{"properties": map[string]any{"lastname": "Lee"}},
		},
		{Op: keysync.OpUpdate, Item: keysync.Item{"x": 1}, Target: keysync.Item{"vid": "99"}},
		{Op: "upsert", Item: keysync.Item{}},
	})

	require.NoError(t, err)
	require.Len(t, results, 4)
	assert.NoError(t, results[0].Err)
	assert.Equal(t, keysync.Item{
		"vid": "2", "updated_at": "2026-12-03T09:01:00Z",
		"properties": map[string]any{"email": "b@x.io"},
	}, results[0].Item)
	assert.NoError(t, results[1].Err)
	assert.Equal(t, keysync.Item{
		"vid": "1", "updated_at": "2026-12-03T09:01:00Z",
		"properties": map[string]any{"email": "a@x.io", "firstname": "Ann", "lastname": "Lee"},
	}, results[1].Item, "objects merged, other fields kept")
	assert.ErrorIs(t, results[2].Err, keysync.ErrNotFound)
	assert.ErrorIs(t, results[3].Err, keysync.ErrInvalid)
	assert.Equal(t, []any{"1", "2"}, field(c.Items(), "vid"))
	assert.Equal(t, memory.Stats{Calls: 1, Ops: 4, Created: 1, Updated: 1}, c.Stats())
}

func TestConnector_WriteRejectsOversizedBatches(t *testing.T) {
	t.Parallel()
	c := memory.New(memory.WithMaxBatch(1))

	results, err := c.Write(t.Context(), make([]keysync.Write, 2))

	assert.ErrorIs(t, err, keysync.ErrInvalid)
	assert.Nil(t, results)
	assert.Equal(t, 1, c.MaxBatch())
	assert.Equal(t, memory.DefaultMaxBatch, memory.New().MaxBatch())
	assert.Equal(t, 1, memory.New(memory.WithMaxBatch(0)).MaxBatch())
}

func TestConnector_Validator(t *testing.T) {
	t.Parallel()
	c := memory.New(memory.WithValidator(func(item keysync.Item) error {
		if item["email"] == nil {
			return fmt.Errorf("email is required: %w", keysync.ErrInvalid)
		}
		return nil
	}))

	results, err := c.Write(t.Context(), []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{"name": "no email"}},
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "a@x.io"}},
	})

	require.NoError(t, err)
	assert.ErrorIs(t, results[0].Err, keysync.ErrInvalid)
	assert.NoError(t, results[1].Err)
	assert.Len(t, c.Items(), 1)
}

func TestConnector_ListModifiedSince(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	c := memory.New(memory.WithClock(clock.now))
	c.Put(keysync.Item{"n": "old"})
	clock.advance(time.Hour)
	mark := clock.now()
	c.Put(keysync.Item{"n": "new"})
	clock.advance(time.Hour)
	old, ok := c.Get("1")
	require.True(t, ok)
	_, err := c.Write(t.Context(), []keysync.Write{
		{Op: keysync.OpUpdate, Item: keysync.Item{"n": "touched"}, Target: old},
	})
	require.NoError(t, err)

	got, err := collect(t, c.ListModifiedSince(t.Context(), mark))
	require.NoError(t, err)
	later, err := collect(t, c.ListModifiedSince(t.Context(), mark.Add(time.Minute)))
	require.NoError(t, err)

	assert.Equal(t, []any{"touched", "new"}, field(got, "n"), "inclusive, in creation order")
	assert.Equal(t, []any{"touched"}, field(later, "n"))
	at, ok := c.ModifiedAt(got[0])
	assert.True(t, ok)
	assert.True(t, at.Equal(mark.Add(time.Hour)))
	_, ok = c.ModifiedAt(keysync.Item{})
	assert.False(t, ok)
}

func TestConnector_Delete(t *testing.T) {
	t.Parallel()
	c := memory.New()
	c.Put(keysync.Item{"n": "a"}, keysync.Item{"n": "b"}, keysync.Item{"n": "c"})
	b, _ := c.Get("2")

	first, err := c.Delete(t.Context(), []keysync.Item{b, {"id": 1}})
	require.NoError(t, err)
	second, err := c.Delete(t.Context(), []keysync.Item{b, {"n": "no id"}})
	require.NoError(t, err)
	c.Put(keysync.Item{"id": "2", "n": "b again"})

	assert.Equal(t, []keysync.WriteResult{{}, {}}, first, "numeric IDs work too")
	assert.NoError(t, second[0].Err, "deleting twice succeeds")
	assert.ErrorIs(t, second[1].Err, keysync.ErrInvalid)
	assert.Equal(t, []any{"c", "b again"}, field(c.Items(), "n"))
	assert.Equal(t, 2, c.Stats().Deleted)
}

func TestConnector_DeleteCompactsOrder(t *testing.T) {
	t.Parallel()
	c := memory.New(memory.WithMaxBatch(1000))
	var items []keysync.Item
	for i := range 100 {
		items = append(items, keysync.Item{"n": i})
	}
	c.Put(items...)
	listed := c.Items()

	_, err := c.Delete(t.Context(), listed[:90])
	require.NoError(t, err)
	c.Put(keysync.Item{"n": 100})

	assert.Equal(t, []any{90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100}, field(c.Items(), "n"))
}

func TestConnector_SearchKey(t *testing.T) {
	t.Parallel()
	emails, err := keysync.EachKey("emails", "value")
	require.NoError(t, err)
	tests := []struct {
		name string
		opt  memory.Option
		key  string
		want []any
	}{
		{name: "by path, normalized", opt: memory.WithSearchKey("email", keysync.NormalizeEmail),
			key: " A@X.io", want: []any{"1", "3"}},
		{name: "by path, exact", opt: memory.WithSearchKey("email", nil), key: "A@x.io", want: []any{"3"}},
		{name: "by several keys", opt: memory.WithSearchKeys(emails, keysync.NormalizeEmail),
			key: "b@x.io", want: []any{"2"}},
		{name: "unknown key", opt: memory.WithSearchKey("email", nil), key: "zz@x.io", want: []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := memory.New(tt.opt)
			c.Put(
				keysync.Item{"email": "a@x.io"},
				keysync.Item{"emails": []any{
					map[string]any{"value": "x@x.io"}, map[string]any{"value": "B@x.io"},
				}},
				keysync.Item{"email": "A@x.io"},
			)

			got, err := c.SearchKey(t.Context(), tt.key)

			require.NoError(t, err)
			assert.NotNil(t, got)
			assert.Equal(t, tt.want, field(got, "id"))
		})
	}

	_, err = memory.New().SearchKey(t.Context(), "a")
	assert.ErrorIs(t, err, memory.ErrNoSearchKey)
}

func TestConnector_Faults(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	creates := func(n int) []keysync.Write {
		ws := make([]keysync.Write, n)
		for i := range ws {
			ws[i] = keysync.Write{Op: keysync.OpCreate, Item: keysync.Item{"n": i}}
		}
		return ws
	}
	type call struct {
		results  int   // results returned
		itemErrs []int // indexes of results with an error
		err      error
	}
	tests := []struct {
		name   string
		inject func(c *memory.Connector)
		want   []call // for three calls of 3 creates each
		stored int
	}{
		{
			name:   "no faults",
			want:   []call{{results: 3}, {results: 3}, {results: 3}},
			stored: 9,
		},
		{
			name:   "FailWrite fails one record",
			inject: func(c *memory.Connector) { c.FailWrite(5, errBoom) },
			want:   []call{{results: 3}, {results: 3, itemErrs: []int{1}}, {results: 3}},
			stored: 8,
		},
		{
			name:   "FailAfter fails every later call",
			inject: func(c *memory.Connector) { c.FailAfter(4, errBoom) },
			want:   []call{{results: 3}, {results: 1, err: errBoom}, {err: errBoom}},
			stored: 4,
		},
		{
			name:   "FailBatch fails one call",
			inject: func(c *memory.Connector) { c.FailBatch(2, nil) },
			want:   []call{{results: 3}, {err: memory.ErrInjected}, {results: 3}},
			stored: 6,
		},
		{
			name: "ClearFaults cancels pending faults",
			inject: func(c *memory.Connector) {
				c.FailWrite(1, nil)
				c.FailAfter(0, nil)
				c.FailBatch(1, nil)
				c.ClearFaults()
			},
			want:   []call{{results: 3}, {results: 3}, {results: 3}},
			stored: 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := memory.New()
			c.Put(keysync.Item{"seed": true}) // Put is no write
			if tt.inject != nil {
				tt.inject(c)
			}
			for i, want := range tt.want {
				results, err := c.Write(t.Context(), creates(3))

				assert.ErrorIs(t, err, want.err, "call %d", i)
				if want.err == nil {
					assert.NoError(t, err, "call %d", i)
				}
				assert.Len(t, results, want.results, "call %d", i)
				var itemErrs []int
				for j, r := range results {
					if r.Err != nil {
						itemErrs = append(itemErrs, j)
					}
				}
				assert.Equal(t, want.itemErrs, itemErrs, "call %d", i)
			}
			assert.Len(t, c.Items(), tt.stored+1)
		})
	}
}

func TestConnector_FailList(t *testing.T) {
	t.Parallel()
	errDown := errors.New("down")
	tests := []struct {
		name   string
		seed   int
		after  int
		listed int
	}{
		{name: "part-way", seed: 5, after: 2, listed: 2},
		{name: "at once", seed: 5, after: 0, listed: 0},
		{name: "after the last record", seed: 2, after: 3, listed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := memory.New()
			for range tt.seed {
				c.Put(keysync.Item{})
			}
			c.FailList(tt.after, errDown)

			items, err := collect(t, c.List(t.Context()))
			assert.ErrorIs(t, err, errDown)
			assert.Len(t, items, tt.listed)

			c.ClearFaults()
			items, err = collect(t, c.List(t.Context()))
			assert.NoError(t, err)
			assert.Len(t, items, tt.seed)
			assert.Equal(t, 2, c.Stats().Lists)
		})
	}
}

func TestConnector_Context(t *testing.T) {
	t.Parallel()
	c := memory.New()
	c.Put(keysync.Item{"n": 1}, keysync.Item{"n": 2})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	results, err := c.Write(ctx, []keysync.Write{{Op: keysync.OpCreate, Item: keysync.Item{}}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, results)
	_, err = c.Delete(ctx, []keysync.Item{{"id": "1"}})
	assert.ErrorIs(t, err, context.Canceled)
	items, err := collect(t, c.List(ctx))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, items)
	_, err = c.SearchKey(ctx, "x")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, c.Items(), 2, "nothing changed")
}

func TestConnector_OnWriteCancelsMidBatch(t *testing.T) {
	t.Parallel()
	c := memory.New()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen []keysync.Op
	c.OnWrite(func(w keysync.Write) {
		seen = append(seen, w.Op)
		if len(seen) == 2 {
			cancel()
		}
	})

	results, err := c.Write(ctx, []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{}},
		{Op: keysync.OpCreate, Item: keysync.Item{}},
		{Op: keysync.OpCreate, Item: keysync.Item{}},
	})

	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, results, 1)
	assert.Equal(t, []keysync.Op{keysync.OpCreate, keysync.OpCreate}, seen)
	assert.Len(t, c.Items(), 1)
}

func TestConnector_ConcurrentUse(t *testing.T) {
	t.Parallel()
	c := memory.New(memory.WithSearchKey("n", nil))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				c.Put(keysync.Item{"n": fmt.Sprint(g, "-", i)})
				create := keysync.Write{Op: keysync.OpCreate, Item: keysync.Item{"n": "w"}}
				_, err := c.Write(t.Context(), []keysync.Write{create})
				assert.NoError(t, err)
				_, err = collect(t, c.List(t.Context()))
				assert.NoError(t, err)
				_, err = c.SearchKey(t.Context(), "w")
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()

	assert.Len(t, c.Items(), 400)
	ids := map[any]bool{}
	for _, it := range c.Items() {
		ids[it["id"]] = true
	}
	assert.Len(t, ids, 400, "unique IDs")
}

func TestConnector_Identifier(t *testing.T) {
	t.Parallel()
	c := memory.New(memory.WithIDField("vid"))

	assert.Equal(t, "12", c.RecordID(keysync.Item{"vid": "12"}))
	assert.Equal(t, "12", c.RecordID(keysync.Item{"vid": 12.0}))
	assert.Equal(t, "", c.RecordID(keysync.Item{"id": "12"}))
}

func TestConnector_Conformance(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	connectortest.Run(t, connectortest.Config{
		New: func(testing.TB) keysync.Connector {
			return memory.New(
				memory.WithMaxBatch(3),
				memory.WithClock(clock.now),
				memory.WithIDField("vid"),
				memory.WithSearchKey("properties.email", keysync.NormalizeEmail),
				memory.WithValidator(func(item keysync.Item) error {
					if _, ok := keysync.Lookup(item, "properties.email"); !ok {
						return fmt.Errorf("email is required: %w", keysync.ErrInvalid)
					}
					return nil
				}),
			)
		},
		Record: func(i int) keysync.Item {
			return keysync.Item{"properties": map[string]any{
				"email": fmt.Sprintf("Person%d@Example.com", i), "firstname": "Person",
			}}
		},
		Key:       "properties.email",
		Normalize: keysync.NormalizeEmail,
		Invalid:   keysync.Item{"properties": map[string]any{"firstname": "No Email"}},
		Change: func(i int) keysync.Item {
			return keysync.Item{"properties": map[string]any{"lastname": fmt.Sprint("Last", i)}}
		},
		Settle: func(testing.TB) { clock.advance(time.Second) },
		Now:    clock.now,
	})
}
