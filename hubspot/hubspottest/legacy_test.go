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

func TestServer_legacyAllContacts(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, append(noLimits(), hubspottest.WithClock(clock.Now))...)
	var seed []map[string]string
	for i := range 5 {
		seed = append(seed, map[string]string{"email": fmt.Sprintf("p%d@example.com", i),
			"firstname": fmt.Sprint("P", i)})
	}
	ids := s.SeedProperties(seed...)
	s.Seed(hubspottest.Contact{Properties: map[string]string{"firstname": "Gone"},
		Archived: true})

	var vids []any
	offset := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		path := "/contacts/v1/lists/all/contacts/all?count=2&property=email&property=firstname"
		if offset != "" {
			path += "&vidOffset=" + offset
		}
		r := call(t, s, "GET", path, nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
		for _, c := range r.Body["contacts"].([]any) {
			vids = append(vids, field(c, "vid"))
			p := field(c, "properties")
			assert.Contains(t, field(field(p, "email"), "value"), "@example.com")
			assert.NotContains(t, p, "lastname")
			ident := field(field(c, "identity-profiles").([]any)[0], "identities").([]any)
			require.Len(t, ident, 2)
			assert.Equal(t, "EMAIL", field(ident[0], "type"))
			assert.Equal(t, true, field(ident[0], "is-primary"))
			assert.Equal(t, "LEAD_GUID", field(ident[1], "type"))
			assert.EqualValues(t, clock.Now().UnixMilli(), field(c, "addedAt"))
		}
		if !r.Body["has-more"].(bool) {
			break
		}
		offset = fmt.Sprint(r.Body["vid-offset"])
	}
	var want []any
	for _, id := range ids {
		var n float64
		_, err := fmt.Sscan(id, &n)
		require.NoError(t, err)
		want = append(want, n)
	}
	assert.Equal(t, want, vids)
}

func TestServer_legacyProfile(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := hubspottest.NewTestServer(t, hubspottest.WithClock(clock.Now))
	ids := s.SeedProperties(map[string]string{"email": "dana@example.com", "firstname": "Dana"})
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"existing", "/contacts/v1/contact/vid/" + ids[0] + "/profile", 200},
		{"unknown", "/contacts/v1/contact/vid/999/profile", 404},
		{"bad count", "/contacts/v1/lists/all/contacts/all?count=101", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, s, "GET", tt.path, nil)
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.status != 200 {
				assert.Equal(t, "error", r.Body["status"])
				return
			}
			p := r.Body["properties"]
			assert.Equal(t, "Dana", field(field(p, "firstname"), "value"))
			assert.Equal(t, fmt.Sprint(clock.Now().Truncate(time.Millisecond).UnixMilli()),
				field(field(p, "lastmodifieddate"), "value"))
		})
	}
	r := callToken(t, s, "", "GET", "/contacts/v1/contact/vid/"+ids[0]+"/profile", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
}
