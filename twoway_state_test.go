package sync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// personFields are the common fields of the flat test records.
var personFields = []string{"email", "first", "last", "phone"}

// flatSide maps flat records whose common fields are top-level keys.
func flatSide(t testing.TB) keysync.FieldSide {
	t.Helper()
	paths := map[string]string{}
	for _, f := range personFields {
		paths[f] = f
	}
	fs, err := keysync.FieldPaths(paths)
	require.NoError(t, err)
	return fs
}

// fakeClock is a clock that advances one millisecond per reading, shared by
// the connectors and the engine so that modification times are ordered.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// advance moves the clock on by d.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// counting wraps a connector and counts the calls a sync makes, keeping
// every optional capability of the memory connector.
type counting struct {
	*memory.Connector
	mu                                     sync.Mutex
	lists, incLists, listed                int
	writeCalls, creates, updates, searches int
	deleteCalls, deletes                   int
}

func (c *counting) List(ctx context.Context) iter.Seq2[keysync.Item, error] {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.count(c.Connector.List(ctx))
}

func (c *counting) ListModifiedSince(ctx context.Context, since time.Time) iter.Seq2[keysync.Item, error] {
	c.mu.Lock()
	c.incLists++
	c.mu.Unlock()
	return c.count(c.Connector.ListModifiedSince(ctx, since))
}

func (c *counting) count(seq iter.Seq2[keysync.Item, error]) iter.Seq2[keysync.Item, error] {
	return func(yield func(keysync.Item, error) bool) {
		for it, err := range seq {
			if err == nil {
				c.mu.Lock()
				c.listed++
				c.mu.Unlock()
			}
			if !yield(it, err) {
				return
			}
		}
	}
}

func (c *counting) Write(ctx context.Context, batch []keysync.Write) ([]keysync.WriteResult, error) {
	c.mu.Lock()
	c.writeCalls++
	for _, w := range batch {
		if w.Op == keysync.OpCreate {
			c.creates++
		} else {
			c.updates++
		}
	}
	c.mu.Unlock()
	return c.Connector.Write(ctx, batch)
}

func (c *counting) Delete(ctx context.Context, batch []keysync.Item) ([]keysync.WriteResult, error) {
	c.mu.Lock()
	c.deleteCalls++
	c.deletes += len(batch)
	c.mu.Unlock()
	return c.Connector.Delete(ctx, batch)
}

func (c *counting) SearchKey(ctx context.Context, key string) ([]keysync.Item, error) {
	c.mu.Lock()
	c.searches++
	c.mu.Unlock()
	return c.Connector.SearchKey(ctx, key)
}

// calls returns the API calls counted so far and resets the counters.
func (c *counting) calls() callCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := callCount{
		Lists: c.lists, IncLists: c.incLists, Listed: c.listed, WriteCalls: c.writeCalls,
		Creates: c.creates, Updates: c.updates, DeleteCalls: c.deleteCalls, Deletes: c.deletes,
		Searches: c.searches,
	}
	c.lists, c.incLists, c.listed, c.writeCalls, c.creates, c.updates = 0, 0, 0, 0, 0, 0
	c.deleteCalls, c.deletes, c.searches = 0, 0, 0
	return n
}

type callCount struct {
	Lists, IncLists, Listed, WriteCalls, Creates, Updates, DeleteCalls, Deletes, Searches int
}

func (n callCount) writes() int { return n.Creates + n.Updates + n.Deletes }

// env is a stateful two-way sync between two memory connectors.
type env struct {
	t     testing.TB
	clock *fakeClock
	a, b  *counting
	store keysync.StateStore
	opts  keysync.TwoWayOptions
}

func newEnv(t testing.TB, opts ...memory.Option) *env {
	t.Helper()
	clock := newClock()
	o := append([]memory.Option{memory.WithClock(clock.Now), memory.WithMaxBatch(3),
		memory.WithSearchKey("email", keysync.NormalizeEmail)}, opts...)
	e := &env{
		t: t, clock: clock,
		a: &counting{Connector: memory.New(o...)}, b: &counting{Connector: memory.New(o...)},
		store: memory.NewStateStore(),
	}
	e.opts = keysync.TwoWayOptions{
		AKey: "email", Normalize: keysync.NormalizeEmail,
		State: e.store, Pair: "people", Clock: clock.Now,
		Fields: keysync.FieldMapping{A: flatSide(t), B: flatSide(t)},
	}
	return e
}

// run runs the sync and requires success.
func (e *env) run() keysync.Report {
	e.t.Helper()
	rep, err := keysync.TwoWay(e.t.Context(), e.a, e.b, e.opts)
	require.NoError(e.t, err)
	return rep
}

// settled runs the sync and checks that a second run writes nothing; it
// returns the report of that second run.
func (e *env) settled() keysync.Report {
	e.t.Helper()
	e.run()
	e.a.calls()
	e.b.calls()
	p, err := keysync.PlanTwoWay(e.t.Context(), e.a, e.b, e.opts)
	require.NoError(e.t, err)
	assert.Zero(e.t, p.Writes(), "the run after a run plans no writes: %+v", p.Ops)
	again := e.run()
	ca, cb := e.a.calls(), e.b.calls()
	assert.Zero(e.t, ca.writes()+cb.writes(), "the run after a run writes nothing (%s)", again)
	return again
}

func (e *env) side(s keysync.Side) *counting {
	if s == keysync.SideA {
		return e.a
	}
	return e.b
}

// person returns a flat record.
func person(email, first, last, phone string) keysync.Item {
	it := keysync.Item{"email": email}
	for k, v := range map[string]string{"first": first, "last": last, "phone": phone} {
		if v != "" {
			it[k] = v
		}
	}
	return it
}

