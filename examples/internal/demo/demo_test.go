package demo

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

func TestLoop(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		every    time.Duration
		stopAt   int   // cancel stop during this run (0: never)
		cancelAt int   // cancel runCtx during this run (0: never)
		fail     error // error of every run
		wantRuns int
		wantErr  error
		wantLog  string
	}{
		{name: "runs once without an interval", wantRuns: 1},
		{name: "returns the error of a single run", fail: errBoom, wantRuns: 1, wantErr: errBoom},
		{name: "repeats until stopped, finishing the run in progress",
			every: time.Millisecond, stopAt: 3, wantRuns: 3, wantLog: "Next run at"},
		{name: "returns at once when the run is cancelled",
			every: time.Millisecond, cancelAt: 2, wantRuns: 2, wantErr: context.Canceled},
		{name: "goes on after a failed run", every: time.Millisecond, stopAt: 3,
			fail: errBoom, wantRuns: 3, wantLog: "The run failed: boom"},
		{name: "ends on an error bound to repeat", every: time.Millisecond,
			fail: fmt.Errorf("listing: %w", sync.ErrUnauthorized), wantRuns: 1,
			wantErr: sync.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stop, stopNow := context.WithCancel(t.Context())
			defer stopNow()
			runCtx, cancelRun := context.WithCancel(t.Context())
			defer cancelRun()
			var log bytes.Buffer
			runs := 0

			err := Loop(stop, runCtx, tc.every, &log, func(ctx context.Context) error {
				runs++
				if runs == tc.stopAt {
					stopNow()
				}
				if runs == tc.cancelAt {
					cancelRun()
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				return tc.fail
			})

			assert.ErrorIs(t, err, tc.wantErr)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.wantRuns, runs)
			assert.Contains(t, log.String(), tc.wantLog)
		})
	}
}

func TestLoop_StopBetweenRuns(t *testing.T) {
	t.Parallel()
	stop, stopNow := context.WithCancel(t.Context())
	runs := 0
	err := Loop(stop, t.Context(), time.Hour, nil, func(context.Context) error {
		runs++
		go stopNow() // arrives after the run or while Loop waits an hour for the next
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, runs)
}

func TestSignals(t *testing.T) {
	// Not parallel: it sends signals to the test process, which Signals
	// catches.
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGINT to itself")
	}
	status := chanWriter(make(chan string, 1))
	stop, run, release := Signals(status)
	defer release()
	wait := func(ctx context.Context, what string) {
		t.Helper()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not done after the signal", what)
		}
	}

	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGINT))
	wait(stop, "stop")
	assert.NoError(t, run.Err(), "the first signal must let the run finish")

	// Signals listens for the second signal before it prints.
	assert.Contains(t, <-status, "Interrupted")
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	wait(run, "run")
}

// chanWriter sends what is written to it on the channel.
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func TestFatal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("x: %w", sync.ErrUnauthorized), true},
		{sync.ErrForbidden, true},
		{&sync.OptionsError{Field: "Map"}, true},
		{&sync.MissingKeysError{Missing: 9, Total: 10}, true},
		{sync.ErrRateLimited, false},
		{context.DeadlineExceeded, false},
		{errors.New("connection reset"), false},
	} {
		assert.Equal(t, tc.want, Fatal(tc.err), "%v", tc.err)
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	env := EnvFrom(func(k string) string {
		return map[string]string{
			EnvPipedriveToken:  " pd-secret-0123456789 ",
			EnvPipedriveDomain: "https://example-co.pipedrive.com",
			EnvHubSpotToken:    "pat-na1-hs-secret",
		}[k]
	})
	assert.Equal(t, "pd-secret-0123456789", env.PipedriveToken)
	isReal, err := env.Real()
	require.NoError(t, err)
	assert.True(t, isReal)

	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, env)
		assert.NotContains(t, s, "secret", verb)
		assert.Contains(t, s, "https://example-co.pipedrive.com", verb)
	}

	isReal, err = Env{}.Real()
	require.NoError(t, err)
	assert.False(t, isReal)
	_, err = Env{PipedriveToken: "x"}.Real()
	assert.ErrorIs(t, err, ErrPartialCredentials)
}

