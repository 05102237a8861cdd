package pipedrive

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"golang.org/x/time/rate"

	"github.com/keysync/sync/internal/httpx"
)

// Default settings of a [Client].
const (
	// DefaultBaseURL is Pipedrive's generic API host. Pipedrive recommends
	// the company's own host; see [WithCompanyDomain].
	DefaultBaseURL = "https://api.pipedrive.com"

	// DefaultRateLimit and DefaultRateWindow match the smallest plan (Lite,
	// API token): 20 requests per rolling 2 seconds.
	DefaultRateLimit  = 20
	DefaultRateWindow = 2 * time.Second

	// DefaultSearchRateLimit and DefaultSearchRateWindow match the search
	// endpoints' limit on every plan: 10 requests per 2 seconds.
	DefaultSearchRateLimit  = 10
	DefaultSearchRateWindow = 2 * time.Second

	// DefaultRetryMax is how many times a failed request is retried.
	DefaultRetryMax = 4

	// DefaultRetryWaitMin and DefaultRetryWaitMax bound the exponential
	// backoff between retries when the server names no wait (half a
	// second and 30 seconds, the defaults of the HTTP layer shared with
	// the other vendor clients).
	DefaultRetryWaitMin = httpx.DefaultRetryWaitMin
	DefaultRetryWaitMax = httpx.DefaultRetryWaitMax

	// DefaultMaxRetryWait is the longest wait the client sleeps through
	// (one minute); a longer one (such as an exhausted daily budget)
	// fails at once with an error matching keysync.ErrRateLimited.
	DefaultMaxRetryWait = httpx.DefaultMaxRetryWait
)

// An Option configures a [Client] in [NewClient].
type Option func(*settings) error

type settings struct {
	baseURL                    string
	httpClient                 *http.Client
	rateN                      int
	rateWindow                 time.Duration
	searchN                    int
	searchWindow               time.Duration
	retryMax                   int
	retryWaitMin, retryWaitMax time.Duration // 0: httpx's defaults
	maxRetryWait               time.Duration // 0: httpx's default
	logger                     *slog.Logger
	unlimited                  bool
}

func defaultSettings() settings {
	return settings{
		baseURL:      DefaultBaseURL,
		rateN:        DefaultRateLimit,
		rateWindow:   DefaultRateWindow,
		searchN:      DefaultSearchRateLimit,
		searchWindow: DefaultSearchRateWindow,
		retryMax:     DefaultRetryMax,
	}
}

// limiters returns the general and the search limiter, both nil when
// client-side limiting is off.
func (s settings) limiters() (general, search *rate.Limiter) {
	if s.unlimited {
		return nil, nil
	}
	return httpx.NewWindowLimiter(s.rateN, withMargin(s.rateWindow)),
		httpx.NewWindowLimiter(s.searchN, withMargin(s.searchWindow))
}

// WithBaseURL sets the API host, such as "https://example-co.pipedrive.com"
// or the URL of a
// [github.com/keysync/sync/pipedrive/pipedrivetest.Server]. The client appends /api/v2/...;
// a path in base is kept as a prefix. The URL must be absolute http(s)
// and carry no credentials or query.
func WithBaseURL(base string) Option {
	return func(s *settings) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("pipedrive: WithBaseURL: need an absolute http(s) URL")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("pipedrive: WithBaseURL: the URL must not carry credentials, " +
				"a query or a fragment")
		}
		s.baseURL = base
		return nil
	}
}

var companyDomain = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// WithCompanyDomain sets the API host to https://{name}.pipedrive.com, the
// company's own domain (see the company_domain of GET /v1/users/me).
func WithCompanyDomain(name string) Option {
	return func(s *settings) error {
		if !companyDomain.MatchString(name) {
			return fmt.Errorf("pipedrive: WithCompanyDomain: %q is not a valid subdomain", name)
		}
		s.baseURL = "https://" + name + ".pipedrive.com"
		return nil
	}
}

// WithHTTPClient sets the HTTP client. The client is not modified; its
// transport, timeout and proxy settings are used.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("pipedrive: WithHTTPClient: client is nil")
		}
		s.httpClient = hc
		return nil
	}
}

// WithRateLimit sets the client's burst limit: never more than n requests
// in any rolling window of the given length, retries included. The default
// (20 per 2 s) is safe for every plan; Growth allows 40, Premium 100 and
// Ultimate 120 per 2 s for an API token (four times that with OAuth). n
// must be at least 1 and window positive. Use [WithoutRateLimit] to turn
// client-side limiting off; a WithRateLimit after it turns limiting back
// on, searches included.
func WithRateLimit(n int, window time.Duration) Option {
	return func(s *settings) error {
		if n < 1 || window <= 0 {
			return fmt.Errorf("pipedrive: WithRateLimit(%d, %v): need n >= 1 and window > 0",
				n, window)
		}
		s.rateN, s.rateWindow, s.unlimited = n, window, false
		return nil
	}
}

// WithSearchRateLimit sets the separate limit of search requests, which
// count against both it and [WithRateLimit]. The default is 10 per 2 s. A
// WithSearchRateLimit after [WithoutRateLimit] turns limiting back on,
// the general limit included.
func WithSearchRateLimit(n int, window time.Duration) Option {
	return func(s *settings) error {
		if n < 1 || window <= 0 {
			return fmt.Errorf("pipedrive: WithSearchRateLimit(%d, %v): need n >= 1 and window > 0",
				n, window)
		}
		s.searchN, s.searchWindow, s.unlimited = n, window, false
		return nil
	}
}

// WithoutRateLimit turns off client-side rate limiting, both the general
// and the search limit, for tests against a fake or when the caller limits
// requests itself. The server's limits still apply and 429 answers are
// still retried. A later [WithRateLimit] or [WithSearchRateLimit] turns
// limiting back on.
func WithoutRateLimit() Option {
	return func(s *settings) error {
		s.unlimited = true
		return nil
	}
}

// WithRetry sets how many times a failed request is retried (0 turns
// retries off) and the bounds of the exponential backoff used when the
// server names no wait. The defaults are [DefaultRetryMax],
// [DefaultRetryWaitMin] and [DefaultRetryWaitMax].
func WithRetry(maxRetries int, minWait, maxWait time.Duration) Option {
	return func(s *settings) error {
		switch {
		case maxRetries < 0:
			return fmt.Errorf("pipedrive: WithRetry: negative retry count %d", maxRetries)
		case minWait <= 0 || maxWait <= 0:
			return errors.New("pipedrive: WithRetry: waits must be positive")
		case maxWait < minWait:
			return fmt.Errorf("pipedrive: WithRetry: maxWait %v is less than minWait %v",
				maxWait, minWait)
		}
		s.retryMax, s.retryWaitMin, s.retryWaitMax = maxRetries, minWait, maxWait
		return nil
	}
}

// WithMaxRetryWait sets the longest wait the client sleeps through before
// a retry (default one minute). When Pipedrive asks for more, such as
// after the daily budget ran out, the request fails at once with an error
// matching keysync.ErrRateLimited.
func WithMaxRetryWait(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("pipedrive: WithMaxRetryWait(%v): need a positive duration", d)
		}
		s.maxRetryWait = d
		return nil
	}
}

// WithLogger sets the logger for Debug records of each request (method,
// path, status, attempt) and Warn records of skipped records. Nil, the
// default, means silent. Tokens, headers and bodies are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}
