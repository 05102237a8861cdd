package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	keysync "github.com/keysync/sync"
)

const testToken = "tok-SECRET-4f2a9c"

// script is a test server that answers with the given handlers in turn
// (the last one repeats) and counts requests.
type script struct {
	srv    *httptest.Server
	hits   atomic.Int64
	mu     stdsync.Mutex
	steps  []http.HandlerFunc
	bodies [][]byte
	tokens []string
}

func newScript(t *testing.T, steps ...http.HandlerFunc) *script {
	t.Helper()
	s := &script{steps: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, body)
		s.tokens = append(s.tokens, r.Header.Get("x-api-token"))
		s.mu.Unlock()
		s.steps[min(n, len(s.steps)-1)](w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func status(code int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp closes the connection after reading the request, without a response.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func ok(w http.ResponseWriter, r *http.Request) {
	status(200, `{"success":true}`)(w, r)
}

func parseTestError(body []byte) (string, string) {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error, e.Code
}

func testConfig(base string) Config {
	return Config{
		Service:      "testapi",
		BaseURL:      base,
		Token:        NewToken(testToken),
		RetryMax:     3,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 4 * time.Millisecond,
		Hooks: Hooks{
			Authorize:  func(h http.Header, tok Token) { h.Set("x-api-token", tok.Reveal()) },
			ParseError: parseTestError,
		},
	}
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	require.NoError(t, err)
	return c
}

func get(path string) Request { return Request{Method: http.MethodGet, Path: path} }

func TestClient_Do_retriesTransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first http.HandlerFunc
	}{
		{"500", status(500, `{"error":"boom"}`)},
		{"502 with an HTML body", status(502, `<html>bad gateway</html>`)},
		{"503", status(503, `{"error":"maintenance"}`)},
		{"429", status(429, `{"error":"Request over limit"}`)},
		{"429 with Retry-After 0", status(429, `{}`, "Retry-After", "0")},
		{"dropped connection", hangUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, tt.first, tt.first, ok)
			c := newTestClient(t, testConfig(s.srv.URL))
			resp, err := c.Do(t.Context(), get("/api/v2/persons"))
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			assert.JSONEq(t, `{"success":true}`, string(resp.Body))
			assert.EqualValues(t, 3, s.hits.Load())
		})
	}
}

func TestClient_Do_doesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     int
		sentinel error
	}{
		{400, keysync.ErrInvalid},
		{401, keysync.ErrUnauthorized},
		{403, keysync.ErrForbidden},
		{404, keysync.ErrNotFound},
		{409, keysync.ErrConflict},
		{422, keysync.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			s := newScript(t, status(tt.code, `{"error":"nope","code":"E1"}`,
				"X-Request-Id", "req-9"))
			c := newTestClient(t, testConfig(s.srv.URL))
			_, err := c.Do(t.Context(), get("/api/v2/persons/1"))
			require.Error(t, err)
			assert.EqualValues(t, 1, s.hits.Load())
			assert.ErrorIs(t, err, tt.sentinel)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.code, ae.StatusCode)
			assert.Equal(t, "nope", ae.Message)
			assert.Equal(t, "E1", ae.Code)
			assert.Equal(t, "req-9", ae.RequestID)
			assert.Equal(t, http.MethodGet, ae.Method)
			assert.Equal(t, s.srv.URL+"/api/v2/persons/1", ae.URL)
		})
	}
}

func TestClient_Do_keepsLastResponseOnGiveUp(t *testing.T) {
	t.Parallel()
	s := newScript(t, status(503, `{"error":"down for maintenance"}`, "X-Request-Id", "r1"))
	c := newTestClient(t, testConfig(s.srv.URL))
	_, err := c.Do(t.Context(), get("/x"))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.EqualValues(t, 4, s.hits.Load(), "one attempt and three retries")
	assert.Equal(t, 503, ae.StatusCode)
	assert.Equal(t, "down for maintenance", ae.Message)
	assert.JSONEq(t, `{"error":"down for maintenance"}`, string(ae.Body))
	assert.NotContains(t, ae.Error(), `{"error"`, "the body stays out of Error")
	assert.True(t, OutcomeUnknown(err))
}

