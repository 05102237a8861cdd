package sync_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

// owSampleReport holds one entry of each kind in two directions.
func owSampleReport() sync.Report {
	return sync.Report{
		Started:  time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 12, 3, 10, 0, 2, 0, time.UTC),
		Entries: []sync.Entry{
			{Direction: "a→b", Index: 0, Key: "a@x.io", Outcome: sync.Created,
				Written: sync.Item{"email": "a@x.io"}, Result: sync.Item{"id": "1"}},
			{Direction: "a→b", Index: 1, Key: "b@x.io", Outcome: sync.Unchanged},
			{Direction: "a→b", Index: 2, Outcome: sync.Skipped, Reason: sync.ReasonMissingKey,
				Detail: `no value at "email"`},
			{Direction: "a→b", Index: 3, Key: "b@x.io", Outcome: sync.Skipped,
				Reason: sync.ReasonDuplicate, Detail: "key already held by a record #1"},
			{Direction: "a→b", Index: 4, Key: "c@x.io", Outcome: sync.Skipped,
				Reason: sync.ReasonAmbiguous, Detail: "matches 2 b records (#0, #1)"},
			{Direction: "b→a", Index: 0, Key: "d@x.io", Outcome: sync.Failed,
				Reason: sync.ReasonWriteError, Err: errors.New("sync: invalid record")},
			{Direction: "b→a", Index: 1, Key: "e@x.io", Outcome: sync.Updated},
		},
	}
}

func TestReport_String(t *testing.T) {
	t.Parallel()
	r := owSampleReport()
	tests := []struct {
		name   string
		report sync.Report
		want   string
	}{
		{
			name:   "one direction",
			report: r.Direction("a→b"),
			want:   "created 1, updated 0, unchanged 1, skipped 3 (missing key 1, duplicate 1, ambiguous 1), failed 0",
		},
		{
			name:   "two directions",
			report: r,
			want: "a→b: created 1, updated 0, unchanged 1, skipped 3 (missing key 1, duplicate 1, ambiguous 1), " +
				"failed 0; b→a: created 0, updated 1, unchanged 0, skipped 0, failed 1 (write error 1)",
		},
		{
			name:   "empty",
			report: sync.Report{},
			want:   "created 0, updated 0, unchanged 0, skipped 0, failed 0",
		},
		{
			name: "dry run",
			report: sync.Report{DryRun: true, Entries: []sync.Entry{
				{Outcome: sync.Created, Planned: true}, {Outcome: sync.Created, Planned: true},
				{Outcome: sync.Unchanged},
			}},
			want: "would create 2, would update 0, unchanged 1, skipped 0, failed 0",
		},
		{
			name: "planned writes left after a refusal",
			report: sync.Report{Entries: []sync.Entry{
				{Outcome: sync.Created, Planned: true}, {Outcome: sync.Unchanged},
			}},
			want: "created 0, would create 1, updated 0, unchanged 1, skipped 0, failed 0",
		},
		{
			name: "outcomes of other modes",
			report: sync.Report{Entries: []sync.Entry{
				{Outcome: "deleted"}, {Outcome: sync.Created},
			}},
			want: "created 1, updated 0, unchanged 0, deleted 1, skipped 0, failed 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.report.String())
		})
	}
}

func TestReport_Counts(t *testing.T) {
	t.Parallel()
	r := owSampleReport()

	assert.Equal(t, 3, r.Count(sync.Skipped))
	assert.Equal(t, 1, r.Count(sync.Failed))
	assert.Equal(t, 1, r.Count(sync.Unchanged))
	assert.Equal(t, 1, r.CountReason(sync.ReasonAmbiguous))
	assert.Equal(t, []string{"a→b", "b→a"}, r.Directions())
	assert.Equal(t, 2, len(r.Direction("b→a").Entries))
	assert.Equal(t, r.Started, r.Direction("b→a").Started)
	assert.Empty(t, r.Direction("c→d").Entries)
}

func TestReport_Problems(t *testing.T) {
	t.Parallel()
	var lines []string
	for _, e := range owSampleReport().Problems() {
		lines = append(lines, e.String())
	}

	assert.Equal(t, []string{
		`a→b record 2: skipped (missing key: no value at "email")`,
		`a→b "b@x.io": skipped (duplicate: key already held by a record #1)`,
		`a→b "c@x.io": skipped (ambiguous: matches 2 b records (#0, #1))`,
		`b→a "d@x.io": failed (write error: sync: invalid record)`,
	}, lines)
}

