package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
)

// TestTwoWay_StatefulResolvedValueSurvivesFailedWrite resolves a conflict
// to a new value whose write to B fails: the next run must write the
// resolved value to B, not A's old value over it.
func TestTwoWay_StatefulResolvedValueSurvivesFailedWrite(t *testing.T) {
	t.Parallel()
	for _, failing := range []keysync.Side{keysync.SideA, keysync.SideB} {
		t.Run("write to "+string(failing)+" fails", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			calls := 0
			e.opts.Conflicts = keysync.ConflictPolicy{Mode: keysync.ConflictCustom,
				Resolve: func(c keysync.Conflict) (string, bool) {
					calls++
					return "555-MERGED", true
				}}
			e.a.Put(person("dana@example.com", "Dana", "", "555-0"))
			e.settled()
			edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-A"})
			edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-B"})
			e.side(failing).FailWrite(1, keysync.ErrInvalid)
			_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
			require.ErrorIs(t, err, keysync.ErrWritesFailed)
			require.Equal(t, 1, calls)

			e.settled()
			assert.Equal(t, "555-MERGED", find(t, e.a, "dana@example.com")["phone"])
			assert.Equal(t, "555-MERGED", find(t, e.b, "dana@example.com")["phone"])
			assert.Equal(t, 1, calls, "the resolution is not asked for again")
			for _, l := range links(t, e.store, "people") {
				assert.Empty(t, l.ResolvedA)
				assert.Empty(t, l.ResolvedB)
			}
		})
	}
}

// TestTwoWay_StatefulResolvedValueYieldsToNewerEdit edits the side whose
// resolved write failed: that edit is newer than the resolution and wins.
func TestTwoWay_StatefulResolvedValueYieldsToNewerEdit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Conflicts = keysync.ConflictPolicy{Mode: keysync.ConflictCustom,
		Resolve: func(c keysync.Conflict) (string, bool) { return "555-MERGED", true }}
	e.a.Put(person("dana@example.com", "Dana", "", "555-0"))
	e.settled()
	edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-A"})
	edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-B"})
	p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
	require.NoError(t, err)
	require.Len(t, p.Conflicts, 1)
	assert.Equal(t, keysync.KeptValue, p.Conflicts[0].Kept)
	e.b.FailWrite(1, keysync.ErrInvalid)
	_, err = keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
	require.ErrorIs(t, err, keysync.ErrWritesFailed)
	edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-NEW"})

	e.settled()
	assert.Equal(t, "555-NEW", find(t, e.a, "dana@example.com")["phone"])
	assert.Equal(t, "555-NEW", find(t, e.b, "dana@example.com")["phone"])
}

// deletePoliciesInA returns the delete policies for A under which a delete
// is carried out: propagated at once, or held in quarantine and confirmed.
func deletePoliciesInA() map[string]keysync.DeletePolicy {
	return map[string]keysync.DeletePolicy{
		"propagate": {InA: keysync.DeletePropagate, MaxShare: -1},
		"quarantine confirmed": {InA: keysync.DeleteQuarantine, MaxShare: -1,
			Confirm: func(keysync.HeldDelete) bool { return true }},
	}
}

// TestTwoWay_StatefulEditBeatsDelete deletes a record on one side while its
// counterpart was edited: the edited record is kept and created again,
// whatever the delete policy.
func TestTwoWay_StatefulEditBeatsDelete(t *testing.T) {
	t.Parallel()
	for name, policy := range deletePoliciesInA() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Deletes = policy
			e.a.Put(person("dana@example.com", "Dana", "", ""))
			e.a.Put(person("eve@example.com", "Eve", "", ""))
			e.settled()
			edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-important"})
			remove(t, e.a, "dana@example.com")
			remove(t, e.a, "eve@example.com")

			p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)
			var reasons []keysync.Reason
			for _, n := range p.Notes {
				reasons = append(reasons, n.Reason)
			}
			assert.Contains(t, reasons, keysync.ReasonEditedDeleted)
			assert.Equal(t, 1, p.Count(keysync.PlanDelete), "only the unedited record goes")

			e.settled()
			assert.Equal(t, "555-important", find(t, e.b, "dana@example.com")["phone"])
			assert.Equal(t, "555-important", find(t, e.a, "dana@example.com")["phone"])
			assert.Equal(t, []string{"dana@example.com"}, emails(e.b))
			assert.Len(t, links(t, e.store, "people"), 1)
		})
	}
}