func TestClient_Do_capsErrorBody(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), MaxErrorBody+500)
	s := newScript(t, status(400, string(big)))
	c := newTestClient(t, testConfig(s.srv.URL))
	_, err := c.Do(t.Context(), get("/x"))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.Body, MaxErrorBody)
}

func TestClient_Do_replaysBody(t *testing.T) {
	t.Parallel()
	s := newScript(t, status(500, `{}`), hangUp, ok)
	c := newTestClient(t, testConfig(s.srv.URL))
	body := map[string]any{"name": "Dana Example"}
	_, err := c.Do(t.Context(), Request{Method: http.MethodPatch, Path: "/p/1", Body: body})
	require.NoError(t, err)
	require.EqualValues(t, 3, s.hits.Load())
	for i, b := range s.bodies {
		assert.JSONEq(t, `{"name":"Dana Example"}`, string(b), "attempt %d", i+1)
	}
}

func TestClient_Do_nonIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		steps    []http.HandlerFunc
		wantHits int64
		wantErr  bool
		unknown  bool
	}{
		{"5xx is not retried", []http.HandlerFunc{status(500, `{}`), ok}, 1, true, true},
		{"a dropped connection is not retried", []http.HandlerFunc{hangUp, ok}, 1, true, true},
		{"429 is retried", []http.HandlerFunc{status(429, `{}`), ok}, 2, false, false},
		{"400 is final and known", []http.HandlerFunc{status(400, `{}`)}, 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, tt.steps...)
			c := newTestClient(t, testConfig(s.srv.URL))
			_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/p",
				Body: []byte(`{"name":"x"}`), NonIdempotent: true})
			assert.Equal(t, tt.wantHits, s.hits.Load())
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.unknown, OutcomeUnknown(err), "%v", err)
		})
	}
}

func TestClient_Do_retriesConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	cfg := testConfig(base)
	cfg.RetryMax = 2
	c := newTestClient(t, cfg)
	_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/p", NonIdempotent: true})
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 3, re.Attempts, "nothing was sent, so even a create is retried")
	assert.False(t, re.Sent)
	assert.False(t, OutcomeUnknown(err))
}

func TestClient_Do_retryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		header   string
		wantWait time.Duration
	}{
		{"delta seconds", "120", 120 * time.Second},
		{"HTTP date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name+" beyond the cap fails fast", func(t *testing.T) {
			t.Parallel()
			s := newScript(t, status(429, `{"error":"Request over limit"}`,
				"Retry-After", tt.header))
			cfg := testConfig(s.srv.URL)
			cfg.Now = func() time.Time { return now }
			c := newTestClient(t, cfg)
			_, err := c.Do(t.Context(), get("/x"))
			assert.ErrorIs(t, err, keysync.ErrRateLimited)
			var rl *RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, tt.wantWait, rl.Wait)
			assert.Equal(t, DefaultMaxRetryWait, rl.Limit)
			require.NotNil(t, rl.Err)
			assert.Equal(t, 429, rl.Err.StatusCode)
			assert.Equal(t, tt.wantWait, rl.Err.RetryAfter)
			assert.Equal(t, "Request over limit", rl.Err.Message)
			assert.EqualValues(t, 1, s.hits.Load())
		})
	}

	t.Run("a short HTTP date is honoured", func(t *testing.T) {
		t.Parallel()
		date := now.Add(time.Second)
		s := newScript(t, status(503, `{}`, "Retry-After", date.Format(http.TimeFormat)), ok)
		var logs bytes.Buffer
		cfg := testConfig(s.srv.URL)
		cfg.Now = func() time.Time { return date.Add(-20 * time.Millisecond) }
		debug := &slog.HandlerOptions{Level: slog.LevelDebug}
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, debug))
		c := newTestClient(t, cfg)
		_, err := c.Do(t.Context(), get("/x"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, s.hits.Load())
		assert.Contains(t, logs.String(), `"retry_in":20000000`)
	})
}

func TestClient_Do_lastAttemptLogsNoRetry(t *testing.T) {
	t.Parallel()
	s := newScript(t, status(503, `{}`), status(503, `{}`), status(503, `{}`))
	var logs bytes.Buffer
	cfg := testConfig(s.srv.URL)
	cfg.RetryMax = 2
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, cfg)
	_, err := c.Do(t.Context(), get("/x"))
	require.Error(t, err)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[1], `"retry_in"`, "the second attempt is retried")
	assert.NotContains(t, lines[2], `"retry_in"`, "the last attempt is not")
}

