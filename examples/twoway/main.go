// Command twoway is the two-way sync of keysync's tutorial: contacts that
// only HubSpot has are created in Pipedrive, and persons that only Pipedrive
// has are created in HubSpot, in one run, matched on email.
//
// Without credentials it runs against built-in fakes of both APIs, seeded
// with sample people, and syncs twice to show that the second run finds
// nothing left to do:
//
//	go run ./examples/twoway
//
// With PIPEDRIVE_API_TOKEN (and PIPEDRIVE_COMPANY_DOMAIN) and HUBSPOT_TOKEN
// set, it runs once against your accounts, printing the plan only unless
// -apply is given. The flags are those of examples/oneway (-apply, -every,
// -n8n-paths, -v) and -state:
//
//	-state keysync.db   stateful sync: keep the links between records and
//	                    their last-synced fields (email, names, phone) in
//	                    this bbolt file, so that edits propagate too
//
// A dry run never creates or changes the state file: it reads the file when
// it exists, and otherwise plans from an empty state, as a first run would.
// A run that fails before committing any state removes the file it created.
//
// Against the fakes, -state uses a temporary file instead (the fakes start
// afresh every time), says so, and edits two people between the first and
// second of three runs, to show the edits arrive on the other side.
//
// Ctrl-C (or SIGTERM) lets the run in progress finish, prints its report and
// exits; a second Ctrl-C cancels that run too.
package main

import (
	"os"

	"github.com/keysync/sync/examples/internal/demo"
)

func main() {
	stop, run, release := demo.Signals(os.Stderr)
	code := command().Main(stop, run, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	release()
	os.Exit(code)
}
