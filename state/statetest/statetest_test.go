package statetest_test

import (
	"testing"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/statetest"
)

func TestRun(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(t *testing.T) keysync.StateStore {
		s := memory.NewStateStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
