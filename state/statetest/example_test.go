package statetest_test

import (
	"testing"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/statetest"
)

// A store's test runs the suite with a function that opens a fresh store.
// (Not run here: Run needs the *testing.T of a test.)
func ExampleRun() {
	_ = func(t *testing.T) {
		statetest.Run(t, func(t *testing.T) keysync.StateStore {
			s := memory.NewStateStore()
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	}
}
