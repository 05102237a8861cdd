package pipedrive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/internal/httpx"
)

// MaxPageSize is the largest page Pipedrive serves (list and search).
const MaxPageSize = 500

// MaxIDs is the most ids one list request may filter by (ListOptions.IDs).
const MaxIDs = 100

const personsPath = "/api/v2/persons"

// ListOptions selects and orders the persons of [Client.Persons]. The zero
// value lists every person by ascending id in pages of 500.
type ListOptions struct {
	// UpdatedSince keeps persons whose update_time is at or after it. It
	// is sent rounded down to a whole second (Pipedrive rejects fractions),
	// which can only add persons.
	UpdatedSince time.Time

	// UpdatedUntil keeps persons whose update_time is before it. It is
	// sent rounded up to a whole second, which can only add persons.
	UpdatedUntil time.Time

	// SortBy is "id", "update_time" or "add_time"; "" leaves Pipedrive's
	// default, id.
	SortBy string

	// SortDesc sorts in descending order.
	SortDesc bool

	// OwnerID and OrgID filter by owner and organization when non-zero.
	OwnerID, OrgID int64

	// IDs restricts the list to these ids (at most [MaxIDs]; Pipedrive
	// drops unknown and invisible ones silently).
	IDs []int64

	// Limit is the page size, 1 to 500; 0 means 500.
	Limit int

	// Legacy yields persons in the v1 shape; see [ToLegacy].
	Legacy bool
}

func (o ListOptions) query(cursor string) (url.Values, error) {
	q := url.Values{}
	limit := o.Limit
	switch {
	case limit == 0:
		limit = MaxPageSize
	case limit < 0 || limit > MaxPageSize:
		return nil, fmt.Errorf("pipedrive: ListOptions.Limit %d is outside 1..%d", limit,
			MaxPageSize)
	}
	q.Set("limit", strconv.Itoa(limit))
	switch o.SortBy {
	case "":
	case "id", "update_time", "add_time":
		q.Set("sort_by", o.SortBy)
	default:
		return nil, fmt.Errorf("pipedrive: ListOptions.SortBy %q is not id, update_time "+
			"or add_time", o.SortBy)
	}
	if o.SortDesc {
		q.Set("sort_direction", "desc")
	}
	if !o.UpdatedSince.IsZero() {
		q.Set("updated_since", wholeSecond(o.UpdatedSince, false))
	}
	if !o.UpdatedUntil.IsZero() {
		q.Set("updated_until", wholeSecond(o.UpdatedUntil, true))
	}
	if o.OwnerID != 0 {
		q.Set("owner_id", strconv.FormatInt(o.OwnerID, 10))
	}
	if o.OrgID != 0 {
		q.Set("org_id", strconv.FormatInt(o.OrgID, 10))
	}
	if len(o.IDs) > MaxIDs {
		return nil, fmt.Errorf("pipedrive: ListOptions.IDs holds %d ids, more than %d",
			len(o.IDs), MaxIDs)
	}
	if len(o.IDs) > 0 {
		ids := make([]string, len(o.IDs))
		for i, id := range o.IDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		q.Set("ids", strings.Join(ids, ","))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q, nil
}

// wholeSecond formats t in UTC RFC 3339 without fractions, rounding down
// (or up when ceil is set and t has a fraction).
func wholeSecond(t time.Time, ceil bool) string {
	w := t.UTC().Truncate(time.Second)
	if ceil && w.Before(t) {
		w = w.Add(time.Second)
	}
	return w.Format(time.RFC3339)
}

type listMeta struct {
	NextCursor *string `json:"next_cursor"`
}

// PersonsPage fetches one page of persons starting at cursor ("" for the
// first page) and returns the persons and the cursor of the next page, ""
// after the last. A "data": null answer is an empty page. Persons come in
// the v2 shape unless opts.Legacy is set; numbers are json.Number.
//
// Pipedrive endpoint: GET /api/v2/persons.
func (c *Client) PersonsPage(ctx context.Context, opts ListOptions, cursor string) (
	[]keysync.Item, string, error) {
	q, err := opts.query(cursor)
	if err != nil {
		return nil, "", err
	}
	env, err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: personsPath, Query: q})
	if err != nil {
		return nil, "", fmt.Errorf("listing persons: %w", err)
	}
	var items []keysync.Item
	if !isNull(env.Data) {
		if err := decode(env.Data, &items); err != nil {
			return nil, "", fmt.Errorf("pipedrive: decoding persons page: %w", err)
		}
	}
	var meta listMeta
	if !isNull(env.AdditionalData) {
		if err := json.Unmarshal(env.AdditionalData, &meta); err != nil {
			return nil, "", fmt.Errorf("pipedrive: decoding persons page cursor: %w", err)
		}
	}
	next := ""
	if meta.NextCursor != nil {
		next = *meta.NextCursor
	}
	if opts.Legacy {
		for i, p := range items {
			items[i] = ToLegacy(p)
		}
	}
	return items, next, nil
}

