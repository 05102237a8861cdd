package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"iter"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/internal/storekit"
)

const (
	// lockSpace ("ksyn") is the first key of the two-key advisory lock that
	// serializes schema setup, so that it does not collide with an
	// application's two-key advisory locks. Run locks are single-key locks
	// (see [Store.lockKey]), so they do not collide with it either.
	lockSpace = 0x6b73796e
	// schemaLock is the second key of the lock that serializes schema setup.
	schemaLock = 0
	// pageSize is how many links one query of Links reads.
	pageSize = 1000
	// chunkSize is how many links one statement of Commit writes.
	chunkSize = 5000
	// releaseTimeout bounds the unlock queries Close sends.
	releaseTimeout = 5 * time.Second
	// acquireTimeout bounds how long Lock waits for a free connection of
	// the pool.
	acquireTimeout = 3 * time.Second
)

// ErrConnString means the connection string given to [Open] could not be
// parsed. The parser's message is withheld because it may contain the
// password.
var ErrConnString = errors.New("pgstore: cannot parse the connection string")

// ErrLockLost means the store no longer holds a pair's run lock it took:
// its connection was lost, and with it the advisory lock.
var ErrLockLost = errors.New("pgstore: the run lock of the pair was lost")

var prefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// Option configures [Open] and [New].
type Option func(*config) error

type config struct {
	prefix string
}

// WithTablePrefix sets the prefix of the two tables the store uses
// (default "keysync_", giving keysync_pairs and keysync_links). It must be
// a lowercase SQL identifier of at most 41 characters.
func WithTablePrefix(prefix string) Option {
	return func(c *config) error {
		if !prefixRE.MatchString(prefix) {
			return fmt.Errorf("pgstore: invalid table prefix %q", prefix)
		}
		c.prefix = prefix
		return nil
	}
}

// Store is a [keysync.StateStore] in PostgreSQL, for deployments in which
// several workers run syncs: its run locks are PostgreSQL advisory locks,
// held by every worker that uses the same database. It is safe for
// concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	links   string // quoted table names
	pairs   string
	prefix  string // table prefix, part of the run locks' keys

	guard storekit.Guard

	lockMu sync.Mutex
	locks  map[string]*heldLock
}

// heldLock is a run lock: the advisory lock lives in the session of conn,
// which the store keeps out of the pool until Unlock.
type heldLock struct {
	mu   sync.Mutex // serializes use of conn
	conn *pgxpool.Conn
}

