package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Contact is a contact as stored by the fake: the input of [Server.Seed] and
// the output of [Server.Contacts].
type Contact struct {
	// ID is the numeric contact id. Empty in Seed means "assign the next id".
	ID string
	// Properties holds the property values. [Server.Contacts] includes the
	// server-maintained createdate, lastmodifieddate and hs_object_id.
	Properties map[string]string
	// Archived reports whether the contact is archived (deleted).
	Archived bool
	// CreatedAt and UpdatedAt are the record timestamps. Zero values in Seed
	// mean "now" by the server clock.
	CreatedAt, UpdatedAt time.Time
	// ArchivedAt is when the contact was archived; zero when it is not.
	ArchivedAt time.Time
}

// First id and id step of the fake. HubSpot ids are not contiguous; the gap
// catches clients that treat ids or cursors as offsets.
const (
	firstID = 101
	idStep  = 50
)

// version is one immutable state of a contact. Every write appends a new
// version; the search index reads older ones while [WithSearchLag] hides the
// newer.
type version struct {
	at         time.Time // when the write happened
	props      map[string]string
	createdAt  time.Time
	updatedAt  time.Time
	archived   bool
	archivedAt time.Time
}

// record is one contact with its recent versions, oldest first.
type record struct {
	id       int64
	versions []version
}

func (r *record) cur() version { return r.versions[len(r.versions)-1] }

// at returns the version the search index shows at instant t, or false when
// the contact did not exist yet.
func (r *record) at(t time.Time) (version, bool) {
	for i := len(r.versions) - 1; i >= 0; i-- {
		if !r.versions[i].at.After(t) {
			return r.versions[i], true
		}
	}
	return version{}, false
}

// push appends v and drops versions the search index no longer needs. The
// server lock must be held.
func (s *Server) push(r *record, v version) {
	r.versions = append(r.versions, v)
	cutoff := v.at.Add(-s.cfg.searchLag)
	keep := 0
	for i := len(r.versions) - 1; i >= 0; i-- {
		if !r.versions[i].at.After(cutoff) {
			keep = i
			break
		}
	}
	r.versions = slices.Clone(r.versions[keep:])
}

func msTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// createLocked stores a new contact. changes must be validated and must not
// conflict. The server lock must be held.
func (s *Server) createLocked(changes map[string]string, now time.Time) *record {
	id := s.nextID
	s.nextID += idStep
	return s.insertLocked(id, changes, now, now, now)
}

func (s *Server) insertLocked(id int64, changes map[string]string,
	at, createdAt, updatedAt time.Time) *record {
	props := map[string]string{}
	for k, v := range changes {
		if v != "" {
			props[k] = v
		}
	}
	createdAt, updatedAt = msTime(createdAt), msTime(updatedAt)
	idStr := strconv.FormatInt(id, 10)
	props[propObjectID] = idStr
	props[propCreateDate] = formatTime(createdAt)
	props[propLastModified] = formatTime(updatedAt)
	r := &record{id: id}
	r.versions = []version{{at: at, props: props, createdAt: createdAt, updatedAt: updatedAt}}
	s.records[id] = r
	if i, found := slices.BinarySearch(s.ids, id); !found {
		s.ids = slices.Insert(s.ids, i, id)
	}
	if e := props[propEmail]; e != "" {
		s.emails[e] = id
	}
	return r
}

// updateLocked applies validated, non-conflicting changes to r. The server
// lock must be held.
func (s *Server) updateLocked(r *record, changes map[string]string, now time.Time) {
	v := r.cur()
	props := maps.Clone(v.props)
	oldEmail := props[propEmail]
	for k, val := range changes {
		if val == "" {
			delete(props, k)
		} else {
			props[k] = val
		}
	}
	v.updatedAt = msTime(now)
	props[propLastModified] = formatTime(v.updatedAt)
	v.props, v.at = props, now
	if e := props[propEmail]; e != oldEmail {
		if s.emails[oldEmail] == r.id {
			delete(s.emails, oldEmail)
		}
		if e != "" {
			s.emails[e] = r.id
		}
	}
	s.push(r, v)
}

// archiveLocked archives r. The server lock must be held.
func (s *Server) archiveLocked(r *record, now time.Time) {
	v := r.cur()
	if v.archived {
		return
	}
	v.at, v.archived, v.archivedAt = now, true, msTime(now)
	if e := v.props[propEmail]; e != "" && s.emails[e] == r.id {
		delete(s.emails, e)
	}
	s.push(r, v)
}

