// Package pgstore is the PostgreSQL [keysync.StateStore], for deployments in
// which several workers run syncs against one database.
//
// # Run locks
//
// [Store.Lock] takes a session-level advisory lock,
// pg_try_advisory_lock(key), where key is the 64-bit FNV-1a hash of
// "keysync\x00" + table prefix + "\x00" + pair taken as a bigint, on a
// connection that the store keeps out of its pool until [Store.Unlock].
// Two workers therefore never run the same sync pair of the same tables at
// once: the second gets [keysync.ErrLocked] rather than waiting for the
// first to finish (at once, or after up to a few seconds when it must wait
// for a connection of a full pool).
// Stores with different table prefixes lock independently. Two distinct
// pairs share a lock only if their keys collide, which with 64-bit keys is
// negligible (about one chance in 30 million among a million pairs), and would
// only serialize them.
//
// While it holds a pair's lock, the store serves every call about that pair
// on the lock's connection, so a run uses one connection of the pool; the
// pool needs one connection per concurrent run of the store, plus one for
// calls about unlocked pairs (pool_max_conns in the connection string).
// When the pool is full and no connection frees up within a few seconds,
// Lock returns an error matching [keysync.ErrLocked]; when the pool has room
// but connecting fails or stalls (an outage), it returns that error, wrapped.
//
// This version changed the run lock's key (earlier builds used a two-key
// lock), so old and new workers would not exclude each other: stop every
// worker before upgrading from an earlier build.
//
// If the connection is lost (network failure, server restart, a cancelled
// query), PostgreSQL releases the lock. [Store.Held], which [keysync.TwoWay]
// calls before each batch of writes, then reports [ErrLockLost], and every
// later commit of that pair through the store fails, because commits of a
// locked pair run only on the lock's connection: a run that lost its lock
// stops instead of racing the worker that took it over.
//
// # Tables
//
// [Open] and [New] create two tables when they do not exist (names with a
// prefix set by [WithTablePrefix], "keysync_" by default):
//
//	keysync_pairs (pair text PRIMARY KEY, revision bigint, state text)
//	keysync_links (pair text, id text COLLATE "C", link text, PRIMARY KEY (pair, id))
//
// state and link hold JSON ([keysync.PairState], [keysync.Link]); they are
// text rather than jsonb because jsonb cannot hold the escaped NUL
// character that record values may contain. Cast to jsonb to query them,
// for example: SELECT link::jsonb->>'key' FROM keysync_links WHERE pair = $1.
//
// # Durability
//
// Each [Store.Commit] is one transaction, so a worker killed at any point
// leaves either the whole commit or none of it.
//
// # Testing
//
// The package's tests run against the server named by the connection string
// in the environment variable KEYSYNC_TEST_POSTGRES (default
// postgres://keysync:keysync@127.0.0.1:5432/keysync_test). Without a
// reachable server they are skipped, except when CI=true, where that is a
// failure.
package pgstore
