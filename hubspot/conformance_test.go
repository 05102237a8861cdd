package hubspot

import (
	"fmt"
	"testing"

	"github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
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
