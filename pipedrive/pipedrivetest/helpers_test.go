package pipedrivetest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// response is a decoded answer of the fake.
type response struct {
	Status int
	Header http.Header
	Raw    string
	Body   map[string]any
}

// data returns body.data as a list of objects.
func (r response) list(t *testing.T) []map[string]any {
	t.Helper()
	raw, ok := r.Body["data"].([]any)
	require.True(t, ok, "data is not a list: %s", r.Raw)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.Body["data"].(map[string]any)
	require.True(t, ok, "data is not an object: %s", r.Raw)
	return m
}

func (r response) nextCursor() string {
	ad, _ := r.Body["additional_data"].(map[string]any)
	c, _ := ad["next_cursor"].(string)
	return c
}

func (r response) items(t *testing.T) []map[string]any {
	t.Helper()
	data := r.object(t)
	raw, _ := data["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)["item"].(map[string]any)
	}
	return out
}

// send calls the fake with the x-api-token header; body may be nil, a
// string (sent as is) or a value encoded as JSON.
func send(t *testing.T, s *pipedrivetest.Server, method, target string, body any) response {
	t.Helper()
	return sendAs(t, s, s.Token, method, target, body)
}

func sendAs(t *testing.T, s *pipedrivetest.Server, tok, method, target string,
	body any) response {
	t.Helper()
	req := newRequest(t, s, method, target, body)
	if tok != "" {
		req.Header.Set("x-api-token", tok)
	}
	return roundTrip(t, s, req)
}

func newRequest(t *testing.T, s *pipedrivetest.Server, method, target string,
	body any) *http.Request {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+target, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func roundTrip(t *testing.T, s *pipedrivetest.Server, req *http.Request) response {
	t.Helper()
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &r.Body), "body: %s", raw)
	}
	return r
}

func emails(vs ...string) []pipedrivetest.Contact {
	out := make([]pipedrivetest.Contact, len(vs))
	for i, v := range vs {
		out[i] = pipedrivetest.Contact{Value: v}
	}
	return out
}
