package hubspottest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestServer_routesAllVersionsToSameData(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.SeedProperties(map[string]string{"email": "dana@example.com"})
	for _, prefix := range []string{
		"/crm/objects/2026-09/contacts", "/crm/objects/2026-03/contacts",
		"/crm/v3/objects/contacts", "/crm/v3/objects/0-1", "/crm/objects/2026-09/0-1",
	} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, "GET", prefix+"/"+ids[0], nil)
			require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
			assert.Equal(t, "dana@example.com", props(t, r.Body)["email"])
		})
	}
	r := call(t, s, "GET", "/crm/objects/2026-09/deals", nil)
	assert.Equal(t, http.StatusNotFound, r.Status)
}

func TestServer_authentication(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, hubspottest.WithToken("pat-na1-secret"))
	tests := []struct {
		name     string
		token    string
		path     string
		status   int
		category string
	}{
		{"valid bearer", "pat-na1-secret", contactsPath, 200, ""},
		{"missing token", "", contactsPath, 401, "INVALID_AUTHENTICATION"},
		{"wrong token", "pat-na1-other", contactsPath, 401, "INVALID_AUTHENTICATION"},
		{"hapikey alone", "", contactsPath + "?hapikey=pat-na1-secret", 401,
			"INVALID_AUTHENTICATION"},
		{"hapikey with bearer", "pat-na1-secret", contactsPath + "?hapikey=x", 401,
			"INVALID_AUTHENTICATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := callToken(t, s, tt.token, "GET", tt.path, nil)
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.category == "" {
				return
			}
			assert.Equal(t, "error", r.Body["status"])
			assert.Equal(t, tt.category, r.Body["category"])
			assert.Len(t, r.Body["correlationId"], 36)
			assert.NotContains(t, string(r.Raw), "pat-na1-secret")
		})
	}
	r := callToken(t, s, "", "GET", contactsPath, nil)
	assert.True(t, strings.HasPrefix(r.Body["message"].(string),
		"Authentication credentials not found."))
}

func TestServer_createSetsServerProperties(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now))
	r := call(t, s, "POST", contactsPath, map[string]any{"properties": map[string]any{
		"email": "  Dana@Example.COM ", "firstname": "Dana", "phone": 5551234,
		"hs_language": true,
	}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
	p := props(t, r.Body)
	id := r.Body["id"].(string)
	assert.Equal(t, "101", id)
	assert.Equal(t, "dana@example.com", p["email"])
	assert.Equal(t, "5551234", p["phone"])
	assert.Equal(t, "true", p["hs_language"])
	assert.Equal(t, id, p["hs_object_id"])
	assert.Equal(t, "2026-11-02T09:15:00.123Z", p["createdate"])
	assert.Equal(t, "2026-11-02T09:15:00.123Z", p["lastmodifieddate"])
	assert.Equal(t, "2026-11-02T09:15:00.123Z", r.Body["createdAt"])
	assert.Equal(t, "2026-11-02T09:15:00.123Z", r.Body["updatedAt"])
	assert.Equal(t, false, r.Body["archived"])

	clock.Advance(time.Minute)
	r = call(t, s, "PATCH", contactsPath+"/"+id, map[string]any{
		"properties": map[string]any{"lastname": "Example", "firstname": ""},
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	p = props(t, r.Body)
	assert.Equal(t, "2026-11-02T09:16:00.123Z", p["lastmodifieddate"])
	assert.Equal(t, "2026-11-02T09:16:00.123Z", r.Body["updatedAt"])
	assert.Equal(t, "2026-11-02T09:15:00.123Z", r.Body["createdAt"])
	assert.NotContains(t, p, "firstname", "empty string clears")
	assert.Equal(t, "Example", p["lastname"])

	second := call(t, s, "POST", contactsPath, contact("lee@example.com", ""))
	require.Equal(t, http.StatusCreated, second.Status)
	assert.Equal(t, "151", second.Body["id"], "ids ascend with gaps")
}

func TestServer_createValidation(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, hubspottest.WithProperties("favourite_colour"))
	existing := s.SeedProperties(map[string]string{"email": "taken@example.com"})[0]
	tests := []struct {
		name     string
		props    map[string]any
		status   int
		category string
		message  string
	}{
		{"invalid email", map[string]any{"email": "dana@"}, 400, "VALIDATION_ERROR",
			`Property values were not valid: [{"isValid":false,"message":"Email address ` +
				`dana@ is invalid","error":"INVALID_EMAIL","name":"email"}]`},
		{"unknown property", map[string]any{"email": "a@example.com", "shoe_size": "9"}, 400,
			"VALIDATION_ERROR", `Property values were not valid: [{"isValid":false,` +
				`"message":"Property \"shoe_size\" does not exist","error":` +
				`"PROPERTY_DOESNT_EXIST","name":"shoe_size"}]`},
		{"read-only property", map[string]any{"email": "b@example.com", "hs_object_id": "1"},
			400, "VALIDATION_ERROR", ""},
		{"bad enumeration", map[string]any{"email": "c@example.com",
			"lifecyclestage": "Lead"}, 400, "VALIDATION_ERROR", ""},
		{"object value", map[string]any{"email": map[string]any{"x": 1}}, 400,
			"VALIDATION_ERROR", ""},
		{"no identifying property", map[string]any{"phone": "555"}, 400,
			"VALIDATION_ERROR", ""},
		{"duplicate email any case", map[string]any{"email": "TAKEN@example.com"}, 409,
			"CONFLICT", "Contact already exists. Existing ID: " + existing},
		{"custom property", map[string]any{"email": "d@example.com",
			"favourite_colour": "teal"}, 201, "", ""},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := call(t, s, "POST", contactsPath, map[string]any{"properties": tt.props})
				require.Equal(t, tt.status, r.Status, string(r.Raw))
				if tt.category != "" {
					assert.Equal(t, tt.category, r.Body["category"])
					assert.Equal(t, "error", r.Body["status"])
					assert.NotEmpty(t, r.Body["correlationId"])
				}
				if tt.message != "" {
					assert.Equal(t, tt.message, r.Body["message"])
				}
			})
		}
	})
	r := call(t, s, "POST", contactsPath, map[string]any{
		"properties": map[string]any{"email": "dana@"}})
	errs, ok := r.Body["errors"].([]any)
	require.True(t, ok)
	assert.Equal(t, "INVALID_EMAIL", field(errs[0], "code"))
	assert.Len(t, s.Contacts(), 2, "only the valid creates were stored")
}