// emailOwner returns the id of the live contact that has email as primary
// address. The server lock must be held.
func (s *Server) emailOwner(email string) (int64, bool) {
	id, ok := s.emails[email]
	return id, ok
}

// lookup finds a contact by id or, with idProperty "email", by email. It
// returns archived contacts only when archived is true, and live ones only
// when it is false. The server lock must be held.
func (s *Server) lookup(id, idProperty string, archived bool) (*record, *apiError) {
	switch idProperty {
	case "", propObjectID:
		n, err := strconv.ParseInt(id, 10, 64)
		r, ok := s.records[n]
		if err != nil || !ok || r.cur().archived != archived {
			return nil, notFound(id)
		}
		return r, nil
	case propEmail:
		email := normalizeEmail(id)
		if !archived {
			if n, ok := s.emails[email]; ok {
				return s.records[n], nil
			}
			return nil, notFound(id)
		}
		for _, n := range s.ids {
			if v := s.records[n].cur(); v.archived && v.props[propEmail] == email {
				return s.records[n], nil
			}
		}
		return nil, notFound(id)
	default:
		if _, ok := s.props[idProperty]; !ok {
			return nil, badRequest("Property %q does not exist", idProperty)
		}
		return nil, badRequest("%s is not a unique identifier property; use email or "+
			"hs_object_id", idProperty)
	}
}

// checkIdentifying enforces HubSpot's rule that a contact needs an email,
// first name or last name.
func checkIdentifying(props map[string]string) *apiError {
	for _, k := range []string{propEmail, "firstname", "lastname"} {
		if props[k] != "" {
			return nil
		}
	}
	return badRequest("A contact must have at least one of the following properties: " +
		"email, firstname, lastname")
}

// Seed stores contacts directly, without requests, rate limits or faults,
// and returns their ids in order. Contacts without ID get the next id;
// Properties are validated as a create would (known names, valid and unique
// email), except that the server-maintained properties are ignored. Seed
// panics on invalid input, as seeding errors are bugs in the test.
func (s *Server) Seed(contacts ...Contact) []string {
	ids, err := s.seed(contacts)
	if err != nil {
		panic("hubspottest: Seed: " + err.Error())
	}
	return ids
}

// SeedProperties is a shorthand for [Server.Seed] with one contact per
// property map.
func (s *Server) SeedProperties(props ...map[string]string) []string {
	contacts := make([]Contact, len(props))
	for i, p := range props {
		contacts[i] = Contact{Properties: p}
	}
	return s.Seed(contacts...)
}

// seedJSON is one element of the SeedJSON input.
type seedJSON struct {
	ID         json.Number                `json:"id"`
	Properties map[string]json.RawMessage `json:"properties"`
	Archived   bool                       `json:"archived"`
	CreatedAt  time.Time                  `json:"createdAt"`
	UpdatedAt  time.Time                  `json:"updatedAt"`
}

// SeedJSON stores the contacts of a JSON array in the API's create shape,
// [{"properties": {"email": "…"}}, …], optionally with "id", "archived",
// "createdAt" and "updatedAt". It stores nothing when any element is
// invalid.
func (s *Server) SeedJSON(r io.Reader) error {
	var in []seedJSON
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("hubspottest: decoding seed JSON: %w", err)
	}
	contacts := make([]Contact, len(in))
	for i, c := range in {
		props := make(map[string]string, len(c.Properties))
		for k, raw := range c.Properties {
			v, aerr := coerceValue(k, raw)
			if aerr != nil {
				return fmt.Errorf("hubspottest: seed contact %d: %w", i, aerr)
			}
			props[k] = v
		}
		contacts[i] = Contact{ID: c.ID.String(), Properties: props, Archived: c.Archived,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	}
	_, err := s.seed(contacts)
	return err
}

