package hubspot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestNewClient_invalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		token string
		opt   Option
	}{
		{"empty token", " ", nil},
		{"relative base URL", "t", WithBaseURL("api.hubapi.com")},
		{"base URL with credentials", "t", WithBaseURL("https://u:p@api.hubapi.com")},
		{"base URL with a query", "t", WithBaseURL("https://api.hubapi.com?hapikey=x")},
		{"unknown API version", "t", WithAPIVersion("v4")},
		{"nil HTTP client", "t", WithHTTPClient(nil)},
		{"zero rate limit", "t", WithRateLimit(0, time.Second)},
		{"zero rate window", "t", WithRateLimit(10, 0)},
		{"zero search limit", "t", WithSearchRateLimit(0, time.Second)},
		{"negative retries", "t", WithRetry(-1, 0, 0)},
		{"retry max below min", "t", WithRetry(1, time.Second, time.Millisecond)},
		{"zero max retry wait", "t", WithMaxRetryWait(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			c, err := NewClient(tt.token, opts...)
			assert.Error(t, err)
			assert.Nil(t, c)
		})
	}
}

func TestClient_apiVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		path    string
	}{
		{"", "/crm/objects/2026-09/contacts"},
		{Version202609, "/crm/objects/2026-09/contacts"},
		{Version202603, "/crm/objects/2026-03/contacts"},
		{VersionV3, "/crm/v3/objects/contacts"},
	}
	for _, tt := range tests {
		t.Run("version "+tt.version, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			seedN(s, 3)
			var opts []Option
			if tt.version != "" {
				opts = append(opts, WithAPIVersion(tt.version))
			}
			c := newClient(t, s, opts...)

			page, err := c.ContactsPage(t.Context(), ListOptions{}, "")
			require.NoError(t, err)
			assert.Len(t, page.Items, 3)
			assert.Equal(t, 1, s.Count(http.MethodGet, tt.path))
		})
	}
}

// maxInWindow returns the most events whose times lie within a closed
// window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// TestDefaultLimits_neverExceedWindow proves with explicit times that the
// default limiters cannot let more requests through in any window than
// HubSpot's smallest plan allows, however requests are timed: greedily from
// a full bucket, after idle gaps, and at random instants.
func TestDefaultLimits_neverExceedWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pick    func(general, search *rate.Limiter) *rate.Limiter
		hubspot int // HubSpot's limit
		ours    int // the client's limit, kept under HubSpot's
		window  time.Duration
	}{
		{"general", func(g, _ *rate.Limiter) *rate.Limiter { return g }, 100,
			DefaultRateLimit, DefaultRateWindow},
		{"search", func(_, s *rate.Limiter) *rate.Limiter { return s }, 5,
			DefaultSearchRateLimit, DefaultSearchRateWindow},
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	patterns := map[string]func(lim *rate.Limiter) []time.Time{
		"greedy every millisecond": func(lim *rate.Limiter) []time.Time {
			var got []time.Time
			for ms := range 60_000 {
				at := start.Add(time.Duration(ms) * time.Millisecond)
				for lim.AllowN(at, 1) {
					got = append(got, at)
				}
			}
			return got
		},
		"greedy bursts after idle gaps": func(lim *rate.Limiter) []time.Time {
			var got []time.Time
			for ms := range 120_000 {
				if ms/7_000%2 == 1 { // idle for 7 s out of every 14
					continue
				}
				at := start.Add(time.Duration(ms) * time.Millisecond)
				for lim.AllowN(at, 1) {
					got = append(got, at)
				}
			}
			return got
		},
		"random instants": func(lim *rate.Limiter) []time.Time {
			rng := rand.New(rand.NewPCG(1, 2))
			var got []time.Time
			at := start
			for range 200_000 {
				at = at.Add(time.Duration(rng.Int64N(int64(3 * time.Millisecond))))
				if lim.AllowN(at, 1) {
					got = append(got, at)
				}
			}
			return got
		},
	}
	for _, tt := range tests {
		for name, pattern := range patterns {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				lim := tt.pick(newLimiters(defaultConfig()))
				times := pattern(lim)
				require.True(t, slices.IsSortedFunc(times, time.Time.Compare))

				n := maxInWindow(times, tt.window)
				assert.LessOrEqual(t, n, tt.ours)
				assert.Less(t, n, tt.hubspot)
				if name == "greedy every millisecond" {
					assert.GreaterOrEqual(t, n, tt.ours*9/10, "the limiter should not starve")
				}
			})
		}
	}
}

