package hubspot

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
	"github.com/keysync/sync/hubspot/hubspottest"
)

func TestClient_Contacts_pagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		seeded   int
		pageSize int
		requests int
	}{
		{"empty", 0, 0, 1},
		{"one short page", 7, 0, 1},
		{"exactly one full page", 100, 0, 1},
		{"250 in pages of 100", 250, 0, 3},
		{"250 in pages of 30", 250, 30, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			ids := seedN(s, tt.seeded)
			c := newClient(t, s)

			got := []string{}
			for item, err := range c.Contacts(t.Context(), ListOptions{PageSize: tt.pageSize}) {
				require.NoError(t, err)
				got = append(got, item["id"].(string))
			}
			assert.Equal(t, ids, got)
			assert.Equal(t, tt.requests, s.Count(http.MethodGet, contactsPath("")))
		})
	}
}

func TestClient_Contacts_followsCursorAndStopsEarly(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	seedN(s, 250)
	c := newClient(t, s)

	n := 0
	for _, err := range c.Contacts(t.Context(), ListOptions{Properties: []string{"email"}}) {
		require.NoError(t, err)
		if n++; n == 150 {
			break
		}
	}
	reqs := s.Requests()
	require.Len(t, reqs, 2, "breaking out of the loop stops the paging")
	assert.Empty(t, reqs[0].Query.Get("after"))
	assert.NotEmpty(t, reqs[1].Query.Get("after"))
	assert.Equal(t, "email", reqs[1].Query.Get("properties"))
	assert.Equal(t, "100", reqs[1].Query.Get("limit"))
}

func TestClient_Contacts_errorEndsTheSequence(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	seedN(s, 150)
	c := newClient(t, s, WithRetry(0, 0, 0))

	var items, errs int
	for item, err := range c.Contacts(t.Context(), ListOptions{}) {
		if err != nil {
			errs++
			assert.Nil(t, item)
			assert.ErrorIs(t, err, sync.ErrUnauthorized)
			continue
		}
		if items++; items == 100 {
			s.SetTokenExpired(true)
		}
	}
	assert.Equal(t, 100, items)
	assert.Equal(t, 1, errs)
}

func TestClient_ContactsPage_invalidPageSize(t *testing.T) {
	t.Parallel()
	c := newClient(t, newFake(t))
	for _, size := range []int{-1, 101} {
		_, err := c.ContactsPage(t.Context(), ListOptions{PageSize: size}, "")
		assert.Error(t, err, "size %d", size)
	}
}

func TestClient_Contacts_archived(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 3)
	c := newClient(t, s)
	require.NoError(t, c.Archive(t.Context(), ids[1]))

	var got []string
	for item, err := range c.Contacts(t.Context(), ListOptions{Archived: true}) {
		require.NoError(t, err)
		got = append(got, item["id"].(string))
		assert.Equal(t, true, item["archived"])
	}
	assert.Equal(t, []string{ids[1]}, got)
}

func TestClient_Get(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := s.SeedProperties(
		map[string]string{"email": "dana+tag@example.com", "firstname": "Dana"},
		map[string]string{"email": "a/b@example.com", "firstname": "Slash"},
	)
	c := newClient(t, s)

	tests := []struct {
		name string
		get  func() (sync.Item, error)
		want string
	}{
		{"by id", func() (sync.Item, error) {
			return c.Get(t.Context(), ids[0], GetOptions{})
		}, ids[0]},
		{"by email with plus and at", func() (sync.Item, error) {
			return c.GetByEmail(t.Context(), "dana+tag@example.com", GetOptions{})
		}, ids[0]},
		{"by email in another case", func() (sync.Item, error) {
			return c.GetByEmail(t.Context(), " Dana+Tag@Example.COM ", GetOptions{})
		}, ids[0]},
		{"by email with a slash", func() (sync.Item, error) {
			return c.GetByEmail(t.Context(), "a/b@example.com",
				GetOptions{Properties: []string{"firstname"}})
		}, ids[1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			item, err := tt.get()
			require.NoError(t, err)
			assert.Equal(t, tt.want, item["id"])
		})
	}
}