// find returns the record of c whose email is email.
func find(t testing.TB, c *counting, email string) keysync.Item {
	t.Helper()
	for _, it := range c.Items() {
		if it["email"] == email {
			return it
		}
	}
	require.Failf(t, "no record", "no record with email %q", email)
	return nil
}

// edit changes fields of the record with email as a user would (its
// modification time is renewed); "" removes a field.
func edit(t testing.TB, c *counting, email string, fields map[string]string) {
	t.Helper()
	it := find(t, c, email)
	for k, v := range fields {
		if v == "" {
			delete(it, k)
		} else {
			it[k] = v
		}
	}
	delete(it, memory.UpdatedField)
	c.Put(it)
}

// remove deletes the record with email as a user would.
func remove(t testing.TB, c *counting, email string) {
	t.Helper()
	_, err := c.Connector.Delete(t.Context(), []keysync.Item{find(t, c, email)})
	require.NoError(t, err)
}

// view renders the common fields of every record of c, sorted, for
// comparisons that ignore IDs and times.
func view(c *counting) []string {
	var out []string
	for _, it := range c.Items() {
		parts := make([]string, 0, len(personFields))
		for _, f := range personFields {
			v, _ := it[f].(string)
			parts = append(parts, v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

func links(t testing.TB, s keysync.StateStore, pair string) []keysync.Link {
	t.Helper()
	var out []keysync.Link
	for l, err := range s.Links(t.Context(), pair) {
		require.NoError(t, err)
		out = append(out, l)
	}
	return out
}

func TestTwoWay_StatefulFirstRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		a, b         []keysync.Item
		want         []string // the view both sides must have
		wantA, wantB []string // when the sides differ
		wantLinks    int
		wantReasons  map[keysync.Reason]int
	}{
		{
			name: "creates what each side lacks and links it",
			a:    []keysync.Item{person("dana@example.com", "Dana", "Scully", "1")},
			b:    []keysync.Item{person("fox@example.com", "Fox", "Mulder", "")},
			want: []string{"dana@example.com|Dana|Scully|1", "fox@example.com|Fox|Mulder|"},
			// one link per record pair
			wantLinks: 2,
		},
		{
			name:      "links records with one key and fills empty fields both ways",
			a:         []keysync.Item{person("Dana@Example.com", "Dana", "", "1")},
			b:         []keysync.Item{person("dana@example.com", "", "Scully", "1")},
			wantA:     []string{"Dana@Example.com|Dana|Scully|1"},
			wantB:     []string{"dana@example.com|Dana|Scully|1"},
			wantLinks: 1,
			// The emails differ in case only: each side keeps its own
			// spelling as a conflict left for the user.
			wantReasons: map[keysync.Reason]int{keysync.ReasonConflict: 2},
		},
		{
			name: "skips ambiguous, duplicate and keyless records without creating them",
			a: []keysync.Item{
				person("twin@example.com", "One", "", ""),
				person("twin@example.com", "Two", "", ""),
				{"first": "Nokey"},
			},
			b: []keysync.Item{
				person("pair@example.com", "P1", "", ""),
				person("pair@example.com", "P2", "", ""),
			},
			// As in OneWay, the first record holding a key is synced and
			// the later ones are skipped.
			wantA: []string{"pair@example.com|P1||", "twin@example.com|One||",
				"twin@example.com|Two||", "|Nokey||"},
			wantB: []string{"pair@example.com|P1||", "pair@example.com|P2||",
				"twin@example.com|One||"},
			wantLinks: 2,
			wantReasons: map[keysync.Reason]int{
				keysync.ReasonDuplicate: 2, keysync.ReasonMissingKey: 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.a.Put(tt.a...)
			e.b.Put(tt.b...)
			rep := e.settled()
			if tt.want != nil {
				assert.Equal(t, tt.want, view(e.a))
				assert.Equal(t, tt.want, view(e.b))
			} else {
				assert.Equal(t, tt.wantA, view(e.a))
				assert.Equal(t, tt.wantB, view(e.b))
			}
			assert.Len(t, links(t, e.store, "people"), tt.wantLinks)
			for r, n := range tt.wantReasons {
				assert.Equal(t, n, rep.CountReason(r), "reason %s in %s", r, rep)
			}
		})
	}
}

// base is the state every merge test starts from, in step on both sides.
var base = person("dana@example.com", "Dana", "Scully", "555-1")

func TestTwoWay_StatefulMerge(t *testing.T) {
	t.Parallel()
	type edits = map[string]string
	tests := []struct {
		name          string
		mode          keysync.ConflictMode
		resolve       func(keysync.Conflict) (string, bool)
		editA, editB  edits
		bFirst        bool // edit B before A (B is then older)
		wantA, wantB  string
		wantConflicts []keysync.Conflict // Link, Key and times are not compared
	}{
		{
			name:  "a field changed in A is written to B",
			editA: edits{"phone": "555-2"},
			wantA: "dana@example.com|Dana|Scully|555-2", wantB: "dana@example.com|Dana|Scully|555-2",
		},
		{
			name:  "a field changed in B is written to A",
			editB: edits{"phone": "555-3"},
			wantA: "dana@example.com|Dana|Scully|555-3", wantB: "dana@example.com|Dana|Scully|555-3",
		},
		{
			name:  "fields changed on different sides both survive",
			editA: edits{"first": "Danielle"}, editB: edits{"last": "Mulder"},
			wantA: "dana@example.com|Danielle|Mulder|555-1", wantB: "dana@example.com|Danielle|Mulder|555-1",
		},
		{
			name:  "a field cleared in A is cleared in B",
			editA: edits{"phone": ""},
			wantA: "dana@example.com|Dana|Scully|", wantB: "dana@example.com|Dana|Scully|",
		},
		{
			name:  "the same change on both sides is no conflict",
			editA: edits{"phone": "555-9"}, editB: edits{"phone": "555-9"},
			wantA: "dana@example.com|Dana|Scully|555-9", wantB: "dana@example.com|Dana|Scully|555-9",
		},
		{
			name:  "a conflict is left and reported by default",
			editA: edits{"phone": "555-A", "first": "Dee"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dee|Scully|555-A", wantB: "dana@example.com|Dee|Scully|555-B",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1"}},
		},
		{
			name: "prefer A keeps A's value", mode: keysync.ConflictPreferA,
			editA: edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-A", wantB: "dana@example.com|Dana|Scully|555-A",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1", Kept: "A", Value: "555-A"}},
		},
		{
			name: "prefer B keeps B's value", mode: keysync.ConflictPreferB,
			editA: edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-B", wantB: "dana@example.com|Dana|Scully|555-B",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1", Kept: "B", Value: "555-B"}},
		},
		{
			name: "newest keeps the value edited last (B)", mode: keysync.ConflictNewest,
			editA: edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-B", wantB: "dana@example.com|Dana|Scully|555-B",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1", Kept: "B", Value: "555-B"}},
		},
		{
			name: "newest keeps the value edited last (A)", mode: keysync.ConflictNewest, bFirst: true,
			editA: edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-A", wantB: "dana@example.com|Dana|Scully|555-A",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1", Kept: "A", Value: "555-A"}},
		},
		{
			name: "a custom resolver may choose a new value", mode: keysync.ConflictCustom,
			resolve: func(c keysync.Conflict) (string, bool) { return c.A + " / " + c.B, true },
			editA:   edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-A / 555-B",
			wantB: "dana@example.com|Dana|Scully|555-A / 555-B",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1", Kept: "value", Value: "555-A / 555-B"}},
		},
		{
			name: "a custom resolver may leave a conflict", mode: keysync.ConflictCustom,
			resolve: func(keysync.Conflict) (string, bool) { return "", false },
			editA:   edits{"phone": "555-A"}, editB: edits{"phone": "555-B"},
			wantA: "dana@example.com|Dana|Scully|555-A", wantB: "dana@example.com|Dana|Scully|555-B",
			wantConflicts: []keysync.Conflict{{Field: "phone", A: "555-A", B: "555-B",
				BaseA: "555-1", BaseB: "555-1"}},
		},
		{
			name:  "a changed key propagates and the pair stays linked",
			editA: edits{"email": "dana.scully@fbi.gov"},
			wantA: "dana.scully@fbi.gov|Dana|Scully|555-1", wantB: "dana.scully@fbi.gov|Dana|Scully|555-1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Conflicts = keysync.ConflictPolicy{Mode: tt.mode, Resolve: tt.resolve}
			e.a.Put(base)
			e.settled()
			before := links(t, e.store, "people")
			require.Len(t, before, 1)

			if tt.bFirst {
				edit(t, e.b, "dana@example.com", tt.editB)
				edit(t, e.a, "dana@example.com", tt.editA)
			} else {
				if tt.editA != nil {
					edit(t, e.a, "dana@example.com", tt.editA)
				}
				if tt.editB != nil {
					edit(t, e.b, "dana@example.com", tt.editB)
				}
			}
			p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)
			var got []keysync.Conflict
			for _, c := range p.Conflicts {
				assert.Equal(t, before[0].ID, c.Link)
				c.Link, c.Key, c.ModifiedA, c.ModifiedB = "", "", time.Time{}, time.Time{}
				got = append(got, c)
			}
			assert.Equal(t, tt.wantConflicts, got)

			e.settled()
			assert.Equal(t, []string{tt.wantA}, view(e.a))
			assert.Equal(t, []string{tt.wantB}, view(e.b))
			after := links(t, e.store, "people")
			require.Len(t, after, 1, "no record was created or unlinked")
			assert.Equal(t, before[0].ID, after[0].ID)
		})
	}
}