// TestTwoWay_StatefulOnlyCreatedAfterRelink relinks a record the sync
// created to one the user created with its key: OnlyCreated must no longer
// delete it.
func TestTwoWay_StatefulOnlyCreatedAfterRelink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate,
		InB: keysync.DeletePropagate, OnlyCreated: true, MaxShare: -1}
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.settled() // the B record is created by the sync
	remove(t, e.b, "dana@example.com")
	e.b.Put(person("dana@example.com", "Dana-user", "", ""))
	e.settled()
	for _, l := range links(t, e.store, "people") {
		assert.Empty(t, l.Origin, "a relinked pair was matched, not created")
	}

	remove(t, e.a, "dana@example.com")
	e.settled()
	assert.Equal(t, []string{"dana@example.com"}, emails(e.b), "the user's record is kept")
}

// rewriter formats phones on every write, as some systems do.
type rewriter struct {
	*counting
	lose bool // report the writes as lost although they were made
}

func (r *rewriter) Write(ctx context.Context, batch []keysync.Write) (
	[]keysync.WriteResult, error,
) {
	for i := range batch {
		if p, ok := batch[i].Item["phone"].(string); ok {
			it := maps.Clone(batch[i].Item)
			it["phone"] = "+1 " + p
			batch[i].Item = it
		}
	}
	res, err := r.counting.Write(ctx, batch)
	if r.lose && err == nil {
		return nil, &lostError{}
	}
	return res, err
}

// TestTwoWay_StatefulPendingCreateRewritten loses the result of a create
// whose system rewrote a value: the next run finds the record and must not
// take the rewritten value for an edit to echo back.
func TestTwoWay_StatefulPendingCreateRewritten(t *testing.T) {
	t.Parallel()
	for _, lose := range []bool{false, true} {
		t.Run(fmt.Sprint("lost=", lose), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.a.Put(person("dana@example.com", "Dana", "", "555"))
			rb := &rewriter{counting: e.b, lose: lose}
			_, err := keysync.TwoWay(t.Context(), e.a, rb, e.opts)
			if lose {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			rb.lose = false
			e.a.calls()
			e.b.calls()
			_, err = keysync.TwoWay(t.Context(), e.a, rb, e.opts)
			require.NoError(t, err)
			assert.Zero(t, e.a.calls().writes(), "nothing echoes back to A")
			assert.Zero(t, e.b.calls().writes())
			assert.Equal(t, "555", find(t, e.a, "dana@example.com")["phone"])
			assert.Equal(t, "+1 555", find(t, e.b, "dana@example.com")["phone"])
		})
	}
}

// noModTime hides the modification times of a rewriter's records.
type noModTime struct{ *rewriter }

func (noModTime) ModifiedAt(keysync.Item) (time.Time, bool) { return time.Time{}, false }

// TestTwoWay_StatefulPendingCreateEdited loses the result of a create and
// edits the created record before the next run: that run finds the record
// and must sync the edit, not take it for the value the create sent.
func TestTwoWay_StatefulPendingCreateEdited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hide    bool // the target's modification times are unknown
		editA   bool // the source record is edited too
		wantA   string
		wantAny bool // a conflict is reported instead
	}{
		{name: "edited an hour later", wantA: "Danielle"},
		{name: "edited, modification times unknown", hide: true, wantA: "Danielle"},
		{name: "both records edited", editA: true, wantAny: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.a.Put(person("dana@example.com", "Dana", "", ""))
			rb := &rewriter{counting: e.b, lose: true}
			var b keysync.Connector = rb
			if tt.hide {
				b = noModTime{rb}
			}
			_, err := keysync.TwoWay(t.Context(), e.a, b, e.opts)
			require.Error(t, err)
			require.Len(t, e.b.Items(), 1, "the create was made")
			rb.lose = false
			e.clock.advance(time.Hour)
			edit(t, e.b, "dana@example.com", map[string]string{"first": "Danielle"})
			if tt.editA {
				edit(t, e.a, "dana@example.com", map[string]string{"first": "Dani"})
			}

			p, err := keysync.PlanTwoWay(t.Context(), e.a, b, e.opts)
			require.NoError(t, err)
			if tt.wantAny {
				require.Len(t, p.Conflicts, 1, "the edits of both sides surface")
				assert.Equal(t, "first", p.Conflicts[0].Field)
				assert.Equal(t, "Dani", p.Conflicts[0].A)
				assert.Equal(t, "Danielle", p.Conflicts[0].B)
				return
			}
			assert.Empty(t, p.Conflicts)
			_, err = keysync.TwoWay(t.Context(), e.a, b, e.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.wantA, find(t, e.a, "dana@example.com")["first"])
			assert.Equal(t, tt.wantA, find(t, e.b, "dana@example.com")["first"])
			e.a.calls()
			e.b.calls()
			_, err = keysync.TwoWay(t.Context(), e.a, b, e.opts)
			require.NoError(t, err)
			assert.Zero(t, e.a.calls().writes()+e.b.calls().writes(), "the next run writes nothing")
		})
	}
}

