package hubspot

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"strconv"

	"github.com/keysync/sync"
)

// Search limits that HubSpot enforces.
const (
	// MaxSearchPageSize is the largest page a search returns.
	MaxSearchPageSize = 200
	// SearchCeiling is how many results one search can page through.
	SearchCeiling = 10_000
)

// Search operators, for Filter.Operator.
const (
	OpEQ             = "EQ"
	OpNEQ            = "NEQ"
	OpLT             = "LT"
	OpLTE            = "LTE"
	OpGT             = "GT"
	OpGTE            = "GTE"
	OpBetween        = "BETWEEN"
	OpIn             = "IN"
	OpNotIn          = "NOT_IN"
	OpHasProperty    = "HAS_PROPERTY"
	OpNotHasProperty = "NOT_HAS_PROPERTY"
	OpContainsToken  = "CONTAINS_TOKEN"
)

// Sort directions, for Sort.Direction.
const (
	Ascending  = "ASCENDING"
	Descending = "DESCENDING"
)

// SearchRequest is the body of a contact search. Filter groups are OR'ed,
// the filters inside a group AND'ed.
type SearchRequest struct {
	// FilterGroups select the contacts; none matches all.
	FilterGroups []FilterGroup `json:"filterGroups,omitempty"`
	// Sorts orders the results; HubSpot honours one sort.
	Sorts []Sort `json:"sorts,omitempty"`
	// Query is free text matched against default searchable properties.
	Query string `json:"query,omitempty"`
	// Properties names the properties to return; nil means HubSpot's
	// defaults.
	Properties []string `json:"properties,omitempty"`
	// Limit is the page size, at most [MaxSearchPageSize]; 0 means 100.
	Limit int `json:"limit,omitempty"`
	// After is the cursor of the page to return; "" for the first.
	After string `json:"after,omitempty"`
}

// FilterGroup is a set of filters that must all hold.
type FilterGroup struct {
	// Filters are AND'ed.
	Filters []Filter `json:"filters"`
}

// Filter is one condition on a property. Datetime values are epoch
// milliseconds as a string.
type Filter struct {
	// PropertyName is the property compared, such as "email".
	PropertyName string `json:"propertyName"`
	// Operator is one of the Op constants, such as [OpEQ].
	Operator string `json:"operator"`
	// Value is the operand of single-value operators.
	Value string `json:"value,omitempty"`
	// HighValue is the upper bound of [OpBetween].
	HighValue string `json:"highValue,omitempty"`
	// Values are the operands of [OpIn] and [OpNotIn].
	Values []string `json:"values,omitempty"`
}

// Sort orders search results by one property.
type Sort struct {
	// PropertyName is the property sorted on.
	PropertyName string `json:"propertyName"`
	// Direction is [Ascending] or [Descending].
	Direction string `json:"direction"`
}

// SearchPage returns one page of search results; pass Page.Next as
// req.After for the following one. Search requests wait for the search
// rate limit (see [WithSearchRateLimit]) as well as the general one.
// HubSpot's search index lags behind writes by a few seconds, so a contact
// written moments ago may be missing or stale. Archived contacts never
// match.
//
// HubSpot reference: https://developers.hubspot.com/docs/api/crm/search
func (c *Client) SearchPage(ctx context.Context, req SearchRequest) (Page, error) {
	if req.Limit < 0 || req.Limit > MaxSearchPageSize {
		return Page{}, fmt.Errorf("hubspot: search limit %d is not between 1 and %d",
			req.Limit, MaxSearchPageSize)
	}
	if req.Limit == 0 {
		req.Limit = 100
	}
	var body pageBody
	r := call{method: http.MethodPost, path: "/search", body: req, search: true}
	if err := c.do(ctx, r, &body); err != nil {
		return Page{}, fmt.Errorf("searching contacts: %w", err)
	}
	return body.page(), nil
}

// Search returns every contact that req matches, page after page, starting
// at req.After. HubSpot lets one search page through at most
// [SearchCeiling] results: when more match, the sequence ends by yielding
// [ErrSearchCeiling] after the last result it could fetch, rather than
// asking for a page HubSpot would refuse. The request is copied. Each call
// of the sequence searches afresh; a failure is yielded once as (nil, err)
// and ends it. See [Client.SearchPage] for the index lag.
func (c *Client) Search(ctx context.Context, req SearchRequest) iter.Seq2[sync.Item, error] {
	req = cloneSearch(req)
	return func(yield func(sync.Item, error) bool) {
		r := req
		limit := r.Limit
		if limit == 0 {
			limit = 100
		}
		fetched := 0 // HubSpot's search cursor is the offset in practice
		if n, err := strconv.Atoi(r.After); err == nil && n > 0 {
			fetched = n
		}
		for {
			remaining := c.searchCeiling - fetched
			if remaining <= 0 {
				yield(nil, ErrSearchCeiling)
				return
			}
			r.Limit = min(limit, remaining)
			page, err := c.SearchPage(ctx, r)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, item := range page.Items {
				if !yield(item, nil) {
					return
				}
			}
			fetched += len(page.Items)
			if page.Next == "" || page.Next == r.After || len(page.Items) == 0 {
				return
			}
			r.After = page.Next
		}
	}
}

func cloneSearch(req SearchRequest) SearchRequest {
	req.FilterGroups = slices.Clone(req.FilterGroups)
	for i := range req.FilterGroups {
		fs := slices.Clone(req.FilterGroups[i].Filters)
		for j := range fs {
			fs[j].Values = slices.Clone(fs[j].Values)
		}
		req.FilterGroups[i].Filters = fs
	}
	req.Sorts = slices.Clone(req.Sorts)
	req.Properties = slices.Clone(req.Properties)
	return req
}

// SearchByEmail returns the contacts whose primary email equals email
// (trimmed; HubSpot compares case-insensitively), with the given
// properties (nil means HubSpot's defaults). It returns an empty slice when
// there is none. Being a search, it may miss a contact written in the last
// few seconds; [Client.GetByEmail] does not.
func (c *Client) SearchByEmail(ctx context.Context, email string, properties []string) (
	[]sync.Item, error) {
	email = sync.NormalizeEmail(email)
	if email == "" {
		return nil, invalidf("empty email")
	}
	req := SearchRequest{
		FilterGroups: []FilterGroup{{Filters: []Filter{
			{PropertyName: "email", Operator: OpEQ, Value: email},
		}}},
		Properties: properties,
		Limit:      MaxSearchPageSize,
	}
	items := []sync.Item{}
	for item, err := range c.Search(ctx, req) {
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}
