package statetest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
)

// Run checks the store that newStore returns against the contract of
// [keysync.StateStore], in parallel subtests. newStore is called once per
// subtest and must return a working store; it should register the store's
// Close with t.Cleanup (Close must tolerate being called twice). Stores
// returned by different calls may share their data (as two connections to
// one database do): every subtest uses pair names of its own.
func Run(t *testing.T, newStore func(t *testing.T) keysync.StateStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s keysync.StateStore)
	}{
		{"an unknown pair is empty", testEmptyPair},
		{"links round-trip every field", testRoundTrip},
		{"pair state round-trips except the revision", testPairState},
		{"put replaces and delete removes", testPutDelete},
		{"links come in ascending ID order", testOrder},
		{"pairs are isolated", testIsolation},
		{"every commit increments the revision", testRevision},
		{"invalid input is refused atomically", testInvalid},
		{"many links page through", testManyLinks},
		{"a loop body may commit", testCommitDuringIteration},
		{"a done context stops work", testCanceled},
		{"the run lock excludes a second holder", testLock},
		{"concurrent lockers get one winner", testLockRace},
		{"concurrent commits are all applied", testConcurrentCommits},
		{"callers own the values", testIsolatedValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
	t.Run("a closed store refuses work", func(t *testing.T) {
		t.Parallel()
		testClosed(t, newStore(t))
	})
}

// pairName returns a pair name unique to this test and run, so that stores
// sharing one database do not see each other's data.
func pairName(t *testing.T, suffix string) string {
	t.Helper()
	return fmt.Sprintf("%s/%s/%016x", t.Name(), suffix, rand.Uint64())
}

// collect reads every link of pair.
func collect(t *testing.T, s keysync.StateStore, pair string) []keysync.Link {
	t.Helper()
	var out []keysync.Link
	for l, err := range s.Links(t.Context(), pair) {
		require.NoError(t, err)
		out = append(out, l)
	}
	return out
}

// normalize makes links comparable with assert.Equal: empty maps and slices
// become nil and times UTC without a monotonic reading.
func normalize(ls ...keysync.Link) []keysync.Link {
	out := make([]keysync.Link, 0, len(ls))
	for _, l := range ls {
		l = l.Clone()
		if len(l.BaseA) == 0 {
			l.BaseA = nil
		}
		if len(l.BaseB) == 0 {
			l.BaseB = nil
		}
		if len(l.Conflicts) == 0 {
			l.Conflicts = nil
		}
		if len(l.ResolvedA) == 0 {
			l.ResolvedA = nil
		}
		if len(l.ResolvedB) == 0 {
			l.ResolvedB = nil
		}
		l.Quarantined = utc(l.Quarantined)
		l.Synced = utc(l.Synced)
		out = append(out, l)
	}
	return out
}

func normalizeState(ps keysync.PairState) keysync.PairState {
	ps.ListedA = utc(ps.ListedA)
	ps.ListedB = utc(ps.ListedB)
	if len(ps.UnlinkedA) == 0 {
		ps.UnlinkedA = nil
	}
	if len(ps.UnlinkedB) == 0 {
		ps.UnlinkedB = nil
	}
	return ps
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

func commit(t *testing.T, s keysync.StateStore, pair string, c keysync.StateChange) {
	t.Helper()
	require.NoError(t, s.Commit(t.Context(), pair, c))
}

func link(id string) keysync.Link {
	return keysync.Link{ID: id, Key: strings.ToLower(id) + "@example.com", A: "a-" + id, B: "b-" + id}
}

func testEmptyPair(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "empty")
	ps, err := s.PairState(t.Context(), pair)
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{}, normalizeState(ps))
	assert.Empty(t, collect(t, s, pair))
}

