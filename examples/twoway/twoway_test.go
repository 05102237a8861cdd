package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
	"github.com/keysync/sync/state/boltstore"
)

func openFakes(t *testing.T, n8n bool) *demo.Systems {
	t.Helper()
	sys, err := demo.OpenFakes(demo.People(), demo.ConnectOptions{N8N: n8n})
	require.NoError(t, err)
	t.Cleanup(sys.Close)
	return sys
}

// syncQuiet runs syncOnce, writing against the fakes, printing nothing.
func syncQuiet(t *testing.T, sys *demo.Systems, m demo.Mapping) (sync.Report, error) {
	t.Helper()
	return syncOnce(t.Context(), sys, m.TwoWay(), demo.NewProgress(io.Discard), io.Discard)
}

// outcome is what a test compares of a report entry.
type outcome struct {
	Direction string
	Index     int
	Key       string
	Outcome   sync.Outcome
	Reason    sync.Reason
}

func outcomes(r sync.Report) []outcome {
	out := make([]outcome, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = outcome{e.Direction, e.Index, e.Key, e.Outcome, e.Reason}
	}
	return out
}

// keysWith returns the keys of the entries of dir with outcome o, sorted.
func keysWith(r sync.Report, dir string, o sync.Outcome) []string {
	var keys []string
	for _, e := range r.Direction(dir).Entries {
		if e.Outcome == o {
			keys = append(keys, e.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

const (
	toHubSpot   = "Pipedrive→HubSpot"
	toPipedrive = "HubSpot→Pipedrive"
)

func TestSyncOnce_SampleDataTwice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n8n  bool
	}{
		{"current API shapes", false},
		{"n8n key paths", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := openFakes(t, tc.n8n)
			m := demo.Mapping{N8N: tc.n8n}

			rep, err := syncQuiet(t, sys, m)
			require.NoError(t, err)

			assert.Equal(t, []string{toHubSpot, toPipedrive}, rep.Directions())
			assert.Equal(t, []string{
				"ethan.davis@woodgrove.example", "mia.wilson@fourthcoffee.example",
				"noah.kim@adatum.example", "olivia.brown@wingtip.example",
				"zoe.martin@litware.example",
			}, keysWith(rep, toHubSpot, sync.Created))
			assert.Equal(t, []string{
				"elena.popescu@adatum.example", "nora.jensen@northwind.example",
				"rafael.silva@contoso.example",
			}, keysWith(rep, toPipedrive, sync.Created))
			assert.Equal(t, "created 5, updated 0, unchanged 26, "+
				"skipped 2 (missing key 1, duplicate 1), failed 0",
				rep.Direction(toHubSpot).String())
			assert.Equal(t, "created 3, updated 0, unchanged 26, skipped 1 (missing key 1), failed 0",
				rep.Direction(toPipedrive).String())
			assert.Len(t, demo.HubSpotEmails(sys.HubSpotFake), 34) // Riley has no email
			assert.Contains(t, demo.PipedriveEmails(sys.PipedriveFake),
				"rafael.silva@contoso.example")
			assertPipedrivePerson(t, sys, "Rafael Silva", "rafael.silva@contoso.example",
				"+55 21 5550 0135")

			// Run 2 writes nothing anywhere. The person entered twice in
			// Pipedrive now makes HubSpot's copy ambiguous on the way back.
			hsWrites, pdWrites := demo.HubSpotWrites(sys.HubSpotFake),
				demo.PipedriveWrites(sys.PipedriveFake)
			require.Positive(t, hsWrites)
			require.Positive(t, pdWrites)
			rep2, err := syncQuiet(t, sys, m)
			require.NoError(t, err)
			assert.Equal(t, 0, rep2.Count(sync.Created)+rep2.Count(sync.Updated))
			assert.Equal(t, hsWrites, demo.HubSpotWrites(sys.HubSpotFake))
			assert.Equal(t, pdWrites, demo.PipedriveWrites(sys.PipedriveFake))
			assert.Equal(t, "created 0, updated 0, unchanged 33, "+
				"skipped 2 (missing key 1, ambiguous 1), failed 0",
				rep2.Direction(toPipedrive).String())
		})
	}
}

// assertPipedrivePerson checks the person created for a HubSpot contact.
func assertPipedrivePerson(t *testing.T, sys *demo.Systems, name, email, phone string) {
	t.Helper()
	for _, p := range sys.PipedriveFake.Persons() {
		if p["name"] != name {
			continue
		}
		emails, _ := p["emails"].([]any)
		require.Len(t, emails, 1)
		assert.Equal(t, email, emails[0].(map[string]any)["value"])
		phones, _ := p["phones"].([]any)
		require.Len(t, phones, 1)
		assert.Equal(t, phone, phones[0].(map[string]any)["value"])
		return
	}
	t.Errorf("no Pipedrive person %q", name)
}

func TestSyncOnce_N8NPathsGiveTheSameResult(t *testing.T) {
	t.Parallel()
	var reports [2]sync.Report
	var people [2][]string
	for i, n8n := range []bool{false, true} {
		sys := openFakes(t, n8n)
		rep, err := syncQuiet(t, sys, demo.Mapping{N8N: n8n})
		require.NoError(t, err)
		reports[i] = rep
		for _, p := range sys.PipedriveFake.Persons() {
			people[i] = append(people[i], p["name"].(string)+"|"+
				strings.Join(demo.PipedriveSystem(nil).Emails(p), ","))
		}
		slices.Sort(people[i]) // concurrent creates get ids in any order
	}
	assert.Equal(t, outcomes(reports[0]), outcomes(reports[1]))
	assert.Equal(t, people[0], people[1])
}

func TestRun_FakesSyncTwice(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer

	code := command().Main(t.Context(), t.Context(), nil, func(string) string { return "" },
		&stdout, &stderr)

	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "=== Run 1")
	assert.Contains(t, out, "8 records written.")
	assert.Contains(t, out, "=== Run 2")
	assert.Contains(t, out, "nothing written, both systems were already in step.")
	assert.NotContains(t, out, "=== Run 3")
	// Noah Kim, entered twice in Pipedrive, was copied to HubSpot in run 1;
	// run 2 explains why HubSpot's copy cannot go back.
	_, run2, _ := strings.Cut(out, "=== Run 2")
	assert.Regexp(t, `\n    - contact \d+ "Noah Kim" <noah.kim@adatum.example>: its email `+
		`matches 2 persons in Pipedrive \(person 29 and person 32, the duplicate skipped `+
		`above\), so keysync will not guess \(ambiguous\)\n`, run2)
}