func TestClient_Get_missing(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)

	_, err := c.Get(t.Context(), "999", GetOptions{})
	assert.ErrorIs(t, err, sync.ErrNotFound)
	_, err = c.GetByEmail(t.Context(), "nobody@example.com", GetOptions{})
	assert.ErrorIs(t, err, sync.ErrNotFound)
	_, err = c.GetByEmail(t.Context(), "no/body@example.com", GetOptions{})
	assert.ErrorIs(t, err, sync.ErrNotFound)
	_, err = c.Get(t.Context(), "", GetOptions{})
	assert.ErrorIs(t, err, sync.ErrInvalid)
}

func TestClient_GetByEmail_pathEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email   string
		rawPath string
	}{
		// "@" and "+" go out literally: HubSpot has answered "%40" with 404,
		// and "+" in a path is not a space.
		{"dana+tag@example.com", "/crm/objects/2026-09/contacts/dana+tag@example.com"},
		{"o'neil@example.com", "/crm/objects/2026-09/contacts/o%27neil@example.com"},
		{"100%real@example.com", "/crm/objects/2026-09/contacts/100%25real@example.com"},
		{"what?@example.com", "/crm/objects/2026-09/contacts/what%3F@example.com"},
		{"hash#tag@example.com", "/crm/objects/2026-09/contacts/hash%23tag@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			t.Parallel()
			var gotURI string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request) {
				gotURI = r.RequestURI
				writeJSON(w, http.StatusOK, map[string]any{"id": "1",
					"properties": map[string]any{"email": strings.ToLower(tt.email)}})
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient("tok", fastOptions(srv.URL)...)
			require.NoError(t, err)

			_, err = c.GetByEmail(t.Context(), tt.email, GetOptions{})
			require.NoError(t, err)
			path, query, _ := strings.Cut(gotURI, "?")
			assert.Equal(t, tt.rawPath, path)
			assert.Equal(t, "idProperty=email", query)
		})
	}
}

func TestClient_BatchRead(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 150)
	c := newClient(t, s)

	want := append([]string{"999", ids[149]}, ids[:120]...)
	res, err := c.BatchRead(t.Context(), want, BatchReadOptions{Properties: []string{"email"}})
	require.NoError(t, err)
	require.Len(t, res, len(want))
	assert.ErrorIs(t, res[0].Err, sync.ErrNotFound)
	for i, r := range res[1:] {
		require.NoError(t, r.Err)
		assert.Equal(t, want[i+1], r.Item["id"])
	}
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/batch/read")))

	byEmail, err := c.BatchRead(t.Context(), []string{"C3@example.com", "none@example.com"},
		BatchReadOptions{IDProperty: "email", Properties: []string{"firstname"}})
	require.NoError(t, err)
	assert.Equal(t, ids[3], byEmail[0].Item["id"])
	assert.ErrorIs(t, byEmail[1].Err, sync.ErrNotFound)
}

func TestClient_BatchUpsert_splitsInto100s(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	seedN(s, 10) // c0 … c9 exist and are updated, the rest created
	c := newClient(t, s)

	inputs := make([]Input, 250)
	for i := range inputs {
		inputs[i] = Input{Properties: map[string]string{
			"email": fmt.Sprintf("C%d@Example.com", i), "lastname": "Upserted",
		}}
	}
	res, err := c.BatchUpsert(t.Context(), inputs)
	require.NoError(t, err)
	require.Len(t, res, 250)
	for i, r := range res {
		require.NoError(t, r.Err)
		props := r.Item["properties"].(map[string]any)
		assert.Equal(t, fmt.Sprintf("c%d@example.com", i), props["email"])
		assert.Equal(t, i >= 10, r.New, "input %d", i)
	}
	assert.Equal(t, 3, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
	assert.Len(t, s.Contacts(), 250)
}

func TestClient_BatchUpsert_sameEmailTwice(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)

	res, err := c.BatchUpsert(t.Context(), []Input{
		{Properties: map[string]string{"email": "dana@example.com", "firstname": "One"}},
		{Properties: map[string]string{"email": "DANA@example.com", "firstname": "Two"}},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	require.NoError(t, res[1].Err)
	assert.Equal(t, res[0].Item["id"], res[1].Item["id"])
	stored := s.Contacts()
	require.Len(t, stored, 1)
	assert.Equal(t, "Two", stored[0].Properties["firstname"], "writes apply in input order")
}

// badInputs returns 100 upsert inputs of which input bad has an
// enumeration value HubSpot rejects (the client cannot see that it is
// invalid, so HubSpot must tell).
func badInputs(bad int) []Input {
	inputs := make([]Input, 100)
	for i := range inputs {
		stage := "lead"
		if i == bad {
			stage = "bogus"
		}
		inputs[i] = Input{Properties: map[string]string{
			"email": fmt.Sprintf("u%d@example.com", i), "lifecyclestage": stage,
		}}
	}
	return inputs
}

func TestClient_BatchUpsert_badInputFailsAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wholeFail bool // strip trace ids so the fake fails the whole batch
		minCalls  int
		maxCalls  int
	}{
		{"multi-status response", false, 1, 1},
		{"whole batch refused, bad input isolated by halving", true, 2, 16},
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

			res, err := c.BatchUpsert(t.Context(), badInputs(37))
			require.NoError(t, err)
			for i, r := range res {
				if i == 37 {
					assert.ErrorIs(t, r.Err, sync.ErrInvalid)
					var ie *ItemError
					require.ErrorAs(t, r.Err, &ie)
					assert.Contains(t, ie.Message, "bogus")
					continue
				}
				assert.NoError(t, r.Err, "input %d", i)
			}
			assert.Len(t, s.Contacts(), 99)
			calls := s.Count(http.MethodPost, contactsPath("/batch/upsert"))
			assert.GreaterOrEqual(t, calls, tt.minCalls)
			assert.LessOrEqual(t, calls, tt.maxCalls)
		})
	}
}

