// Package connectortest checks a [sync.Connector] against the contract that
// [sync.OneWay] and [sync.TwoWay] rely on: the conformance suite every
// connector author runs from a test with one call of [Run].
//
// # Use
//
// Give [Run] a way to make a connector over an empty system (typically a
// client of a fresh fake server) and records to write:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, connectortest.Config{
//			New: func(t testing.TB) sync.Connector {
//				srv := hubspottest.NewTestServer(t)
//				return newConnector(t, srv.URL, srv.Token)
//			},
//			Record: func(i int) sync.Item {
//				return sync.Item{"properties": map[string]any{
//					"email": fmt.Sprintf("person%d@example.com", i),
//				}}
//			},
//			Key:       "properties.email",
//			Normalize: sync.NormalizeEmail,
//		})
//	}
//
// # What it checks
//
// The core contract: an empty listing, creates across several batches with
// one result per write, a listing that returns every record exactly once,
// updates that change only the fields they name, a failure of one record
// that leaves the rest of its batch alone, and prompt errors matching
// [context.Canceled] once the context is done. Then each optional
// capability the connector implements: [sync.Deleter] (records disappear,
// deleting twice succeeds), [sync.KeySearcher] (finds a record by key and
// nothing for an unknown key), [sync.IncrementalSource] (records modified
// since a time, inclusive) and [sync.Identifier] (unique, stable IDs). A
// capability that is not implemented is skipped; so are the update and
// item-error checks when [Config] does not say how to make them.
//
// # Systems that change what they store
//
// The suite compares what it wrote with what the connector lists using
// [sync.EqualLeaves]. A system that rewrites values (HubSpot lower-cases
// emails) needs records that are already in the stored form, or a
// Config.Equal of its own; one whose search index lags needs Config.Settle.
package connectortest
