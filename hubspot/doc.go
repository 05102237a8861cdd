// Package hubspot is a client for HubSpot's CRM contacts API and a keysync
// connector built on it.
//
// [Client] calls the API: [Client.Contacts] lists contacts, [Client.Get]
// and [Client.GetByEmail] read one, the Batch methods read and write up to
// 100 per request, [Client.Search] and [Client.SearchByEmail] search.
// [Contacts] adapts a client to [sync.Connector] so that [sync.OneWay] and
// [sync.TwoWay] can sync HubSpot contacts with another system; it also
// implements [sync.Deleter], [sync.KeySearcher], [sync.IncrementalSource]
// and [sync.Identifier].
//
//	c, err := hubspot.NewClient(os.Getenv("HUBSPOT_TOKEN"))
//	contacts := hubspot.NewContacts(c, hubspot.ContactsOptions{
//		// Every property the mapping writes; nil lists DefaultProperties.
//		Properties: []string{"email", "firstname", "lastname", "phone"},
//	})
//	report, err := sync.OneWay(ctx, persons, contacts, opts)
//
// Contacts are [sync.Item] maps in the API's own shape:
//
//	{"id": "5101", "properties": {"email": "dana@example.com", "firstname": "Dana", …},
//	 "createdAt": "2026-11-02T09:15:00.123Z", "updatedAt": "…", "archived": false}
//
// so the match key path for HubSpot contacts is "properties.email". Writes
// take {"properties": {...}} (see [WriteProperties]).
//
// The guide to the contacts API is at
// https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide.
//
// # Authentication
//
// [NewClient] takes a bearer token: a legacy private-app access token
// ("pat-na1-…"), a Service Key or an OAuth access token. It is sent as
// "Authorization: Bearer …" and never in a URL. The client keeps it in a
// type that prints as "[REDACTED]", cuts it out of any response body
// before that body reaches an error, and never logs headers, so the token
// does not appear in errors, logs or %+v output. OAuth tokens expire; the
// client does not refresh them (an expired token gives errors matching
// [sync.ErrUnauthorized]). The contacts scopes are
// crm.objects.contacts.read and crm.objects.contacts.write.
//
// # API versions
//
// HubSpot versions its APIs by date. The client uses [Version202609]
// (paths /crm/objects/2026-09/contacts) unless [WithAPIVersion] selects
// [Version202603] or the legacy [VersionV3] (/crm/v3/objects/contacts,
// unsupported from September 2027). Request and response shapes are the
// same in all three. The legacy contacts v1 endpoints are not used, but
// their record shape is available (see Legacy shape).
//
// # Rate limits
//
// HubSpot allows 100 requests per rolling 10 seconds on its smallest plans
// (190 on Professional and Enterprise), a daily budget per account, and
// about 5 search requests per second
// (https://developers.hubspot.com/docs/api/usage-details). A token bucket
// sized to "100 per 10 s" would let almost 200 through in one window (a
// full burst plus the refill), so the client's limiter satisfies burst +
// rate·window ≤ limit: it never sends more than [DefaultRateLimit] (95)
// requests in any 10-second window, wherever the window starts, retries
// included. The 5 under HubSpot's 100 absorb network jitter, which can
// bring requests closer together on arrival than they left. Search
// requests also wait for a separate limiter ([DefaultSearchRateLimit], 4
// per second) and count against the general one. Adjust both with
// [WithRateLimit] and [WithSearchRateLimit], or turn both off with
// [WithoutRateLimit] (for tests against a fake). A [Client] shares its
// limiters among all calls, so run one client per HubSpot app and account.
//
// A 429 for the TEN_SECONDLY_ROLLING (or SECONDLY) policy is retried after
// the wait HubSpot names in Retry-After or
// X-HubSpot-RateLimit-Interval-Milliseconds, unless that is longer than
// [WithMaxRetryWait]. A 429 for the DAILY policy is not retried: retrying
// before midnight in the account's time zone cannot succeed. Both surface
// as a [*RateLimitError] that matches [sync.ErrRateLimited]; its Policy
// field (or Daily method) tells them apart.
//
// # Pagination
//
// [Client.Contacts] returns an iterator that fetches page after page (100
// per request, the maximum) by following paging.next.after until HubSpot
// sends none; [Client.ContactsPage] returns one page and its cursor, for
// callers that checkpoint. Search pages hold up to 200 results, and one
// search can page through at most 10,000: [Client.Search] ends with
// [ErrSearchCeiling] instead of asking for more. [Contacts.ListModifiedSince]
// gets around the ceiling by searching again from the last modification
// time it has seen.
//
// # Batches
//
// The Batch methods take any number of inputs and send them in calls of at
// most [MaxBatchInputs] (100): 250 upserts make three requests. Each input
// gets its own [Result], in input order, whatever order HubSpot answers
// in: results are matched by objectWriteTraceId, id or email, never by
// position, and a call carries at most one create without an email, whose
// result is then the only one without an address. Every write
// input carries an objectWriteTraceId so that HubSpot reports a bad input
// in a multi-status (207) response instead of failing the whole batch.
// Should HubSpot still refuse a whole batch (a 400 or 409), the client
// isolates the inputs at fault, by the address or id the error names or
// by halving the batch, and sends the rest again; an error that turns out
// to concern every input fails them all after about 2·log2(n) requests.
// Inputs that are certainly
// invalid (an email without a domain, say) are reported without a request.
// Two inputs for the same contact go in different requests, in input
// order.
//
// [Contacts.Write] creates contacts that have an email through batch upsert
// by email, so that a create repeated after a timeout, or in the next run,
// updates the contact rather than duplicating it. Creates without an email
// go through batch create, one per request, and are never repeated once
// they may have reached HubSpot. A create refused with 409 "Contact
// already exists. Existing ID: N" becomes an update of contact N. Creates
// that found their contact already there (an upsert answered "new": false,
// or a 409) report [sync.WriteResult.Existed], so the sync counts them as
// updates.
//
// A sync decides whether a contact needs an update by comparing what it
// would write with what the connector lists, so ContactsOptions.Properties
// must name every property the mapping writes; by default the connector
// lists [DefaultProperties]. Writing an unlisted property logs a Warn.
//
// # Legacy shape
//
// Workflows written for n8n's HubSpot node read contacts in the shape of
// the legacy contacts v1 API, with key paths such as
// "identity-profiles[0].identities[0].value" (the primary email) and
// "properties.firstname.value". With ContactsOptions.Legacy the connector
// yields that shape (see [LegacyShape]): "vid" and "canonical-vid" as
// numbers, properties as {"value": "..."}, datetimes as epoch-millisecond
// strings, "addedAt" in epoch milliseconds, and identity profiles that list
// the primary email first. Writes accept the v1 property shapes too, as
// [WriteProperties] describes, so such workflows port unchanged.
//
// # Errors
//
// A response outside 2xx is an [*APIError] with the status, method, URL
// (never credentials), HubSpot's message and category and correlation id;
// its Error method leaves the body out. Errors match the sync sentinels
// with [errors.Is]: [sync.ErrUnauthorized] (401), [sync.ErrForbidden]
// (403, missing scopes), [sync.ErrNotFound] (404), [sync.ErrConflict]
// (409), [sync.ErrInvalid] (400), [sync.ErrRateLimited] (429). A 477
// ([StatusMigrationInProgress]: HubSpot is moving the account's data) is
// retried after its Retry-After, like a 429, even for creates. A batch
// input's own failure is an [*ItemError] carrying HubSpot's category and
// message and, for a conflict, the ExistingID. 5xx responses and network
// errors are retried with exponential backoff ([WithRetry]), except for
// creates that may have taken effect.
//
// # Limitations
//
//   - Only contacts: companies, deals, associations and custom objects are
//     not covered.
//   - Search lags writes by a few seconds: [Contacts.SearchKey],
//     [Client.SearchByEmail] and [Contacts.ListModifiedSince] may miss a
//     contact written moments ago. [Client.GetByEmail] does not.
//   - Write results carry the properties HubSpot's write response holds,
//     limited to the listed ones; a listed property the response leaves
//     out is missing rather than null.
//   - [LegacyShape] recognises datetime properties by their value
//     (ISO-8601 UTC, as HubSpot sends them): a text property holding such a
//     string is converted to epoch milliseconds too. It does not invent the
//     LEAD_GUID identity or form submissions of the v1 API.
//   - The client-side email check is deliberately looser than HubSpot's
//     (unknown in detail); HubSpot's own refusals are isolated per input.
//   - A create whose first attempt reached HubSpot but whose answer was
//     lost is sent again as an upsert, which finds the contact just
//     created: its result reports [sync.WriteResult.Existed], so the sync
//     counts it as an update.
//   - When HubSpot refuses whole batches with an error that names no
//     input, an error common to all inputs is told apart from several
//     inputs with the same fault only heuristically (see
//     [Client.BatchUpsert]); in the unlikely case it guesses wrong, good
//     inputs of that batch fail with the others' error.
package hubspot
