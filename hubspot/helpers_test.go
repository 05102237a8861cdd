package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	stdsync "sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/internal/fakeserver"
)

// fastOptions make a client quick to test with: short retry waits and
// rate limits far above what a test sends.
func fastOptions(base string) []Option {
	return []Option{
		WithBaseURL(base),
		WithRetry(3, time.Millisecond, 5*time.Millisecond),
		WithRateLimit(100_000, time.Second),
		WithSearchRateLimit(100_000, time.Second),
	}
}

// newFake starts a fake HubSpot without rate limits (tests that check
// limits pass their own options, which come later and win) that answers
// batch calls in shuffled order, as HubSpot may.
func newFake(t testing.TB, opts ...hubspottest.Option) *hubspottest.Server {
	t.Helper()
	base := []hubspottest.Option{
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0, 0),
		hubspottest.WithShuffledBatchResults(),
	}
	return hubspottest.NewTestServer(t, append(base, opts...)...)
}

// newClient returns a client for the fake s, with fastOptions and then
// opts.
func newClient(t testing.TB, s *hubspottest.Server, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(s.Token, append(fastOptions(s.URL), opts...)...)
	require.NoError(t, err)
	return c
}

// newMemClient returns a client that reaches the fake s in memory, through
// its handler, with fastOptions and then opts. Inside a testing/synctest
// bubble, where sockets cannot be used, time is then simulated: waits take
// no real time and requests arrive exactly when the client sends them, so
// rate-limit checks are exact.
func newMemClient(t testing.TB, s *hubspottest.Server, opts ...Option) *Client {
	t.Helper()
	hc := &http.Client{Transport: fakeserver.Transport{Handler: s.Handler()}}
	base := append(fastOptions("http://hubspot.fake"), WithHTTPClient(hc))
	c, err := NewClient(s.Token, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// contactsPath is the path of the default API version plus rest.
func contactsPath(rest string) string {
	return "/crm/objects/2026-09/contacts" + rest
}

// seedN stores n contacts c0@example.com … with first names and returns
// their ids.
func seedN(s *hubspottest.Server, n int) []string {
	props := make([]map[string]string, n)
	for i := range props {
		props[i] = map[string]string{
			"email": fmt.Sprintf("c%d@example.com", i), "firstname": fmt.Sprintf("C%d", i),
		}
	}
	return s.SeedProperties(props...)
}

// logBuffer is a concurrency-safe buffer for a text logger.
type logBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// debugLogger returns a logger that writes everything to a buffer.
func debugLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// proxy serves the fake s through handler: handler gets the request (body
// read into body) and a function that forwards a (possibly changed) body
// to the fake.
type proxyHandler func(w http.ResponseWriter, r *http.Request, body []byte,
	forward func(body []byte))

// newProxy starts a server in front of the fake s and returns its URL.
func newProxy(t *testing.T, s *hubspottest.Server, h proxyHandler) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		forward := func(b []byte) {
			req, err := http.NewRequestWithContext(r.Context(), r.Method,
				s.URL+r.URL.RequestURI(), bytes.NewReader(b))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			req.Header = r.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		}
		h(w, r, body, forward)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// stripTraceIDs removes objectWriteTraceId from a batch body, so that the
// fake fails a whole batch on one bad input, as HubSpot does for inputs
// without trace ids.
func stripTraceIDs(t *testing.T, body []byte) []byte {
	t.Helper()
	var b map[string]any
	if json.Unmarshal(body, &b) != nil {
		return body
	}
	inputs, _ := b["inputs"].([]any)
	for _, in := range inputs {
		if m, ok := in.(map[string]any); ok {
			delete(m, "objectWriteTraceId")
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Error(err) // not require: this runs in the proxy's goroutine
		return body
	}
	return out
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
