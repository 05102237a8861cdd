package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/memory"
)

// The examples run against the fake HubSpot of package hubspottest; against
// the real service, leave out WithBaseURL.

func ExampleClient_Contacts() {
	fake := hubspottest.NewServer()
	defer fake.Close()
	fake.SeedProperties(
		map[string]string{"email": "dana@example.com", "firstname": "Dana"},
		map[string]string{"email": "sam@example.com", "firstname": "Sam"},
	)

	c, err := hubspot.NewClient(fake.Token, hubspot.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	opts := hubspot.ListOptions{Properties: []string{"email", "firstname"}}
	for contact, err := range c.Contacts(context.Background(), opts) {
		if err != nil {
			log.Fatal(err)
		}
		props := contact["properties"].(map[string]any)
		fmt.Println(props["firstname"], props["email"])
	}
	// Output:
	// Dana dana@example.com
	// Sam sam@example.com
}

func ExampleClient_BatchUpsert() {
	fake := hubspottest.NewServer()
	defer fake.Close()
	fake.SeedProperties(map[string]string{"email": "dana@example.com", "firstname": "D"})
	c, err := hubspot.NewClient(fake.Token, hubspot.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}

	results, err := c.BatchUpsert(context.Background(), []hubspot.Input{
		{Properties: map[string]string{"email": "Dana@Example.com", "firstname": "Dana"}},
		{Properties: map[string]string{"email": "sam@example.com", "firstname": "Sam"}},
		{Properties: map[string]string{"email": "broken@", "firstname": "Nope"}},
	})
	if err != nil {
		log.Fatal(err) // the whole call failed: auth, rate limit, server
	}
	for _, r := range results {
		switch {
		case errors.Is(r.Err, sync.ErrInvalid):
			fmt.Println("invalid:", r.Err)
		case r.Err != nil:
			fmt.Println("failed:", r.Err)
		default:
			props := r.Item["properties"].(map[string]any)
			fmt.Println(props["email"], "new:", r.New)
		}
	}
	// Output:
	// dana@example.com new: false
	// sam@example.com new: true
	// invalid: hubspot: VALIDATION_ERROR: Email address broken@ is invalid (rejected by the client)
}

func ExampleNewContacts() {
	fake := hubspottest.NewServer()
	defer fake.Close()
	c, err := hubspot.NewClient(fake.Token, hubspot.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	contacts := hubspot.NewContacts(c, hubspot.ContactsOptions{})

	persons := memory.New() // stands in for Pipedrive
	persons.Put(
		sync.Item{"name": "Dana", "email": []any{map[string]any{"value": "Dana@Example.com"}}},
		sync.Item{"name": "Sam", "email": []any{map[string]any{"value": "sam@example.com"}}},
	)
	report, err := sync.OneWay(context.Background(), persons, contacts, sync.Options{
		SourceKey: "email[0].value",
		TargetKey: "properties.email",
		Normalize: sync.NormalizeEmail,
		Map: func(p sync.Item) (sync.Item, error) {
			email, _ := sync.Lookup(p, "email[0].value")
			return sync.Item{"properties": map[string]any{
				"email": email, "firstname": p["name"],
			}}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", report.Count(sync.Created))
	for _, stored := range fake.Contacts() {
		fmt.Println(stored.Properties["email"], stored.Properties["firstname"])
	}
	// Output:
	// created: 2
	// dana@example.com Dana
	// sam@example.com Sam
}

func ExampleLegacyShape() {
	fake := hubspottest.NewServer()
	defer fake.Close()
	fake.SeedProperties(map[string]string{"email": "dana@example.com", "firstname": "Dana"})
	c, err := hubspot.NewClient(fake.Token, hubspot.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	// Key paths from an n8n workflow built on HubSpot's v1 contacts API.
	contacts := hubspot.NewContacts(c, hubspot.ContactsOptions{Legacy: true})
	for contact, err := range contacts.List(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		email, _ := sync.Lookup(contact, "identity-profiles[0].identities[0].value")
		name, _ := sync.Lookup(contact, "properties.firstname.value")
		fmt.Println(email, name)
	}
	// Output:
	// dana@example.com Dana
}

func ExampleRateLimitError() {
	fake := hubspottest.NewServer()
	defer fake.Close()
	c, err := hubspot.NewClient(fake.Token, hubspot.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	fake.RateLimitNextDaily(1) // the account's daily budget is spent

	_, err = c.ContactsPage(context.Background(), hubspot.ListOptions{}, "")
	var rl *hubspot.RateLimitError
	if errors.As(err, &rl) {
		fmt.Println("rate limited:", errors.Is(err, sync.ErrRateLimited))
		fmt.Println("policy:", rl.Policy, "daily:", rl.Daily())
	}
	// Output:
	// rate limited: true
	// policy: DAILY daily: true
}

func ExampleDefaultProperties() {
	// List every property the mapping writes: the defaults plus a custom one.
	opts := hubspot.ContactsOptions{
		Properties: append(hubspot.DefaultProperties(), "favourite_colour"),
	}
	for _, p := range opts.Properties {
		fmt.Println(p)
	}
	// Output:
	// email
	// firstname
	// lastname
	// phone
	// company
	// website
	// jobtitle
	// lifecyclestage
	// hs_additional_emails
	// favourite_colour
}

func ExampleWriteProperties() {
	props, err := hubspot.WriteProperties(sync.Item{"properties": map[string]any{
		"annualrevenue": 1e21, "numemployees": 42, "hs_is_vip": true, "phone": nil,
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q %q %q %q\n", props["annualrevenue"], props["numemployees"],
		props["hs_is_vip"], props["phone"])
	// Output:
	// "1000000000000000000000" "42" "true" ""
}