func testRoundTrip(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "roundtrip")
	at := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", 3600))
	tricky := "quote\" back\\slash\nnewline\ttab \x00nul \u00e9\u4e16\U0001F600 <&>"
	full := keysync.Link{
		ID:          "A:1",
		Key:         "dana@example.com",
		A:           "1",
		B:           "hs-901",
		BaseA:       map[string]string{"email": "dana@example.com", "name": tricky, "": "empty name"},
		BaseB:       map[string]string{"email": "Dana@Example.com", "phone": ""},
		Origin:      keysync.SideA,
		Pending:     keysync.SideB,
		Missing:     keysync.SideA,
		Quarantined: at,
		Conflicts:   []string{"name", "phone"},
		ResolvedA:   map[string]string{"phone": "555-0100"},
		ResolvedB:   map[string]string{"phone": "555-0100", "name": tricky},
		Synced:      at.Add(time.Hour),
	}
	long := keysync.Link{
		ID:    "A:2 " + strings.ReplaceAll(tricky, "\x00", ""),
		BaseA: map[string]string{"notes": strings.Repeat("x\u00e9", 20000)},
	}
	bare := keysync.Link{ID: "B:3"}
	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{full, long, bare}})

	got := collect(t, s, pair)
	assert.Equal(t, normalize(full, long, bare), normalize(got...))
}

func testPairState(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "state")
	want := keysync.PairState{
		Revision:  99,
		Runs:      7,
		LastFull:  5,
		ListedA:   time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		ListedB:   time.Date(2025, 1, 2, 3, 4, 7, 0, time.Local),
		UnlinkedA: []string{"x@example.com"},
		UnlinkedB: []string{"y@example.com", "z@example.com"},
	}
	commit(t, s, pair, keysync.StateChange{State: &want})
	got, err := s.PairState(t.Context(), pair)
	require.NoError(t, err)
	want.Revision = 1
	assert.Equal(t, normalizeState(want), normalizeState(got))

	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{link("A:1")}})
	got, err = s.PairState(t.Context(), pair)
	require.NoError(t, err)
	want.Revision = 2
	assert.Equal(t, normalizeState(want), normalizeState(got), "a commit without State keeps it")

	commit(t, s, pair, keysync.StateChange{State: &keysync.PairState{Runs: 8}})
	got, err = s.PairState(t.Context(), pair)
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{Revision: 3, Runs: 8}, normalizeState(got))
	assert.Len(t, collect(t, s, pair), 1, "a commit with only State keeps the links")
}

func testPutDelete(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "putdelete")
	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{link("A:1"), link("A:2"), link("A:3")}})

	changed := link("A:2")
	changed.B = "b-new"
	changed.BaseA = map[string]string{"email": "new@example.com"}
	commit(t, s, pair, keysync.StateChange{
		Put:    []keysync.Link{changed, link("A:4")},
		Delete: []string{"A:1", "A:404"},
	})
	assert.Equal(t, normalize(changed, link("A:3"), link("A:4")), normalize(collect(t, s, pair)...))

	commit(t, s, pair, keysync.StateChange{
		Put:    []keysync.Link{link("A:5")},
		Delete: []string{"A:5", "A:3"},
	})
	assert.Equal(t, normalize(changed, link("A:4")), normalize(collect(t, s, pair)...),
		"an ID both put and deleted is deleted")
}

func testOrder(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "order")
	ids := []string{"B:1", "A:9", "A:10", "A:1", "b:0", "A:\u00e9", "A:z", "A:Z", "A:", "A:1 "}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, chunk := range slices.Collect(slices.Chunk(ids, 3)) {
		var put []keysync.Link
		for _, id := range chunk {
			put = append(put, keysync.Link{ID: id})
		}
		commit(t, s, pair, keysync.StateChange{Put: put})
	}
	var got []string
	for _, l := range collect(t, s, pair) {
		got = append(got, l.ID)
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	assert.Equal(t, want, got)
}

func testIsolation(t *testing.T, s keysync.StateStore) {
	p1, p2 := pairName(t, "one"), pairName(t, "two")
	l1, l2 := link("A:1"), link("A:1")
	l2.B = "other"
	commit(t, s, p1, keysync.StateChange{Put: []keysync.Link{l1}, State: &keysync.PairState{Runs: 1}})
	commit(t, s, p2, keysync.StateChange{Put: []keysync.Link{l2}})
	commit(t, s, p2, keysync.StateChange{Delete: []string{"A:1"}})

	assert.Equal(t, normalize(l1), normalize(collect(t, s, p1)...))
	assert.Empty(t, collect(t, s, p2))
	ps1, err := s.PairState(t.Context(), p1)
	require.NoError(t, err)
	ps2, err := s.PairState(t.Context(), p2)
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{Revision: 1, Runs: 1}, normalizeState(ps1))
	assert.Equal(t, keysync.PairState{Revision: 2}, normalizeState(ps2))
}

