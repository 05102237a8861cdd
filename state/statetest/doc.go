// Package statetest checks implementations of [keysync.StateStore] against
// the contract that the stateful two-way sync relies on.
//
// # Usage
//
// Call [Run] from a test of the store's package with a function that opens
// a fresh store:
//
//	func TestStore(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) keysync.StateStore {
//			s, err := mystore.Open(filepath.Join(t.TempDir(), "state.db"))
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// # What it checks
//
// Round trips of every [keysync.Link] and [keysync.PairState] field
// (including NUL bytes, quotes and long values), replace and delete
// semantics, ascending ID order, isolation of pairs, one revision per
// commit, atomic refusal of invalid changes, paging through thousands of
// links, commits from inside a Links loop, context cancellation, the run
// lock (including racing lockers), concurrent commits, defensive copies and
// Close. Durability across a reopen and locks shared between processes are
// store-specific and tested by each store.
package statetest