// Persons lists the persons selected by opts, page by page, with cursor
// pagination. It yields each person with a nil error; on failure it yields
// (nil, err) once and stops, also with [ErrRepeatedCursor] when Pipedrive
// hands out a cursor twice, and with an error matching [ErrCursorRejected]
// when Pipedrive answers 400 to a request with a cursor. It yields the
// pages as they come: should they overlap, a person comes twice, and
// persons marked "is_deleted": true are yielded too ([Persons.List] skips
// both). Once ctx is done it yields (nil, ctx.Err()) and stops, also in
// the middle of a page. The sequence copies opts and may be ranged over
// again, which lists afresh.
//
// Pipedrive endpoint: GET /api/v2/persons.
func (c *Client) Persons(ctx context.Context, opts ListOptions) iter.Seq2[keysync.Item, error] {
	opts.IDs = append([]int64(nil), opts.IDs...)
	return func(yield func(keysync.Item, error) bool) {
		seen := map[string]bool{}
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			items, next, err := c.PersonsPage(ctx, opts, cursor)
			if err != nil {
				var ae *APIError
				if cursor != "" && errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest {
					err = fmt.Errorf("%w: %w", ErrCursorRejected, err)
				}
				yield(nil, err)
				return
			}
			for _, p := range items {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				if !yield(p, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if seen[next] {
				yield(nil, fmt.Errorf("listing persons: %w", ErrRepeatedCursor))
				return
			}
			seen[next] = true
			cursor = next
		}
	}
}

// Get fetches one person by id, in the v2 shape. A missing person, and a
// deleted one whether Pipedrive answers 404 or "is_deleted": true, is an
// error matching keysync.ErrNotFound.
//
// Pipedrive endpoint: GET /api/v2/persons/{id}.
func (c *Client) Get(ctx context.Context, id int64) (keysync.Item, error) {
	env, err := c.call(ctx, httpx.Request{Method: http.MethodGet, Path: personPath(id)})
	if err != nil {
		return nil, fmt.Errorf("getting person %d: %w", id, err)
	}
	p, err := decodePerson(env)
	if err != nil {
		return nil, fmt.Errorf("getting person %d: %w", id, err)
	}
	if isDeleted(p) {
		return nil, fmt.Errorf("getting person %d: the person is deleted: %w", id,
			keysync.ErrNotFound)
	}
	return p, nil
}

// Create stores a new person and returns it as Pipedrive stored it (v2
// shape). person may be in the v2 or the legacy v1 shape; see
// [WriteBody]. Create is not idempotent: it is retried only when
// Pipedrive surely did not receive it (429, connection refused). When it
// fails otherwise, [OutcomeUnknown] reports whether the person may exist
// anyway; the [Persons] connector handles that case itself. A 2xx answer
// that does not show the stored person with its id (unreadable JSON,
// "data": null) is such a failure: its error matches [ErrOutcomeUnknown].
//
// Pipedrive endpoint: POST /api/v2/persons.
func (c *Client) Create(ctx context.Context, person keysync.Item) (keysync.Item, error) {
	body, err := WriteBody(person, true)
	if err != nil {
		return nil, err
	}
	return c.create(ctx, body)
}

func (c *Client) create(ctx context.Context, body keysync.Item) (keysync.Item, error) {
	env, err := c.call(ctx, httpx.Request{Method: http.MethodPost, Path: personsPath,
		Body: body, NonIdempotent: true})
	var re *responseError
	if errors.As(err, &re) {
		return nil, fmt.Errorf("creating person: %w: %w", ErrOutcomeUnknown, err)
	}
	if err != nil {
		return nil, fmt.Errorf("creating person: %w", err)
	}
	p, err := decodePerson(env)
	if err == nil {
		if _, ok := idOf(p); !ok {
			err = errors.New("pipedrive: the created person has no id")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("creating person: %w: %w", ErrOutcomeUnknown, err)
	}
	return p, nil
}

// Update changes the given fields of person id (PATCH) and returns the
// person as stored. fields may be in the v2 or legacy v1 shape; emails and
// phones replace the whole list.
//
// Pipedrive endpoint: PATCH /api/v2/persons/{id}.
func (c *Client) Update(ctx context.Context, id int64, fields keysync.Item) (keysync.Item, error) {
	body, err := WriteBody(fields, false)
	if err != nil {
		return nil, err
	}
	env, err := c.call(ctx, httpx.Request{Method: http.MethodPatch, Path: personPath(id),
		Body: body})
	if err != nil {
		return nil, fmt.Errorf("updating person %d: %w", id, err)
	}
	return decodePerson(env)
}

// Delete marks person id as deleted; Pipedrive removes it for good after
// 30 days. Deleting a missing person is an error matching
// keysync.ErrNotFound.
//
// Pipedrive endpoint: DELETE /api/v2/persons/{id}.
func (c *Client) Delete(ctx context.Context, id int64) error {
	_, err := c.call(ctx, httpx.Request{Method: http.MethodDelete, Path: personPath(id)})
	if err != nil {
		return fmt.Errorf("deleting person %d: %w", id, err)
	}
	return nil
}

// SearchByEmail returns the persons that hold email (compared trimmed and
// case-insensitively) in any of their addresses and are not deleted, in
// the v2 shape, ordered by id. It pages through Pipedrive's exact-match
// email search, keeps only exact address matches and fetches the hits in
// full with one list request per [MaxIDs] hits. The search index may lag
// behind writes by a few seconds, so a person stored moments ago can be
// missing.
//
// Pipedrive endpoints: GET /api/v2/persons/search, then GET
// /api/v2/persons?ids=... for the hits.
func (c *Client) SearchByEmail(ctx context.Context, email string) ([]keysync.Item, error) {
	ids, err := c.searchEmailIDs(ctx, email)
	if err != nil {
		return nil, err
	}
	out := make([]keysync.Item, 0, len(ids))
	seen := map[int64]bool{}
	for chunk := range slices.Chunk(ids, MaxIDs) {
		// Persons missing from the answer were deleted or hidden since the
		// index saw them.
		for p, err := range c.Persons(ctx, ListOptions{IDs: chunk}) {
			if err != nil {
				return nil, fmt.Errorf("searching persons by email: fetching the hits: %w", err)
			}
			id, ok := idOf(p)
			if !ok || seen[id] || isDeleted(p) || !hasEmail(p, email) {
				continue
			}
			seen[id] = true
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b keysync.Item) int {
		x, _ := idOf(a)
		y, _ := idOf(b)
		return cmp.Compare(x, y)
	})
	return out, nil
}

type searchData struct {
	Items []struct {
		Item struct {
			ID     json.Number `json:"id"`
			Emails []string    `json:"emails"`
		} `json:"item"`
	} `json:"items"`
}

// searchEmailIDs returns the ids of the search hits whose flat emails
// list holds email exactly (ignoring case), in ascending order.
func (c *Client) searchEmailIDs(ctx context.Context, email string) ([]int64, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return nil, fmt.Errorf("pipedrive: searching persons by email: empty address: %w",
			keysync.ErrInvalid)
	}
	seen := map[string]bool{}
	found := map[int64]bool{}
	cursor := ""
	for {
		q := url.Values{"term": {email}, "fields": {"email"}, "exact_match": {"true"},
			"limit": {strconv.Itoa(MaxPageSize)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		env, err := c.call(ctx, httpx.Request{Method: http.MethodGet,
			Path: personsPath + "/search", Query: q, Class: searchClass})
		if err != nil {
			return nil, fmt.Errorf("searching persons by email: %w", err)
		}
		var data searchData
		if !isNull(env.Data) {
			if err := json.Unmarshal(env.Data, &data); err != nil {
				return nil, fmt.Errorf("pipedrive: decoding search results: %w", err)
			}
		}
		for _, it := range data.Items {
			if !containsFold(it.Item.Emails, email) {
				continue
			}
			id, err := it.Item.ID.Int64()
			if err != nil {
				return nil, fmt.Errorf("pipedrive: decoding search results: hit id %q: %w",
					it.Item.ID, err)
			}
			found[id] = true
		}
		var meta listMeta
		if !isNull(env.AdditionalData) {
			if err := json.Unmarshal(env.AdditionalData, &meta); err != nil {
				return nil, fmt.Errorf("pipedrive: decoding search results cursor: %w", err)
			}
		}
		if meta.NextCursor == nil || *meta.NextCursor == "" {
			break
		}
		if seen[*meta.NextCursor] {
			return nil, fmt.Errorf("searching persons by email: %w", ErrRepeatedCursor)
		}
		seen[*meta.NextCursor] = true
		cursor = *meta.NextCursor
	}
	ids := make([]int64, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func personPath(id int64) string {
	return personsPath + "/" + strconv.FormatInt(id, 10)
}

func decodePerson(env *envelope) (keysync.Item, error) {
	if isNull(env.Data) {
		return nil, errors.New("pipedrive: response holds no person")
	}
	var p keysync.Item
	if err := decode(env.Data, &p); err != nil {
		return nil, fmt.Errorf("pipedrive: decoding person: %w", err)
	}
	return p, nil
}

// OutcomeUnknown reports whether a failed [Client.Create] may nevertheless
// have stored the person: the connection broke after the request went
// out, Pipedrive answered 5xx, or the context ended while it was in
// flight. Check (for example with [Client.SearchByEmail], which may lag)
// before creating again.
func OutcomeUnknown(err error) bool {
	return errors.Is(err, ErrOutcomeUnknown) || httpx.OutcomeUnknown(err)
}