func TestTwoWay_StatefulConflictLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.a.Put(base)
	e.settled()
	edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-A"})
	edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-B"})

	for range 2 {
		rep := e.run()
		assert.Equal(t, 2, rep.CountReason(keysync.ReasonConflict),
			"an unresolved conflict is reported on every run: %s", rep)
		assert.Zero(t, e.a.calls().writes()+e.b.calls().writes())
	}
	require.Equal(t, []string{"phone"}, links(t, e.store, "people")[0].Conflicts)

	// Editing one side settles the conflict in favour of that edit.
	edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-C"})
	rep := e.settled()
	assert.Zero(t, rep.CountReason(keysync.ReasonConflict))
	assert.Equal(t, view(e.a), view(e.b))
	assert.Equal(t, []string{"dana@example.com|Dana|Scully|555-C"}, view(e.a))
	assert.Empty(t, links(t, e.store, "people")[0].Conflicts)
}

// noDelete hides the Deleter of a memory connector.
type noDelete struct{ keysync.Connector }

func (n noDelete) RecordID(item keysync.Item) string {
	return n.Connector.(keysync.Identifier).RecordID(item)
}

func (n noDelete) ModifiedAt(item keysync.Item) (time.Time, bool) {
	return n.Connector.(keysync.Identifier).ModifiedAt(item)
}