func TestClient_retryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c := newTestClient(t, Config{BaseURL: "http://x", Now: func() time.Time { return now }})
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute},
		{now.Add(2 * time.Minute).Format(time.RFC850), 2 * time.Minute},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Retry-After", tt.in)
		assert.Equal(t, tt.want, c.retryAfter(h), "Retry-After %q", tt.in)
	}
}

func TestClient_Do_vendorClassifier(t *testing.T) {
	t.Parallel()
	classify := func(resp *http.Response, body []byte) Verdict {
		if bytes.Contains(body, []byte(`"DAILY"`)) {
			return Verdict{NoRetry: true}
		}
		if v := resp.Header.Get("x-ratelimit-reset"); v != "" {
			n, _ := strconv.Atoi(v)
			return Verdict{Wait: time.Duration(n) * time.Second}
		}
		return Verdict{}
	}
	t.Run("do-not-retry verdict", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(429, `{"policyName":"DAILY"}`), ok)
		cfg := testConfig(s.srv.URL)
		cfg.Hooks.Classify = classify
		_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
		assert.ErrorIs(t, err, keysync.ErrRateLimited)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 429, ae.StatusCode)
		assert.EqualValues(t, 1, s.hits.Load())
	})
	t.Run("vendor wait beyond the cap", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(429, `{}`, "x-ratelimit-reset", "5"), ok)
		cfg := testConfig(s.srv.URL)
		cfg.Hooks.Classify = classify
		cfg.MaxRetryWait = time.Second
		_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
		var rl *RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 5*time.Second, rl.Wait)
		assert.Equal(t, time.Second, rl.Limit)
		assert.EqualValues(t, 1, s.hits.Load())
	})
	t.Run("vendor wait of zero retries at once", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(429, `{}`, "x-ratelimit-reset", "0"), ok)
		cfg := testConfig(s.srv.URL)
		cfg.Hooks.Classify = classify
		_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, s.hits.Load())
	})
}

func TestClient_Do_retryableHook(t *testing.T) {
	t.Parallel()
	is477 := func(status int) bool { return status == 477 }
	tests := []struct {
		name      string
		retryable func(int) bool
		steps     []http.HandlerFunc
		create    bool
		wantHits  int64
		wantCode  int // 0: success
	}{
		{"without the hook a 477 is final", nil,
			[]http.HandlerFunc{status(477, `{}`), ok}, false, 1, 477},
		{"with the hook a 477 is retried", is477,
			[]http.HandlerFunc{status(477, `{}`), status(477, `{}`), ok}, false, 3, 0},
		{"after its Retry-After", is477,
			[]http.HandlerFunc{status(477, `{}`, "Retry-After", "0"), ok}, false, 2, 0},
		{"even a create, which the server refused", is477,
			[]http.HandlerFunc{status(477, `{}`), ok}, true, 2, 0},
		{"until the retries run out", is477,
			[]http.HandlerFunc{status(477, `{"error":"migrating"}`)}, false, 4, 477},
		{"other statuses stay final", is477,
			[]http.HandlerFunc{status(418, `{}`), ok}, false, 1, 418},
		{"a 5xx create is still not repeated", is477,
			[]http.HandlerFunc{status(500, `{}`), ok}, true, 1, 500},
		{"success is never retried", func(int) bool { return true },
			[]http.HandlerFunc{ok}, false, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, tt.steps...)
			cfg := testConfig(s.srv.URL)
			cfg.Hooks.Retryable = tt.retryable
			var classified atomic.Int64
			cfg.Hooks.Classify = func(*http.Response, []byte) Verdict {
				classified.Add(1)
				return Verdict{}
			}
			_, err := newTestClient(t, cfg).Do(t.Context(), Request{Method: http.MethodPost,
				Path: "/p", Body: []byte(`{}`), NonIdempotent: tt.create})
			assert.Equal(t, tt.wantHits, s.hits.Load())
			if tt.wantCode == 0 {
				require.NoError(t, err)
				return
			}
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.wantCode, ae.StatusCode)
		})
	}

	t.Run("Classify sees the response and can refuse", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(477, `{"final":true}`), ok)
		cfg := testConfig(s.srv.URL)
		cfg.Hooks.Retryable = is477
		cfg.Hooks.Classify = func(resp *http.Response, body []byte) Verdict {
			return Verdict{NoRetry: resp.StatusCode == 477 && bytes.Contains(body, []byte("final"))}
		}
		_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
		require.Error(t, err)
		assert.EqualValues(t, 1, s.hits.Load())
	})
}

