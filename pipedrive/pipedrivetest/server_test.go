package pipedrivetest_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

const unauthorized = `{"success":false,"error":"unauthorized access","errorCode":401,` +
	`"error_info":"Please check developers.pipedrive.com"}`

func TestServer_authentication(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithToken("secret-token"))
	s.Seed(pipedrivetest.Person{Name: "Dana Example"})
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
		want   int
	}{
		{"header token is accepted", "GET", "/api/v2/persons",
			map[string]string{"x-api-token": "secret-token"}, 200},
		{"bearer token is accepted", "GET", "/api/v2/persons",
			map[string]string{"Authorization": "Bearer secret-token"}, 200},
		{"query token is accepted", "GET", "/api/v2/persons?api_token=secret-token", nil, 200},
		{"v1 path with query token", "GET", "/v1/persons?api_token=secret-token", nil, 200},
		{"missing token is refused", "GET", "/api/v2/persons", nil, 401},
		{"wrong header token is refused", "GET", "/api/v2/persons",
			map[string]string{"x-api-token": "wrong"}, 401},
		{"wrong header beats right query", "GET", "/api/v2/persons?api_token=secret-token",
			map[string]string{"x-api-token": "wrong"}, 401},
		{"bogus bearer is refused", "GET", "/api/v2/persons",
			map[string]string{"Authorization": "Bearer nope"}, 401},
		{"unknown path without token is 401 not 404", "GET", "/api/v2/nothing", nil, 401},
		{"wrong method without token is 401 not 405", "PUT", "/api/v2/persons", nil, 401},
		{"unknown path with token is 404", "GET", "/api/v2/nothing",
			map[string]string{"x-api-token": "secret-token"}, 404},
		{"wrong method with token is 405", "PUT", "/api/v2/persons/1",
			map[string]string{"x-api-token": "secret-token"}, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, s, tt.method, tt.target, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			r := roundTrip(t, s, req)
			assert.Equal(t, tt.want, r.Status)
			switch tt.want {
			case 401:
				assert.JSONEq(t, unauthorized, r.Raw)
				assert.Equal(t, unauthorized, r.Raw, "401 body must be byte-exact")
			case 404, 405:
				assert.Equal(t, false, r.Body["success"])
				assert.Contains(t, r.Body, "error_info")
				assert.Nil(t, r.Body["data"])
			default:
				assert.Equal(t, true, r.Body["success"])
			}
		})
	}
}

func TestServer_revokeAndAddToken(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.AddToken("second", nil)
	assert.Equal(t, 200, sendAs(t, s, "second", "GET", "/api/v2/persons", nil).Status)
	s.RevokeToken("second")
	assert.Equal(t, 401, sendAs(t, s, "second", "GET", "/api/v2/persons", nil).Status)
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons", nil).Status)
}

func TestServer_defaultTokenIsRandom(t *testing.T) {
	t.Parallel()
	a, b := pipedrivetest.NewTestServer(t), pipedrivetest.NewTestServer(t)
	assert.Len(t, a.Token, 40)
	assert.NotEqual(t, a.Token, b.Token)
	assert.True(t, strings.HasPrefix(a.URL, "http://127.0.0.1:"))
}

func TestServer_Requests(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	tok := s.Token
	send(t, s, "GET", "/api/v2/persons?limit=5", nil)
	r := roundTrip(t, s, newRequest(t, s, "GET",
		"/api/v2/persons?limit=2&api_token="+tok+"&sort_by=id", nil))
	require.Equal(t, 200, r.Status)
	sendAs(t, s, "bad", "GET", "/api/v2/persons?api_token=bad", nil)

	reqs := s.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, pipedrivetest.Request{
		Method: "GET", Path: "/api/v2/persons", Query: "limit=5", Status: 200, At: c.Now(),
	}, reqs[0])
	assert.Equal(t, "limit=2&sort_by=id", reqs[1].Query)
	assert.Equal(t, 401, reqs[2].Status)
	assert.Empty(t, reqs[2].Query)
	for _, r := range reqs {
		assert.NotContains(t, r.Query, tok, "token must never be logged")
		assert.NotContains(t, r.Path, tok)
	}
	assert.Equal(t, 3, s.Count("GET", "/api/v2/persons"))
	assert.Equal(t, 0, s.Count("POST", "/api/v2/persons"))
}

func TestServer_MaxRequestsInWindow(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	// Arrivals at 0, 0.5, 1.0, 1.9, 2.0, 5.0 seconds.
	for _, step := range []time.Duration{0, 500, 500, 900, 100, 3000} {
		c.Advance(step * time.Millisecond)
		send(t, s, "GET", "/api/v2/persons", nil)
	}
	tests := []struct {
		window time.Duration
		want   int
	}{
		{time.Millisecond, 1},
		{time.Second, 2},
		{2 * time.Second, 4},
		{2*time.Second + time.Millisecond, 5},
		{time.Hour, 6},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.MaxRequestsInWindow(tt.window), "window %v", tt.window)
	}
}

func TestServer_concurrentUse(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			body := map[string]any{"name": "Person " + string(rune('A'+i))}
			req := newRequest(t, s, "POST", "/api/v2/persons", body)
			req.Header.Set("x-api-token", s.Token)
			resp, err := s.Client().Do(req)
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
			s.Persons()
			s.Requests()
		})
	}
	wg.Wait()
	assert.Len(t, s.Persons(), 8)
	assert.Equal(t, 8, s.Count("POST", "/api/v2/persons"))
}
