package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/memory"
)

// createWrite is an OpCreate of a contact with the given email.
func createWrite(email, firstname string) sync.Write {
	return sync.Write{Op: sync.OpCreate, Key: email, Item: sync.Item{
		"properties": map[string]any{"email": email, "firstname": firstname},
	}}
}

// writeAll sends writes in batches of MaxBatch, as the orchestrators do.
func writeAll(t *testing.T, dst *Contacts, writes []sync.Write) []sync.WriteResult {
	t.Helper()
	var out []sync.WriteResult
	for batch := range slices.Chunk(writes, dst.MaxBatch()) {
		res, err := dst.Write(t.Context(), batch)
		require.NoError(t, err)
		require.Len(t, res, len(batch))
		out = append(out, res...)
	}
	return out
}

func TestContacts_Write_250CreatesInThreeBatchCalls(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	src := memory.New()
	for i := range 250 {
		src.Put(sync.Item{"email": fmt.Sprintf("New%d@Example.com", i), "name": "N"})
	}

	report, err := sync.OneWay(t.Context(), src, dst, sync.Options{
		SourceKey: "email", TargetKey: "properties.email", Normalize: sync.NormalizeEmail,
		Map: func(p sync.Item) (sync.Item, error) {
			return sync.Item{"properties": map[string]any{
				"email": p["email"], "firstname": p["name"]}}, nil
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 250, report.Count(sync.Created), "report: %v", report)
	assert.Equal(t, 3, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
	assert.Zero(t, s.Count(http.MethodPost, contactsPath("/batch/create")))
	assert.Len(t, s.Contacts(), 250)

	// A second run finds every contact and creates nothing.
	again, err := sync.OneWay(t.Context(), src, dst, sync.Options{
		SourceKey: "email", TargetKey: "properties.email", Normalize: sync.NormalizeEmail,
		Map: func(p sync.Item) (sync.Item, error) {
			return sync.Item{"properties": map[string]any{"email": p["email"]}}, nil
		},
	})
	require.NoError(t, err)
	assert.Zero(t, again.Count(sync.Created))
	assert.Equal(t, 3, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
}

func TestContacts_Write_resultsInListingShape(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			dst := NewContacts(newClient(t, s), ContactsOptions{
				Properties: []string{"firstname"}, Legacy: legacy,
			})
			res := writeAll(t, dst, []sync.Write{{Op: sync.OpCreate, Item: sync.Item{
				"properties": map[string]any{"email": "Dana@Example.com", "firstname": "Dana",
					"phone": "+49 1"},
			}}})
			require.NoError(t, res[0].Err)
			got := res[0].Item

			var listed sync.Item
			for item, err := range dst.List(t.Context()) {
				require.NoError(t, err)
				listed = item
			}
			assert.Equal(t, dst.RecordID(listed), dst.RecordID(got))
			gotProps := got["properties"].(map[string]any)
			listedProps := listed["properties"].(map[string]any)
			assert.Equal(t, sortedKeys(listedProps), sortedKeys(gotProps),
				"a write result carries the listed properties")
			assert.Equal(t, listedProps["email"], gotProps["email"])
			ga, _ := dst.ModifiedAt(got)
			la, _ := dst.ModifiedAt(listed)
			assert.True(t, ga.Equal(la))
		})
	}
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestContacts_Write_oneInvalidEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		bad       string
		wholeFail bool
	}{
		{"caught before sending", "dana@", false},
		{"refused by HubSpot per input", "", false},
		{"refused by HubSpot for the whole batch", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			base := s.URL
			if tt.wholeFail {
				base = newProxy(t, s, func(_ http.ResponseWriter, _ *http.Request, body []byte,
					forward func([]byte)) {
					forward(stripTraceIDs(t, body))
				})
			}
			c, err := NewClient(s.Token, fastOptions(base)...)
			require.NoError(t, err)
			dst := NewContacts(c, ContactsOptions{})

			writes := make([]sync.Write, 100)
			for i := range writes {
				writes[i] = createWrite(fmt.Sprintf("ok%d@example.com", i), "OK")
			}
			if tt.bad != "" {
				writes[42] = createWrite(tt.bad, "Bad")
			} else {
				// Valid to the client, refused by HubSpot's enumeration check.
				writes[42].Item["properties"].(map[string]any)["lifecyclestage"] = "bogus"
			}
			res := writeAll(t, dst, writes)

			for i, r := range res {
				if i == 42 {
					assert.ErrorIs(t, r.Err, sync.ErrInvalid)
					assert.Nil(t, r.Item)
					continue
				}
				require.NoError(t, r.Err, "write %d", i)
				assert.NotEmpty(t, dst.RecordID(r.Item))
			}
			assert.Len(t, s.Contacts(), 99)
			if !tt.wholeFail {
				assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
			}
		})
	}
}

