package hubspottest

import (
	"time"
)

// An Option configures a [Server] at construction.
type Option func(*config)

// config holds the settings the options change.
type config struct {
	token        string
	oauthToken   string
	rateMax      int
	rateWindow   time.Duration
	searchMax    int
	searchWindow time.Duration
	daily        int
	searchLag    time.Duration
	now          func() time.Time
	extraProps   map[string]propDef
	scopes       []string
	scopesSet    bool
	shuffle      bool
}

// Defaults of a [Server] built without options: HubSpot's Free/Starter tier.
const (
	// DefaultRateLimit is the default burst: requests per token per
	// [DefaultRateWindow].
	DefaultRateLimit = 100
	// DefaultRateWindow is the length of the rolling burst window.
	DefaultRateWindow = 10 * time.Second
	// DefaultDailyLimit is the default number of requests per account and
	// day.
	DefaultDailyLimit = 250_000
	// DefaultSearchRateLimit is the default number of search requests per
	// account per [DefaultSearchRateWindow].
	DefaultSearchRateLimit = 5
	// DefaultSearchRateWindow is the window of the search limiter.
	DefaultSearchRateWindow = time.Second
)

// Scopes a token needs for the contact endpoints.
const (
	// ScopeContactsRead allows reading and searching contacts.
	ScopeContactsRead = "crm.objects.contacts.read"
	// ScopeContactsWrite allows creating, changing and archiving contacts.
	ScopeContactsWrite = "crm.objects.contacts.write"
)

func defaultConfig() config {
	return config{
		rateMax:      DefaultRateLimit,
		rateWindow:   DefaultRateWindow,
		searchMax:    DefaultSearchRateLimit,
		searchWindow: DefaultSearchRateWindow,
		daily:        DefaultDailyLimit,
		now:          time.Now,
	}
}

// WithToken sets the private-app token the server accepts (default: a random
// "pat-na1-…" token). It is available as [Server.Token].
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithOAuthToken makes the server also accept token as an OAuth access
// token. Calls made with it have their own burst window, are not counted
// against the daily limit and get no X-HubSpot-RateLimit-Daily headers, as
// with HubSpot's OAuth apps.
func WithOAuthToken(token string) Option {
	return func(c *config) { c.oauthToken = token }
}

// WithRateLimit sets the rolling burst limit: at most max requests per token
// within any window of the given length (default [DefaultRateLimit] per
// [DefaultRateWindow]). A max of zero or less turns the burst limit and its
// headers off.
func WithRateLimit(max int, window time.Duration) Option {
	return func(c *config) { c.rateMax, c.rateWindow = max, window }
}

// WithSearchRateLimit sets the limit of the search endpoint, which HubSpot
// counts separately: at most max search requests per account within any
// window (default [DefaultSearchRateLimit] per [DefaultSearchRateWindow]).
// A max of zero or less turns it off.
func WithSearchRateLimit(max int, window time.Duration) Option {
	return func(c *config) { c.searchMax, c.searchWindow = max, window }
}

// WithDailyLimit sets how many requests the account may make per day
// (default [DefaultDailyLimit]); the count resets at midnight UTC of the
// server clock. Zero or less turns the daily limit and its headers off.
func WithDailyLimit(n int) Option {
	return func(c *config) { c.daily = n }
}

// WithSearchLag delays the search index: a write becomes visible to search
// only d after it happened (by the server clock). Until then search sees the
// previous version of the contact, or nothing for a new one. The default is
// no lag.
func WithSearchLag(d time.Duration) Option {
	return func(c *config) { c.searchLag = d }
}

// WithClock sets the clock used for timestamps, rate-limit windows, the
// daily reset and the search lag (default time.Now). It must be safe for
// concurrent use. Latency set with [Server.SetLatency] always uses real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithProperties defines custom string properties (beyond the built-in
// contact properties such as email, firstname, lastname, phone, company,
// website, lifecyclestage and hs_additional_emails).
func WithProperties(names ...string) Option {
	return func(c *config) {
		if c.extraProps == nil {
			c.extraProps = map[string]propDef{}
		}
		for _, n := range names {
			c.extraProps[n] = propDef{}
		}
	}
}

// WithEnumProperty defines a custom enumeration property whose values must
// be one of options (compared exactly, as HubSpot does).
func WithEnumProperty(name string, options ...string) Option {
	return func(c *config) {
		if c.extraProps == nil {
			c.extraProps = map[string]propDef{}
		}
		c.extraProps[name] = propDef{kind: kindEnum, options: append([]string(nil), options...)}
	}
}

// WithScopes limits the scopes granted to the server's tokens (default: all).
// Calls that need a scope not granted get HubSpot's 403 MISSING_SCOPES. See
// [ScopeContactsRead] and [ScopeContactsWrite].
func WithScopes(scopes ...string) Option {
	return func(c *config) {
		c.scopes = append([]string(nil), scopes...)
		c.scopesSet = true
	}
}

// WithShuffledBatchResults makes the batch endpoints answer with their
// results and errors in a shuffled order instead of input order, as HubSpot
// is free to do. The order is pseudo-random but deterministic: a fixed seed
// drives it, so the same sequence of batch requests gets the same orders,
// and a response with at least two results or errors never keeps input
// order. Use it to check that a client matches batch results to its inputs
// by id, email or objectWriteTraceId rather than by position.
func WithShuffledBatchResults() Option {
	return func(c *config) { c.shuffle = true }
}