func TestClient_BatchUpsert_errorCommonToEveryInput(t *testing.T) {
	t.Parallel()
	// HubSpot refuses every call with an error that names no input (an
	// account-wide rule, say). Halving down to each input would take 199
	// requests; the client stops once the halves keep failing the same way.
	s := newFake(t)
	var calls atomic.Int64
	base := newProxy(t, s, func(w http.ResponseWriter, _ *http.Request, _ []byte,
		_ func([]byte)) {
		calls.Add(1)
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"status": "error", "category": "VALIDATION_ERROR",
			"message": "Contacts cannot be written while the portal is read-only",
		})
	})
	c, err := NewClient(s.Token, fastOptions(base)...)
	require.NoError(t, err)

	res, err := c.BatchUpsert(t.Context(), badInputs(-1))
	require.NoError(t, err)
	for i, r := range res {
		require.ErrorIs(t, r.Err, sync.ErrInvalid, "input %d", i)
		var ie *ItemError
		require.ErrorAs(t, r.Err, &ie)
		assert.Contains(t, ie.Message, "read-only")
	}
	// 1 + 2 per level down the first halves: 100, 50, 25, 12, 6, 3, 1.
	assert.LessOrEqual(t, calls.Load(), int64(1+2*7))
}

func TestClient_BatchUpsert_sameFaultInBothHalvesFailsOnlyItsInputs(t *testing.T) {
	t.Parallel()
	// Two inputs with the very same bad value, one in each half, make both
	// halves fail as the whole batch did; the others must still succeed.
	s := newFake(t)
	base := newProxy(t, s, func(_ http.ResponseWriter, _ *http.Request, body []byte,
		forward func([]byte)) {
		forward(stripTraceIDs(t, body))
	})
	c, err := NewClient(s.Token, fastOptions(base)...)
	require.NoError(t, err)
	inputs := badInputs(10)
	inputs[60].Properties["lifecyclestage"] = "bogus"

	res, err := c.BatchUpsert(t.Context(), inputs)
	require.NoError(t, err)
	for i, r := range res {
		if i == 10 || i == 60 {
			assert.ErrorIs(t, r.Err, sync.ErrInvalid, "input %d", i)
			continue
		}
		assert.NoError(t, r.Err, "input %d", i)
	}
	assert.Len(t, s.Contacts(), 98)
}

func TestClient_BatchCreate_withoutEmailMatchedToItsInput(t *testing.T) {
	t.Parallel()
	s := newFake(t) // answers batch calls in shuffled order
	c := newClient(t, s)
	var inputs []Input
	for i := range 5 {
		inputs = append(inputs, Input{Properties: map[string]string{
			"firstname": fmt.Sprint("NoEmail", i)}})
		inputs = append(inputs, Input{Properties: map[string]string{
			"firstname": fmt.Sprint("Email", i), "email": fmt.Sprintf("e%d@example.com", i)}})
	}

	res, err := c.BatchCreate(t.Context(), inputs)
	require.NoError(t, err)
	require.Len(t, res, len(inputs))
	for i, r := range res {
		require.NoError(t, r.Err, "input %d", i)
		props := r.Item["properties"].(map[string]any)
		assert.Equal(t, inputs[i].Properties["firstname"], props["firstname"], "input %d", i)
	}
	assert.Equal(t, 5, s.Count(http.MethodPost, contactsPath("/batch/create")),
		"one create without an email per call")
}

