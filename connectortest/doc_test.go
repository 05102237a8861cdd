package connectortest_test

import (
	"fmt"
	"testing"

	"github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
	"github.com/keysync/sync/memory"
)

// TestConformance is the test shown in the package documentation, word for
// word, so that the documented use keeps working.
func TestConformance(t *testing.T) {
	connectortest.Run(t, connectortest.Config{
		New: func(testing.TB) sync.Connector {
			return memory.New(
				memory.WithMaxBatch(10),
				memory.WithSearchKey("email", sync.NormalizeEmail),
				memory.WithValidator(func(item sync.Item) error {
					if item["email"] == nil {
						return fmt.Errorf("email is required: %w", sync.ErrInvalid)
					}
					return nil
				}),
			)
		},
		Record: func(i int) sync.Item {
			email := fmt.Sprintf("person%d@example.com", i)
			return sync.Item{"email": email, "name": "Person"}
		},
		Key:       "email",
		Normalize: sync.NormalizeEmail,
		Invalid:   sync.Item{"name": "no email"},
		Change:    func(i int) sync.Item { return sync.Item{"name": "Renamed"} },
	})
}