func TestRun_AgainstRealServicesIsADryRunWithoutApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flags demo.Flags
		want  string
	}{
		{"current shapes", demo.Flags{}, "8 records would be written."},
		{"n8n paths", demo.Flags{N8N: true}, "8 records would be written."},
		{"with -apply", demo.Flags{Apply: true}, "8 records written."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pf, hf := demo.StartFakes(demo.People())
			t.Cleanup(pf.Close)
			t.Cleanup(hf.Close)
			var stdout, stderr bytes.Buffer

			err := run(t.Context(), t.Context(), options{Flags: tc.flags}, demo.FakeEnv(pf, hf),
				&stdout, &stderr)
			require.NoError(t, err, stderr.String())

			// Real services run once, even with -apply.
			assert.Contains(t, stdout.String(), tc.want)
			assert.NotContains(t, stdout.String(), "=== Run")
			if tc.flags.Apply {
				assert.Len(t, hf.Contacts(), 35)
				assert.Len(t, pf.Persons(), 36)
				return
			}
			assert.Contains(t, stdout.String(), "Would create (dry run) 3 persons in Pipedrive:")
			assert.Equal(t, 0, demo.HubSpotWrites(hf))
			assert.Equal(t, 0, demo.PipedriveWrites(pf))
		})
	}
}

func TestRun_StatefulOnFakesPropagatesEdits(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-state", "keysync.db"},
		{"-state", "keysync.db", "-n8n-paths"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			state := filepath.Join(t.TempDir(), "keysync.db")
			args := append([]string{}, args...)
			args[1] = state
			var stdout, stderr bytes.Buffer

			code := command().Main(t.Context(), t.Context(), args,
				func(string) string { return "" }, &stdout, &stderr)

			require.Equal(t, 0, code, stderr.String())
			runs := strings.Split(stdout.String(), "=== Run ")
			require.Len(t, runs, 4, stdout.String()) // intro + 3 runs
			assert.Contains(t, runs[1], "8 records written.")
			assert.Contains(t, runs[2], "Updated 1 contact in HubSpot:\n"+
				"    ~ ben.carter@northwind.example  Ben Carter-Lopez (person 2) → contact 151: "+
				`lastname "Carter-Lopez"`)
			assert.Contains(t, runs[2], "Updated 1 person in Pipedrive:\n"+
				"    ~ ava.nguyen@northwind.example  Ava Nguyen (contact 101) → person 1: "+
				`phones "+1 415 555 0199"`)
			assert.Contains(t, runs[2], "2 records written.")
			assert.Contains(t, runs[3], "nothing written, both systems were already in step.")
			assert.Contains(t, runs[0], "\nState: kept in a temporary file for this demo "+
				"(the fakes start empty each time); with real accounts it is kept in "+
				state+".\n")
			assert.NoFileExists(t, state, "the fakes' state is temporary")
		})
	}
}