func TestClient_Do_contextDeadline(t *testing.T) {
	t.Parallel()
	t.Run("a 429 wait past the deadline fails now", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(429, `{}`, "Retry-After", "30"), ok)
		c := newTestClient(t, testConfig(s.srv.URL))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Do(ctx, get("/x"))
		var rl *RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 30*time.Second, rl.Wait)
		assert.LessOrEqual(t, rl.Limit, 10*time.Second)
		assert.NoError(t, ctx.Err(), "the client did not sleep until the deadline")
	})
	t.Run("a backoff past the deadline returns the last response", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, status(503, `{}`), ok)
		cfg := testConfig(s.srv.URL)
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Hour, time.Hour
		cfg.MaxRetryWait = 2 * time.Hour
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := newTestClient(t, cfg).Do(ctx, get("/x"))
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 503, ae.StatusCode)
		assert.EqualValues(t, 1, s.hits.Load())
	})
	t.Run("a canceled context returns ctx.Err", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, ok)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := newTestClient(t, testConfig(s.srv.URL)).Do(ctx, get("/x"))
		assert.ErrorIs(t, err, context.Canceled)
		assert.EqualValues(t, 0, s.hits.Load())
	})
	t.Run("a limiter wait past the deadline fails now", func(t *testing.T) {
		t.Parallel()
		s := newScript(t, ok)
		cfg := testConfig(s.srv.URL)
		cfg.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
		c := newTestClient(t, cfg)
		_, err := c.Do(t.Context(), get("/x"))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err = c.Do(ctx, get("/x"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NoError(t, ctx.Err())
		assert.EqualValues(t, 1, s.hits.Load())
	})
}

func TestClient_Do_waitsForLimiterOnEveryAttempt(t *testing.T) {
	t.Parallel()
	s := newScript(t, status(500, `{}`), status(429, `{}`), ok)
	cfg := testConfig(s.srv.URL)
	// Large bursts and no practical refill: the tokens left count attempts.
	general := rate.NewLimiter(rate.Every(24*time.Hour), 100)
	search := rate.NewLimiter(rate.Every(24*time.Hour), 50)
	cfg.Limiter = general
	cfg.ClassLimiters = map[string]*rate.Limiter{"search": search}
	c := newTestClient(t, cfg)

	_, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/s", Class: "search"})
	require.NoError(t, err)
	require.EqualValues(t, 3, s.hits.Load())
	assert.InDelta(t, 97, general.Tokens(), 0.01)
	assert.InDelta(t, 47, search.Tokens(), 0.01)

	_, err = c.Do(t.Context(), get("/p"))
	require.NoError(t, err)
	assert.InDelta(t, 96, general.Tokens(), 0.01)
	assert.InDelta(t, 47, search.Tokens(), 0.01, "plain requests leave the search limiter alone")

	_, err = c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/s", Class: "nope"})
	assert.Error(t, err)
}

func TestClient_Do_refusesRedirects(t *testing.T) {
	t.Parallel()
	var other atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		other.Add(1)
	}))
	t.Cleanup(elsewhere.Close)
	s := newScript(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusFound)
	})
	_, err := newTestClient(t, testConfig(s.srv.URL)).Do(t.Context(), get("/x"))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusFound, ae.StatusCode)
	assert.Zero(t, other.Load())
}

func TestClient_Do_limitsResponseSize(t *testing.T) {
	t.Parallel()
	s := newScript(t, status(200, `{"data":"0123456789"}`))
	cfg := testConfig(s.srv.URL)
	cfg.MaxResponseBytes = 10
	_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
	var re *RequestError
	require.ErrorAs(t, err, &re)
}

