package pipedrive

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

func personsWithEmail(s *pipedrivetest.Server, email string) []map[string]any {
	var out []map[string]any
	for _, p := range s.Persons() {
		if p["is_deleted"] == true {
			continue
		}
		if containsFold(emails(p), email) {
			out = append(out, p)
		}
	}
	return out
}

func create(name, email string) keysync.Write {
	return keysync.Write{Op: keysync.OpCreate, Key: strings.ToLower(email),
		Item: keysync.Item{"name": name, "email": []any{map[string]any{"value": email,
			"primary": true, "label": "work"}}}}
}

func TestPersons_Write_ambiguousCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []pipedrivetest.Option
		fault     func(s *pipedrivetest.Server)
		wantPosts int
	}{
		{"committed then dropped", nil,
			func(s *pipedrivetest.Server) { s.DropAfterCommitNext(1) }, 1},
		{"committed then dropped with a lagging search index",
			[]pipedrivetest.Option{pipedrivetest.WithSearchLag(time.Hour)},
			func(s *pipedrivetest.Server) { s.DropAfterCommitNext(1) }, 1},
		{"500, then committed and dropped", nil, func(s *pipedrivetest.Server) {
			s.FailNext(1, http.StatusInternalServerError)
			s.DropAfterCommitNext(1)
		}, 2},
		{"500 before committing", nil,
			func(s *pipedrivetest.Server) { s.FailNext(1, http.StatusInternalServerError) }, 2},
		{"502 HTML before committing", nil,
			func(s *pipedrivetest.Server) { s.FailNext(1, http.StatusBadGateway) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := newFake(t, tt.opts...)
			seedN(s, 3)
			p := newConnector(t, c, PersonsOptions{})
			_, err := collect(t, p.List(t.Context())) // as the orchestrators do first
			require.NoError(t, err)
			tt.fault(s)
			res, err := p.Write(t.Context(), []keysync.Write{create("Dana Example",
				"Dana@Example.com")})
			require.NoError(t, err)
			require.Len(t, res, 1)
			require.NoError(t, res[0].Err)
			assert.Equal(t, "Dana Example", res[0].Item["name"])
			assert.Len(t, personsWithEmail(s, "dana@example.com"), 1, "exactly one person")
			assert.Equal(t, tt.wantPosts, s.Count(http.MethodPost, "/api/v2/persons"))
			assert.NotEmpty(t, p.RecordID(res[0].Item))
		})
	}
}

func TestPersons_Write_unknownOutcomeIsReported(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	p := newConnector(t, c, PersonsOptions{})
	s.FailNext(1000, http.StatusServiceUnavailable) // every check fails too
	res, err := p.Write(t.Context(), []keysync.Write{create("Dana", "dana@example.com")})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown)
	assert.True(t, OutcomeUnknown(res[0].Err))
	assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"), "no blind re-create")
}

func TestPersons_Write_noKeyNoRecreate(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	p := newConnector(t, c, PersonsOptions{})
	s.DropAfterCommitNext(1)
	res, err := p.Write(t.Context(), []keysync.Write{{Op: keysync.OpCreate,
		Item: keysync.Item{"name": "No Email"}}})
	require.NoError(t, err)
	assert.ErrorIs(t, res[0].Err, ErrOutcomeUnknown)
	assert.Len(t, s.Persons(), 1)
	assert.Equal(t, 1, s.Count(http.MethodPost, "/api/v2/persons"))
}

func TestPersons_Write_perItemValidation(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	ids := seedN(s, 1)
	p := newConnector(t, c, PersonsOptions{Legacy: true})
	target, err := c.Get(t.Context(), int64(ids[0]))
	require.NoError(t, err)
	batch := []keysync.Write{
		create("Ann Lee", "ann@example.com"),
		{Op: keysync.OpCreate, Key: "bo@example.com",
			Item: keysync.Item{"email": "bo@example.com"}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"name": "Renamed"}, Target: ToLegacy(target)},
		{Op: keysync.OpUpdate, Item: keysync.Item{"name": "X"}, Target: keysync.Item{"id": 999}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"name": "X"}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"visible_to": "nope"},
			Target: keysync.Item{"id": ids[0]}},
	}
	res, err := p.Write(t.Context(), batch)
	require.NoError(t, err)
	require.Len(t, res, len(batch))
	require.NoError(t, res[0].Err)
	assert.Equal(t, "ann@example.com", getString(res[0].Item, "email", "value"),
		"results come in the legacy shape")
	assert.ErrorIs(t, res[1].Err, keysync.ErrInvalid, "missing name")
	require.NoError(t, res[2].Err)
	assert.Equal(t, "Renamed", res[2].Item["name"])
	assert.ErrorIs(t, res[3].Err, keysync.ErrNotFound)
	assert.ErrorIs(t, res[4].Err, keysync.ErrInvalid, "no target")
	assert.ErrorIs(t, res[5].Err, keysync.ErrInvalid)
}

