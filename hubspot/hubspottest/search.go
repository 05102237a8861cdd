package hubspottest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Search limits.
const (
	searchDefaultLimit    = 10
	searchMaxLimit        = 200
	searchMaxResults      = 10_000
	searchMaxGroups       = 5
	searchMaxGroupFilters = 6
	searchMaxFilters      = 18
	searchMaxQueryLen     = 3000
)

type searchBody struct {
	FilterGroups []filterGroup    `json:"filterGroups"`
	Sorts        []searchSort     `json:"sorts"`
	Query        string           `json:"query"`
	Properties   []string         `json:"properties"`
	Limit        *int             `json:"limit"`
	After        *json.RawMessage `json:"after"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchFilter struct {
	PropertyName string            `json:"propertyName"`
	Operator     string            `json:"operator"`
	Value        json.RawMessage   `json:"value"`
	HighValue    json.RawMessage   `json:"highValue"`
	Values       []json.RawMessage `json:"values"`
}

type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

type searchResponse struct {
	Total   int      `json:"total"`
	Results []object `json:"results"`
	Paging  *paging  `json:"paging,omitempty"`
}

// compiledFilter is a validated filter with its values as strings.
type compiledFilter struct {
	prop   string
	kind   propKind
	op     string
	value  string
	high   string
	values []string
}

// scalar turns a JSON string, number or boolean into its string form.
func scalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	if raw[0] == '{' || raw[0] == '[' {
		return "", false
	}
	return string(raw), true
}

// handleSearch serves POST …/contacts/search against the (possibly lagging)
// search index.
func (s *Server) handleSearch(r *http.Request, now time.Time) (int, any, *apiError) {
	var b searchBody
	if aerr := decodeBody(r, &b); aerr != nil {
		return 0, nil, aerr
	}
	limit, offset, aerr := searchPage(b)
	if aerr != nil {
		return 0, nil, aerr
	}
	if len(b.Query) > searchMaxQueryLen {
		return 0, nil, badRequest("query must be at most %d characters", searchMaxQueryLen)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	groups, aerr := s.compileGroups(b.FilterGroups)
	if aerr != nil {
		return 0, nil, aerr
	}
	sortBy, aerr := s.compileSort(b.Sorts)
	if aerr != nil {
		return 0, nil, aerr
	}
	type hit struct {
		id int64
		v  version
	}
	var hits []hit
	visibleAt := now.Add(-s.cfg.searchLag)
	for _, id := range s.ids {
		v, ok := s.records[id].at(visibleAt)
		if !ok || v.archived || !matchGroups(groups, v.props) || !matchQuery(b.Query, v.props) {
			continue
		}
		hits = append(hits, hit{id, v})
	}
	if sortBy != nil {
		slices.SortStableFunc(hits, func(a, b hit) int {
			return sortBy(a.v.props, b.v.props)
		})
	}
	resp := searchResponse{Total: len(hits), Results: []object{}}
	for i := offset; i < len(hits) && i < offset+limit; i++ {
		resp.Results = append(resp.Results, s.view(hits[i].id, hits[i].v, b.Properties, false))
	}
	if next := offset + limit; limit > 0 && next < len(hits) {
		resp.Paging = &paging{Next: pageNext{After: strconv.Itoa(next)}}
	}
	return http.StatusOK, resp, nil
}

// searchPage validates limit and after, including the 10,000-result ceiling.
func searchPage(b searchBody) (limit, offset int, _ *apiError) {
	limit = searchDefaultLimit
	if b.Limit != nil {
		limit = *b.Limit
	}
	if limit < 0 || limit > searchMaxLimit {
		return 0, 0, badRequest("limit must be between 0 and %d, got %d", searchMaxLimit, limit)
	}
	if b.After != nil {
		v, ok := scalar(*b.After)
		n, err := strconv.Atoi(v)
		if v != "" && (!ok || err != nil || n < 0) {
			return 0, 0, badRequest("Invalid paging cursor after=%s", string(*b.After))
		}
		offset = n
	}
	if offset+limit > searchMaxResults {
		return 0, 0, badRequest("Search results are limited to %d; paging past them "+
			"(after %d + limit %d) is not possible. Narrow the filters instead.",
			searchMaxResults, offset, limit)
	}
	return limit, offset, nil
}

// compileGroups validates the filter groups. The server lock must be held.
func (s *Server) compileGroups(groups []filterGroup) ([][]compiledFilter, *apiError) {
	if len(groups) > searchMaxGroups {
		return nil, badRequest("Too many filter groups: %d; the limit is %d", len(groups),
			searchMaxGroups)
	}
	total := 0
	out := make([][]compiledFilter, 0, len(groups))
	for _, g := range groups {
		if len(g.Filters) > searchMaxGroupFilters {
			return nil, badRequest("Too many filters in a filter group: %d; the limit is %d",
				len(g.Filters), searchMaxGroupFilters)
		}
		total += len(g.Filters)
		if total > searchMaxFilters {
			return nil, badRequest("Too many filters: %d; the limit is %d in total", total,
				searchMaxFilters)
		}
		var cg []compiledFilter
		for _, f := range g.Filters {
			cf, aerr := s.compileFilter(f)
			if aerr != nil {
				return nil, aerr
			}
			cg = append(cg, cf)
		}
		out = append(out, cg)
	}
	return out, nil
}

func (s *Server) compileFilter(f searchFilter) (compiledFilter, *apiError) {
	def, ok := s.props[f.PropertyName]
	if !ok {
		return compiledFilter{}, badRequest("Property %q does not exist", f.PropertyName)
	}
	cf := compiledFilter{prop: f.PropertyName, kind: def.kind, op: f.Operator}
	need := func(raw json.RawMessage, field string) (string, *apiError) {
		v, ok := scalar(raw)
		if !ok {
			return "", badRequest("Filter on %s with operator %s requires %s", f.PropertyName,
				f.Operator, field)
		}
		if def.kind == kindDateTime {
			if _, ok := parseInstant(v); !ok {
				return "", badRequest("%s is not a valid date-time for %s; use epoch "+
					"milliseconds or ISO-8601", v, f.PropertyName)
			}
		}
		return v, nil
	}
	var aerr *apiError
	switch f.Operator {
	case "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		cf.value, aerr = need(f.Value, "value")
	case "BETWEEN":
		if cf.value, aerr = need(f.Value, "value"); aerr == nil {
			cf.high, aerr = need(f.HighValue, "highValue")
		}
	case "IN", "NOT_IN":
		if len(f.Values) == 0 {
			return cf, badRequest("Filter on %s with operator %s requires values",
				f.PropertyName, f.Operator)
		}
		for _, raw := range f.Values {
			v, err := need(raw, "values")
			if err != nil {
				return cf, err
			}
			cf.values = append(cf.values, v)
		}
	case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
	default:
		return cf, badRequest("Unknown filter operator %q", f.Operator)
	}
	return cf, aerr
}

// compileSort validates the sorts and returns a comparison, nil for id
// order. The server lock must be held.
func (s *Server) compileSort(sorts []searchSort) (func(a, b map[string]string) int,
	*apiError) {
	switch len(sorts) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, badRequest("Only one sort is supported, got %d", len(sorts))
	}
	so := sorts[0]
	def, ok := s.props[so.PropertyName]
	if !ok {
		return nil, badRequest("Property %q does not exist", so.PropertyName)
	}
	sign := 1
	switch so.Direction {
	case "", "ASCENDING":
	case "DESCENDING":
		sign = -1
	default:
		return nil, badRequest("Unknown sort direction %q", so.Direction)
	}
	return func(a, b map[string]string) int {
		va, oka := a[so.PropertyName]
		vb, okb := b[so.PropertyName]
		switch {
		case !oka && !okb:
			return 0
		case !oka: // missing values sort last in either direction
			return 1
		case !okb:
			return -1
		}
		return sign * compareValues(def.kind, va, vb)
	}, nil
}

// compareValues orders two property values: date-times by instant, numbers
// numerically, everything else case-insensitively.
func compareValues(kind propKind, a, b string) int {
	if kind == kindDateTime {
		ta, oka := parseInstant(a)
		tb, okb := parseInstant(b)
		if oka && okb {
			return ta.Compare(tb)
		}
	}
	fa, erra := strconv.ParseFloat(strings.TrimSpace(a), 64)
	fb, errb := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if erra == nil && errb == nil {
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// equalValues reports whether a stored value equals a filter value:
// date-times by instant, everything else as case-insensitive text.
func equalValues(kind propKind, a, b string) bool {
	if kind == kindDateTime {
		ta, oka := parseInstant(a)
		tb, okb := parseInstant(b)
		if oka && okb {
			return ta.Equal(tb)
		}
	}
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// matchGroups reports whether props satisfy any group (all filters of it).
// No groups match everything.
func matchGroups(groups [][]compiledFilter, props map[string]string) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range groups {
		ok := true
		for _, f := range g {
			if !f.match(props) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (f compiledFilter) match(props map[string]string) bool {
	v, has := props[f.prop]
	switch f.op {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "NEQ":
		return !has || !equalValues(f.kind, v, f.value)
	case "NOT_IN":
		return !has || !slices.Contains(f.values, strings.ToLower(v))
	case "NOT_CONTAINS_TOKEN":
		return !has || !containsToken(v, f.value)
	}
	if !has {
		return false
	}
	switch f.op {
	case "EQ":
		return equalValues(f.kind, v, f.value)
	case "LT":
		return compareValues(f.kind, v, f.value) < 0
	case "LTE":
		return compareValues(f.kind, v, f.value) <= 0
	case "GT":
		return compareValues(f.kind, v, f.value) > 0
	case "GTE":
		return compareValues(f.kind, v, f.value) >= 0
	case "BETWEEN":
		return compareValues(f.kind, v, f.value) >= 0 && compareValues(f.kind, v, f.high) <= 0
	case "IN":
		// HubSpot matches IN against lower-cased values: upper-case inputs never
		// match a string property.
		if f.kind == kindDateTime {
			for _, want := range f.values {
				if equalValues(f.kind, v, want) {
					return true
				}
			}
			return false
		}
		return slices.Contains(f.values, strings.ToLower(v))
	case "CONTAINS_TOKEN":
		return containsToken(v, f.value)
	}
	return false
}

// tokens splits a value into the words the search index holds.
func tokens(v string) []string {
	return strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == ';' || r == ','
	})
}

// containsToken matches a CONTAINS_TOKEN pattern (with * wildcards) against
// the whole value or any of its tokens, case-insensitively.
func containsToken(v, pattern string) bool {
	pattern = strings.ToLower(pattern)
	candidates := append([]string{strings.ToLower(v)}, tokens(v)...)
	for _, c := range candidates {
		if wildcardMatch(pattern, c) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where "*" matches any run
// of characters and everything else matches itself.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// queryProperties are the properties the free-text query searches.
func queryProperties() []string {
	return []string{"firstname", "lastname", propEmail, "phone", "company",
		"hs_additional_emails"}
}

// matchQuery reports whether every word of the free-text query is a prefix of
// some word (or the whole value) of the searchable properties.
func matchQuery(query string, props map[string]string) bool {
	words := strings.Fields(strings.ToLower(query))
	for _, w := range words {
		found := false
		for _, p := range queryProperties() {
			v := strings.ToLower(props[p])
			if v == "" {
				continue
			}
			if strings.HasPrefix(v, w) || slices.ContainsFunc(tokens(v), func(t string) bool {
				return strings.HasPrefix(t, w)
			}) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
