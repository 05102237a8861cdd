package pipedrivetest_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// listAll pages through target and returns the ids and the number of pages.
func listAll(t *testing.T, s *pipedrivetest.Server, target string) ([]int, int) {
	t.Helper()
	var ids []int
	pages := 0
	cursor := ""
	for {
		q := target
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := send(t, s, "GET", q, nil)
		require.Equal(t, 200, r.Status, r.Raw)
		pages++
		for _, p := range r.list(t) {
			ids = append(ids, int(p["id"].(float64)))
		}
		ad := r.Body["additional_data"].(map[string]any)
		require.Contains(t, ad, "next_cursor")
		if ad["next_cursor"] == nil {
			return ids, pages
		}
		cursor = ad["next_cursor"].(string)
		require.NotEmpty(t, cursor)
	}
}

func seedN(s *pipedrivetest.Server, n int) {
	ps := make([]pipedrivetest.Person, n)
	for i := range ps {
		ps[i] = pipedrivetest.Person{Name: fmt.Sprintf("Person %d", i+1)}
	}
	s.Seed(ps...)
}

func TestList_pagination(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 1234)
	tests := []struct {
		name      string
		target    string
		wantPages int
	}{
		{"pages of 500", "/api/v2/persons?limit=500", 3},
		{"default limit of 100", "/api/v2/persons?sort_by=id", 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ids, pages := listAll(t, s, tt.target)
			assert.Equal(t, tt.wantPages, pages)
			require.Len(t, ids, 1234)
			for i, id := range ids {
				if !assert.Equal(t, i+1, id) {
					break
				}
			}
		})
	}
}

func TestList_firstPageShape(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 3)
	r := send(t, s, "GET", "/api/v2/persons?limit=2", nil)
	require.Equal(t, 200, r.Status)
	assert.Equal(t, true, r.Body["success"])
	assert.Len(t, r.list(t), 2)
	c := r.nextCursor()
	require.NotEmpty(t, c)
	assert.NotContains(t, c, "2", "cursor should not be a plain id")
	last := send(t, s, "GET", "/api/v2/persons?limit=2&cursor="+c, nil)
	assert.Len(t, last.list(t), 1)
	assert.Contains(t, last.Raw, `"next_cursor":null`)
}