// Open connects to the database that connString names (a URL or key=value
// string as [pgxpool.ParseConfig] reads it), creates the tables when they
// do not exist and returns a store that owns the connection pool.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, ErrConnString
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New returns a store that uses pool, creating the tables when they do not
// exist. [Store.Close] leaves the pool open; the caller closes it after the
// store. Each run lock holds one connection of the pool for the length of
// the run (the run's reads and commits use it too), so the pool needs at
// least one connection per concurrent run of this store plus one; pgxpool's
// default is the larger of 4 and the number of CPUs (pool_max_conns in the
// connection string). [Store.Lock] returns [keysync.ErrLocked] when no
// connection frees up within a few seconds.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	cfg := config{prefix: "keysync_"}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Store{
		pool:   pool,
		prefix: cfg.prefix,
		links:  pgx.Identifier{cfg.prefix + "links"}.Sanitize(),
		pairs:  pgx.Identifier{cfg.prefix + "pairs"}.Sanitize(),
		locks:  make(map[string]*heldLock),
	}
	if err := s.createSchema(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) createSchema(ctx context.Context) error {
	// Concurrent CREATE TABLE IF NOT EXISTS can fail on PostgreSQL's catalog
	// constraints, so workers starting together take turns.
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`,
			lockSpace, schemaLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
CREATE TABLE IF NOT EXISTS `+s.pairs+` (
	pair text NOT NULL PRIMARY KEY,
	revision bigint NOT NULL,
	state text NOT NULL
);
CREATE TABLE IF NOT EXISTS `+s.links+` (
	pair text NOT NULL,
	id text COLLATE "C" NOT NULL,
	link text NOT NULL,
	PRIMARY KEY (pair, id)
)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("creating state tables: %w", err)
	}
	return nil
}

// Lock implements [keysync.StateStore.Lock] with
// pg_try_advisory_lock on a connection that the store holds until Unlock
// and uses for every call about the pair meanwhile. If that connection is
// lost, PostgreSQL releases the lock and every later Commit of the pair
// through this store fails, so a run never goes on without its lock. When
// every connection the pool may open is in use and none frees up within a
// few seconds, Lock returns [keysync.ErrLocked] (wrapped): the pool is too
// small for the runs it serves. When the pool has room but connecting
// fails or stalls (a database outage), Lock returns that error instead.
func (s *Store) Lock(ctx context.Context, pair string) error {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()

	h := &heldLock{}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.lockMu.Lock()
	if s.locks[pair] != nil {
		s.lockMu.Unlock()
		return keysync.ErrLocked
	}
	s.locks[pair] = h
	s.lockMu.Unlock()

	conn, err := s.tryLock(ctx, pair)
	if err != nil {
		s.lockMu.Lock()
		delete(s.locks, pair)
		s.lockMu.Unlock()
		return err
	}
	h.conn = conn
	return nil
}

// poolFull reports whether every connection the pool may open is open
// (or being opened), so that waiting for one means waiting for other runs.
func (s *Store) poolFull() bool {
	st := s.pool.Stat()
	return st.TotalConns() >= st.MaxConns()
}

// lockKey returns the advisory lock key of a pair: a 64-bit FNV-1a hash of
// the table prefix and the pair, so that stores with different prefixes do
// not share locks and distinct pairs practically never do.
func (s *Store) lockKey(pair string) int64 {
	h := fnv.New64a()
	h.Write([]byte("keysync\x00" + s.prefix + "\x00" + pair))
	return int64(h.Sum64())
}

func (s *Store) tryLock(ctx context.Context, pair string) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, acquireTimeout)
	conn, err := s.pool.Acquire(actx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && s.poolFull() {
			return nil, fmt.Errorf("locking pair %q: %w (no free connection in the pool "+
				"within %s)", pair, keysync.ErrLocked, acquireTimeout)
		}
		// The pool had room, so connecting stalled or failed: an outage,
		// not a lock held by another run.
		return nil, fmt.Errorf("locking pair %q: connecting to PostgreSQL: %w", pair, err)
	}
	var ok bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1::bigint)`, s.lockKey(pair)).Scan(&ok)
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("locking pair %q: %w", pair, err)
	}
	if !ok {
		conn.Release()
		return nil, keysync.ErrLocked
	}
	return conn, nil
}

// Unlock implements [keysync.StateStore.Unlock].
func (s *Store) Unlock(ctx context.Context, pair string) error {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	s.lockMu.Lock()
	h := s.locks[pair]
	delete(s.locks, pair)
	s.lockMu.Unlock()
	if h == nil {
		return nil
	}
	return h.release(ctx, s.lockKey(pair), pair)
}

