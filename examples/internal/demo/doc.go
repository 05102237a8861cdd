// Package demo holds what keysync's runnable examples share, so that each
// example's own code is the sync itself: the sample people and the fakes
// seeded with them, the connection to the real services or the fakes, the
// Pipedrive ↔ HubSpot mappings, the printed report, progress display and
// the schedule of repeated runs.
//
// # Sample data
//
// [People] lists a few dozen people, most in both Pipedrive and HubSpot, and
// a few that exercise what real data holds: addresses typed with capitals or
// spaces, two addresses, none, the same person entered twice.
// [StartFakes] starts the in-process fakes of both APIs
// (pipedrivetest, hubspottest) seeded with them.
//
// # Systems
//
// [Open] connects to the real services when [Env] holds credentials (read by
// [EnvFrom] from PIPEDRIVE_API_TOKEN, PIPEDRIVE_COMPANY_DOMAIN and
// HUBSPOT_TOKEN) and otherwise to the fakes. Tests point the real-service
// code path at fakes with [FakeEnv].
//
// # Mappings
//
// [Mapping] gives the options of [sync.OneWay] and [sync.TwoWay] for the
// current API shapes or, with N8N, for the legacy shapes whose key paths
// n8n's tutorial uses, and the common fields of a stateful two-way sync
// (Mapping.Fields). [Edit] changes a record as a user would, between runs.
//
// # Running
//
// [Command] is the command line shared by the examples, [Loop] runs a sync
// once or on a schedule, [Signals] turns Ctrl-C into a clean stop, and
// [PrintReport] and [Progress] show what happened.
package demo
