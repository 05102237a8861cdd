// Command oneway is the one-way sync of keysync's tutorial: Pipedrive
// persons → HubSpot contacts, matched on email, creating the contacts that
// HubSpot lacks (email, first and last name, phone).
//
// Without credentials it runs against built-in fakes of both APIs, seeded
// with sample people, and prints what it did:
//
//	go run ./examples/oneway
//
// With PIPEDRIVE_API_TOKEN (and PIPEDRIVE_COMPANY_DOMAIN) and HUBSPOT_TOKEN
// set, it runs against your accounts, printing the plan only unless -apply
// is given. Flags:
//
//	-apply       write to the real services (the fakes are always written)
//	-every 1m    repeat until interrupted, as the tutorial's Cron node does
//	-n8n-paths   match on the tutorial's key paths email[0].value and
//	             identity-profiles[0].identities[0].value
//	-v           log every request to stderr (never the tokens)
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