// release unlocks and returns the connection to the pool; when the unlock
// fails it closes the connection, which ends the session and so the lock.
func (h *heldLock) release(ctx context.Context, key int64, pair string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn == nil {
		return nil
	}
	conn := h.conn
	h.conn = nil
	defer conn.Release()
	var held bool
	err := conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1::bigint)`, key).Scan(&held)
	if err != nil {
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		return fmt.Errorf("unlocking pair %q (the connection was closed instead): %w", pair, err)
	}
	if !held {
		return fmt.Errorf("unlocking pair %q: %w", pair, ErrLockLost)
	}
	return nil
}

// PairState implements [keysync.StateStore.PairState].
func (s *Store) PairState(ctx context.Context, pair string) (keysync.PairState, error) {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return keysync.PairState{}, err
	}
	defer s.guard.Leave()
	var (
		ps  keysync.PairState
		rev int64
		raw string
	)
	err := s.onPair(pair, func(db querier) error {
		return db.QueryRow(ctx, `SELECT revision, state FROM `+s.pairs+` WHERE pair = $1`,
			pair).Scan(&rev, &raw)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return keysync.PairState{}, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(raw), &ps)
	}
	if err != nil {
		return keysync.PairState{}, fmt.Errorf("reading state of pair %q: %w", pair, err)
	}
	ps.Revision = rev
	return ps, nil
}

// Links implements [keysync.StateStore.Links], reading pages of links by
// keyset pagination so that no query stays open while the loop body runs.
func (s *Store) Links(ctx context.Context, pair string) iter.Seq2[keysync.Link, error] {
	return storekit.PagedLinks(pageSize, func(after string) ([]keysync.Link, string, error) {
		return s.page(ctx, pair, after)
	})
}

// page reads up to pageSize links with IDs after the given one (from the
// start when after is "") and returns them with the ID of the last.
func (s *Store) page(ctx context.Context, pair, after string) ([]keysync.Link, string, error) {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return nil, "", err
	}
	defer s.guard.Leave()
	out := make([]keysync.Link, 0, pageSize)
	err := s.onPair(pair, func(db querier) error {
		rows, err := db.Query(ctx, `SELECT id, link FROM `+s.links+`
WHERE pair = $1 AND id > $2 ORDER BY id LIMIT $3`, pair, after, pageSize)
		if err != nil {
			return err
		}
		var id, raw string
		_, err = pgx.ForEachRow(rows, []any{&id, &raw}, func() error {
			var l keysync.Link
			if err := json.Unmarshal([]byte(raw), &l); err != nil {
				return fmt.Errorf("decoding link %q: %w", id, err)
			}
			out = append(out, l)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading links of pair %q: %w", pair, err)
	}
	if len(out) == 0 {
		return out, after, nil
	}
	return out, out[len(out)-1].ID, nil
}

// Commit implements [keysync.StateStore.Commit] in one transaction. While
// this store holds the pair's run lock, the transaction runs on the lock's
// connection, so a commit fails rather than succeed after the lock was lost.
func (s *Store) Commit(ctx context.Context, pair string, change keysync.StateChange) error {
	if err := keysync.CheckStateChange(pair, change); err != nil {
		return err
	}
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	ids, docs, err := encodeLinks(change.Put)
	if err != nil {
		return err
	}
	var state *string
	if change.State != nil {
		b, err := json.Marshal(change.State)
		if err != nil {
			return fmt.Errorf("encoding pair state: %w", err)
		}
		js := string(b)
		state = &js
	}

	do := func(db beginner) error {
		return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			return s.apply(ctx, tx, pair, ids, docs, change.Delete, state)
		})
	}
	s.lockMu.Lock()
	h := s.locks[pair]
	s.lockMu.Unlock()
	if h != nil {
		err = h.with(func(c *pgxpool.Conn) error {
			if c == nil {
				return ErrLockLost
			}
			return do(c)
		})
	} else {
		err = do(s.pool)
	}
	if err != nil {
		return fmt.Errorf("committing state of pair %q: %w", pair, err)
	}
	return nil
}

type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// onPair runs fn on the connection of the pair's run lock while this store
// holds it (so that a run needs no second connection), else on the pool.
func (s *Store) onPair(pair string, fn func(querier) error) error {
	s.lockMu.Lock()
	h := s.locks[pair]
	s.lockMu.Unlock()
	if h == nil {
		return fn(s.pool)
	}
	return h.with(func(c *pgxpool.Conn) error {
		if c == nil {
			// Lock failed (it holds h.mu until it is done), or Unlock
			// released the lock meanwhile: the pair is not locked.
			return fn(s.pool)
		}
		return fn(c)
	})
}

// Held implements [keysync.LockChecker]: it returns nil when this store
// still holds the pair's run lock, checked on the lock's connection, and
// an error matching [ErrLockLost] when the lock or its connection is gone.
func (s *Store) Held(ctx context.Context, pair string) error {
	if err := s.guard.Enter(ctx, pair); err != nil {
		return err
	}
	defer s.guard.Leave()
	s.lockMu.Lock()
	h := s.locks[pair]
	s.lockMu.Unlock()
	if h == nil {
		return fmt.Errorf("checking the run lock of pair %q: %w", pair, ErrLockLost)
	}
	key := uint64(s.lockKey(pair))
	return h.with(func(c *pgxpool.Conn) error {
		if c == nil {
			return fmt.Errorf("checking the run lock of pair %q: %w", pair, ErrLockLost)
		}
		var held bool
		err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
AND classid = $1::bigint::oid AND objid = $2::bigint::oid)`,
			int64(key>>32), int64(key&0xffffffff)).Scan(&held)
		switch {
		case err != nil:
			return fmt.Errorf("checking the run lock of pair %q: %w", pair, err)
		case !held:
			return fmt.Errorf("checking the run lock of pair %q: %w", pair, ErrLockLost)
		}
		return nil
	})
}

