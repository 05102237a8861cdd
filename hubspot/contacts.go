package hubspot

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/keysync/sync"
)

// MaxPageSize is the largest page the contact list endpoint returns.
const MaxPageSize = 100

// ListOptions selects what [Client.Contacts] and [Client.ContactsPage]
// return. The zero value lists active contacts, 100 per page, with
// HubSpot's default properties (createdate, email, firstname,
// hs_object_id, lastmodifieddate, lastname).
type ListOptions struct {
	// Properties names the properties to return; unknown names are ignored
	// by HubSpot and unset ones come back as null.
	Properties []string
	// PageSize is the number of contacts per request, at most
	// [MaxPageSize]; 0 means MaxPageSize.
	PageSize int
	// Archived lists only archived contacts instead of active ones.
	Archived bool
}

// Page is one page of contacts.
type Page struct {
	// Items are the contacts in the CRM objects API shape.
	Items []sync.Item
	// Next is the cursor of the next page ("paging.next.after"); "" on
	// the last page.
	Next string
	// Total is the number of matches a search reports; 0 for listings.
	Total int
}

// pageBody is a list or search response.
type pageBody struct {
	Total   int         `json:"total"`
	Results []sync.Item `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

func (b pageBody) page() Page {
	p := Page{Items: b.Results, Total: b.Total}
	if p.Items == nil {
		p.Items = []sync.Item{}
	}
	if b.Paging != nil && b.Paging.Next != nil {
		p.Next = b.Paging.Next.After
	}
	return p
}

// ContactsPage returns one page of contacts, starting at the cursor after
// ("" for the first page). Pass Page.Next to get the following page.
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) ContactsPage(ctx context.Context, opts ListOptions, after string) (Page, error) {
	size := opts.PageSize
	if size == 0 {
		size = MaxPageSize
	}
	if size < 0 || size > MaxPageSize {
		return Page{}, fmt.Errorf("hubspot: page size %d is not between 1 and %d",
			opts.PageSize, MaxPageSize)
	}
	q := url.Values{"limit": {strconv.Itoa(size)}}
	if after != "" {
		q.Set("after", after)
	}
	if len(opts.Properties) > 0 {
		q.Set("properties", strings.Join(opts.Properties, ","))
	}
	if opts.Archived {
		q.Set("archived", "true")
	}
	var body pageBody
	if err := c.do(ctx, call{method: http.MethodGet, query: q}, &body); err != nil {
		return Page{}, fmt.Errorf("listing contacts: %w", err)
	}
	return body.page(), nil
}

// Contacts returns every contact, fetching one page of opts.PageSize after
// another by following "paging.next.after" until HubSpot gives none. The
// options are copied. Each call of the sequence lists afresh; a failure is
// yielded once as (nil, err) and ends it, as does a done ctx (ctx.Err()).
// Contacts created while the listing runs may or may not appear.
func (c *Client) Contacts(ctx context.Context, opts ListOptions) iter.Seq2[sync.Item, error] {
	opts.Properties = slices.Clone(opts.Properties)
	return func(yield func(sync.Item, error) bool) {
		after := ""
		for {
			page, err := c.ContactsPage(ctx, opts, after)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
			if page.Next == "" || page.Next == after {
				return
			}
			after = page.Next
		}
	}
}

// GetOptions selects what [Client.Get] and [Client.GetByEmail] return.
type GetOptions struct {
	// Properties names the properties to return; nil means HubSpot's
	// defaults.
	Properties []string
	// Archived reads an archived contact instead of an active one.
	Archived bool
}

// Get returns the contact with the given id. A missing or archived
// contact gives an [*APIError] matching [sync.ErrNotFound].
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) Get(ctx context.Context, id string, opts GetOptions) (sync.Item, error) {
	if id == "" {
		return nil, invalidf("empty contact id")
	}
	item, err := c.get(ctx, id, "", opts)
	if err != nil {
		return nil, fmt.Errorf("getting contact %s: %w", id, err)
	}
	return item, nil
}

// GetByEmail returns the contact whose primary email is email (matched
// case-insensitively), through the idProperty=email form of the get
// endpoint (or batch read by email for an address containing "/"). Unlike
// search it sees a write at once. A missing contact gives an error
// matching [sync.ErrNotFound].
func (c *Client) GetByEmail(ctx context.Context, email string, opts GetOptions) (sync.Item, error) {
	email = sync.NormalizeEmail(email)
	if email == "" {
		return nil, invalidf("empty email")
	}
	if strings.Contains(email, "/") {
		// A "/" would have to go in the path as %2F, which servers and
		// proxies often refuse; batch read takes the address in the body.
		return c.getByEmailBatch(ctx, email, opts)
	}
	item, err := c.get(ctx, email, "email", opts)
	if err != nil {
		return nil, fmt.Errorf("getting contact by email: %w", err)
	}
	return item, nil
}

// get sends GET /contacts/{id}. The id is a single path segment: "+" and
// "@" go out literally (HubSpot has answered "%40" with 404), other
// reserved characters escaped.
func (c *Client) get(ctx context.Context, id, idProperty string, opts GetOptions) (sync.Item,
	error) {
	q := url.Values{}
	if len(opts.Properties) > 0 {
		q.Set("properties", strings.Join(opts.Properties, ","))
	}
	if idProperty != "" {
		q.Set("idProperty", idProperty)
	}
	if opts.Archived {
		q.Set("archived", "true")
	}
	var item sync.Item
	if err := c.do(ctx, call{method: http.MethodGet, path: "/" + id, query: q}, &item); err != nil {
		return nil, err
	}
	return item, nil
}

func (c *Client) getByEmailBatch(ctx context.Context, email string, opts GetOptions) (sync.Item,
	error) {
	res, err := c.BatchRead(ctx, []string{email},
		BatchReadOptions{Properties: opts.Properties, IDProperty: "email"})
	if err != nil {
		return nil, fmt.Errorf("getting contact by email: %w", err)
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("getting contact by email: %w", res[0].Err)
	}
	return res[0].Item, nil
}

// BatchReadOptions selects what [Client.BatchRead] returns.
type BatchReadOptions struct {
	// Properties names the properties to return; nil means HubSpot's
	// defaults.
	Properties []string
	// IDProperty names the unique property the ids hold, such as "email";
	// "" means contact ids.
	IDProperty string
}

// BatchRead returns the contacts with the given ids (or values of
// opts.IDProperty), one [Result] per id in order, in calls of at most
// [MaxBatchInputs]. A missing contact gets an error matching
// [sync.ErrNotFound] in its Result. The error return is for a failure of a
// whole call; see [Client.BatchUpsert].
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) BatchRead(ctx context.Context, ids []string, opts BatchReadOptions) ([]Result,
	error) {
	props := slices.Clone(opts.Properties)
	if opts.IDProperty != "" && len(props) > 0 && !slices.Contains(props, opts.IDProperty) {
		props = append(props, opts.IDProperty) // results are matched to ids by it
	}
	inputs := make([]Input, len(ids))
	for i, id := range ids {
		inputs[i] = Input{ID: id, IDProperty: opts.IDProperty}
	}
	req := batchRequest{Properties: props, IDProperty: opts.IDProperty}
	return c.runBatch(ctx, opRead, inputs, &req)
}

// BatchCreate creates contacts, one [Result] per input in order, in calls
// of at most [MaxBatchInputs]. Inputs without an ObjectWriteTraceID get
// one, so HubSpot answers a partial failure with a multi-status response
// and one bad input does not fail the others (BatchUpdate and BatchUpsert
// do the same). A create is never repeated
// once it may have reached HubSpot (a timeout or a 5xx fails it instead),
// since that could duplicate a contact without an email. An email already
// taken gives an [*ItemError] matching [sync.ErrConflict] whose
// ExistingID names the contact that holds it.
//
// HubSpot promises no order of results, and a created contact is matched
// to its input by email. So each call carries at most one input without an
// email (its result is then the one without an email): n such inputs take
// at least n calls.
//
// The error return is for a failure of a whole call that no input
// explains; see [Client.BatchUpsert].
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) BatchCreate(ctx context.Context, inputs []Input) ([]Result, error) {
	return c.runBatch(ctx, opCreate, traceIDs(inputs), nil)
}

// BatchUpdate changes contacts by id (or by a unique property named in
// Input.IDProperty), one [Result] per input in order, in calls of at most
// [MaxBatchInputs]. See [Client.BatchUpsert] for how failures are
// reported.
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/contacts/batch/update-contacts
func (c *Client) BatchUpdate(ctx context.Context, inputs []Input) ([]Result, error) {
	return c.runBatch(ctx, opUpdate, traceIDs(inputs), nil)
}

// BatchUpsert creates or updates contacts by a unique property, by
// default email: Input.ID holds the address (set from
// Properties["email"] when empty). Result.New reports whether a contact
// was created. Repeating an upsert never duplicates a contact, so unlike
// creates it is retried after timeouts and 5xx responses.
//
// One [Result] comes back per input, in order. Longer slices go out in
// calls of at most [MaxBatchInputs]; inputs for the same address go to
// different calls, applied in order. An input whose email is certainly
// invalid is reported without a request. When HubSpot refuses a whole
// call because of some inputs (a 400 or 409), the client isolates them:
// inputs the error names get it and the rest are sent again; otherwise it
// splits the call in halves until each failing input stands alone. So
// one bad input never fails the others. An error that concerns every
// input is recognized by both halves failing exactly as the whole call
// did, at every level down to one input along the first halves (about
// 2·log2(n) requests rather than 2n); every input then gets it. Should
// that pattern arise from several inputs with the very same fault spread
// over the halves instead, good inputs of the call fail with them; this
// needs a bad input in each half at every level and is unlikely.
//
// The error return is for a failure no input explains (authentication, a
// rate limit, a server error after the retries, ctx); the results then
// still cover every input, and those whose outcome is unknown carry the
// error.
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts
func (c *Client) BatchUpsert(ctx context.Context, inputs []Input) ([]Result, error) {
	in := traceIDs(inputs)
	for i := range in {
		if in[i].IDProperty == "" {
			in[i].IDProperty = "email"
		}
		if in[i].ID == "" {
			in[i].ID = in[i].Properties[in[i].IDProperty]
		}
		if in[i].IDProperty == "email" {
			// The email goes in the properties too, so that the result
			// carries it and is matched to its input whatever the order.
			in[i].ID = sync.NormalizeEmail(in[i].ID)
			in[i].Properties = maps.Clone(in[i].Properties)
			if in[i].Properties == nil {
				in[i].Properties = map[string]string{}
			}
			in[i].Properties["email"] = in[i].ID
		}
	}
	return c.runBatch(ctx, opUpsert, in, nil)
}

// Archive archives the contact with the given id (HubSpot's DELETE, which
// can be undone for about 90 days). Archiving a contact that is already
// archived or does not exist succeeds, as HubSpot reports it.
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) Archive(ctx context.Context, id string) error {
	if id == "" {
		return invalidf("empty contact id")
	}
	if err := c.do(ctx, call{method: http.MethodDelete, path: "/" + id}, nil); err != nil {
		return fmt.Errorf("archiving contact %s: %w", id, err)
	}
	return nil
}

// BatchArchive archives contacts by id, one [Result] per id in order, in
// calls of at most [MaxBatchInputs]. HubSpot answers 204 whether or not
// each contact existed.
//
// HubSpot reference: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
func (c *Client) BatchArchive(ctx context.Context, ids []string) ([]Result, error) {
	inputs := make([]Input, len(ids))
	for i, id := range ids {
		inputs[i] = Input{ID: id}
	}
	return c.runBatch(ctx, opArchive, inputs, nil)
}