func TestTwoWay_StatefulDeletes(t *testing.T) {
	t.Parallel()
	dana, fox := "dana@example.com", "fox@example.com"
	tests := []struct {
		name    string
		policy  keysync.DeletePolicy
		act     func(t *testing.T, e *env) // between the first and the second run
		wantA   []string                   // emails left on each side after the second run
		wantB   []string
		wantOut map[keysync.Outcome]int
		wantRsn map[keysync.Reason]int
		guard   bool // whether the plan reports the delete guard
	}{
		{
			name:    "deletes are ignored by default and never undone",
			act:     func(t *testing.T, e *env) { remove(t, e.a, dana) },
			wantA:   []string{fox},
			wantB:   []string{dana, fox},
			wantOut: map[keysync.Outcome]int{keysync.Unchanged: 3},
		},
		{
			name:    "propagate deletes the counterpart",
			policy:  keysync.DeletePolicy{InA: keysync.DeletePropagate},
			act:     func(t *testing.T, e *env) { remove(t, e.a, dana) },
			wantA:   []string{fox},
			wantB:   []string{fox},
			wantOut: map[keysync.Outcome]int{keysync.Deleted: 1},
		},
		{
			name:   "propagate is per side",
			policy: keysync.DeletePolicy{InB: keysync.DeletePropagate},
			act: func(t *testing.T, e *env) {
				remove(t, e.a, dana)
				remove(t, e.b, fox)
			},
			wantA:   []string{},
			wantB:   []string{dana},
			wantOut: map[keysync.Outcome]int{keysync.Deleted: 1},
		},
		{
			name:    "quarantine holds the deletion",
			policy:  keysync.DeletePolicy{InA: keysync.DeleteQuarantine},
			act:     func(t *testing.T, e *env) { remove(t, e.a, dana) },
			wantA:   []string{fox},
			wantB:   []string{dana, fox},
			wantOut: map[keysync.Outcome]int{keysync.Held: 1},
		},
		{
			name: "quarantine applies a confirmed deletion",
			policy: keysync.DeletePolicy{InA: keysync.DeleteQuarantine,
				Confirm: func(d keysync.HeldDelete) bool { return d.Record["email"] == dana }},
			act:     func(t *testing.T, e *env) { remove(t, e.a, dana) },
			wantA:   []string{fox},
			wantB:   []string{fox},
			wantOut: map[keysync.Outcome]int{keysync.Deleted: 1},
		},
		{
			name:   "the count guard withholds every deletion",
			policy: keysync.DeletePolicy{InA: keysync.DeletePropagate, Max: 1},
			act: func(t *testing.T, e *env) {
				remove(t, e.a, dana)
				remove(t, e.a, fox)
			},
			wantA:   []string{},
			wantB:   []string{dana, fox},
			wantRsn: map[keysync.Reason]int{keysync.ReasonDeleteGuard: 2},
			guard:   true,
		},
		{
			name:   "only records the sync created are deleted",
			policy: keysync.DeletePolicy{InA: keysync.DeletePropagate, InB: keysync.DeletePropagate, OnlyCreated: true},
			act: func(t *testing.T, e *env) {
				remove(t, e.a, dana) // created in B by the sync: propagated
				remove(t, e.a, fox)  // B's own record: kept
			},
			wantA:   []string{},
			wantB:   []string{fox},
			wantOut: map[keysync.Outcome]int{keysync.Deleted: 1},
			wantRsn: map[keysync.Reason]int{keysync.ReasonNotCreated: 1},
		},
		{
			name:   "records gone on both sides are forgotten",
			policy: keysync.DeletePolicy{InA: keysync.DeletePropagate, InB: keysync.DeletePropagate},
			act: func(t *testing.T, e *env) {
				remove(t, e.a, dana)
				remove(t, e.b, dana)
			},
			wantA: []string{fox},
			wantB: []string{fox},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Deletes = tt.policy
			e.a.Put(person(dana, "Dana", "", ""))
			e.b.Put(person(fox, "Fox", "", ""))
			e.settled()

			tt.act(t, e)
			p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.guard, p.DeleteGuard != "", "delete guard: %q", p.DeleteGuard)
			rep := e.run()
			for o, n := range tt.wantOut {
				assert.Equal(t, n, rep.Count(o), "outcome %s in %s", o, rep)
			}
			for r, n := range tt.wantRsn {
				assert.Equal(t, n, rep.CountReason(r), "reason %s in %s", r, rep)
			}
			assert.Equal(t, tt.wantA, emails(e.a))
			assert.Equal(t, tt.wantB, emails(e.b))
			e.settled()
			assert.Equal(t, tt.wantA, emails(e.a), "later runs change nothing")
			assert.Equal(t, tt.wantB, emails(e.b))
		})
	}
}

// emails returns the sorted emails of the records of c.
func emails(c *counting) []string {
	out := []string{}
	for _, it := range c.Items() {
		s, _ := it["email"].(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestTwoWay_StatefulQuarantineRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeleteQuarantine}
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.settled()

	gone := find(t, e.a, "dana@example.com")
	remove(t, e.a, "dana@example.com")
	rep := e.run()
	require.Equal(t, 1, rep.Count(keysync.Held), rep.String())
	rep = e.run()
	require.Equal(t, 1, rep.Count(keysync.Held), "a held deletion is reported on every run")
	l := links(t, e.store, "people")
	require.Len(t, l, 1)
	assert.Equal(t, keysync.SideA, l[0].Missing)
	assert.False(t, l[0].Quarantined.IsZero())

	// The record comes back (restored from the trash): the hold is released
	// and its edits propagate again.
	delete(gone, memory.UpdatedField)
	gone["phone"] = "555-7"
	e.a.Put(gone)
	e.settled()
	l = links(t, e.store, "people")
	require.Len(t, l, 1)
	assert.Empty(t, l[0].Missing)
	assert.True(t, l[0].Quarantined.IsZero())
	assert.Equal(t, []string{"dana@example.com|Dana||555-7"}, view(e.b))
}

func TestTwoWay_StatefulRelink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.settled()

	// Deleted and entered again in A: the new record takes the old one's
	// place instead of creating a second contact in B.
	remove(t, e.a, "dana@example.com")
	e.a.Put(person("dana@example.com", "Dana", "", "555-8"))
	e.settled()
	assert.Equal(t, []string{"dana@example.com|Dana||555-8"}, view(e.b))
	l := links(t, e.store, "people")
	require.Len(t, l, 1)
	assert.Equal(t, find(t, e.a, "dana@example.com")["id"], l[0].A)
}

