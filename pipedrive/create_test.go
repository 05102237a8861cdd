package pipedrive

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// listed returns a connector over a fake holding one unrelated person,
// after a List, as the orchestrators run it before writing.
func listed(t *testing.T, opts ...pipedrivetest.Option) (*pipedrivetest.Server, *Persons) {
	t.Helper()
	s, c := newFake(t, opts...)
	seedN(s, 1)
	p := newConnector(t, c, PersonsOptions{})
	_, err := collect(t, p.List(t.Context()))
	require.NoError(t, err)
	return s, p
}

func ids(t *testing.T, p *Persons, res []keysync.WriteResult) []string {
	t.Helper()
	out := make([]string, len(res))
	for i, r := range res {
		require.NoError(t, r.Err, "write %d", i)
		out[i] = p.RecordID(r.Item)
	}
	return out
}

func TestPersons_Write_sameAddressTwiceInABatch(t *testing.T) {
	t.Parallel()
	// One of two creates with the same address fails before Pipedrive
	// stores it. The other's person must not be taken for it.
	for _, names := range [][2]string{{"Dana Example", "Dana Example"}, {"Dana A", "Dana B"}} {
		t.Run(names[0]+" and "+names[1], func(t *testing.T) {
			t.Parallel()
			s, p := listed(t)
			s.FailNext(1, http.StatusInternalServerError)
			res, err := p.Write(t.Context(), []keysync.Write{
				create(names[0], "dana@example.com"), create(names[1], "dana@example.com")})
			require.NoError(t, err)
			got := ids(t, p, res)
			assert.NotEqual(t, got[0], got[1], "each write has its own person")
			assert.Equal(t, names[0], res[0].Item["name"])
			assert.Equal(t, names[1], res[1].Item["name"])
			assert.Len(t, personsWithEmail(s, "dana@example.com"), 2)
			assert.Equal(t, 3, s.Count(http.MethodPost, "/api/v2/persons"))
		})
	}
}

func TestPersons_Write_bothStoredInABatch(t *testing.T) {
	t.Parallel()
	// Two identical creates are both stored but neither answer arrives:
	// each write takes one of the two persons.
	s, p := listed(t)
	s.DropAfterCommitNext(2)
	res, err := p.Write(t.Context(), []keysync.Write{
		create("Dana Example", "dana@example.com"), create("Dana Example", "dana@example.com")})
	require.NoError(t, err)
	got := ids(t, p, res)
	assert.NotEqual(t, got[0], got[1])
	assert.Len(t, personsWithEmail(s, "dana@example.com"), 2)
	assert.Equal(t, 2, s.Count(http.MethodPost, "/api/v2/persons"))
}

func TestPersons_Write_someoneElsesPersonIsNotOurs(t *testing.T) {
	t.Parallel()
	other := pipedrivetest.Person{Name: "Someone Else", AddTime: time.Now().Add(-2 * time.Minute),
		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}}}

	t.Run("added before the connector listed", func(t *testing.T) {
		t.Parallel()
		s, c := newFake(t)
		otherID := s.Seed(other)[0]
		p := newConnector(t, c, PersonsOptions{})
		_, err := collect(t, p.List(t.Context()))
		require.NoError(t, err)
		s.FailNext(1, http.StatusInternalServerError)
		res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example",
			"dana@example.com")})
		require.NoError(t, err)
		require.NoError(t, res[0].Err)
		assert.Equal(t, "Dana Example", res[0].Item["name"], "our fields were written")
		assert.NotEqual(t, strconv.Itoa(otherID), p.RecordID(res[0].Item))
		assert.Len(t, personsWithEmail(s, "dana@example.com"), 2)
		assert.Equal(t, 2, s.Count(http.MethodPost, "/api/v2/persons"))
	})
	t.Run("added after the connector listed", func(t *testing.T) {
		t.Parallel()
		s, p := listed(t)
		s.Seed(other)
		s.FailNext(1, http.StatusInternalServerError)
		res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example",
			"dana@example.com")})
		require.NoError(t, err)
		assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown, "a new person differs: cannot tell")
		assert.Nil(t, res[0].Item)
		assert.Len(t, personsWithEmail(s, "dana@example.com"), 1)
		assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"))
	})
}