// TestTwoWay_StatefulOnlyOptionsNeedState sets options that only a
// stateful sync reads, without State: TwoWay must refuse them, naming the
// option, rather than ignore them.
func TestTwoWay_StatefulOnlyOptionsNeedState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field  string
		change func(o *keysync.TwoWayOptions)
	}{
		{"Pair", func(o *keysync.TwoWayOptions) {}},
		{"Fields", func(o *keysync.TwoWayOptions) { o.Pair = "" }},
		{"Deletes", func(o *keysync.TwoWayOptions) {
			o.Pair, o.Fields = "", keysync.FieldMapping{}
			o.Deletes.InA = keysync.DeletePropagate
		}},
		{"Conflicts", func(o *keysync.TwoWayOptions) {
			o.Pair, o.Fields = "", keysync.FieldMapping{}
			o.Conflicts.Mode = keysync.ConflictPreferA
		}},
		{"Incremental", func(o *keysync.TwoWayOptions) {
			o.Pair, o.Fields = "", keysync.FieldMapping{}
			o.Incremental.FullEvery = 3
		}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.State = nil
			e.opts.AToB = func(it keysync.Item) (keysync.Item, error) { return it, nil }
			e.opts.BToA = e.opts.AToB
			tt.change(&e.opts)
			_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
			var oe *keysync.OptionsError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.field, oe.Field)
		})
	}
}

// TestPlanTwoWay_NeedsState calls PlanTwoWay and ApplyPlan without State:
// an options error, not a panic.
func TestPlanTwoWay_NeedsState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.State = nil
	var oe *keysync.OptionsError
	_, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "State", oe.Field)
	_, err = keysync.ApplyPlan(t.Context(), e.a, e.b, &keysync.Plan{Pair: "people"}, e.opts)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "State", oe.Field)
}

// TestApplyPlan_RejectsBrokenPlans edits a decoded plan in ways that would
// make applying it fail half-way or panic: ApplyPlan must refuse it before
// writing anything.
func TestApplyPlan_RejectsBrokenPlans(t *testing.T) {
	t.Parallel()
	tests := map[string]func(p *keysync.Plan){
		"no state":     func(p *keysync.Plan) { p.Ops[0].State = nil },
		"no side":      func(p *keysync.Plan) { p.Ops[0].Side = "" },
		"unknown kind": func(p *keysync.Plan) { p.Ops[0].Kind = "merge" },
		"no record id": func(p *keysync.Plan) { p.Ops[0].RecordID = "" },
		"no target":    func(p *keysync.Plan) { p.Ops[0].Target = nil },
		"other names":  func(p *keysync.Plan) { p.AName = "crm" },
		"delete without a Deleter": func(p *keysync.Plan) {
			p.Ops[0].Kind = keysync.PlanDelete
			p.Ops[0].Side = keysync.SideA
		},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.a.Put(person("dana@example.com", "Dana", "", ""))
			e.settled()
			edit(t, e.a, "dana@example.com", map[string]string{"phone": "1"})
			p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)
			require.Len(t, p.Ops, 1)
			require.Equal(t, keysync.PlanUpdate, p.Ops[0].Kind)
			js, err := json.Marshal(p)
			require.NoError(t, err)
			var q keysync.Plan
			require.NoError(t, json.Unmarshal(js, &q))
			change(&q)
			a := noDelete{e.a}
			e.a.calls()
			e.b.calls()
			_, err = keysync.ApplyPlan(t.Context(), a, e.b, &q, e.opts)
			var oe *keysync.OptionsError
			require.ErrorAs(t, err, &oe)
			assert.Zero(t, e.a.calls().writes()+e.b.calls().writes())
		})
	}
}