func TestRun_StatefulAgainstRealServices(t *testing.T) {
	t.Parallel()
	pf, hf := demo.StartFakes(demo.People())
	t.Cleanup(pf.Close)
	t.Cleanup(hf.Close)
	env := demo.FakeEnv(pf, hf)
	state := filepath.Join(t.TempDir(), "keysync.db")
	syncRun := func(apply bool) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		o := options{Flags: demo.Flags{Apply: apply}, state: state}
		require.NoError(t, run(t.Context(), t.Context(), o, env, &stdout, &stderr), stderr.String())
		return stdout.String()
	}

	// A dry run plans from an empty state and leaves no file behind.
	out := syncRun(false)
	assert.Contains(t, out, "8 records would be written.")
	assert.Contains(t, out, "\nState: "+state+" does not exist yet, so this dry run plans "+
		"from an empty state and does not create it.\n")
	assert.Equal(t, 0, demo.HubSpotWrites(hf)+demo.PipedriveWrites(pf))
	assert.NoFileExists(t, state)

	out = syncRun(true)
	assert.Contains(t, out, "\nState: kept in "+state+", a new file.\n")
	assert.Contains(t, out, "8 records written.")
	assert.FileExists(t, state)
	writes := demo.HubSpotWrites(hf) + demo.PipedriveWrites(pf)
	saved, err := os.ReadFile(state)
	require.NoError(t, err)

	// A dry run reads the existing state: it has nothing left to do, and
	// the state is unchanged.
	out = syncRun(false)
	assert.Contains(t, out, "\nState: read from "+state+" (the dry run does not change it).\n")
	assert.Contains(t, out, "0 records would be written.")
	assertSameState(t, saved, state)

	// A later process with the same state file finds nothing to do.
	out = syncRun(true)
	assert.Contains(t, out, "\nState: kept in "+state+".\n")
	assert.Contains(t, out, "nothing written")
	assert.Equal(t, writes, demo.HubSpotWrites(hf)+demo.PipedriveWrites(pf))
}

// assertSameState checks that the state file at path holds the links and
// pair state of the file content saved.
func assertSameState(t *testing.T, saved []byte, path string) {
	t.Helper()
	dump := func(file string) (sync.PairState, []sync.Link) {
		store, err := boltstore.Open(file)
		require.NoError(t, err)
		defer store.Close()
		ps, err := store.PairState(t.Context(), pair)
		require.NoError(t, err)
		var links []sync.Link
		for l, err := range store.Links(t.Context(), pair) {
			require.NoError(t, err)
			links = append(links, l)
		}
		return ps, links
	}
	before := filepath.Join(t.TempDir(), "before.db")
	require.NoError(t, os.WriteFile(before, saved, 0o600))
	wantState, wantLinks := dump(before)
	gotState, gotLinks := dump(path)
	assert.Equal(t, wantState, gotState)
	assert.Equal(t, wantLinks, gotLinks)
	assert.NotEmpty(t, gotLinks)
}

func TestRun_FailedStatefulRunAgainstRealServices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		apply      bool
		existing   bool
		wantExists bool
	}{
		{"dry run, no state file", false, false, false},
		{"applying, no state file", true, false, false},
		{"applying, existing state file", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pf, hf := demo.StartFakes(demo.People())
			t.Cleanup(pf.Close)
			t.Cleanup(hf.Close)
			env := demo.FakeEnv(pf, hf)
			state := filepath.Join(t.TempDir(), "keysync.db")
			if tc.existing {
				o := options{Flags: demo.Flags{Apply: true}, state: state}
				require.NoError(t, run(t.Context(), t.Context(), o, env, io.Discard, io.Discard))
			}
			env.HubSpotToken = "pat-na1-00000000-wrong-token"
			o := options{Flags: demo.Flags{Apply: tc.apply}, state: state}

			err := run(t.Context(), t.Context(), o, env, io.Discard, io.Discard)

			require.ErrorIs(t, err, sync.ErrUnauthorized)
			if tc.wantExists {
				assert.FileExists(t, state)
			} else {
				assert.NoFileExists(t, state)
			}
		})
	}
}
