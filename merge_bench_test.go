package sync_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/keysync/sync"
)

// benchPersons returns n Pipedrive v1 persons; person i has the email
// p<i>@example.com.
func benchPersons(n int) []sync.Item {
	out := make([]sync.Item, n)
	for i := range out {
		out[i] = sync.Item{
			"id":         float64(i + 1),
			"name":       fmt.Sprintf("Person %d", i),
			"first_name": "Person",
			"last_name":  fmt.Sprint(i),
			"email": []any{map[string]any{
				"label": "work", "value": fmt.Sprintf("p%d@example.com", i), "primary": true,
			}},
			"phone":       []any{map[string]any{"label": "", "value": "", "primary": true}},
			"owner_id":    float64(1001),
			"active_flag": true,
		}
	}
	return out
}

// benchContacts returns n HubSpot v1 contacts; contact j has the email of
// person 2j for j < n/2 and an email no person has otherwise, so that half of
// n persons match.
func benchContacts(n int) []sync.Item {
	out := make([]sync.Item, n)
	for j := range out {
		email := fmt.Sprintf("c%d@example.com", j)
		if j < n/2 {
			email = fmt.Sprintf("p%d@example.com", 2*j)
		}
		vid := float64(j + 100)
		out[j] = sync.Item{
			"vid": vid,
			"properties": map[string]any{
				"firstname": map[string]any{"value": "Contact"},
				"lastname":  map[string]any{"value": fmt.Sprint(j)},
			},
			"identity-profiles": []any{map[string]any{
				"vid": vid,
				"identities": []any{
					map[string]any{"type": "EMAIL", "value": email, "is-primary": true},
					map[string]any{"type": "LEAD_GUID", "value": fmt.Sprintf("guid-%d", j)},
				},
			}},
		}
	}
	return out
}

// handWrittenRemove is the baseline: a loop that knows both shapes, with
// type assertions and a set.
func handWrittenRemove(persons, contacts []sync.Item) []sync.Item {
	seen := make(map[string]struct{}, len(contacts))
	for _, c := range contacts {
		profiles, _ := c["identity-profiles"].([]any)
		if len(profiles) == 0 {
			continue
		}
		profile, _ := profiles[0].(map[string]any)
		ids, _ := profile["identities"].([]any)
		if len(ids) == 0 {
			continue
		}
		id, _ := ids[0].(map[string]any)
		if v, _ := id["value"].(string); v != "" {
			seen[v] = struct{}{}
		}
	}
	out := make([]sync.Item, 0, len(persons))
	for _, p := range persons {
		if v, ok := personEmail(p); ok {
			if _, hit := seen[v]; hit {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func personEmail(p sync.Item) (string, bool) {
	emails, _ := p["email"].([]any)
	if len(emails) == 0 {
		return "", false
	}
	e, _ := emails[0].(map[string]any)
	v, ok := e["value"].(string)
	return v, ok
}

// BenchmarkRemoveKeyMatches measures the one-way sync's core step on
// 200,000 Pipedrive persons against 200,000 HubSpot contacts, half matching.
// n8n's Merge node needs about 300 ms for this.
func BenchmarkRemoveKeyMatches(b *testing.B) {
	const n = 200_000
	persons, contacts := benchPersons(n), benchContacts(n)
	const key1, key2 = "email[0].value", "identity-profiles[0].identities[0].value"
	runtime.GC() // finish collecting after the build, outside both timers

	b.Run("RemoveKeyMatches", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := sync.RemoveKeyMatches(persons, contacts, key1, key2)
			if err != nil || len(out) != n/2 {
				b.Fatalf("got %d items, %v", len(out), err)
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out := handWrittenRemove(persons, contacts); len(out) != n/2 {
				b.Fatalf("got %d items", len(out))
			}
		}
	})
}