// stuckUnlock is a state store that reports whether Unlock's context has
// a deadline, so that a store that cannot answer would not hang the run.
type stuckUnlock struct {
	keysync.StateStore
	deadline chan bool
}

func (s stuckUnlock) Unlock(ctx context.Context, pair string) error {
	_, ok := ctx.Deadline()
	s.deadline <- ok
	return s.StateStore.Unlock(ctx, pair)
}

// TestTwoWay_StatefulUnlockIsBounded checks that releasing the run lock
// has a deadline even when the run's context has none.
func TestTwoWay_StatefulUnlockIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := stuckUnlock{StateStore: e.store, deadline: make(chan bool, 1)}
	e.opts.State = s
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	_, err := keysync.TwoWay(context.WithoutCancel(t.Context()), e.a, e.b, e.opts)
	require.NoError(t, err)
	assert.True(t, <-s.deadline, "Unlock gets a context with a deadline")
}

// losingStore is a state store whose run lock is lost after a number of
// checks.
type losingStore struct {
	keysync.StateStore
	checks *int
	after  int
}

var errLockGone = errors.New("lock gone")

func (s losingStore) Held(ctx context.Context, pair string) error {
	*s.checks++
	if *s.checks > s.after {
		return errLockGone
	}
	return nil
}

// TestTwoWay_StatefulStopsWhenLockIsLost checks that a run whose store
// reports its run lock lost writes no further batch.
func TestTwoWay_StatefulStopsWhenLockIsLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 7 {
		e.a.Put(person(fmt.Sprintf("p%d@example.com", i), "P", "", ""))
	}
	checks := 0
	e.opts.State = losingStore{StateStore: e.store, checks: &checks, after: 1}
	rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
	require.ErrorIs(t, err, errLockGone)
	assert.Equal(t, 3, e.b.calls().Creates, "one batch of 3 before the lock was lost")
	assert.Equal(t, 4, rep.CountReason(keysync.ReasonNotAttempted))
}

// TestTwoWay_StatefulRetriedCreateMatchesByCurrentKey leaves a create
// unconfirmed, then changes the source's key to one a record of the other
// side holds: the retry must link the two, as for any new record, rather
// than create a duplicate.
func TestTwoWay_StatefulRetriedCreateMatchesByCurrentKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.b.FailBatch(1, keysync.ErrInvalid)
	_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
	require.Error(t, err)
	require.Equal(t, keysync.SideB, links(t, e.store, "people")[0].Pending, "the create is pending")

	edit(t, e.a, "dana@example.com", map[string]string{"email": "eve@example.com"})
	e.b.Put(person("eve@example.com", "Eve", "", ""))
	e.settled()
	assert.Equal(t, []string{"eve@example.com"}, emails(e.b), "no duplicate")
	ls := links(t, e.store, "people")
	require.Len(t, ls, 1)
	assert.Empty(t, ls[0].Pending)
	assert.Equal(t, "A:"+find(t, e.a, "eve@example.com")["id"].(string), ls[0].ID)
}

// TestTwoWay_StatefulDeleteShareGuardSmallPairs checks the share guard on
// few deletions: a run may always delete MinDeleteAllowance records, but
// not more than the share beyond that.
func TestTwoWay_StatefulDeleteShareGuardSmallPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		records, deleted, want int
	}{
		{records: 3, deleted: 2, want: 2},
		{records: 5, deleted: 3, want: 0},
		{records: 20, deleted: 3, want: 0},
		{records: 40, deleted: 4, want: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d of %d", tt.deleted, tt.records), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate}
			for i := range tt.records {
				e.a.Put(person(fmt.Sprintf("p%d@example.com", i), "P", "", ""))
			}
			e.settled()
			for i := range tt.deleted {
				remove(t, e.a, fmt.Sprintf("p%d@example.com", i))
			}
			rep := e.run()
			assert.Equal(t, tt.want, rep.Count(keysync.Deleted))
			if tt.want == 0 {
				assert.Equal(t, tt.deleted, rep.CountReason(keysync.ReasonDeleteGuard))
			}
		})
	}
}

func TestTwoWay_StatefulMaxShareOverOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeletePropagate, MaxShare: 10}
	_, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
	var oe *keysync.OptionsError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Deletes.MaxShare", oe.Field)
}

