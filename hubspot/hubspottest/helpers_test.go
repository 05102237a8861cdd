package hubspottest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

// contactsPath is the date-versioned contacts endpoint most tests use.
const contactsPath = "/crm/objects/2026-09/contacts"

// fakeClock is a manually advanced clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 2, 9, 15, 0, 123_000_000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// response is a decoded answer of the fake.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// call sends one request with the server's token; body (if not nil) is
// JSON-encoded unless it is a string.
func call(t *testing.T, s *hubspottest.Server, method, path string, body any) response {
	t.Helper()
	return callToken(t, s, s.Token, method, path, body)
}

func callToken(t *testing.T, s *hubspottest.Server, token, method, path string,
	body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(t, json.Unmarshal(raw, &r.Body), string(raw))
	}
	return r
}

// props returns the properties object of a contact JSON object.
func props(t *testing.T, obj any) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	require.True(t, ok, "not an object: %v", obj)
	p, ok := m["properties"].(map[string]any)
	require.True(t, ok, "no properties in %v", m)
	return p
}

// results returns the results array of a list, search or batch response.
func results(t *testing.T, r response) []any {
	t.Helper()
	res, ok := r.Body["results"].([]any)
	require.True(t, ok, "no results in %s", r.Raw)
	return res
}

// field returns obj[key] of a JSON object.
func field(obj any, key string) any {
	m, _ := obj.(map[string]any)
	return m[key]
}

// noLimits disables every rate limit, for tests that send many requests.
func noLimits() []hubspottest.Option {
	return []hubspottest.Option{
		hubspottest.WithRateLimit(0, 0),
		hubspottest.WithSearchRateLimit(0, 0),
		hubspottest.WithDailyLimit(0),
	}
}

func contact(email, first string) map[string]any {
	p := map[string]any{"email": email}
	if first != "" {
		p["firstname"] = first
	}
	return map[string]any{"properties": p}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
