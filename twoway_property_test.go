package sync_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/hubspot"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
	"github.com/keysync/sync/state/boltstore"
)

// editRec is one edit a property test made to a record between runs.
type editRec struct {
	side  keysync.Side
	id    string
	field string
	value string
}

// world drives random edits, creates and deletes on both sides of an env.
type world struct {
	t     *testing.T
	e     *env
	r     *rand.Rand
	next  int
	pool  []string // emails to draw from; nil means always fresh ones
	keep  bool     // never delete
	edits []editRec
	dels  map[keysync.Side][]string
}

var (
	firsts = []string{"Ann", "Bob", "Cy", "Di"}
	lasts  = []string{"Ames", "Bell", ""}
	phones = []string{"555-1", "555-2", "555-3", ""}
)

func (w *world) email() string {
	if w.pool != nil {
		return w.pool[w.r.IntN(len(w.pool))]
	}
	w.next++
	return fmt.Sprintf("p%d@example.com", w.next)
}

// round makes up to n random changes on each side.
// Edits are the net changes of the round: a field set back to its value
// at the start of the round is no edit.
func (w *world) round(n int) {
	w.edits, w.dels = nil, map[keysync.Side][]string{}
	for _, s := range []keysync.Side{keysync.SideA, keysync.SideB} {
		c := w.e.side(s)
		start := map[string]keysync.Item{}
		for _, it := range c.Items() {
			start[it["id"].(string)] = it
		}
		defer w.netEdits(s, start)
		for range w.r.IntN(n + 1) {
			items := c.Items()
			switch op := w.r.IntN(10); {
			case op < 3 || len(items) == 0:
				c.Put(person(w.email(), pick(w.r, firsts), pick(w.r, lasts), pick(w.r, phones)))
			case op < 9 || w.keep:
				it := items[w.r.IntN(len(items))]
				f := personFields[w.r.IntN(len(personFields))]
				var v string
				switch f {
				case "email":
					v = w.email()
				case "first":
					v = pick(w.r, firsts)
				case "last":
					v = pick(w.r, lasts)
				default:
					v = pick(w.r, phones)
				}
				if v == "" {
					delete(it, f)
				} else {
					it[f] = v
				}
				delete(it, memory.UpdatedField)
				c.Put(it)
			default:
				it := items[w.r.IntN(len(items))]
				_, err := c.Connector.Delete(w.t.Context(), []keysync.Item{it})
				require.NoError(w.t, err)
				w.dels[s] = append(w.dels[s], it["id"].(string))
			}
		}
	}
}

// netEdits records the fields of side s that differ from start.
func (w *world) netEdits(s keysync.Side, start map[string]keysync.Item) {
	for _, it := range w.e.side(s).Items() {
		id := it["id"].(string)
		was, ok := start[id]
		if !ok {
			continue // created in this round
		}
		for _, f := range personFields {
			if v := str(it, f); v != str(was, f) {
				w.edits = append(w.edits, editRec{s, id, f, v})
			}
		}
	}
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// sync plans and applies one run, returning the plan.
func (w *world) sync() *keysync.Plan {
	w.t.Helper()
	ctx := w.t.Context()
	p, err := keysync.PlanTwoWay(ctx, w.e.a, w.e.b, w.e.opts)
	require.NoError(w.t, err)
	_, err = keysync.ApplyPlan(ctx, w.e.a, w.e.b, p, w.e.opts)
	require.NoError(w.t, err)
	return p
}

// checkStable checks that a run after the last one plans no write.
func (w *world) checkStable() {
	w.t.Helper()
	p, err := keysync.PlanTwoWay(w.t.Context(), w.e.a, w.e.b, w.e.opts)
	require.NoError(w.t, err)
	require.Zero(w.t, p.Writes(), "a run after a converged run writes nothing: %+v", p.Ops)
}

// record returns the record with id on side s, or nil.
func (w *world) record(s keysync.Side, id string) keysync.Item {
	it, ok := w.e.side(s).Get(id)
	if !ok {
		return nil
	}
	return it
}

func str(it keysync.Item, f string) string {
	s, _ := it[f].(string)
	return s
}

// TestTwoWay_StatefulProperties runs random sequences of edits, creates and
// deletes on both sides, with unique keys, and checks after every run that
// the sides converge, no edit is lost except through a reported conflict,
// nothing is duplicated and the next run writes nothing.
func TestTwoWay_StatefulProperties(t *testing.T) {
	t.Parallel()
	modes := []keysync.ConflictMode{keysync.ConflictReportOnly, keysync.ConflictPreferA,
		keysync.ConflictPreferB, keysync.ConflictNewest}
	for seed := range uint64(40) {
		mode := modes[seed%uint64(len(modes))]
		t.Run(fmt.Sprintf("seed %d %s", seed, mode), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Conflicts.Mode = mode
			e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate,
				InB: keysync.DeletePropagate, MaxShare: -1}
			w := &world{t: t, e: e, r: rand.New(rand.NewPCG(seed, 0x5eed))}
			for round := range 12 {
				w.round(6)
				p := w.sync()
				w.checkRound(p, round)
				w.checkStable()
			}
		})
	}
}