func TestPersons_Write_otherSentFieldsMustMatch(t *testing.T) {
	t.Parallel()
	s, p := listed(t)
	// Someone adds a person with the same name and address, but another
	// phone number, after the connector listed.
	s.Seed(pipedrivetest.Person{Name: "Dana Example",
		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}},
		Phones: []pipedrivetest.Contact{{Value: "+1 555 0199"}}})
	s.FailNext(1, http.StatusInternalServerError)
	w := create("Dana Example", "dana@example.com")
	w.Item["phone"] = "+1 555 0100"
	res, err := p.Write(t.Context(), []keysync.Write{w})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown)
	assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"))
}

func TestPersons_Write_serverClockBehind(t *testing.T) {
	t.Parallel()
	// Pipedrive's clock is 10 minutes behind ours and the search index
	// lags: the stored person must still be found, by id.
	behind := func() time.Time { return time.Now().Add(-10 * time.Minute) }
	s, p := listed(t, pipedrivetest.WithClock(behind),
		pipedrivetest.WithSearchLag(time.Hour))
	s.DropAfterCommitNext(1)
	res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example", "dana@example.com")})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.Equal(t, "Dana Example", res[0].Item["name"])
	assert.Len(t, personsWithEmail(s, "dana@example.com"), 1, "no duplicate")
	assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"))
}

func TestPersons_Write_learnsNewestIDFirst(t *testing.T) {
	t.Parallel()
	// Without a List the connector asks for the newest id before the
	// first create, so that someone else's person is not taken for its
	// own.
	s, c := newFake(t)
	s.Seed(pipedrivetest.Person{Name: "Dana Example",
		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}}})
	p := newConnector(t, c, PersonsOptions{})
	s.DropAfterCommitNext(1)
	res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example", "dana@example.com")})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.Equal(t, "2", p.RecordID(res[0].Item), "the new person, not the seeded one")
	assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"))

	_, err = p.Write(t.Context(), []keysync.Write{create("Eli", "eli@example.com")})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Count(http.MethodGet, "/api/v2/persons"),
		"one request for the newest id and one scan; none before the second batch")
}

func TestPersons_Write_deletedPersonIsNotOurs(t *testing.T) {
	t.Parallel()
	s, p := listed(t, pipedrivetest.WithDeletedVisible())
	deleted := s.Seed(pipedrivetest.Person{Name: "Dana Example", Deleted: true,
		Emails: []pipedrivetest.Contact{{Value: "dana@example.com"}}})[0]
	s.FailNext(1, http.StatusInternalServerError)
	res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example", "dana@example.com")})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	assert.NotEqual(t, strconv.Itoa(deleted), p.RecordID(res[0].Item))
	assert.Equal(t, false, res[0].Item["is_deleted"])
	assert.Equal(t, 2, s.Count(http.MethodPost, "/api/v2/persons"))
}

// scanStub serves an ambiguous create and the connector's look-ups: the
// first create gets 500, later ones succeed; the newest-first list never
// reaches the persons known before (each page is new persons of others);
// the search finds person 77 from the searchAt-th search on (0: never).
type scanStub struct {
	sameCursor bool
	searchAt   int64

	posts, pages, searches atomic.Int64
}

