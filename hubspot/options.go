package hubspot

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// DefaultBaseURL is the host of every HubSpot API.
const DefaultBaseURL = "https://api.hubapi.com"

// API versions that [WithAPIVersion] accepts.
const (
	// Version202609 is the date version GA in September 2026, the default:
	// paths /crm/objects/2026-09/contacts.
	Version202609 = "2026-09"
	// Version202603 is the first date version (GA March 2026).
	Version202603 = "2026-03"
	// VersionV3 is the legacy numeric API (/crm/v3/objects/contacts),
	// unsupported from September 2027.
	VersionV3 = "v3"
)

// Rate-limit defaults, chosen for HubSpot's smallest plan (Free and
// Starter: 100 requests per 10 seconds; search about 5 per second).
const (
	// DefaultRateLimit requests at most, in any window of DefaultRateWindow.
	// It is 5 under HubSpot's 100 so that network jitter, which can bring
	// requests closer together on arrival than they left, cannot push the
	// count HubSpot sees over its limit.
	DefaultRateLimit = 95
	// DefaultRateWindow is the rolling window HubSpot counts bursts in.
	DefaultRateWindow = 10 * time.Second
	// DefaultSearchRateLimit search requests at most, in any window of
	// DefaultSearchRateWindow.
	DefaultSearchRateLimit = 4
	// DefaultSearchRateWindow is the window of the search limit.
	DefaultSearchRateWindow = time.Second
	// DefaultRetries is how many times a failed request is retried.
	DefaultRetries = 4
)

// An Option configures a [Client] built by [NewClient].
type Option func(*config) error

// config holds what the options set.
type config struct {
	baseURL      string
	version      string
	httpClient   *http.Client
	rateMax      int
	rateWindow   time.Duration
	searchMax    int
	searchWindow time.Duration
	retries      int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	maxRetryWait time.Duration
	logger       *slog.Logger
	unlimited    bool // WithoutRateLimit: no client-side limiters
}

func defaultConfig() config {
	return config{
		baseURL:      DefaultBaseURL,
		version:      Version202609,
		rateMax:      DefaultRateLimit,
		rateWindow:   DefaultRateWindow,
		searchMax:    DefaultSearchRateLimit,
		searchWindow: DefaultSearchRateWindow,
		retries:      DefaultRetries,
	}
}

// WithBaseURL sets the API host, such as the URL of a
// [github.com/keysync/sync/hubspot/hubspottest.Server]. The default is
// [DefaultBaseURL]. It must be an absolute http or https URL without a
// query or credentials.
func WithBaseURL(base string) Option {
	return func(c *config) error {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("hubspot: WithBaseURL needs an absolute http(s) URL")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New(
				"hubspot: WithBaseURL must not carry credentials, a query or a fragment")
		}
		c.baseURL = base
		return nil
	}
}

// WithAPIVersion selects the API version: [Version202609] (the default),
// [Version202603] or [VersionV3]. Request and response shapes are the same
// in all three.
func WithAPIVersion(version string) Option {
	return func(c *config) error {
		switch version {
		case Version202609, Version202603, VersionV3:
			c.version = version
			return nil
		}
		return fmt.Errorf("hubspot: unknown API version %q (want %q, %q or %q)",
			version, Version202609, Version202603, VersionV3)
	}
}

// WithHTTPClient sets the HTTP client that sends the requests. The client
// is not modified; its Transport and Timeout are used. The default has
// pooled connections and a one-minute timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("hubspot: WithHTTPClient needs a non-nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithRateLimit makes the client send at most n requests in any window of
// length window, wherever the window starts; retries count too. The
// default is [DefaultRateLimit] per [DefaultRateWindow]. Use it to match a
// larger plan, e.g. WithRateLimit(180, 10*time.Second) on Professional
// (HubSpot allows 190), leaving some headroom for network jitter. n must
// be at least 1 and window positive; use [WithoutRateLimit] to turn
// client-side limiting off. A WithRateLimit after [WithoutRateLimit] turns
// limiting back on, searches included.
func WithRateLimit(n int, window time.Duration) Option {
	return func(c *config) error {
		if n < 1 || window <= 0 {
			return fmt.Errorf("hubspot: WithRateLimit(%d, %v) needs n >= 1 and a positive window",
				n, window)
		}
		c.rateMax, c.rateWindow, c.unlimited = n, window, false
		return nil
	}
}

// WithSearchRateLimit makes the client send at most n search requests in
// any window of length window. Search requests also count against the
// general limit of [WithRateLimit]. The default is
// [DefaultSearchRateLimit] per [DefaultSearchRateWindow]. A
// WithSearchRateLimit after [WithoutRateLimit] turns limiting back on, the
// general limit included.
func WithSearchRateLimit(n int, window time.Duration) Option {
	return func(c *config) error {
		if n < 1 || window <= 0 {
			return fmt.Errorf(
				"hubspot: WithSearchRateLimit(%d, %v) needs n >= 1 and a positive window",
				n, window)
		}
		c.searchMax, c.searchWindow, c.unlimited = n, window, false
		return nil
	}
}

// WithoutRateLimit turns off client-side rate limiting, both the general
// and the search limit, for tests against a fake such as
// [github.com/keysync/sync/hubspot/hubspottest.Server] or when the caller
// limits requests itself. HubSpot's own limits still apply, and its 429
// answers are still retried as described in the package documentation. A
// later [WithRateLimit] or [WithSearchRateLimit] turns limiting back on.
func WithoutRateLimit() Option {
	return func(c *config) error {
		c.unlimited = true
		return nil
	}
}

// WithRetry sets how many times a request that failed with a 429 burst
// limit, a 5xx or a network error is retried (default [DefaultRetries]; 0
// turns retries off), and the bounds of the exponential backoff used when
// HubSpot does not say how long to wait (zero means 500 ms and 30 s).
func WithRetry(retries int, waitMin, waitMax time.Duration) Option {
	return func(c *config) error {
		if retries < 0 || waitMin < 0 || waitMax < 0 || (waitMax != 0 && waitMax < waitMin) {
			return fmt.Errorf("hubspot: WithRetry(%d, %v, %v) is invalid",
				retries, waitMin, waitMax)
		}
		c.retries, c.retryWaitMin, c.retryWaitMax = retries, waitMin, waitMax
		return nil
	}
}

// WithMaxRetryWait sets the longest wait the client sleeps through before
// retrying (default one minute). A 429 asking for longer fails at once with
// a [*RateLimitError].
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("hubspot: WithMaxRetryWait(%v) needs a positive duration", d)
		}
		c.maxRetryWait = d
		return nil
	}
}

// WithLogger sets the logger that receives one Debug record per request
// attempt (method, path without query, status) and Warn records for
// records the connector skips. The default, and a nil logger, is silent.
// Tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}
