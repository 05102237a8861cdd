package hubspottest_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestServer_FailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status      int
		category    string
		contentType string
		retryAfter  string
	}{
		{500, "", "application/json;charset=utf-8", ""},
		{502, "", "text/html", ""},
		{503, "", "application/json;charset=utf-8", ""},
		{477, "MIGRATION_IN_PROGRESS", "application/json;charset=utf-8", "1"},
		{400, "VALIDATION_ERROR", "application/json;charset=utf-8", ""},
		{401, "INVALID_AUTHENTICATION", "application/json;charset=utf-8", ""},
		{403, "MISSING_SCOPES", "application/json;charset=utf-8", ""},
		{404, "OBJECT_NOT_FOUND", "application/json;charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			s := hubspottest.NewTestServer(t)
			s.FailNext(2, tt.status)
			for range 2 {
				r := call(t, s, "POST", contactsPath, contact("dana@example.com", ""))
				require.Equal(t, tt.status, r.Status)
				assert.Equal(t, tt.contentType, r.Header.Get("Content-Type"))
				assert.Equal(t, tt.retryAfter, r.Header.Get("Retry-After"))
				if tt.status == 502 {
					assert.True(t, bytes.HasPrefix(r.Raw, []byte("<!DOCTYPE html>")))
					continue
				}
				assert.Equal(t, "error", r.Body["status"])
				assert.NotEmpty(t, r.Body["correlationId"])
				if tt.category != "" {
					assert.Equal(t, tt.category, r.Body["category"])
				}
			}
			assert.Empty(t, s.Contacts(), "failed requests have no effect")
			r := call(t, s, "POST", contactsPath, contact("dana@example.com", ""))
			assert.Equal(t, http.StatusCreated, r.Status, "third request succeeds")
		})
	}
}

func TestServer_RateLimitNext(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	s.FailNext(1, 500)
	s.RateLimitNext(1)
	s.RateLimitNextDaily(1)
	want := []struct {
		status int
		policy string
	}{{500, ""}, {429, "TEN_SECONDLY_ROLLING"}, {429, "DAILY"}, {200, ""}}
	for i, w := range want {
		r := call(t, s, "GET", contactsPath, nil)
		require.Equal(t, w.status, r.Status, "request %d", i)
		if w.policy != "" {
			assert.Equal(t, w.policy, r.Body["policyName"])
			assert.Equal(t, "RATE_LIMIT", r.Body["errorType"])
		}
		switch w.policy {
		case "TEN_SECONDLY_ROLLING":
			assert.Equal(t, "0", r.Header.Get("X-HubSpot-RateLimit-Remaining"))
			assert.Equal(t, "10000", r.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
		case "DAILY":
			assert.Equal(t, "0", r.Header.Get("X-HubSpot-RateLimit-Daily-Remaining"))
		}
	}
	r := call(t, s, "GET", contactsPath, nil)
	assert.Equal(t, "98", r.Header.Get("X-HubSpot-RateLimit-Remaining"),
		"injected failures do not count")
}

func TestServer_DropAfterCommitNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		path  string
		body  any
		count int
	}{
		{"create", contactsPath, contact("dana@example.com", ""), 1},
		{"batch upsert", contactsPath + "/batch/upsert", map[string]any{"inputs": []any{
			map[string]any{"id": "dana@example.com", "idProperty": "email"},
			map[string]any{"id": "lee@example.com", "idProperty": "email"},
		}}, 2},
		{"batch create", contactsPath + "/batch/create", map[string]any{"inputs": []any{
			contact("dana@example.com", "")}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := hubspottest.NewTestServer(t)
			s.DropAfterCommitNext(1)
			// A read is not a write: it is answered normally.
			require.Equal(t, http.StatusOK, call(t, s, "GET", contactsPath, nil).Status)
			req, err := http.NewRequestWithContext(t.Context(), "POST", s.URL+tt.path,
				strings.NewReader(mustJSON(t, tt.body)))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+s.Token)
			resp, err := s.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			require.Error(t, err, "connection closed without a response")
			assert.Len(t, s.Contacts(), tt.count, "write committed")
			reqs := s.Requests()
			assert.Equal(t, 0, reqs[len(reqs)-1].Status)
		})
	}
}

func TestServer_SetLatency(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	s.SetLatency(time.Hour)
	var wg sync.WaitGroup
	wg.Go(func() {
		req, err := http.NewRequestWithContext(t.Context(), "GET", s.URL+contactsPath, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+s.Token)
		if resp, err := s.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	})
	// Closing the server ends the wait without a response.
	for len(s.Requests()) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	wg.Wait()
	assert.Equal(t, 0, s.Requests()[0].Status)
}

func TestServer_SetTokenExpired(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	s.SetTokenExpired(true)
	r := call(t, s, "GET", contactsPath, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "EXPIRED_AUTHENTICATION", r.Body["category"])
	s.SetTokenExpired(false)
	assert.Equal(t, http.StatusOK, call(t, s, "GET", contactsPath, nil).Status)
}

func TestServer_WithScopes(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, hubspottest.WithScopes(hubspottest.ScopeContactsRead))
	assert.Equal(t, http.StatusOK, call(t, s, "GET", contactsPath, nil).Status)
	r := call(t, s, "POST", contactsPath, contact("dana@example.com", ""))
	require.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "MISSING_SCOPES", r.Body["category"])
	errs := r.Body["errors"].([]any)
	assert.Equal(t, []any{"crm.objects.contacts.write"},
		field(field(errs[0], "context"), "requiredGranularScopes"))
}
