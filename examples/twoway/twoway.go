package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/boltstore"
)

const usage = `Usage: go run ./examples/twoway [flags]

Syncs Pipedrive persons and HubSpot contacts both ways, matched on email:
each system gets the people only the other one has. Without
PIPEDRIVE_API_TOKEN and HUBSPOT_TOKEN it uses built-in fakes with sample data
and runs twice; with them (and PIPEDRIVE_COMPANY_DOMAIN) it prints the plan
for your accounts, and carries it out with -apply.

With -state FILE the sync is stateful: it keeps the links between records
and their last-synced values in FILE (a bbolt database), so edits made on
either side since the last run propagate too. A dry run reads FILE but
never creates or changes it.
`

// pair names this sync in the state file.
const pair = "pipedrive-persons:hubspot-contacts"

// options are the command-line flags.
type options struct {
	demo.Flags
	state string
}

// command is the twoway command line.
func command() demo.Command {
	var o options
	return demo.Command{
		Name: "twoway", Usage: usage, Check: o.Check,
		Register: func(fs *flag.FlagSet) {
			o.Register(fs)
			fs.StringVar(&o.state, "state", "", "keep the sync state in this file, such as "+
				"keysync.db, to propagate edits too (default: stateless, creates only)")
		},
		Run: func(stop, runCtx context.Context, env demo.Env, stdout, stderr io.Writer) error {
			return run(stop, runCtx, o, env, stdout, stderr)
		},
	}
}

// run connects to the systems env names (or the fakes) and syncs; see
// demo.Loop for stop and runCtx. Against the fakes, without -every, it syncs
// twice, or with -state three times, editing two people before the second
// run.
func run(stop, runCtx context.Context, o options, env demo.Env, stdout, stderr io.Writer) error {
	sys, err := demo.Open(env, demo.ConnectOptions{N8N: o.N8N, Logger: o.Logger(stderr)})
	if err != nil {
		return err
	}
	defer sys.Close()

	m := demo.Mapping{N8N: o.N8N}
	opts := m.TwoWay()
	opts.DryRun = o.DryRun(sys)
	opts.Logger = sys.Logger
	var where string
	if o.state != "" {
		st, err := openState(runCtx, o.state, sys.Fake(), opts.DryRun)
		if err != nil {
			return err
		}
		defer st.close()
		opts.State, opts.Pair, opts.Fields = st.store, pair, m.Fields()
		where = st.where
	}
	intro(stdout, sys, m, opts, where)

	runs := 1
	if sys.Fake() && o.Every == 0 {
		runs = 2
		if opts.State != nil {
			runs = 3
		}
	}
	progress := demo.NewProgress(stderr)
	n := 0
	return demo.Loop(stop, runCtx, o.Every, stderr, func(ctx context.Context) error {
		for i := range runs {
			if i == 1 && runs == 3 {
				if err := editSamples(ctx, sys, stdout); err != nil {
					return err
				}
			}
			n++
			if runs > 1 || o.Every > 0 {
				fmt.Fprintf(stdout, "=== Run %d at %s\n", n, time.Now().Format(time.TimeOnly))
			}
			if _, err := syncOnce(ctx, sys, opts, progress, stdout); err != nil {
				return err
			}
		}
		return nil
	})
}

// state is the store a run keeps its state in.
type state struct {
	store sync.StateStore

	// where says where the state is kept, for the intro.
	where string

	// close closes the store and removes what it should not leave behind.
	close func()
}

// openState opens the state for -state path:
//
//   - The fakes start afresh in every process, so their state does too: it
//     is kept in a new file in a temporary directory, removed on close.
//   - A dry run writes nothing, the state included: it reads path when the
//     file exists and otherwise plans from an empty state in memory,
//     without creating the file.
//   - A run that applies keeps the state in path, creating the file. When
//     it created the file and nothing was committed to it (the run failed
//     before writing), close removes the file again.
func openState(ctx context.Context, path string, fake, dryRun bool) (*state, error) {
	_, err := os.Stat(path)
	exists := !errors.Is(err, fs.ErrNotExist) // else Open reports the error
	switch {
	case fake:
		return openTempState(path)
	case dryRun && !exists:
		store := memory.NewStateStore()
		return &state{store: store, close: func() { _ = store.Close() },
			where: fmt.Sprintf("State: %s does not exist yet, so this dry run plans from "+
				"an empty state and does not create it.", path)}, nil
	}
	store, err := boltstore.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the state: %w", err)
	}
	st := &state{store: store, where: "State: kept in " + path + "."}
	switch {
	case dryRun:
		st.where = "State: read from " + path + " (the dry run does not change it)."
	case !exists:
		st.where = "State: kept in " + path + ", a new file."
	}
	st.close = func() {
		ps, err := store.PairState(context.WithoutCancel(ctx), pair)
		_ = store.Close()
		if !exists && err == nil && ps.Revision == 0 {
			_ = os.Remove(path) // holds no state: as if never created
		}
	}
	return st, nil
}

