package hubspottest_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

// filter builds one search filter.
func filter(prop, op string, value any) map[string]any {
	f := map[string]any{"propertyName": prop, "operator": op}
	switch v := value.(type) {
	case nil:
	case []string:
		f["values"] = v
	case [2]string:
		f["value"], f["highValue"] = v[0], v[1]
	default:
		f["value"] = v
	}
	return f
}

// groups builds filterGroups: each argument is one group's filters.
func groups(gs ...[]map[string]any) []map[string]any {
	out := make([]map[string]any, len(gs))
	for i, g := range gs {
		out[i] = map[string]any{"filters": g}
	}
	return out
}

// searchEmails runs a search and returns the emails of the results in order.
func searchEmails(t *testing.T, s *hubspottest.Server, body map[string]any) (int, []string,
	response) {
	t.Helper()
	r := call(t, s, "POST", contactsPath+"/search", body)
	if r.Status != http.StatusOK {
		return r.Status, nil, r
	}
	var emails []string
	for _, o := range results(t, r) {
		e, _ := props(t, o)["email"].(string)
		emails = append(emails, e)
	}
	return r.Status, emails, r
}

func TestServer_searchOperators(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, append(noLimits(), hubspottest.WithClock(clock.Now))...)
	base := clock.Now()
	s.Seed(
		hubspottest.Contact{Properties: map[string]string{"email": "ann@example.com",
			"firstname": "Ann", "lifecyclestage": "lead", "company": "Acme Corp",
			"numemployees": "5"}, UpdatedAt: base.Add(-48 * time.Hour)},
		hubspottest.Contact{Properties: map[string]string{"email": "bob@example.org",
			"firstname": "Bob", "lifecyclestage": "customer", "numemployees": "50"},
			UpdatedAt: base.Add(-24 * time.Hour)},
		hubspottest.Contact{Properties: map[string]string{"email": "cy@example.com",
			"firstname": "Cy", "numemployees": "500"}, UpdatedAt: base},
		hubspottest.Contact{Properties: map[string]string{"email": "gone@example.com",
			"firstname": "Ann"}, Archived: true},
	)
	dayAgo := fmt.Sprint(base.Add(-24 * time.Hour).UnixMilli())
	tests := []struct {
		name    string
		filters []map[string]any
		want    []string
	}{
		{"EQ email ignores case", groups([]map[string]any{
			filter("email", "EQ", "ANN@Example.com")}), []string{"ann@example.com"}},
		{"EQ excludes archived", groups([]map[string]any{
			filter("firstname", "EQ", "ann")}), []string{"ann@example.com"}},
		{"NEQ includes missing", groups([]map[string]any{
			filter("lifecyclestage", "NEQ", "lead")}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"numeric GT", groups([]map[string]any{filter("numemployees", "GT", "10")}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"BETWEEN", groups([]map[string]any{
			filter("numemployees", "BETWEEN", [2]string{"5", "50"})}),
			[]string{"ann@example.com", "bob@example.org"}},
		{"IN lower-case", groups([]map[string]any{
			filter("firstname", "IN", []string{"bob", "cy"})}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"IN upper-case never matches", groups([]map[string]any{
			filter("firstname", "IN", []string{"Bob"})}), nil},
		{"NOT_IN", groups([]map[string]any{
			filter("lifecyclestage", "NOT_IN", []string{"lead"})}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"HAS_PROPERTY", groups([]map[string]any{
			filter("lifecyclestage", "HAS_PROPERTY", nil)}),
			[]string{"ann@example.com", "bob@example.org"}},
		{"NOT_HAS_PROPERTY", groups([]map[string]any{
			filter("company", "NOT_HAS_PROPERTY", nil)}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"CONTAINS_TOKEN word", groups([]map[string]any{
			filter("company", "CONTAINS_TOKEN", "corp")}), []string{"ann@example.com"}},
		{"CONTAINS_TOKEN wildcard", groups([]map[string]any{
			filter("email", "CONTAINS_TOKEN", "*@example.com")}),
			[]string{"ann@example.com", "cy@example.com"}},
		{"date GTE epoch ms", groups([]map[string]any{
			filter("lastmodifieddate", "GTE", dayAgo)}),
			[]string{"bob@example.org", "cy@example.com"}},
		{"date LT ISO", groups([]map[string]any{
			filter("lastmodifieddate", "LT", base.Add(-time.Hour).Format(time.RFC3339))}),
			[]string{"ann@example.com", "bob@example.org"}},
		{"groups OR, filters AND", groups(
			[]map[string]any{filter("firstname", "EQ", "ann"),
				filter("lifecyclestage", "EQ", "lead")},
			[]map[string]any{filter("firstname", "EQ", "cy")},
		), []string{"ann@example.com", "cy@example.com"}},
		{"AND excludes", groups([]map[string]any{filter("firstname", "EQ", "ann"),
			filter("lifecyclestage", "EQ", "customer")}), nil},
		{"no filters matches all live", nil,
			[]string{"ann@example.com", "bob@example.org", "cy@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, got, r := searchEmails(t, s, map[string]any{"filterGroups": tt.filters,
				"properties": []string{"email"}})
			require.Equal(t, http.StatusOK, status, string(r.Raw))
			assert.Equal(t, tt.want, got)
			assert.EqualValues(t, len(tt.want), r.Body["total"])
			assert.Empty(t, r.Header.Get("X-HubSpot-RateLimit-Max"),
				"search responses carry no rate-limit headers")
		})
	}
}

func TestServer_searchRequestValidation(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	many := func(n int) []map[string]any {
		fs := make([]map[string]any, n)
		for i := range fs {
			fs[i] = filter("firstname", "EQ", "x")
		}
		return fs
	}
	tests := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"limit 200", map[string]any{"limit": 200}, 200},
		{"limit 201", map[string]any{"limit": 201}, 400},
		{"after 9800 limit 200", map[string]any{"limit": 200, "after": "9800"}, 200},
		{"after beyond ceiling", map[string]any{"limit": 100, "after": "9950"}, 400},
		{"after as number", map[string]any{"after": 10}, 200},
		{"five groups", map[string]any{"filterGroups": groups(many(1), many(1), many(1),
			many(1), many(1))}, 200},
		{"six groups", map[string]any{"filterGroups": groups(many(1), many(1), many(1),
			many(1), many(1), many(1))}, 400},
		{"seven filters in a group", map[string]any{"filterGroups": groups(many(7))}, 400},
		{"19 filters in total", map[string]any{"filterGroups": groups(many(6), many(6),
			many(6), many(1))}, 400},
		{"unknown operator", map[string]any{"filterGroups": groups([]map[string]any{
			filter("email", "LIKE", "x")})}, 400},
		{"unknown property", map[string]any{"filterGroups": groups([]map[string]any{
			filter("shoe_size", "EQ", "9")})}, 400},
		{"bad date", map[string]any{"filterGroups": groups([]map[string]any{
			filter("createdate", "GT", "yesterday")})}, 400},
		{"two sorts", map[string]any{"sorts": []map[string]any{
			{"propertyName": "email"}, {"propertyName": "firstname"}}}, 400},
		{"missing value", map[string]any{"filterGroups": groups([]map[string]any{
			filter("email", "EQ", nil)})}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, "POST", contactsPath+"/search", tt.body)
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.status == 400 {
				assert.Equal(t, "VALIDATION_ERROR", r.Body["category"])
			}
		})
	}
}

