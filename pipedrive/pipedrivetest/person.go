package pipedrivetest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// A Person is a Pipedrive person to store with [Server.Seed]. Zero fields
// get the server's defaults.
type Person struct {
	// ID is the id to use; 0 lets the server pick the next free id.
	// Seeding an id that is already taken panics.
	ID int

	// Name is the full name; FirstName and LastName in responses derive from
	// it (first word / rest).
	Name string

	// Emails and Phones keep their order. When no entry is primary the first
	// one becomes primary; when several are, only the first of them stays
	// primary. An empty Label becomes "work". Entries with an empty Value
	// are dropped.
	Emails []Contact
	Phones []Contact

	// OwnerID is the owning user (default: the server's user, see
	// [WithUserID]). OrgID is the organization, 0 for none.
	OwnerID int
	OrgID   int

	// VisibleTo is 1 (owner and followers), 3 (entire company, default),
	// 5 or 7 (visibility groups).
	VisibleTo int

	// LabelIDs are the label ids.
	LabelIDs []int

	// MarketingStatus is one of no_consent, unsubscribed, subscribed,
	// archived, or empty.
	MarketingStatus string

	// CustomFields maps 40-character field keys to values as they appear in
	// JSON (string, float64, bool, nil, []any, map[string]any).
	CustomFields map[string]any

	// AddTime defaults to the server clock; UpdateTime defaults to AddTime.
	// Both are truncated to whole seconds.
	AddTime    time.Time
	UpdateTime time.Time

	// Deleted stores the person soft-deleted.
	Deleted bool
}

// A Contact is one email address or phone number of a [Person].
type Contact struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	Primary bool   `json:"primary"`
}

// record is the stored form of a person.
type record struct {
	id              int
	name            string
	emails, phones  []Contact
	ownerID, orgID  int
	visibleTo       int
	labelIDs        []int
	marketingStatus string
	customFields    map[string]any
	addTime         time.Time
	updateTime      time.Time
	deleted         bool
}

func (r record) clone() record {
	r.emails = slices.Clone(r.emails)
	r.phones = slices.Clone(r.phones)
	r.labelIDs = slices.Clone(r.labelIDs)
	r.customFields = maps.Clone(r.customFields)
	return r
}

// entry is a stored person with the history the lagging search index sees.
type entry struct {
	cur      record
	versions []version // oldest first; only kept when search lag is on
}

type version struct {
	at  time.Time
	rec record
}

// normalizeContacts drops empty values, defaults labels and makes exactly
// one entry primary.
func normalizeContacts(cs []Contact) []Contact {
	out := make([]Contact, 0, len(cs))
	primary := false
	for _, c := range cs {
		if c.Value == "" {
			continue
		}
		if c.Label == "" {
			c.Label = "work"
		}
		if c.Primary && primary {
			c.Primary = false
		}
		primary = primary || c.Primary
		out = append(out, c)
	}
	if !primary && len(out) > 0 {
		out[0].Primary = true
	}
	return out
}

// splitName derives first_name and last_name: the first word and the rest.
func splitName(name string) (first string, last *string) {
	f := strings.Fields(name)
	if len(f) == 0 {
		return "", nil
	}
	if len(f) == 1 {
		return f[0], nil
	}
	rest := strings.Join(f[1:], " ")
	return f[0], &rest
}

func wholeSecond(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// Seed stores persons directly, without requests, and returns their ids in
// order. Seeded persons are searchable at once even with [WithSearchLag].
// Seed panics on an id that is already taken.
func (s *Server) Seed(persons ...Person) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int, len(persons))
	for i, p := range persons {
		ids[i] = s.seedLocked(p)
	}
	return ids
}

func (s *Server) seedLocked(p Person) int {
	now := wholeSecond(s.cfg.now())
	r := record{
		id:              p.ID,
		name:            p.Name,
		emails:          normalizeContacts(p.Emails),
		phones:          normalizeContacts(p.Phones),
		ownerID:         p.OwnerID,
		orgID:           p.OrgID,
		visibleTo:       p.VisibleTo,
		labelIDs:        slices.Clone(p.LabelIDs),
		marketingStatus: p.MarketingStatus,
		customFields:    maps.Clone(p.CustomFields),
		addTime:         wholeSecond(p.AddTime),
		updateTime:      wholeSecond(p.UpdateTime),
		deleted:         p.Deleted,
	}
	if p.AddTime.IsZero() {
		r.addTime = now
	}
	if p.UpdateTime.IsZero() {
		r.updateTime = r.addTime
	}
	return s.insertLocked(r, time.Time{}).id
}

// insertLocked stores r, assigning an id when r.id is 0 and defaulting the
// owner and visibility. The version becomes searchable at indexedAt (plus
// the search lag).
func (s *Server) insertLocked(r record, indexedAt time.Time) record {
	if r.id == 0 {
		r.id = s.nextID
	}
	if _, dup := s.persons[r.id]; dup {
		panic(fmt.Sprintf("pipedrivetest: person id %d already exists", r.id))
	}
	s.nextID = max(s.nextID, r.id+1)
	if r.ownerID == 0 {
		r.ownerID = s.cfg.userID
	}
	if r.visibleTo == 0 {
		r.visibleTo = 3
	}
	if r.customFields == nil {
		r.customFields = map[string]any{}
	}
	e := &entry{cur: r}
	s.persons[r.id] = e
	s.indexLocked(e, indexedAt)
	return r
}