func TestReport_EntryString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entry sync.Entry
		want  string
	}{
		{sync.Entry{Direction: "s→t", Key: "k", Outcome: sync.Created}, `s→t "k": created`},
		{sync.Entry{Direction: "s→t", Key: "k", Outcome: sync.Updated, Planned: true}, `s→t "k": would update`},
		{sync.Entry{Direction: "s→t", Key: "k", Outcome: sync.Skipped, Reason: sync.ReasonMapError,
			Err: errors.New("no name")}, `s→t "k": skipped (map error: no name)`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.entry.String())
	}
}

func TestReport_JSON(t *testing.T) {
	t.Parallel()
	r := owSampleReport().Direction("b→a")

	raw, err := json.Marshal(r)
	require.NoError(t, err)

	assert.JSONEq(t, `{
		"started": "2026-12-03T10:00:00Z",
		"finished": "2026-12-03T10:00:02Z",
		"counts": {"failed": 1, "updated": 1},
		"entries": [
			{"direction": "b→a", "index": 0, "key": "d@x.io", "outcome": "failed",
			 "reason": "write error", "error": "sync: invalid record"},
			{"direction": "b→a", "index": 1, "key": "e@x.io", "outcome": "updated"}
		]
	}`, string(raw))

	raw, err = json.Marshal(sync.Report{DryRun: true})
	require.NoError(t, err)
	assert.JSONEq(t, `{"dryRun": true, "started": "0001-01-01T00:00:00Z",
		"finished": "0001-01-01T00:00:00Z", "counts": {}, "entries": []}`, string(raw))
}

func TestReport_JSONOfARun(t *testing.T) {
	t.Parallel()
	r := owSampleReport().Direction("a→b")

	raw, err := json.Marshal(r.Entries[0])
	require.NoError(t, err)

	assert.JSONEq(t, `{"direction": "a→b", "index": 0, "key": "a@x.io", "outcome": "created",
		"written": {"email": "a@x.io"}, "result": {"id": "1"}}`, string(raw))
}

func TestReport_CountsOfARefusedPlan(t *testing.T) {
	t.Parallel()
	planned := []sync.Entry{
		{Outcome: sync.Created, Planned: true}, {Outcome: sync.Created, Planned: true},
		{Outcome: sync.Updated, Planned: true}, {Outcome: sync.Unchanged},
	}
	refused := sync.Report{Entries: planned}
	dry := sync.Report{DryRun: true, Entries: planned}

	assert.Zero(t, refused.Count(sync.Created), "nothing was created")
	assert.Equal(t, 2, refused.CountPlanned(sync.Created))
	assert.Equal(t, 1, refused.CountPlanned(sync.Updated))
	assert.Equal(t, 1, refused.Count(sync.Unchanged))
	assert.Equal(t, 2, dry.Count(sync.Created), "a dry run counts what it would do")
	assert.Equal(t, 2, dry.CountPlanned(sync.Created))

	raw, err := json.Marshal(refused)
	require.NoError(t, err)
	var got struct {
		Counts, Planned map[string]int
	}
	require.NoError(t, json.Unmarshal(raw, &got))
	assert.Equal(t, map[string]int{"unchanged": 1}, got.Counts)
	assert.Equal(t, map[string]int{"created": 2, "updated": 1}, got.Planned)
}

func TestReport_ProblemsIncludeKeyMismatches(t *testing.T) {
	t.Parallel()
	r := sync.Report{Entries: []sync.Entry{
		{Direction: "a→b", Key: "A@x.io", Outcome: sync.Created},
		{Direction: "a→b", Key: "B@x.io", Outcome: sync.Created, Reason: sync.ReasonKeyMismatch,
			Detail: `b stored the key as "b@x.io"`},
		{Direction: "a→b", Key: "c@x.io", Outcome: sync.Updated,
			Detail: "the destination already held a record with this key"},
	}}

	var lines []string
	for _, e := range r.Problems() {
		lines = append(lines, e.String())
	}

	assert.Equal(t, []string{
		`a→b "B@x.io": created (key mismatch: b stored the key as "b@x.io")`,
	}, lines)
	assert.Equal(t, "created 2 (key mismatch 1), updated 1, unchanged 0, skipped 0, failed 0",
		r.String())
}

func TestReport_Warnings(t *testing.T) {
	t.Parallel()
	r := sync.Report{
		Entries: []sync.Entry{{Direction: "a→b", Outcome: sync.Updated}},
		Warnings: []string{
			"a→b: no listed b record has phone", "b→a: no listed a record has fax",
		},
	}

	raw, err := json.Marshal(r)
	require.NoError(t, err)

	assert.Contains(t, string(raw), `"warnings":["a→b: no listed b record has phone","b→a: `)
	assert.Equal(t, []string{"b→a: no listed a record has fax"}, r.Direction("b→a").Warnings)
	assert.Empty(t, r.Direction("c→d").Warnings)
}