// TestTwoWay_StatefulIncrementalKeepsReporting checks that held deletions
// and unresolved conflicts stay on the report of incremental runs, which
// do not list the records.
func TestTwoWay_StatefulIncrementalKeepsReporting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.opts.Deletes = keysync.DeletePolicy{InA: keysync.DeleteQuarantine, MaxShare: -1}
	e.opts.Incremental = keysync.IncrementalOptions{FullEvery: 5, Overlap: 1}
	e.a.Put(person("dana@example.com", "Dana", "", ""))
	e.a.Put(person("eve@example.com", "Eve", "", "1"))
	e.settled()
	remove(t, e.a, "dana@example.com")
	edit(t, e.a, "eve@example.com", map[string]string{"phone": "2"})
	edit(t, e.b, "eve@example.com", map[string]string{"phone": "3"})
	e.opts.Incremental.Full = true
	e.run()
	e.opts.Incremental.Full = false
	for i := range 3 {
		p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
		require.NoError(t, err)
		require.False(t, p.Full, "run %d is incremental", i)
		var held, conflicts int
		for _, n := range p.Notes {
			switch {
			case n.Outcome == keysync.Held:
				held++
			case n.Reason == keysync.ReasonConflict:
				conflicts++
			}
		}
		assert.Equal(t, 1, held, "run %d: the held deletion is reported", i)
		assert.Equal(t, 2, conflicts, "run %d: the conflict is reported both ways", i)
		e.run()
	}
}

// TestTwoWay_StatefulEditedWithoutKeyBeatsDelete deletes a record on one
// side while its counterpart was edited and lost its key: the edited record
// cannot be created again, but it is kept, whatever the delete policy.
func TestTwoWay_StatefulEditedWithoutKeyBeatsDelete(t *testing.T) {
	t.Parallel()
	for name, policy := range deletePoliciesInA() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opts.Deletes = policy
			e.a.Put(person("dana@example.com", "Dana", "", ""))
			e.a.Put(person("eve@example.com", "Eve", "", ""))
			e.settled()
			edit(t, e.b, "dana@example.com", map[string]string{"email": "", "phone": "555-1"})
			remove(t, e.a, "dana@example.com")

			p, err := keysync.PlanTwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)
			assert.Zero(t, p.Count(keysync.PlanDelete), "the edited record is kept")
			var details []string
			for _, n := range p.Notes {
				if n.Reason == keysync.ReasonEditedDeleted {
					details = append(details, n.Detail)
				}
			}
			require.Len(t, details, 1)
			assert.Contains(t, details[0], "cannot be re-created in a without a key")

			e.settled()
			assert.Equal(t, []string{"", "eve@example.com"}, emails(e.b),
				"the edited record is kept")
			assert.Equal(t, []string{"eve@example.com"}, emails(e.a))
			var missing []keysync.Side
			for _, l := range links(t, e.store, "people") {
				missing = append(missing, l.Missing)
			}
			assert.ElementsMatch(t, []keysync.Side{"", keysync.SideA}, missing)
		})
	}
}

// TestTwoWay_StatefulConflictLogHasNoValues leaves a conflict unresolved:
// the report quotes both values, the Warn log names only the field.
func TestTwoWay_StatefulConflictLogHasNoValues(t *testing.T) {
	t.Parallel()
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprint("dry=", dry), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.a.Put(person("dana@example.com", "Dana", "", "555-0"))
			e.settled()
			edit(t, e.a, "dana@example.com", map[string]string{"phone": "555-SECRET-A"})
			edit(t, e.b, "dana@example.com", map[string]string{"phone": "555-SECRET-B"})
			var buf bytes.Buffer
			e.opts.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
			e.opts.DryRun = dry
			rep, err := keysync.TwoWay(t.Context(), e.a, e.b, e.opts)
			require.NoError(t, err)

			var details []string
			for _, en := range rep.Entries {
				if en.Reason == keysync.ReasonConflict {
					details = append(details, en.Detail)
				}
			}
			require.NotEmpty(t, details)
			assert.Contains(t, details[0], "555-SECRET-A", "the report keeps the values")
			logged := 0
			for line := range strings.Lines(buf.String()) {
				var rec map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &rec))
				if rec["reason"] == string(keysync.ReasonConflict) {
					logged++
					assert.Contains(t, rec["detail"], "phone")
				}
				assert.NotContains(t, line, "SECRET", "no field value is logged")
			}
			assert.Equal(t, 2, logged)
		})
	}
}