// indexLocked records the current state of e for the search index.
func (s *Server) indexLocked(e *entry, at time.Time) {
	if s.cfg.searchLag == 0 {
		return
	}
	e.versions = append(e.versions, version{at: at, rec: e.cur.clone()})
}

// indexedLocked returns the state of e that the search index shows at now.
func (s *Server) indexedLocked(e *entry, now time.Time) (record, bool) {
	if s.cfg.searchLag == 0 {
		return e.cur, true
	}
	last := -1
	for i, v := range e.versions {
		if !v.at.Add(s.cfg.searchLag).After(now) {
			last = i
		}
	}
	if last < 0 {
		return record{}, false
	}
	e.versions = e.versions[last:]
	return e.versions[0].rec, true
}

// SeedJSON stores the persons of a JSON array whose elements have the
// shape of a v2 create request body (POST /api/v2/persons), validated as
// strictly as the API does. Fixtures may also set "id", "update_time" and
// "is_deleted", which the API does not accept. SeedJSON returns the ids in
// order; on an error it stores nothing.
func (s *Server) SeedJSON(r io.Reader) ([]int, error) {
	var raws []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raws); err != nil {
		return nil, fmt.Errorf("pipedrivetest: decoding fixture: %w", err)
	}
	persons := make([]Person, len(raws))
	for i, raw := range raws {
		in, aerr := parseV2(raw, modeSeed)
		if aerr != nil {
			return nil, fmt.Errorf("pipedrivetest: fixture person %d: %s", i, aerr.msg)
		}
		persons[i] = in.person()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range persons {
		if _, dup := s.persons[p.ID]; dup && p.ID != 0 {
			return nil, fmt.Errorf("pipedrivetest: fixture person id %d already exists", p.ID)
		}
	}
	ids := make([]int, len(persons))
	for i, p := range persons {
		ids[i] = s.seedLocked(p)
	}
	return ids, nil
}

// Persons returns a snapshot of every stored person, soft-deleted ones
// included (with "is_deleted": true), sorted by id, in the v2 response
// shape as decoded by encoding/json (numbers are float64).
func (s *Server) Persons() []map[string]any {
	s.mu.Lock()
	recs := make([]record, 0, len(s.persons))
	for _, e := range s.persons {
		recs = append(recs, e.cur.clone())
	}
	s.mu.Unlock()
	slices.SortFunc(recs, func(a, b record) int { return a.id - b.id })
	out := make([]map[string]any, len(recs))
	for i, r := range recs {
		out[i] = toMap(v2Person(r))
	}
	return out
}

// Person returns the stored person with the given id in the v2 response
// shape, soft-deleted or not, and whether it exists.
func (s *Server) Person(id int) (map[string]any, bool) {
	s.mu.Lock()
	e, ok := s.persons[id]
	var r record
	if ok {
		r = e.cur.clone()
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	return toMap(v2Person(r)), true
}

func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("pipedrivetest: encoding person: %v", err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("pipedrivetest: decoding person: %v", err))
	}
	return m
}

// personV2 is the v2 response shape of a person.
type personV2 struct {
	ID              int            `json:"id"`
	Name            string         `json:"name"`
	FirstName       string         `json:"first_name"`
	LastName        *string        `json:"last_name"`
	OwnerID         int            `json:"owner_id"`
	OrgID           *int           `json:"org_id"`
	AddTime         string         `json:"add_time"`
	UpdateTime      string         `json:"update_time"`
	Emails          []Contact      `json:"emails"`
	Phones          []Contact      `json:"phones"`
	IsDeleted       bool           `json:"is_deleted"`
	VisibleTo       int            `json:"visible_to"`
	LabelIDs        []int          `json:"label_ids"`
	PictureID       *int           `json:"picture_id"`
	MarketingStatus string         `json:"marketing_status,omitempty"`
	CustomFields    map[string]any `json:"custom_fields"`
}

const v2Time = "2006-01-02T15:04:05Z"

func v2Person(r record) personV2 {
	first, last := splitName(r.name)
	p := personV2{
		ID:              r.id,
		Name:            r.name,
		FirstName:       first,
		LastName:        last,
		OwnerID:         r.ownerID,
		AddTime:         r.addTime.UTC().Format(v2Time),
		UpdateTime:      r.updateTime.UTC().Format(v2Time),
		Emails:          nonNil(r.emails),
		Phones:          nonNil(r.phones),
		IsDeleted:       r.deleted,
		VisibleTo:       r.visibleTo,
		LabelIDs:        nonNil(r.labelIDs),
		MarketingStatus: r.marketingStatus,
		CustomFields:    r.customFields,
	}
	if r.orgID != 0 {
		org := r.orgID
		p.OrgID = &org
	}
	if p.CustomFields == nil {
		p.CustomFields = map[string]any{}
	}
	return p
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
