package pipedrive

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func collect(t *testing.T, seq func(func(keysync.Item, error) bool)) ([]keysync.Item, error) {
	t.Helper()
	var out []keysync.Item
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

func TestClient_Persons_minimumPages(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	seedN(s, 1234)
	items, err := collect(t, c.Persons(t.Context(), ListOptions{}))
	require.NoError(t, err)
	require.Len(t, items, 1234)
	assert.Equal(t, 3, s.Count(http.MethodGet, "/api/v2/persons"), "3 pages of up to 500")
	for i, it := range items {
		id, ok := idOf(it)
		require.True(t, ok)
		assert.EqualValues(t, i+1, id)
	}
	first := items[0]
	assert.Equal(t, json.Number("1"), first["id"], "numbers are json.Number")
	assert.Equal(t, "p0000@example.com", primaryEmail(first))
	emails := first["emails"].([]any)
	assert.Equal(t, "p0000@example.com", emails[0].(map[string]any)["value"])
}

func TestClient_Persons_stopsEarly(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	seedN(s, 1200)
	n := 0
	for _, err := range c.Persons(t.Context(), ListOptions{}) {
		require.NoError(t, err)
		n++
		if n == 10 {
			break
		}
	}
	assert.Equal(t, 1, s.Count(http.MethodGet, "/api/v2/persons"))
}

func TestClient_PersonsPage_query(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	c := stub(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.Query())
		writeJSON(w, 200, `{"success":true,"data":[],"additional_data":{"next_cursor":null}}`)
	})
	since := time.Date(2026, 11, 30, 8, 0, 0, 700_000_000, time.FixedZone("x", 3600))
	_, next, err := c.PersonsPage(t.Context(), ListOptions{UpdatedSince: since,
		UpdatedUntil: since, SortBy: "update_time", SortDesc: true, OwnerID: 7, OrgID: 55,
		IDs: []int64{1, 2}, Limit: 100}, "abc")
	require.NoError(t, err)
	assert.Empty(t, next)
	q := got.Load().(url.Values)
	assert.Equal(t, url.Values{
		"updated_since": {"2026-11-30T07:00:00Z"}, "updated_until": {"2026-11-30T07:00:01Z"},
		"sort_by": {"update_time"}, "sort_direction": {"desc"}, "owner_id": {"7"},
		"org_id": {"55"}, "ids": {"1,2"}, "limit": {"100"}, "cursor": {"abc"},
	}, q)

	for _, bad := range []ListOptions{{Limit: 501}, {Limit: -1}, {SortBy: "name"},
		{IDs: make([]int64, 101)}} {
		_, _, err := c.PersonsPage(t.Context(), bad, "")
		assert.Error(t, err, "%+v", bad)
	}
}

func TestClient_Persons_nullData(t *testing.T) {
	t.Parallel()
	t.Run("stub", func(t *testing.T) {
		t.Parallel()
		c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, `{"success":true,"data":null,"additional_data":null}`)
		})
		items, err := collect(t, c.Persons(t.Context(), ListOptions{}))
		require.NoError(t, err)
		assert.Empty(t, items)
	})
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		_, c := newFake(t, pipedrivetest.WithNullEmptyData(true))
		items, err := collect(t, c.Persons(t.Context(), ListOptions{}))
		require.NoError(t, err)
		assert.Empty(t, items)
	})
}

func TestClient_Persons_repeatingCursor(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
		n := calls.Add(1)
		if n > 10 {
			writeJSON(w, 500, `{}`)
			return
		}
		writeJSON(w, 200, `{"success":true,"data":[{"id":`+string(rune('0'+n))+
			`}],"additional_data":{"next_cursor":"same"}}`)
	})
	items, err := collect(t, c.Persons(t.Context(), ListOptions{}))
	require.ErrorIs(t, err, ErrRepeatedCursor)
	assert.Len(t, items, 2, "the items before the loop are yielded")
	assert.EqualValues(t, 2, calls.Load())
}

