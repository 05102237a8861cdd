package pipedrivetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func TestRateLimit_burstWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithRateLimit(3, 2*time.Second))
	type step struct {
		advance       time.Duration
		wantStatus    int
		wantRemaining string
		wantReset     string
	}
	steps := []step{
		{0, 200, "2", "2"},
		{500 * time.Millisecond, 200, "1", "2"},
		{500 * time.Millisecond, 200, "0", "1"},
		{0, 429, "0", "1"},
		{900 * time.Millisecond, 429, "0", "1"},  // t=1.9 s: first request still in window
		{100 * time.Millisecond, 200, "0", "1"},  // t=2.0 s: first request left the window
		{0, 429, "0", "1"},                       // refused requests take no slot
		{1500 * time.Millisecond, 200, "1", "1"}, // t=3.5 s: only the t=2 s one is left
		{0, 200, "0", "1"},
		{0, 429, "0", "1"},
	}
	for i, st := range steps {
		c.Advance(st.advance)
		r := send(t, s, "GET", "/api/v2/persons", nil)
		assert.Equal(t, st.wantStatus, r.Status, "step %d", i)
		assert.Equal(t, "3", r.Header.Get("x-ratelimit-limit"), "step %d", i)
		assert.Equal(t, st.wantRemaining, r.Header.Get("x-ratelimit-remaining"), "step %d", i)
		assert.Equal(t, st.wantReset, r.Header.Get("x-ratelimit-reset"), "step %d", i)
		if st.wantStatus == 429 {
			assert.Equal(t, "Request over limit", r.Body["error"])
			assert.Empty(t, r.Header.Get("Retry-After"))
		}
	}
}

func TestRateLimit_headersOnEveryResponse(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithRateLimit(100, 2*time.Second))
	tests := []struct {
		name   string
		method string
		target string
		want   int
	}{
		{"not found", "GET", "/api/v2/persons/99", 404},
		{"validation error", "POST", "/api/v2/persons", 400},
		{"unknown path", "GET", "/api/v2/deals", 404},
		{"v1 list", "GET", "/v1/persons", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, tt.method, tt.target, nil)
			assert.Equal(t, tt.want, r.Status)
			assert.Equal(t, "100", r.Header.Get("x-ratelimit-limit"))
			assert.NotEmpty(t, r.Header.Get("x-ratelimit-remaining"))
			assert.NotEmpty(t, r.Header.Get("x-ratelimit-reset"))
		})
	}
}

func TestRateLimit_perToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithRateLimit(1, 2*time.Second))
	s.AddToken("other", nil)
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 429, send(t, s, "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 200, sendAs(t, s, "other", "GET", "/api/v2/persons", nil).Status)
}

func TestRateLimit_searchWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithRateLimit(20, 2*time.Second),
		pipedrivetest.WithSearchRateLimit(2, 2*time.Second))
	search := "/api/v2/persons/search?term=dana"
	r := send(t, s, "GET", search, nil)
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "2", r.Header.Get("x-ratelimit-limit"), "search shows its own window")
	assert.Equal(t, "1", r.Header.Get("x-ratelimit-remaining"))
	assert.Equal(t, 200, send(t, s, "GET", "/v1/persons/search?term=dana", nil).Status)
	assert.Equal(t, 429, send(t, s, "GET", search, nil).Status)

	list := send(t, s, "GET", "/api/v2/persons", nil)
	assert.Equal(t, 200, list.Status, "other endpoints are not search-limited")
	assert.Equal(t, "20", list.Header.Get("x-ratelimit-limit"))
	assert.Equal(t, "17", list.Header.Get("x-ratelimit-remaining"),
		"searches also count against the burst window")
	c.Advance(2 * time.Second)
	assert.Equal(t, 200, send(t, s, "GET", search, nil).Status)
}