// openTempState opens a new state file in a temporary directory, named
// like path, for a run on the fakes.
func openTempState(path string) (*state, error) {
	dir, err := os.MkdirTemp("", "keysync-state-")
	if err != nil {
		return nil, err
	}
	store, err := boltstore.Open(filepath.Join(dir, filepath.Base(path)))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("opening the state: %w", err)
	}
	return &state{store: store,
		where: "State: kept in a temporary file for this demo (the fakes start empty " +
			"each time); with real accounts it is kept in " + path + ".",
		close: func() {
			_ = store.Close()
			_ = os.RemoveAll(dir)
		}}, nil
}

// intro says what is about to happen.
// where says where the state is kept ("" when stateless).
func intro(w io.Writer, sys *demo.Systems, m demo.Mapping, opts sync.TwoWayOptions,
	where string) {
	fmt.Fprintln(w, "keysync two-way sync: Pipedrive persons ↔ HubSpot contacts")
	demo.PrintSystems(w, sys)
	fmt.Fprintf(w, "Matching Pipedrive %s with HubSpot %s (trimmed, lower-cased);\n",
		m.PipedriveKey(), m.HubSpotKey())
	fmt.Fprintln(w, "creating in each system the people only the other one has.")
	if opts.State != nil {
		fmt.Fprintln(w, "Stateful: links and last-synced email, names and phone are kept, "+
			"so edits on either side propagate too.")
		fmt.Fprintln(w, where)
	}
	if opts.DryRun {
		fmt.Fprintln(w, "DRY RUN: nothing is written. Run with -apply to write.")
	}
	switch {
	case sys.Fake() && opts.State != nil:
		fmt.Fprintln(w, "The sync runs three times: people are edited before the second run, "+
			"and the third finds nothing left to do.")
	case sys.Fake():
		fmt.Fprintln(w, "The sync runs twice: the second run finds nothing left to do.")
	}
	fmt.Fprintln(w)
}

// editSamples edits one person on each side, as users would between runs.
func editSamples(ctx context.Context, sys *demo.Systems, w io.Writer) error {
	fmt.Fprintln(w, "Meanwhile, Ava Nguyen's phone changes in HubSpot "+
		"and Ben Carter's last name in Pipedrive.")
	fmt.Fprintln(w)
	err := demo.Edit(ctx, sys.HubSpot, sys.HubSpotSystem(), "ava.nguyen@northwind.example",
		sync.Item{"properties": map[string]any{"phone": "+1 415 555 0199"}})
	if err != nil {
		return err
	}
	return demo.Edit(ctx, sys.Pipedrive, sys.PipedriveSystem(), "ben.carter@northwind.example",
		sync.Item{"name": "Ben Carter-Lopez"})
}

// syncOnce runs the two-way sync once and prints its report.
func syncOnce(ctx context.Context, sys *demo.Systems, opts sync.TwoWayOptions,
	progress *demo.Progress, w io.Writer) (sync.Report, error) {
	opts.Progress = progress.Update
	rep, err := sync.TwoWay(ctx, sys.Pipedrive, sys.HubSpot, opts)
	progress.Done()

	if err != nil && len(rep.Entries) == 0 {
		return rep, err // nothing to report: listing failed
	}
	demo.PrintReport(w, rep, sys.PipedriveSystem(), sys.HubSpotSystem())
	if err == nil {
		fmt.Fprintf(w, "Done in %s: %s.\n\n", rep.Finished.Sub(rep.Started).Round(time.Millisecond),
			writes(rep))
	}
	return rep, err
}

// writes says how many records a run wrote, or would write.
func writes(r sync.Report) string {
	n := r.Count(sync.Created) + r.Count(sync.Updated) + r.Count(sync.Deleted)
	switch {
	case r.DryRun:
		return fmt.Sprintf("%d records would be written", n)
	case n == 0:
		return "nothing written, both systems were already in step"
	}
	return fmt.Sprintf("%d records written", n)
}