// TestTwoWay_StatefulPropertiesIncremental is TestTwoWay_StatefulProperties
// with incremental listing (a full listing every third run) and without
// deletions, which only full listings can see.
func TestTwoWay_StatefulPropertiesIncremental(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Conflicts.Mode = keysync.ConflictNewest
			e.opts.Incremental = keysync.IncrementalOptions{FullEvery: 3, Overlap: 1}
			w := &world{t: t, e: e, r: rand.New(rand.NewPCG(seed, 0x1ac)), keep: true}
			full := 0
			for round := range 12 {
				w.round(6)
				p := w.sync()
				full += boolInt(p.Full)
				w.checkRound(p, round)
				w.checkStable()
			}
			assert.Equal(t, 4, full, "every third run lists in full")
		})
	}
}

// checkRound checks the invariants after a run with unique keys.
func (w *world) checkRound(p *keysync.Plan, round int) {
	t := w.t
	t.Helper()
	ls := links(t, w.e.store, "people")
	a, b := w.e.a.Items(), w.e.b.Items()
	require.Len(t, ls, len(a), "round %d: every A record is linked once", round)
	require.Len(t, ls, len(b), "round %d: every B record is linked once", round)
	byA, byB := map[string]keysync.Link{}, map[string]keysync.Link{}
	for _, l := range ls {
		require.Empty(t, l.Pending, "round %d", round)
		require.Empty(t, l.Missing, "round %d", round)
		byA[l.A], byB[l.B] = l, l
	}
	require.Len(t, byA, len(a), "round %d: no record is in two links", round)
	require.Len(t, byB, len(b), "round %d", round)

	// Converged: the records of each link agree on every field except
	// conflicts left unresolved.
	for _, l := range ls {
		ra, rb := w.record(keysync.SideA, l.A), w.record(keysync.SideB, l.B)
		require.NotNil(t, ra, "round %d: link %s", round, l.ID)
		require.NotNil(t, rb, "round %d: link %s", round, l.ID)
		for _, f := range personFields {
			if slices.Contains(l.Conflicts, f) {
				continue
			}
			assert.Equal(t, str(ra, f), str(rb, f), "round %d: link %s field %s", round, l.ID, f)
		}
	}

	// No edit is lost except through a reported conflict.
	last := map[[3]string]editRec{}
	for _, ed := range w.edits {
		last[[3]string{string(ed.side), ed.id, ed.field}] = ed
	}
	conflicted := map[[2]string]bool{}
	for _, c := range p.Conflicts {
		conflicted[[2]string{c.Link, c.Field}] = true
	}
	for _, ed := range last {
		own := w.record(ed.side, ed.id)
		if own == nil {
			// Only the user deletes an edited record: an edit wins over
			// the deletion of its counterpart.
			require.Contains(t, w.dels[ed.side], ed.id, "round %d: edited record %+v deleted",
				round, ed)
			continue
		}
		l := byA[ed.id]
		other := w.record(keysync.SideB, l.B)
		if ed.side == keysync.SideB {
			l = byB[ed.id]
			other = w.record(keysync.SideA, l.A)
		}
		if conflicted[[2]string{l.ID, ed.field}] {
			continue
		}
		assert.Equal(t, ed.value, str(own, ed.field), "round %d: edit %+v kept", round, ed)
		assert.Equal(t, ed.value, str(other, ed.field), "round %d: edit %+v propagated", round, ed)
	}
}