func TestContacts_Write_conflictBecomesUpdate(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := s.SeedProperties(map[string]string{
		"email": "dana@example.com", "hs_additional_emails": "dana@old.example", "firstname": "D",
	})
	// HubSpot's upsert matches primary emails only; a new contact with an
	// address another contact holds as a secondary one is refused with 409
	// (the fake does not model secondary addresses, so a proxy does).
	base := newProxy(t, s, func(w http.ResponseWriter, r *http.Request, body []byte,
		forward func([]byte)) {
		if r.URL.Path == contactsPath("/batch/upsert") &&
			bytes.Contains(body, []byte("dana@old.example")) {
			writeJSON(w, http.StatusConflict, map[string]any{
				"status": "error", "category": "CONFLICT",
				"message": "Contact already exists. Existing ID: " + ids[0],
			})
			return
		}
		forward(body)
	})
	c, err := NewClient(s.Token, fastOptions(base)...)
	require.NoError(t, err)
	dst := NewContacts(c, ContactsOptions{})

	res := writeAll(t, dst, []sync.Write{
		createWrite("a@example.com", "A"),
		createWrite("Dana@Old.example", "Dana"),
		createWrite("b@example.com", "B"),
	})
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	assert.Equal(t, ids[0], dst.RecordID(res[1].Item), "the write updated the existing contact")
	assert.True(t, res[1].Existed, "the 409 turned the create into an update")
	assert.False(t, res[0].Existed)
	assert.False(t, res[2].Existed)
	stored := s.Contacts()
	require.Len(t, stored, 3)
	assert.Equal(t, "Dana", stored[0].Properties["firstname"])
	assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/update")))
}

func TestContacts_Write_updates(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			seedN(s, 3)
			dst := NewContacts(newClient(t, s), ContactsOptions{Legacy: legacy})
			var targets []sync.Item
			for item, err := range dst.List(t.Context()) {
				require.NoError(t, err)
				targets = append(targets, item)
			}
			require.NoError(t, newClient(t, s).Archive(t.Context(), dst.RecordID(targets[2])))

			item := sync.Item{"properties": map[string]any{"lastname": "Updated"}}
			if legacy {
				item = sync.Item{"properties": []any{
					map[string]any{"property": "lastname", "value": "Updated"}}}
			}
			res := writeAll(t, dst, []sync.Write{
				{Op: sync.OpUpdate, Item: item, Target: targets[0]},
				{Op: sync.OpUpdate, Item: item, Target: sync.Item{"properties": map[string]any{}}},
				{Op: sync.OpUpdate, Item: item, Target: targets[2]},
				{Op: "merge", Item: item},
			})
			require.NoError(t, res[0].Err)
			assert.Equal(t, dst.RecordID(targets[0]), dst.RecordID(res[0].Item))
			assert.ErrorIs(t, res[1].Err, sync.ErrInvalid, "a target without an id")
			assert.ErrorIs(t, res[2].Err, sync.ErrNotFound, "an archived target")
			assert.ErrorIs(t, res[3].Err, sync.ErrInvalid, "an unknown op")
			assert.Equal(t, "Updated", s.Contacts()[0].Properties["lastname"])
			assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/update")))
		})
	}
}

