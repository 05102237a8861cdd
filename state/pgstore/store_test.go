package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/pgstore"
	"github.com/keysync/sync/state/statetest"
)

var (
	probeOnce sync.Once
	probeErr  error
)

// testDSN returns the connection string of the test server, skipping the
// test when none is reachable outside CI and failing it in CI.
func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("KEYSYNC_TEST_POSTGRES")
	probeOnce.Do(func() {
		if dsn == "" {
			probeErr = errors.New("KEYSYNC_TEST_POSTGRES is not set")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			probeErr = err
			return
		}
		defer pool.Close()
		probeErr = pool.Ping(ctx)
	})
	if probeErr != nil {
		msg := fmt.Sprintf("no PostgreSQL server reachable (set KEYSYNC_TEST_POSTGRES to a "+
			"connection string; .ci/run starts one): %v", probeErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

func open(t *testing.T, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), testDSN(t), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(t *testing.T) keysync.StateStore { return open(t) })
}

func uniquePair(t *testing.T) string {
	return fmt.Sprintf("%s/%016x", t.Name(), rand.Uint64())
}

func TestStore_TwoWorkers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w1, w2 := open(t), open(t)
	pair := uniquePair(t)

	require.NoError(t, w1.Lock(ctx, pair))
	assert.ErrorIs(t, w2.Lock(ctx, pair), keysync.ErrLocked, "the second worker is refused")
	require.NoError(t, w2.Lock(ctx, pair+"/other"), "other pairs are free")

	require.NoError(t, w1.Commit(ctx, pair, keysync.StateChange{
		Put: []keysync.Link{{ID: "A:1", A: "1", B: "2"}},
	}))
	require.NoError(t, w1.Unlock(ctx, pair))
	require.NoError(t, w2.Lock(ctx, pair), "the lock is free after Unlock")
	var ids []string
	for l, err := range w2.Links(ctx, pair) {
		require.NoError(t, err)
		ids = append(ids, l.ID)
	}
	assert.Equal(t, []string{"A:1"}, ids, "the second worker sees the first one's commit")

	require.NoError(t, w2.Close())
	require.NoError(t, w1.Lock(ctx, pair), "Close releases the locks")
}

func TestStore_ContendingWorkers(t *testing.T) {
	t.Parallel()
	pair := uniquePair(t)
	const workers, rounds = 4, 10
	stores := make([]*pgstore.Store, workers)
	for i := range stores {
		stores[i] = open(t)
	}
	var (
		mu      sync.Mutex
		holders int
		maxHeld int
		runs    int
	)
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for range rounds {
				err := s.Lock(t.Context(), pair)
				if err != nil {
					assert.ErrorIs(t, err, keysync.ErrLocked)
					continue
				}
				mu.Lock()
				holders++
				maxHeld = max(maxHeld, holders)
				runs++
				mu.Unlock()
				assert.NoError(t, s.Commit(t.Context(), pair, keysync.StateChange{}))
				mu.Lock()
				holders--
				mu.Unlock()
				assert.NoError(t, s.Unlock(t.Context(), pair))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, maxHeld, "never two holders at once")
	ps, err := stores[0].PairState(t.Context(), pair)
	require.NoError(t, err)
	assert.Equal(t, int64(runs), ps.Revision, "one commit per successful lock")
}

func TestStore_LostLock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	w1, w2 := open(t), open(t)
	pair := uniquePair(t)
	require.NoError(t, w1.Lock(ctx, pair))

	// Kill the session that holds the lock, as a network failure would.
	admin, err := pgxpool.New(ctx, testDSN(t))
	require.NoError(t, err)
	defer admin.Close()
	var killed int
	require.NoError(t, w1.Held(ctx, pair))
	key := lockKey("keysync_", pair)
	err = admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
