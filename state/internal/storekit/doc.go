// Package storekit holds what the state stores of this module
// (state/boltstore and state/pgstore) share, so that each store keeps only
// what its database needs.
//
// # Closing
//
// [Guard] lets a store's calls run at the same time as each other but not
// during Close, checks each call's context and pair name, and refuses calls
// once the store is closed with keysync.ErrStateClosed.
//
// # Paging links
//
// [PagedLinks] turns a function that reads one page of links into the
// iterator of keysync.StateStore.Links, so that no read stays open while
// the caller's loop body runs.
package storekit