func TestClient_BatchUpsert_unknownPropertyFailsItsInputsAtOnce(t *testing.T) {
	t.Parallel()
	// The fake refuses the whole batch (no trace ids) naming the unknown
	// property: the inputs that set it fail without halving, the rest are
	// sent again.
	s := newFake(t)
	base := newProxy(t, s, func(_ http.ResponseWriter, _ *http.Request, body []byte,
		forward func([]byte)) {
		forward(stripTraceIDs(t, body))
	})
	c, err := NewClient(s.Token, fastOptions(base)...)
	require.NoError(t, err)
	inputs := badInputs(-1)
	for i := range inputs {
		if i%2 == 0 {
			inputs[i].Properties["favourite_colour"] = "teal"
		}
	}

	res, err := c.BatchUpsert(t.Context(), inputs)
	require.NoError(t, err)
	for i, r := range res {
		if i%2 == 0 {
			assert.ErrorIs(t, r.Err, sync.ErrInvalid, "input %d", i)
		} else {
			assert.NoError(t, r.Err, "input %d", i)
		}
	}
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/batch/upsert")))
	assert.Len(t, s.Contacts(), 50)
}

func TestClient_BatchUpsert_wholeBatchNamingAnEmail(t *testing.T) {
	t.Parallel()
	// HubSpot refuses the whole batch, naming the address it finds invalid
	// (one the client's plausibility check lets through): the client drops
	// that input and sends the rest again, two calls in all.
	s := newFake(t)
	calls := 0
	base := newProxy(t, s, func(w http.ResponseWriter, r *http.Request, body []byte,
		forward func([]byte)) {
		if calls++; calls == 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"status": "error", "category": "VALIDATION_ERROR",
				"message": `Property values were not valid: [{"isValid":false,"message":` +
					`"Email address u5@example.com is invalid","error":"INVALID_EMAIL",` +
					`"name":"email"}]`,
			})
			return
		}
		forward(body)
	})
	c, err := NewClient(s.Token, fastOptions(base)...)
	require.NoError(t, err)

	inputs := badInputs(-1)
	res, err := c.BatchUpsert(t.Context(), inputs)
	require.NoError(t, err)
	assert.ErrorIs(t, res[5].Err, sync.ErrInvalid)
	for i, r := range res {
		if i != 5 {
			assert.NoError(t, r.Err, "input %d", i)
		}
	}
	assert.Equal(t, 2, calls)
	assert.Len(t, s.Contacts(), 99)
}

func TestClient_BatchUpsert_invalidEmailNeedsNoRequest(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)

	res, err := c.BatchUpsert(t.Context(), []Input{
		{Properties: map[string]string{"email": "dana@"}},
	})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, sync.ErrInvalid)
	assert.Empty(t, s.Requests())
}

func TestClient_BatchUpsert_fatalErrorCoversEveryInput(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)
	inputs := make([]Input, 150)
	for i := range inputs {
		inputs[i] = Input{Properties: map[string]string{"email": fmt.Sprintf("f%d@example.com", i)}}
	}
	s.RateLimitNextDaily(1)

	res, err := c.BatchUpsert(t.Context(), inputs)
	require.ErrorIs(t, err, sync.ErrRateLimited)
	require.Len(t, res, 150)
	for _, r := range res {
		assert.ErrorIs(t, r.Err, sync.ErrRateLimited)
	}
	assert.Empty(t, s.Contacts())
}