func TestServer_get(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.Seed(
		hubspottest.Contact{Properties: map[string]string{
			"email": "dana@example.com", "firstname": "Dana", "phone": "555"}},
		hubspottest.Contact{Properties: map[string]string{"email": "gone@example.com"},
			Archived: true},
	)
	tests := []struct {
		name   string
		path   string
		status int
		check  func(t *testing.T, p map[string]any)
	}{
		{"default properties", "/" + ids[0], 200, func(t *testing.T, p map[string]any) {
			assert.Equal(t, []string{"createdate", "email", "firstname", "hs_object_id",
				"lastmodifieddate", "lastname"}, keys(p))
			assert.Nil(t, p["lastname"])
		}},
		{"projection", "/" + ids[0] + "?properties=phone,nosuch&properties=city", 200,
			func(t *testing.T, p map[string]any) {
				assert.Equal(t, []string{"city", "createdate", "hs_object_id",
					"lastmodifieddate", "phone"}, keys(p))
				assert.Equal(t, "555", p["phone"])
				assert.Nil(t, p["city"])
			}},
		{"by raw email", "/Dana@example.com?idProperty=email", 200, nil},
		{"by percent-encoded at", "/dana%40example.com?idProperty=email", 200, nil},
		{"unknown id", "/999999", 404, nil},
		{"non-numeric id", "/abc", 404, nil},
		{"archived id", "/" + ids[1], 404, nil},
		{"archived id with archived=true", "/" + ids[1] + "?archived=true", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, "GET", contactsPath+tt.path, nil)
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.status == 404 {
				assert.Equal(t, "OBJECT_NOT_FOUND", r.Body["category"])
			}
			if tt.check != nil {
				tt.check(t, props(t, r.Body))
			}
		})
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestServer_update(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.SeedProperties(
		map[string]string{"email": "dana@example.com", "firstname": "Dana"},
		map[string]string{"email": "lee@example.com"},
	)
	tests := []struct {
		name   string
		path   string
		props  map[string]any
		status int
		want   string
	}{
		{"by id", "/" + ids[0], map[string]any{"jobtitle": "CTO"}, 200, ""},
		{"by email", "/LEE@example.com?idProperty=email", map[string]any{"city": "Oslo"},
			200, ""},
		{"email taken", "/" + ids[0], map[string]any{"email": "Lee@Example.com"}, 409,
			"Contact already exists. Existing ID: " + ids[1]},
		{"invalid email", "/" + ids[0], map[string]any{"email": "nope"}, 400, ""},
		{"unknown id", "/424242", map[string]any{"city": "Oslo"}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "PATCH", contactsPath+tt.path,
				map[string]any{"properties": tt.props})
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.want != "" {
				assert.Equal(t, tt.want, r.Body["message"])
			}
		})
	}
	got := s.Contacts()
	assert.Equal(t, "CTO", got[0].Properties["jobtitle"])
	assert.Equal(t, "dana@example.com", got[0].Properties["email"])
	assert.Equal(t, "Oslo", got[1].Properties["city"])

	// Moving an email frees the old address.
	r := call(t, s, "PATCH", contactsPath+"/"+ids[0], map[string]any{
		"properties": map[string]any{"email": "dana2@example.com"}})
	require.Equal(t, http.StatusOK, r.Status)
	r = call(t, s, "POST", contactsPath, contact("dana@example.com", ""))
	assert.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
}