func getString(item keysync.Item, list, field string) string {
	l, _ := item[list].([]any)
	if len(l) == 0 {
		return ""
	}
	m, _ := l[0].(map[string]any)
	s, _ := m[field].(string)
	return s
}

func TestPersons_Write_unauthorizedStopsBatch(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	c, err := NewClient("wrong", fastOpts(s.URL)...)
	require.NoError(t, err)
	p := newConnector(t, c, PersonsOptions{Concurrency: 2})
	batch := make([]keysync.Write, 20)
	for i := range batch {
		batch[i] = create("X", "x@example.com")
	}
	res, err := p.Write(t.Context(), batch)
	require.ErrorIs(t, err, keysync.ErrUnauthorized)
	require.Len(t, res, len(batch))
	for _, r := range res {
		assert.ErrorIs(t, r.Err, keysync.ErrUnauthorized)
	}
	assert.Less(t, s.Count(http.MethodPost, "/api/v2/persons"), 20, "the batch stopped early")

	for _, err := range p.List(t.Context()) {
		assert.ErrorIs(t, err, keysync.ErrUnauthorized)
	}
	_, err = p.Delete(t.Context(), []keysync.Item{{"id": 1}})
	assert.ErrorIs(t, err, keysync.ErrUnauthorized)
}

func TestPersons_Write_tooLargeAndCanceled(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	p := newConnector(t, c, PersonsOptions{MaxBatch: 2})
	assert.Equal(t, 2, p.MaxBatch())
	_, err := p.Write(t.Context(), make([]keysync.Write, 3))
	assert.Error(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := p.Write(ctx, []keysync.Write{create("A", "a@example.com")})
	assert.ErrorIs(t, err, context.Canceled)
	require.Len(t, res, 1)
	assert.Error(t, res[0].Err)
}

func TestPersons_Write_concurrentUnderLimit(t *testing.T) {
	t.Parallel()
	const n, window = 20, time.Second
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithRateLimit(n, window))
	c, err := NewClient(s.Token, WithBaseURL(s.URL), WithRateLimit(n, window),
		WithRetry(0, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	p := newConnector(t, c, PersonsOptions{})
	batch := make([]keysync.Write, 24)
	for i := range batch {
		batch[i] = create("P", "p"+string(rune('a'+i))+"@example.com")
	}
	res, err := p.Write(t.Context(), batch)
	require.NoError(t, err)
	for _, r := range res {
		assert.NoError(t, r.Err, "no 429 although retries are off")
	}
	assert.Len(t, s.Persons(), 24)
	assert.LessOrEqual(t, s.MaxRequestsInWindow(window), n)
}

func TestPersons_Delete(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	ids := seedN(s, 2)
	p := newConnector(t, c, PersonsOptions{})
	require.NoError(t, c.Delete(t.Context(), int64(ids[1])))
	res, err := p.Delete(t.Context(), []keysync.Item{{"id": ids[0]}, {"id": ids[1]}, {"x": 1}})
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.NoError(t, res[0].Err)
	assert.NoError(t, res[1].Err, "already gone is success")
	assert.ErrorIs(t, res[2].Err, keysync.ErrInvalid)
	for _, person := range s.Persons() {
		assert.Equal(t, true, person["is_deleted"])
	}
}

// ids returns the ids of items, in order.
func listedIDs(t *testing.T, p *Persons, items []keysync.Item) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = p.RecordID(it)
		require.NotEmpty(t, out[i])
	}
	return out
}

// serverIDs returns the ids of the fake's live persons, in ascending order.
func serverIDs(s *pipedrivetest.Server) []string {
	var out []string
	for _, person := range s.Persons() {
		if person["is_deleted"] != true {
			out = append(out, fmt.Sprint(person["id"]))
		}
	}
	return out
}

func TestPersons_List_paginationDrift(t *testing.T) {
	t.Parallel()
	// A person is added while the connector pages, and the server serves
	// the first page twice (under a new cursor): every person comes once.
	s, c := newFake(t)
	seedN(s, 1100)
	s.InsertAfterPage(1, pipedrivetest.Person{Name: "Late",
		Emails: []pipedrivetest.Contact{{Value: "late@example.com"}}})
	s.ReplayPageNext(1)
	p := newConnector(t, c, PersonsOptions{})
	items, err := collect(t, p.List(t.Context()))
	require.NoError(t, err)
	got := listedIDs(t, p, items)
	assert.Equal(t, serverIDs(s), got, "every person once, by id")
	assert.Len(t, got, 1101)
	assert.Equal(t, "late@example.com", primaryEmail(items[len(items)-1]))
	assert.Equal(t, 4, s.Count(http.MethodGet, "/api/v2/persons"), "three pages and a replay")
}