func TestServer_searchPagingAndSort(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	var seed []map[string]string
	for i := range 25 {
		seed = append(seed, map[string]string{"email": fmt.Sprintf("p%02d@example.com", i),
			"numemployees": fmt.Sprint(100 - i)})
	}
	s.SeedProperties(seed...)
	s.SeedProperties(map[string]string{"firstname": "No email"})

	var got []string
	after := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		body := map[string]any{"limit": 10, "properties": []string{"email"},
			"sorts": []map[string]any{{"propertyName": "numemployees",
				"direction": "ASCENDING"}},
			"filterGroups": groups([]map[string]any{filter("email", "HAS_PROPERTY", nil)})}
		if after != "" {
			body["after"] = after
		}
		status, emails, r := searchEmails(t, s, body)
		require.Equal(t, http.StatusOK, status, string(r.Raw))
		assert.EqualValues(t, 25, r.Body["total"])
		got = append(got, emails...)
		pg, ok := r.Body["paging"]
		if !ok {
			break
		}
		after = field(field(pg, "next"), "after").(string)
	}
	require.Len(t, got, 25)
	assert.Equal(t, "p24@example.com", got[0], "numeric ascending sort")
	assert.Equal(t, "p00@example.com", got[24])

	status, emails, _ := searchEmails(t, s, map[string]any{"limit": 3,
		"sorts": []map[string]any{{"propertyName": "email", "direction": "DESCENDING"}}})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, []string{"p24@example.com", "p23@example.com", "p22@example.com"}, emails)

	status, emails, _ = searchEmails(t, s, map[string]any{"query": "p07"})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, []string{"p07@example.com"}, emails)
}

