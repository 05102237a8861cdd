package sync_test

import (
	"fmt"
	"runtime"
	stdsync "sync"
	"testing"

	"github.com/keysync/sync"
)

// The benchmark job: a one-way sync's matching step on 200,000 Pipedrive
// persons against 200,000 HubSpot contacts, half of the persons matching.
const (
	benchN    = 200_000
	benchKey1 = "email[0].value"
	benchKey2 = "identity-profiles[0].identities[0].value"
)

// benchInputs builds the persons and contacts once for all benchmarks: at
// about a second, building them costs more than most benchmark runs.
var benchInputs = stdsync.OnceValues(func() (persons, contacts []sync.Item) {
	persons, contacts = benchPersons(benchN), benchContacts(benchN)
	runtime.GC() // finish collecting after the build, outside every timer
	return persons, contacts
})

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

// handWrittenSet is the first half of the hand-written baseline: the set of
// contact emails, in a map sized for every contact.
func handWrittenSet(contacts []sync.Item) map[string]struct{} {
	seen := make(map[string]struct{}, len(contacts))
	for _, c := range contacts {
		if v := contactEmail(c); v != "" {
			seen[v] = struct{}{}
		}
	}
	return seen
}

// contactEmail returns the first identity value of a contact's first
// profile, or "" when it has none.
func contactEmail(c sync.Item) string {
	profiles, _ := c["identity-profiles"].([]any)
	if len(profiles) == 0 {
		return ""
	}
	profile, _ := profiles[0].(map[string]any)
	ids, _ := profile["identities"].([]any)
	if len(ids) == 0 {
		return ""
	}
	id, _ := ids[0].(map[string]any)
	v, _ := id["value"].(string)
	return v
}

// handWrittenKeys reads the email of every record with read, on two
// goroutines that take turns over chunks of 4,096 records, and returns
// how many records have one.
func handWrittenKeys(records []sync.Item, read func(sync.Item) string) int {
	const chunk = 4096
	var (
		wg    stdsync.WaitGroup
		found [2]int
	)
	for w := range found {
		wg.Go(func() {
			for lo := w * chunk; lo < len(records); lo += 2 * chunk {
				for _, r := range records[lo:min(lo+chunk, len(records))] {
					if read(r) != "" {
						found[w]++
					}
				}
			}
		})
	}
	wg.Wait()
	return found[0] + found[1]
}

// handWrittenFilter is the second half: the persons whose email is (keep)
// or is not (!keep) in seen, in order.
func handWrittenFilter(persons []sync.Item, seen map[string]struct{}, keep bool) []sync.Item {
	out := make([]sync.Item, 0, len(persons))
	for _, p := range persons {
		_, hit := seen[personEmail(p)]
		if hit == keep {
			out = append(out, p)
		}
	}
	return out
}

// personEmail returns the first email of a person, or "" (which no contact
// email is) when it has none.
func personEmail(p sync.Item) string {
	emails, _ := p["email"].([]any)
	if len(emails) == 0 {
		return ""
	}
	e, _ := emails[0].(map[string]any)
	v, _ := e["value"].(string)
	return v
}

// BenchmarkRemoveKeyMatches measures the one-way sync's core step, the
// persons no contact has yet, on 200,000 Pipedrive v1 persons (key
// "email[0].value") against 200,000 HubSpot v1 contacts (key
// "identity-profiles[0].identities[0].value"), half of the persons matching.
// n8n's own Merge node (type version 1, Node.js 20) needs 200-250 ms
// (median) for this job on our 2-core machines; see the README.
//
// The sub-benchmarks are:
//
//   - keysync: [sync.RemoveKeyMatches] called as a user calls it, key paths
//     as strings. It parses both paths, resolves every key with lodash get
//     semantics (including lodash's check that the whole path is not itself
//     a top-level key), turns keys into strings as JavaScript would, and
//     runs on up to GOMAXPROCS goroutines, as it does for every input of
//     8,192 items or more.
//   - handwritten: the loop a Go programmer would write for these two record
//     shapes on one goroutine: type assertions down to each email, a Go map
//     of the contact emails sized in advance, then one pass over the
//     persons. It knows nothing of lodash or JavaScript rules.
//   - keys-only: the floor. It reads both key paths on every record the way
//     keysync does, on the same goroutines, and does nothing else: no
//     conversion, hashing or matching.
//   - handwritten-keys-only: the floor for any Go code on these records. It
//     reads every email with the handwritten loop's type assertions, on two
//     goroutines whatever -cpu says, and does nothing else.
//
// Run with -cpu=1 to compare keysync and handwritten on one goroutine.
func BenchmarkRemoveKeyMatches(b *testing.B) {
	persons, contacts := benchInputs()
	b.Run("keysync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := sync.RemoveKeyMatches(persons, contacts, benchKey1, benchKey2)
			if err != nil || len(out) != benchN/2 {
				b.Fatalf("got %d items, %v", len(out), err)
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := handWrittenFilter(persons, handWrittenSet(contacts), false)
			if len(out) != benchN/2 {
				b.Fatalf("got %d items", len(out))
			}
		}
	})
	b.Run("keys-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n2 := sync.ResolveKeys(contacts, benchKey2)
			n1 := sync.ResolveKeys(persons, benchKey1)
			if n1 != benchN || n2 != benchN {
				b.Fatalf("found %d and %d keys", n1, n2)
			}
		}
	})
	b.Run("handwritten-keys-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n2 := handWrittenKeys(contacts, contactEmail)
			n1 := handWrittenKeys(persons, personEmail)
			if n1 != benchN || n2 != benchN {
				b.Fatalf("found %d and %d keys", n1, n2)
			}
		}
	})
}

// BenchmarkKeepKeyMatches is [BenchmarkRemoveKeyMatches] for the persons
// that a contact has, with [sync.KeepKeyMatches]; the sub-benchmarks are
// the same.
func BenchmarkKeepKeyMatches(b *testing.B) {
	persons, contacts := benchInputs()
	b.Run("keysync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := sync.KeepKeyMatches(persons, contacts, benchKey1, benchKey2)
			if err != nil || len(out) != benchN/2 {
				b.Fatalf("got %d items, %v", len(out), err)
			}
		}
	})
	b.Run("handwritten", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := handWrittenFilter(persons, handWrittenSet(contacts), true)
			if len(out) != benchN/2 {
				b.Fatalf("got %d items", len(out))
			}
		}
	})
}
