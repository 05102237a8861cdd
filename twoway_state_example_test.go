package sync_test

import (
	"context"
	"fmt"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// A stateful two-way sync between two in-memory systems: the first run
// creates what each side lacks; after people edit different fields of the
// same person on both sides, the next run merges both edits, and a run after
// that writes nothing.
func ExampleTwoWay_stateful() {
	ctx := context.Background()
	crm := memory.New() // A: flat records
	mail := memory.New(memory.WithIDField("contact_id"))
	crm.Put(sync.Item{"email": "dana@example.com", "name": "Dana", "phone": "555-0100"})
	mail.Put(sync.Item{"contact_id": "c1", "properties": map[string]any{
		"email": "fox@example.com", "firstname": "Fox"}})

	crmFields, err := sync.FieldPaths(map[string]string{
		"email": "email", "name": "name", "phone": "phone"})
	if err != nil {
		panic(err)
	}
	mailFields, err := sync.FieldPaths(map[string]string{
		"email": "properties.email", "name": "properties.firstname", "phone": "properties.phone"})
	if err != nil {
		panic(err)
	}
	opts := sync.TwoWayOptions{
		AKey: "email", BKey: "properties.email", Normalize: sync.NormalizeEmail,
		AName: "crm", BName: "mail",
		State: memory.NewStateStore(), Pair: "people",
		Fields:    sync.FieldMapping{A: crmFields, B: mailFields},
		Conflicts: sync.ConflictPolicy{Mode: sync.ConflictPreferA},
	}
	run := func() {
		report, err := sync.TwoWay(ctx, crm, mail, opts)
		if err != nil {
			panic(err)
		}
		fmt.Println(report)
	}
	run()

	// Dana's phone changes in the CRM, her first name in the mail tool.
	for _, it := range crm.Items() {
		if it["email"] == "dana@example.com" {
			it["phone"] = "555-0199"
			crm.Put(it)
		}
	}
	for _, it := range mail.Items() {
		props := it["properties"].(map[string]any)
		if props["email"] == "dana@example.com" {
			props["firstname"] = "Danielle"
			mail.Put(it)
		}
	}
	run()
	run()

	for _, it := range mail.Items() {
		p := it["properties"].(map[string]any)
		fmt.Println(p["email"], p["firstname"], p["phone"])
	}
	// Output:
	// crm→mail: created 1, updated 0, unchanged 0, skipped 0, failed 0; mail→crm: created 1, updated 0, unchanged 0, skipped 0, failed 0
	// crm→mail: created 0, updated 1, unchanged 1, skipped 0, failed 0; mail→crm: created 0, updated 1, unchanged 1, skipped 0, failed 0
	// crm→mail: created 0, updated 0, unchanged 2, skipped 0, failed 0; mail→crm: created 0, updated 0, unchanged 2, skipped 0, failed 0
	// fox@example.com Fox <nil>
	// dana@example.com Danielle 555-0199
}
