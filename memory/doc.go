// Package memory holds in-memory implementations of keysync's interfaces,
// for tests, examples and trying a sync out without any service.
//
// # Connector
//
// [Connector] is a complete [keysync.Connector] that keeps its records in a
// map. It also implements every optional capability: [keysync.Deleter],
// [keysync.KeySearcher] (configure the key with [WithSearchKey]),
// [keysync.IncrementalSource] and [keysync.Identifier]. Each record gets an
// ID ("1", "2", … in field "id" unless [WithIDField] says otherwise) and an
// "updated_at" timestamp that the connector maintains, using the clock given
// with [WithClock].
//
//	c := memory.New(memory.WithMaxBatch(10))
//	c.Put(keysync.Item{"email": "dana@example.com"}) // seeds a record
//	items := c.Items()                               // a snapshot, in creation order
//
// Records are copied on the way in and out, so neither the caller nor a
// sync can change the stored state except through the connector's methods.
// Listings yield records in creation order.
//
// # Fault injection
//
// Tests make the connector fail on purpose: [Connector.FailWrite] fails one
// record of a later batch, [Connector.FailAfter] fails everything after a
// number of writes (as an expired token would), [Connector.FailBatch] fails
// one whole batch, and [Connector.FailList] breaks listings part-way.
// [Connector.OnWrite] calls a function before each write, for counting or
// for cancelling a context in the middle of a batch, and [Connector.Stats]
// counts calls and writes.
//
// # State store
//
// [StateStore] is an in-memory [keysync.StateStore] for stateful two-way
// syncs in tests.
package memory
