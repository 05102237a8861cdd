package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// Defaults applied by [NewClient] to zero fields of [Config].
const (
	DefaultRetryWaitMin     = 500 * time.Millisecond
	DefaultRetryWaitMax     = 30 * time.Second
	DefaultMaxRetryWait     = time.Minute
	DefaultMaxResponseBytes = 64 << 20
	DefaultTimeout          = time.Minute
)

// Config configures a [Client]. Vendor packages fill it from their own
// options; the zero value of each field is documented.
type Config struct {
	// Service names the API in errors and logs, such as "pipedrive".
	Service string

	// BaseURL is prepended to every Request.Path, such as
	// "https://example.pipedrive.com". Required; http or https.
	BaseURL string

	// HTTPClient sends the requests. It is not modified: the client uses a
	// copy whose transport waits for the rate limiters and which refuses
	// redirects (a redirect could carry the credential header to another
	// host). Nil means a client with a pooled transport and a one-minute
	// timeout.
	HTTPClient *http.Client

	// Token is the credential handed to Hooks.Authorize. It is also cut
	// out of error bodies should a server ever echo it.
	Token Token

	// Limiter is waited on before every attempt, retries included. Nil
	// means no client-side limit. Do not share it with another Client.
	Limiter *rate.Limiter

	// ClassLimiters are extra limiters for classes of requests (see
	// Request.Class), such as a stricter one for search endpoints. A
	// request of a class waits for its class limiter and Limiter and
	// takes a token from both at the same instant.
	ClassLimiters map[string]*rate.Limiter

	// RetryMax is how many times a failed request is retried; 0 means
	// never. Negative is invalid.
	RetryMax int

	// RetryWaitMin and RetryWaitMax bound the exponential backoff used
	// when the server does not say how long to wait. Zero means
	// DefaultRetryWaitMin and DefaultRetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration

	// MaxRetryWait is the longest wait the client sleeps through before
	// a retry. A server asking for more makes the request fail at once
	// (with a [*RateLimitError] for 429). Zero means DefaultMaxRetryWait.
	MaxRetryWait time.Duration

	// MaxResponseBytes caps a successful response body; a longer one is
	// an error. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// Logger receives one Debug record per attempt (method, path without
	// query, status, attempt). Nil means silent.
	Logger *slog.Logger

	// Now is the clock for Retry-After dates; nil means time.Now. The
	// limiters always use time.Now.
	Now func() time.Time

	// Hooks adapt the client to the vendor's API.
	Hooks Hooks
}

// Hooks are the vendor-specific parts of a [Client]. Every field is
// optional.
type Hooks struct {
	// Authorize sets the credential headers on each request. The token
	// must never go in the URL.
	Authorize func(h http.Header, tok Token)

	// Classify inspects a 429 or 5xx response, or one whose status
	// Retryable accepts (body capped at MaxErrorBody), before a retry is
	// decided. It returns the wait the
	// server asks for in vendor headers (such as Pipedrive's
	// x-ratelimit-reset) and whether retrying is pointless (such as a
	// daily quota). The standard Retry-After header is read by the client
	// itself; the longer of the two waits applies.
	Classify func(resp *http.Response, body []byte) Verdict

	// Retryable reports whether a status outside 2xx that the client does
	// not retry on its own (it retries 429 and 5xx but 501) is transient,
	// such as HubSpot's 477 while an account is migrated. Such a response
	// is retried like a 429, after Retry-After or the Classify wait, else
	// with backoff, and within RetryMax and MaxRetryWait. As with a 429, the
	// server must have refused the request without acting on it: the retry
	// is made even for a NonIdempotent request.
	Retryable func(status int) bool

	// ParseError extracts a message and a code from an error body.
	ParseError func(body []byte) (message, code string)

	// RequestID returns the server's request ID from the response
	// headers. Nil means X-Request-Id.
	RequestID func(h http.Header) string
}

// Verdict is a vendor's judgement of a retryable-looking response.
type Verdict struct {
	// Wait is how long the server asks the client to wait, or 0.
	Wait time.Duration

	// NoRetry says that retrying cannot help (for example a daily quota).
	NoRetry bool
}

