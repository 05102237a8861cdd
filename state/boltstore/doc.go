// Package boltstore is the embedded [keysync.StateStore]: the links and
// bases of stateful two-way syncs in one local bbolt database file, with
// no server to run.
//
// # Durability
//
// Every [Store.Commit] is one bbolt transaction that is written and fsynced
// before Commit returns, so a process killed at any point leaves the file
// holding either the whole commit or none of it. The two-way engine commits
// an intent before each batch of creates and the results after it, which is
// what lets a re-run after a crash finish the work without creating any
// record twice (see [keysync.TwoWay]).
//
// # Concurrency
//
// A Store is safe for concurrent use by goroutines. bbolt locks the file, so
// only one process (and one Store) can have it open at a time; [Open] waits
// up to the [WithTimeout] duration and then fails with [ErrFileLocked]. Run
// locks ([Store.Lock]) are therefore kept in memory. Use package
// state/pgstore when several processes or machines run syncs.
//
// # Layout
//
// The file holds a bucket per sync pair with a bucket of links (link ID to
// the JSON encoding of a [keysync.Link]) and the JSON [keysync.PairState].
// Readers of the file should treat the format as internal.
package boltstore
