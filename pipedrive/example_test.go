package pipedrive_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func ExampleClient_Persons() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	s.Seed(
		pipedrivetest.Person{Name: "Dana Example",
			Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}}},
		pipedrivetest.Person{Name: "Eli Sample"},
	)

	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL))
	if err != nil {
		log.Fatal(err)
	}
	for p, err := range c.Persons(context.Background(), pipedrive.ListOptions{}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p["id"], p["name"], p["emails"])
	}
	// Output:
	// 1 Dana Example [map[label:work primary:true value:dana@example.com]]
	// 2 Eli Sample []
}

func ExampleNewPersons() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL))
	if err != nil {
		log.Fatal(err)
	}
	// Legacy makes the connector speak the v1 shape that n8n workflows use.
	persons, err := pipedrive.NewPersons(c, pipedrive.PersonsOptions{Legacy: true})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	res, err := persons.Write(ctx, []keysync.Write{{
		Op:   keysync.OpCreate,
		Key:  "ann@example.com",
		Item: keysync.Item{"name": "Ann Lee", "email": "ann@example.com"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created id", persons.RecordID(res[0].Item), "error", res[0].Err)

	for p, err := range persons.List(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		email := p["email"].([]any)[0].(map[string]any)
		fmt.Println(p["first_name"], p["last_name"], email["value"], p["active_flag"])
	}
	// Output:
	// created id 1 error <nil>
	// Ann Lee ann@example.com true
}

func ExamplePersons_Write_ambiguousCreate() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL))
	if err != nil {
		log.Fatal(err)
	}
	persons, err := pipedrive.NewPersons(c, pipedrive.PersonsOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// The server stores the person, then the connection breaks before the
	// answer arrives. The connector finds the stored person instead of
	// creating a second one.
	s.DropAfterCommitNext(1)
	res, err := persons.Write(context.Background(), []keysync.Write{{
		Op:   keysync.OpCreate,
		Key:  "dana@example.com",
		Item: keysync.Item{"name": "Dana Example", "emails": []string{"dana@example.com"}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res[0].Item["name"], res[0].Err)
	fmt.Println("persons stored:", len(s.Persons()))
	// Output:
	// Dana Example <nil>
	// persons stored: 1
}

func ExampleClient_SearchByEmail() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	s.Seed(pipedrivetest.Person{Name: "Dana Example",
		Emails: []pipedrivetest.Contact{{Value: "Dana@Example.com"}}})
	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL))
	if err != nil {
		log.Fatal(err)
	}

	hits, err := c.SearchByEmail(context.Background(), "dana@example.com")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range hits {
		fmt.Println(p["id"], p["name"])
	}
	// Output:
	// 1 Dana Example
}

func ExampleToLegacy() {
	v2 := keysync.Item{
		"id":   101,
		"name": "Dana Example",
		"emails": []any{
			map[string]any{"value": "dana@example.com", "primary": true, "label": "work"},
		},
		"owner_id":   7,
		"is_deleted": false,
	}
	v1 := pipedrive.ToLegacy(v2)
	fmt.Println(v1["email"], v1["primary_email"], v1["owner_id"], v1["active_flag"])
	// Output:
	// [map[label:work primary:true value:dana@example.com]] dana@example.com map[id:7 value:7] true
}

func ExampleAPIError() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	c, err := pipedrive.NewClient("not-the-token", pipedrive.WithBaseURL(s.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Get(context.Background(), 1)
	var apiErr *pipedrive.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	fmt.Println(errors.Is(err, keysync.ErrUnauthorized))
	// Output:
	// 401 unauthorized access
	// true
}