func TestContacts_Write_createWithoutEmail(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	dst := NewContacts(newClient(t, s), ContactsOptions{})

	res := writeAll(t, dst, []sync.Write{
		{Op: sync.OpCreate, Item: sync.Item{"properties": map[string]any{"firstname": "Solo"}}},
		{Op: sync.OpCreate, Item: sync.Item{"properties": map[string]any{"company": "No name"}}},
		createWrite("x@example.com", "X"),
	})
	require.NoError(t, res[0].Err)
	assert.ErrorIs(t, res[1].Err, sync.ErrInvalid, "HubSpot needs email, firstname or lastname")
	require.NoError(t, res[2].Err)
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/batch/create")),
		"one create without an email per request")
	assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
	assert.Len(t, s.Contacts(), 2)
}

func TestContacts_Write_fatalError(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	s.SetTokenExpired(true)

	res, err := dst.Write(t.Context(), []sync.Write{createWrite("a@example.com", "A")})
	assert.ErrorIs(t, err, sync.ErrUnauthorized)
	require.Len(t, res, 1)
	assert.ErrorIs(t, res[0].Err, sync.ErrUnauthorized)
}

func TestContacts_Delete(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	seedN(s, 3)
	c := newClient(t, s)
	dst := NewContacts(c, ContactsOptions{Legacy: true})
	var items []sync.Item
	for item, err := range dst.List(t.Context()) {
		require.NoError(t, err)
		items = append(items, item)
	}
	require.NoError(t, c.Archive(t.Context(), dst.RecordID(items[1])))

	res, err := dst.Delete(t.Context(), append(items, sync.Item{"properties": map[string]any{}}))
	require.NoError(t, err)
	require.Len(t, res, 4)
	for _, r := range res[:3] {
		assert.NoError(t, r.Err, "deleting a contact that is already gone succeeds")
	}
	assert.ErrorIs(t, res[3].Err, sync.ErrInvalid)
	for _, stored := range s.Contacts() {
		assert.True(t, stored.Archived)
	}
}

func TestContacts_SearchKey(t *testing.T) {
	t.Parallel()
	s := newFake(t, hubspottest.WithSearchLag(time.Hour))
	ids := seedN(s, 3) // seeded contacts are already indexed
	dst := NewContacts(newClient(t, s), ContactsOptions{Legacy: true})

	got, err := dst.SearchKey(t.Context(), " C1@EXAMPLE.COM ")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ids[1], dst.RecordID(got[0]))
	v, _ := sync.Lookup(got[0], "identity-profiles[0].identities[0].value")
	assert.Equal(t, "c1@example.com", v)

	writeAll(t, dst, []sync.Write{createWrite("fresh@example.com", "F")})
	got, err = dst.SearchKey(t.Context(), "fresh@example.com")
	require.NoError(t, err)
	assert.Empty(t, got, "the search index lags writes")

	got, err = dst.SearchKey(t.Context(), "  ")
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestContacts_List_legacyShapeForN8nKeyPaths(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	s.SeedProperties(map[string]string{
		"email": "dana@example.com", "firstname": "Dana",
		"hs_additional_emails": "dana@old.example",
	})
	dst := NewContacts(newClient(t, s), ContactsOptions{
		Legacy: true, Properties: []string{"firstname", "hs_additional_emails"},
	})
	var items []sync.Item
	for item, err := range dst.List(t.Context()) {
		require.NoError(t, err)
		items = append(items, item)
	}
	require.Len(t, items, 1)

	tests := []struct {
		path string
		want any
	}{
		{"identity-profiles[0].identities[0].value", "dana@example.com"},
		{"identity-profiles[0].identities[0].type", "EMAIL"},
		{"identity-profiles[0].identities[1].value", "dana@old.example"},
		{"properties.firstname.value", "Dana"},
		{"properties.email.value", "dana@example.com"},
		{"is-contact", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			got, ok := sync.Lookup(items[0], tt.path)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	vid, ok := sync.Lookup(items[0], "vid")
	require.True(t, ok)
	assert.Equal(t, dst.RecordID(items[0]), fmt.Sprint(vid))
	ms, ok := sync.Lookup(items[0], "properties.lastmodifieddate.value")
	require.True(t, ok)
	at, ok := dst.ModifiedAt(items[0])
	require.True(t, ok)
	assert.Equal(t, fmt.Sprint(at.UnixMilli()), ms)
}

func TestContacts_ListModifiedSince(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		n        int
		sameTime int // contacts per timestamp
		since    int // index of the first contact modified at or after since
	}{
		{"no restart needed", 150, 1, 20},
		{"restart near the ceiling", 1000, 1, 0},
		{"restart with equal timestamps across the boundary", 1000, 7, 70},
		{"more contacts at one timestamp than the ceiling", 700, 700, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			contacts := make([]hubspottest.Contact, tt.n)
			for i := range contacts {
				at := base.Add(time.Duration(i/tt.sameTime) * time.Minute)
				contacts[i] = hubspottest.Contact{
					Properties: map[string]string{"email": fmt.Sprintf("m%d@example.com", i)},
					CreatedAt:  at, UpdatedAt: at,
				}
			}
			// Seed in reverse so that id order differs from time order.
			slices.Reverse(contacts)
			ids := s.Seed(contacts...)
			slices.Reverse(ids)
			c := newClient(t, s)
			c.searchCeiling = 300
			dst := NewContacts(c, ContactsOptions{})
			since := base.Add(time.Duration(tt.since/tt.sameTime) * time.Minute)

			var got []string
			var last time.Time
			for item, err := range dst.ListModifiedSince(t.Context(), since) {
				require.NoError(t, err)
				got = append(got, dst.RecordID(item))
				at, ok := dst.ModifiedAt(item)
				require.True(t, ok)
				assert.False(t, at.Before(since))
				if tt.sameTime < tt.n {
					assert.False(t, at.Before(last), "oldest change first")
				}
				last = at
			}
			want := slices.Clone(ids[tt.since:])
			slices.Sort(want)
			slices.Sort(got)
			assert.Equal(t, want, got, "every contact modified since, each once")
			for _, r := range s.Requests() {
				assert.Less(t, r.Status, 300, "%s %s", r.Method, r.Path)
			}
		})
	}
}