func testRevision(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "revision")
	changes := []keysync.StateChange{
		{},
		{Put: []keysync.Link{link("A:1")}},
		{Delete: []string{"A:1"}},
		{State: &keysync.PairState{Revision: 1000}},
		{Delete: []string{"nothing"}},
	}
	for i, c := range changes {
		commit(t, s, pair, c)
		ps, err := s.PairState(t.Context(), pair)
		require.NoError(t, err)
		assert.Equal(t, int64(i+1), ps.Revision, "after commit %d", i+1)
	}
}

func testInvalid(t *testing.T, s keysync.StateStore) {
	ctx := t.Context()
	pair := pairName(t, "invalid")
	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{link("A:1")}})

	err := s.Commit(ctx, pair, keysync.StateChange{
		Put:    []keysync.Link{link("A:2"), {Key: "no id"}},
		Delete: []string{"A:1"},
		State:  &keysync.PairState{Runs: 5},
	})
	require.ErrorIs(t, err, keysync.ErrStateInvalid)
	assert.Equal(t, normalize(link("A:1")), normalize(collect(t, s, pair)...), "nothing applied")
	ps, err := s.PairState(ctx, pair)
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{Revision: 1}, normalizeState(ps))

	assert.ErrorIs(t, s.Commit(ctx, "", keysync.StateChange{}), keysync.ErrStateInvalid)
	assert.ErrorIs(t, s.Lock(ctx, ""), keysync.ErrStateInvalid)
	assert.ErrorIs(t, s.Unlock(ctx, ""), keysync.ErrStateInvalid)
	_, err = s.PairState(ctx, "")
	assert.ErrorIs(t, err, keysync.ErrStateInvalid)
	for _, err := range s.Links(ctx, "") {
		assert.ErrorIs(t, err, keysync.ErrStateInvalid)
	}
}

func testManyLinks(t *testing.T, s keysync.StateStore) {
	const n = 2500
	pair := pairName(t, "many")
	put := make([]keysync.Link, n)
	for i := range put {
		put[i] = keysync.Link{
			ID:    fmt.Sprintf("A:%06d", i),
			A:     fmt.Sprint(i),
			BaseA: map[string]string{"n": fmt.Sprint(i)},
		}
	}
	commit(t, s, pair, keysync.StateChange{Put: put})

	got := collect(t, s, pair)
	require.Len(t, got, n)
	for i, l := range got {
		require.Equal(t, put[i].ID, l.ID)
		require.Equal(t, put[i].BaseA, l.BaseA)
	}

	seen := 0
	for _, err := range s.Links(t.Context(), pair) {
		require.NoError(t, err)
		seen++
		if seen == 1500 {
			break
		}
	}
	assert.Equal(t, 1500, seen, "breaking out of the loop stops the sequence")
}

func testCommitDuringIteration(t *testing.T, s keysync.StateStore) {
	const n = 1200
	pair := pairName(t, "during")
	put := make([]keysync.Link, n)
	for i := range put {
		put[i] = keysync.Link{ID: fmt.Sprintf("A:%05d", i)}
	}
	commit(t, s, pair, keysync.StateChange{Put: put})

	seen := 0
	for l, err := range s.Links(t.Context(), pair) {
		require.NoError(t, err)
		seen++
		// Rewrite the link just read, as the engine does with the base.
		l.BaseA = map[string]string{"pad": strings.Repeat("p", 2000)}
		commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{l}})
	}
	assert.Equal(t, n, seen)
	for _, l := range collect(t, s, pair) {
		require.Len(t, l.BaseA["pad"], 2000, "link %s", l.ID)
	}
}

func testCanceled(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "canceled")
	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{link("A:1")}})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := s.Commit(ctx, pair, keysync.StateChange{Put: []keysync.Link{link("A:2")}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, normalize(link("A:1")), normalize(collect(t, s, pair)...))

	_, err = s.PairState(ctx, pair)
	require.ErrorIs(t, err, context.Canceled)
	var errs []error
	for l, err := range s.Links(ctx, pair) {
		assert.Equal(t, keysync.Link{}, l)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1, "the error is yielded once")
	assert.ErrorIs(t, errs[0], context.Canceled)
	assert.ErrorIs(t, s.Lock(ctx, pair), context.Canceled)
}