func (st *scanStub) client(t *testing.T) *Client {
	return stub(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodPost:
			if st.posts.Add(1) == 1 {
				writeJSON(w, 500, `{"success":false,"error":"Internal server error"}`)
				return
			}
			writeJSON(w, 200, `{"success":true,"data":{"id":99,"name":"Dana",`+
				`"emails":[{"value":"dana@example.com","primary":true}]}}`)
		case strings.HasSuffix(r.URL.Path, "/search"):
			items := `[]`
			if n := st.searches.Add(1); st.searchAt > 0 && n >= st.searchAt {
				items = `[{"result_score":1,"item":{"id":77,"emails":["dana@example.com"]}}]`
			}
			writeJSON(w, 200, `{"success":true,"data":{"items":`+items+`},`+
				`"additional_data":{"next_cursor":null}}`)
		case q.Get("ids") == "77":
			writeJSON(w, 200, `{"success":true,"data":[{"id":77,"name":"Dana",`+
				`"emails":[{"value":"dana@example.com","primary":true}]}],`+
				`"additional_data":{"next_cursor":null}}`)
		case q.Get("limit") == "1":
			writeJSON(w, 200, `{"success":true,"data":[{"id":10}],`+
				`"additional_data":{"next_cursor":null}}`)
		default:
			assert.Equal(t, "desc", q.Get("sort_direction"))
			assert.Empty(t, q.Get("updated_since"), "no clock involved")
			n := st.pages.Add(1)
			cursor := "same"
			if !st.sameCursor {
				cursor = fmt.Sprintf("c%d", n)
			}
			writeJSON(w, 200, fmt.Sprintf(`{"success":true,"data":[{"id":%d,"emails":[]}],`+
				`"additional_data":{"next_cursor":%q}}`, 1000-n, cursor))
		}
	})
}

func TestPersons_Write_repeatedCursorWhileLooking(t *testing.T) {
	t.Parallel()
	st := &scanStub{sameCursor: true}
	p := newConnector(t, st.client(t), PersonsOptions{})
	res, err := p.Write(t.Context(), []keysync.Write{create("Dana", "dana@example.com")})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown)
	assert.ErrorIs(t, res[0].Err, ErrRepeatedCursor)
	assert.EqualValues(t, 1, st.posts.Load(), "not created again")
	assert.EqualValues(t, 2, st.pages.Load())
}

func TestPersons_Write_fallsBackToSearch(t *testing.T) {
	t.Parallel()
	// The newest-first list goes on beyond the pages the connector reads,
	// so it relies on the search index, and reports uncertainty when the
	// index shows nothing.
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprint("indexed ", indexed), func(t *testing.T) {
			t.Parallel()
			st := &scanStub{}
			if indexed {
				st.searchAt = 2
			}
			p := newConnector(t, st.client(t), PersonsOptions{SearchAttempts: 3})
			res, err := p.Write(t.Context(), []keysync.Write{create("Dana", "dana@example.com")})
			require.NoError(t, err)
			assert.EqualValues(t, maxScanPages, st.pages.Load())
			assert.EqualValues(t, 1, st.posts.Load())
			if indexed {
				require.NoError(t, res[0].Err)
				assert.Equal(t, "77", p.RecordID(res[0].Item))
				assert.EqualValues(t, 2, st.searches.Load(), "retried while the index lagged")
			} else {
				assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown, "no duplicate risked")
				assert.Nil(t, res[0].Item)
				assert.EqualValues(t, 3, st.searches.Load())
			}
		})
	}
}

func TestPersons_Write_stopsOnAccountBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  []pipedrivetest.Option
		block func(t *testing.T, s *pipedrivetest.Server, c *Client)
		want  int // status of the batch error
	}{
		{"402 company account closed", nil,
			func(_ *testing.T, s *pipedrivetest.Server, _ *Client) {
				s.FailNext(1000, http.StatusPaymentRequired)
			}, http.StatusPaymentRequired},
		{"Cloudflare's HTML 403 after repeated 429s",
			[]pipedrivetest.Option{pipedrivetest.WithAbuseBlock(3, time.Hour)},
			func(t *testing.T, s *pipedrivetest.Server, c *Client) {
				s.RateLimitNext(3)
				for range 3 {
					_, err := c.Get(t.Context(), 1)
					require.ErrorIs(t, err, keysync.ErrRateLimited)
				}
			}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pipedrivetest.NewTestServer(t, tt.opts...)
			seedN(s, 1)
			c, err := NewClient(s.Token, WithBaseURL(s.URL), WithoutRateLimit(),
				WithRetry(0, time.Millisecond, time.Millisecond))
			require.NoError(t, err)
			p := newConnector(t, c, PersonsOptions{Concurrency: 2})
			_, err = collect(t, p.List(t.Context()))
			require.NoError(t, err)
			tt.block(t, s, c)

			batch := make([]keysync.Write, 20)
			for i := range batch {
				batch[i] = create("P", fmt.Sprintf("p%d@example.com", i))
			}
			res, err := p.Write(t.Context(), batch)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.want, ae.StatusCode)
			require.Len(t, res, len(batch))
			for _, r := range res {
				assert.Error(t, r.Err)
			}
			assert.LessOrEqual(t, s.Count(http.MethodPost, "/api/v2/persons"), 2,
				"the batch stopped")
		})
	}
}