func TestClient_BatchCreate(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := s.SeedProperties(map[string]string{"email": "taken@example.com"})
	c := newClient(t, s)

	res, err := c.BatchCreate(t.Context(), []Input{
		{Properties: map[string]string{"firstname": "NoEmail"}},
		{Properties: map[string]string{"email": "taken@example.com", "firstname": "Dup"}},
		{Properties: map[string]string{"email": "fresh@example.com", "lifecyclestage": "bogus"}},
		{Properties: map[string]string{"email": "fresh2@example.com"}},
	})
	require.NoError(t, err)
	require.Len(t, res, 4)
	require.NoError(t, res[0].Err)
	assert.Equal(t, "NoEmail", res[0].Item["properties"].(map[string]any)["firstname"])

	assert.ErrorIs(t, res[1].Err, sync.ErrConflict)
	var ie *ItemError
	require.ErrorAs(t, res[1].Err, &ie)
	assert.Equal(t, ids[0], ie.ExistingID, "the existing id is parsed from the 409")

	assert.ErrorIs(t, res[2].Err, sync.ErrInvalid)
	require.NoError(t, res[3].Err)
	assert.Equal(t, "fresh2@example.com",
		res[3].Item["properties"].(map[string]any)["email"])
	assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/create")))
}

func TestClient_BatchCreate_notRepeatedAfterAmbiguousFailure(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	c := newClient(t, s)
	s.DropAfterCommitNext(1)

	res, err := c.BatchCreate(t.Context(),
		[]Input{{Properties: map[string]string{"firstname": "A"}}})
	require.Error(t, err)
	require.Error(t, res[0].Err)
	assert.Equal(t, 1, s.Count(http.MethodPost, contactsPath("/batch/create")),
		"a create that may have reached HubSpot is not sent again")
	assert.Len(t, s.Contacts(), 1)
}

func TestClient_BatchUpdate(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 3)
	c := newClient(t, s)

	res, err := c.BatchUpdate(t.Context(), []Input{
		{ID: ids[2], Properties: map[string]string{"lastname": "Two"}},
		{ID: "999", Properties: map[string]string{"lastname": "Ghost"}},
		{ID: ids[0], Properties: map[string]string{"email": "c1@example.com"}},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.Equal(t, ids[2], res[0].Item["id"])
	assert.ErrorIs(t, res[1].Err, sync.ErrNotFound)
	assert.ErrorIs(t, res[2].Err, sync.ErrConflict, "the email belongs to another contact")
	assert.Equal(t, "Two", s.Contacts()[2].Properties["lastname"])
}

func TestClient_Archive(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 120)
	c := newClient(t, s)

	require.NoError(t, c.Archive(t.Context(), ids[0]))
	require.NoError(t, c.Archive(t.Context(), ids[0]), "archiving twice succeeds")
	res, err := c.BatchArchive(t.Context(), append(ids[1:], "999"))
	require.NoError(t, err)
	require.Len(t, res, 120)
	for _, r := range res {
		assert.NoError(t, r.Err)
	}
	for _, stored := range s.Contacts() {
		assert.True(t, stored.Archived)
	}
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/batch/archive")))
}

func TestClient_SearchByEmail(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	ids := seedN(s, 5)
	c := newClient(t, s)

	got, err := c.SearchByEmail(t.Context(), "  C3@EXAMPLE.com", []string{"firstname"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ids[3], got[0]["id"])
	assert.Equal(t, "C3", got[0]["properties"].(map[string]any)["firstname"])

	none, err := c.SearchByEmail(t.Context(), "nobody@example.com", nil)
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
	assert.Equal(t, 2, s.Count(http.MethodPost, contactsPath("/search")))
}

func TestClient_SearchByEmail_indexLag(t *testing.T) {
	t.Parallel()
	s := newFake(t, hubspottest.WithSearchLag(time.Hour))
	c := newClient(t, s)
	_, err := c.BatchUpsert(t.Context(), []Input{
		{Properties: map[string]string{"email": "new@example.com"}},
	})
	require.NoError(t, err)

	got, err := c.SearchByEmail(t.Context(), "new@example.com", nil)
	require.NoError(t, err)
	assert.Empty(t, got, "search does not see a contact written moments ago")
	item, err := c.GetByEmail(t.Context(), "new@example.com", GetOptions{})
	require.NoError(t, err, "get by email does")
	assert.NotEmpty(t, item["id"])
}

func TestClient_SearchByEmail_respectsTheSearchLimit(t *testing.T) {
	t.Parallel()
	// In a synctest bubble with the fake served in memory, requests arrive
	// exactly when the client sends them, so the client may use the fake's
	// very limit and the check is exact.
	const limit, window = 5, 200 * time.Millisecond
	s := newFake(t, hubspottest.WithSearchRateLimit(limit, window))
	synctest.Test(t, func(t *testing.T) {
		seedN(s, 1)
		c := newMemClient(t, s, WithSearchRateLimit(limit, window), WithRetry(0, 0, 0))

		for i := range 12 {
			_, err := c.SearchByEmail(t.Context(), fmt.Sprintf("c%d@example.com", i), nil)
			require.NoError(t, err)
		}
		for _, r := range s.Requests() {
			assert.Equal(t, http.StatusOK, r.Status)
		}
		assert.LessOrEqual(t, s.MaxRequestsInWindow(window), limit)
	})
}

func TestClient_Search_stopsAtTheCeiling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		seeded  int
		ceiling int // 0: HubSpot's
		after   string
		want    int
	}{
		// Against the fake's real 10,000 ceiling, starting near it to keep
		// the test short.
		{"HubSpot's ceiling", SearchCeiling + 150, 0, "9650", 350},
		{"from the start", 650, 500, "", 500},
		{"a partial last page", 650, 450, "", 450},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			seedN(s, tt.seeded)
			c := newClient(t, s)
			if tt.ceiling > 0 {
				c.searchCeiling = tt.ceiling
			}

			n := 0
			var last error
			for _, err := range c.Search(t.Context(), SearchRequest{Limit: MaxSearchPageSize,
				Properties: []string{"email"}, After: tt.after}) {
				if err != nil {
					last = err
					break
				}
				n++
			}
			assert.Equal(t, tt.want, n)
			assert.ErrorIs(t, last, ErrSearchCeiling)
			for _, r := range s.Requests() {
				assert.Equal(t, http.StatusOK, r.Status, "no page beyond the ceiling is requested")
			}
		})
	}
}

