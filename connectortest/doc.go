// Package connectortest checks a [sync.Connector] against the contract that
// [sync.OneWay] and [sync.TwoWay] rely on: the conformance suite every
// connector author runs from a test with one call of [Run].
//
// # Use
//
// Give [Run] a way to make a connector over an empty system and records to
// write. This test checks the in-memory connector of package memory; the
// package's own tests run exactly this code:
//
//	func TestConformance(t *testing.T) {
//		connectortest.Run(t, connectortest.Config{
//			New: func(testing.TB) sync.Connector {
//				return memory.New(
//					memory.WithMaxBatch(10),
//					memory.WithSearchKey("email", sync.NormalizeEmail),
//					memory.WithValidator(func(item sync.Item) error {
//						if item["email"] == nil {
//							return fmt.Errorf("email is required: %w", sync.ErrInvalid)
//						}
//						return nil
//					}),
//				)
//			},
//			Record: func(i int) sync.Item {
//				email := fmt.Sprintf("person%d@example.com", i)
//				return sync.Item{"email": email, "name": "Person"}
//			},
//			Key:       "email",
//			Normalize: sync.NormalizeEmail,
//			Invalid:   sync.Item{"name": "no email"},
//			Change:    func(i int) sync.Item { return sync.Item{"name": "Renamed"} },
//		})
//	}
//
// For the connector of a web service, New typically starts a fake server
// (with [net/http/httptest]) and returns a client of it, registering its
// shutdown with t.Cleanup; set Config.PageSize when the connector's listing
// pages by another size than MaxBatch.
//
// Run needs the test's *testing.T, so the package has no runnable example.
//
// # What it checks
//
// The core contract: an empty listing, creates across several batches with
// one result per write, a listing that returns every record exactly once
// (also across several pages), updates that change only the fields they
// name, a failure of one record that leaves the rest of its batch alone,
// writes that leave the items they are given alone, and prompt errors
// matching [context.Canceled] once the context is done, also in the middle
// of a listing. Then each optional capability the connector implements:
// [sync.Deleter] (records disappear, deleting twice succeeds, updating a
// deleted record fails alone with [sync.ErrNotFound]), [sync.KeySearcher]
// (finds a record by key and nothing for an unknown key),
// [sync.IncrementalSource] (records modified since a time, inclusive) and
// [sync.Identifier] (unique, stable IDs, and the stored record in the
// result of every create and update). A capability that is not implemented
// is skipped; so are the update and item-error checks when [Config] does
// not say how to make them.
//
// # Systems that change what they store
//
// The suite compares what it wrote with what the connector lists using
// [sync.EqualLeaves]. A system that rewrites values (HubSpot lower-cases
// emails) needs records that are already in the stored form, or a
// Config.Equal of its own; one whose search index lags needs Config.Settle.
package connectortest
