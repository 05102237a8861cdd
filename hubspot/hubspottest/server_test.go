package hubspottest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestServer_RequestsNeverHoldToken(t *testing.T) {
	t.Parallel()
	const token = "pat-na1-very-secret"
	s := hubspottest.NewTestServer(t, hubspottest.WithToken(token))
	call(t, s, "GET", contactsPath+"?limit=2", nil)
	call(t, s, "GET", contactsPath+"?hapikey="+token, nil)
	call(t, s, "POST", contactsPath, contact("dana@example.com", ""))

	reqs := s.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, hubspottest.Request{Method: "GET", Path: contactsPath,
		Query: map[string][]string{"limit": {"2"}}, Status: 200, At: reqs[0].At}, reqs[0])
	assert.Equal(t, 401, reqs[1].Status)
	assert.Equal(t, "REDACTED", reqs[1].Query.Get("hapikey"))
	assert.Equal(t, 201, reqs[2].Status)
	assert.NotContains(t, fmt.Sprintf("%+v", reqs), token)
	assert.Equal(t, 1, s.Count("POST", contactsPath))
	assert.Equal(t, 2, s.Count("GET", contactsPath))
	assert.Equal(t, 0, s.Count("GET", contactsPath+"/101"))

	reqs[0].Query.Set("limit", "changed")
	assert.Equal(t, "2", s.Requests()[0].Query.Get("limit"), "Requests returns a copy")
}

func TestServer_MaxRequestsInWindow(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now))
	for _, gap := range []time.Duration{0, time.Second, time.Second, 8 * time.Second,
		500 * time.Millisecond, 30 * time.Second} {
		clock.Advance(gap)
		call(t, s, "GET", contactsPath, nil)
	}
	tests := []struct {
		window time.Duration
		want   int
	}{
		{time.Millisecond, 1},
		{2 * time.Second, 2},
		{10 * time.Second, 4}, // 1 s, 2 s, 10 s, 10.5 s
		{11 * time.Second, 5},
		{time.Hour, 6},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.MaxRequestsInWindow(tt.window), "window %v", tt.window)
	}
}

func TestServer_SeedJSON(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	err := s.SeedJSON(strings.NewReader(`[
		{"properties": {"email": "Dana@Example.com", "firstname": "Dana", "numemployees": 5}},
		{"id": "9000", "archived": true, "properties": {"email": "old@example.com"},
		 "createdAt": "2025-01-02T03:04:05.678Z"}
	]`))
	require.NoError(t, err)
	got := s.Contacts()
	require.Len(t, got, 2)
	assert.Equal(t, "101", got[0].ID)
	assert.Equal(t, "dana@example.com", got[0].Properties["email"])
	assert.Equal(t, "5", got[0].Properties["numemployees"])
	assert.Equal(t, "9000", got[1].ID)
	assert.True(t, got[1].Archived)
	assert.Equal(t, "2025-01-02T03:04:05.678Z", got[1].Properties["createdate"])

	r := call(t, s, "POST", contactsPath, contact("x@example.com", ""))
	assert.Equal(t, "9050", r.Body["id"], "ids continue above seeded ones")

	tests := []struct {
		name string
		json string
	}{
		{"not an array", `{"properties": {}}`},
		{"unknown property", `[{"properties": {"email": "a@example.com", "nope": "1"}}]`},
		{"duplicate email", `[{"properties": {"email": "dana@example.com"}}]`},
		{"duplicate id", `[{"id": "9000", "properties": {"email": "b@example.com"}}]`},
		{"invalid email", `[{"properties": {"email": "b@"}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Error(t, s.SeedJSON(strings.NewReader(tt.json)))
		})
	}
	assert.Len(t, s.Contacts(), 3, "failed seeds store nothing")
	assert.Panics(t, func() { s.SeedProperties(map[string]string{"email": "bad@"}) })
}

func TestServer_concurrentCreates(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range statuses {
		wg.Go(func() {
			// Two goroutines per address: exactly one create per address wins.
			email := fmt.Sprintf("c%d@example.com", i/2)
			statuses[i] = call(t, s, "POST", contactsPath, contact(email, "")).Status
		})
	}
	wg.Go(func() { _ = s.Contacts() })
	wg.Go(func() { _ = s.Requests() })
	wg.Wait()
	created := 0
	for _, st := range statuses {
		if st == http.StatusCreated {
			created++
		} else {
			assert.Equal(t, http.StatusConflict, st)
		}
	}
	assert.Equal(t, 20, created)
	assert.Len(t, s.Contacts(), 20)
}

func TestServer_unknownRoutes(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/crm/v4/objects/contacts", 404},
		{"GET", contactsPath + "/batch/nope", 404},
		{"PUT", contactsPath + "/101", 405},
		{"GET", contactsPath + "/search", 405},
		{"POST", contactsPath + "/101/extra", 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, tt.method, tt.path, nil)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, "error", r.Body["status"])
		})
	}
}

func TestServer_Handler_servesWithoutANetwork(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.SeedProperties(map[string]string{"email": "dana@example.com"})

	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet,
		contactsPath+"/"+ids[0], nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "dana@example.com")

	reqs := s.Requests()
	require.Len(t, reqs, 1, "requests served by the handler are logged")
	assert.Equal(t, http.StatusOK, reqs[0].Status)
}