func (s *Server) seed(contacts []Contact) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	plans, err := s.planSeed(contacts)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(contacts))
	for i, c := range contacts {
		id := plans[i].id
		created, updated := c.CreatedAt, c.UpdatedAt
		if created.IsZero() {
			created = now
		}
		if updated.IsZero() {
			updated = now
			if created.After(now) {
				updated = created
			}
		}
		email := plans[i].changes[propEmail]
		prevOwner, hadOwner := s.emails[email]
		r := s.insertLocked(id, plans[i].changes, now, created, updated)
		if c.Archived {
			at := c.ArchivedAt
			if at.IsZero() {
				at = now
			}
			s.archiveLocked(r, now)
			v := r.cur()
			v.archivedAt = msTime(at)
			r.versions[len(r.versions)-1] = v
			if hadOwner {
				s.emails[email] = prevOwner
			}
		}
		// Seeded contacts predate the test: the search index already has them.
		v := r.cur()
		v.at = time.Time{}
		r.versions = []version{v}
		ids[i] = strconv.FormatInt(id, 10)
	}
	return ids, nil
}

type seedPlan struct {
	id      int64
	changes map[string]string
}

// planSeed validates contacts against the store and each other. The server
// lock must be held.
func (s *Server) planSeed(contacts []Contact) ([]seedPlan, error) {
	plans := make([]seedPlan, len(contacts))
	emails := map[string]bool{}
	ids := map[int64]bool{}
	for i, c := range contacts {
		raw := map[string]json.RawMessage{}
		for k, v := range c.Properties {
			if k == propObjectID || k == propCreateDate || k == propLastModified {
				continue
			}
			b, _ := json.Marshal(v)
			raw[k] = b
		}
		changes, aerr := s.validateChanges(raw)
		if aerr != nil {
			return nil, fmt.Errorf("contact %d: %w", i, aerr)
		}
		if aerr := checkIdentifying(changes); aerr != nil {
			return nil, fmt.Errorf("contact %d: %w", i, aerr)
		}
		if c.ID != "" {
			n, err := strconv.ParseInt(c.ID, 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("contact %d: id %q is not a positive number", i, c.ID)
			}
			if _, taken := s.records[n]; taken || ids[n] {
				return nil, fmt.Errorf("contact %d: id %s already exists", i, c.ID)
			}
			ids[n] = true
			plans[i].id = n
		}
		if e := changes[propEmail]; e != "" && !c.Archived {
			if _, taken := s.emailOwner(e); taken || emails[e] {
				return nil, fmt.Errorf("contact %d: email %s already exists", i, e)
			}
			emails[e] = true
		}
		plans[i].changes = changes
	}
	// Automatic ids skip the explicit ones; later ids stay above all of them.
	for i := range plans {
		if plans[i].id != 0 {
			continue
		}
		for ids[s.nextID] {
			s.nextID += idStep
		}
		plans[i].id = s.nextID
		s.nextID += idStep
	}
	for n := range ids {
		if n >= s.nextID {
			s.nextID = n + idStep
		}
	}
	return plans, nil
}

// Contacts returns a snapshot of every stored contact, archived ones
// included, sorted by id. The result is the caller's to change.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.ids))
	for _, id := range s.ids {
		v := s.records[id].cur()
		out = append(out, Contact{
			ID:         strconv.FormatInt(id, 10),
			Properties: maps.Clone(v.props),
			Archived:   v.archived,
			CreatedAt:  v.createdAt,
			UpdatedAt:  v.updatedAt,
			ArchivedAt: v.archivedAt,
		})
	}
	return out
}

// object is a contact in the API's JSON shape (SimplePublicObject).
type object struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt string             `json:"archivedAt,omitempty"`
	New        *bool              `json:"new,omitempty"`
}

// view renders version v of contact id. With names nil it returns the
// default property set; with all it returns every property that has a value;
// otherwise the named known properties (null when unset) plus the system
// properties. The server lock must be held.
func (s *Server) view(id int64, v version, names []string, all bool) object {
	props := map[string]*string{}
	add := func(name string) {
		if val, ok := v.props[name]; ok {
			props[name] = &val
		} else {
			props[name] = nil
		}
	}
	switch {
	case all:
		for name, val := range v.props {
			props[name] = &val
		}
	case len(names) == 0:
		for _, name := range defaultProperties() {
			add(name)
		}
	default:
		for _, name := range names {
			if _, known := s.props[name]; known {
				add(name)
			}
		}
		for _, name := range systemProperties() {
			add(name)
		}
	}
	o := object{
		ID:         strconv.FormatInt(id, 10),
		Properties: props,
		CreatedAt:  formatTime(v.createdAt),
		UpdatedAt:  formatTime(v.updatedAt),
		Archived:   v.archived,
	}
	if v.archived {
		o.ArchivedAt = formatTime(v.archivedAt)
	}
	return o
}