func TestRateLimit_daily(t *testing.T) {
	t.Parallel()
	c := newClock()
	c.Advance(15*time.Hour + 59*time.Minute + 50*time.Second) // 23:59:50 UTC
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithDailyLimit(60))
	s.Seed(pipedrivetest.Person{Name: "Dana"})
	steps := []struct {
		method, target string
		body           any
		wantStatus     int
		wantUsed       int
	}{
		{"GET", "/api/v2/persons", nil, 200, 10},
		{"GET", "/api/v2/persons/1", nil, 200, 11},
		{"POST", "/api/v2/persons", map[string]any{"name": "Kim"}, 200, 16},
		{"PATCH", "/api/v2/persons/2", map[string]any{"name": "Kim E"}, 200, 21},
		{"DELETE", "/api/v2/persons/2", nil, 200, 24},
		{"GET", "/v1/persons/1", nil, 200, 26},
		{"GET", "/api/v2/persons/search?term=dana", nil, 200, 46},
		{"GET", "/v1/persons", nil, 429, 46}, // costs 20, 14 left
		{"GET", "/api/v2/persons", nil, 200, 56},
		{"GET", "/api/v2/persons/1", nil, 200, 57},
		{"GET", "/api/v2/persons", nil, 429, 57},
	}
	for i, st := range steps {
		r := send(t, s, st.method, st.target, st.body)
		require.Equal(t, st.wantStatus, r.Status, "step %d: %s", i, r.Raw)
		assert.Equal(t, st.wantUsed, s.DailyTokensUsed(), "step %d", i)
		assert.Equal(t, "60", r.Header.Get("x-daily-ratelimit-token-limit"))
		if st.wantStatus == 429 {
			assert.Equal(t, "Request over limit", r.Body["error"])
			assert.Equal(t, "10", r.Header.Get("x-ratelimit-reset"), "seconds to midnight")
		}
	}
	c.Advance(10 * time.Second)
	assert.Equal(t, 0, s.DailyTokensUsed(), "the budget resets at midnight UTC")
	r := send(t, s, "GET", "/api/v2/persons", nil)
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "50", r.Header.Get("x-daily-ratelimit-token-remaining"))
}

func TestRateLimit_abuseBlock(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithRateLimit(1, 2*time.Second),
		pipedrivetest.WithAbuseBlock(2, time.Minute))
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 429, send(t, s, "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 429, send(t, s, "GET", "/api/v2/persons", nil).Status)
	c.Advance(10 * time.Second)
	r := send(t, s, "GET", "/api/v2/persons", nil)
	assert.Equal(t, 403, r.Status)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, r.Raw, "Cloudflare")
	c.Advance(50 * time.Second)
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 429, send(t, s, "GET", "/api/v2/persons", nil).Status,
		"the 429 count started over")
	c.Advance(2 * time.Second)
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status,
		"a success resets the count")
}

func TestRateLimit_offByDefault(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	for range 50 {
		r := send(t, s, "GET", "/api/v2/persons/search?term=dana", nil)
		require.Equal(t, 200, r.Status)
		assert.Empty(t, r.Header.Get("x-ratelimit-limit"))
	}
	assert.Equal(t, 50, s.MaxRequestsInWindow(2*time.Second))
}

func TestOptions_panicOnInvalidValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  pipedrivetest.Option
	}{
		{"empty token", pipedrivetest.WithToken("")},
		{"zero rate", pipedrivetest.WithRateLimit(0, time.Second)},
		{"zero window", pipedrivetest.WithSearchRateLimit(10, 0)},
		{"zero daily", pipedrivetest.WithDailyLimit(0)},
		{"negative lag", pipedrivetest.WithSearchLag(-time.Second)},
		{"nil clock", pipedrivetest.WithClock(nil)},
		{"zero page max", pipedrivetest.WithPageLimitMax(0)},
		{"zero user", pipedrivetest.WithUserID(0)},
		{"zero abuse count", pipedrivetest.WithAbuseBlock(0, time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Panics(t, func() { pipedrivetest.NewServer(tt.opt).Close() })
		})
	}
}