func TestClient_Do_sendsRequest(t *testing.T) {
	t.Parallel()
	var got *http.Request
	s := newScript(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		ok(w, r)
	})
	c := newTestClient(t, testConfig(s.srv.URL+"/base/"))
	q := url.Values{"term": {"dana@example.com"}, "limit": {"500"}}
	_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/api/v2/persons",
		Query: q, Body: json.RawMessage(`{"a":1}`)})
	require.NoError(t, err)
	assert.Equal(t, "/base/api/v2/persons", got.URL.Path)
	assert.Equal(t, "dana@example.com", got.URL.Query().Get("term"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, []string{testToken}, s.tokens)
	assert.Equal(t, `{"a":1}`, string(s.bodies[0]))
}

func TestClient_Do_escapedPath(t *testing.T) {
	t.Parallel()
	var got *http.Request
	s := newScript(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		ok(w, r)
	})
	c := newTestClient(t, testConfig(s.srv.URL))
	path := "/contacts/" + url.PathEscape("a/b+c@example.com")
	_, err := c.Do(t.Context(), Request{Method: http.MethodGet, Path: path, EscapedPath: true})
	require.NoError(t, err)
	assert.Equal(t, "/contacts/a%2Fb+c@example.com", got.URL.EscapedPath())
	assert.Equal(t, "/contacts/a/b+c@example.com", got.URL.Path)

	_, err = c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/x%zz", EscapedPath: true})
	assert.Error(t, err)
}

func TestClient_NewAPIError(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, testConfig("http://x"))
	e := c.NewAPIError(&Response{StatusCode: 200, Method: "GET", URL: "http://x/p",
		Body: []byte(`{"success":false,"error":"odd"}`), Header: http.Header{}})
	assert.Equal(t, "odd", e.Message)
	assert.Equal(t, "testapi: GET http://x/p: 200 OK: odd", e.Error())
}

func TestNewClient_validates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no base URL", Config{}},
		{"relative base URL", Config{BaseURL: "example.com"}},
		{"ftp base URL", Config{BaseURL: "ftp://example.com"}},
		{"credentials in base URL", Config{BaseURL: "https://u:p@example.com"}},
		{"query in base URL", Config{BaseURL: "https://example.com?api_token=x"}},
		{"negative retries", Config{BaseURL: "https://example.com", RetryMax: -1}},
		{"max below min", Config{BaseURL: "https://example.com", RetryWaitMin: time.Second,
			RetryWaitMax: time.Millisecond}},
		{"negative cap", Config{BaseURL: "https://example.com", MaxRetryWait: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(tt.cfg)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "api_token=x")
		})
	}
}

func TestAPIError_Is(t *testing.T) {
	t.Parallel()
	sentinels := []error{keysync.ErrUnauthorized, keysync.ErrForbidden, keysync.ErrNotFound,
		keysync.ErrConflict, keysync.ErrInvalid, keysync.ErrRateLimited}
	tests := []struct {
		code int
		want error
	}{
		{400, keysync.ErrInvalid}, {401, keysync.ErrUnauthorized}, {403, keysync.ErrForbidden},
		{404, keysync.ErrNotFound}, {409, keysync.ErrConflict}, {422, keysync.ErrInvalid},
		{429, keysync.ErrRateLimited}, {500, nil}, {402, nil},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", &APIError{StatusCode: tt.code})
		for _, s := range sentinels {
			assert.Equal(t, s == tt.want, errors.Is(err, s), "%d vs %v", tt.code, s)
		}
	}
	rl := &RateLimitError{Wait: time.Hour, Limit: time.Minute, Err: &APIError{StatusCode: 429}}
	assert.ErrorIs(t, rl, keysync.ErrRateLimited)
	var ae *APIError
	assert.ErrorAs(t, rl, &ae)
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://x.pipedrive.com/api/v2/persons?api_token=abc&limit=5",
			"https://x.pipedrive.com/api/v2/persons?limit=5"},
		{"https://u:pw@api.hubapi.com/crm?hapikey=abc", "https://api.hubapi.com/crm"},
		{"https://h/p?TOKEN=a&Access_Token=b&term=dana", "https://h/p?term=dana"},
		{"https://h/p#frag", "https://h/p"},
		{"://bad", "[unparsable URL]"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SanitizeURL(tt.in))
	}
}
