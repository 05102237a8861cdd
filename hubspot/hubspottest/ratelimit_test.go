package hubspottest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestServer_burstLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now),
		hubspottest.WithRateLimit(3, 10*time.Second), hubspottest.WithDailyLimit(1000))
	steps := []struct {
		advance   time.Duration
		status    int
		remaining string
		daily     string
	}{
		{0, 200, "2", "999"},
		{time.Second, 200, "1", "998"},
		{time.Second, 200, "0", "997"},
		{time.Second, 429, "0", "997"},
		{6 * time.Second, 429, "0", "997"},
		{time.Second, 200, "0", "996"}, // the first request is now 10 s old
		{time.Millisecond, 429, "0", "996"},
		{time.Second, 200, "0", "995"},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		r := call(t, s, "GET", contactsPath, nil)
		require.Equal(t, st.status, r.Status, "step %d: %s", i, r.Raw)
		assert.Equal(t, st.remaining, r.Header.Get("X-HubSpot-RateLimit-Remaining"), "step %d", i)
		assert.Equal(t, "3", r.Header.Get("X-HubSpot-RateLimit-Max"))
		assert.Equal(t, "10000", r.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		assert.Equal(t, "1000", r.Header.Get("X-HubSpot-RateLimit-Daily"))
		assert.Equal(t, st.daily, r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"),
			"step %d", i)
		if st.status == 429 {
			assert.Equal(t, "TEN_SECONDLY_ROLLING", r.Body["policyName"])
			assert.Equal(t, "RATE_LIMIT", r.Body["errorType"])
			assert.Equal(t, "You have reached your ten_secondly_rolling limit.",
				r.Body["message"])
			assert.NotEmpty(t, r.Body["requestId"])
			assert.NotEmpty(t, r.Body["correlationId"])
		}
	}
	assert.Equal(t, 6, s.MaxRequestsInWindow(10*time.Second))
}

func TestServer_defaultLimits(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now))
	for i := range 100 {
		r := call(t, s, "GET", contactsPath+"?limit=1", nil)
		require.Equal(t, http.StatusOK, r.Status, "request %d", i)
	}
	r := call(t, s, "GET", contactsPath, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "100", r.Header.Get("X-HubSpot-RateLimit-Max"))
	assert.Equal(t, "250000", r.Header.Get("X-HubSpot-RateLimit-Daily"))
	assert.Equal(t, "249900", r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"))
	assert.Equal(t, 101, s.MaxRequestsInWindow(time.Millisecond))
	assert.Equal(t, 100, s.Count("GET", contactsPath)-1)
}

func TestServer_dailyLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now),
		hubspottest.WithDailyLimit(2), hubspottest.WithOAuthToken("oauth-token"))
	for range 2 {
		require.Equal(t, http.StatusOK, call(t, s, "GET", contactsPath, nil).Status)
	}
	r := call(t, s, "GET", contactsPath, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "DAILY", r.Body["policyName"])
	assert.Equal(t, "You have reached your daily limit.", r.Body["message"])
	assert.Equal(t, "0", r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"))

	r = callToken(t, s, "oauth-token", "GET", contactsPath, nil)
	require.Equal(t, http.StatusOK, r.Status, "OAuth calls have no daily cap")
	assert.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Daily"))
	assert.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"))
	assert.Equal(t, "99", r.Header.Get("X-HubSpot-RateLimit-Remaining"),
		"OAuth token has its own burst window")

	clock.Advance(24 * time.Hour)
	r = call(t, s, "GET", contactsPath, nil)
	require.Equal(t, http.StatusOK, r.Status, "daily count resets at midnight")
	assert.Equal(t, "1", r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"))
}

func TestServer_searchLimit(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now),
		hubspottest.WithRateLimit(2, 10*time.Second))
	for i := range 5 {
		r := call(t, s, "POST", contactsPath+"/search", map[string]any{})
		require.Equal(t, http.StatusOK, r.Status, "search %d", i)
	}
	r := call(t, s, "POST", contactsPath+"/search", map[string]any{})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	assert.Equal(t, "SECONDLY", r.Body["policyName"])

	r = call(t, s, "GET", contactsPath, nil)
	require.Equal(t, http.StatusOK, r.Status, "search does not use the burst window")
	assert.Equal(t, "1", r.Header.Get("X-HubSpot-RateLimit-Remaining"))

	clock.Advance(time.Second)
	r = call(t, s, "POST", contactsPath+"/search", map[string]any{})
	assert.Equal(t, http.StatusOK, r.Status)
}

func TestServer_limitsOff(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	for range 150 {
		require.Equal(t, http.StatusOK, call(t, s, "GET", contactsPath, nil).Status)
	}
	r := call(t, s, "GET", contactsPath, nil)
	assert.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Max"))
	assert.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Daily"))
}
