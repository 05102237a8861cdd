package hubspot

import (
	"fmt"
	"net/http"
	stdsync "sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestContacts_conformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  connectortest.Config
	}{
		{"API shape", connectortest.Config{
			Record: func(i int) sync.Item {
				return sync.Item{"properties": map[string]any{
					"email":     fmt.Sprintf("person%d@example.com", i),
					"firstname": fmt.Sprint("P", i),
				}}
			},
			Key:     "properties.email",
			Invalid: sync.Item{"properties": map[string]any{"email": "broken@"}},
			Change: func(int) sync.Item {
				return sync.Item{"properties": map[string]any{"lastname": "Changed"}}
			},
		}},
		{"legacy shape", connectortest.Config{
			Record: func(i int) sync.Item {
				return sync.Item{"properties": map[string]any{
					"email":     map[string]any{"value": fmt.Sprintf("person%d@example.com", i)},
					"firstname": map[string]any{"value": fmt.Sprint("P", i)},
				}}
			},
			Key: "identity-profiles[0].identities[0].value",
			KeyOf: func(i int) string {
				return fmt.Sprintf("person%d@example.com", i)
			},
			Invalid: sync.Item{"properties": []any{
				map[string]any{"property": "email", "value": "broken@"}}},
			Change: func(int) sync.Item {
				return sync.Item{"properties": map[string]any{
					"lastname": map[string]any{"value": "Changed"}}}
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Normalize = sync.NormalizeEmail
			cfg.New = func(t testing.TB) sync.Connector {
				return NewContacts(newClient(t, newFake(t)), ContactsOptions{
					Properties: []string{"firstname", "lastname"},
					Legacy:     tt.name == "legacy shape",
				})
			}
			connectortest.Run(t, cfg)
		})
	}
}

// TestContacts_conformance_refusedByHubSpot runs the suite with an invalid
// record that passes the client's own checks, so that HubSpot (the fake)
// refuses it and the per-record error comes back in a multi-status (207)
// response: the path a real sync meets.
func TestContacts_conformance_refusedByHubSpot(t *testing.T) {
	t.Parallel()
	var mu stdsync.Mutex
	var fakes []*hubspottest.Server
	connectortest.Run(t, connectortest.Config{
		New: func(t testing.TB) sync.Connector {
			s := newFake(t)
			mu.Lock()
			fakes = append(fakes, s)
			mu.Unlock()
			return NewContacts(newClient(t, s), ContactsOptions{
				Properties: []string{"firstname", "lastname"},
			})
		},
		Record: func(i int) sync.Item {
			return sync.Item{"properties": map[string]any{
				"email":     fmt.Sprintf("person%d@example.com", i),
				"firstname": fmt.Sprint("P", i),
			}}
		},
		Key:       "properties.email",
		Normalize: sync.NormalizeEmail,
		Change: func(int) sync.Item {
			return sync.Item{"properties": map[string]any{"lastname": "Changed"}}
		},
		// A well-formed address with a property the account does not have.
		Invalid: sync.Item{"properties": map[string]any{
			"email": "refused@example.com", "favourite_colour": "teal",
		}},
	})

	mu.Lock()
	defer mu.Unlock()
	multiStatus := 0
	for _, s := range fakes {
		for _, r := range s.Requests() {
			if r.Status == http.StatusMultiStatus {
				multiStatus++
			}
		}
	}
	assert.Positive(t, multiStatus, "the invalid record reached HubSpot and was refused alone")
}
