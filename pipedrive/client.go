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

	// ErrOutcomeUnknown means a create failed in a way that leaves open
	// whether the person was stored, and the connector could not settle
	// the question without risking a duplicate. Look the person up before
	// creating it again.
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
func NewClient(token string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("pipedrive: NewClient: token is empty")
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
	cfg := httpx.Config{
		Service:       "pipedrive",
		BaseURL:       s.baseURL,
		HTTPClient:    s.httpClient,
		Token:         httpx.NewToken(token),
		ClassLimiters: map[string]*rate.Limiter{searchClass: nil},
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
	if !s.unlimited {
		cfg.Limiter = httpx.NewWindowLimiter(s.rateN, withMargin(s.rateWindow))
	}
	if !s.unlimitedSearches {
		cfg.ClassLimiters[searchClass] = httpx.NewWindowLimiter(s.searchN,
			withMargin(s.searchWindow))
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

// call sends a request and unwraps the envelope; success:false is an
// error even with a 2xx status.
func (c *Client) call(ctx context.Context, r httpx.Request) (*envelope, error) {
	resp, err := c.hc.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return nil, fmt.Errorf("pipedrive: %s %s: decoding response: %w", r.Method, r.Path, err)
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