// TestTwoWay_StatefulPropertiesCollisions draws keys from a small pool, so
// that records collide, become ambiguous and share keys; the runs must still
// never fail, never put a record in two links, never create more than they
// plan, and settle.
func TestTwoWay_StatefulPropertiesCollisions(t *testing.T) {
	t.Parallel()
	pool := []string{"x@example.com", "y@example.com", "z@example.com", "w@example.com",
		"v@example.com", "u@example.com"}
	for seed := range uint64(30) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Conflicts.Mode = keysync.ConflictPreferB
			modes := []keysync.DeleteMode{keysync.DeleteIgnore, keysync.DeletePropagate,
				keysync.DeleteQuarantine}
			e.opts.Deletes = keysync.DeletePolicy{InA: modes[seed%3], InB: modes[(seed/3)%3], MaxShare: -1}
			w := &world{t: t, e: e, r: rand.New(rand.NewPCG(seed, 0xc0111de)), pool: pool}
			for round := range 12 {
				w.round(5)
				before := [2]int{len(e.a.Items()), len(e.b.Items())}
				p := w.sync()
				creates := [2]int{}
				for _, op := range p.Ops {
					if op.Kind == keysync.PlanCreate {
						creates[0] += boolInt(op.Side == keysync.SideA)
						creates[1] += boolInt(op.Side == keysync.SideB)
					}
				}
				assert.LessOrEqual(t, len(e.a.Items()), before[0]+creates[0], "round %d", round)
				assert.LessOrEqual(t, len(e.b.Items()), before[1]+creates[1], "round %d", round)
				seen := map[string]bool{}
				for _, l := range links(t, e.store, "people") {
					for _, id := range []string{"A" + l.A, "B" + l.B} {
						if len(id) > 1 {
							require.False(t, seen[id], "round %d: %s is in two links", round, id)
							seen[id] = true
						}
					}
				}
				// A key change written by this run can turn a record skipped as
				// a duplicate into one to create, so the sides may take a few
				// runs to settle; once a run writes nothing, so do all after it.
				settled := false
				for range 4 {
					p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
					require.NoError(t, err)
					if p.Writes() == 0 {
						settled = true
						break
					}
					_, err = keysync.ApplyPlan(t.Context(), e.a, e.b, p, e.opts)
					require.NoError(t, err)
				}
				require.True(t, settled, "round %d: the sides settle", round)
				w.checkStable()
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// killer cuts a run short after a number of writes and deletes, across both
// connectors, as if the process were killed: the write that would exceed
// the budget is not applied and the run's context is cancelled.
type killer struct {
	mu     sync.Mutex
	budget int // writes left; -1 = unlimited
	cancel context.CancelFunc
}

func (k *killer) take(n int) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.budget < 0 {
		return n
	}
	n = min(n, k.budget)
	k.budget -= n
	return n
}

type killable struct {
	*counting
	k *killer
}

func (c killable) Write(ctx context.Context, batch []keysync.Write) ([]keysync.WriteResult, error) {
	n := c.k.take(len(batch))
	res, err := c.counting.Write(ctx, batch[:n])
	if n < len(batch) && err == nil {
		c.k.cancel()
		return res, context.Canceled
	}
	return res, err
}

func (c killable) Delete(ctx context.Context, batch []keysync.Item) ([]keysync.WriteResult, error) {
	n := c.k.take(len(batch))
	res, err := c.counting.Delete(ctx, batch[:n])
	if n < len(batch) && err == nil {
		c.k.cancel()
		return res, context.Canceled
	}
	return res, err
}

// crashScenario seeds a world with records in step and then changes both
// sides: creates, updates, a key change, conflicts and deletions.
func crashScenario(t *testing.T, e *env) {
	// Phone conflicts resolve to a new value, written to both sides; the
	// others keep A's value.
	e.opts.Conflicts = keysync.ConflictPolicy{Mode: keysync.ConflictCustom,
		Resolve: func(c keysync.Conflict) (string, bool) {
			if c.Field == "phone" {
				return c.A + "|" + c.B, true
			}
			return c.A, true
		}}
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate,
		InB: keysync.DeletePropagate, MaxShare: -1}
	for i := range 8 {
		e.a.Put(person(fmt.Sprintf("old%d@example.com", i), "Old", fmt.Sprint(i), ""))
	}
	e.settled()
	for i := range 7 {
		e.a.Put(person(fmt.Sprintf("a%d@example.com", i), "New", "A", ""))
		e.b.Put(person(fmt.Sprintf("b%d@example.com", i), "New", "B", ""))
	}
	edit(t, e.a, "old0@example.com", map[string]string{"phone": "555-0"})
	edit(t, e.b, "old1@example.com", map[string]string{"phone": "555-1"})
	edit(t, e.a, "old2@example.com", map[string]string{"phone": "555-A"})
	edit(t, e.b, "old2@example.com", map[string]string{"phone": "555-B", "first": "Both"})
	edit(t, e.a, "old3@example.com", map[string]string{"email": "renamed@example.com"})
	remove(t, e.a, "old4@example.com")
	remove(t, e.b, "old5@example.com")
	e.a.calls()
	e.b.calls()
}

