package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
)

// openFakes starts fakes holding people and connects to them.
func openFakes(t *testing.T, people []demo.Person, n8n bool) *demo.Systems {
	t.Helper()
	sys, err := demo.OpenFakes(people, demo.ConnectOptions{N8N: n8n})
	require.NoError(t, err)
	t.Cleanup(sys.Close)
	return sys
}

// syncQuiet runs syncOnce, writing against the fakes, printing nothing.
func syncQuiet(t *testing.T, sys *demo.Systems, m demo.Mapping) (sync.Report, error) {
	t.Helper()
	return syncOnce(t.Context(), sys, m, false, demo.NewProgress(io.Discard), io.Discard)
}

// outcome is what a test compares of a report entry.
type outcome struct {
	Index   int
	Key     string
	Outcome sync.Outcome
	Reason  sync.Reason
}

func outcomes(r sync.Report) []outcome {
	out := make([]outcome, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = outcome{e.Index, e.Key, e.Outcome, e.Reason}
	}
	return out
}

// keysWith returns the keys of the entries with outcome o, sorted.
func keysWith(r sync.Report, o sync.Outcome) []string {
	var keys []string
	for _, e := range r.Entries {
		if e.Outcome == o {
			keys = append(keys, e.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

// wantCreated are the sample people only Pipedrive has, with an email, once.
var wantCreated = []string{
	"ethan.davis@woodgrove.example",
	"mia.wilson@fourthcoffee.example",
	"noah.kim@adatum.example",
	"olivia.brown@wingtip.example",
	"zoe.martin@litware.example",
}

func TestSyncOnce_SampleData(t *testing.T) {
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
			sys := openFakes(t, demo.People(), tc.n8n)
			m := demo.Mapping{N8N: tc.n8n}
			var out bytes.Buffer

			rep, err := syncOnce(t.Context(), sys, m, false, demo.NewProgress(io.Discard), &out)
			require.NoError(t, err)

			assert.Equal(t, wantCreated, keysWith(rep, sync.Created))
			assert.Equal(t, 5, rep.Count(sync.Created))
			assert.Equal(t, 26, rep.Count(sync.Unchanged))
			assert.Equal(t, 1, rep.CountReason(sync.ReasonMissingKey))
			assert.Equal(t, 1, rep.CountReason(sync.ReasonDuplicate))
			assert.Equal(t, 0, rep.Count(sync.Failed))
			for _, e := range rep.Problems() {
				name := e.Source["name"]
				switch e.Reason {
				case sync.ReasonMissingKey:
					assert.Equal(t, "Chris Walker", name)
				case sync.ReasonDuplicate:
					assert.Equal(t, "noah.kim@adatum.example", e.Key)
					assert.Equal(t, "Noah Kim", name)
				}
			}

			// HubSpot now holds the new contacts with every mapped field.
			byEmail := map[string]map[string]string{}
			for _, c := range sys.HubSpotFake.Contacts() {
				byEmail[c.Properties["email"]] = c.Properties
			}
			assert.Len(t, byEmail, 35)
			zoe := byEmail["zoe.martin@litware.example"]
			require.NotNil(t, zoe)
			assert.Equal(t, "Zoe", zoe["firstname"])
			assert.Equal(t, "Martin", zoe["lastname"])
			assert.Equal(t, "+1 206 555 0128", zoe["phone"])
			assert.Contains(t, out.String(), "Created 5 contacts in HubSpot:")
			assert.Contains(t, out.String(),
				"Summary: created 5, updated 0, unchanged 26, skipped 2 (missing key 1, duplicate 1)")

			// The second run finds everything in place and writes nothing.
			writes := demo.HubSpotWrites(sys.HubSpotFake)
			require.Positive(t, writes)
			rep2, err := syncQuiet(t, sys, m)
			require.NoError(t, err)
			assert.Equal(t, 0, rep2.Count(sync.Created))
			assert.Equal(t, 31, rep2.Count(sync.Unchanged))
			assert.Equal(t, 2, rep2.Count(sync.Skipped))
			assert.Equal(t, writes, demo.HubSpotWrites(sys.HubSpotFake), "second run wrote")
			assert.Equal(t, 0, demo.PipedriveWrites(sys.PipedriveFake))
		})
	}
}

func TestSyncOnce_N8NPathsGiveTheSameResult(t *testing.T) {
	t.Parallel()
	var reports [2]sync.Report
	var contacts [2][]string
	for i, n8n := range []bool{false, true} {
		sys := openFakes(t, demo.People(), n8n)
		rep, err := syncOnce(t.Context(), sys, demo.Mapping{N8N: n8n}, false,
			demo.NewProgress(io.Discard), io.Discard)
		require.NoError(t, err)
		reports[i] = rep
		for _, c := range sys.HubSpotFake.Contacts() {
			p := c.Properties
			contacts[i] = append(contacts[i], strings.Join([]string{
				c.ID, p["email"], p["firstname"], p["lastname"], p["phone"]}, "|"))
		}
	}
	assert.Equal(t, outcomes(reports[0]), outcomes(reports[1]))
	assert.Equal(t, contacts[0], contacts[1])
}

// The one place where n8n's email[0].value falls short: a person whose
// second email is the one HubSpot holds.
func TestSyncOnce_SecondEmailMatchesOnlyWithCurrentShapes(t *testing.T) {
	t.Parallel()
	people := []demo.Person{
		{First: "Sam", Last: "Patel", Where: demo.PipedriveOnly,
			Emails: []string{"sam@new-job.example", "sam@patel-family.example"}},
		{First: "Sam", Last: "Patel", Where: demo.HubSpotOnly,
			Emails: []string{"sam@patel-family.example"}},
	}
	for _, tc := range []struct {
		name string
		n8n  bool
		want sync.Outcome
	}{
		{"current shapes match on any email", false, sync.Unchanged},
		{"n8n paths see only the first email", true, sync.Created},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sys := openFakes(t, people, tc.n8n)
			rep, err := syncOnce(t.Context(), sys, demo.Mapping{N8N: tc.n8n}, false,
				demo.NewProgress(io.Discard), io.Discard)
			require.NoError(t, err)
			require.Len(t, rep.Entries, 1)
			assert.Equal(t, tc.want, rep.Entries[0].Outcome)
		})
	}
}