func TestConnect_CompanyDomain(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"example-co", "example-co.pipedrive.com",
		"https://example-co.pipedrive.com/"} {
		_, err := Connect(Env{PipedriveToken: "t", HubSpotToken: "t", PipedriveDomain: d},
			ConnectOptions{})
		assert.NoError(t, err, d)
	}
	_, err := Connect(Env{PipedriveToken: "t", HubSpotToken: "t", PipedriveDomain: "not a domain"},
		ConnectOptions{})
	assert.Error(t, err)
}

func TestProgress(t *testing.T) {
	t.Parallel()
	steps := []sync.Progress{
		{Phase: sync.PhaseListing, Done: 1000, Total: -1},
		{Phase: sync.PhasePlanning, Direction: "a→b", Done: 0, Total: 0},
		{Phase: sync.PhaseWriting, Direction: "a→b", Done: 50, Total: 200},
	}
	t.Run("terminal updates one line", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		p := NewProgress(&b)
		p.terminal = true
		for _, s := range steps {
			p.Update(s)
		}
		p.Done()
		assert.Equal(t, "\r\033[Klisting: 1000 records\r\033[Kplanning a→b"+
			"\r\033[Kwriting a→b: 50 of 200 (25%)\r\033[K", b.String())
	})
	t.Run("plain output prints a line per interval", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		p := NewProgress(&b)
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		p.Now = func() time.Time { return now }
		for _, s := range steps {
			p.Update(s)
			now = now.Add(3 * time.Second)
		}
		p.Done()
		assert.Equal(t, "writing a→b: 50 of 200 (25%) (6s)\n", b.String())
	})
	t.Run("short runs print nothing", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		p := NewProgress(&b)
		for _, s := range steps {
			p.Update(s)
		}
		p.Done()
		assert.Empty(t, b.String())
	})
}

func TestPeople(t *testing.T) {
	t.Parallel()
	people := People()
	assert.Len(t, PipedriveSeed(people), 33)
	assert.Len(t, HubSpotSeed(people), 30)
	// Every email in HubSpot is stored as HubSpot stores it.
	for _, c := range HubSpotSeed(people) {
		e := c.Properties["email"]
		assert.Equal(t, sync.NormalizeEmail(e), e)
	}
}

