package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
	"github.com/keysync/sync/hubspot"
	"github.com/keysync/sync/hubspot/hubspottest"
)

// sampleLeads is testdata/leads.csv, the leads synced without -file.
//
//go:embed testdata/leads.csv
var sampleLeads string

// leadColumns maps the lead columns to HubSpot contact properties.
func leadColumns() map[string]string {
	return map[string]string{
		"email": "email", "first_name": "firstname", "last_name": "lastname",
		"company": "company", "phone": "phone",
	}
}

// leadsInHubSpot are the contacts the HubSpot fake starts with: three of
// the sample leads and a contact that is not in the sample.
func leadsInHubSpot() []map[string]string {
	return []map[string]string{
		{"email": "ava.nguyen@northwind.example", "firstname": "Ava", "lastname": "Nguyen"},
		{"email": "priya.sharma@contoso.example", "firstname": "Priya", "lastname": "Sharma"},
		{"email": "tom.baker@tailspin.example", "firstname": "Tom", "lastname": "Baker"},
		{"email": "jonas.berg@fourthcoffee.example", "firstname": "Jonas", "lastname": "Berg"},
	}
}

const usage = `Usage: go run ./examples/csv [flags]

Syncs a CSV file of leads (columns id, email, first_name, last_name, company,
phone) into HubSpot contacts, matched on email, creating the contacts HubSpot
lacks. Without HUBSPOT_TOKEN it uses a built-in HubSpot fake; with it, it
prints the plan for your account, and carries it out with -apply.
`

// flags are the command-line flags.
type flags struct {
	file           string
	apply, verbose bool
}

// command is the csv command line.
func command() demo.Command {
	var f flags
	return demo.Command{
		Name: "csv", Usage: usage,
		Register: func(fs *flag.FlagSet) {
			fs.StringVar(&f.file, "file", "", "the CSV file of leads (default: the sample leads)")
			fs.BoolVar(&f.apply, "apply", false,
				"write to the real HubSpot (without it, a run against it only prints the plan)")
			fs.BoolVar(&f.verbose, "v", false, "log each request and skipped record to stderr")
		},
		Run: func(_, runCtx context.Context, env demo.Env, stdout, stderr io.Writer) error {
			return run(runCtx, f, env, stdout, stderr)
		},
	}
}

// run syncs the leads file (or a copy of the sample) into HubSpot (or a
// fake) and prints the report.
func run(ctx context.Context, f flags, env demo.Env, stdout, stderr io.Writer) error {
	path := f.file
	if path != "" {
		// The connector treats a missing file as empty, as a destination
		// should; as the source here, it is a mistake.
		if _, err := os.Stat(path); err != nil {
			return err
		}
	} else {
		dir, err := os.MkdirTemp("", "keysync-leads-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "leads.csv")
		if err := os.WriteFile(path, []byte(sampleLeads), 0o644); err != nil {
			return err
		}
	}
	leads, err := New(path, Options{})
	if err != nil {
		return err
	}

	fake := env.HubSpotToken == ""
	if fake {
		hf := hubspottest.NewServer()
		defer hf.Close()
		hf.SeedProperties(leadsInHubSpot()...)
		env = demo.Env{HubSpotToken: hf.Token, HubSpotURL: hf.URL}
	}
	logger := (&demo.Flags{Verbose: f.verbose}).Logger(stderr)
	contacts, err := demo.ConnectHubSpot(env, demo.ConnectOptions{Logger: logger},
		"email", "firstname", "lastname", "company", "phone")
	if err != nil {
		return err
	}

	dryRun := !fake && !f.apply
	seeded := -1 // not the fake
	if fake {
		if seeded, err = leadsSeeded(ctx, leads); err != nil {
			return err
		}
	}
	intro(stdout, f.file, seeded, dryRun)
	progress := demo.NewProgress(stderr)
	rep, err := syncLeads(ctx, leads, contacts, dryRun, progress.Update, logger)
	progress.Done()
	if err != nil && len(rep.Entries) == 0 {
		return err // nothing to report: listing failed
	}
	demo.PrintReport(stdout, rep, leadSystem(leads), demo.HubSpotSystem(contacts.RecordID))
	if err == nil {
		fmt.Fprintf(stdout, "Done in %s.\n", rep.Finished.Sub(rep.Started).Round(time.Millisecond))
	}
	return err
}

// intro says what is about to happen. seeded is how many of the fake's
// contacts are leads of the file, or -1 when HubSpot is not the fake.
func intro(w io.Writer, file string, seeded int, dryRun bool) {
	if file == "" {
		file = "the sample leads (examples/csv/testdata/leads.csv)"
	}
	fmt.Fprintf(w, "keysync: %s → HubSpot contacts, matched on email\n", file)
	if seeded >= 0 {
		total := len(leadsInHubSpot())
		of := fmt.Sprintf("%d of them", seeded)
		switch seeded {
		case 0:
			of = "none of them"
		case total:
			of = "all of them"
		}
		fmt.Fprintf(w, "HubSpot: a built-in fake holding %d contacts, %s leads in this file\n"+
			"(set %s to use your account).\n", total, of, demo.EnvHubSpotToken)
	}
	if dryRun {
		fmt.Fprintln(w, "DRY RUN: nothing is written. Run with -apply to create the contacts.")
	}
	fmt.Fprintln(w)
}

// leadsSeeded returns how many of the contacts the HubSpot fake starts with
// ([leadsInHubSpot]) have the email of a lead in leads.
func leadsSeeded(ctx context.Context, leads *Connector) (int, error) {
	emails := map[string]bool{}
	for lead, err := range leads.List(ctx) {
		if err != nil {
			return 0, err
		}
		if e, _ := lead["email"].(string); e != "" {
			emails[keysync.NormalizeEmail(e)] = true
		}
	}
	n := 0
	for _, c := range leadsInHubSpot() {
		if emails[keysync.NormalizeEmail(c["email"])] {
			n++
		}
	}
	return n, nil
}

// syncLeads creates in HubSpot the leads it lacks.
func syncLeads(ctx context.Context, leads *Connector, contacts *hubspot.Contacts, dryRun bool,
	progress func(keysync.Progress), logger *slog.Logger) (keysync.Report, error) {
	return keysync.OneWay(ctx, leads, contacts, keysync.Options{
		SourceName: "CSV", TargetName: "HubSpot",
		SourceKey: "email", TargetKey: "properties.email",
		Normalize: keysync.NormalizeEmail,
		Map:       leadToContact,
		DryRun:    dryRun,
		Progress:  progress,
		Logger:    logger,
	})
}

// leadToContact maps a lead row to a HubSpot contact's properties.
func leadToContact(lead keysync.Item) (keysync.Item, error) {
	props := map[string]any{}
	for col, prop := range leadColumns() {
		v, _ := lead[col].(string)
		if v = strings.TrimSpace(v); v != "" {
			props[prop] = v
		}
	}
	if e, ok := props["email"].(string); ok {
		props["email"] = keysync.NormalizeEmail(e)
	}
	return keysync.Item{"properties": props}, nil
}

// leadSystem describes lead rows for demo.PrintReport.
func leadSystem(leads *Connector) demo.System {
	return demo.System{
		Name: "CSV", Noun: "lead", Nouns: "leads", ID: leads.RecordID,
		Label: func(l keysync.Item) string {
			first, _ := l["first_name"].(string)
			last, _ := l["last_name"].(string)
			return strings.TrimSpace(first + " " + last)
		},
		Emails: func(l keysync.Item) []string {
			if e, _ := l["email"].(string); strings.TrimSpace(e) != "" {
				return []string{e}
			}
			return nil
		},
	}
}
