package memory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	keysync "github.com/keysync/sync"
)

// ErrCommitInjected is the error a [StateStore] returns from the commits
// that [StateStore.FailCommitsAfter] makes fail.
var ErrCommitInjected = errors.New("memory: injected commit failure")

// StateStore is a [keysync.StateStore] that keeps everything in memory, for
// tests and examples. Its zero value is an empty store, as [NewStateStore]
// returns.
// It is safe for concurrent use. Run locks are per store value, as if each
// StateStore were one worker's database.
type StateStore struct {
	mu         sync.Mutex
	pairs      map[string]*memPair
	locks      map[string]bool
	closed     bool
	failAfter  int // 1 + commits left before injected failures; 0 = never fail
	commits    int
	linkWrites int
}

type memPair struct {
	links map[string]keysync.Link
	state keysync.PairState
}

// NewStateStore returns an empty store.
func NewStateStore() *StateStore {
	return &StateStore{}
}

// Lock implements [keysync.StateStore.Lock].
func (s *StateStore) Lock(ctx context.Context, pair string) error {
	if err := s.check(ctx, pair); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keysync.ErrStateClosed
	}
	if s.locks[pair] {
		return keysync.ErrLocked
	}
	if s.locks == nil {
		s.locks = make(map[string]bool)
	}
	s.locks[pair] = true
	return nil
}

// Unlock implements [keysync.StateStore.Unlock].
func (s *StateStore) Unlock(ctx context.Context, pair string) error {
	if err := s.check(ctx, pair); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keysync.ErrStateClosed
	}
	delete(s.locks, pair)
	return nil
}

// PairState implements [keysync.StateStore.PairState].
func (s *StateStore) PairState(ctx context.Context, pair string) (keysync.PairState, error) {
	if err := s.check(ctx, pair); err != nil {
		return keysync.PairState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keysync.PairState{}, keysync.ErrStateClosed
	}
	p := s.pairs[pair]
	if p == nil {
		return keysync.PairState{}, nil
	}
	return clonePairState(p.state), nil
}

// Links implements [keysync.StateStore.Links]. Each iteration takes a
// snapshot of the pair's links when it starts.
func (s *StateStore) Links(ctx context.Context, pair string) iter.Seq2[keysync.Link, error] {
	return func(yield func(keysync.Link, error) bool) {
		if err := s.check(ctx, pair); err != nil {
			yield(keysync.Link{}, err)
			return
		}
		links, err := s.snapshot(pair)
		if err != nil {
			yield(keysync.Link{}, err)
			return
		}
		for _, l := range links {
			if err := ctx.Err(); err != nil {
				yield(keysync.Link{}, fmt.Errorf("listing links: %w", err))
				return
			}
			if !yield(l, nil) {
				return
			}
		}
	}
}

func (s *StateStore) snapshot(pair string) ([]keysync.Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, keysync.ErrStateClosed
	}
	p := s.pairs[pair]
	if p == nil {
		return nil, nil
	}
	out := make([]keysync.Link, 0, len(p.links))
	for _, l := range p.links {
		out = append(out, l.Clone())
	}
	slices.SortFunc(out, func(a, b keysync.Link) int {
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Commit implements [keysync.StateStore.Commit].
func (s *StateStore) Commit(ctx context.Context, pair string, change keysync.StateChange) error {
	if err := s.check(ctx, pair); err != nil {
		return err
	}
	if err := keysync.CheckStateChange(pair, change); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keysync.ErrStateClosed
	}
	if s.failAfter == 1 {
		return ErrCommitInjected
	}
	if s.failAfter > 1 {
		s.failAfter--
	}
	if s.pairs == nil {
		s.pairs = make(map[string]*memPair)
	}
	p := s.pairs[pair]
	if p == nil {
		p = &memPair{links: make(map[string]keysync.Link)}
		s.pairs[pair] = p
	}
	for _, l := range change.Put {
		p.links[l.ID] = l.Clone()
	}
	for _, id := range change.Delete {
		delete(p.links, id)
	}
	if change.State != nil {
		rev := p.state.Revision
		p.state = clonePairState(*change.State)
		p.state.Revision = rev
	}
	p.state.Revision++
	s.commits++
	s.linkWrites += len(change.Put) + len(change.Delete)
	return nil
}

// Close implements [keysync.StateStore.Close]. It drops all data.
func (s *StateStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.pairs = nil
	s.locks = nil
	return nil
}

// FailCommitsAfter makes every commit after the next n successful ones fail
// with [ErrCommitInjected] without storing anything, simulating a process
// that dies between a write to a system and the commit of its state. A
// negative n turns the injection off.
func (s *StateStore) FailCommitsAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAfter = max(n, -1) + 1
}

// Commits returns how many commits succeeded and how many links they put
// or deleted in total, for tests that check the cost of a run.
func (s *StateStore) Commits() (commits, linkWrites int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits, s.linkWrites
}

func (s *StateStore) check(ctx context.Context, pair string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return keysync.CheckPair(pair)
}

func clonePairState(ps keysync.PairState) keysync.PairState {
	ps.UnlinkedA = slices.Clone(ps.UnlinkedA)
	ps.UnlinkedB = slices.Clone(ps.UnlinkedB)
	return ps
}
