package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// attempt is the state of one Client.Do call across its attempts. Its
// methods are retryablehttp's CheckRetry and Backoff for that call.
type attempt struct {
	c    *Client
	req  Request
	url  string // sanitized
	path string

	n       int           // attempts made so far
	next    time.Duration // wait before the next attempt, chosen by checkRetry
	sent    bool          // whether the last failed attempt may have reached the server
	gotConn atomic.Bool   // set by the transport once a connection was obtained
}

// giveUpError tells finish that a 429's wait was refused.
type giveUpError struct {
	wait, limit time.Duration
}

func (e *giveUpError) Error() string {
	return fmt.Sprintf("refusing to wait %v (limit %v)", e.wait, e.limit)
}

// checkRetry decides after each attempt whether to retry and how long to
// wait first.
func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a.n++
	retry, cerr := a.decide(ctx, resp, err)
	a.logAttempt(ctx, resp, err, retry)
	return retry, cerr
}

func (a *attempt) decide(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return a.retryError(ctx, err)
	}
	return a.retryResponse(ctx, resp)
}

func (a *attempt) retryError(ctx context.Context, err error) (bool, error) {
	var lde *limiterDeadlineError
	local := errors.As(err, &lde)
	unsent := !a.gotConn.Load() && isUnsent(err)
	a.sent = a.gotConn.Load() || !(local || unsent || isDialError(err))
	switch {
	case local, unsent, isPermanent(err):
		return false, nil
	case a.req.NonIdempotent && a.sent:
		return false, nil
	}
	return a.schedule(ctx, 0, 0)
}

func (a *attempt) retryResponse(ctx context.Context, resp *http.Response) (bool, error) {
	code := resp.StatusCode
	refused := code == http.StatusTooManyRequests // rejected unprocessed: safe to repeat
	if !refused && (code < 500 || code == http.StatusNotImplemented || code > 599) {
		if code < 300 || a.c.cfg.Hooks.Retryable == nil || !a.c.cfg.Hooks.Retryable(code) {
			return false, nil
		}
		refused = true
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, a.c.errorReadLimit()))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))

	wait := a.c.retryAfter(resp.Header)
	if a.c.cfg.Hooks.Classify != nil {
		v := a.c.cfg.Hooks.Classify(resp, body[:min(len(body), MaxErrorBody)])
		if v.NoRetry {
			return false, nil
		}
		wait = max(wait, v.Wait)
	}
	if !refused && a.req.NonIdempotent {
		return false, nil
	}
	return a.schedule(ctx, wait, code)
}

// schedule plans the wait before the next attempt: the server's wait if it
// gave one, exponential backoff otherwise. A wait beyond MaxRetryWait or the
// context's deadline ends the retries; for a 429 with a typed error.
func (a *attempt) schedule(ctx context.Context, server time.Duration, status int) (bool, error) {
	wait := server
	if wait <= 0 {
		wait = a.backoffFor(a.n)
	}
	limit := a.c.cfg.MaxRetryWait
	if dl, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(dl))
	}
	if wait > limit {
		if status == http.StatusTooManyRequests {
			return false, &giveUpError{wait: wait, limit: max(limit, 0)}
		}
		return false, nil
	}
	a.next = wait
	return true, nil
}

// backoffFor returns the jittered exponential wait after the n-th failed
// attempt: half of min·2^(n-1) (capped at max) plus a random part of the
// other half.
func (a *attempt) backoffFor(n int) time.Duration {
	lo, hi := a.c.cfg.RetryWaitMin, a.c.cfg.RetryWaitMax
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// backoff is retryablehttp's Backoff: it returns what checkRetry planned.
func (a *attempt) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return a.next
}

func (a *attempt) logAttempt(ctx context.Context, resp *http.Response, err error, retry bool) {
	if !a.c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("service", a.c.cfg.Service),
		slog.String("method", a.req.Method),
		slog.String("path", a.path),
		slog.Int("attempt", a.n),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", a.c.redact(unwrapURLError(err).Error())))
	}
	if retry && a.n <= a.c.cfg.RetryMax { // past RetryMax, retryablehttp gives up
		attrs = append(attrs, slog.Duration("retry_in", a.next))
	}
	a.c.log.LogAttrs(ctx, slog.LevelDebug, "http request", attrs...)
}

// finish turns retryablehttp's result into a Response or one of our errors.
func (a *attempt) finish(ctx context.Context, resp *http.Response, err error) (*Response, error) {
	c := a.c
	if err != nil {
		var gu *giveUpError
		if errors.As(err, &gu) && resp != nil {
			ae := a.errorFrom(resp)
			return nil, &RateLimitError{Wait: gu.wait, Limit: gu.limit, Err: ae}
		}
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &RequestError{Service: c.cfg.Service, Method: a.req.Method, URL: a.url,
			Attempts: a.n, Sent: a.sent, Err: a.cleanError(err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, a.errorFrom(resp)
	}
	body, err := readAll(resp.Body, c.cfg.MaxResponseBytes)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &RequestError{Service: c.cfg.Service, Method: a.req.Method, URL: a.url,
			Attempts: a.n, Sent: true, Err: fmt.Errorf("reading response body: %w", err)}
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body,
		Method: a.req.Method, URL: a.url}, nil
}

func (a *attempt) errorFrom(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, a.c.errorReadLimit()))
	resp.Body.Close()
	return a.c.apiError(a.req.Method, a.url, resp.StatusCode, resp.Header, body)
}

// cleanError drops the URL that net/http puts in its errors (it may carry
// query parameters) and cuts out the token, should it appear.
func (a *attempt) cleanError(err error) error {
	inner := unwrapURLError(err)
	if tok := a.c.cfg.Token.Reveal(); tok != "" && strings.Contains(inner.Error(), tok) {
		return errors.New(a.c.redact(inner.Error()))
	}
	return inner
}

func (c *Client) redact(s string) string {
	if tok := c.cfg.Token.Reveal(); tok != "" {
		return strings.ReplaceAll(s, tok, redacted)
	}
	return s
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// isUnsent reports errors that net/http raises before it looks for a
// connection, so that the request cannot have left: a header value or name
// it refuses (such as a token with a trailing newline), an unsupported
// scheme, a URL without a host. net/http has no types for them, so they
// are recognized by their text. A retry cannot fix them either.
func isUnsent(err error) bool {
	msg := unwrapURLError(err).Error()
	for _, s := range []string{
		"net/http: invalid header field",
		"unsupported protocol scheme",
		"http: no Host in request URL",
		"net/http: nil Request",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isPermanent reports errors that a retry cannot fix.
func isPermanent(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		cie x509.CertificateInvalidError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &cie)
}

// retryAfter parses the Retry-After header in both of its forms,
// delta-seconds and HTTP-date. A missing, malformed or past value is 0.
func (c *Client) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 1<<30)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.cfg.Now()), 0)
	}
	return 0
}

// attemptTransport waits for the rate limiters before every attempt and
// records whether the attempt obtained a connection.
type attemptTransport struct {
	base http.RoundTripper
	gate *gate
	lims []*rate.Limiter
	a    *attempt
}

// RoundTrip implements http.RoundTripper.
func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.a.gotConn.Store(false)
	if err := t.gate.acquire(req.Context(), time.Now, t.lims); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	trace := &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { t.a.gotConn.Store(true) },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}
