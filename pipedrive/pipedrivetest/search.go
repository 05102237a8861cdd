package pipedrivetest

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// searchQuery is a parsed persons search request.
type searchQuery struct {
	term   string
	fields map[string]bool // nil: all fields
	exact  bool
	orgID  int
}

// parseSearch parses term, fields, exact_match and organization_id. With
// strict (v2), exact_match must be true or false; v1 also takes 1 and 0.
func parseSearch(q url.Values, strict bool) (searchQuery, *apiError) {
	sq := searchQuery{term: strings.TrimSpace(q.Get("term"))}
	switch v := q.Get("exact_match"); {
	case v == "" || v == "false" || (!strict && v == "0"):
	case v == "true" || (!strict && v == "1"):
		sq.exact = true
	default:
		return sq, schemaError("exact_match: must be a boolean")
	}
	minLen := 2
	if sq.exact {
		minLen = 1
	}
	if utf8.RuneCountInString(sq.term) < minLen {
		return sq, schemaError("term: must be at least %d characters long", minLen)
	}
	if f := q.Get("fields"); f != "" {
		sq.fields = map[string]bool{}
		for name := range strings.SplitSeq(f, ",") {
			name = strings.TrimSpace(name)
			switch name {
			case "custom_fields", "email", "notes", "phone", "name":
				sq.fields[name] = true
			default:
				return sq, schemaError(
					"fields: must be a list of custom_fields, email, notes, phone, name")
			}
		}
	}
	var aerr *apiError
	sq.orgID, aerr = queryInt(q, "organization_id")
	return sq, aerr
}

func (sq searchQuery) want(field string) bool { return sq.fields == nil || sq.fields[field] }

// score rates how well r matches; 0 means no match. Exact matching
// compares whole values ignoring case; otherwise the term must occur in a
// value ignoring case, and matches at the start of the value or of a word
// rate higher. It also returns the matching custom field values.
func (sq searchQuery) score(r record) (float64, []string) {
	best := 0.0
	try := func(v string) float64 {
		s := sq.matchScore(v)
		best = max(best, s)
		return s
	}
	if sq.want("name") {
		try(r.name)
	}
	if sq.want("email") {
		for _, c := range r.emails {
			try(c.Value)
		}
	}
	if sq.want("phone") {
		for _, c := range r.phones {
			try(c.Value)
		}
	}
	var custom []string
	if sq.want("custom_fields") {
		for _, k := range slices.Sorted(maps.Keys(r.customFields)) {
			v := r.customFields[k]
			if v == nil {
				continue
			}
			if text := fmt.Sprint(v); try(text) > 0 {
				custom = append(custom, text)
			}
		}
	}
	return best, custom
}

func (sq searchQuery) matchScore(v string) float64 {
	if strings.EqualFold(v, sq.term) {
		return 1
	}
	if sq.exact || v == "" {
		return 0
	}
	lv, lt := strings.ToLower(v), strings.ToLower(sq.term)
	i := strings.Index(lv, lt)
	if i < 0 {
		return 0
	}
	ratio := float64(len(lt)) / float64(len(lv))
	var score float64
	switch {
	case i == 0:
		score = 0.6 + 0.3*ratio // the value starts with the term
	case wordStart(lv, lt):
		score = 0.4 + 0.3*ratio // a word starts with the term
	default:
		score = 0.1 + 0.2*ratio
	}
	return math.Round(score*1000) / 1000
}

// wordStart reports whether term occurs in v right after a non-letter.
func wordStart(v, term string) bool {
	for i := range len(v) {
		if strings.HasPrefix(v[i:], term) && (i == 0 || !isWordByte(v[i-1])) {
			return true
		}
	}
	return false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

type searchItem struct {
	ResultScore float64      `json:"result_score"`
	Item        searchPerson `json:"item"`
}

type searchPerson struct {
	ID           int        `json:"id"`
	Type         string     `json:"type"`
	Name         string     `json:"name"`
	Phones       []string   `json:"phones"`
	Emails       []string   `json:"emails"`
	VisibleTo    int        `json:"visible_to"`
	Owner        idObject   `json:"owner"`
	Organization *searchOrg `json:"organization"`
	CustomFields []string   `json:"custom_fields"`
	Notes        []string   `json:"notes"`
}

type idObject struct {
	ID int `json:"id"`
}

type searchOrg struct {
	ID      int     `json:"id"`
	Name    string  `json:"name"`
	Address *string `json:"address"`
}

// orgName is the made-up name of organization id; the fake stores no
// organizations.
func orgName(id int) string { return "Organization " + strconv.Itoa(id) }

func values(cs []Contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Value
	}
	return out
}

// search returns the matching persons as the search index shows them at
// now, best first.
func (s *Server) search(tok string, sq searchQuery, now time.Time) []searchItem {
	s.mu.Lock()
	ts := s.tokens[tok]
	var items []searchItem
	for _, e := range s.persons {
		r, ok := s.indexedLocked(e, now)
		if !ok || r.deleted || ts == nil || !ts.sees(r.id) {
			continue
		}
		if sq.orgID != 0 && r.orgID != sq.orgID {
			continue
		}
		if score, custom := sq.score(r); score > 0 {
			items = append(items, searchItem{ResultScore: score, Item: searchItemOf(r, custom)})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b searchItem) int {
		return cmp.Or(cmp.Compare(b.ResultScore, a.ResultScore), cmp.Compare(a.Item.ID, b.Item.ID))
	})
	return items
}

func searchItemOf(r record, custom []string) searchPerson {
	p := searchPerson{
		ID: r.id, Type: "person", Name: r.name,
		Phones: values(r.phones), Emails: values(r.emails),
		VisibleTo: r.visibleTo, Owner: idObject{ID: r.ownerID},
		CustomFields: nonNil(custom), Notes: []string{},
	}
	if r.orgID != 0 {
		p.Organization = &searchOrg{ID: r.orgID, Name: orgName(r.orgID)}
	}
	return p
}

type searchCursor struct {
	Offset int `json:"o"`
}

func (s *Server) searchV2(w http.ResponseWriter, r *http.Request, tok string) {
	q := r.URL.Query()
	sq, aerr := parseSearch(q, true)
	var limit int
	if aerr == nil {
		limit, aerr = parseLimit(q, s.cfg.pageMax)
	}
	var c searchCursor
	if aerr == nil && q.Get("cursor") != "" {
		aerr = decodeCursor(q.Get("cursor"), &c)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	items := s.search(tok, sq, s.cfg.now())
	items = items[min(c.Offset, len(items)):]
	var next *string
	if len(items) > limit {
		items = items[:limit]
		n := encodeCursor(searchCursor{Offset: c.Offset + limit})
		next = &n
	}
	var data any = items
	if len(items) == 0 {
		data = []searchItem{}
		if s.cfg.nullEmpty {
			data = nil
		}
	}
	writeOK(w, http.StatusOK, map[string]any{"items": data}, map[string]any{"next_cursor": next})
}