func TestClient_successFalseOn2xx(t *testing.T) {
	t.Parallel()
	c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"success":false,"error":"Something odd","error_info":"x"}`)
	})
	_, err := c.Get(t.Context(), 5)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Something odd", ae.Message)
	assert.Equal(t, 200, ae.StatusCode)
}

func TestClient_crud(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	ctx := t.Context()

	created, err := c.Create(ctx, keysync.Item{"name": "Dana Example",
		"email": "Dana@Example.com", "phone": []any{map[string]any{"value": "+1 555 0100",
			"label": "mobile"}}, "first_name": "ignored", "id": 99})
	require.NoError(t, err)
	id, ok := idOf(created)
	require.True(t, ok)
	assert.Equal(t, "Dana", created["first_name"])
	assert.Equal(t, "Dana@Example.com", primaryEmail(created), "case is kept")

	got, err := c.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, created["name"], got["name"])

	updated, err := c.Update(ctx, id, keysync.Item{"name": "Dana Other"})
	require.NoError(t, err)
	assert.Equal(t, "Dana Other", updated["name"])
	assert.Equal(t, "Dana@Example.com", primaryEmail(updated), "unsent fields stay")

	require.NoError(t, c.Delete(ctx, id))
	_, err = c.Get(ctx, id)
	assert.ErrorIs(t, err, keysync.ErrNotFound)
	assert.ErrorIs(t, c.Delete(ctx, id), keysync.ErrNotFound)
	stored, ok := s.Person(int(id))
	require.True(t, ok)
	assert.Equal(t, true, stored["is_deleted"])

	_, err = c.Create(ctx, keysync.Item{"email": "x@example.com"})
	assert.ErrorIs(t, err, keysync.ErrInvalid, "name is required")
}

func TestClient_Create_accepts201(t *testing.T) {
	t.Parallel()
	c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 201, `{"success":true,"data":{"id":7,"name":"A"}}`)
	})
	p, err := c.Create(t.Context(), keysync.Item{"name": "A"})
	require.NoError(t, err)
	assert.Equal(t, json.Number("7"), p["id"])
}

func TestClient_SearchByEmail(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	type pc = pipedrivetest.Contact
	ids := s.Seed(
		pipedrivetest.Person{Name: "A", Emails: []pc{{Value: "Dana@Example.com"}}},
		pipedrivetest.Person{Name: "B", Emails: []pc{{Value: "dana@example.com.au"}}},
		pipedrivetest.Person{Name: "C", Emails: []pc{{Value: "c@example.com"},
			{Value: "dana@example.com"}}},
		pipedrivetest.Person{Name: "D", Emails: []pc{{Value: "dana@example.com"}}, Deleted: true},
	)
	hits, err := c.SearchByEmail(t.Context(), "  DANA@example.com ")
	require.NoError(t, err)
	var got []int64
	for _, h := range hits {
		id, _ := idOf(h)
		got = append(got, id)
		assert.Contains(t, h, "add_time", "full persons, not search items")
	}
	assert.Equal(t, []int64{int64(ids[0]), int64(ids[2])}, got)

	_, err = c.SearchByEmail(t.Context(), " ")
	assert.ErrorIs(t, err, keysync.ErrInvalid)
}

func TestClient_SearchByEmail_filtersFuzzyHits(t *testing.T) {
	t.Parallel()
	// Pipedrive's search is fuzzy; the client keeps exact addresses only
	// and pages through cursors.
	c := stub(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/search") && r.URL.Query().Get("cursor") == "":
			assert.Equal(t, "dana@example.com", r.URL.Query().Get("term"))
			assert.Equal(t, "email", r.URL.Query().Get("fields"))
			assert.Equal(t, "true", r.URL.Query().Get("exact_match"))
			writeJSON(w, 200, `{"success":true,"data":{"items":[
				{"result_score":0.5,"item":{"id":1,"emails":["dana@example.com.au"]}},
				{"result_score":1,"item":{"id":2,"emails":["x@example.com","DANA@example.com"]}}]},
				"additional_data":{"next_cursor":"c2"}}`)
		case strings.HasSuffix(r.URL.Path, "/search"):
			writeJSON(w, 200, `{"success":true,"data":{"items":[
				{"result_score":0.4,"item":{"id":3,"emails":["ddana@example.com"]}}]},
				"additional_data":{"next_cursor":null}}`)
		case r.URL.Path == "/api/v2/persons" && r.URL.Query().Get("ids") == "2":
			writeJSON(w, 200, `{"success":true,"data":[{"id":2,"name":"Dana",
				"emails":[{"value":"DANA@example.com","primary":true}]}],
				"additional_data":{"next_cursor":null}}`)
		default:
			t.Errorf("unexpected request %s", r.URL)
			writeJSON(w, 404, `{"success":false}`)
		}
	})
	hits, err := c.SearchByEmail(t.Context(), "dana@example.com")
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, json.Number("2"), hits[0]["id"])
}

func TestClient_errors(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	bad, err := NewClient("wrong-token", fastOpts(s.URL)...)
	require.NoError(t, err)
	_, err = bad.Get(t.Context(), 1)
	assert.ErrorIs(t, err, keysync.ErrUnauthorized)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "unauthorized access", ae.Message)
	assert.Equal(t, "401", ae.Code)

	_, c := newFake(t)
	_, err = c.Get(t.Context(), 12345)
	assert.ErrorIs(t, err, keysync.ErrNotFound)
}

func TestClient_dailyBudgetFailsFast(t *testing.T) {
	t.Parallel()
	s, c := newFake(t, pipedrivetest.WithDailyLimit(15))
	seedN(s, 3)
	_, err := c.Get(t.Context(), 1) // 1 token
	require.NoError(t, err)
	_, _, err = c.PersonsPage(t.Context(), ListOptions{}, "") // 10 tokens
	require.NoError(t, err)
	_, _, err = c.PersonsPage(t.Context(), ListOptions{}, "") // over budget
	assert.ErrorIs(t, err, keysync.ErrRateLimited)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Greater(t, rl.Wait, DefaultMaxRetryWait)
	assert.Equal(t, 3, s.Count(http.MethodGet, "/api/v2/persons")+
		s.Count(http.MethodGet, "/api/v2/persons/1"), "no retry of the daily 429")
}

// retryGaps returns, for every request the fake answered with 429, how
// long after it the same path was requested again.
func retryGaps(s *pipedrivetest.Server) []time.Duration {
	var gaps []time.Duration
	last := map[string]pipedrivetest.Request{}
	for _, r := range s.Requests() {
		if prev, ok := last[r.Path]; ok && prev.Status == http.StatusTooManyRequests {
			gaps = append(gaps, r.At.Sub(prev.At))
		}
		last[r.Path] = r
	}
	return gaps
}

func countStatus(s *pipedrivetest.Server, status int) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Status == status {
			n++
		}
	}
	return n
}

func TestClient_rateLimitStorm(t *testing.T) {
	t.Parallel()
	// Twenty 429s in a row, each asking for a wait of x-ratelimit-reset
	// (1 s): the client sleeps that long before each retry and keeps
	// within its own limit, so the server's limit never refuses it.
	const clients = 10
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithRateLimit(30, time.Second))
	seedN(s, clients)
	c, err := NewClient(s.Token, WithBaseURL(s.URL), WithRateLimit(20, time.Second),
		WithRetry(20, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	s.RateLimitNext(20)

	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			_, err := c.Get(t.Context(), int64(i+1))
			errs <- err
		}()
	}
	for range clients {
		assert.NoError(t, <-errs)
	}
	assert.Len(t, s.Requests(), clients+20, "each 429 retried once, nothing more")
	assert.Equal(t, 20, countStatus(s, http.StatusTooManyRequests), "only the injected 429s")
	gaps := retryGaps(s)
	require.Len(t, gaps, 20)
	for _, g := range gaps {
		assert.GreaterOrEqual(t, g, time.Second, "the retry waited for x-ratelimit-reset")
	}
	assert.LessOrEqual(t, s.MaxRequestsInWindow(time.Second), 20)
}

func TestClient_rejectedRequestsCount(t *testing.T) {
	t.Parallel()
	// The fake counts refused requests in the burst window, as Pipedrive
	// may: a client without its own limiter is refused until it waits
	// for x-ratelimit-reset, which it does.
	const n = 10
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithRateLimit(5, time.Second),
		pipedrivetest.WithRejectedCounted())
	seedN(s, n)
	c, err := NewClient(s.Token, WithBaseURL(s.URL), WithoutRateLimit(),
		WithRetry(10, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.Get(t.Context(), int64(i+1))
			errs <- err
		}()
	}
	for range n {
		assert.NoError(t, <-errs)
	}
	assert.Positive(t, countStatus(s, http.StatusTooManyRequests))
	for _, g := range retryGaps(s) {
		assert.GreaterOrEqual(t, g, time.Second, "the retry waited for x-ratelimit-reset")
	}
}

func TestClient_rejectedRequestsCount_window(t *testing.T) {
	t.Parallel()
	// On a fake clock: 5 requests at 0 s fill the window, one at 0.5 s is
	// refused; at 1.2 s the first five have left the window, and the
	// refused one is still in it only when refusals count.
	for _, counted := range []bool{false, true} {
		t.Run(fmt.Sprint("counted ", counted), func(t *testing.T) {
			t.Parallel()
			start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			var now atomic.Int64
			opts := []pipedrivetest.Option{pipedrivetest.WithRateLimit(5, time.Second),
				pipedrivetest.WithClock(func() time.Time {
					return start.Add(time.Duration(now.Load()))
				})}
			if counted {
				opts = append(opts, pipedrivetest.WithRejectedCounted())
			}
			s := pipedrivetest.NewTestServer(t, opts...)
			seedN(s, 1)
			c, err := NewClient(s.Token, WithBaseURL(s.URL), WithoutRateLimit(),
				WithRetry(0, time.Millisecond, time.Millisecond))
			require.NoError(t, err)
			get := func() error {
				_, err := c.Get(t.Context(), 1)
				return err
			}
			for range 5 {
				require.NoError(t, get())
			}
			now.Store(int64(500 * time.Millisecond))
			require.ErrorIs(t, get(), keysync.ErrRateLimited)
			now.Store(int64(1200 * time.Millisecond))
			for range 4 {
				require.NoError(t, get())
			}
			if counted {
				assert.ErrorIs(t, get(), keysync.ErrRateLimited, "the refusal took a place")
			} else {
				assert.NoError(t, get())
			}
		})
	}
}

func TestClient_searchRateLimit(t *testing.T) {
	t.Parallel()
	const n, window = 10, time.Second
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithSearchRateLimit(n, window))
	seedN(s, 2)
	c, err := NewClient(s.Token, WithBaseURL(s.URL), WithRateLimit(1000, time.Second),
		WithSearchRateLimit(n, window), WithRetry(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	for range 12 {
		_, err := c.searchEmailIDs(t.Context(), "p0000@example.com")
		require.NoError(t, err, "no 429: the search limiter kept under the window")
	}
	assert.LessOrEqual(t, s.MaxRequestsInWindow(window), n)
}

func TestClient_SearchByEmail_fetchesHitsByIDs(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	people := make([]pipedrivetest.Person, 150)
	for i := range people {
		people[i] = pipedrivetest.Person{Name: fmt.Sprintf("P%d", i),
			Emails: []pipedrivetest.Contact{{Value: "shared@example.com"}}}
	}
	s.Seed(people...)
	hits, err := c.SearchByEmail(t.Context(), "shared@example.com")
	require.NoError(t, err)
	require.Len(t, hits, 150)
	for i, h := range hits {
		id, _ := idOf(h)
		assert.EqualValues(t, i+1, id)
	}
	assert.Equal(t, 2, s.Count(http.MethodGet, "/api/v2/persons"), "two requests of 100 ids")
	for _, r := range s.Requests() {
		assert.False(t, strings.HasPrefix(r.Path, "/api/v2/persons/") &&
			r.Path != "/api/v2/persons/search", "no get per hit: %s", r.Path)
	}
}

func TestClient_SearchByEmail_badResults(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"success":true,"data":{"items":[]},"additional_data":{"next_cursor":5}}`,
		`{"success":true,"data":{"items":[{"item":{"id":"x","emails":["dana@example.com"]}}]},` +
			`"additional_data":{"next_cursor":null}}`,
		`{"success":true,"data":{"items":[{"item":{"emails":["dana@example.com"]}}]},` +
			`"additional_data":{"next_cursor":null}}`,
	} {
		c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, body)
		})
		_, err := c.SearchByEmail(t.Context(), "dana@example.com")
		assert.Error(t, err, body)
	}
}