func TestContacts_Identifier(t *testing.T) {
	t.Parallel()
	dst := NewContacts(nil, ContactsOptions{})
	at := time.Date(2026, 11, 3, 10, 0, 0, 456e6, time.UTC)
	tests := []struct {
		name string
		item sync.Item
		id   string
		ok   bool
	}{
		{"API shape", sync.Item{"id": "5101", "updatedAt": "2026-11-03T10:00:00.456Z"}, "5101",
			true},
		{"API shape, property only", sync.Item{"id": "5101", "properties": map[string]any{
			"lastmodifieddate": "2026-11-03T10:00:00.456Z"}}, "5101", true},
		{"legacy shape", sync.Item{"vid": int64(5101), "properties": map[string]any{
			"lastmodifieddate": map[string]any{"value": "1793700000456"}}}, "5101", true},
		{"legacy decoded from JSON", sync.Item{"vid": float64(5101), "properties": map[string]any{
			"lastmodifieddate": map[string]any{"value": "1793700000456"}}}, "5101", true},
		{"legacy vid as json.Number", sync.Item{"vid": json.Number("5101"),
			"updatedAt": "2026-11-03T10:00:00.456Z"}, "5101", true},
		{"legacy vid as int32", sync.Item{"vid": int32(5101),
			"updatedAt": "2026-11-03T10:00:00.456Z"}, "5101", true},
		{"legacy vid as uint64", sync.Item{"vid": uint64(5101),
			"updatedAt": "2026-11-03T10:00:00.456Z"}, "5101", true},
		{"legacy vid as int16", sync.Item{"vid": int16(5101),
			"updatedAt": "2026-11-03T10:00:00.456Z"}, "5101", true},
		{"id as a number", sync.Item{"id": 5101, "updatedAt": "2026-11-03T10:00:00.456Z"},
			"5101", true},
		{"a big id beyond float64 precision", sync.Item{"vid": json.Number("9007199254740993"),
			"updatedAt": "2026-11-03T10:00:00.456Z"}, "9007199254740993", true},
		{"a fraction is no id", sync.Item{"vid": 5101.5}, "", false},
		{"nothing", sync.Item{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.id, dst.RecordID(tt.item))
			got, ok := dst.ModifiedAt(tt.item)
			assert.Equal(t, tt.ok, ok)
			if tt.ok {
				assert.True(t, at.Equal(got), "got %v", got)
			}
		})
	}
}