func TestRun_AgainstRealServicesIsADryRunWithoutApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		flags       demo.Flags
		wantWritten bool
		wantOutput  string
	}{
		{"without -apply", demo.Flags{}, false, "Would create (dry run) 5 contacts in HubSpot:"},
		{"with -apply", demo.Flags{Apply: true}, true, "Created 5 contacts in HubSpot:"},
		{"n8n paths without -apply", demo.Flags{N8N: true}, false,
			"Would create (dry run) 5 contacts in HubSpot:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The real-service code path, pointed at fakes.
			pf, hf := demo.StartFakes(demo.People())
			t.Cleanup(pf.Close)
			t.Cleanup(hf.Close)
			var stdout, stderr bytes.Buffer

			err := run(t.Context(), t.Context(), tc.flags, demo.FakeEnv(pf, hf), &stdout, &stderr)
			require.NoError(t, err, stderr.String())

			assert.Contains(t, stdout.String(), "Systems: your Pipedrive and HubSpot accounts.")
			assert.Contains(t, stdout.String(), tc.wantOutput)
			assert.Equal(t, !tc.wantWritten, strings.Contains(stdout.String(), "DRY RUN"))
			assert.Equal(t, 0, demo.PipedriveWrites(pf))
			if tc.wantWritten {
				assert.Len(t, hf.Contacts(), 35)
				return
			}
			assert.Equal(t, 0, demo.HubSpotWrites(hf))
			assert.Len(t, hf.Contacts(), 30)
		})
	}
}

// stopAfter is a writer that cancels a context when it has seen the text
// "Done in" n times.
type stopAfter struct {
	bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *stopAfter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("Done in")) {
		if w.n--; w.n == 0 {
			w.cancel()
		}
	}
	return w.Buffer.Write(p)
}