func TestPersons_List_pageSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pageSize  int
		list      func(p *Persons, ctx context.Context) iter.Seq2[keysync.Item, error]
		wantLimit string
		wantPages int
	}{
		{"List pages by MaxPageSize by default", 0, listAll, "500", 1},
		{"List pages by PageSize", 3, listAll, "3", 3},
		{"ListModifiedSince pages by PageSize", 3, listSince, "3", 3},
		{"a page size of one", 1, listAll, "1", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := newFake(t)
			seedN(s, 7)
			p := newConnector(t, c, PersonsOptions{PageSize: tt.pageSize})

			items, err := collect(t, tt.list(p, t.Context()))

			require.NoError(t, err)
			assert.Equal(t, serverIDs(s), listedIDs(t, p, items), "every person once, by id")
			var limits []string
			for _, r := range s.Requests() {
				q, err := url.ParseQuery(r.Query)
				require.NoError(t, err)
				limits = append(limits, q.Get("limit"))
			}
			assert.Len(t, limits, tt.wantPages, "list requests")
			for _, l := range limits {
				assert.Equal(t, tt.wantLimit, l)
			}
		})
	}
}

func listAll(p *Persons, ctx context.Context) iter.Seq2[keysync.Item, error] {
	return p.List(ctx)
}

func listSince(p *Persons, ctx context.Context) iter.Seq2[keysync.Item, error] {
	return p.ListModifiedSince(ctx, time.Unix(0, 0))
}

func TestPersons_List_keepsPersonsOutOfOrder(t *testing.T) {
	t.Parallel()
	c := stub(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, 200, `{"success":true,"data":[{"id":1},{"id":5}],`+
				`"additional_data":{"next_cursor":"c1"}}`)
			return
		}
		writeJSON(w, 200, `{"success":true,"data":[{"id":3},{"id":5},{"id":6}],`+
			`"additional_data":{"next_cursor":null}}`)
	})
	p := newConnector(t, c, PersonsOptions{})
	items, err := collect(t, p.List(t.Context()))
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "5", "3", "6"}, listedIDs(t, p, items),
		"3 is kept although it comes after 5; the second 5 is dropped")
}

func TestPersons_List_cursorFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     func(s *pipedrivetest.Server)
		wantErr   []error
		wantItems int
		wantPages int
	}{
		{"a repeated cursor ends the listing", func(s *pipedrivetest.Server) {
			s.RepeatPageNext(1)
		}, []error{ErrRepeatedCursor}, 500, 2},
		{"an expired cursor restarts the listing once", func(s *pipedrivetest.Server) {
			s.ExpireCursorNext(1)
		}, nil, 1100, 5},
		{"a second expired cursor ends it", func(s *pipedrivetest.Server) {
			s.ExpireCursorNext(2)
		}, []error{ErrCursorRejected, keysync.ErrInvalid}, 500, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := newFake(t)
			seedN(s, 1100)
			tt.fault(s)
			p := newConnector(t, c, PersonsOptions{})
			items, err := collect(t, p.List(t.Context()))
			for _, want := range tt.wantErr {
				assert.ErrorIs(t, err, want)
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, serverIDs(s), listedIDs(t, p, items))
			}
			assert.Len(t, items, tt.wantItems, "each person once")
			assert.Equal(t, tt.wantPages, s.Count(http.MethodGet, "/api/v2/persons"))
		})
	}
}

func TestPersons_deletedPersonsListed(t *testing.T) {
	t.Parallel()
	// Pipedrive may list soft-deleted persons with "is_deleted": true and
	// return them from get; the connector skips them everywhere.
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprint("legacy ", legacy), func(t *testing.T) {
			t.Parallel()
			s, c := newFake(t, pipedrivetest.WithDeletedVisible(),
				pipedrivetest.WithSearchLag(time.Hour))
			type pc = pipedrivetest.Contact
			ids := s.Seed(
				pipedrivetest.Person{Name: "Ann", Emails: []pc{{Value: "dana@example.com"}}},
				pipedrivetest.Person{Name: "Bo", Emails: []pc{{Value: "dana@example.com"}}},
				pipedrivetest.Person{Name: "Cy", Deleted: true},
			)
			// Deleted after the search index saw it: the index still
			// shows Bo.
			require.NoError(t, c.Delete(t.Context(), int64(ids[1])))
			p := newConnector(t, c, PersonsOptions{Legacy: legacy})

			items, err := collect(t, p.List(t.Context()))
			require.NoError(t, err)
			assert.Equal(t, []string{strconv.Itoa(ids[0])}, listedIDs(t, p, items))

			hits, err := p.SearchKey(t.Context(), "dana@example.com")
			require.NoError(t, err)
			assert.Equal(t, []string{strconv.Itoa(ids[0])}, listedIDs(t, p, hits))

			_, err = c.Get(t.Context(), int64(ids[1]))
			assert.ErrorIs(t, err, keysync.ErrNotFound)
			raw, _, err := c.PersonsPage(t.Context(), ListOptions{}, "")
			require.NoError(t, err)
			assert.Len(t, raw, 3, "the fake does list them")
		})
	}
}

