package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/internal/storekit"
)

// pageSize is how many links one read transaction of Links decodes.
const pageSize = 512

var (
	bucketPairs = []byte("keysync.pairs")
	bucketLinks = []byte("links")
	keyState    = []byte("state")
)

// ErrFileLocked means the database file is open in another process (or in
// another Store of this process): bbolt allows one at a time.
var ErrFileLocked = errors.New("boltstore: database file is in use")

// Option configures [Open].
type Option func(*config) error

type config struct {
	timeout time.Duration
}

// WithTimeout sets how long [Open] waits for another process to close the
// file before giving up with [ErrFileLocked]; the default is 5 seconds and
// 0 fails at once.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("boltstore: negative timeout %v", d)
		}
		c.timeout = d
		return nil
	}
}

// Store is a [keysync.StateStore] in a bbolt database file. It is safe for
// concurrent use; run locks are held in memory, which is enough because the
// file itself can be open in one process only.
type Store struct {
	guard storekit.Guard
	db    *bolt.DB

	lockMu sync.Mutex
	locks  map[string]bool
}

// Open opens the database file at path, creating it (mode 0600) when it
// does not exist. The file stays locked against other processes until
// [Store.Close].
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{timeout: 5 * time.Second}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	timeout := cfg.timeout
	if timeout == 0 {
		// bbolt reads 0 as "wait forever"; the shortest real wait it knows is
		// one retry interval.
		timeout = time.Nanosecond
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("opening state database %s: %w", path, ErrFileLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPairs)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initializing state database %s: %w", path, err)
	}
	return &Store{db: db, locks: make(map[string]bool)}, nil
}

// Path returns the path of the database file.
func (s *Store) Path() string {
	return s.db.Path()
}

// Lock implements [keysync.StateStore.Lock].
func (s *Store) Lock(ctx context.Context, pair string) error {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.locks[pair] {
		return keysync.ErrLocked
	}
	s.locks[pair] = true
	return nil
}

// Unlock implements [keysync.StateStore.Unlock].
func (s *Store) Unlock(ctx context.Context, pair string) error {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	delete(s.locks, pair)
	return nil
}

// PairState implements [keysync.StateStore.PairState].
func (s *Store) PairState(ctx context.Context, pair string) (keysync.PairState, error) {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return keysync.PairState{}, err
	}
	defer s.guard.Leave()
	var ps keysync.PairState
	err := s.db.View(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPairs).Bucket([]byte(pair))
		if pb == nil {
			return nil
		}
		return decodeState(pb, &ps)
	})
	if err != nil {
		return keysync.PairState{}, fmt.Errorf("reading state of pair %q: %w", pair, err)
	}
	return ps, nil
}

// Links implements [keysync.StateStore.Links]. It reads the links in pages,
// each in its own read transaction, so the caller's loop body never runs
// inside a transaction.
func (s *Store) Links(ctx context.Context, pair string) iter.Seq2[keysync.Link, error] {
	return storekit.PagedLinks(pageSize, func(after []byte) ([]keysync.Link, []byte, error) {
		return s.page(ctx, pair, after)
	})
}

// page reads up to pageSize links with IDs after the given one (from the
// start when after is nil) and returns them with the last key read.
func (s *Store) page(ctx context.Context, pair string, after []byte) (
	[]keysync.Link, []byte, error,
) {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return nil, nil, err
	}
	defer s.guard.Leave()
	var (
		out  []keysync.Link
		last []byte
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		lb := linksBucket(tx, pair)
		if lb == nil {
			return nil
		}
		c := lb.Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(out) < pageSize; k, v = c.Next() {
			var l keysync.Link
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decoding link %q: %w", k, err)
			}
			out = append(out, l)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading links of pair %q: %w", pair, err)
	}
	return out, last, nil
}

// Commit implements [keysync.StateStore.Commit] in one bbolt transaction,
// which is on disk (fsynced) when Commit returns.
func (s *Store) Commit(ctx context.Context, pair string, change keysync.StateChange) error {
	if err := keysync.CheckStateChange(pair, change); err != nil {
		return err
	}
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	err := s.db.Update(func(tx *bolt.Tx) error {
		return apply(ctx, tx, pair, change)
	})
	if err != nil {
		return fmt.Errorf("committing state of pair %q: %w", pair, err)
	}
	return nil
}

func apply(ctx context.Context, tx *bolt.Tx, pair string, change keysync.StateChange) error {
	pb, err := tx.Bucket(bucketPairs).CreateBucketIfNotExists([]byte(pair))
	if err != nil {
		return err
	}
	lb, err := pb.CreateBucketIfNotExists(bucketLinks)
	if err != nil {
		return err
	}
	for i, l := range change.Put {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		v, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("encoding link %q: %w", l.ID, err)
		}
		if err := lb.Put([]byte(l.ID), v); err != nil {
			return fmt.Errorf("storing link %q: %w", l.ID, err)
		}
	}
	for _, id := range change.Delete {
		if err := lb.Delete([]byte(id)); err != nil {
			return fmt.Errorf("deleting link %q: %w", id, err)
		}
	}
	var ps keysync.PairState
	if err := decodeState(pb, &ps); err != nil {
		return err
	}
	rev := ps.Revision
	if change.State != nil {
		ps = *change.State
	}
	ps.Revision = rev + 1
	v, err := json.Marshal(ps)
	if err != nil {
		return fmt.Errorf("encoding pair state: %w", err)
	}
	if err := pb.Put(keyState, v); err != nil {
		return fmt.Errorf("storing pair state: %w", err)
	}
	return ctx.Err()
}

// Close implements [keysync.StateStore.Close]: it releases the run locks and
// closes the file.
func (s *Store) Close() error {
	return s.guard.Close(func() error {
		s.lockMu.Lock()
		clear(s.locks)
		s.lockMu.Unlock()
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("closing state database: %w", err)
		}
		return nil
	})
}

func linksBucket(tx *bolt.Tx, pair string) *bolt.Bucket {
	pb := tx.Bucket(bucketPairs).Bucket([]byte(pair))
	if pb == nil {
		return nil
	}
	return pb.Bucket(bucketLinks)
}

func decodeState(pb *bolt.Bucket, ps *keysync.PairState) error {
	v := pb.Get(keyState)
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(v, ps); err != nil {
		return fmt.Errorf("decoding pair state: %w", err)
	}
	return nil
}
