package pipedrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/keysync/sync/internal/httpx"
)

// APIError is an error response from Pipedrive: a status outside 2xx or a
// body with "success": false. Match it with errors.As; it also matches the
// keysync sentinels with errors.Is (401 ErrUnauthorized, 403 ErrForbidden,
// 404 ErrNotFound, 400 ErrInvalid, 429 ErrRateLimited).
type APIError = httpx.APIError

// RateLimitError means Pipedrive asked the client to wait longer than
// [WithMaxRetryWait] allows (or than the context's deadline leaves), as
// when the daily budget is used up. It matches keysync.ErrRateLimited and
// unwraps to the 429 [*APIError].
type RateLimitError = httpx.RateLimitError

// RequestError is a request that got no response (connection refused,
// reset or timed out). Its Sent field tells whether the request may have
// reached Pipedrive.
type RequestError = httpx.RequestError

// Errors of this package.
var (
	// ErrRepeatedCursor means a list or search returned a cursor it had
	// already returned; the iteration stops instead of looping forever.
	ErrRepeatedCursor = errors.New("pipedrive: pagination cursor repeated")

	// ErrCursorRejected means Pipedrive answered 400 to a list request that
	// carried a cursor, as when the cursor expired. The error also wraps
	// the 400 [*APIError]. [Persons.List] starts over once when it meets
	// it.
	ErrCursorRejected = errors.New("pipedrive: pagination cursor rejected")

	// ErrOutcomeUnknown means a create failed in a way that leaves open
	// whether the person was stored (the connection broke after sending,
	// a 5xx, or a 2xx answer that does not show the stored person), and
	// the connector could not settle the question without risking a
	// duplicate. Look the person up before creating it again.
	ErrOutcomeUnknown = errors.New("pipedrive: create outcome unknown")
)

const searchClass = "search"

// Client calls the Pipedrive persons API (v2). It is safe for concurrent
// use; all requests share its rate limiters.
type Client struct {
	hc  *httpx.Client
	log *slog.Logger
}

// NewClient returns a client that authenticates with a personal API token
// (sent in the x-api-token header) or an OAuth access token. Without
// options it talks to [DefaultBaseURL] with the limits of the smallest
// plan.
//
// The token must not be empty and must not contain spaces or control
// characters, such as the newline that ends a token read from a file; the
// error says so without printing the token.
func NewClient(token string, opts ...Option) (*Client, error) {
	if err := checkToken(token); err != nil {
		return nil, err
	}
	s := defaultSettings()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	general, search := s.limiters()
	cfg := httpx.Config{
		Service:       "pipedrive",
		BaseURL:       s.baseURL,
		HTTPClient:    s.httpClient,
		Token:         httpx.NewToken(token),
		Limiter:       general,
		ClassLimiters: map[string]*rate.Limiter{searchClass: search},
		RetryMax:      s.retryMax,
		RetryWaitMin:  s.retryWaitMin,
		RetryWaitMax:  s.retryWaitMax,
		MaxRetryWait:  s.maxRetryWait,
		Logger:        s.logger,
		Hooks: httpx.Hooks{
			Authorize:  authorize,
			Classify:   classify,
			ParseError: parseError,
			RequestID:  requestID,
		},
	}
	hc, err := httpx.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("pipedrive: NewClient: %w", err)
	}
	log := s.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{hc: hc, log: log}, nil
}

// checkToken rejects tokens that cannot be sent in a header or that
// carry stray whitespace. Its errors never include the token.
func checkToken(token string) error {
	if strings.TrimSpace(token) == "" {
		return errors.New("pipedrive: NewClient: token is empty")
	}
	for i, r := range token {
		switch {
		case r < ' ' || r == 0x7f:
			return fmt.Errorf("pipedrive: NewClient: token contains a control character "+
				"(%U at byte %d of %d; a trailing newline from a file?)", r, i, len(token))
		case r == ' ':
			return fmt.Errorf("pipedrive: NewClient: token contains a space (byte %d of %d)",
				i, len(token))
		}
	}
	return nil
}

// withMargin stretches a rate window by a tenth: Pipedrive counts requests
// when they arrive, and network jitter can move two requests sent a
// window apart into one window at the server.
func withMargin(w time.Duration) time.Duration {
	return w + w/10
}

// authorize sends the token in the x-api-token header, as Pipedrive's
// documentation asks; never in the query string.
func authorize(h http.Header, tok httpx.Token) {
	h.Set("x-api-token", tok.Reveal())
}

// classify reads Pipedrive's x-ratelimit-reset (seconds until the burst
// window, or after the daily budget the day, resets) from a 429.
func classify(resp *http.Response, _ []byte) httpx.Verdict {
	if resp.StatusCode != http.StatusTooManyRequests {
		return httpx.Verdict{}
	}
	secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("x-ratelimit-reset")))
	if err != nil || secs <= 0 {
		return httpx.Verdict{}
	}
	return httpx.Verdict{Wait: time.Duration(secs) * time.Second}
}

// parseError reads the error envelope
// {"success":false,"error":"...","error_info":"...","errorCode":401,"code":"..."}.
func parseError(body []byte) (message, code string) {
	var e struct {
		Error     string          `json:"error"`
		Code      string          `json:"code"`
		ErrorCode json.RawMessage `json:"errorCode"`
	}
	if json.Unmarshal(body, &e) != nil {
		if bytes.Contains(bytes.ToLower(body), []byte("<html")) {
			return "HTML error page (e.g. Cloudflare)", ""
		}
		return "", ""
	}
	code = e.Code
	if code == "" && len(e.ErrorCode) > 0 && string(e.ErrorCode) != "null" {
		code = strings.Trim(string(e.ErrorCode), `"`)
	}
	return e.Error, code
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "X-Correlation-Id", "Cf-Ray"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// envelope is Pipedrive's response wrapper.
type envelope struct {
	Success        *bool           `json:"success"`
	Data           json.RawMessage `json:"data"`
	AdditionalData json.RawMessage `json:"additional_data"`
}

// responseError is a 2xx response whose body is not the JSON expected.
type responseError struct {
	method, path string
	err          error
}

func (e *responseError) Error() string {
	return fmt.Sprintf("pipedrive: %s %s: decoding response: %v", e.method, e.path, e.err)
}

func (e *responseError) Unwrap() error { return e.err }

// call sends a request and unwraps the envelope; success:false is an
// error even with a 2xx status.
func (c *Client) call(ctx context.Context, r httpx.Request) (*envelope, error) {
	resp, err := c.hc.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return nil, &responseError{method: r.Method, path: r.Path, err: err}
	}
	if env.Success != nil && !*env.Success {
		return nil, c.hc.NewAPIError(resp)
	}
	return &env, nil
}

// decode unmarshals JSON keeping numbers as json.Number.
func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}
