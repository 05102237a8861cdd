package sync_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
	"github.com/keysync/sync/state/boltstore"
)

// This example is the README's first snippet: Pipedrive persons into HubSpot
// contacts, against the fake servers. With real accounts, only the two
// NewClient calls change (drop WithBaseURL and pass your tokens).
func ExampleOneWay_pipedriveToHubSpot() {
	pd := pipedrivetest.NewServer()
	defer pd.Close()
	hs := hubspottest.NewServer()
	defer hs.Close()
	pd.Seed(
		pipedrivetest.Person{Name: "Dana Reyes",
			Emails: []pipedrivetest.Contact{{Value: "Dana@Example.com"}}},
		pipedrivetest.Person{Name: "Eli Stone",
			Emails: []pipedrivetest.Contact{{Value: "eli@example.com"}}},
	)
	hs.SeedProperties(map[string]string{"email": "eli@example.com", "firstname": "Eli"})

	ctx := context.Background()
	report, err := syncPersons(ctx, pd.URL, pd.Token, hs.URL, hs.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report)
	// Output:
	// created 1, updated 0, unchanged 1, skipped 0, failed 0
}

func syncPersons(ctx context.Context, pdURL, pdToken, hsURL, hsToken string) (
	sync.Report, error) {
	pdClient, err := pipedrive.NewClient(pdToken, pipedrive.WithBaseURL(pdURL))
	if err != nil {
		return sync.Report{}, err
	}
	persons, err := pipedrive.NewPersons(pdClient, pipedrive.PersonsOptions{})
	if err != nil {
		return sync.Report{}, err
	}
	hsClient, err := hubspot.NewClient(hsToken, hubspot.WithBaseURL(hsURL))
	if err != nil {
		return sync.Report{}, err
	}
	contacts := hubspot.NewContacts(hsClient, hubspot.ContactsOptions{})

	return sync.OneWay(ctx, persons, contacts, sync.Options{
		SourceKey: "emails[0].value",  // Pipedrive v2 person
		TargetKey: "properties.email", // HubSpot CRM contact
		Normalize: sync.NormalizeEmail,
		Map: func(p sync.Item) (sync.Item, error) {
			email, _ := sync.Lookup(p, "emails[0].value")
			return sync.Item{"properties": map[string]any{
				"email":     email,
				"firstname": p["first_name"],
				"lastname":  p["last_name"],
			}}, nil
		},
	})
}

// This example is the README's stateful snippet: the same two systems, with
// the state kept in a bbolt file so that edits on either side propagate.
func ExampleTwoWay_pipedriveHubSpotWithState() {
	pd := pipedrivetest.NewServer()
	defer pd.Close()
	hs := hubspottest.NewServer()
	defer hs.Close()
	pd.Seed(pipedrivetest.Person{Name: "Dana Reyes",
		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}}})
	hs.SeedProperties(map[string]string{
		"email": "eli@example.com", "firstname": "Eli", "lastname": "Stone"})

	pdClient, err := pipedrive.NewClient(pd.Token, pipedrive.WithBaseURL(pd.URL))
	if err != nil {
		log.Fatal(err)
	}
	persons, err := pipedrive.NewPersons(pdClient, pipedrive.PersonsOptions{})
	if err != nil {
		log.Fatal(err)
	}
	hsClient, err := hubspot.NewClient(hs.Token, hubspot.WithBaseURL(hs.URL))
	if err != nil {
		log.Fatal(err)
	}
	contacts := hubspot.NewContacts(hsClient, hubspot.ContactsOptions{})

	dir, err := os.MkdirTemp("", "keysync-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		report, err := syncPeopleWithState(ctx, persons, contacts, filepath.Join(dir, "keysync.db"))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("run %d: %v\n", run, report)
	}
	// Output:
	// run 1: Pipedrive→HubSpot: created 1, updated 0, unchanged 0, skipped 0, failed 0; HubSpot→Pipedrive: created 1, updated 0, unchanged 0, skipped 0, failed 0
	// run 2: Pipedrive→HubSpot: created 0, updated 0, unchanged 2, skipped 0, failed 0; HubSpot→Pipedrive: created 0, updated 0, unchanged 2, skipped 0, failed 0
}

func syncPeopleWithState(ctx context.Context, persons, contacts sync.Connector, path string) (
	sync.Report, error) {
	store, err := boltstore.Open(path) // embedded, no setup
	if err != nil {
		return sync.Report{}, err
	}
	defer store.Close()

	// Common fields by name. Pipedrive keeps one full name; a custom FieldSide
	// can split it into first and last (see examples/internal/demo/fields.go).
	pd, err := sync.FieldPaths(map[string]string{
		"email": "emails[0].value", "name": "name", "phone": "phones[0].value",
	})
	if err != nil {
		return sync.Report{}, err
	}
	hs, err := sync.FieldPaths(map[string]string{
		"email": "properties.email", "name": "properties.firstname", "phone": "properties.phone",
	})
	if err != nil {
		return sync.Report{}, err
	}
	return sync.TwoWay(ctx, persons, contacts, sync.TwoWayOptions{
		AName: "Pipedrive", BName: "HubSpot",
		AKey: "emails[0].value", BKey: "properties.email", Normalize: sync.NormalizeEmail,
		State: store, Pair: "persons:contacts",
		Fields:    sync.FieldMapping{A: pd, B: hs},
		Conflicts: sync.ConflictPolicy{Mode: sync.ConflictNewest},
		Deletes:   sync.DeletePolicy{InA: sync.DeleteQuarantine},
	})
}