func testLock(t *testing.T, s keysync.StateStore) {
	ctx := t.Context()
	p1, p2 := pairName(t, "one"), pairName(t, "two")
	require.NoError(t, s.Lock(ctx, p1))
	assert.ErrorIs(t, s.Lock(ctx, p1), keysync.ErrLocked)
	require.NoError(t, s.Lock(ctx, p2), "another pair is independent")

	commit(t, s, p1, keysync.StateChange{Put: []keysync.Link{link("A:1")}})
	assert.Len(t, collect(t, s, p1), 1, "the holder works as usual")

	require.NoError(t, s.Unlock(ctx, p1))
	require.NoError(t, s.Unlock(ctx, p1), "unlocking twice does nothing")
	require.NoError(t, s.Lock(ctx, p1), "an unlocked pair can be locked again")
	require.NoError(t, s.Unlock(ctx, p1))
	require.NoError(t, s.Unlock(ctx, p2))
	require.NoError(t, s.Unlock(ctx, pairName(t, "never")))
}

func testLockRace(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "race")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.Lock(t.Context(), pair) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, keysync.ErrLocked)
	}
	assert.Equal(t, 1, won)
	require.NoError(t, s.Unlock(t.Context(), pair))
}

func testConcurrentCommits(t *testing.T, s keysync.StateStore) {
	pairs := []string{pairName(t, "one"), pairName(t, "two")}
	const perPair, workers = 20, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perPair {
				pair := pairs[(w+i)%len(pairs)]
				l := keysync.Link{ID: fmt.Sprintf("A:%d-%d", w, i)}
				assert.NoError(t, s.Commit(t.Context(), pair, keysync.StateChange{Put: []keysync.Link{l}}))
				for _, err := range s.Links(t.Context(), pair) {
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, pair := range pairs {
		n := len(collect(t, s, pair))
		ps, err := s.PairState(t.Context(), pair)
		require.NoError(t, err)
		assert.Equal(t, int64(n), ps.Revision, "one revision per commit")
		total += n
	}
	assert.Equal(t, perPair*workers, total)
}

func testIsolatedValues(t *testing.T, s keysync.StateStore) {
	pair := pairName(t, "values")
	l := link("A:1")
	l.BaseA = map[string]string{"email": "a@example.com"}
	l.Conflicts = []string{"name"}
	want := normalize(l)
	commit(t, s, pair, keysync.StateChange{Put: []keysync.Link{l}})
	l.BaseA["email"] = "mutated"
	l.Conflicts[0] = "mutated"

	got := collect(t, s, pair)
	require.Len(t, got, 1)
	assert.Equal(t, want, normalize(got...))
	maps.DeleteFunc(got[0].BaseA, func(string, string) bool { return true })
	assert.Equal(t, want, normalize(collect(t, s, pair)...))

	st := keysync.PairState{UnlinkedA: []string{"k"}}
	commit(t, s, pair, keysync.StateChange{State: &st})
	st.UnlinkedA[0] = "mutated"
	ps, err := s.PairState(t.Context(), pair)
	require.NoError(t, err)
	assert.Equal(t, []string{"k"}, ps.UnlinkedA)
}

func testClosed(t *testing.T, s keysync.StateStore) {
	ctx := t.Context()
	pair := pairName(t, "closed")
	require.NoError(t, s.Lock(ctx, pair))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is allowed")

	assert.ErrorIs(t, s.Commit(ctx, pair, keysync.StateChange{}), keysync.ErrStateClosed)
	assert.ErrorIs(t, s.Lock(ctx, pair), keysync.ErrStateClosed)
	_, err := s.PairState(ctx, pair)
	assert.ErrorIs(t, err, keysync.ErrStateClosed)
	n := 0
	for _, err := range s.Links(ctx, pair) {
		assert.ErrorIs(t, err, keysync.ErrStateClosed)
		n++
	}
	assert.Equal(t, 1, n)
}