func TestTwoWay_StatefulDeleteShareGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate}
	for i := range 100 {
		e.a.Put(person(strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i)+"@example.com", "", "", ""))
	}
	e.settled()
	for _, it := range e.a.Items()[:11] {
		remove(t, e.a, it["email"].(string))
	}
	rep := e.run()
	assert.Equal(t, 11, rep.CountReason(keysync.ReasonDeleteGuard), "11 of 100 is over the default 10%%")
	assert.Len(t, e.b.Items(), 100)

	e.opts.Deletes.MaxShare = 0.2
	rep = e.run()
	assert.Equal(t, 11, rep.Count(keysync.Deleted))
	assert.Len(t, e.b.Items(), 89)
}

func itoa(i int) string { return strconvItoa(i) }

func strconvItoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestPlanTwoWay_ApplyPlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InB: keysync.DeletePropagate}
	e.a.Put(person("dana@example.com", "Dana", "Scully", "555-1"),
		person("fox@example.com", "Fox", "Mulder", ""))
	e.settled()
	edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-2"})
	e.b.Put(person("walter@example.com", "Walter", "Skinner", ""))
	remove(t, e.b, "fox@example.com")
	e.a.calls()
	e.b.calls()

	p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
	require.NoError(t, err)
	ca, cb := e.a.calls(), e.b.calls()
	assert.Zero(t, ca.writes()+cb.writes(), "planning writes nothing")
	assert.Equal(t, 1, p.Count(keysync.PlanCreate))
	assert.Equal(t, 1, p.Count(keysync.PlanUpdate))
	assert.Equal(t, 1, p.Count(keysync.PlanDelete))
	for _, op := range p.Ops {
		if op.Kind == keysync.PlanUpdate {
			assert.Equal(t, keysync.SideB, op.Side)
			assert.Equal(t, []keysync.FieldChange{{Field: "phone", Before: "555-1", After: "555-2",
				Why: "changed in a", OtherBase: strp("555-2")}}, op.Changes)
		}
	}
	dry := p.Report()
	assert.True(t, dry.DryRun)
	assert.Equal(t, 1, dry.Count(keysync.Deleted))

	// The plan survives a round trip through JSON and applies exactly.
	js, err := json.Marshal(p)
	require.NoError(t, err)
	var stored keysync.Plan
	require.NoError(t, json.Unmarshal(js, &stored))
	rep, err := keysync.ApplyPlan(t.Context(), e.a, e.b, &stored, e.opts)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(keysync.Created))
	assert.Equal(t, 1, rep.Count(keysync.Updated))
	assert.Equal(t, 1, rep.Count(keysync.Deleted))
	ca, cb = e.a.calls(), e.b.calls()
	assert.Equal(t, callCount{Creates: 1, WriteCalls: 1, Deletes: 1, DeleteCalls: 1}, ca,
		"only the planned writes, no listing")
	assert.Equal(t, callCount{Updates: 1, WriteCalls: 1}, cb)
	assert.Equal(t, view(e.a), view(e.b))

	_, err = keysync.ApplyPlan(t.Context(), e.a, e.b, &stored, e.opts)
	require.ErrorIs(t, err, keysync.ErrStalePlan, "a plan applies once")
	e.settled()
}

func TestApplyPlan_Stale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
	require.NoError(t, err)
	e.run() // another run commits first

	e.a.calls()
	e.b.calls()
	rep, err := keysync.ApplyPlan(t.Context(), e.a, e.b, p, e.opts)
	require.ErrorIs(t, err, keysync.ErrStalePlan)
	assert.Empty(t, rep.Entries)
	assert.Zero(t, e.a.calls().writes()+e.b.calls().writes())

	other := e.opts
	other.Pair = "other"
	_, err = keysync.ApplyPlan(t.Context(), e.a, e.b, p, other)
	require.ErrorIs(t, err, keysync.ErrInvalidOptions)
}

func TestTwoWay_StatefulDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.opts.DryRun = true
	rep := e.run()
	assert.True(t, rep.DryRun)
	require.Equal(t, 1, rep.Count(keysync.Created))
	assert.True(t, rep.Entries[0].Planned)
	assert.Empty(t, e.b.Items())
	assert.Empty(t, links(t, e.store, "people"))
}

func TestTwoWay_StatefulLocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.store.Lock(t.Context(), "people"))
	_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
	require.ErrorIs(t, err, keysync.ErrLocked)
	_, err = keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
	require.ErrorIs(t, err, keysync.ErrLocked)
	require.NoError(t, e.store.Unlock(t.Context(), "people"))
	e.run()
	require.NoError(t, e.store.Lock(t.Context(), "people"), "a run releases its lock")
}

