package connectortest_test

import (
	"fmt"
	"testing"

	"github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
	"github.com/keysync/sync/memory"
)

// Example runs the conformance suite against the in-memory connector, as a
// connector's own test would. Run needs the test's *testing.T, so this
// example is compiled but not run; the package's tests run the same code.
func Example() {
	testConformance := func(t *testing.T) {
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
				return sync.Item{"email": fmt.Sprintf("person%d@example.com", i), "name": "Person"}
			},
			Key:       "email",
			Normalize: sync.NormalizeEmail,
			Invalid:   sync.Item{"name": "no email"},
			Change:    func(i int) sync.Item { return sync.Item{"name": "Renamed"} },
		})
	}
	_ = testConformance
}