func TestServer_archive(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now))
	ids := s.SeedProperties(
		map[string]string{"email": "dana@example.com"},
		map[string]string{"email": "lee@example.com"},
	)
	clock.Advance(time.Second)
	r := call(t, s, "DELETE", contactsPath+"/"+ids[0], nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	assert.Empty(t, r.Raw)
	for _, path := range []string{"/" + ids[0], "/424242"} {
		r = call(t, s, "DELETE", contactsPath+path, nil)
		assert.Equal(t, http.StatusNoContent, r.Status, "repeat and unknown deletes are 204")
	}
	r = call(t, s, "GET", contactsPath+"/"+ids[0], nil)
	assert.Equal(t, http.StatusNotFound, r.Status)

	list := call(t, s, "GET", contactsPath, nil)
	require.Len(t, results(t, list), 1)
	assert.Equal(t, ids[1], field(results(t, list)[0], "id"))

	archived := call(t, s, "GET", contactsPath+"?archived=true", nil)
	require.Len(t, results(t, archived), 1)
	obj := results(t, archived)[0]
	assert.Equal(t, true, field(obj, "archived"))
	assert.Equal(t, "2026-11-02T09:15:01.123Z", field(obj, "archivedAt"))

	all := s.Contacts()
	require.Len(t, all, 2)
	assert.True(t, all[0].Archived)

	// The archived contact's address is free again.
	r = call(t, s, "POST", contactsPath, contact("dana@example.com", ""))
	assert.Equal(t, http.StatusCreated, r.Status)

	// GDPR delete removes a contact for good.
	r = call(t, s, "POST", contactsPath+"/gdpr-delete",
		map[string]any{"objectId": "lee@example.com", "idProperty": "email"})
	require.Equal(t, http.StatusNoContent, r.Status, string(r.Raw))
	assert.Len(t, s.Contacts(), 2)
}

func TestServer_list(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t, noLimits()...)
	var seed []map[string]string
	for i := range 25 {
		seed = append(seed, map[string]string{"email": fmt.Sprintf("p%02d@example.com", i)})
	}
	ids := s.SeedProperties(seed...)
	s.Seed(hubspottest.Contact{Properties: map[string]string{"firstname": "Gone"},
		Archived: true})

	tests := []struct {
		name   string
		query  string
		status int
		pages  []int
	}{
		{"default limit 10", "", 200, []int{10, 10, 5}},
		{"limit 100", "limit=100", 200, []int{25}},
		{"limit 25 has no paging", "limit=25", 200, []int{25}},
		{"limit 7", "limit=7", 200, []int{7, 7, 7, 4}},
		{"limit over 100", "limit=101", 400, nil},
		{"limit zero", "limit=0", 400, nil},
		{"bad cursor", "after=abc", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := contactsPath + "?" + tt.query
			var got []int
			var seen []string
			for path != "" {
				r := call(t, s, "GET", path, nil)
				require.Equal(t, tt.status, r.Status, string(r.Raw))
				if tt.status != 200 {
					return
				}
				res := results(t, r)
				got = append(got, len(res))
				for _, o := range res {
					seen = append(seen, field(o, "id").(string))
				}
				path = ""
				if pg, ok := r.Body["paging"]; ok {
					next := field(pg, "next")
					link := field(next, "link").(string)
					require.True(t, strings.HasPrefix(link, s.URL+contactsPath))
					path = strings.TrimPrefix(link, s.URL)
					assert.Contains(t, link, "after="+field(next, "after").(string))
				}
			}
			assert.Equal(t, tt.pages, got)
			assert.Equal(t, ids, seen, "every live contact once, ascending id")
		})
	}
}
