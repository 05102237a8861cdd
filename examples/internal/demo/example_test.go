package demo_test

import (
	"fmt"

	"github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
)

func ExampleMapping_PersonToContact() {
	person := sync.Item{ // a Pipedrive person, v2 shape
		"id": 7, "name": "Maria Garcia", "first_name": "Maria", "last_name": "Garcia",
		"emails": []any{
			map[string]any{"value": "maria@home.example", "primary": false},
			map[string]any{"value": " Maria.Garcia@Contoso.example", "primary": true},
		},
		"phones": []any{map[string]any{"value": "+34 91 555 0103", "primary": true}},
	}
	contact, _ := demo.Mapping{}.PersonToContact(person)
	fmt.Println(contact["properties"])

	legacy, _ := demo.Mapping{N8N: true}.PersonToContact(sync.Item{ // v1 shape
		"name": "Maria Garcia", "first_name": "Maria", "last_name": "Garcia",
		"email": []any{map[string]any{"value": "Maria.Garcia@Contoso.example"}},
	})
	for _, p := range legacy["properties"].([]any) {
		fmt.Println(p)
	}
	// Output:
	// map[email:maria.garcia@contoso.example firstname:Maria lastname:Garcia phone:+34 91 555 0103]
	// map[property:email value:maria.garcia@contoso.example]
	// map[property:firstname value:Maria]
	// map[property:lastname value:Garcia]
}