// TestContacts_syncStaysInsideTheRateWindow runs a 1,500-contact sync with
// the limits scaled down from 100 per 10 s to 10 per second, so that the
// sync makes far more requests than one window allows. It runs in a
// synctest bubble with the fake served in memory: time is simulated (the
// test takes no real seconds) and requests arrive exactly when the client
// sends them, so the client may use the fake's very limit with retries off
// and the window check is exact.
func TestContacts_syncStaysInsideTheRateWindow(t *testing.T) {
	t.Parallel()
	const limit, window = 10, time.Second
	s := hubspottest.NewTestServer(t, hubspottest.WithRateLimit(limit, window),
		hubspottest.WithSearchRateLimit(0, 0), hubspottest.WithShuffledBatchResults())
	synctest.Test(t, func(t *testing.T) {
		seedN(s, 1000) // c0…c999 exist and get updated; c1000…c1499 are created
		c := newMemClient(t, s, WithRateLimit(limit, window), WithRetry(0, 0, 0))
		dst := NewContacts(c, ContactsOptions{})
		src := memory.New()
		for i := range 1500 {
			src.Put(sync.Item{"email": fmt.Sprintf("c%d@example.com", i), "last": "Synced"})
		}

		report, err := sync.OneWay(t.Context(), src, dst, sync.Options{
			SourceKey: "email", TargetKey: "properties.email", Normalize: sync.NormalizeEmail,
			Upsert: true,
			Map: func(p sync.Item) (sync.Item, error) {
				return sync.Item{"properties": map[string]any{
					"email": p["email"], "lastname": p["last"]}}, nil
			},
		})
		require.NoError(t, err)
		assert.Equal(t, 500, report.Count(sync.Created))
		assert.Equal(t, 1000, report.Count(sync.Updated))
		reqs := s.Requests()
		assert.Greater(t, len(reqs), 2*limit, "the sync must span several windows")
		for _, r := range reqs {
			assert.NotEqual(t, http.StatusTooManyRequests, r.Status)
		}
		assert.LessOrEqual(t, s.MaxRequestsInWindow(window), limit)
	})
}

func TestContacts_Write_createRetriedAfterDroppedResponseIsNotDuplicated(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	s.DropAfterCommitNext(1) // HubSpot commits, then the connection drops

	res := writeAll(t, dst, []sync.Write{createWrite("dana@example.com", "Dana")})
	require.NoError(t, res[0].Err)
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/batch/upsert")),
		"the upsert was sent again")
	assert.Len(t, s.Contacts(), 1, "and did not create a second contact")
	assert.Equal(t, s.Contacts()[0].ID, dst.RecordID(res[0].Item))
}

func TestContacts_defaultPropertiesKeepSyncsIdempotent(t *testing.T) {
	t.Parallel()
	// A mapping that writes common contact properties, to a connector built
	// without options: every written property must be listed, or the
	// second run sees it as changed and updates the contact again.
	s := newFake(t)
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	src := memory.New()
	src.Put(sync.Item{"email": "dana@example.com", "first": "Dana", "last": "Example",
		"phone": "+49 30 1234567", "org": "ACME", "web": "https://acme.example",
		"title": "CTO", "alt": "dana@old.example"})
	opts := sync.Options{
		SourceKey: "email", TargetKey: "properties.email", Normalize: sync.NormalizeEmail,
		Upsert: true,
		Map: func(p sync.Item) (sync.Item, error) {
			return sync.Item{"properties": map[string]any{
				"email": p["email"], "firstname": p["first"], "lastname": p["last"],
				"phone": p["phone"], "company": p["org"], "website": p["web"],
				"jobtitle": p["title"], "lifecyclestage": "lead", "hs_additional_emails": p["alt"],
			}}, nil
		},
	}

	first, err := sync.OneWay(t.Context(), src, dst, opts)
	require.NoError(t, err)
	require.Equal(t, 1, first.Count(sync.Created), "report: %v", first)
	second, err := sync.OneWay(t.Context(), src, dst, opts)
	require.NoError(t, err)
	assert.Zero(t, second.Count(sync.Updated), "nothing changed: report %v", second)
	assert.Equal(t, 1, second.Count(sync.Unchanged))
	assert.Zero(t, s.Count(http.MethodPost, contactsPath("/batch/update")))
}

