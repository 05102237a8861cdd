package pipedrivetest_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func TestServer_FailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		wantJSON bool
		wantText string
	}{
		{"500 uses the JSON envelope", 500, true, "Internal server error"},
		{"503 uses the JSON envelope", 503, true, "Service is temporarily unavailable"},
		{"402 account closed", 402, true, "Company account is not open"},
		{"403 permission", 403, true, "You do not have permissions"},
		{"502 is an HTML page", 502, false, "502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pipedrivetest.NewTestServer(t)
			s.FailNext(2, tt.status)
			unauth := sendAs(t, s, "", "GET", "/api/v2/persons", nil)
			assert.Equal(t, 401, unauth.Status, "unauthenticated requests do not consume faults")
			for range 2 {
				r := send(t, s, "POST", "/api/v2/persons", map[string]any{"name": "A"})
				assert.Equal(t, tt.status, r.Status)
				assert.Contains(t, r.Raw, tt.wantText)
				if tt.wantJSON {
					assert.Equal(t, false, r.Body["success"])
					assert.Equal(t, float64(tt.status), r.Body["errorCode"])
				} else {
					assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
				}
			}
			assert.Empty(t, s.Persons(), "failed requests are not served")
			assert.Equal(t, 200, send(t, s, "POST", "/api/v2/persons",
				map[string]any{"name": "A"}).Status)
			assert.Len(t, s.Persons(), 1)
		})
	}
}

func TestServer_RateLimitNext(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.RateLimitNext(1)
	r := send(t, s, "GET", "/api/v2/persons", nil)
	assert.Equal(t, 429, r.Status)
	assert.Equal(t, "Request over limit", r.Body["error"])
	assert.Equal(t, float64(429), r.Body["errorCode"])
	assert.Equal(t, false, r.Body["success"])
	assert.Equal(t, "20", r.Header.Get("x-ratelimit-limit"))
	assert.Equal(t, "0", r.Header.Get("x-ratelimit-remaining"))
	assert.Equal(t, "2", r.Header.Get("x-ratelimit-reset"))
	ok := send(t, s, "GET", "/api/v2/persons", nil)
	assert.Equal(t, 200, ok.Status)
	assert.Empty(t, ok.Header.Get("x-ratelimit-limit"), "no headers when limits are off")
}

func TestServer_DropAfterCommitNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string
	}{
		{"v2 create", "/api/v2/persons"},
		{"v1 create", "/v1/persons"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pipedrivetest.NewTestServer(t)
			s.DropAfterCommitNext(1)
			list := send(t, s, "GET", "/api/v2/persons", nil)
			assert.Equal(t, 200, list.Status, "reads are not dropped")

			req := newRequest(t, s, "POST", tt.target, map[string]any{"name": "Dana Example"})
			req.Header.Set("x-api-token", s.Token)
			resp, err := s.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			require.Error(t, err, "the client must see a transport error")

			persons := s.Persons()
			require.Len(t, persons, 1, "the create was committed")
			assert.Equal(t, "Dana Example", persons[0]["name"])
			reqs := s.Requests()
			assert.Equal(t, 0, reqs[len(reqs)-1].Status, "no status was sent")

			r := send(t, s, "POST", tt.target, map[string]any{"name": "Dana Example"})
			assert.Contains(t, []int{200, 201}, r.Status, "only the next create is dropped")
			assert.Len(t, s.Persons(), 2)
		})
	}
}

func TestServer_DropAfterCommitNext_skipsFailedCreates(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.DropAfterCommitNext(1)
	r := send(t, s, "POST", "/api/v2/persons", map[string]any{})
	assert.Equal(t, 400, r.Status, "invalid creates are answered")
	req := newRequest(t, s, "POST", "/api/v2/persons", map[string]any{"name": "A"})
	req.Header.Set("x-api-token", s.Token)
	resp, err := s.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	assert.Error(t, err)
}

func TestServer_SetLatency(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req := newRequest(t, s, "GET", "/api/v2/persons", nil).WithContext(ctx)
	req.Header.Set("x-api-token", s.Token)
	_, err := s.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
	s.SetLatency(0)
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, 0, reqs[0].Status, "the abandoned request got no answer")
	assert.Equal(t, 200, reqs[1].Status)
}

func TestServer_OnListPage(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 5)
	var pages []int
	s.OnListPage(func(page int) { pages = append(pages, page) })
	listAll(t, s, "/api/v2/persons?limit=2")
	send(t, s, "GET", "/v1/persons?start=2&limit=2", nil)
	send(t, s, "GET", "/api/v2/persons/search?term=Person", nil)
	assert.Equal(t, []int{1, 2, 3, 2}, pages)
}

func TestServer_Close_endsLatencyWaits(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewServer()
	s.SetLatency(time.Hour)
	errc := make(chan error, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v2/persons", nil)
		if err != nil {
			errc <- err
			return
		}
		req.Header.Set("x-api-token", s.Token)
		resp, err := s.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	for len(s.Requests()) == 0 {
		runtime.Gosched()
	}
	s.Close() // must not wait an hour
	assert.Error(t, <-errc)
}
