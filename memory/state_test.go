package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/statetest"
)

func TestStateStore(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(t *testing.T) keysync.StateStore {
		s := memory.NewStateStore()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestStateStore_FailCommitsAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		after   int
		wantOK  int
		wantErr bool
	}{
		{name: "zero fails the next commit", after: 0, wantOK: 0, wantErr: true},
		{name: "two lets two commits through", after: 2, wantOK: 2, wantErr: true},
		{name: "negative turns injection off", after: -1, wantOK: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := memory.NewStateStore()
			s.FailCommitsAfter(tt.after)
			ok := 0
			var err error
			for i := range 5 {
				err = s.Commit(t.Context(), "p", keysync.StateChange{
					Put: []keysync.Link{{ID: string(rune('a' + i))}},
				})
				if err != nil {
					break
				}
				ok++
			}
			assert.Equal(t, tt.wantOK, ok)
			if tt.wantErr {
				require.ErrorIs(t, err, memory.ErrCommitInjected)
			}
			commits, writes := s.Commits()
			assert.Equal(t, tt.wantOK, commits)
			assert.Equal(t, tt.wantOK, writes)
			ps, err := s.PairState(t.Context(), "p")
			require.NoError(t, err)
			assert.Equal(t, int64(tt.wantOK), ps.Revision, "failed commits store nothing")
		})
	}
}

// A StateStore keeps the links of stateful syncs in memory; tests pass it as
// TwoWayOptions.State and look at what a run stored.
func ExampleStateStore() {
	ctx := context.Background()
	s := memory.NewStateStore()
	err := s.Commit(ctx, "people", keysync.StateChange{Put: []keysync.Link{
		{ID: "A:1", Key: "dana@example.com", A: "1", B: "7"},
	}})
	if err != nil {
		panic(err)
	}
	for l, err := range s.Links(ctx, "people") {
		if err != nil {
			panic(err)
		}
		fmt.Println(l.ID, l.Key, l.A, l.B)
	}
	ps, _ := s.PairState(ctx, "people")
	fmt.Println("revision", ps.Revision)
	// Output:
	// A:1 dana@example.com 1 7
	// revision 1
}
