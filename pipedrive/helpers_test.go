package pipedrive

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// fastOpts keeps tests quick: tiny backoff, no client-side rate limit.
func fastOpts(base string) []Option {
	return []Option{
		WithBaseURL(base),
		WithRetry(3, time.Millisecond, 4*time.Millisecond),
		WithoutRateLimit(),
	}
}

func newFake(t *testing.T, opts ...pipedrivetest.Option) (*pipedrivetest.Server, *Client) {
	t.Helper()
	s := pipedrivetest.NewTestServer(t, opts...)
	c, err := NewClient(s.Token, fastOpts(s.URL)...)
	require.NoError(t, err)
	return s, c
}

func newConnector(t *testing.T, c *Client, opts PersonsOptions) *Persons {
	t.Helper()
	if opts.SearchBackoff == 0 {
		opts.SearchBackoff = time.Millisecond
	}
	p, err := NewPersons(c, opts)
	require.NoError(t, err)
	return p
}

// stub serves fixed JSON bodies for paths, for shapes the fake does not
// produce.
func stub(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient("stub-token", fastOpts(srv.URL)...)
	require.NoError(t, err)
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func seedN(s *pipedrivetest.Server, n int) []int {
	ps := make([]pipedrivetest.Person, n)
	for i := range ps {
		ps[i] = pipedrivetest.Person{
			Name:   fmt.Sprintf("Person %04d", i),
			Emails: []pipedrivetest.Contact{{Value: fmt.Sprintf("p%04d@example.com", i)}},
		}
	}
	return s.Seed(ps...)
}