func TestNewClient_validatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		token  string
		opt    Option
		option string
	}{
		{"empty token", " ", nil, "token"},
		{"token with a newline", "0123456789abcdef\n", nil, "control character"},
		{"token with a space", "0123 456789abcdef", nil, "space"},
		{"relative base", "t", WithBaseURL("example.com"), "WithBaseURL"},
		{"base with token", "t", WithBaseURL("https://x.pipedrive.com?api_token=t"), "WithBaseURL"},
		{"bad company", "t", WithCompanyDomain("a.b"), "WithCompanyDomain"},
		{"nil HTTP client", "t", WithHTTPClient(nil), "WithHTTPClient"},
		{"zero rate", "t", WithRateLimit(0, time.Second), "WithRateLimit"},
		{"zero window", "t", WithRateLimit(5, 0), "WithRateLimit"},
		{"zero search rate", "t", WithSearchRateLimit(0, time.Second), "WithSearchRateLimit"},
		{"negative retries", "t", WithRetry(-1, time.Second, time.Second), "WithRetry"},
		{"max below min", "t", WithRetry(1, time.Second, time.Millisecond), "WithRetry"},
		{"zero max wait", "t", WithMaxRetryWait(0), "WithMaxRetryWait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(tt.token, tt.opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.option)
			if len(tt.token) > 4 {
				assert.False(t, strings.Contains(err.Error(), tt.token[:4]),
					"token leaked into the error")
			}
		})
	}
	c, err := NewClient("t", WithCompanyDomain("example-co"), WithLogger(nil),
		WithHTTPClient(http.DefaultClient))
	require.NoError(t, err)
	assert.NotNil(t, c)
}

