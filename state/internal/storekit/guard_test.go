package storekit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/internal/storekit"
)

func TestGuard_Enter(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		pair    string
		closed  bool
		wantErr error
	}{
		{name: "an open store admits a call", ctx: t.Context(), pair: "people"},
		{name: "a done context is refused", ctx: cancelled, pair: "people",
			wantErr: context.Canceled},
		{name: "an unusable pair name is refused", ctx: t.Context(), pair: "",
			wantErr: keysync.ErrStateInvalid},
		{name: "a closed store refuses calls", ctx: t.Context(), pair: "people", closed: true,
			wantErr: keysync.ErrStateClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var g storekit.Guard
			if tt.closed {
				require.NoError(t, g.Close(func() error { return nil }))
			}

			err := g.Enter(tt.ctx, tt.pair)

			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			g.Leave()
		})
	}
}

func TestGuard_Close(t *testing.T) {
	t.Parallel()
	t.Run("release runs once and its error is returned", func(t *testing.T) {
		t.Parallel()
		var g storekit.Guard
		errRelease := errors.New("release failed")
		runs := 0
		release := func() error {
			runs++
			return errRelease
		}

		assert.ErrorIs(t, g.Close(release), errRelease)
		assert.NoError(t, g.Close(release), "a second Close is a no-op")
		assert.Equal(t, 1, runs)
	})
	t.Run("Close releases once the calls in progress have left", func(t *testing.T) {
		t.Parallel()
		var g storekit.Guard
		require.NoError(t, g.Enter(t.Context(), "people"))
		var mu sync.Mutex
		left := false
		closed := make(chan error)
		go func() {
			closed <- g.Close(func() error {
				mu.Lock()
				defer mu.Unlock()
				if !left {
					return errors.New("released during a call")
				}
				return nil
			})
		}()

		mu.Lock()
		left = true
		mu.Unlock()
		g.Leave()

		require.NoError(t, <-closed)
		assert.ErrorIs(t, g.Enter(t.Context(), "people"), keysync.ErrStateClosed)
	})
}
