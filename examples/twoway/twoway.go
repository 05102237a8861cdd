package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
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
either side since the last run propagate too.
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
	if o.state != "" {
		store, path, err := openState(o.state, sys.Fake())
		if err != nil {
			return err
		}
		defer store.Close()
		if path != o.state {
			defer os.RemoveAll(filepath.Dir(path))
		}
		opts.State, opts.Pair, opts.Fields = store, pair, m.Fields()
	}
	intro(stdout, sys, m, opts)

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

// openState opens the state file. The fakes start afresh in every process,
// so their state does too: with them, it uses a new file in a temporary
// directory, which the caller removes, instead of path.
func openState(path string, fake bool) (*boltstore.Store, string, error) {
	if fake {
		dir, err := os.MkdirTemp("", "keysync-state-")
		if err != nil {
			return nil, "", err
		}
		path = filepath.Join(dir, filepath.Base(path))
	}
	store, err := boltstore.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("opening the state: %w", err)
	}
	return store, path, nil
}

// intro says what is about to happen.
func intro(w io.Writer, sys *demo.Systems, m demo.Mapping, opts sync.TwoWayOptions) {
	fmt.Fprintln(w, "keysync two-way sync: Pipedrive persons ↔ HubSpot contacts")
	demo.PrintSystems(w, sys)
	fmt.Fprintf(w, "Matching Pipedrive %s with HubSpot %s (trimmed, lower-cased);\n",
		m.PipedriveKey(), m.HubSpotKey())
	fmt.Fprintln(w, "creating in each system the people only the other one has.")
	if opts.State != nil {
		fmt.Fprintln(w, "Stateful: links and last-synced email, names and phone are kept, "+
			"so edits on either side propagate too.")
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
