package sync_test

import (
	"errors"
	"fmt"

	"github.com/keysync/sync"
)

func ExampleLookup() {
	person := sync.Item{
		"name": "Ada Lovelace",
		"email": []any{
			map[string]any{"label": "work", "value": "ada@example.com", "primary": true},
		},
		"a.b": "flat",
	}

	email, ok := sync.Lookup(person, "email[0].value")
	fmt.Println(email, ok)

	_, ok = sync.Lookup(person, "email[1].value")
	fmt.Println(ok)

	n, _ := sync.Lookup(person, "name.length")
	fmt.Println(n)

	// As in lodash, a key that is the whole path wins over splitting it.
	flat, _ := sync.Lookup(person, "a.b")
	fmt.Println(flat)
	// Output:
	// ada@example.com true
	// false
	// 12
	// flat
}

func ExampleParseKeyPath() {
	contact := sync.Item{
		"properties": map[string]any{"email": "linus@example.com"},
	}

	p, err := sync.ParseKeyPath("properties.email")
	if err != nil {
		panic(err)
	}
	email, ok := p.Lookup(contact)
	fmt.Println(email, ok)

	// lodash would silently look up an empty key between the dots.
	_, err = sync.ParseKeyPath("properties..email")
	fmt.Println(err)
	var kerr *sync.KeyPathError
	if errors.As(err, &kerr) {
		fmt.Println(kerr.Offset)
	}
	// Output:
	// linus@example.com true
	// sync: key path "properties..email": empty key between '.' and '.' at byte 11
	// 11
}

// hubspotEmail is the primary email of a contact from HubSpot's v1 API.
var hubspotEmail = sync.MustParseKeyPath("identity-profiles[0].identities[0].value")

func ExampleKeyPath_Lookup() {
	contact := sync.Item{
		"vid": 301,
		"identity-profiles": []any{map[string]any{
			"identities": []any{
				map[string]any{"type": "EMAIL", "value": "grace@example.com"},
			},
		}},
	}

	email, ok := hubspotEmail.Lookup(contact)
	fmt.Println(email, ok)
	fmt.Println(hubspotEmail)
	// Output:
	// grace@example.com true
	// identity-profiles[0].identities[0].value
}
