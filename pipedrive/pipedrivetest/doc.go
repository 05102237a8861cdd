// Package pipedrivetest provides an in-process fake of the Pipedrive
// persons API for tests: an [httptest]-based server that answers like
// Pipedrive closely enough that a client tested against it works against
// the real service, plus seeding, request inspection, rate limiting and
// fault injection.
//
// # Quick start
//
//	s := pipedrivetest.NewTestServer(t)
//	ids := s.Seed(pipedrivetest.Person{
//		Name:   "Dana Example",
//		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}},
//	})
//	req, _ := http.NewRequest("GET", s.URL+"/api/v2/persons", nil)
//	req.Header.Set("x-api-token", s.Token)
//	// ... send it, decode {"success":true,"data":[...],"additional_data":{...}}
//	n := s.Count("GET", "/api/v2/persons")
//
// [NewServer] returns a started [Server] that the caller must Close;
// [NewTestServer] closes it with t.Cleanup. [Server.URL] is the base URL to
// which clients append /api/v2/persons, /v1/persons or /api/v1/persons, and
// [Server.Token] the valid API token. Options: [WithToken],
// [WithRateLimit], [WithSearchRateLimit], [WithRejectedCounted],
// [WithDailyLimit], [WithAbuseBlock], [WithSearchLag], [WithClock],
// [WithPageLimitMax], [WithNullEmptyData], [WithDeletedVisible],
// [WithUserID].
//
// Seed persons with [Server.Seed] ([Person] values) or [Server.SeedJSON]
// (a JSON array in the v2 create shape). Inspect with [Server.Persons] and
// [Server.Person] (v2 shape, soft-deleted persons included),
// [Server.Requests] (every request, token removed from the query),
// [Server.Count] and [Server.MaxRequestsInWindow]. More tokens, for
// per-token limits and visibility, come from [Server.AddToken];
// [Server.RevokeToken] invalidates one.
//
// All methods of [Server] are safe for concurrent use, also while requests
// are being served.
//
// # Behaviour
//
// Authentication: the token may come in the x-api-token header, as
// "Authorization: Bearer <token>" or as the api_token query parameter (in
// that order of precedence). It is checked before routing: a missing or
// wrong token gets 401 with exactly
//
//	{"success":false,"error":"unauthorized access","errorCode":401,"error_info":"Please check developers.pipedrive.com"}
//
// for any path and method, known or not. With a valid token, unknown paths
// get 404 and wrong methods 405, with the JSON error envelope.
//
// Envelopes: successes are {"success":true,"data":...,"additional_data":...}
// (v1 adds related_objects); errors are {"success":false,"error":...,
// "error_info":...,"data":null,"additional_data":null,"errorCode":<status>}
// plus "code":"ERR_SCHEMA_VALIDATION_FAILED" on v2 validation errors.
//
// Endpoints (v2): GET /api/v2/persons, GET /api/v2/persons/{id},
// POST /api/v2/persons (200), PATCH /api/v2/persons/{id},
// DELETE /api/v2/persons/{id}, GET /api/v2/persons/search. Legacy v1 (under
// /v1 and /api/v1): GET /persons, GET /persons/{id}, POST /persons (201),
// PUT /persons/{id}, DELETE /persons/{id}, GET /persons/search.
//
// v2 list: cursor pagination; the cursor in additional_data.next_cursor is
// opaque (clients must not parse or build it), and next_cursor is null on
// the last page. limit defaults to 100; a limit above 500 (see
// [WithPageLimitMax]) or below 1 gets 400 rather than being clamped, so a
// client that relies on clamping fails here instead of in production.
// Filters: ids (at most 100; unknown or invisible ids are dropped),
// owner_id, org_id, updated_since (inclusive) and updated_until
// (exclusive), both whole-second RFC 3339: fractional seconds get 400
// ERR_SCHEMA_VALIDATION_FAILED. sort_by is id (default), update_time or
// add_time, with id as the tie-breaker; sort_direction asc or desc. A page
// continues strictly after the position of the last person of the previous
// page, so a person created between pages shows up when it sorts after
// that position, and paging never repeats or skips a person that did not
// change. An empty list is "data": [] (null with [WithNullEmptyData]).
// filter_id and deal_id are not supported and get 400; other query
// parameters such as include_fields are ignored.
//
// v2 writes are strictly typed: integers must be JSON numbers (a numeric
// string gets 400), booleans must be true or false (0 and 1 get 400), and
// unknown or read-only fields (first_name, update_time, id, the v1 names
// email and phone, ...) get 400. name is required on create and must not
// be blank. The server sets id (counting up from 1), add_time (unless
// given) and update_time, in whole seconds, and derives first_name (first
// word of name) and last_name (the rest, null for a one-word name).
// Emails and phones keep their case and order; duplicates across persons
// are allowed (there is no 409). In each array one entry ends up primary:
// the first one marked primary, or the first entry when none is. A missing
// label becomes "work" and entries with an empty value are dropped. PATCH
// changes only the fields sent; emails, phones and label_ids replace the
// whole array; custom_fields merge key by key, and a null value clears a
// key. Every successful PATCH sets update_time to now, even when nothing
// changed. owner_id defaults to the token's user ([WithUserID], 1).
//
// Deletes are soft: the person gets is_deleted true and a new update_time,
// and the answer is {"success":true,"data":{"id":<id>}}. Deleted persons
// are missing from lists and search, and get, PATCH and DELETE answer 404
// "Person not found" for them, as for ids that never existed. They remain
// in [Server.Persons].
//
// Search (GET /api/v2/persons/search): term is required, at least 2
// characters, or 1 with exact_match=true. fields restricts matching to a
// comma list of custom_fields, email, notes, phone, name (default all; the
// fake has no notes). exact_match compares whole values ignoring case;
// otherwise a value matches when it contains the term, ignoring case
// (Pipedrive's real matching is word based; treat the fake's as an
// approximation). Items are ordered by result_score (1 for a whole-value
// match), then id, and look like
//
//	{"result_score":1,"item":{"id":1,"type":"person","name":"Dana Example",
//	 "phones":["+1 555 0100"],"emails":["dana@example.com"],"visible_to":3,
//	 "owner":{"id":1},"organization":null,"custom_fields":[],"notes":[]}}
//
// paged with cursors in v2 and start/limit in v1. With [WithSearchLag] the
// index lags behind writes.
//
// v1 shapes: singular email and phone arrays of {label, value, primary}
// (a person without emails has [{"value":"","primary":true}]),
// primary_email, "YYYY-MM-DD HH:MM:SS" UTC times, owner_id and org_id
// expanded to objects whose value is the id, visible_to as a string,
// active_flag, custom fields as top-level 40-character keys, and
// related_objects. v1 lists page with start/limit and
// additional_data.pagination {start, limit, more_items_in_collection,
// next_start}, support user_id, first_char and sort ("update_time DESC"),
// and answer "data": null when empty. v1 writes accept JSON or form bodies
// with loose typing (numeric strings, 0/1, email as a plain string); a
// missing name gets 400 "Name must be given.". A v1 GET of a soft-deleted
// person returns it with active_flag false.
//
// Organizations and users are not stored: an org or user id is shown with
// a made-up name such as "Organization 55" or "User 7".
//
// # Fault injection
//
// Faults apply to requests that arrive after the call and have passed
// authentication, in this order: [Server.FailNext] (the next n requests
// get a status; 502 with Cloudflare's HTML page, others with the JSON
// envelope), [Server.RateLimitNext] (the next n requests get 429 with rate
// headers), then the real rate limits. [Server.SetLatency] delays every
// request, and a client that gives up gets nothing.
// [Server.DropAfterCommitNext] makes the next n creates store the person
// and then close the connection without answering, so the client sees a
// transport error for a write that happened. For pagination drift,
// [Server.InsertAfterPage] seeds a person after a given list page is built
// and [Server.OnListPage] runs any function there.
//
// Cursor faults apply to the next n v2 list requests that carry a cursor
// and pass the faults above; search cursors are not affected. They are
// taken in this order: [Server.ExpireCursorNext] answers 400 with the
// validation envelope ("cursor: the cursor has expired"), as after a long
// pause; [Server.RepeatPageNext] serves the previous page again with the
// cursor the request sent as its next_cursor, so a client that does not
// remember its cursors loops for ever; [Server.ReplayPageNext] serves the
// previous page again under a new cursor, so every person of that page
// comes twice and no cursor does.
//
// Two options pick between behaviours that Pipedrive leaves undocumented,
// so that clients can be tested against both: [WithDeletedVisible] makes
// the v2 list and get serve soft-deleted persons with "is_deleted": true
// instead of hiding them (list) and answering 404 (get), and
// [WithRejectedCounted] makes requests refused with 429 take a place in
// the burst windows, so that a client that keeps sending while limited
// stays limited.
//
// # Rate limiting
//
// Rate limiting is off unless an option turns it on. [WithRateLimit] sets
// the per-token burst limit over a sliding window (Pipedrive: 20 to 120
// requests per 2 s, depending on plan); [WithSearchRateLimit] the separate
// search window (Pipedrive: 10 per 2 s), which search requests count
// against in addition. Only accepted requests take a slot. While a limit
// is on, every authenticated response carries x-ratelimit-limit,
// x-ratelimit-remaining and x-ratelimit-reset (whole seconds until the
// oldest request leaves the window); search responses describe the search
// window. Refused requests get 429 with
//
//	{"success":false,"error":"Request over limit","error_info":"...",
//	 "data":null,"additional_data":null,"errorCode":429}
//
// and no Retry-After header: clients should wait x-ratelimit-reset seconds.
//
// [WithDailyLimit] sets the company's daily token budget, shared by all
// tokens and reset at midnight UTC. Each call costs what Pipedrive charges:
//
//	operation        v2   v1
//	list             10   20
//	get               1    2
//	create, update    5   10
//	delete            3    6
//	search           20   40
//
// A request whose cost exceeds the rest of the budget gets 429 with
// x-ratelimit-reset set to the seconds until midnight. Responses carry
// x-daily-ratelimit-token-limit and x-daily-ratelimit-token-remaining;
// [Server.DailyTokensUsed] reports the day's usage. [WithAbuseBlock]
// answers a token that keeps going after n 429s in a row with Cloudflare's
// HTML 403 page for a while.
//
// # Differences from the real Pipedrive
//
// Where Pipedrive's behaviour is unknown the fake picks the stricter or
// more demanding choice, so that clients handle both: limit above the
// maximum is rejected, not clamped; unknown write fields are rejected;
// update_time moves on every PATCH; deleted persons are 404. Other
// simplifications: only persons exist (no organizations, deals, fields
// or notes); filter_id, deal_id, include_fields and custom_fields query
// parameters are not implemented; search matching is substring based;
// the v1 person shape has the commonly used fields only; visibility is
// per token ([Server.AddToken]), not per visible_to group; OAuth tokens
// are just tokens (no expiry or refresh, one rate limit for both kinds).
// The fake speaks HTTP/1.1 without TLS.
package pipedrivetest

// BUG(keysync): Search matches substrings (rating matches at the start of a
// value or word higher), while Pipedrive's index matches words; a fuzzy
// term that Pipedrive finds only by word stemming or phone normalisation
// is not found here, and result_score values differ.