AND classid = $1::bigint::oid AND objid = $2::bigint::oid`,
		int64(key>>32), int64(key&0xffffffff)).Scan(&killed)
	require.NoError(t, err)
	require.Equal(t, 1, killed)
	assert.Error(t, w1.Held(ctx, pair), "the lost lock is noticed before the next commit")

	require.Eventually(t, func() bool { return w2.Lock(ctx, pair) == nil },
		10*time.Second, 20*time.Millisecond, "the server releases a dead session's lock")
	err = w1.Commit(ctx, pair, keysync.StateChange{Put: []keysync.Link{{ID: "A:1"}}})
	require.Error(t, err, "the worker that lost its lock cannot commit")
	ps, err := w2.PairState(ctx, pair)
	require.NoError(t, err)
	assert.Zero(t, ps.Revision)
	assert.Error(t, w1.Unlock(ctx, pair), "unlocking on a dead connection reports it")
	assert.ErrorIs(t, w1.Lock(ctx, pair), keysync.ErrLocked)
}

// lockKey is the advisory lock key of a pair, as the package doc gives it.
func lockKey(prefix, pair string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("keysync\x00" + prefix + "\x00" + pair))
	return h.Sum64()
}

func TestStore_LockKeyHasPrefix(t *testing.T) {
	t.Parallel()
	prod := open(t, pgstore.WithTablePrefix("kstest_prod_"))
	staging := open(t, pgstore.WithTablePrefix("kstest_staging_"))
	prod2 := open(t, pgstore.WithTablePrefix("kstest_prod_"))
	pair := uniquePair(t)
	require.NoError(t, prod.Lock(t.Context(), pair))
	assert.NoError(t, staging.Lock(t.Context(), pair), "other tables, other lock")
	assert.ErrorIs(t, prod2.Lock(t.Context(), pair), keysync.ErrLocked)
}

func TestStore_LockedPairsUseTheirConnection(t *testing.T) {
	t.Parallel()
	s, err := pgstore.Open(t.Context(), testDSN(t)+"&pool_max_conns=2")
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	p1, p2 := uniquePair(t)+"1", uniquePair(t)+"2"
	require.NoError(t, s.Lock(ctx, p1))
	require.NoError(t, s.Lock(ctx, p2))

	// Both connections of the pool hold a lock; the runs go on on them.
	require.NoError(t, s.Commit(ctx, p1, keysync.StateChange{Put: []keysync.Link{{ID: "A:1"}}}))
	ps, err := s.PairState(ctx, p1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), ps.Revision)
	n := 0
	for _, err := range s.Links(ctx, p1) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 1, n)
	require.NoError(t, s.Held(ctx, p2))

	assert.ErrorIs(t, s.Lock(ctx, uniquePair(t)+"3"), keysync.ErrLocked,
		"a third run gets no connection")
	require.NoError(t, s.Unlock(ctx, p2))
	assert.Error(t, s.Held(ctx, p2), "an unlocked pair is not held")
}

// TestStore_LockWhenConnectingStalls makes new connections hang, as in a
// database outage, while the pool has room: Lock reports the outage, not
// that the pair is locked.
func TestStore_LockWhenConnectingStalls(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	require.NoError(t, err)
	var stall atomic.Bool
	release := make(chan struct{})
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if stall.Load() {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, errors.New("stalled dial")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	t.Cleanup(func() { close(release) })
	s, err := pgstore.New(t.Context(), pool)
	require.NoError(t, err)
	pool.Reset() // no idle connection left: Lock must connect
	stall.Store(true)

	err = s.Lock(t.Context(), uniquePair(t))
	require.Error(t, err)
	assert.NotErrorIs(t, err, keysync.ErrLocked, "the pool had room")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestStore_Reopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pair := uniquePair(t)
	s := open(t)
	want := keysync.Link{ID: "A:1", Key: "k", A: "1", B: "2", BaseA: map[string]string{"f": "v"}}
	require.NoError(t, s.Commit(ctx, pair, keysync.StateChange{
		Put: []keysync.Link{want}, State: &keysync.PairState{Runs: 2},
	}))
	require.NoError(t, s.Close())

	s = open(t)
	var got []keysync.Link
	for l, err := range s.Links(ctx, pair) {
		require.NoError(t, err)
		got = append(got, l)
	}
	assert.Equal(t, []keysync.Link{want}, got)
	ps, err := s.PairState(ctx, pair)
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{Revision: 1, Runs: 2}, ps)
}

func TestStore_DuplicateIDsInOneCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := open(t)
	pair := uniquePair(t)
	require.NoError(t, s.Commit(ctx, pair, keysync.StateChange{Put: []keysync.Link{
		{ID: "A:1", B: "first"}, {ID: "A:2"}, {ID: "A:1", B: "last"},
	}}))
	var got []keysync.Link
	for l, err := range s.Links(ctx, pair) {
		require.NoError(t, err)
		got = append(got, l)
	}
	assert.Equal(t, []keysync.Link{{ID: "A:1", B: "last"}, {ID: "A:2"}}, got)
}

func TestWithTablePrefix(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pair := uniquePair(t)
	plain, prefixed := open(t), open(t, pgstore.WithTablePrefix("keysync_test_prefix_"))
	require.NoError(t, prefixed.Commit(ctx, pair, keysync.StateChange{Put: []keysync.Link{{ID: "A:1"}}}))
	for _, err := range plain.Links(ctx, pair) {
		require.NoError(t, err)
		assert.Fail(t, "the default tables hold no link of the prefixed store")
	}

	for _, bad := range []string{"", "Upper", "1st", "semi;colon", "way_too_long_" + fmt.Sprint(rand.Uint64()) + "_for_postgres"} {
		_, err := pgstore.Open(ctx, testDSN(t), pgstore.WithTablePrefix(bad))
		assert.Error(t, err, "prefix %q", bad)
	}
}

func TestNew_LeavesPoolOpen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, testDSN(t))
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgstore.New(ctx, pool)
	require.NoError(t, err)
	require.NoError(t, s.Lock(ctx, uniquePair(t)))
	require.NoError(t, s.Close())
	assert.NoError(t, pool.Ping(ctx))
	assert.Zero(t, pool.Stat().AcquiredConns(), "the lock connection went back to the pool")
}

func TestOpen_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "unparsable URL", dsn: "postgres://user:s3cret-pw@host:notaport/db"},
		{name: "unparsable key=value", dsn: "host=x password=s3cret-pw port=nan"},
		{name: "unreachable server", dsn: "postgres://user:s3cret-pw@127.0.0.1:1/db?connect_timeout=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := pgstore.Open(t.Context(), tt.dsn)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.NotContains(t, err.Error(), "s3cret-pw", "the password never appears")
		})
	}
}

func TestStore_TwoWay(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pair := uniquePair(t)
	w1, w2 := open(t), open(t)
	a, b := memory.New(), memory.New()
	a.Put(keysync.Item{"email": "dana@example.com", "name": "Dana"})
	b.Put(keysync.Item{"email": "fox@example.com", "name": "Fox"})
	fields, err := keysync.FieldPaths(map[string]string{"email": "email", "name": "name"})
	require.NoError(t, err)
	opts := keysync.TwoWayOptions{
		AKey: "email", State: w1, Pair: pair,
		Fields: keysync.FieldMapping{A: fields, B: fields},
	}
	_, err = keysync.TwoWay(ctx, a, b, opts)
	require.NoError(t, err)
	assert.Len(t, b.Items(), 2)

	// The second worker sees the first one's links: nothing to do.
	opts.State = w2
	for _, it := range a.Items() {
		if it["email"] == "dana@example.com" {
			it["name"] = "Danielle"
			delete(it, memory.UpdatedField)
			a.Put(it)
		}
	}
	rep, err := keysync.TwoWay(ctx, a, b, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(keysync.Updated))
	assert.Zero(t, rep.Count(keysync.Created))

	// While one worker runs the pair, the other is refused.
	require.NoError(t, w1.Lock(ctx, pair))
	_, err = keysync.TwoWay(ctx, a, b, opts)
	require.ErrorIs(t, err, keysync.ErrLocked)
	require.NoError(t, w1.Unlock(ctx, pair))
}