func TestClient_burst429IsRetriedAfterTheInterval(t *testing.T) {
	t.Parallel()
	// The fake's 429 says X-HubSpot-RateLimit-Interval-Milliseconds: 20.
	s := newFake(t, hubspottest.WithRateLimit(1000, 20*time.Millisecond))
	seedN(s, 2)
	c := newClient(t, s)
	s.RateLimitNext(2)

	page, err := c.ContactsPage(t.Context(), ListOptions{}, "")
	require.NoError(t, err)
	assert.Len(t, page.Items, 2)
	reqs := s.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []int{429, 429, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status})
	assert.GreaterOrEqual(t, reqs[2].At.Sub(reqs[1].At), 20*time.Millisecond,
		"the retry waits for the interval HubSpot names")
}

func TestClient_daily429IsNotRetried(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)
	s.RateLimitNextDaily(1)

	_, err := c.ContactsPage(t.Context(), ListOptions{}, "")
	require.Error(t, err)
	assert.ErrorIs(t, err, sync.ErrRateLimited)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, PolicyDaily, rl.Policy)
	assert.True(t, rl.Daily())
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTooManyRequests, ae.StatusCode)
	assert.Equal(t, 1, len(s.Requests()), "a DAILY 429 is not retried")
}

func TestClient_burst429LongerThanMaxWaitFails(t *testing.T) {
	t.Parallel()
	s := newFake(t, hubspottest.WithRateLimit(100, 10*time.Second))
	c := newClient(t, s, WithMaxRetryWait(time.Second))
	s.RateLimitNext(1)

	_, err := c.ContactsPage(t.Context(), ListOptions{}, "")
	assert.ErrorIs(t, err, sync.ErrRateLimited)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, PolicyTenSecondly, rl.Policy)
	assert.False(t, rl.Daily())
	assert.Equal(t, 10*time.Second, rl.RetryAfter)
	assert.Len(t, s.Requests(), 1)
}

func TestClient_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		sentinel error
		requests int
	}{
		{"401", http.StatusUnauthorized, sync.ErrUnauthorized, 1},
		{"403", http.StatusForbidden, sync.ErrForbidden, 1},
		{"404", http.StatusNotFound, sync.ErrNotFound, 1},
		{"500 after the retries", http.StatusInternalServerError, nil, 4},
		{"502 HTML page after the retries", http.StatusBadGateway, nil, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			c := newClient(t, s)
			s.FailNext(10, tt.status)

			_, err := c.Get(t.Context(), "101", GetOptions{})
			require.Error(t, err)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.StatusCode)
			if tt.sentinel != nil {
				assert.ErrorIs(t, err, tt.sentinel)
			}
			assert.Len(t, s.Requests(), tt.requests)
		})
	}
}

func TestClient_transient5xxIsRetried(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 1)
	c := newClient(t, s)
	s.FailNext(1, http.StatusServiceUnavailable)
	s.FailNext(1, http.StatusBadGateway)

	item, err := c.Get(t.Context(), ids[0], GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, ids[0], item["id"])
	assert.Len(t, s.Requests(), 3)
}

