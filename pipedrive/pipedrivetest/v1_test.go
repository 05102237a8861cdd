package pipedrivetest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func TestV1_personShape(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	key := strings.Repeat("9f", 20)
	s.Seed(pipedrivetest.Person{
		Name: "Dana Example", OwnerID: 7, OrgID: 55, LabelIDs: []int{4},
		Emails:       []pipedrivetest.Contact{{Value: "dana@example.com", Label: "work"}},
		CustomFields: map[string]any{key: "Gold"},
		UpdateTime:   c.Now().Add(26 * time.Hour),
	})
	for _, prefix := range []string{"/v1", "/api/v1"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "GET", prefix+"/persons/1", nil)
			require.Equal(t, 200, r.Status, r.Raw)
			p := r.object(t)
			assert.Equal(t, true, p["active_flag"])
			assert.Equal(t, "Dana", p["first_name"])
			assert.Equal(t, "d", p["first_char"])
			assert.Equal(t, "2026-11-30 08:00:00", p["add_time"])
			assert.Equal(t, "2026-12-01 10:00:00", p["update_time"])
			assert.Equal(t, "3", p["visible_to"])
			assert.Equal(t, float64(4), p["label"])
			assert.Equal(t, "Gold", p[key], "custom fields are top-level keys")
			assert.Equal(t, "dana@example.com", p["primary_email"])
			assert.Equal(t, []any{map[string]any{
				"label": "work", "value": "dana@example.com", "primary": true,
			}}, p["email"])
			assert.Equal(t, []any{map[string]any{"value": "", "primary": true}}, p["phone"],
				"v1 shows an empty placeholder phone")
			owner := p["owner_id"].(map[string]any)
			assert.Equal(t, float64(7), owner["value"])
			assert.Equal(t, "User 7", owner["name"])
			org := p["org_id"].(map[string]any)
			assert.Equal(t, float64(55), org["value"])
			assert.Equal(t, "Organization 55", p["org_name"])
			assert.NotContains(t, p, "emails")
			related := r.Body["related_objects"].(map[string]any)
			assert.Contains(t, related["user"], "7")
			assert.Contains(t, related["organization"], "55")
		})
	}
}

func TestV1_list(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	seedN(s, 5)
	s.Seed(pipedrivetest.Person{Name: "Zed", OwnerID: 9, UpdateTime: c.Now().Add(time.Hour)})
	tests := []struct {
		name     string
		query    string
		wantIDs  []int
		wantMore bool
		wantNext float64
	}{
		{"first page", "start=0&limit=2", []int{1, 2}, true, 2},
		{"middle page", "start=2&limit=2", []int{3, 4}, true, 4},
		{"last page", "start=4&limit=2", []int{5, 6}, false, 0},
		{"default limit", "", []int{1, 2, 3, 4, 5, 6}, false, 0},
		{"user_id", "user_id=9", []int{6}, false, 0},
		{"first_char", "first_char=Z", []int{6}, false, 0},
		{"sort update_time DESC", "sort=update_time+DESC&limit=2", []int{6, 5}, true, 2},
		{"sort name", "sort=name&start=5", []int{6}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "GET", "/v1/persons?"+tt.query, nil)
			require.Equal(t, 200, r.Status, r.Raw)
			var ids []int
			for _, p := range r.list(t) {
				ids = append(ids, int(p["id"].(float64)))
			}
			assert.Equal(t, tt.wantIDs, ids)
			pg := r.Body["additional_data"].(map[string]any)["pagination"].(map[string]any)
			assert.Equal(t, tt.wantMore, pg["more_items_in_collection"])
			if tt.wantMore {
				assert.Equal(t, tt.wantNext, pg["next_start"])
			} else {
				assert.NotContains(t, pg, "next_start")
			}
		})
	}
	t.Run("empty list is null", func(t *testing.T) {
		t.Parallel()
		r := send(t, s, "GET", "/v1/persons?start=100", nil)
		assert.Equal(t, 200, r.Status)
		assert.Contains(t, r.Raw, `"data":null`)
	})
	t.Run("invalid paging", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"start=-1", "limit=501", "sort=email", "filter_id=1"} {
			assert.Equal(t, 400, send(t, s, "GET", "/v1/persons?"+q, nil).Status, q)
		}
	})
}