// Request is one API call for [Client.Do].
type Request struct {
	// Method is the HTTP method.
	Method string

	// Path is appended to Config.BaseURL; it starts with "/".
	Path string

	// EscapedPath says that Path is already percent-encoded, so that a
	// segment may hold an escaped "/" ("%2F"), as in
	// "/contacts/" + url.PathEscape(email). Otherwise Path is sent as
	// written, escaped by net/url where needed.
	EscapedPath bool

	// Query holds the query parameters, never credentials.
	Query url.Values

	// Body is sent as JSON: nil means no body, []byte and json.RawMessage
	// are sent as they are, anything else goes through json.Marshal. The
	// bytes are replayed on every retry.
	Body any

	// Class selects an extra limiter from Config.ClassLimiters; "" means
	// only Config.Limiter.
	Class string

	// NonIdempotent marks a request that must not be repeated once it may
	// have reached the server, such as a create. It is retried only after
	// a 429 or when the connection could not be opened; after a 5xx or a
	// connection failure mid-request it fails, and [OutcomeUnknown]
	// reports that it may have taken effect.
	NonIdempotent bool
}

// Response is a successful (2xx) response with its body read.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int

	// Header holds the response headers.
	Header http.Header

	// Body is the whole response body.
	Body []byte

	// Method is the request method.
	Method string

	// URL is the request URL with secrets removed.
	URL string
}

// Client sends requests with rate limiting, retries and typed errors. It is
// safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
	log  *slog.Logger
	gate gate
	// quiet is handed to retryablehttp so that it never logs to stderr.
	quiet *slog.Logger
}

// NewClient validates cfg, applies defaults and returns a client.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = max(DefaultRetryWaitMax, cfg.RetryWaitMin)
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = DefaultMaxRetryWait
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	quiet := slog.New(slog.DiscardHandler)
	log := cfg.Logger
	if log == nil {
		log = quiet
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		hc = &http.Client{Transport: tr, Timeout: DefaultTimeout}
	}
	return &Client{cfg: cfg, base: base, http: hc, log: log, quiet: quiet}, nil
}

func (cfg *Config) validate() error {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "":
		return errors.New("httpx: BaseURL is required")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("httpx: BaseURL %q is not an absolute http(s) URL",
			SanitizeURL(cfg.BaseURL))
	case u.User != nil || u.RawQuery != "":
		return errors.New("httpx: BaseURL must not carry credentials or a query")
	case cfg.RetryMax < 0:
		return fmt.Errorf("httpx: RetryMax %d is negative", cfg.RetryMax)
	case cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0:
		return errors.New("httpx: retry waits must not be negative")
	case cfg.RetryWaitMax != 0 && cfg.RetryWaitMax < cfg.RetryWaitMin:
		return fmt.Errorf("httpx: RetryWaitMax %v is less than RetryWaitMin %v",
			cfg.RetryWaitMax, cfg.RetryWaitMin)
	case cfg.MaxRetryWait < 0:
		return errors.New("httpx: MaxRetryWait must not be negative")
	case cfg.MaxResponseBytes < 0:
		return errors.New("httpx: MaxResponseBytes must not be negative")
	}
	if err := checkHeaderValue(cfg.Token.Reveal()); err != nil {
		return fmt.Errorf("httpx: Token %w", err)
	}
	return nil
}

// checkHeaderValue rejects what net/http refuses to send in a header value:
// control characters other than tab. Its error shows the position, never
// the value, which may be a secret.
func checkHeaderValue(v string) error {
	for i := range len(v) {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return fmt.Errorf("contains a control character (%#02x at byte %d of %d; "+
				"a trailing newline from a file?)", b, i, len(v))
		}
	}
	return nil
}

// Service returns Config.Service.
func (c *Client) Service() string { return c.cfg.Service }