func TestPersons_Write_permissionErrorIsPerItem(t *testing.T) {
	t.Parallel()
	s, p := listed(t)
	s.FailNext(1, http.StatusForbidden) // JSON: a missing permission
	batch := []keysync.Write{create("A", "a@example.com"), create("B", "b@example.com")}
	res, err := p.Write(t.Context(), batch)
	require.NoError(t, err)
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			assert.ErrorIs(t, r.Err, keysync.ErrForbidden)
			failed++
		}
	}
	assert.Equal(t, 1, failed)
}

func TestClient_Create_unreadableAnswerIsUnknown(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"success":true,"data":null}`,
		`{"success":true,"data":{"name":"A"}}`,
		`{"success":true,"data":`,
		`<html>ok</html>`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			c := stub(t, func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, body)
			})
			_, err := c.Create(t.Context(), keysync.Item{"name": "A"})
			assert.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.True(t, OutcomeUnknown(err))
		})
	}
}

func TestMatchesSent(t *testing.T) {
	t.Parallel()
	stored := jsonItem(t, `{"id":5,"name":"Dana Example","owner_id":7,"org_id":null,
		"visible_to":3,"label_ids":[2,1],"marketing_status":"subscribed",
		"emails":[{"value":"Dana@Example.com","primary":true},{"value":"d2@example.com"}],
		"phones":[{"value":"+1 555 0100"}],
		"custom_fields":{"a":"Gold","b":12,"c":true,"d":null,"e":{"value":5,"currency":"EUR"}}}`)
	tests := []struct {
		name string
		sent string
		want bool
	}{
		{"the same", `{"name":"Dana Example","emails":[{"value":"dana@example.com"}],
			"phones":[{"value":"+1 555 0100"}],"owner_id":7,"visible_to":3,"label_ids":[1,2],
			"marketing_status":"subscribed","org_id":null,
			"custom_fields":{"a":"Gold","b":12,"c":true,"d":null,"e":{"value":6}}}`, true},
		{"fields not sent are not compared", `{"name":"Dana Example"}`, true},
		{"numbers as strings", `{"name":"Dana Example","owner_id":"7","custom_fields":{"b":"12"}}`,
			true},
		{"another name", `{"name":"Dana Other"}`, false},
		{"another address", `{"name":"Dana Example","emails":[{"value":"x@example.com"}]}`, false},
		{"another phone", `{"name":"Dana Example","phones":[{"value":"+1 555 0199"}]}`, false},
		{"another owner", `{"name":"Dana Example","owner_id":8}`, false},
		{"an organization", `{"name":"Dana Example","org_id":55}`, false},
		{"other labels", `{"name":"Dana Example","label_ids":[1]}`, false},
		{"another custom value", `{"name":"Dana Example","custom_fields":{"a":"Silver"}}`, false},
		{"a custom value cleared", `{"name":"Dana Example","custom_fields":{"a":null}}`, false},
	}
	for _, tt := range tests {
		body, err := WriteBody(jsonItem(t, tt.sent), true)
		require.NoError(t, err)
		assert.Equal(t, tt.want, matchesSent(stored, body), tt.name)
	}
}