func TestPersons_List_legacyShape(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	s.Seed(pipedrivetest.Person{Name: "Ann Lee", OwnerID: 1001,
		Emails: []pipedrivetest.Contact{{Value: "ann@example.com", Label: "work"}}})
	p := newConnector(t, c, PersonsOptions{Legacy: true})
	items, err := collect(t, p.List(t.Context()))
	require.NoError(t, err)
	require.Len(t, items, 1)
	it := items[0]
	assert.Equal(t, "ann@example.com", getString(it, "email", "value"))
	assert.Equal(t, "", getString(it, "phone", "value"))
	assert.Equal(t, "Ann", it["first_name"])
	assert.Equal(t, "Lee", it["last_name"])
	assert.Equal(t, true, it["active_flag"])
	assert.Equal(t, "3", it["visible_to"])
	owner := it["owner_id"].(map[string]any)
	assert.Equal(t, "1001", owner["value"].(interface{ String() string }).String())
	assert.NotContains(t, it, "emails")
	mod, ok := p.ModifiedAt(it)
	assert.True(t, ok)
	assert.False(t, mod.IsZero())

	// A listed legacy record can be written back unchanged.
	res, err := p.Write(t.Context(), []keysync.Write{{Op: keysync.OpUpdate, Item: it, Target: it}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
}

func TestPersons_ListModifiedSince(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	base := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := base.Add(time.Duration(i) * time.Hour)
		s.Seed(pipedrivetest.Person{Name: "P", AddTime: at, UpdateTime: at})
	}
	p := newConnector(t, c, PersonsOptions{})
	since := base.Add(2*time.Hour + 300*time.Millisecond)
	items, err := collect(t, p.ListModifiedSince(t.Context(), since))
	require.NoError(t, err)
	require.Len(t, items, 3, "rounded down to the whole second: inclusive of 10:00:00")
	first, ok := p.ModifiedAt(items[0])
	require.True(t, ok)
	assert.Equal(t, base.Add(2*time.Hour), first)
}

func TestPersons_SearchKey(t *testing.T) {
	t.Parallel()
	s, c := newFake(t)
	s.Seed(pipedrivetest.Person{Name: "Ann",
		Emails: []pipedrivetest.Contact{{Value: "ANN@example.com"}}})
	p := newConnector(t, c, PersonsOptions{Legacy: true})
	hits, err := p.SearchKey(t.Context(), "ann@example.com")
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, "ANN@example.com", getString(hits[0], "email", "value"))
	none, err := p.SearchKey(t.Context(), "nobody@example.com")
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
	none, err = p.SearchKey(t.Context(), " ")
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
}

func TestPersons_Identifier(t *testing.T) {
	t.Parallel()
	p := &Persons{}
	tests := []struct {
		item keysync.Item
		id   string
	}{
		{keysync.Item{"id": "12"}, "12"},
		{keysync.Item{"id": 12.0}, "12"},
		{keysync.Item{"id": 12}, "12"},
		{keysync.Item{"name": "x"}, ""},
		{keysync.Item{"id": 1.5}, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.id, p.RecordID(tt.item))
	}
	at, ok := p.ModifiedAt(keysync.Item{"update_time": "2026-11-03 10:00:00"})
	assert.True(t, ok)
	assert.Equal(t, time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), at)
	_, ok = p.ModifiedAt(keysync.Item{"update_time": nil})
	assert.False(t, ok)
}

func TestNewPersons_validates(t *testing.T) {
	t.Parallel()
	_, c := newFake(t)
	for _, o := range []PersonsOptions{{MaxBatch: -1}, {Concurrency: -1},
		{SearchAttempts: -1}, {SearchBackoff: -1}, {MaxCreateAttempts: -1}, {PageSize: -1},
		{PageSize: MaxPageSize + 1}} {
		_, err := NewPersons(c, o)
		assert.Error(t, err, "%+v", o)
	}
	for _, o := range []PersonsOptions{{PageSize: 1}, {PageSize: MaxPageSize}} {
		_, err := NewPersons(c, o)
		assert.NoError(t, err, "%+v", o)
	}
	_, err := NewPersons(nil, PersonsOptions{})
	assert.Error(t, err)
}

func TestUnknownOutcome_wrapsBoth(t *testing.T) {
	t.Parallel()
	cause := &APIError{StatusCode: 503}
	err := unknownOutcome("dana@example.com", cause)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Same(t, cause, ae)
	assert.True(t, OutcomeUnknown(err))
	assert.False(t, OutcomeUnknown(nil))
}
