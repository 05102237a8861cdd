// Package sync keeps records in two systems in step, such as the persons of
// a Pipedrive company and the contacts of a HubSpot account.
//
// It lists both sides, matches records on a key written as a lodash-style
// path (the dot notation n8n uses, for example "email[0].value"), and writes
// into one side what it lacks from the other:
//
//	report, err := sync.OneWay(ctx, pipedrivePersons, hubspotContacts, sync.Options{
//		SourceKey: "emails[0].value",
//		TargetKey: "properties.email",
//		Normalize: sync.NormalizeEmail,
//		Map:       personToContact,
//	})
//
// The package name clashes with the standard library's sync. A file that
// needs both imports this package as keysync:
//
//	import keysync "github.com/keysync/sync"
//
// # Key paths
//
// [Lookup] resolves a path exactly as lodash's get does, so a path written
// for an n8n workflow works unchanged: "email[0].value",
// "identity-profiles[0].identities[0].value", `a["b.c"]`. [ParseKeyPath] is
// the strict form for configuration: it rejects likely typos (an empty path,
// a trailing dot, an unbalanced bracket) with the path and byte offset, and
// the [KeyPath] it returns looks up without allocating.
//
// # Merging like n8n
//
// [Merge] and one function per mode ([Append], [KeepKeyMatches],
// [MergeByIndex], [MergeByKey], [Multiplex], [PassThrough],
// [RemoveKeyMatches], [Wait]) give the same output as n8n's Merge node, type
// version 1, on the same input, odd corners included. Mode and option
// constants carry n8n's own parameter values.
//
// # Connectors
//
// A [Connector] is one system: a [Source] that lists every record and a
// [Destination] that applies writes in batches of its own size and reports
// an outcome per item. Optional capabilities ([Deleter], [KeySearcher],
// [IncrementalSource], [Identifier]) are separate interfaces found by type
// assertion. Ready connectors live in the pipedrive and hubspot packages,
// with fake servers for tests in pipedrive/pipedrivetest and
// hubspot/hubspottest; the memory package holds an in-memory connector with
// fault injection, and connectortest is the suite every connector should
// pass.
//
// # One-way and two-way sync
//
// [OneWay] creates in the target the records it lacks (n8n's "Remove Key
// Matches" followed by a create) and, with Options.Upsert, updates matched
// records whose mapped fields differ. [TwoWay] does the same in both
// directions from one listing of each side. Both validate their options
// before any I/O, list the two sides concurrently, match with a hash join,
// and return a [Report] with one [Entry] per record. With DryRun they return
// the plan and write nothing.
//
// Given a [StateStore], TwoWay also propagates changes: it keeps a link and
// the last synced field values (the base) for every pair of records, merges
// field by field, settles conflicts by a [ConflictPolicy], and propagates
// deletes only when a [DeletePolicy] says so.
//
// # Safety rules
//
// The orchestrators are deliberately stricter than n8n's merge, because they
// write into real systems. A record whose key is missing, null, empty or not
// a string or number is skipped and reported, never created (it would be
// created again on every run). A record that matches two different records on
// the other side is ambiguous: skipped and reported. Several records with
// the same key produce one write. A key path that finds no key on most
// records stops the run before it writes ([ErrKeyPathSuspect]). One item's
// failure never stops the others, but an error matching [ErrUnauthorized],
// [ErrForbidden] or [ErrRateLimited], a failed listing or a cancelled context
// stops the run and the Report says what was done.
//
// # Logging, progress and concurrency
//
// Nothing is logged unless Options.Logger is set; skipped records are logged
// at Warn with their key only, never their fields. Options.Progress receives
// counts as a run lists, plans and writes. OneWay and TwoWay may run
// concurrently on different connectors; the functions in this package keep
// no global state.
package sync
