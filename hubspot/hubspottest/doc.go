// Package hubspottest provides a fake HubSpot CRM contacts API for tests: an
// in-process [net/http/httptest] server that behaves like HubSpot closely
// enough that code tested against it works against the real service. It
// enforces HubSpot's validation, uniqueness, paging, batch, search and
// rate-limit rules, and injects the failures real integrations meet.
//
// A [Server] is safe for concurrent use. Besides the standard library it
// imports only an internal package of this module.
//
// # Quick start
//
//	s := hubspottest.NewTestServer(t) // closed by t.Cleanup
//	ids := s.SeedProperties(
//		map[string]string{"email": "dana@example.com", "firstname": "Dana"},
//	)
//	req, _ := http.NewRequest("GET", s.URL+"/crm/objects/2026-09/contacts/"+ids[0], nil)
//	req.Header.Set("Authorization", "Bearer "+s.Token)
//	resp, err := http.DefaultClient.Do(req)
//
// After the code under test ran, inspect the server: [Server.Contacts]
// returns every stored contact (archived ones included), [Server.Requests]
// every request received, [Server.Count] the requests to one endpoint and
// [Server.MaxRequestsInWindow] the densest burst.
//
// The API in short:
//
//	NewServer(opts ...Option) *Server            // started; Close when done
//	NewTestServer(t testing.TB, opts ...Option)  // Close via t.Cleanup
//	(*Server).URL, .Token, Close(), Client(), Handler()
//
//	WithToken(tok), WithOAuthToken(tok), WithClock(now)
//	WithRateLimit(max, window), WithSearchRateLimit(max, window), WithDailyLimit(n)
//	WithSearchLag(d), WithProperties(names...), WithEnumProperty(name, options...)
//	WithScopes(scopes...), WithShuffledBatchResults()
//
//	Seed(contacts ...Contact) []string, SeedProperties(props ...map[string]string) []string
//	SeedJSON(r io.Reader) error
//	Contacts() []Contact, Requests() []Request, Count(method, path) int
//	MaxRequestsInWindow(d) int
//
//	FailNext(n, status), RateLimitNext(n), RateLimitNextDaily(n), SetLatency(d)
//	DropAfterCommitNext(n), SetTokenExpired(bool)
//
// # Behaviour
//
// Routes. The contacts API is served under /crm/objects/2026-09/contacts,
// /crm/objects/2026-03/contacts and /crm/v3/objects/contacts; the object type
// may also be spelled 0-1. All three serve the same data with the same
// shapes:
//
//	GET    …/contacts                  list: limit (default 10, max 100), after,
//	                                   properties, archived
//	POST   …/contacts                  create → 201
//	GET    …/contacts/{id}             read: properties, archived, idProperty=email
//	PATCH  …/contacts/{id}             update → 200 (idProperty=email)
//	DELETE …/contacts/{id}             archive → 204
//	POST   …/contacts/search           search
//	POST   …/contacts/batch/read       200, or 207 when ids are missing
//	POST   …/contacts/batch/create     201, or 207 with objectWriteTraceIds
//	POST   …/contacts/batch/update     200, or 207
//	POST   …/contacts/batch/upsert     200 (idProperty email), results carry "new"
//	POST   …/contacts/batch/archive    204
//	POST   …/contacts/gdpr-delete      permanent delete → 204
//
// The legacy v1 reads GET /contacts/v1/lists/all/contacts/all (count,
// vidOffset, property) and GET /contacts/v1/contact/vid/{vid}/profile are
// served with v1 shapes (vid, properties.x.value, identity-profiles,
// has-more, vid-offset).
//
// Authentication. Every request needs "Authorization: Bearer <token>" with
// [Server.Token] (or the [WithOAuthToken] token); otherwise the answer is
// 401 with category INVALID_AUTHENTICATION. A hapikey query parameter is
// rejected with 401 even next to a valid bearer token.
//
// Contacts. Ids are numeric strings assigned in ascending order, starting
// at 101 and growing by 50, so they are not offsets. Property values are
// strings; JSON numbers and booleans are accepted and stored as their text
// (HubSpot coerces them too), objects and arrays are rejected with 400, and
// "" or null clears a property. The server sets createdate, lastmodifieddate
// and hs_object_id and the object's createdAt and updatedAt (ISO-8601 UTC
// with milliseconds) and bumps lastmodifieddate/updatedAt on every write.
// Unknown properties are rejected with 400 VALIDATION_ERROR naming
// PROPERTY_DOESNT_EXIST, read-only ones with READ_ONLY_VALUE, bad
// enumeration values (lifecyclestage, hs_lead_status) with INVALID_OPTION.
// The known properties are email, firstname, lastname, phone, mobilephone,
// fax, company, website, jobtitle, industry, address, city, state, zip,
// country, hs_additional_emails, salutation, message, annualrevenue,
// numemployees, date_of_birth, twitterhandle, hubspot_owner_id, hs_language,
// hs_timezone, hs_linkedin_url, lifecyclestage, hs_lead_status and the
// system properties; add more with [WithProperties].
//
// A create needs at least one of email, firstname and lastname. The email is
// trimmed and lower-cased, must look like an address ("Email address dana@
// is invalid", INVALID_EMAIL) and is unique among live contacts: a create or
// an update taking an address another contact holds gets 409 CONFLICT with
// "Contact already exists. Existing ID: <id>". Archived contacts release
// their address.
//
// Reads return the default properties (createdate, email, firstname,
// hs_object_id, lastmodifieddate, lastname) unless properties= names others
// (comma-separated and/or repeated); unknown names are ignored, known but
// unset ones come back as null, and createdate, hs_object_id and
// lastmodifieddate are always included. Write responses carry every property
// that has a value. Archived contacts are 404 OBJECT_NOT_FOUND for get and
// absent from lists and search; archived=true lists or gets only archived
// ones, with archivedAt. DELETE of an unknown or archived id is 204.
//
// Lists return contacts in ascending id order. paging.next.after (with a
// link) is present only when more results exist; treat it as opaque.
//
// Search supports filterGroups (OR, at most 5) of filters (AND, at most 6
// per group and 18 in total) with EQ, NEQ, LT, LTE, GT, GTE, BETWEEN
// (value, highValue), IN, NOT_IN (values), HAS_PROPERTY, NOT_HAS_PROPERTY,
// CONTAINS_TOKEN and NOT_CONTAINS_TOKEN (with * wildcards); a free-text
// query (word prefixes of names, email, phone and company); at most one sort;
// limit up to 200 (default 10); after as an offset; and total. EQ and
// the other text comparisons ignore case; IN and NOT_IN compare against the
// lower-cased stored value, so upper-case values never match, as in HubSpot.
// Date-time properties (createdate, lastmodifieddate) compare as instants
// given as epoch milliseconds or ISO-8601. NEQ, NOT_IN and
// NOT_CONTAINS_TOKEN also match contacts without the property. Without
// sorts results come in id order; with a sort, contacts without the property
// come last. Paging is capped at 10,000 results: after+limit beyond that is
// a 400. Unknown property names in filters or sorts are a 400.
// [WithSearchLag] makes the index trail writes, so a contact just created is
// not found yet and one just changed is found in its old state.
//
// Batches take 1 to 100 inputs (otherwise 400 VALIDATION_ERROR); two inputs
// for the same id or email are a 400 ("Duplicate IDs found in batch
// input"). Responses have status "COMPLETE", results (in input order, or
// shuffled with [WithShuffledBatchResults]),
// startedAt, completedAt and, for 207, numErrors and errors. Create, update
// and upsert fail the whole batch with the first input's error (400 or 409,
// nothing written) unless every input carries an objectWriteTraceId; then
// the good inputs are written and each bad one is reported in errors with
// context.objectWriteTraceId (207). Duplicate emails within one batch create
// are a 400 VALIDATION_ERROR. batch/read and batch/update report unknown ids
// in one OBJECT_NOT_FOUND error with context.ids (207). batch/upsert needs
// idProperty "email" on each input, in the body or in the query, lower-cases
// it, creates or updates, and marks each result "new": true or false; it
// never creates a second contact for an address. batch/archive ignores
// unknown ids.
//
// # Differences from the real HubSpot
//
//   - Only contacts exist: no companies, deals, associations (accepted in
//     create bodies but ignored), properties API, merges, pipelines or
//     webhooks. propertiesWithHistory is ignored.
//   - Batch results come in input order unless [WithShuffledBatchResults]
//     shuffles them; HubSpot does not promise any order, so match results
//     by id, email or objectWriteTraceId, never by index, and test with
//     that option.
//   - Where HubSpot's behaviour is undocumented the fake picks the stricter
//     choice: list limit above 100 and search limit above 200 are a 400 (not
//     clamped); a create without email, firstname and lastname is a 400;
//     upserts by other idProperty values are rejected; empty batches are a
//     400.
//   - Error messages follow HubSpot's where known (401, 404, 409, invalid
//     email, rate limits); others are descriptive but invented. Match on
//     status and category, not on text (except the 409's "Existing ID").
//   - The daily limit resets at midnight UTC of the server clock, not in
//     the account's time zone.
//   - Email validation is a plausibility check, not HubSpot's exact rules.
//     hs_additional_emails is not checked for uniqueness nor used by upsert.
//   - The v1 endpoints are read-only and return only the properties asked
//     for (or a small default set), without list memberships or history.
//
// # Fault injection
//
// Faults queue up and hit the next requests in arrival order, before
// authentication and rate limiting, and never change data:
// [Server.FailNext] (any status with HubSpot's envelope; 502 as an HTML
// page; 477 with Retry-After), [Server.RateLimitNext] and
// [Server.RateLimitNextDaily] (429s with the matching policy and headers).
// [Server.DropAfterCommitNext] lets the next write requests commit and then
// closes the connection without a response, so the client cannot know the
// write happened. [Server.SetLatency] delays every request;
// [Server.SetTokenExpired] answers 401 EXPIRED_AUTHENTICATION. To simulate
// records changing between pages, call [Server.Seed] from inside the loop
// that pages through results.
//
// # Rate limiting
//
// By default the server enforces HubSpot's Free/Starter limits by the
// [WithClock] clock: 100 requests per token in any rolling 10 s
// ([WithRateLimit]), 250,000 per account and day ([WithDailyLimit]) and 5
// search requests per account per second ([WithSearchRateLimit]). Requests
// over a limit get 429 with errorType RATE_LIMIT and policyName
// TEN_SECONDLY_ROLLING, DAILY or SECONDLY (search) and do not count. Every
// authenticated non-search response carries X-HubSpot-RateLimit-Max,
// -Remaining and -Interval-Milliseconds, and, except for the OAuth token,
// X-HubSpot-RateLimit-Daily and -Daily-Remaining. Search responses carry no
// rate-limit headers and search requests count only against the search and
// daily limits. No response carries Retry-After except an injected 477.
// Pass a max of 0 to an option to switch that limit off, for example
// WithRateLimit(0, 0) for tests that send many requests quickly.
//
// Over a network, requests can arrive closer together than a client sent
// them, so a client whose limit equals the server's may see a 429 now and
// then. For exact, repeatable rate-limit tests serve the requests in
// memory through [Server.Handler] inside a testing/synctest bubble: time
// is then simulated and arrival equals departure.
package hubspottest
