package pipedrivetest_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func searchIDs(t *testing.T, items []map[string]any) []int {
	t.Helper()
	ids := make([]int, len(items))
	for i, it := range items {
		ids[i] = int(it["id"].(float64))
	}
	return ids
}

func TestSearch(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.Seed(
		pipedrivetest.Person{Name: "Dana Example", Emails: emails("Dana@Example.com"),
			Phones: emails("+1 555 0100"), OwnerID: 7, OrgID: 55},
		pipedrivetest.Person{Name: "Kim Danaher", Emails: emails("kim@example.com",
			"dana@example.com.au")},
		pipedrivetest.Person{Name: "Lee Example", Emails: emails("lee@example.org"),
			CustomFields: map[string]any{"9f2c": "Gold dana tier"}},
	)
	tests := []struct {
		name  string
		query string
		want  []int
	}{
		{"exact email ignores case", "term=dana@example.com&fields=email&exact_match=true",
			[]int{1}},
		{"exact match needs the whole value", "term=dana&fields=email&exact_match=true", nil},
		{"exact name", "term=kim+danaher&fields=name&exact_match=true", []int{2}},
		{"fuzzy finds substrings, best first", "term=dana@example.com&fields=email",
			[]int{1, 2}},
		{"fuzzy over all fields", "term=dana", []int{1, 2, 3}},
		{"fields restrict matching", "term=dana&fields=name", []int{1, 2}},
		{"custom fields", "term=gold&fields=custom_fields", []int{3}},
		{"phone", "term=555&fields=phone", []int{1}},
		{"notes never match", "term=dana&fields=notes", nil},
		{"organization filter", "term=example&organization_id=55", []int{1}},
		{"one character with exact match", "term=x&exact_match=true", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "GET", "/api/v2/persons/search?"+tt.query, nil)
			require.Equal(t, 200, r.Status, r.Raw)
			assert.Equal(t, tt.want, nilIfEmpty(searchIDs(t, r.items(t))))
			assert.Contains(t, r.Raw, `"next_cursor":null`)
		})
	}
}

func nilIfEmpty(ids []int) []int {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

func TestSearch_itemShape(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.Seed(pipedrivetest.Person{Name: "Dana Example", Emails: emails("dana@example.com"),
		Phones: emails("+1 555 0100"), OwnerID: 7, OrgID: 55})
	r := send(t, s, "GET",
		"/api/v2/persons/search?term=dana%40example.com&fields=email&exact_match=true", nil)
	require.Equal(t, 200, r.Status)
	assert.JSONEq(t, `{"success":true,"data":{"items":[{"result_score":1,"item":{
		"id":1,"type":"person","name":"Dana Example","phones":["+1 555 0100"],
		"emails":["dana@example.com"],"visible_to":3,"owner":{"id":7},
		"organization":{"id":55,"name":"Organization 55","address":null},
		"custom_fields":[],"notes":[]}}]},"additional_data":{"next_cursor":null}}`, r.Raw)
}

func TestSearch_invalid(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	tests := []struct {
		name  string
		query string
	}{
		{"missing term", ""},
		{"one character without exact match", "term=d"},
		{"blank term", "term=+++"},
		{"exact_match as 1", "term=dana&exact_match=1"},
		{"unknown field", "term=dana&fields=title"},
		{"limit over 500", "term=dana&limit=501"},
		{"bad cursor", "term=dana&cursor=%25%25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := send(t, s, "GET", "/api/v2/persons/search?"+tt.query, nil)
			assert.Equal(t, 400, r.Status, r.Raw)
			assert.Equal(t, false, r.Body["success"])
		})
	}
}

func TestSearch_paging(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	seedN(s, 7)
	var ids []int
	cursor := ""
	pages := 0
	for {
		q := "/api/v2/persons/search?term=person&limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := send(t, s, "GET", q, nil)
		require.Equal(t, 200, r.Status, r.Raw)
		ids = append(ids, searchIDs(t, r.items(t))...)
		pages++
		if cursor = r.nextCursor(); cursor == "" {
			break
		}
	}
	assert.Equal(t, 3, pages)
	assert.ElementsMatch(t, []int{1, 2, 3, 4, 5, 6, 7}, ids)
}

func TestSearch_emptyItems(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	assert.Contains(t, send(t, s, "GET", "/api/v2/persons/search?term=nobody", nil).Raw,
		`"items":[]`)
	n := pipedrivetest.NewTestServer(t, pipedrivetest.WithNullEmptyData(true))
	assert.Contains(t, send(t, n, "GET", "/api/v2/persons/search?term=nobody", nil).Raw,
		`"items":null`)
}

func TestSearch_lag(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithClock(c.Now),
		pipedrivetest.WithSearchLag(5*time.Second))
	s.Seed(pipedrivetest.Person{Name: "Seeded", Emails: emails("seed@example.com")})
	find := func(term string) []int {
		r := send(t, s, "GET", "/api/v2/persons/search?exact_match=true&fields=email&term="+
			url.QueryEscape(term), nil)
		require.Equal(t, 200, r.Status, r.Raw)
		return nilIfEmpty(searchIDs(t, r.items(t)))
	}
	assert.Equal(t, []int{1}, find("seed@example.com"), "seeded persons are indexed at once")

	r := send(t, s, "POST", "/api/v2/persons", map[string]any{
		"name": "Dana", "emails": []map[string]any{{"value": "dana@example.com"}},
	})
	require.Equal(t, 200, r.Status)
	assert.Nil(t, find("dana@example.com"), "a fresh create is not searchable yet")
	assert.Equal(t, 200, send(t, s, "GET", "/api/v2/persons/2", nil).Status,
		"get sees it at once")
	c.Advance(4 * time.Second)
	assert.Nil(t, find("dana@example.com"))
	c.Advance(time.Second)
	assert.Equal(t, []int{2}, find("dana@example.com"))

	send(t, s, "PATCH", "/api/v2/persons/2", map[string]any{
		"emails": []map[string]any{{"value": "dana.new@example.com"}},
	})
	assert.Equal(t, []int{2}, find("dana@example.com"), "search shows the old email")
	assert.Nil(t, find("dana.new@example.com"))
	c.Advance(5 * time.Second)
	assert.Nil(t, find("dana@example.com"))
	assert.Equal(t, []int{2}, find("dana.new@example.com"))

	send(t, s, "DELETE", "/api/v2/persons/2", nil)
	assert.Equal(t, []int{2}, find("dana.new@example.com"), "deleted but still indexed")
	c.Advance(5 * time.Second)
	assert.Nil(t, find("dana.new@example.com"))
}
