package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	keysync "github.com/keysync/sync"
)

// MaxErrorBody is how many bytes of an error response an [APIError] keeps.
const MaxErrorBody = 64 << 10

// APIError is a response with a status outside 2xx, or a 2xx response whose
// envelope says it failed. Its Error method prints one line without the
// body. It matches the keysync sentinels through [APIError.Is]:
// 401 [keysync.ErrUnauthorized], 403 [keysync.ErrForbidden],
// 404 [keysync.ErrNotFound], 409 [keysync.ErrConflict],
// 400 and 422 [keysync.ErrInvalid], 429 [keysync.ErrRateLimited].
type APIError struct {
	// Service names the API, such as "pipedrive"; it prefixes Error.
	Service string

	// StatusCode is the HTTP status of the response.
	StatusCode int

	// Method is the HTTP method of the request.
	Method string

	// URL is the request URL with credentials and secret query
	// parameters removed.
	URL string

	// RequestID is the server's request or correlation ID, if it sent one.
	RequestID string

	// RetryAfter is the wait the server asked for, or 0.
	RetryAfter time.Duration

	// Message is the human-readable error the server sent, if any.
	Message string

	// Code is the machine-readable error code the server sent, if any.
	Code string

	// Body holds at most MaxErrorBody bytes of the response body. It is
	// left out of Error.
	Body []byte
}

// Error returns a one-line description without the body.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(prefix(e.Service))
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (code %s)", e.Code)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is maps the status code onto the keysync error sentinels.
func (e *APIError) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return target == keysync.ErrUnauthorized
	case http.StatusForbidden:
		return target == keysync.ErrForbidden
	case http.StatusNotFound:
		return target == keysync.ErrNotFound
	case http.StatusConflict:
		return target == keysync.ErrConflict
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return target == keysync.ErrInvalid
	case http.StatusTooManyRequests:
		return target == keysync.ErrRateLimited
	}
	return false
}

// RateLimitError means the client gave up on a rate-limited request instead
// of sleeping: the server asked for a wait longer than the client's maximum
// retry wait, or one that would pass the context's deadline. It matches
// [keysync.ErrRateLimited] and unwraps to the 429 [*APIError].
type RateLimitError struct {
	// Wait is how long the server asked the client to wait.
	Wait time.Duration

	// Limit is the longest wait the client would accept: its maximum
	// retry wait, or the time left before the context's deadline.
	Limit time.Duration

	// Err is the rate-limited response.
	Err *APIError
}

// Error describes the refused wait and the response.
func (e *RateLimitError) Error() string {
	svc := ""
	if e.Err != nil {
		svc = e.Err.Service
	}
	msg := fmt.Sprintf("%srate limited: asked to wait %v, longer than the %v allowed",
		prefix(svc), e.Wait, e.Limit)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is [keysync.ErrRateLimited].
func (e *RateLimitError) Is(target error) bool {
	return target == keysync.ErrRateLimited
}

// Unwrap returns the rate-limited response's [*APIError].
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// RequestError is a request that got no usable response: the connection
// failed, timed out or was closed, or the body could not be read.
type RequestError struct {
	// Service names the API, such as "pipedrive".
	Service string

	// Method is the HTTP method of the request.
	Method string

	// URL is the request URL with secrets removed.
	URL string

	// Attempts is how many times the request was tried.
	Attempts int

	// Sent reports whether the last attempt may have reached the server,
	// so that a non-idempotent request may have taken effect. It is false
	// only when the request surely did not leave: the connection could not
	// be opened, waiting for the rate limiter would have passed the
	// deadline, or net/http refused the request before connecting (an
	// invalid header value, an unsupported scheme).
	Sent bool

	// Err is the underlying error, without the URL the net/http package
	// puts in its errors.
	Err error
}

// Error describes the request and the cause.
func (e *RequestError) Error() string {
	sent := ""
	if e.Sent {
		sent = " (request may have been sent)"
	}
	return fmt.Sprintf("%s%s %s: %d attempt(s)%s: %v",
		prefix(e.Service), e.Method, e.URL, e.Attempts, sent, e.Err)
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// OutcomeUnknown reports whether err leaves open whether a request took
// effect on the server: a [*RequestError] that may have been sent, a 5xx
// [*APIError] (the server may have committed the write before failing), or
// a context error (the request may have been in flight). A *RequestError
// decides first, so that one that was surely not sent is known even when it
// wraps a context error, as when waiting for the rate limiter would have
// passed the deadline. Callers of non-idempotent requests, such as
// creates, must check before trying again.
func OutcomeUnknown(err error) bool {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Sent
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	return false
}

func prefix(service string) string {
	if service == "" {
		return ""
	}
	return service + ": "
}

// secretParams are query parameters that carry credentials; SanitizeURL
// drops them (compared case-insensitively).
var secretParams = map[string]bool{
	"api_token": true, "apitoken": true, "api_key": true, "apikey": true,
	"hapikey": true, "token": true, "access_token": true, "refresh_token": true,
	"client_secret": true, "secret": true, "password": true, "key": true,
	"code": true, "signature": true, "sig": true,
}

// SanitizeURL returns raw without userinfo, fragment and credential query
// parameters (api_token, hapikey, token, access_token and the like). A URL
// that does not parse is replaced by "[unparsable URL]".
func SanitizeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	return sanitize(u)
}

func sanitize(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment = ""
	c.RawFragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			if secretParams[strings.ToLower(k)] {
				q.Del(k)
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
