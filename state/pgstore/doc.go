// Package pgstore is the PostgreSQL [keysync.StateStore], for deployments in
// which several workers run syncs against one database.
//
// # Run locks
//
// [Store.Lock] takes a session-level advisory lock,
// pg_try_advisory_lock(0x6b73796e, hashtext(pair)), on a connection that the
// store keeps out of its pool until [Store.Unlock]. Two workers therefore
// never run the same sync pair at once: the second gets [keysync.ErrLocked]
// at once rather than waiting. If the connection is lost (network failure,
// server restart, a cancelled query), PostgreSQL releases the lock; every
// later commit of that pair through the store fails, because commits of a
// locked pair run on the lock's connection, so a run that lost its lock
// stops instead of racing the worker that took it over. Distinct pairs whose
// names hash alike share a lock, which only serializes them.
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
