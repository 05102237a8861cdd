package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keysync/sync/internal/httpx"
	"golang.org/x/time/rate"
)

// APIError is the error for a response outside 2xx. Its Message and Code
// are HubSpot's message and category; Error leaves the body out. It matches
// the sync sentinels with [errors.Is]: 401 [sync.ErrUnauthorized], 403
// [sync.ErrForbidden], 404 [sync.ErrNotFound], 409 [sync.ErrConflict],
// 400 and 422 [sync.ErrInvalid], 429 [sync.ErrRateLimited].
type APIError = httpx.APIError

// classSearch is the httpx request class of search calls, which wait for
// the search limiter as well as the general one.
const classSearch = "search"

// Client calls HubSpot's CRM objects API for contacts. It is safe for
// concurrent use; all calls share its rate limiters.
type Client struct {
	hc     *httpx.Client
	token  httpx.Token // to cut it out of response bodies; prints redacted
	prefix string      // "/crm/objects/2026-09/contacts"
	log    *slog.Logger

	// searchCeiling is SearchCeiling; tests lower it to exercise the
	// ceiling without 10,000 contacts.
	searchCeiling int
}

// NewClient returns a client that authenticates with token, a private-app
// access token ("pat-na1-…"), a Service Key or an OAuth access token, sent
// as "Authorization: Bearer". The token never appears in errors or logs.
func NewClient(token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("hubspot: empty token")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	general, search := newLimiters(cfg)
	tok := httpx.NewToken(token)
	hc, err := httpx.NewClient(httpx.Config{
		Service:       "hubspot",
		BaseURL:       cfg.baseURL,
		HTTPClient:    cfg.httpClient,
		Token:         tok,
		Limiter:       general,
		ClassLimiters: map[string]*rate.Limiter{classSearch: search},
		RetryMax:      cfg.retries,
		RetryWaitMin:  cfg.retryWaitMin,
		RetryWaitMax:  cfg.retryWaitMax,
		MaxRetryWait:  cfg.maxRetryWait,
		Logger:        cfg.logger,
		Hooks: httpx.Hooks{
			Authorize:  authorize,
			Classify:   classify,
			Retryable:  retryable,
			ParseError: parseError,
			RequestID:  requestID,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("hubspot: %w", err)
	}
	log := cfg.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{hc: hc, token: tok,
		prefix: objectsPrefix(cfg.version) + "/contacts", log: log,
		searchCeiling: SearchCeiling}, nil
}

// newLimiters returns the general limiter and the search limiter, each of
// which never allows more than its configured count in any window, or two
// nils after [WithoutRateLimit].
func newLimiters(cfg config) (general, search *rate.Limiter) {
	if cfg.unlimited {
		return nil, nil
	}
	return httpx.NewWindowLimiter(cfg.rateMax, cfg.rateWindow),
		httpx.NewWindowLimiter(cfg.searchMax, cfg.searchWindow)
}

func objectsPrefix(version string) string {
	if version == VersionV3 {
		return "/crm/v3/objects"
	}
	return "/crm/objects/" + version
}

func authorize(h http.Header, tok httpx.Token) {
	h.Set("Authorization", "Bearer "+tok.Reveal())
}

// classify reads HubSpot's 429 body: a DAILY policy is not worth retrying;
// for the others the wait is the rate-limit interval HubSpot reports (the
// window length), so the retry lands in a fresh window.
func classify(resp *http.Response, body []byte) httpx.Verdict {
	if resp.StatusCode != http.StatusTooManyRequests {
		return httpx.Verdict{}
	}
	env := parseEnvelope(body)
	switch env.PolicyName {
	case PolicyDaily:
		return httpx.Verdict{NoRetry: true}
	case PolicySecondly:
		return httpx.Verdict{Wait: max(intervalHeader(resp.Header), time.Second)}
	}
	return httpx.Verdict{Wait: intervalHeader(resp.Header)}
}

// StatusMigrationInProgress is the status HubSpot answers while it moves
// an account's data between data centers. The request had no effect; the
// client retries it like a 429, after the Retry-After HubSpot sends.
const StatusMigrationInProgress = 477

// retryable marks a 477 as transient.
func retryable(status int) bool { return status == StatusMigrationInProgress }

// intervalHeader returns X-HubSpot-RateLimit-Interval-Milliseconds, or 0.
func intervalHeader(h http.Header) time.Duration {
	ms, err := strconv.ParseInt(strings.TrimSpace(
		h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")), 10, 64)
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, int64(time.Hour/time.Millisecond))) * time.Millisecond
}

func parseError(body []byte) (message, code string) {
	env := parseEnvelope(body)
	code = env.Category
	if code == "" {
		code = env.ErrorType
	}
	return env.Message, code
}

func requestID(h http.Header) string {
	if id := h.Get("X-HubSpot-Correlation-Id"); id != "" {
		return id
	}
	return h.Get("X-Request-Id")
}

// call is one request for [Client.do].
type call struct {
	method string
	path   string // below the contacts prefix, such as "/batch/read"
	query  url.Values
	body   any
	search bool // wait for the search limiter too
	create bool // not repeated once it may have reached HubSpot
}

// do sends r and decodes a 2xx JSON body into out (when out is non-nil and
// there is a body). Errors are converted by convertError.
func (c *Client) do(ctx context.Context, r call, out any) error {
	req := httpx.Request{
		Method:        r.method,
		Path:          c.prefix + r.path,
		Query:         r.query,
		Body:          r.body,
		NonIdempotent: r.create,
	}
	if r.search {
		req.Class = classSearch
	}
	resp, err := c.hc.Do(ctx, req)
	if err != nil {
		return convertError(err)
	}
	if out == nil || len(resp.Body) == 0 {
		return nil
	}
	// A 207's per-input messages end up in errors: make sure no echo of the
	// token does.
	body := resp.Body
	if tok := []byte(c.token.Reveal()); bytes.Contains(body, tok) {
		body = bytes.ReplaceAll(body, tok, []byte("[REDACTED]"))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("hubspot: decoding %s %s response: %w", r.method, resp.URL, err)
	}
	return nil
}

// convertError turns a 429 into a [*RateLimitError] naming the policy.
func convertError(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests {
		return err
	}
	rl := &RateLimitError{Policy: parseEnvelope(ae.Body).PolicyName, RetryAfter: ae.RetryAfter,
		Err: ae}
	var refused *httpx.RateLimitError
	if errors.As(err, &refused) {
		rl.RetryAfter = refused.Wait
	}
	return rl
}

// inputError returns the error of a whole batch call that its inputs can
// explain (400, 409 or 422) as an [*ItemError], with the parsed envelope.
func inputError(err error) (*ItemError, envelope, bool) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return nil, envelope{}, false
	}
	switch ae.StatusCode {
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return nil, envelope{}, false
	}
	env := parseEnvelope(ae.Body)
	id, _ := ExistingID(env.Message)
	cat := env.Category
	if cat == "" {
		cat = strings.ToUpper(strings.ReplaceAll(http.StatusText(ae.StatusCode), " ", "_"))
	}
	return &ItemError{Category: cat, Message: env.Message, ExistingID: id,
		StatusCode: ae.StatusCode}, env, true
}