func (h *heldLock) with(fn func(*pgxpool.Conn) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fn(h.conn)
}

func (s *Store) apply(ctx context.Context, tx pgx.Tx, pair string,
	ids, docs []string, deletes []string, state *string,
) error {
	for start := 0; start < len(ids); start += chunkSize {
		end := min(start+chunkSize, len(ids))
		_, err := tx.Exec(ctx, `INSERT INTO `+s.links+` (pair, id, link)
SELECT $1, u.id, u.link FROM unnest($2::text[], $3::text[]) AS u(id, link)
ON CONFLICT (pair, id) DO UPDATE SET link = EXCLUDED.link`,
			pair, ids[start:end], docs[start:end])
		if err != nil {
			return fmt.Errorf("storing links: %w", err)
		}
	}
	for start := 0; start < len(deletes); start += chunkSize {
		end := min(start+chunkSize, len(deletes))
		_, err := tx.Exec(ctx, `DELETE FROM `+s.links+` WHERE pair = $1 AND id = ANY($2::text[])`,
			pair, deletes[start:end])
		if err != nil {
			return fmt.Errorf("deleting links: %w", err)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+s.pairs+` AS p (pair, revision, state)
VALUES ($1, 1, COALESCE($2::text, '{}'))
ON CONFLICT (pair) DO UPDATE SET revision = p.revision + 1, state = COALESCE($2::text, p.state)`,
		pair, state)
	if err != nil {
		return fmt.Errorf("storing pair state: %w", err)
	}
	return nil
}

// encodeLinks returns the IDs and JSON documents of links, the last one
// winning when an ID repeats (one statement cannot update a row twice).
func encodeLinks(links []keysync.Link) (ids, docs []string, err error) {
	pos := make(map[string]int, len(links))
	for _, l := range links {
		b, err := json.Marshal(l)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding link %q: %w", l.ID, err)
		}
		if i, ok := pos[l.ID]; ok {
			docs[i] = string(b)
			continue
		}
		pos[l.ID] = len(ids)
		ids = append(ids, l.ID)
		docs = append(docs, string(b))
	}
	return ids, docs, nil
}

// Close implements [keysync.StateStore.Close]: it releases the run locks
// this store holds and, when [Open] made the pool, closes it.
func (s *Store) Close() error {
	return s.guard.Close(s.release)
}

// release releases the run locks and closes the pool Open made.
func (s *Store) release() error {
	s.lockMu.Lock()
	held := s.locks
	s.locks = nil
	s.lockMu.Unlock()

	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	for pair, h := range held {
		errs = append(errs, h.release(ctx, s.lockKey(pair), pair))
	}
	if s.ownPool {
		s.pool.Close()
	}
	return errors.Join(errs...)
}