// TestTwoWay_StatefulCrash kills a run after N writes for every N, and after
// N state commits, then re-runs it: the end state must be that of a run
// that was never interrupted, with nothing created twice.
func TestTwoWay_StatefulCrash(t *testing.T) {
	t.Parallel()
	ref := newEnv(t)
	crashScenario(t, ref)
	ref.run()
	total := ref.a.calls().writes() + ref.b.calls().writes()
	require.Greater(t, total, 20)
	wantA, wantB := view(ref.a), view(ref.b)
	wantLinks := len(links(t, ref.store, "people"))

	check := func(t *testing.T, e *env) {
		t.Helper()
		e.settled()
		assert.Equal(t, wantA, view(e.a))
		assert.Equal(t, wantB, view(e.b))
		assert.Len(t, links(t, e.store, "people"), wantLinks)
	}
	for n := range total + 1 {
		t.Run(fmt.Sprintf("killed after %d writes", n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			crashScenario(t, e)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			k := &killer{budget: n, cancel: cancel}
			_, err := keysync.TwoWay(ctx, killable{e.a, k}, killable{e.b, k}, e.opts)
			if n < total {
				require.ErrorIs(t, err, context.Canceled)
			}
			check(t, e)
		})
	}
	for n := range 12 {
		t.Run(fmt.Sprintf("killed after %d commits", n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			crashScenario(t, e)
			e.store.(*memory.StateStore).FailCommitsAfter(n)
			_, _ = keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
			e.store.(*memory.StateStore).FailCommitsAfter(-1)
			check(t, e)
		})
	}
}

// TestTwoWay_StatefulCrashBolt is TestTwoWay_StatefulCrash on the bbolt
// store, closing and reopening the database file between the runs.
func TestTwoWay_StatefulCrashBolt(t *testing.T) {
	t.Parallel()
	open := func(t *testing.T, path string) *boltstore.Store {
		s, err := boltstore.Open(path)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	ref := newEnv(t)
	ref.store = open(t, filepath.Join(t.TempDir(), "ref.db"))
	ref.opts.State = ref.store
	crashScenario(t, ref)
	ref.run()
	total := ref.a.calls().writes() + ref.b.calls().writes()
	wantA, wantB := view(ref.a), view(ref.b)

	for n := 0; n <= total; n += 3 {
		t.Run(fmt.Sprintf("killed after %d writes", n), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.db")
			e := newEnv(t)
			e.store = open(t, path)
			e.opts.State = e.store
			crashScenario(t, e)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			k := &killer{budget: n, cancel: cancel}
			_, _ = keysync.TwoWay(ctx, killable{e.a, k}, killable{e.b, k}, e.opts)
			require.NoError(t, e.store.Close())

			e.store = open(t, path)
			e.opts.State = e.store
			e.settled()
			assert.Equal(t, wantA, view(e.a))
			assert.Equal(t, wantB, view(e.b))
		})
	}
}

// lowerEmail wraps a FieldSide so that emails compare case-blind: HubSpot
// stores them lower-cased.
func lowerEmail(fs keysync.FieldSide) keysync.FieldSide {
	get := fs.Get
	fs.Get = func(it keysync.Item) map[string]string {
		m := get(it)
		if e, ok := m["email"]; ok {
			m["email"] = strings.ToLower(e)
		}
		return m
	}
	return fs
}

// fakeSide is one system of the fake-based property test, edited through
// its connector as another API client would.
type fakeSide struct {
	conn   keysync.Connector
	fields keysync.FieldSide
}

func (s fakeSide) list(t *testing.T) map[string]keysync.Item {
	t.Helper()
	out := map[string]keysync.Item{}
	id := s.conn.(keysync.Identifier)
	for it, err := range s.conn.List(t.Context()) {
		require.NoError(t, err)
		out[id.RecordID(it)] = it
	}
	return out
}

