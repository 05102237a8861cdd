package sync_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/boltstore"
)

// seedPairs puts n identical records on both sides of e and links them
// with a first run, which writes nothing.
func seedPairs(tb testing.TB, e *env, n int) {
	tb.Helper()
	items := make([]keysync.Item, n)
	for i := range items {
		items[i] = person(fmt.Sprintf("p%06d@example.com", i), "First", fmt.Sprint(i), "555-0")
	}
	e.a.Put(items...)
	e.b.Put(items...)
	rep, err := keysync.TwoWay(tb.Context(), e.a, e.b, e.opts)
	require.NoError(tb, err)
	require.Zero(tb, rep.Count(keysync.Created)+rep.Count(keysync.Updated))
	e.a.calls()
	e.b.calls()
}

// changeShare edits n records on each side (different ones), as users
// would between runs; round makes the values new each time.
func changeShare(tb testing.TB, e *env, n, total, round int) {
	tb.Helper()
	for i := range n {
		for k, c := range []*counting{e.a, e.b} {
			id := fmt.Sprint(1 + (2*i+k+round*2*n)%total)
			it, ok := c.Get(id)
			require.True(tb, ok)
			it["phone"] = fmt.Sprintf("555-%d-%d", round, i)
			delete(it, memory.UpdatedField)
			c.Put(it)
		}
	}
}

func TestTwoWay_StatefulCallCount(t *testing.T) {
	t.Parallel()
	const pairs, changed = 2000, 10 // 1% of the records: 10 on each side
	tests := []struct {
		name         string
		incremental  bool
		wantA, wantB callCount
	}{
		{
			name: "full listing",
			// One listing per side, one batch of updates, one of creates, one
			// of deletes: nothing else.
			wantA: callCount{Lists: 1, Listed: pairs + 2, WriteCalls: 1, Updates: changed,
				DeleteCalls: 1, Deletes: 1},
			wantB: callCount{Lists: 1, Listed: pairs - 1, WriteCalls: 2, Updates: changed, Creates: 2},
		},
		{
			name:        "incremental listing",
			incremental: true,
			// Only the changed records are listed; each record to update that
			// was not listed is found by key, as are the new keys. Deletions
			// wait for the next full run.
			wantA: callCount{IncLists: 1, Listed: changed + 2, WriteCalls: 1, Updates: changed,
				Searches: changed},
			wantB: callCount{IncLists: 1, Listed: changed, WriteCalls: 2, Updates: changed, Creates: 2,
				Searches: changed + 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.WithMaxBatch(100))
			e.opts.Deletes = keysync.DeletePolicy{InB: keysync.DeletePropagate}
			if tt.incremental {
				e.opts.Incremental = keysync.IncrementalOptions{FullEvery: 100, Overlap: 1}
			}
			seedPairs(t, e, pairs)
			if tt.incremental {
				e.run() // lists nothing new: the seed run wrote nothing
				e.a.calls()
				e.b.calls()
			}
			changeShare(t, e, changed, pairs, 0)
			e.a.Put(person("new1@example.com", "New", "", ""), person("new2@example.com", "New", "", ""))
			remove(t, e.b, "p000100@example.com")

			rep := e.run()
			assert.Equal(t, tt.wantA, e.a.calls(), "calls to A: %s", rep)
			assert.Equal(t, tt.wantB, e.b.calls(), "calls to B: %s", rep)
		})
	}
}

// BenchmarkTwoWay_Stateful100k syncs 100,000 linked pairs of which 1% (500
// records on each side) changed since the last run, and reports the API
// calls a run makes besides time and memory.
func BenchmarkTwoWay_Stateful100k(b *testing.B) {
	const pairs, changed = 100_000, 500
	stores := map[string]func(b *testing.B) keysync.StateStore{
		"memory": func(*testing.B) keysync.StateStore { return memory.NewStateStore() },
		"bolt": func(b *testing.B) keysync.StateStore {
			s, err := boltstore.Open(filepath.Join(b.TempDir(), "state.db"))
			require.NoError(b, err)
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for _, name := range []string{"memory", "bolt"} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, memory.WithMaxBatch(100))
			e.store = stores[name](b)
			e.opts.State = e.store
			seedPairs(b, e, pairs)
			b.ReportAllocs()
			var total callCount
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				changeShare(b, e, changed, pairs, round)
				b.StartTimer()

				rep, err := keysync.TwoWay(b.Context(), e.a, e.b, e.opts)
				require.NoError(b, err)

				b.StopTimer()
				require.Equal(b, 2*changed, rep.Count(keysync.Updated))
				for _, c := range []callCount{e.a.calls(), e.b.calls()} {
					total.Lists += c.Lists
					total.WriteCalls += c.WriteCalls
					total.Updates += c.Updates
					total.Listed += c.Listed
				}
				b.StartTimer()
			}
			n := float64(round)
			b.ReportMetric(float64(total.Lists)/n, "lists/op")
			b.ReportMetric(float64(total.Listed)/n, "listed/op")
			b.ReportMetric(float64(total.WriteCalls)/n, "writecalls/op")
			b.ReportMetric(float64(total.Updates)/n, "writes/op")
		})
	}
}