func TestClient_tokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "pat-na1-11111111-2222-3333-4444-555555555555"
	// A server that echoes the credential in every error body, the worst
	// case for a client that reports bodies.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batch/create"):
			writeJSON(w, http.StatusMultiStatus, map[string]any{
				"status": "COMPLETE", "results": []any{},
				"errors": []any{map[string]any{"category": "VALIDATION_ERROR",
					"message": "bad input from " + auth,
					"context": map[string]any{"objectWriteTraceId": []string{"keysync-0"}}}},
			})
		case strings.HasSuffix(r.URL.Path, "/search"):
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": "error",
				"message": "daily limit for " + auth, "policyName": "DAILY"})
		default:
			writeJSON(w, http.StatusUnauthorized, map[string]any{"status": "error",
				"message": "bad token " + auth, "category": "INVALID_AUTHENTICATION"})
		}
	}))
	t.Cleanup(srv.Close)
	logger, logs := debugLogger()
	c, err := NewClient(token, append(fastOptions(srv.URL), WithLogger(logger))...)
	require.NoError(t, err)

	var texts []string
	_, err = c.Get(t.Context(), "1", GetOptions{})
	require.ErrorIs(t, err, sync.ErrUnauthorized)
	texts = append(texts, errorTexts(err)...)
	_, err = c.SearchByEmail(t.Context(), "dana@example.com", nil)
	require.ErrorIs(t, err, sync.ErrRateLimited)
	texts = append(texts, errorTexts(err)...)
	res, err := c.BatchCreate(t.Context(),
		[]Input{{Properties: map[string]string{"firstname": "A"}}})
	require.NoError(t, err)
	texts = append(texts, errorTexts(res[0].Err)...)
	texts = append(texts, fmt.Sprintf("%v %+v %#v", c, c, c), logs.String())

	require.NotEmpty(t, logs.String())
	for _, text := range texts {
		assert.NotContains(t, text, token)
		assert.NotContains(t, text, "11111111-2222")
	}
}

// errorTexts returns every way err can be printed, and the body of any
// APIError in its chain.
func errorTexts(err error) []string {
	out := []string{err.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err)}
	var ae *APIError
	if errors.As(err, &ae) {
		out = append(out, string(ae.Body), ae.Message, ae.URL)
	}
	return out
}

func TestClient_sendsBearerToken(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c, err := NewClient("wrong-token", fastOptions(s.URL)...)
	require.NoError(t, err)

	_, err = c.ContactsPage(t.Context(), ListOptions{}, "")
	assert.ErrorIs(t, err, sync.ErrUnauthorized)
	for _, r := range s.Requests() {
		assert.NotContains(t, r.Query, "hapikey")
	}
	_, err = newClient(t, s).ContactsPage(t.Context(), ListOptions{}, "")
	assert.NoError(t, err)
}

func TestNewClient_withoutRateLimit(t *testing.T) {
	t.Parallel()
	const hour = time.Hour
	tests := []struct {
		name string
		opts []Option
		// wantOff: no limiters at all; wantPages, wantSearches: a second
		// list page or search waits for a limiter.
		wantOff, wantPages, wantSearches bool
	}{
		{"default", nil, false, false, false},
		{"off", []Option{WithRateLimit(1, hour), WithSearchRateLimit(1, hour),
			WithoutRateLimit()}, true, false, false},
		{"a limit, then off", []Option{WithRateLimit(1, hour), WithoutRateLimit()},
			true, false, false},
		{"off, then a general limit", []Option{WithoutRateLimit(), WithRateLimit(1, hour)},
			false, true, true},
		{"off, then a search limit", []Option{WithRateLimit(1000, time.Second),
			WithoutRateLimit(), WithSearchRateLimit(1, hour)}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			seedN(s, 2)
			// secondBlocked reports whether the second of two calls would
			// wait for a limiter: with an hour's wait and a minute's
			// deadline, it fails at once instead of waiting.
			secondBlocked := func(call func(*Client, context.Context) error) bool {
				opts := append([]Option{WithBaseURL(s.URL), WithRetry(0, 0, 0)}, tt.opts...)
				c, err := NewClient(s.Token, opts...)
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				require.NoError(t, call(c, ctx))
				err = call(c, ctx)
				if err != nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
				}
				return err != nil
			}

			page := func(c *Client, ctx context.Context) error {
				_, err := c.ContactsPage(ctx, ListOptions{}, "")
				return err
			}
			search := func(c *Client, ctx context.Context) error {
				_, err := c.SearchPage(ctx, SearchRequest{})
				return err
			}
			assert.Equal(t, tt.wantPages, secondBlocked(page), "list pages")
			assert.Equal(t, tt.wantSearches, secondBlocked(search), "searches")

			cfg := defaultConfig()
			for _, o := range tt.opts {
				require.NoError(t, o(&cfg))
			}
			general, searchLim := newLimiters(cfg)
			assert.Equal(t, tt.wantOff, general == nil, "general limiter off")
			assert.Equal(t, tt.wantOff, searchLim == nil, "search limiter off")
		})
	}
}