func TestMapping_ContactToPerson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		n8n     bool
		contact sync.Item
		want    sync.Item
	}{
		{"current shape", false, sync.Item{"id": "101", "properties": map[string]any{
			"email": "Nora@Northwind.example", "firstname": "Nora", "lastname": "Jensen",
			"phone": "+45 1234",
		}}, sync.Item{"name": "Nora Jensen",
			"emails": []any{map[string]any{"value": "nora@northwind.example", "primary": true,
				"label": "work"}},
			"phones": []any{map[string]any{"value": "+45 1234", "primary": true, "label": "work"}},
		}},
		{"no name uses the email", false, sync.Item{"properties": map[string]any{
			"email": "x@example.com", "firstname": nil,
		}}, sync.Item{"name": "x@example.com",
			"emails": []any{map[string]any{"value": "x@example.com", "primary": true,
				"label": "work"}},
		}},
		{"no email is left out", false, sync.Item{"properties": map[string]any{
			"firstname": "Riley",
		}}, nil},
		{"legacy shape", true, sync.Item{"vid": 101,
			"properties": map[string]any{
				"firstname": map[string]any{"value": "Nora"},
				"lastname":  map[string]any{"value": "Jensen"},
			},
			"identity-profiles": []any{map[string]any{"identities": []any{
				map[string]any{"type": "EMAIL", "value": "nora@northwind.example"},
			}}},
		}, sync.Item{"name": "Nora Jensen", "email": "nora@northwind.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Mapping{N8N: tc.n8n}.ContactToPerson(tc.contact)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPrintReport(t *testing.T) {
	t.Parallel()
	ids := func(it sync.Item) string { return fmt.Sprint(it["id"]) }
	person := func(id int, name, email string) sync.Item {
		return sync.Item{"id": id, "name": name,
			"emails": []any{map[string]any{"value": email}}}
	}
	r := sync.Report{Entries: []sync.Entry{
		{Direction: "Pipedrive→HubSpot", Index: 0, Key: "a@x.example", Outcome: sync.Created,
			Source: person(1, "Ann", "A@X.example"),
			Result: sync.Item{"id": "101"}},
		{Direction: "Pipedrive→HubSpot", Index: 1, Key: "a@x.example", Outcome: sync.Skipped,
			Reason: sync.ReasonDuplicate, Source: person(2, "Ann Again", "a@x.example")},
		{Direction: "Pipedrive→HubSpot", Index: 2, Key: "b@x.example", Outcome: sync.Failed,
			Reason: sync.ReasonWriteError, Err: errors.New("hubspot: VALIDATION_ERROR: bad"),
			Source: person(3, "Bob", "b@x.example")},
		{Direction: "Pipedrive→HubSpot", Index: 3, Key: "c@x.example", Outcome: sync.Unchanged,
			Source: person(4, "Cy", " C@x.example")},
	}}
	var b bytes.Buffer
	PrintReport(&b, r, PipedriveSystem(ids), HubSpotSystem(ids))
	assert.Equal(t, `Pipedrive → HubSpot (4 persons listed)
  Created 1 contact in HubSpot:
    + a@x.example  Ann (person 1) as contact 101
  Already in HubSpot: 1 person, left alone. Matches worth a look:
    = c@x.example  Pipedrive has " C@x.example": case and spaces are ignored
  Skipped 1 person:
    - person 2 "Ann Again" <a@x.example>: same email as person 1, which is the one copied (duplicate)
  Failed 1 person:
    - person 3 "Bob" <b@x.example>: write error: hubspot: VALIDATION_ERROR: bad
  Summary: created 1, updated 0, unchanged 1, skipped 1 (duplicate 1), failed 1 (write error 1)
`, b.String())
}

func TestPrintReport_UpdatesAndOtherOutcomes(t *testing.T) {
	t.Parallel()
	ids := func(it sync.Item) string { return fmt.Sprint(it["id"]) }
	contact := func(id int, first, email string) sync.Item {
		return sync.Item{"id": id, "properties": map[string]any{"firstname": first, "email": email}}
	}
	for _, tc := range []struct {
		name   string
		dryRun bool
		want   string
	}{
		{"done", false, `HubSpot → Pipedrive (3 contacts listed)
  Created 1 and updated 1 persons in Pipedrive:
    + a@x.example  Ann (contact 1)
    ~ b@x.example  Bob (contact 2) → person 9: emails "b@x.example", name "Bob B"
  Deleted 1 person:
    - person 3 "Cy" <c@x.example>
  Summary: created 1, updated 1, unchanged 0, deleted 1, skipped 0, failed 0
`},
		{"dry run", true, `HubSpot → Pipedrive (3 contacts listed)
  Would create (dry run) 1 and update 1 persons in Pipedrive:
    + a@x.example  Ann (contact 1)
    ~ b@x.example  Bob (contact 2) → person 9: emails "b@x.example", name "Bob B"
  Would delete (dry run) 1 person:
    - person 3 "Cy" <c@x.example>
  Summary: would create 1, would update 1, unchanged 0, would delete 1, skipped 0, failed 0
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := "HubSpot→Pipedrive"
			r := sync.Report{DryRun: tc.dryRun, Entries: []sync.Entry{
				{Direction: dir, Key: "a@x.example", Outcome: sync.Created, Planned: tc.dryRun,
					Source: contact(1, "Ann", "a@x.example")},
				{Direction: dir, Index: 1, Key: "b@x.example", Outcome: sync.Updated,
					Planned: tc.dryRun, Source: contact(2, "Bob", "b@x.example"),
					Target: sync.Item{"id": 9}, Written: sync.Item{"name": "Bob B",
						"emails": []any{map[string]any{"value": "b@x.example", "primary": true}}}},
				{Direction: dir, Index: 2, Key: "c@x.example", Outcome: sync.Deleted,
					Planned: tc.dryRun, Target: sync.Item{"id": 3, "name": "Cy",
						"emails": []any{map[string]any{"value": "c@x.example"}}}},
			}}
			var b bytes.Buffer
			PrintReport(&b, r, PipedriveSystem(ids), HubSpotSystem(ids))
			assert.Equal(t, tc.want, b.String())
		})
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	f := Mapping{}.Fields()
	v2 := sync.Item{"id": 1, "first_name": "Sam", "last_name": "Patel",
		"emails": []any{
			map[string]any{"value": "sam@home.example", "primary": false, "label": "home"},
			map[string]any{"value": " Sam.Patel@Tailspin.example", "primary": true, "label": "work"},
		},
		"phones": []any{map[string]any{"value": "+44 20", "primary": true}},
	}
	v1 := sync.Item{"id": 1, "first_name": "Sam", "last_name": "Patel",
		"email": []any{map[string]any{"value": "sam.patel@tailspin.example", "primary": true}},
		"phone": []any{map[string]any{"value": "+44 20", "primary": true}},
	}
	want := map[string]string{"email": "sam.patel@tailspin.example", "first": "Sam",
		"last": "Patel", "phone": "+44 20"}
	assert.Equal(t, want, f.A.Get(v2))
	assert.Equal(t, want, f.A.Get(v1))
	assert.Equal(t, want, f.B.Get(sync.Item{"properties": map[string]any{
		"email": "Sam.Patel@tailspin.example", "firstname": "Sam", "lastname": "Patel",
		"phone": "+44 20"}}))
	assert.Equal(t, want, f.B.Get(sync.Item{"properties": map[string]any{
		"email":     map[string]any{"value": "sam.patel@tailspin.example"},
		"firstname": map[string]any{"value": "Sam"}, "lastname": map[string]any{"value": "Patel"},
		"phone": map[string]any{"value": "+44 20"}}}))

	for _, tc := range []struct {
		name     string
		fields   map[string]string
		existing sync.Item
		want     sync.Item
	}{
		{"create", want, nil, sync.Item{"name": "Sam Patel",
			"emails": []any{map[string]any{"value": "sam.patel@tailspin.example", "primary": true,
				"label": "work"}},
			"phones": []any{map[string]any{"value": "+44 20", "primary": true, "label": "work"}},
		}},
		{"create without a name", map[string]string{"email": "x@example.com"}, nil, sync.Item{
			"name":   "x@example.com",
			"emails": []any{map[string]any{"value": "x@example.com", "primary": true, "label": "work"}},
		}},
		{"create without an email", map[string]string{"first": "Riley"}, nil, nil},
		{"last name keeps the first name", map[string]string{"last": "Patel-Smith"}, v2,
			sync.Item{"name": "Sam Patel-Smith"}},
		{"email replaces the primary one only",
			map[string]string{"email": "sam@new.example"}, v2, sync.Item{"emails": []any{
				map[string]any{"value": "sam@home.example", "primary": false, "label": "home"},
				map[string]any{"value": "sam@new.example", "primary": true, "label": "work"},
			}}},
		{"empty phone removes it", map[string]string{"phone": ""}, v1,
			sync.Item{"phones": []any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, f.A.Set(tc.fields, tc.existing))
		})
	}

	assert.Equal(t, sync.Item{"properties": map[string]any{"lastname": "Patel-Smith", "phone": ""}},
		f.B.Set(map[string]string{"last": "Patel-Smith", "phone": ""}, sync.Item{"id": "1"}))
	assert.Nil(t, f.B.Set(map[string]string{"first": "Riley"}, nil))
}

func TestCommand_MainPrintsErrorsAfterItsName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"a plain error", errors.New("listing: boom"), "csv: listing: boom\n"},
		{"an error that names the command already",
			fmt.Errorf("%w %q", errors.New("csv: no id column"), "id"),
			"csv: no id column \"id\"\n"},
		{"a wrapped error of another package", fmt.Errorf("reading: %w",
			errors.New("csv: no id column")), "csv: reading: csv: no id column\n"},
		{"partial credentials", ErrPartialCredentials, "csv: set both PIPEDRIVE_API_TOKEN " +
			"and HUBSPOT_TOKEN to use the real services, or neither to use the built-in fakes\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			c := Command{Name: "csv", Register: func(*flag.FlagSet) {},
				Run: func(context.Context, context.Context, Env, io.Writer, io.Writer) error {
					return tc.err
				}}

			code := c.Main(t.Context(), t.Context(), nil, func(string) string { return "" },
				&stdout, &stderr)

			assert.Equal(t, 1, code)
			assert.Equal(t, tc.want, stderr.String())
			assert.Empty(t, stdout.String())
		})
	}
}

func TestPrintReport_AmbiguousBecauseOfADuplicate(t *testing.T) {
	t.Parallel()
	ids := func(it sync.Item) string { return fmt.Sprint(it["id"]) }
	const key = "noah@x.example"
	person := func(id int) sync.Item {
		return sync.Item{"id": id, "name": "Noah",
			"emails": []any{map[string]any{"value": key}}}
	}
	copied := sync.Entry{Direction: "Pipedrive→HubSpot", Index: 0, Key: key,
		Outcome: sync.Unchanged, Source: person(29)}
	dup := func(id int) sync.Entry {
		return sync.Entry{Direction: "Pipedrive→HubSpot", Index: id, Key: key,
			Outcome: sync.Skipped, Reason: sync.ReasonDuplicate, Source: person(id)}
	}
	ambiguous := sync.Entry{Direction: "HubSpot→Pipedrive", Key: key, Outcome: sync.Skipped,
		Reason: sync.ReasonAmbiguous, Detail: "matches 2 Pipedrive records (id 29, id 32)",
		Source: sync.Item{"id": "151", "properties": map[string]any{
			"firstname": "Noah", "email": key}}}
	for _, tc := range []struct {
		name    string
		entries []sync.Entry
		want    string
	}{
		{"the duplicate listed above", []sync.Entry{copied, dup(32), ambiguous},
			`contact 151 "Noah" <noah@x.example>: its email matches 2 persons in Pipedrive ` +
				"(person 29 and person 32, the duplicate skipped above), " +
				"so keysync will not guess (ambiguous)\n"},
		{"duplicates listed below", []sync.Entry{ambiguous, copied, dup(32), dup(40)},
			`contact 151 "Noah" <noah@x.example>: its email matches 3 persons in Pipedrive ` +
				"(person 29, person 32 and person 40, the duplicates skipped below), " +
				"so keysync will not guess (ambiguous)\n"},
		{"no duplicate in the report", []sync.Entry{copied, ambiguous},
			`contact 151 "Noah" <noah@x.example>: its email matches more than one person, ` +
				"so keysync will not guess " +
				"(ambiguous: matches 2 Pipedrive records (id 29, id 32))\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			PrintReport(&b, sync.Report{Entries: tc.entries},
				PipedriveSystem(ids), HubSpotSystem(ids))
			assert.Contains(t, b.String(), "\n    - "+tc.want)
		})
	}
}