func TestRun_EveryRepeatsUntilStopped(t *testing.T) {
	t.Parallel()
	pf, hf := demo.StartFakes(demo.People())
	t.Cleanup(pf.Close)
	t.Cleanup(hf.Close)
	stop, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &stopAfter{n: 2, cancel: cancel}
	flags := demo.Flags{Apply: true, Every: time.Millisecond}

	err := run(stop, t.Context(), flags, demo.FakeEnv(pf, hf), out, io.Discard)

	// The second run saw the stop request while it ran, finished, and the
	// loop ended there, cleanly.
	require.NoError(t, err)
	assert.Contains(t, out.String(), "=== Run 2")
	assert.NotContains(t, out.String(), "=== Run 3")
	assert.Equal(t, 2, strings.Count(out.String(), "Summary: "))
	assert.Equal(t, 1, strings.Count(out.String(), "Created 5 contacts in HubSpot:"))
	assert.Equal(t, 1, strings.Count(out.String(), "Nothing to create in HubSpot."))
	assert.Len(t, hf.Contacts(), 35)
}

func TestRun_CancelledRunStopsAtOnce(t *testing.T) {
	t.Parallel()
	pf, hf := demo.StartFakes(demo.People())
	t.Cleanup(pf.Close)
	t.Cleanup(hf.Close)
	runCtx, cancel := context.WithCancel(t.Context())
	cancel()

	err := run(t.Context(), runCtx, demo.Flags{Apply: true, Every: time.Hour},
		demo.FakeEnv(pf, hf), io.Discard, io.Discard)

	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, demo.HubSpotWrites(hf))
}

func TestCommand_Main(t *testing.T) {
	t.Parallel()
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name       string
		args       []string
		getenv     func(string) string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"runs against the fakes", nil, noEnv, 0,
			"Summary: created 5, updated 0, unchanged 26, skipped 2", ""},
		{"runs with n8n paths", []string{"-n8n-paths"}, noEnv, 0,
			"Matching Pipedrive email[0].value with HubSpot " +
				"identity-profiles[0].identities[0].value", ""},
		{"prints help", []string{"-h"}, noEnv, 0, "", "Usage: go run ./examples/oneway"},
		{"rejects unknown flags", []string{"-bogus"}, noEnv, 2, "",
			"flag provided but not defined: -bogus"},
		{"rejects arguments", []string{"extra"}, noEnv, 2, "", "unexpected arguments"},
		{"rejects a negative interval", []string{"-every", "-1s"}, noEnv, 2, "",
			"-every must not be negative"},
		{"needs both tokens", nil, func(k string) string {
			if k == demo.EnvHubSpotToken {
				return "pat-na1-secret-hubspot-token"
			}
			return ""
		}, 1, "", "oneway: set both PIPEDRIVE_API_TOKEN and HUBSPOT_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer

			code := command().Main(t.Context(), t.Context(), tc.args, tc.getenv, &stdout, &stderr)

			assert.Equal(t, tc.wantCode, code, stderr.String())
			assert.Contains(t, stdout.String(), tc.wantStdout)
			assert.Contains(t, stderr.String(), tc.wantStderr)
			assert.NotContains(t, stdout.String()+stderr.String(), "secret")
		})
	}
}

func TestRun_NeverPrintsTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		badAuth bool
	}{
		{"verbose run", false},
		{"rejected token", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pf, hf := demo.StartFakes(demo.People())
			t.Cleanup(pf.Close)
			t.Cleanup(hf.Close)
			env := demo.FakeEnv(pf, hf)
			if tc.badAuth {
				env.HubSpotToken = "pat-na1-00000000-wrong-token"
			}
			var stdout, stderr bytes.Buffer

			err := run(t.Context(), t.Context(), demo.Flags{Apply: true, Verbose: true}, env,
				&stdout, &stderr)

			if tc.badAuth {
				require.ErrorIs(t, err, sync.ErrUnauthorized)
			} else {
				require.NoError(t, err)
				assert.Contains(t, stderr.String(), "level=DEBUG")
			}
			all := stdout.String() + stderr.String() + env.String() + env.GoString()
			for _, tok := range []string{env.PipedriveToken, env.HubSpotToken} {
				assert.NotContains(t, all, tok)
			}
		})
	}
}
