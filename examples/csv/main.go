// Command csv syncs a CSV file of leads (a spreadsheet export with the
// columns id, email, first_name, last_name, company and phone) into HubSpot
// contacts, matched on email, through a small custom connector: the
// Connector type of this package, written the way the README tells you to
// write your own.
//
// Without HUBSPOT_TOKEN it syncs the sample leads (testdata/leads.csv,
// embedded) into a built-in HubSpot fake and prints what it did:
//
//	go run ./examples/csv
//	go run ./examples/csv -file my-leads.csv
//
// With HUBSPOT_TOKEN set it prints the plan for your HubSpot account, and
// carries it out with -apply.
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