func TestNewContacts_properties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		props []string
		want  []string
	}{
		{"nil lists the defaults", nil, DefaultProperties()},
		{"email is added", []string{"firstname"}, []string{"firstname", "email"}},
		{"given as is", []string{"email", "phone"}, []string{"email", "phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			s.SeedProperties(map[string]string{"email": "a@example.com"})
			dst := NewContacts(newClient(t, s), ContactsOptions{Properties: tt.props})
			for _, err := range dst.List(t.Context()) {
				require.NoError(t, err)
			}
			reqs := s.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, strings.Join(tt.want, ","), reqs[0].Query.Get("properties"))
		})
	}
	d := DefaultProperties()
	d[0] = "changed"
	assert.Equal(t, "email", DefaultProperties()[0], "each call returns a new slice")
}

func TestContacts_Write_warnsOnceAboutUnlistedProperties(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	logger, logs := debugLogger()
	dst := NewContacts(newClient(t, s, WithLogger(logger)),
		ContactsOptions{Properties: []string{"firstname"}})

	for i := range 3 {
		writeAll(t, dst, []sync.Write{{Op: sync.OpCreate, Item: sync.Item{
			"properties": map[string]any{"email": fmt.Sprintf("w%d@example.com", i),
				"firstname": "W", "phone": "1", "company": "C", "createdate": "x"},
		}}})
	}
	var warns []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") {
			warns = append(warns, line)
		}
	}
	require.Len(t, warns, 2, "one Warn per unlisted property, however often written: %v", warns)
	assert.Contains(t, warns[0], "property=company")
	assert.Contains(t, warns[1], "property=phone")
	assert.Contains(t, warns[0], "ContactsOptions.Properties")
}

func TestContacts_Write_createsWithoutEmailGetTheirOwnResults(t *testing.T) {
	t.Parallel()
	s := newFake(t) // answers batch calls in shuffled order
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	var writes []sync.Write
	for i := range 6 {
		writes = append(writes, sync.Write{Op: sync.OpCreate, Item: sync.Item{
			"properties": map[string]any{"firstname": fmt.Sprint("NoEmail", i)}}})
	}
	writes = append(writes, createWrite("x@example.com", "X"))

	res := writeAll(t, dst, writes)
	stored := map[string]string{}
	for _, c := range s.Contacts() {
		stored[c.ID] = c.Properties["firstname"]
	}
	for i, r := range res {
		require.NoError(t, r.Err)
		want := writes[i].Item["properties"].(map[string]any)["firstname"]
		assert.Equal(t, want, stored[dst.RecordID(r.Item)], "write %d got its own contact", i)
		assert.Equal(t, want, r.Item["properties"].(map[string]any)["firstname"])
	}
}

func TestContacts_Write_existed(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 2) // c0@example.com, c1@example.com
	dst := NewContacts(newClient(t, s), ContactsOptions{})
	var targets []sync.Item
	for item, err := range dst.List(t.Context()) {
		require.NoError(t, err)
		targets = append(targets, item)
	}

	res := writeAll(t, dst, []sync.Write{
		createWrite("new@example.com", "New"),
		createWrite("C0@Example.com", "Again"),
		{Op: sync.OpCreate, Item: sync.Item{"properties": map[string]any{"firstname": "Solo"}}},
		{Op: sync.OpUpdate, Item: sync.Item{"properties": map[string]any{"lastname": "U"}},
			Target: targets[1]},
	})
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	assert.False(t, res[0].Existed, "a new contact")
	assert.True(t, res[1].Existed, "the upsert found the contact")
	assert.Equal(t, ids[0], dst.RecordID(res[1].Item))
	assert.False(t, res[2].Existed, "a create without an email")
	assert.False(t, res[3].Existed, "an update")
}
