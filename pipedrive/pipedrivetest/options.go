package pipedrivetest

import (
	"fmt"
	"time"
)

// An Option configures a [Server] built by [NewServer] or [NewTestServer].
// Options that receive an invalid value make the constructor panic, since
// they are programming errors in a test.
type Option func(*config)

type config struct {
	token        string
	now          func() time.Time
	rateMax      int
	rateWindow   time.Duration
	searchMax    int
	searchWindow time.Duration
	daily        int
	searchLag    time.Duration
	pageMax      int
	nullEmpty    bool
	abuseAfter   int
	abuseFor     time.Duration
	userID       int

	deletedVisible bool
	countRejected  bool
}

func defaultConfig() config {
	return config{now: time.Now, pageMax: 500, userID: 1}
}

// WithToken sets the valid API token. Without it the server makes up a
// random 40-character hex token, as long as a real Pipedrive token.
// [Server.Token] holds it in plain text, so that tests can hand it to a
// client: it prints like any string. It is a test token that grants access
// to nothing but this fake; never pass a real Pipedrive token here.
func WithToken(token string) Option {
	return func(c *config) {
		if token == "" {
			panic("pipedrivetest: WithToken: empty token")
		}
		c.token = token
	}
}

// WithRateLimit turns on the per-token burst limit: at most limit requests
// are accepted within any sliding window of length window (Pipedrive uses
// 2 s; its plans allow 20, 40, 100 or 120 requests per API token). Requests
// over the limit get 429. Rate limiting is off unless this option,
// [WithSearchRateLimit] or [WithDailyLimit] is given.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(c *config) {
		mustPositive("WithRateLimit", limit, window)
		c.rateMax, c.rateWindow = limit, window
	}
}

// WithSearchRateLimit turns on the separate burst limit of the search
// endpoints (Pipedrive: 10 requests per 2 s on every plan). Search requests
// count against both this window and the one of [WithRateLimit].
func WithSearchRateLimit(limit int, window time.Duration) Option {
	return func(c *config) {
		mustPositive("WithSearchRateLimit", limit, window)
		c.searchMax, c.searchWindow = limit, window
	}
}

// WithDailyLimit turns on the daily token budget shared by all tokens of
// the company. Each request to a persons endpoint costs what Pipedrive
// charges (see the table in the package doc); a request whose cost exceeds
// what is left gets 429.
// The budget resets at midnight UTC of the server clock.
func WithDailyLimit(tokens int) Option {
	return func(c *config) {
		if tokens <= 0 {
			panic(fmt.Sprintf("pipedrivetest: WithDailyLimit: %d tokens", tokens))
		}
		c.daily = tokens
	}
}

// WithAbuseBlock makes the server answer every request of a token with
// Cloudflare's HTML 403 page for duration d once that token has received
// after 429 responses in a row, as Pipedrive does with API-token traffic
// that keeps hammering after being limited.
func WithAbuseBlock(after int, d time.Duration) Option {
	return func(c *config) {
		mustPositive("WithAbuseBlock", after, d)
		c.abuseAfter, c.abuseFor = after, d
	}
}

// WithSearchLag makes the search endpoints eventually consistent: a write
// becomes visible to search only d after it happened (by the server clock),
// and until then search returns the person as it was before the write (or
// not at all after a create). Lists and gets are always current. Persons
// added with [Server.Seed] are searchable at once.
func WithSearchLag(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			panic(fmt.Sprintf("pipedrivetest: WithSearchLag: negative %v", d))
		}
		c.searchLag = d
	}
}

// WithClock sets the clock used for timestamps, rate-limit windows, the
// daily budget, search lag and the request log (default time.Now). It is
// called concurrently and must be safe for that. [Server.SetLatency] still
// sleeps in real time.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			panic("pipedrivetest: WithClock: nil clock")
		}
		c.now = now
	}
}

// WithPageLimitMax sets the largest accepted limit query parameter of the
// list and search endpoints (default 500, Pipedrive's documented maximum).
// A larger limit gets 400.
func WithPageLimitMax(n int) Option {
	return func(c *config) {
		if n <= 0 {
			panic(fmt.Sprintf("pipedrivetest: WithPageLimitMax: %d", n))
		}
		c.pageMax = n
	}
}

// WithNullEmptyData makes an empty v2 list answer "data": null and an empty
// v2 search answer "items": null, instead of the default empty arrays.
// Pipedrive's v1 endpoints answer null; for v2 the real behaviour is not
// documented, so clients should be tested against both.
func WithNullEmptyData(null bool) Option {
	return func(c *config) { c.nullEmpty = null }
}

// WithUserID sets the id of the user the tokens act as (default 1). It is
// the owner_id of persons created without one.
func WithUserID(id int) Option {
	return func(c *config) {
		if id <= 0 {
			panic(fmt.Sprintf("pipedrivetest: WithUserID: %d", id))
		}
		c.userID = id
	}
}

// WithDeletedVisible makes the v2 list and get endpoints serve
// soft-deleted persons with "is_deleted": true instead of hiding them (list)
// and answering 404 (get). Pipedrive's documentation leaves open which of
// the two it does, so clients should be tested against both. Updates and
// deletes of a deleted person still get 404, search never shows it, and
// the v1 endpoints are unchanged.
func WithDeletedVisible() Option {
	return func(c *config) { c.deletedVisible = true }
}

// WithRejectedCounted makes requests refused with 429 take a place in the
// burst windows of [WithRateLimit] and [WithSearchRateLimit] as if they had
// been served, so that a client that keeps sending while limited stays
// limited. By default only served requests count. Pipedrive does not
// document which it does. Requests refused for the daily budget
// ([WithDailyLimit]) are not charged to it either way.
func WithRejectedCounted() Option {
	return func(c *config) { c.countRejected = true }
}

func mustPositive(name string, n int, d time.Duration) {
	if n <= 0 || d <= 0 {
		panic(fmt.Sprintf("pipedrivetest: %s: %d per %v", name, n, d))
	}
}
