package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
)

const usage = `Usage: go run ./examples/oneway [flags]

Syncs Pipedrive persons into HubSpot contacts, matched on email, creating the
contacts HubSpot lacks. Without PIPEDRIVE_API_TOKEN and HUBSPOT_TOKEN it uses
built-in fakes with sample data; with them (and PIPEDRIVE_COMPANY_DOMAIN) it
prints the plan for your accounts, and carries it out with -apply.
`

// command is the oneway command line.
func command() demo.Command {
	var f demo.Flags
	return demo.Command{
		Name: "oneway", Usage: usage, Register: f.Register, Check: f.Check,
		Run: func(stop, runCtx context.Context, env demo.Env, stdout, stderr io.Writer) error {
			return run(stop, runCtx, f, env, stdout, stderr)
		},
	}
}

// run connects to the systems env names (or the fakes) and syncs once or on
// a schedule; see demo.Loop for stop and runCtx.
func run(stop, runCtx context.Context, f demo.Flags, env demo.Env, stdout, stderr io.Writer) error {
	sys, err := demo.Open(env, demo.ConnectOptions{N8N: f.N8N, Logger: f.Logger(stderr)})
	if err != nil {
		return err
	}
	defer sys.Close()

	m := demo.Mapping{N8N: f.N8N}
	intro(stdout, sys, m, f.DryRun(sys))
	progress := demo.NewProgress(stderr)
	n := 0
	return demo.Loop(stop, runCtx, f.Every, stderr, func(ctx context.Context) error {
		n++
		if f.Every > 0 {
			fmt.Fprintf(stdout, "=== Run %d at %s\n", n, time.Now().Format(time.TimeOnly))
		}
		_, err := syncOnce(ctx, sys, m, f.DryRun(sys), progress, stdout)
		return err
	})
}

// intro says what is about to happen.
func intro(w io.Writer, sys *demo.Systems, m demo.Mapping, dryRun bool) {
	fmt.Fprintln(w, "keysync one-way sync: Pipedrive persons → HubSpot contacts")
	demo.PrintSystems(w, sys)
	fmt.Fprintf(w, "Matching Pipedrive %s with HubSpot %s (trimmed, lower-cased);\n",
		m.PipedriveKey(), m.HubSpotKey())
	fmt.Fprintln(w, "creating the persons HubSpot lacks (email, first name, last name, phone).")
	if dryRun {
		fmt.Fprintln(w, "DRY RUN: nothing is written. Run with -apply to create the contacts.")
	}
	fmt.Fprintln(w)
}

// syncOnce runs the one-way sync once and prints its report.
func syncOnce(ctx context.Context, sys *demo.Systems, m demo.Mapping, dryRun bool,
	progress *demo.Progress, w io.Writer) (sync.Report, error) {
	opts := m.OneWay()
	opts.DryRun = dryRun
	opts.Progress = progress.Update
	opts.Logger = sys.Logger
	rep, err := sync.OneWay(ctx, sys.Pipedrive, sys.HubSpot, opts)
	progress.Done()

	if err != nil && len(rep.Entries) == 0 {
		return rep, err // nothing to report: listing failed
	}
	demo.PrintReport(w, rep, sys.PipedriveSystem(), sys.HubSpotSystem())
	if err == nil {
		fmt.Fprintf(w, "Done in %s.\n\n", rep.Finished.Sub(rep.Started).Round(time.Millisecond))
	}
	return rep, err
}
