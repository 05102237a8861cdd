// Package httpx is the HTTP plumbing shared by the vendor clients (pipedrive,
// hubspot): rate limiting, retries, typed errors and a redacting token type.
//
// # Client
//
// [NewClient] takes a [Config]; vendor packages fill it from their own
// options and adapt it with [Hooks] (authentication headers, vendor
// rate-limit headers, error-body parsing, request IDs). [Client.Do] sends a
// [Request] and returns the 2xx [Response] with its body read, or an error.
// Retries run on hashicorp/go-retryablehttp, configured so that it never
// logs to stderr and hands back the last response when it gives up.
//
// # Rate limits
//
// Every attempt, retries included, waits in the HTTP transport for
// Config.Limiter and, for a request with a Class, for that class's limiter
// too; a token is taken from all of them at the same instant.
// [NewWindowLimiter] builds a limiter that never allows more than n requests
// in any rolling window, which a plain token bucket does not guarantee.
//
// # Retries
//
// Connection errors, 5xx (except 501) and 429 are retried up to
// Config.RetryMax times with exponential backoff and jitter. A server wait
// from Retry-After (delta-seconds or HTTP-date) or from a vendor header
// (Hooks.Classify) replaces the backoff. A wait longer than
// Config.MaxRetryWait, or one that would pass the context's deadline, is not
// slept through: a 429 then fails at once with a [*RateLimitError], other
// statuses with their [*APIError]. Hooks.Classify can also declare a
// response not retryable (a daily quota). Other 4xx responses are not
// retried unless Hooks.Retryable calls their status transient (HubSpot's
// 477); those are retried like a 429. Requests marked NonIdempotent are
// retried only when they surely did not take effect; [OutcomeUnknown] tells
// a caller when a failed one might have.
//
// # Errors
//
// A non-2xx response is an [*APIError] carrying the status, method,
// sanitized URL, request ID, Retry-After, the vendor's message and code, and
// up to 64 KiB of body (kept out of Error). Through Is methods, errors match
// the keysync sentinels: 401 ErrUnauthorized, 403 ErrForbidden, 404
// ErrNotFound, 409 ErrConflict, 400/422 ErrInvalid, 429 and
// [*RateLimitError] ErrRateLimited. A request without a response is a
// [*RequestError]; its Sent field is false when the request surely did not
// leave (no connection, a rate-limiter wait past the deadline, a header
// value or scheme that net/http refuses), and such requests are not
// retried when a retry cannot help. A done context yields ctx.Err().
//
// # Secrets
//
// A [Token] prints as "[REDACTED]" through fmt, slog and JSON. Hooks.Authorize
// puts it in a header, never in the URL; error URLs go through
// [SanitizeURL], and a token echoed in an error body is cut out before the
// body is capped, so that no part of it remains. A token holding control
// characters (a trailing newline read from a file) is refused by
// [NewClient] without printing it. Debug logs
// carry the method, path without query, status and attempt only.
package httpx