func TestClient_Search_endsWithoutErrorBelowTheCeiling(t *testing.T) {
	t.Parallel()
	s := newFake(t)
	seedN(s, 450)
	c := newClient(t, s)
	c.searchCeiling = 450

	n := 0
	for _, err := range c.Search(t.Context(), SearchRequest{Limit: 200}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 450, n)
}

func TestClient_SearchPage_invalidLimit(t *testing.T) {
	t.Parallel()
	c := newClient(t, newFake(t))
	_, err := c.SearchPage(t.Context(), SearchRequest{Limit: 201})
	assert.Error(t, err)
}

func TestClient_searchAlsoConsumesTheGeneralLimit(t *testing.T) {
	t.Parallel()
	const limit, window = 4, 200 * time.Millisecond
	s := newFake(t)
	synctest.Test(t, func(t *testing.T) {
		seedN(s, 1)
		c := newMemClient(t, s, WithRateLimit(limit, window))

		for i := range 6 {
			_, err := c.SearchByEmail(t.Context(), fmt.Sprintf("c%d@example.com", i), nil)
			require.NoError(t, err)
			_, err = c.ContactsPage(t.Context(), ListOptions{PageSize: 1}, "")
			require.NoError(t, err)
		}
		// Searches alone would pass their own (high) limit: only counting
		// them against the general one keeps all 12 requests within it.
		assert.LessOrEqual(t, s.MaxRequestsInWindow(window), limit)
	})
}

func TestClient_477IsRetriedAfterRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures int
		create   bool
		requests int
		fails    bool
	}{
		{"a read", 2, false, 3, false},
		{"a create, which HubSpot refused unprocessed", 1, true, 2, false},
		{"until the retries run out", 10, false, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFake(t)
			synctest.Test(t, func(t *testing.T) {
				ids := seedN(s, 1)
				c := newMemClient(t, s) // fastOptions: 3 retries
				// The fake's 477 carries Retry-After: 1.
				s.FailNext(tt.failures, StatusMigrationInProgress)

				var err error
				if tt.create {
					var res []Result
					res, err = c.BatchCreate(t.Context(),
						[]Input{{Properties: map[string]string{"firstname": "New"}}})
					if err == nil {
						err = res[0].Err
					}
				} else {
					_, err = c.Get(t.Context(), ids[0], GetOptions{})
				}
				reqs := s.Requests()
				require.Len(t, reqs, tt.requests)
				for i := 1; i < len(reqs); i++ {
					assert.GreaterOrEqual(t, reqs[i].At.Sub(reqs[i-1].At), time.Second,
						"each retry waits for Retry-After")
				}
				if !tt.fails {
					require.NoError(t, err)
					return
				}
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, StatusMigrationInProgress, ae.StatusCode)
			})
		})
	}
}
