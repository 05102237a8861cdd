package storekit

import (
	"context"
	"sync"

	keysync "github.com/keysync/sync"
)

// Guard keeps a store's calls apart from its Close: calls run concurrently
// with each other, Close waits for those in progress, and calls after Close
// fail with keysync.ErrStateClosed. The zero value guards an open store. A
// Guard is safe for concurrent use and must not be copied after first use.
type Guard struct {
	mu     sync.RWMutex // write-locked only by Close
	closed bool
}

// Enter begins a call about pair. It returns ctx.Err() when ctx is done,
// the error of keysync.CheckPair for an unusable pair name, and
// keysync.ErrStateClosed once the store is closed. When it returns nil, the
// caller must call [Guard.Leave] when the call is done; until then Close
// waits.
func (g *Guard) Enter(ctx context.Context, pair string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := keysync.CheckPair(pair); err != nil {
		return err
	}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return keysync.ErrStateClosed
	}
	return nil
}

// Leave ends a call that [Guard.Enter] began.
func (g *Guard) Leave() { g.mu.RUnlock() }

// Close waits for the calls in progress and, at the first Close only, runs
// release with no call running and returns its error; later Closes return
// nil without running it. Calls that Enter after Close began fail.
func (g *Guard) Close(release func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return release()
}