func TestTwoWay_StatefulOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(o *keysync.TwoWayOptions, a, b *keysync.Connector)
		field  string
	}{
		{"a pair name is required", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) { o.Pair = "" }, "Pair"},
		{"fields of A are required", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Fields.A.Get = nil
		}, "Fields.A"},
		{"fields of B are required", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Fields.B.Set = nil
		}, "Fields.B"},
		{"a key is required", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) { o.AKey = "" }, "AKey"},
		{"custom conflicts need Resolve", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Conflicts.Mode = keysync.ConflictCustom
		}, "Conflicts.Resolve"},
		{"unknown conflict mode", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Conflicts.Mode = "coin-flip"
		}, "Conflicts.Mode"},
		{"unknown delete mode", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Deletes.InB = "shred"
		}, "Deletes.InB"},
		{"negative delete maximum", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Deletes.Max = -1
		}, "Deletes.Max"},
		{"negative FullEvery", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.Incremental.FullEvery = -1
		}, "Incremental.FullEvery"},
		{"propagating deletes needs a Deleter", func(o *keysync.TwoWayOptions, _, b *keysync.Connector) {
			o.Deletes.InA = keysync.DeletePropagate
			*b = noDelete{*b}
		}, "Deletes.InA"},
		{"connectors must be Identifiers", func(_ *keysync.TwoWayOptions, a, _ *keysync.Connector) {
			*a = struct{ keysync.Connector }{*a}
		}, "a"},
		{"the sides need different names", func(o *keysync.TwoWayOptions, _, _ *keysync.Connector) {
			o.AName, o.BName = "crm", "crm"
		}, "BName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var a, b keysync.Connector = e.a, e.b
			tt.change(&e.opts, &a, &b)
			_, err := keysync.TwoWay(t.Context(), a, b, e.opts)
			var oe *keysync.OptionsError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.field, oe.Field)
			assert.Zero(t, e.a.calls().Lists+e.b.calls().Lists, "nothing was listed")
		})
	}
}

func strp(s string) *string { return &s }

// lossy applies writes but, while lose is set, loses the answer, as a
// connection dropped after the server committed would.
type lossy struct {
	*counting
	lose bool
}

func (l *lossy) Write(ctx context.Context, batch []keysync.Write) ([]keysync.WriteResult, error) {
	res, err := l.counting.Write(ctx, batch)
	if l.lose && err == nil {
		return nil, errLost
	}
	return res, err
}

var errLost = &lostError{}

type lostError struct{}

func (*lostError) Error() string { return "connection lost after the request was sent" }

func TestTwoWay_StatefulWriteFailures(t *testing.T) {
	t.Parallel()
	t.Run("a refused update is retried by the next run", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.a.Put(person("dana@example.com", "Dana", "", ""))
		e.settled()
		edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-1"})
		e.b.FailWrite(1, keysync.ErrInvalid)
		rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
		wf := requireWriteFailures(t, err, 1, 1)
		assert.ErrorIs(t, wf.First, keysync.ErrInvalid)
		assert.NoError(t, wf.Stopped, "a refused record does not stop the run")
		require.Equal(t, 1, rep.Count(keysync.Failed), rep.String())
		assert.ErrorIs(t, rep.Problems()[0].Err, keysync.ErrInvalid)
		e.settled()
		assert.Equal(t, view(e.a), view(e.b))
	})
	t.Run("a refused create leaves no intent behind", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.a.Put(person("dana@example.com", "Dana", "", ""))
		e.b.FailWrite(1, keysync.ErrInvalid)
		rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
		requireWriteFailures(t, err, 1, 1)
		assert.ErrorIs(t, err, keysync.ErrInvalid)
		require.Equal(t, 1, rep.Count(keysync.Failed))
		assert.Empty(t, links(t, e.store, "people"))
		e.settled()
		assert.Equal(t, view(e.a), view(e.b))
	})
	t.Run("a create whose answer was lost is linked, not repeated", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.a.Put(person("dana@example.com", "Dana", "", ""), person("fox@example.com", "Fox", "", ""))
		lb := &lossy{counting: e.b, lose: true}
		rep, err := keysync.TwoWay(t.Context(), e.a, lb, e.opts)
		requireWriteFailures(t, err, 2, 2)
		assert.ErrorIs(t, err, errLost)
		require.Equal(t, 2, rep.CountReason(keysync.ReasonBatchError), rep.String())
		l := links(t, e.store, "people")
		require.Len(t, l, 2)
		assert.Equal(t, keysync.SideB, l[0].Pending, "the intents stay")
		assert.Len(t, e.b.Items(), 2, "the creates happened")

		lb.lose = false
		rep, err = keysync.TwoWay(t.Context(), e.a, lb, e.opts)
		require.NoError(t, err)
		assert.Zero(t, rep.Count(keysync.Created), rep.String())
		assert.Len(t, e.b.Items(), 2, "nothing was created twice")
		for _, l := range links(t, e.store, "people") {
			assert.Empty(t, l.Pending)
			assert.NotEmpty(t, l.B)
		}
		e.settled()
	})
	t.Run("a retried create carries the record's new key", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.a.Put(person("dana@example.com", "Dana", "", ""))
		ctx, cancel := context.WithCancel(t.Context())
		k := &killer{budget: 0, cancel: cancel}
		_, err := keysync.TwoWay(ctx, e.a, killable{e.b, k}, e.opts)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, keysync.SideB, links(t, e.store, "people")[0].Pending)

		edit(t, e.a, "dana@example.com", map[string]string{"email": "dana@fbi.gov"})
		lb := &lossy{counting: e.b, lose: true}
		_, err = keysync.TwoWay(t.Context(), e.a, lb, e.opts)
		requireWriteFailures(t, err, 1, 1)
		l := links(t, e.store, "people")
		require.Len(t, l, 1)
		assert.Equal(t, "dana@fbi.gov", l[0].Key, "the intent holds the key the create used")

		e.settled()
		assert.Equal(t, []string{"dana@fbi.gov|Dana||"}, view(e.b), "created once")
	})
	t.Run("writes whose state was not committed are not repeated", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		ms := e.store.(*memory.StateStore)
		e.a.Put(person("dana@example.com", "Dana", "", ""))
		e.b.Put(person("fox@example.com", "Fox", "", ""))
		e.settled()
		edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-1"})
		e.a.Put(person("walter@example.com", "Walter", "", ""))
		ms.FailCommitsAfter(1) // the intents, then nothing
		_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
		require.ErrorIs(t, err, memory.ErrCommitInjected)
		ms.FailCommitsAfter(-1)
		e.settled()
		assert.Equal(t, view(e.a), view(e.b))
		assert.Len(t, e.b.Items(), 3)
	})
	t.Run("an expired token stops the run", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for _, m := range []string{"a", "b", "c", "d", "e"} {
			e.a.Put(person(m+"@example.com", m, "", ""))
		}
		e.b.FailAfter(2, keysync.ErrUnauthorized)
		rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
		wf := requireWriteFailures(t, err, 3, 5)
		require.ErrorIs(t, err, keysync.ErrUnauthorized)
		assert.ErrorIs(t, wf.Stopped, keysync.ErrUnauthorized)
		assert.Equal(t, 2, rep.Count(keysync.Created))
		assert.Equal(t, 2, rep.CountReason(keysync.ReasonNotAttempted), rep.String())
		e.b.ClearFaults()
		e.settled()
		assert.Len(t, e.b.Items(), 5)
	})
}