func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	assert.True(t, OutcomeUnknown(ErrOutcomeUnknown))
	assert.True(t, OutcomeUnknown(&APIError{StatusCode: 502}))
	assert.True(t, OutcomeUnknown(&RequestError{Sent: true}))
	assert.False(t, OutcomeUnknown(&RequestError{Sent: false}))
	assert.False(t, OutcomeUnknown(&APIError{StatusCode: 400}))
	assert.False(t, OutcomeUnknown(errors.New("x")))
}

func TestNewClient_rateLimitOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []Option
		wantLimited bool
	}{
		{"default", nil, true},
		{"off", []Option{WithoutRateLimit()}, false},
		{"off, then a general limit", []Option{WithoutRateLimit(), WithRateLimit(5, time.Second)},
			true},
		{"off, then a search limit",
			[]Option{WithoutRateLimit(), WithSearchRateLimit(5, time.Second)}, true},
		{"a limit, then off", []Option{WithRateLimit(5, time.Second), WithoutRateLimit()}, false},
	}
	for _, tt := range tests {
		s := defaultSettings()
		for _, o := range tt.opts {
			require.NoError(t, o(&s))
		}
		general, search := s.limiters()
		assert.Equal(t, tt.wantLimited, general != nil, "%s: general limiter", tt.name)
		assert.Equal(t, tt.wantLimited, search != nil, "%s: search limiter", tt.name)
	}
}