func TestServer_searchCeiling(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	seed := make([]map[string]string, 10_050)
	for i := range seed {
		seed[i] = map[string]string{"email": fmt.Sprintf("c%05d@example.com", i)}
	}
	s.SeedProperties(seed...)
	r := call(t, s, "POST", contactsPath+"/search", map[string]any{"limit": 200,
		"after": "9800"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.EqualValues(t, 10_050, r.Body["total"])
	next := field(field(r.Body["paging"], "next"), "after")
	assert.Equal(t, "10000", next)
	r = call(t, s, "POST", contactsPath+"/search", map[string]any{"limit": 200,
		"after": next})
	assert.Equal(t, http.StatusBadRequest, r.Status)
}

func TestServer_searchLag(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, append(noLimits(), hubspottest.WithClock(clock.Now),
		hubspottest.WithSearchLag(5*time.Second))...)
	seeded := s.SeedProperties(map[string]string{"email": "old@example.com",
		"firstname": "Old"})
	byEmail := func(email string) map[string]any {
		return map[string]any{"properties": []string{"email", "firstname"},
			"filterGroups": groups([]map[string]any{filter("email", "EQ", email)})}
	}
	firstNames := func(email string) []any {
		r := call(t, s, "POST", contactsPath+"/search", byEmail(email))
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		var out []any
		for _, o := range results(t, r) {
			out = append(out, props(t, o)["firstname"])
		}
		return out
	}
	assert.Equal(t, []any{"Old"}, firstNames("old@example.com"), "seeds are indexed")

	r := call(t, s, "POST", contactsPath, contact("new@example.com", "New"))
	require.Equal(t, http.StatusCreated, r.Status)
	r = call(t, s, "PATCH", contactsPath+"/"+seeded[0],
		map[string]any{"properties": map[string]any{"firstname": "Renamed"}})
	require.Equal(t, http.StatusOK, r.Status)

	assert.Empty(t, firstNames("new@example.com"), "new contact not indexed yet")
	assert.Equal(t, []any{"Old"}, firstNames("old@example.com"), "old version still indexed")
	r = call(t, s, "POST", contactsPath, contact("new@example.com", ""))
	assert.Equal(t, http.StatusConflict, r.Status, "writes see the new contact at once")

	clock.Advance(4 * time.Second)
	assert.Empty(t, firstNames("new@example.com"))
	clock.Advance(time.Second)
	assert.Equal(t, []any{"New"}, firstNames("new@example.com"))
	assert.Equal(t, []any{"Renamed"}, firstNames("old@example.com"))

	r = call(t, s, "DELETE", contactsPath+"/"+seeded[0], nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	assert.Equal(t, []any{"Renamed"}, firstNames("old@example.com"),
		"archive not indexed yet")
	clock.Advance(5 * time.Second)
	assert.Empty(t, firstNames("old@example.com"))
}