// requireWriteFailures checks that err is the error of a stateful run in
// which failed of writes writes (creates, updates and deletes) failed or
// were not attempted, and returns it.
func requireWriteFailures(t testing.TB, err error, failed, writes int) *keysync.WriteFailuresError {
	t.Helper()
	require.ErrorIs(t, err, keysync.ErrWritesFailed, "failed writes fail the run")
	var wf *keysync.WriteFailuresError
	require.ErrorAs(t, err, &wf)
	assert.Equal(t, failed, wf.Failed, "failed writes")
	assert.Equal(t, writes, wf.Writes, "writes due")
	assert.Error(t, wf.First, "the first failure is kept")
	return wf
}

func TestTwoWay_StatefulFailedDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate}
	e.a.Put(person("dana@example.com", "Dana", "", ""),
		person("fox@example.com", "Fox", "", ""))
	e.settled()
	remove(t, e.a, "dana@example.com")
	edit(t, e.a, "fox@example.com", map[string]string{"phone": "555-1"})
	e.b.FailWrite(2, keysync.ErrConflict) // the update is first, then the delete

	rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)

	wf := requireWriteFailures(t, err, 1, 2)
	assert.ErrorIs(t, err, keysync.ErrConflict)
	assert.NoError(t, wf.Stopped)
	assert.Equal(t, 1, rep.Count(keysync.Updated), rep.String())
	assert.Equal(t, 1, rep.CountReason(keysync.ReasonWriteError), rep.String())
	assert.Zero(t, rep.Count(keysync.Deleted))
	assert.Len(t, links(t, e.store, "people"), 2, "the link of the failed delete stays")

	e.settled()
	assert.Equal(t, []string{"fox@example.com"}, emails(e.b), "the next run deletes it")
}

func TestTwoWay_StatefulStopsWhenBatchesKeepFailing(t *testing.T) {
	t.Parallel()
	errDown := errors.New("dial tcp: connection refused")
	tests := []struct {
		name          string
		fault         func(b *counting)
		wantCalls     int
		wantCreated   int
		wantStop      bool
		wantBatchErrs int
	}{
		{
			name:      "three failed batches in a row stop the run",
			fault:     func(b *counting) { b.FailAfter(0, errDown) },
			wantCalls: 3, wantBatchErrs: 9, wantStop: true,
		},
		{
			name: "two failed batches in a row do not",
			fault: func(b *counting) {
				b.FailBatch(1, errDown)
				b.FailBatch(2, errDown)
			},
			wantCalls: 4, wantCreated: 6, wantBatchErrs: 6,
		},
		{
			name: "records refused one by one do not",
			fault: func(b *counting) {
				for n := 1; n <= 12; n++ {
					b.FailWrite(n, fmt.Errorf("no name: %w", keysync.ErrInvalid))
				}
			},
			wantCalls: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t) // batches of 3
			for i := range 12 {
				e.a.Put(person(fmt.Sprintf("p%d@example.com", i), "P", "", ""))
			}
			tt.fault(e.b)

			rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)

			wf := requireWriteFailures(t, err, 12-tt.wantCreated, 12)
			assert.Equal(t, tt.wantCalls, e.b.calls().WriteCalls)
			assert.Equal(t, tt.wantCreated, rep.Count(keysync.Created), rep.String())
			assert.Equal(t, tt.wantBatchErrs, rep.CountReason(keysync.ReasonBatchError))
			if !tt.wantStop {
				assert.NoError(t, wf.Stopped)
				assert.Zero(t, rep.CountReason(keysync.ReasonNotAttempted))
				return
			}
			assert.ErrorIs(t, wf.Stopped, errDown, "the error names the cause")
			assert.Contains(t, err.Error(), "3 batches in a row failed")
			assert.Equal(t, 3, rep.CountReason(keysync.ReasonNotAttempted), rep.String())
			for _, en := range rep.Entries {
				assert.False(t, en.Planned, "every entry settled")
			}
		})
	}
}