// Do sends r, retrying as configured, and returns the 2xx response. Any
// other outcome is an error: [*APIError] for a non-2xx response,
// [*RateLimitError] when a 429's wait was refused, [*RequestError] when no
// response arrived, or ctx.Err() once ctx is done.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	lims, err := c.limiters(r.Class)
	if err != nil {
		return nil, err
	}
	u, err := c.url(r.Path, r.EscapedPath, r.Query)
	if err != nil {
		return nil, err
	}
	body, err := encodeBody(r.Body)
	if err != nil {
		return nil, err
	}
	var raw any // a nil []byte in an interface would still send a body
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, u.String(), raw)
	if err != nil {
		return nil, fmt.Errorf("%sbuilding request: %w", prefix(c.cfg.Service), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.Hooks.Authorize != nil {
		c.cfg.Hooks.Authorize(req.Header, c.cfg.Token)
	}
	if err := checkHeaders(req.Header); err != nil {
		// net/http would refuse it before connecting; fail the same way
		// without trying.
		return nil, &RequestError{Service: c.cfg.Service, Method: r.Method, URL: sanitize(u),
			Err: err}
	}

	a := &attempt{c: c, req: r, url: sanitize(u), path: u.Path}
	hc := *c.http
	hc.Transport = &attemptTransport{base: c.http.Transport, gate: &c.gate, lims: lims, a: a}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rc := &retryablehttp.Client{
		HTTPClient:   &hc,
		Logger:       c.quiet,
		RetryWaitMin: c.cfg.RetryWaitMin,
		RetryWaitMax: c.cfg.RetryWaitMax,
		RetryMax:     c.cfg.RetryMax,
		CheckRetry:   a.checkRetry,
		Backoff:      a.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := rc.Do(req)
	return a.finish(ctx, resp, err)
}

// checkHeaders validates the header values a request would carry.
func checkHeaders(h http.Header) error {
	for k, vs := range h {
		for _, v := range vs {
			if err := checkHeaderValue(v); err != nil {
				return fmt.Errorf("header %s %w", k, err)
			}
		}
	}
	return nil
}

func (c *Client) limiters(class string) ([]*rate.Limiter, error) {
	var lims []*rate.Limiter
	if class != "" {
		l, ok := c.cfg.ClassLimiters[class]
		if !ok {
			return nil, fmt.Errorf("httpx: unknown request class %q", class)
		}
		if l != nil {
			lims = append(lims, l)
		}
	}
	if c.cfg.Limiter != nil {
		lims = append(lims, c.cfg.Limiter)
	}
	return lims, nil
}

func (c *Client) url(path string, escaped bool, q url.Values) (*url.URL, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("httpx: request path %q does not start with /", path)
	}
	u := *c.base
	u.RawQuery = q.Encode()
	if !escaped {
		u.Path = c.base.Path + path
		u.RawPath = ""
		return &u, nil
	}
	plain, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("httpx: request path %q is not validly escaped: %w", path, err)
	}
	u.Path = c.base.Path + plain
	u.RawPath = c.base.EscapedPath() + path
	return &u, nil
}

func encodeBody(b any) ([]byte, error) {
	switch v := b.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("httpx: encoding request body: %w", err)
	}
	return data, nil
}

// NewAPIError builds the [*APIError] for a response that arrived with a 2xx
// status but whose envelope reports a failure.
func (c *Client) NewAPIError(resp *Response) *APIError {
	return c.apiError(resp.Method, resp.URL, resp.StatusCode, resp.Header, resp.Body)
}

func (c *Client) apiError(method, u string, status int, h http.Header, body []byte) *APIError {
	body = c.redactBody(body, int64(len(body)) >= c.errorReadLimit())
	e := &APIError{Service: c.cfg.Service, StatusCode: status, Method: method, URL: u,
		Body: body, RetryAfter: c.retryAfter(h)}
	if c.cfg.Hooks.ParseError != nil {
		e.Message, e.Code = c.cfg.Hooks.ParseError(body)
	}
	if c.cfg.Hooks.RequestID != nil {
		e.RequestID = c.cfg.Hooks.RequestID(h)
	} else {
		e.RequestID = h.Get("X-Request-Id")
	}
	return e
}

// errorReadLimit is how much of an error body the client reads: MaxErrorBody
// and a token's length more, so that a token crossing the MaxErrorBody mark
// is read whole and cut out before the body is capped.
func (c *Client) errorReadLimit() int64 {
	return int64(MaxErrorBody + len(c.cfg.Token.Reveal()))
}

// redactBody cuts the token out of body and then caps it at MaxErrorBody,
// in that order: capping first could leave the start of a token that
// crosses the mark. When the body was or is now cut short, a tail that
// could be the start of the token is dropped too.
func (c *Client) redactBody(body []byte, truncated bool) []byte {
	tok := c.cfg.Token.Reveal()
	if tok != "" {
		body = bytes.ReplaceAll(body, []byte(tok), []byte(redacted))
	}
	if len(body) > MaxErrorBody {
		body, truncated = body[:MaxErrorBody], true
	}
	if truncated {
		for n := min(len(tok)-1, len(body)); n > 0; n-- {
			if bytes.HasSuffix(body, []byte(tok[:n])) {
				body = body[:len(body)-n]
				break
			}
		}
	}
	return body
}

// readAll reads at most limit bytes of body and closes it; a longer body is
// an error.
func readAll(body io.ReadCloser, limit int64) ([]byte, error) {
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("response body longer than %d bytes", limit)
	}
	return data, nil
}
