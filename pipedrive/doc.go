// Package pipedrive is a client for Pipedrive's persons API (v2) and a
// keysync connector built on it.
//
// [NewClient] returns a [Client] with list, get, create, update, delete and
// email search calls. [NewPersons] wraps a client in a [Persons] connector
// for keysync.OneWay and keysync.TwoWay; it implements keysync.Connector,
// Deleter, KeySearcher, IncrementalSource and Identifier. Test against
// [github.com/keysync/sync/pipedrive/pipedrivetest.Server], an in-process
// fake. The client speaks API v2 only (the /api/v2/persons endpoints); see
// Pipedrive's v2 migration guide,
// https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide.
//
//	c, err := pipedrive.NewClient(token, pipedrive.WithCompanyDomain("example-co"))
//	persons, err := pipedrive.NewPersons(c, pipedrive.PersonsOptions{Legacy: true})
//
// # Authentication
//
// The token is a personal API token (Settings > Personal preferences > API)
// or an OAuth access token; the client sends it in the x-api-token header,
// never in the URL, and never prints it: errors carry sanitized URLs, logs
// carry the method, path, status and attempt only. Pipedrive recommends the
// company's own host ([WithCompanyDomain]) over [DefaultBaseURL]. See
// https://pipedrive.readme.io/docs/core-api-concepts-authentication.
//
// # Rate limits
//
// Pipedrive limits each token to a number of requests per rolling 2-second
// window (20 on the Lite plan with an API token, up to 120; four times that
// with OAuth), search requests to 10 per 2 seconds, and each company to a
// daily budget of tokens, where a list costs 10, a search 20, a create or
// update 5. The client waits before every request, retries included, so
// that it never sends more than [WithRateLimit] allows in any window of
// that length, plus a tenth of the window as a margin for network jitter;
// searches also wait for [WithSearchRateLimit]. The defaults are safe for
// every plan; raise them to match yours. The default limiter applies
// against a fake server too, so tests against pipedrivetest may pass
// [WithoutRateLimit] to run fast. A 429 is retried after the
// x-ratelimit-reset (or Retry-After) wait; when that wait is longer than
// [WithMaxRetryWait] (one minute by default), as after the daily budget
// ran out, the call fails at once with a [*RateLimitError] that matches
// keysync.ErrRateLimited. See
// https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting.
//
// # Pagination
//
// [Client.Persons] follows the v2 cursors (additional_data.next_cursor) in
// pages of 500, the most Pipedrive serves, so 1,234 persons take three
// requests (ListOptions.Limit and, for the connector's listings,
// PersonsOptions.PageSize ask for smaller pages); [Client.PersonsPage]
// exposes one page and its cursor for checkpointing. A "data": null page
// is empty; a cursor that comes back a second time ends the iteration with
// [ErrRepeatedCursor], and a 400 to a request with a cursor (an expired
// cursor) with [ErrCursorRejected].
// Cursor pages continue after the last person of the previous page, so
// persons added while listing appear once, at their place. [Persons.List]
// also yields every person once should pages overlap or come out of order,
// skips persons marked "is_deleted": true (Pipedrive may list soft-deleted
// persons), and starts over once after a rejected cursor. Persons come as
// keysync.Item maps in the v2 JSON shape (emails[0].value, name, owner_id,
// update_time, ...), decoded with json.Number for numbers so that ids and
// amounts stay exact. See
// https://pipedrive.readme.io/docs/core-api-concepts-pagination.
//
// # Legacy shape
//
// n8n's Pipedrive node and older integrations use the v1 person shape:
// email and phone lists, first_name, last_name, owner_id objects,
// active_flag, custom fields as top-level keys. With PersonsOptions.Legacy
// (or ListOptions.Legacy) persons are converted with [ToLegacy], so key
// paths such as "email[0].value" work unchanged. Writes accept either shape
// and are converted with [WriteBody]: email as a string, a list of strings
// or of {label, value, primary} objects becomes emails; read-only fields
// are dropped, so a listed record can be written back.
//
// # Errors
//
// A failed call returns an [*APIError] (status, sanitized URL, Pipedrive's
// message and code, request ID, up to 64 KiB of body outside Error), a
// [*RateLimitError], a [*RequestError] when no response arrived, or
// ctx.Err(). They match the keysync sentinels with errors.Is: 401
// ErrUnauthorized, 403 ErrForbidden (also Cloudflare's HTML block page
// after repeated 429s), 404 ErrNotFound, 400 ErrInvalid, 429
// ErrRateLimited. A body with "success": false is an error even with a 2xx
// status. In a Write, validation, permission and not-found errors belong
// to the item; ErrUnauthorized, ErrRateLimited, a 402 (company account
// closed) and Cloudflare's HTML 403 stop the batch.
//
// Creates are not idempotent and there is no upsert. The client retries a
// create only when Pipedrive surely did not receive it (429, connection
// refused); [OutcomeUnknown] tells when a failed create may have stored the
// person anyway, including a 2xx answer that does not show the person. The
// connector then looks for it before trying again among the persons with a
// larger id than any it had seen before the attempt (Pipedrive's ids only
// grow, so no clock is involved): in the list sorted by id, newest first,
// and if more persons were added than it reads, with the email search. It
// uses a person only if it holds every field the write sent and no other
// write of the batch took it. When it cannot tell, the item's error matches
// [ErrOutcomeUnknown] rather than risking a duplicate.
//
// # Limitations
//
// Email is not unique in Pipedrive and a person may hold several; the
// connector's key is an email address, compared trimmed and ignoring case.
// SearchKey uses Pipedrive's search index, which lags behind writes: a
// person created seconds ago may be missing. The ambiguous-create check
// relies on the list being current and on ids being handed out in
// increasing order; a create that is still being processed when the check
// runs can still end up as a duplicate, and a person that Pipedrive stores
// differently from what was sent (such as a reformatted custom field
// value) makes the outcome unknown rather than found. Two Write calls
// running at the same time do not coordinate: if both send the same person
// and both fail ambiguously, they may settle on the same stored person.
// Only persons are covered: no organizations, deals or custom field
// definitions.
// Writes go one request per person, so a large sync is bounded by the rate
// limit (about 7 requests per second on the default settings).
package pipedrive