func TestTwoWay_StatefulReportsBothDirections(t *testing.T) {
	t.Parallel()
	const want = "pd→hs: created 1, updated 0, unchanged 0, skipped 0, failed 0; " +
		"hs→pd: created 0, updated 0, unchanged 0, skipped 0, failed 0"
	const wantDry = "pd→hs: would create 1, would update 0, unchanged 0, skipped 0, failed 0; " +
		"hs→pd: would create 0, would update 0, unchanged 0, skipped 0, failed 0"
	dirs := []string{"pd→hs", "hs→pd"}
	newNamed := func(t *testing.T) *env {
		e := newEnv(t)
		e.opts.AName, e.opts.BName = "pd", "hs"
		e.a.Put(person("dana@example.com", "Dana", "", "")) // only a→b has entries
		return e
	}
	t.Run("TwoWay", func(t *testing.T) {
		t.Parallel()
		rep := newNamed(t).run()
		assert.Equal(t, dirs, rep.Directions())
		assert.Equal(t, want, rep.String())
	})
	t.Run("a dry run", func(t *testing.T) {
		t.Parallel()
		e := newNamed(t)
		e.opts.DryRun = true
		rep := e.run()
		assert.Equal(t, dirs, rep.Directions())
		assert.Equal(t, wantDry, rep.String())
	})
	t.Run("a run that fails before planning", func(t *testing.T) {
		t.Parallel()
		e := newNamed(t)
		e.a.FailList(0, nil)
		rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
		require.ErrorIs(t, err, memory.ErrInjected)
		assert.Equal(t, dirs, rep.Directions())
	})
	t.Run("PlanTwoWay and ApplyPlan", func(t *testing.T) {
		t.Parallel()
		e := newNamed(t)
		p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
		require.NoError(t, err)
		assert.Equal(t, dirs, p.Report().Directions())
		assert.Equal(t, wantDry, p.Report().String())

		js, err := json.Marshal(p)
		require.NoError(t, err)
		var stored keysync.Plan
		require.NoError(t, json.Unmarshal(js, &stored))
		rep, err := keysync.ApplyPlan(t.Context(), e.a, e.b, &stored, e.opts)
		require.NoError(t, err)
		assert.Equal(t, dirs, rep.Directions())
		assert.Equal(t, want, rep.String())
	})
}

// hidden exposes a memory connector without KeySearcher.
type hidden struct{ c *counting }

func (h hidden) List(ctx context.Context) iter.Seq2[keysync.Item, error] { return h.c.List(ctx) }
func (h hidden) ListModifiedSince(ctx context.Context, t time.Time) iter.Seq2[keysync.Item, error] {
	return h.c.ListModifiedSince(ctx, t)
}
func (h hidden) MaxBatch() int { return h.c.MaxBatch() }
func (h hidden) Write(ctx context.Context, b []keysync.Write) ([]keysync.WriteResult, error) {
	return h.c.Write(ctx, b)
}
func (h hidden) Delete(ctx context.Context, b []keysync.Item) ([]keysync.WriteResult, error) {
	return h.c.Delete(ctx, b)
}
func (h hidden) RecordID(it keysync.Item) string              { return h.c.RecordID(it) }
func (h hidden) ModifiedAt(it keysync.Item) (time.Time, bool) { return h.c.ModifiedAt(it) }

func TestTwoWay_StatefulIncremental(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Incremental = keysync.IncrementalOptions{FullEvery: 4, Overlap: time.Nanosecond}
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate}
	e.a.Put(person("dana@example.com", "Dana", "", ""), person("fox@example.com", "Fox", "", ""))
	e.b.Put(person("walter@example.com", "Walter", "", ""))

	e.run() // run 1: full
	ca, cb := e.a.calls(), e.b.calls()
	assert.Equal(t, 1, ca.Lists)
	assert.Equal(t, 1, cb.Lists)
	e.run() // run 2: lists what run 1 wrote, finds it in step
	ca, cb = e.a.calls(), e.b.calls()
	assert.Equal(t, callCount{IncLists: 1, Listed: 1}, ca)
	assert.Equal(t, callCount{IncLists: 1, Listed: 2}, cb)

	edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-1"})
	e.a.Put(person("scully@example.com", "Scully", "", ""))
	remove(t, e.a, "fox@example.com")
	rep := e.run() // run 3: incremental
	ca, cb = e.a.calls(), e.b.calls()
	assert.Equal(t, callCount{IncLists: 1, Listed: 2}, ca, "only the changed records are listed")
	assert.Equal(t, callCount{IncLists: 1, WriteCalls: 2, Creates: 1, Updates: 1, Searches: 2}, cb,
		"the unlisted record to update and the new key are looked up: %s", rep)
	assert.Contains(t, view(e.b), "dana@example.com|Dana||555-1")
	assert.Contains(t, view(e.b), "scully@example.com|Scully||")
	assert.Contains(t, view(e.b), "fox@example.com|Fox||", "deletions wait for a full listing")

	e.run() // run 4: incremental, lists run 3's writes
	e.run() // run 5: full, sees the deletion
	ca, cb = e.a.calls(), e.b.calls()
	assert.Equal(t, 1, ca.Lists)
	assert.Equal(t, 1, cb.Lists)
	assert.Equal(t, 1, cb.Deletes)
	assert.NotContains(t, emails(e.b), "fox@example.com")
	assert.Equal(t, view(e.a), view(e.b))

	t.Run("without a KeySearcher a change waits for the full run", func(t *testing.T) {
		edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-2"})
		hb := hidden{e.b}
		for range 3 { // runs 6 to 8: incremental
			rep, err := keysync.TwoWay(t.Context(), e.a, hb, e.opts)
			require.NoError(t, err)
			require.Equal(t, 1, rep.CountReason(keysync.ReasonDeferred), rep.String())
		}
		assert.Contains(t, view(e.b), "dana@example.com|Dana||555-1")
		_, err := keysync.TwoWay(t.Context(), e.a, hb, e.opts) // run 9: full
		require.NoError(t, err)
		assert.Contains(t, view(e.b), "dana@example.com|Dana||555-2")
	})
}