func TestList_emptyData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []pipedrivetest.Option
		want string
	}{
		{"empty array by default", nil, `"data":[]`},
		{"null with WithNullEmptyData", []pipedrivetest.Option{
			pipedrivetest.WithNullEmptyData(true)}, `"data":null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pipedrivetest.NewTestServer(t, tt.opts...)
			r := send(t, s, "GET", "/api/v2/persons", nil)
			assert.Equal(t, 200, r.Status)
			assert.Contains(t, r.Raw, tt.want)
			assert.Contains(t, r.Raw, `"next_cursor":null`)
		})
	}
}

func TestList_cursorStableUnderInserts(t *testing.T) {
	t.Parallel()
	t.Run("insert after first page shows up on a later page", func(t *testing.T) {
		t.Parallel()
		s := pipedrivetest.NewTestServer(t)
		seedN(s, 10)
		s.InsertAfterPage(1, pipedrivetest.Person{Name: "Late"})
		ids, pages := listAll(t, s, "/api/v2/persons?limit=4")
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, ids)
		assert.Equal(t, 3, pages)
	})
	t.Run("insert sorting before the cursor is not seen and nothing repeats",
		func(t *testing.T) {
			t.Parallel()
			s := pipedrivetest.NewTestServer(t)
			s.Seed(pipedrivetest.Person{ID: 10, Name: "A"}, pipedrivetest.Person{ID: 20, Name: "B"},
				pipedrivetest.Person{ID: 30, Name: "C"}, pipedrivetest.Person{ID: 40, Name: "D"})
			s.InsertAfterPage(1, pipedrivetest.Person{ID: 5, Name: "Early"})
			s.InsertAfterPage(1, pipedrivetest.Person{ID: 25, Name: "Middle"})
			ids, _ := listAll(t, s, "/api/v2/persons?limit=2")
			assert.Equal(t, []int{10, 20, 25, 30, 40}, ids)
		})
	t.Run("delete between pages does not shift later pages", func(t *testing.T) {
		t.Parallel()
		s := pipedrivetest.NewTestServer(t)
		seedN(s, 6)
		s.OnListPage(func(page int) {
			if page == 1 {
				send(t, s, "DELETE", "/api/v2/persons/1", nil)
			}
		})
		ids, _ := listAll(t, s, "/api/v2/persons?limit=3")
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, ids)
	})
}

func TestList_filtersAndSort(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	s := pipedrivetest.NewTestServer(t)
	s.Seed(
		pipedrivetest.Person{Name: "A", OwnerID: 7, OrgID: 55, AddTime: base.Add(3 * time.Hour),
			UpdateTime: base.Add(-time.Second)},
		pipedrivetest.Person{Name: "B", OwnerID: 7, AddTime: base.Add(2 * time.Hour),
			UpdateTime: base},
		pipedrivetest.Person{Name: "C", OwnerID: 8, OrgID: 55, AddTime: base.Add(time.Hour),
			UpdateTime: base.Add(time.Hour)},
		pipedrivetest.Person{Name: "D", OwnerID: 8, AddTime: base,
			UpdateTime: base.Add(2 * time.Hour)},
	)
	tests := []struct {
		name  string
		query string
		want  []int
	}{
		{"default is id ascending", "", []int{1, 2, 3, 4}},
		{"ids filter drops unknown ids", "ids=4,2,99", []int{2, 4}},
		{"owner_id", "owner_id=7", []int{1, 2}},
		{"org_id", "org_id=55", []int{1, 3}},
		{"updated_since is inclusive", "updated_since=2026-11-30T08:00:00Z", []int{2, 3, 4}},
		{"updated_since with offset", "updated_since=2026-11-30T10:00:00%2B01:00",
			[]int{3, 4}},
		{"updated_until is exclusive", "updated_until=2026-11-30T09:00:00Z", []int{1, 2}},
		{"since and until", "updated_since=2026-11-30T08:00:00Z&updated_until=2026-11-30T10:00:00Z",
			[]int{2, 3}},
		{"sort by update_time", "sort_by=update_time", []int{1, 2, 3, 4}},
		{"sort by add_time", "sort_by=add_time", []int{4, 3, 2, 1}},
		{"sort by add_time desc", "sort_by=add_time&sort_direction=desc", []int{1, 2, 3, 4}},
		{"sort by id desc", "sort_direction=desc", []int{4, 3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, limit := range []string{"1", "500"} {
				ids, _ := listAll(t, s, "/api/v2/persons?limit="+limit+"&"+tt.query)
				assert.Equal(t, tt.want, ids, "limit %s", limit)
			}
		})
	}
}

func TestList_invalidQuery(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 2)
	first := send(t, s, "GET", "/api/v2/persons?limit=1", nil)
	cursor := first.nextCursor()
	tests := []struct {
		name  string
		query string
	}{
		{"fractional updated_since", "updated_since=2026-11-30T08:00:00.123Z"},
		{"date-only updated_since", "updated_since=2026-11-30"},
		{"fractional updated_until", "updated_until=2026-11-30T08:00:00.5Z"},
		{"limit above 500", "limit=501"},
		{"limit zero", "limit=0"},
		{"limit not a number", "limit=ten"},
		{"owner_id not a number", "owner_id=seven"},
		{"unknown sort_by", "sort_by=name"},
		{"unknown sort_direction", "sort_direction=up"},
		{"garbage cursor", "cursor=!!!"},
		{"cursor from another sort", "sort_by=update_time&cursor=" + cursor},
		{"too many ids", "ids=" + strings.Repeat("1,", 100) + "1"},
		{"filter_id is not supported", "filter_id=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "GET", "/api/v2/persons?"+tt.query, nil)
			assert.Equal(t, 400, r.Status, r.Raw)
			assert.Equal(t, false, r.Body["success"])
			assert.Nil(t, r.Body["data"])
		})
	}
	r := send(t, s, "GET", "/api/v2/persons?updated_since=2026-11-30T08:00:00.123Z", nil)
	assert.Equal(t, "ERR_SCHEMA_VALIDATION_FAILED", r.Body["code"])
}

func TestList_pageLimitMax(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithPageLimitMax(3))
	seedN(s, 7)
	assert.Equal(t, 400, send(t, s, "GET", "/api/v2/persons?limit=4", nil).Status)
	ids, pages := listAll(t, s, "/api/v2/persons?limit=3")
	assert.Len(t, ids, 7)
	assert.Equal(t, 3, pages)
	s.Seed(pipedrivetest.Person{Name: "Eighth"}, pipedrivetest.Person{Name: "Ninth"})
	_, pages = listAll(t, s, "/api/v2/persons?limit=3")
	assert.Equal(t, 3, pages, "an exact multiple needs no empty extra page")
}

func TestCreate(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now), pipedrivetest.WithUserID(7))
	c.Advance(1500 * time.Millisecond)
	r := send(t, s, "POST", "/api/v2/persons", map[string]any{
		"name":   "  Dana  Q Example ",
		"org_id": 55,
		"emails": []map[string]any{
			{"value": "Dana@Example.com", "label": "home"},
			{"value": "dana.work@example.com", "primary": true},
			{"value": "dana.other@example.com", "primary": true, "label": "other"},
		},
		"phones":           []map[string]any{{"value": "+1 555 0100", "label": "mobile"}},
		"custom_fields":    map[string]any{"9f2c": "Gold"},
		"label_ids":        []int{4},
		"marketing_status": "no_consent",
	})
	require.Equal(t, 200, r.Status, r.Raw)
	p := r.object(t)
	assert.Equal(t, float64(1), p["id"])
	assert.Equal(t, "Dana  Q Example", p["name"])
	assert.Equal(t, "Dana", p["first_name"])
	assert.Equal(t, "Q Example", p["last_name"])
	assert.Equal(t, float64(7), p["owner_id"])
	assert.Equal(t, float64(55), p["org_id"])
	assert.Equal(t, "2026-11-30T08:00:01Z", p["add_time"])
	assert.Equal(t, "2026-11-30T08:00:01Z", p["update_time"])
	assert.Equal(t, false, p["is_deleted"])
	assert.Equal(t, float64(3), p["visible_to"])
	assert.Equal(t, []any{
		map[string]any{"value": "Dana@Example.com", "label": "home", "primary": false},
		map[string]any{"value": "dana.work@example.com", "label": "work", "primary": true},
		map[string]any{"value": "dana.other@example.com", "label": "other", "primary": false},
	}, p["emails"])
	assert.Equal(t, []any{
		map[string]any{"value": "+1 555 0100", "label": "mobile", "primary": true},
	}, p["phones"])
	assert.Equal(t, map[string]any{"9f2c": "Gold"}, p["custom_fields"])
	assert.Equal(t, "no_consent", p["marketing_status"])

	stored, ok := s.Person(1)
	require.True(t, ok)
	assert.Equal(t, p, stored)
	got := send(t, s, "GET", "/api/v2/persons/1", nil)
	assert.Equal(t, p, got.object(t))
}

func TestCreate_singleWordNameAndDuplicates(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	for range 2 {
		r := send(t, s, "POST", "/api/v2/persons", map[string]any{
			"name": "Cher", "emails": []map[string]any{{"value": "cher@example.com"}},
		})
		require.Equal(t, 200, r.Status, r.Raw)
		p := r.object(t)
		assert.Nil(t, p["last_name"])
		assert.Equal(t, "Cher", p["first_name"])
		assert.Equal(t, true, p["emails"].([]any)[0].(map[string]any)["primary"])
	}
	assert.Len(t, s.Persons(), 2, "duplicate emails are allowed")
}

func TestCreate_validation(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	tests := []struct {
		name string
		body any
	}{
		{"missing name", map[string]any{"emails": []any{}}},
		{"blank name", map[string]any{"name": "  "}},
		{"name not a string", map[string]any{"name": 5}},
		{"numeric string owner_id", map[string]any{"name": "A", "owner_id": "7"}},
		{"numeric string org_id", map[string]any{"name": "A", "org_id": "55"}},
		{"fractional owner_id", map[string]any{"name": "A", "owner_id": 7.5}},
		{"string visible_to", map[string]any{"name": "A", "visible_to": "3"}},
		{"unknown visible_to", map[string]any{"name": "A", "visible_to": 2}},
		{"primary as 1", map[string]any{"name": "A",
			"emails": []any{map[string]any{"value": "a@example.com", "primary": 1}}}},
		{"primary as string", map[string]any{"name": "A",
			"emails": []any{map[string]any{"value": "a@example.com", "primary": "true"}}}},
		{"emails as strings", map[string]any{"name": "A", "emails": []any{"a@example.com"}}},
		{"email without value", map[string]any{"name": "A",
			"emails": []any{map[string]any{"label": "work"}}}},
		{"v1 singular email field", map[string]any{"name": "A", "email": "a@example.com"}},
		{"read-only first_name", map[string]any{"name": "A", "first_name": "A"}},
		{"read-only update_time", map[string]any{"name": "A",
			"update_time": "2026-11-30T08:00:00Z"}},
		{"string label_ids", map[string]any{"name": "A", "label_ids": []any{"4"}}},
		{"custom_fields not an object", map[string]any{"name": "A", "custom_fields": []any{}}},
		{"unknown marketing_status", map[string]any{"name": "A", "marketing_status": "yes"}},
		{"fractional add_time", map[string]any{"name": "A",
			"add_time": "2026-11-30T08:00:00.5Z"}},
		{"not JSON", "name=A"},
		{"JSON array", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "POST", "/api/v2/persons", tt.body)
			assert.Equal(t, 400, r.Status, r.Raw)
			assert.Equal(t, false, r.Body["success"])
			assert.Equal(t, "ERR_SCHEMA_VALIDATION_FAILED", r.Body["code"])
			assert.NotEmpty(t, r.Body["error"])
			assert.Contains(t, r.Body, "additional_data")
		})
	}
	t.Run("nothing was stored", func(t *testing.T) {
		assert.Empty(t, s.Persons())
	})
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	s.Seed(pipedrivetest.Person{
		Name:         "Dana Example",
		Emails:       emails("dana@example.com", "dana2@example.com"),
		Phones:       emails("+1 555 0100"),
		OrgID:        55,
		CustomFields: map[string]any{"a": "1", "b": "2"},
	})
	c.Advance(time.Minute)
	r := send(t, s, "PATCH", "/api/v2/persons/1", map[string]any{
		"emails":        []map[string]any{{"value": "new@example.com", "label": "home"}},
		"org_id":        nil,
		"custom_fields": map[string]any{"a": nil, "c": "3"},
	})
	require.Equal(t, 200, r.Status, r.Raw)
	p := r.object(t)
	assert.Equal(t, "Dana Example", p["name"], "fields not sent stay")
	assert.Equal(t, []any{
		map[string]any{"value": "new@example.com", "label": "home", "primary": true},
	}, p["emails"], "arrays are replaced")
	assert.Len(t, p["phones"], 1)
	assert.Nil(t, p["org_id"])
	assert.Equal(t, map[string]any{"a": nil, "b": "2", "c": "3"}, p["custom_fields"])
	assert.Equal(t, "2026-11-30T08:00:00Z", p["add_time"])
	assert.Equal(t, "2026-11-30T08:01:00Z", p["update_time"])

	c.Advance(time.Second)
	r = send(t, s, "PATCH", "/api/v2/persons/1", map[string]any{})
	require.Equal(t, 200, r.Status, r.Raw)
	assert.Equal(t, "2026-11-30T08:01:01Z", r.object(t)["update_time"],
		"an empty PATCH still bumps update_time")

	tests := []struct {
		name   string
		target string
		body   any
		want   int
	}{
		{"unknown id", "/api/v2/persons/99", map[string]any{"name": "X"}, 404},
		{"non-numeric id", "/api/v2/persons/abc", map[string]any{"name": "X"}, 400},
		{"blank name", "/api/v2/persons/1", map[string]any{"name": ""}, 400},
		{"string owner_id", "/api/v2/persons/1", map[string]any{"owner_id": "7"}, 400},
		{"add_time cannot change", "/api/v2/persons/1",
			map[string]any{"add_time": "2026-11-30T08:00:00Z"}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, "PATCH", tt.target, tt.body)
			assert.Equal(t, tt.want, r.Status, r.Raw)
			assert.Equal(t, false, r.Body["success"])
		})
	}
	t.Run("404 says Person not found", func(t *testing.T) {
		r := send(t, s, "PATCH", "/api/v2/persons/99", map[string]any{"name": "X"})
		assert.Equal(t, "Person not found", r.Body["error"])
	})
}

func TestDelete_isSoft(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now))
	s.Seed(pipedrivetest.Person{Name: "Dana Example", Emails: emails("dana@example.com")},
		pipedrivetest.Person{Name: "Kim Example"})
	c.Advance(time.Minute)
	r := send(t, s, "DELETE", "/api/v2/persons/1", nil)
	require.Equal(t, 200, r.Status, r.Raw)
	assert.JSONEq(t, `{"success":true,"data":{"id":1},"additional_data":null}`, r.Raw)

	tests := []struct {
		name   string
		method string
		target string
		body   any
		want   int
	}{
		{"get is 404", "GET", "/api/v2/persons/1", nil, 404},
		{"patch is 404", "PATCH", "/api/v2/persons/1", map[string]any{"name": "X"}, 404},
		{"second delete is 404", "DELETE", "/api/v2/persons/1", nil, 404},
		{"v1 delete is 404", "DELETE", "/v1/persons/1", nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, tt.method, tt.target, tt.body)
			assert.Equal(t, tt.want, r.Status, r.Raw)
		})
	}
	ids, _ := listAll(t, s, "/api/v2/persons?limit=10")
	assert.Equal(t, []int{2}, ids, "deleted persons are not listed")
	ids, _ = listAll(t, s, "/api/v2/persons?ids=1,2")
	assert.Equal(t, []int{2}, ids)
	search := send(t, s, "GET",
		"/api/v2/persons/search?term=dana@example.com&exact_match=true", nil)
	assert.Empty(t, search.items(t), "deleted persons are not searchable")

	snap := s.Persons()
	require.Len(t, snap, 2)
	assert.Equal(t, true, snap[0]["is_deleted"])
	assert.Equal(t, "2026-11-30T08:01:00Z", snap[0]["update_time"])
	assert.Equal(t, false, snap[1]["is_deleted"])
}

func TestSeedJSON(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	ids, err := s.SeedJSON(strings.NewReader(`[
		{"name": "Dana Example", "emails": [{"value": "dana@example.com", "primary": true}],
		 "owner_id": 7, "add_time": "2026-11-02T09:15:00Z"},
		{"id": 40, "name": "Kim Example", "update_time": "2026-11-03T10:00:00Z",
		 "is_deleted": true},
		{"name": "Lee Example"}
	]`))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 40, 41}, ids)
	p, ok := s.Person(1)
	require.True(t, ok)
	assert.Equal(t, "2026-11-02T09:15:00Z", p["add_time"])
	assert.Equal(t, "2026-11-02T09:15:00Z", p["update_time"])
	assert.Equal(t, float64(7), p["owner_id"])
	p, _ = s.Person(40)
	assert.Equal(t, true, p["is_deleted"])

	tests := []struct {
		name    string
		fixture string
	}{
		{"not an array", `{"name": "A"}`},
		{"missing name", `[{"emails": []}]`},
		{"string owner", `[{"name": "A", "owner_id": "7"}]`},
		{"taken id", `[{"id": 40, "name": "A"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SeedJSON(strings.NewReader(tt.fixture))
			assert.Error(t, err)
		})
	}
	assert.Len(t, s.Persons(), 3, "failed fixtures store nothing")
}

func TestSeed_panicsOnTakenID(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.Seed(pipedrivetest.Person{ID: 3, Name: "A"})
	assert.Panics(t, func() { s.Seed(pipedrivetest.Person{ID: 3, Name: "B"}) })
	assert.Equal(t, []int{4}, s.Seed(pipedrivetest.Person{Name: "C"}))
}