func TestV1_writes(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	key := strings.Repeat("ab", 20)
	r := send(t, s, "POST", "/v1/persons", map[string]any{
		"name": "Dana Example", "owner_id": "7", "email": "dana@example.com",
		"phone":      []any{map[string]any{"value": "+1 555 0100", "primary": "1", "label": "mobile"}},
		"visible_to": "3", key: "Gold", "unknown_field": "ignored",
		"label_ids": []any{"4", 5}, "marketing_status": "subscribed",
	})
	require.Equal(t, 201, r.Status, r.Raw)
	p := r.object(t)
	assert.Equal(t, float64(7), p["owner_id"].(map[string]any)["value"])
	assert.Equal(t, "Gold", p[key])
	assert.Equal(t, []any{float64(4), float64(5)}, p["label_ids"])
	assert.Equal(t, "subscribed", p["marketing_status"])
	assert.Equal(t, "mobile", p["phone"].([]any)[0].(map[string]any)["label"])
	stored, _ := s.Person(1)
	assert.Equal(t, "dana@example.com", stored["emails"].([]any)[0].(map[string]any)["value"])

	form := url.Values{"name": {"Kim Example"}, "email[]": {"kim@example.com", "k@example.com"}}
	req := newRequest(t, s, "POST", "/api/v1/persons", form.Encode())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("x-api-token", s.Token)
	r = roundTrip(t, s, req)
	require.Equal(t, 201, r.Status, r.Raw)
	assert.Len(t, r.object(t)["email"], 2)

	c.Advance(time.Minute)
	r = send(t, s, "PUT", "/v1/persons/1", map[string]any{"email": []string{"new@example.com"}})
	require.Equal(t, 200, r.Status, r.Raw)
	p = r.object(t)
	assert.Equal(t, "Dana Example", p["name"])
	assert.Equal(t, "new@example.com", p["primary_email"])
	assert.Equal(t, "2026-11-30 08:01:00", p["update_time"])

	r = send(t, s, "DELETE", "/v1/persons/1", nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, map[string]any{"id": float64(1)}, r.Body["data"])
	r = send(t, s, "GET", "/v1/persons/1", nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, false, r.object(t)["active_flag"], "v1 get shows deleted persons")

	tests := []struct {
		name   string
		method string
		target string
		body   any
		want   int
	}{
		{"missing name", "POST", "/v1/persons", map[string]any{"email": "a@example.com"}, 400},
		{"bad owner", "POST", "/v1/persons", map[string]any{"name": "A", "owner_id": "x"}, 400},
		{"bad visible_to", "POST", "/v1/persons", map[string]any{"name": "A", "visible_to": 2},
			400},
		{"bad primary", "POST", "/v1/persons", map[string]any{"name": "A",
			"email": []any{map[string]any{"value": "a@example.com", "primary": "yes"}}}, 400},
		{"bad label", "POST", "/v1/persons", map[string]any{"name": "A", "label": "gold"}, 400},
		{"bad marketing status", "POST", "/v1/persons",
			map[string]any{"name": "A", "marketing_status": "maybe"}, 400},
		{"bad add_time", "POST", "/v1/persons",
			map[string]any{"name": "A", "add_time": "2026-11-30T08:00:00Z"}, 400},
		{"malformed JSON", "POST", "/v1/persons", "{", 400},
		{"v2 method on v1", "PATCH", "/v1/persons/2", map[string]any{"name": "A"}, 405},
		{"v1 method on v2", "PUT", "/api/v2/persons/2", map[string]any{"name": "A"}, 405},
		{"unknown id", "PUT", "/v1/persons/99", map[string]any{"name": "A"}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, tt.method, tt.target, tt.body)
			assert.Equal(t, tt.want, r.Status, r.Raw)
		})
	}
	r = send(t, s, "POST", "/v1/persons", map[string]any{})
	assert.Equal(t, "Name must be given.", r.Body["error"])
}

func TestV1_search(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 5)
	r := send(t, s, "GET", "/v1/persons/search?term=person&start=3&limit=3", nil)
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Len(t, r.items(t), 2)
	pg := r.Body["additional_data"].(map[string]any)["pagination"].(map[string]any)
	assert.Equal(t, false, pg["more_items_in_collection"])
	r = send(t, s, "GET", "/v1/persons/search?term=PERSON+2&exact_match=1", nil)
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, []int{2}, searchIDs(t, r.items(t)), "v1 takes exact_match=1")
}

func TestVisibility(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 4)
	s.AddToken("limited", func(id int) bool { return id%2 == 0 })
	tests := []struct {
		name   string
		method string
		target string
		want   int
	}{
		{"visible get", "GET", "/api/v2/persons/2", 200},
		{"invisible get", "GET", "/api/v2/persons/1", 404},
		{"invisible v1 get", "GET", "/v1/persons/1", 404},
		{"invisible delete", "DELETE", "/api/v2/persons/3", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sendAs(t, s, "limited", tt.method, tt.target, nil)
			assert.Equal(t, tt.want, r.Status)
		})
	}
	r := sendAs(t, s, "limited", "GET", "/api/v2/persons?ids=1,2,3,4", nil)
	assert.Len(t, r.list(t), 2, "invisible ids are dropped")
	r = sendAs(t, s, "limited", "GET", "/api/v2/persons/search?term=person", nil)
	assert.Equal(t, []int{2, 4}, searchIDs(t, r.items(t)))

	r = sendAs(t, s, "limited", "POST", "/api/v2/persons", map[string]any{"name": "Mine"})
	require.Equal(t, 200, r.Status)
	assert.Equal(t, 200, sendAs(t, s, "limited", "GET", "/api/v2/persons/5", nil).Status,
		"a token sees what it created")
	assert.Len(t, send(t, s, "GET", "/api/v2/persons", nil).list(t), 5)
}