func (s fakeSide) write(t *testing.T, w keysync.Write) {
	t.Helper()
	res, err := s.conn.Write(t.Context(), []keysync.Write{w})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

// TestTwoWay_StatefulPropertiesFakes runs random edits, creates and deletes
// against the Pipedrive and HubSpot fakes through their connectors, syncing
// Pipedrive persons (A) with HubSpot contacts (B) after each round.
func TestTwoWay_StatefulPropertiesFakes(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			a, b := fakeConnectors(t)
			store := memory.NewStateStore()
			opts := keysync.TwoWayOptions{
				AKey: "emails[0].value", BKey: "properties.email", Normalize: keysync.NormalizeEmail,
				AName: "pipedrive", BName: "hubspot", State: store, Pair: "persons:contacts",
				Fields:    keysync.FieldMapping{A: a.fields, B: b.fields},
				Conflicts: keysync.ConflictPolicy{Mode: keysync.ConflictPreferA},
				Deletes: keysync.DeletePolicy{InA: keysync.DeletePropagate,
					InB: keysync.DeletePropagate, MaxShare: -1},
			}
			r := rand.New(rand.NewPCG(seed, 0xfa4e))
			next := 0
			done := map[keysync.Outcome]int{}
			defer func() {
				assert.Positive(t, done[keysync.Created], "the runs created records")
				assert.Positive(t, done[keysync.Updated], "the runs updated records")
			}()
			for round := range 10 {
				for _, s := range []fakeSide{a, b} {
					recs := s.list(t)
					ids := slices.Sorted(maps.Keys(recs))
					for range r.IntN(4) {
						switch op := r.IntN(6); {
						case op < 2 || len(ids) == 0:
							next++
							f := map[string]string{"email": fmt.Sprintf("f%d-%d@example.com", seed, next),
								"name": pick(r, firsts), "phone": pick(r, phones)}
							s.write(t, keysync.Write{Op: keysync.OpCreate, Key: f["email"],
								Item: s.fields.Set(f, nil)})
						case op < 5:
							id := ids[r.IntN(len(ids))]
							f := map[string]string{"name": pick(r, firsts)}
							if r.IntN(2) == 0 {
								f = map[string]string{"phone": pick(r, phones[:3])}
							}
							s.write(t, keysync.Write{Op: keysync.OpUpdate, Item: s.fields.Set(f, recs[id]),
								Target: recs[id]})
						default:
							id := ids[r.IntN(len(ids))]
							_, err := s.conn.(keysync.Deleter).Delete(t.Context(), []keysync.Item{recs[id]})
							require.NoError(t, err)
							ids = slices.DeleteFunc(ids, func(x string) bool { return x == id })
						}
					}
				}
				rep, err := keysync.TwoWay(t.Context(), a.conn, b.conn, opts)
				require.NoError(t, err, "round %d", round)
				for _, o := range []keysync.Outcome{keysync.Created, keysync.Updated, keysync.Deleted} {
					done[o] += rep.Count(o)
				}

				ra, rb := a.list(t), b.list(t)
				ls := links(t, store, "persons:contacts")
				require.Len(t, ls, len(ra), "round %d: every person is linked once", round)
				require.Len(t, ls, len(rb), "round %d: every contact is linked once", round)
				for _, l := range ls {
					require.Contains(t, ra, l.A)
					require.Contains(t, rb, l.B)
					assert.Equal(t, a.fields.Get(ra[l.A]), b.fields.Get(rb[l.B]),
						"round %d: the pair %s converged", round, l.ID)
				}
				p, err := keysync.PlanTwoWay(t.Context(), a.conn, b.conn, opts)
				require.NoError(t, err)
				require.Zero(t, p.Writes(), "round %d: the next run writes nothing: %+v", round, p.Ops)
			}
		})
	}
}

// fakeConnectors returns connectors for fresh Pipedrive and HubSpot fakes,
// with the fields name, email and phone mapped on each.
func fakeConnectors(t *testing.T) (fakeSide, fakeSide) {
	t.Helper()
	ps := pipedrivetest.NewTestServer(t)
	pc, err := pipedrive.NewClient(ps.Token, pipedrive.WithBaseURL(ps.URL), pipedrive.WithoutRateLimit())
	require.NoError(t, err)
	persons, err := pipedrive.NewPersons(pc, pipedrive.PersonsOptions{})
	require.NoError(t, err)
	pf, err := keysync.FieldPaths(map[string]string{
		"email": "emails[0].value", "name": "name", "phone": "phones[0].value"})
	require.NoError(t, err)

	hs := hubspottest.NewTestServer(t)
	hc, err := hubspot.NewClient(hs.Token, hubspot.WithBaseURL(hs.URL),
		hubspot.WithRateLimit(100000, time.Second), hubspot.WithSearchRateLimit(100000, time.Second))
	require.NoError(t, err)
	contacts := hubspot.NewContacts(hc, hubspot.ContactsOptions{
		Properties: []string{"email", "firstname", "phone"}})
	hf, err := keysync.FieldPaths(map[string]string{
		"email": "properties.email", "name": "properties.firstname", "phone": "properties.phone"})
	require.NoError(t, err)
	return fakeSide{persons, lowerEmail(pf)}, fakeSide{contacts, lowerEmail(hf)}
}
