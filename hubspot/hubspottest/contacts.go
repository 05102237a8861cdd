package hubspottest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// List page sizes.
const (
	listDefaultLimit = 10
	listMaxLimit     = 100
)

type listResponse struct {
	Results []object `json:"results"`
	Paging  *paging  `json:"paging,omitempty"`
}

type paging struct {
	Next pageNext `json:"next"`
}

type pageNext struct {
	After string `json:"after"`
	Link  string `json:"link,omitempty"`
}

// writeBody is the body of a create or update.
type writeBody struct {
	Properties   map[string]json.RawMessage `json:"properties"`
	Associations json.RawMessage            `json:"associations"`
}

// decodeBody reads a JSON request body into v.
func decodeBody(r *http.Request, v any) *apiError {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return badRequest("Invalid input JSON: reading body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return badRequest("Invalid input JSON at offset %d: %v", syn.Offset, err)
		}
		return badRequest("Invalid input JSON: %v", err)
	}
	return nil
}

// readOptions are the query parameters shared by list and get.
func readOptions(r *http.Request) (names []string, archived bool) {
	q := r.URL.Query()
	return requestedProperties(q["properties"]), q.Get("archived") == "true"
}

// handleList serves GET …/contacts.
func (s *Server) handleList(r *http.Request, _ time.Time) (int, any, *apiError) {
	q := r.URL.Query()
	limit := listDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > listMaxLimit {
			return 0, nil, badRequest("limit must be a number between 1 and %d, got %q",
				listMaxLimit, v)
		}
		limit = n
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, nil, badRequest("Invalid paging cursor after=%q", v)
		}
		after = n
	}
	names, archived := readOptions(r)

	s.mu.Lock()
	defer s.mu.Unlock()
	resp := listResponse{Results: []object{}}
	i, _ := slices.BinarySearch(s.ids, after)
	for ; i < len(s.ids); i++ {
		rec := s.records[s.ids[i]]
		v := rec.cur()
		if v.archived != archived {
			continue
		}
		if len(resp.Results) == limit {
			next := strconv.FormatInt(rec.id, 10)
			q.Set("after", next)
			link := s.URL + r.URL.Path + "?" + q.Encode()
			resp.Paging = &paging{Next: pageNext{After: next, Link: link}}
			break
		}
		resp.Results = append(resp.Results, s.view(rec.id, v, names, false))
	}
	return http.StatusOK, resp, nil
}

// handleGet serves GET …/contacts/{id}.
func (s *Server) handleGet(r *http.Request, id string, _ time.Time) (int, any, *apiError) {
	names, archived := readOptions(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, aerr := s.lookup(id, r.URL.Query().Get("idProperty"), archived)
	if aerr != nil {
		return 0, nil, aerr
	}
	return http.StatusOK, s.view(rec.id, rec.cur(), names, false), nil
}

// handleCreate serves POST …/contacts.
func (s *Server) handleCreate(r *http.Request, now time.Time) (int, any, *apiError) {
	var body writeBody
	if aerr := decodeBody(r, &body); aerr != nil {
		return 0, nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, aerr := s.checkCreate(body.Properties, nil)
	if aerr != nil {
		return 0, nil, aerr
	}
	rec := s.createLocked(changes, now)
	return http.StatusCreated, s.view(rec.id, rec.cur(), nil, true), nil
}

// claims tracks the primary emails a batch has taken or freed before it is
// applied: email → owner id, 0 for freed, -1 for a contact the batch creates.
type claims map[string]int64

// ownerOf returns the id owning email, taking claims into account.
func (s *Server) ownerOf(email string, c claims) (int64, bool) {
	if id, ok := c[email]; ok {
		return id, id != 0
	}
	return s.emailOwner(email)
}

// checkCreate validates a create: property values, identifying property and
// email uniqueness. c (may be nil) records the claim. The server lock must be
// held.
func (s *Server) checkCreate(raw map[string]json.RawMessage, c claims) (map[string]string,
	*apiError) {
	changes, aerr := s.validateChanges(raw)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkIdentifying(changes); aerr != nil {
		return nil, aerr
	}
	if e := changes[propEmail]; e != "" {
		if owner, taken := s.ownerOf(e, c); taken {
			if owner < 0 {
				return nil, duplicateInBatch(propEmail, e)
			}
			return nil, conflict(strconv.FormatInt(owner, 10))
		}
		if c != nil {
			c[e] = -1
		}
	}
	return changes, nil
}

// checkUpdate validates an update of rec. The server lock must be held.
func (s *Server) checkUpdate(rec *record, raw map[string]json.RawMessage, c claims) (
	map[string]string, *apiError) {
	changes, aerr := s.validateChanges(raw)
	if aerr != nil {
		return nil, aerr
	}
	e, ok := changes[propEmail]
	old := rec.cur().props[propEmail]
	if !ok || e == old {
		return changes, nil
	}
	if e != "" {
		if owner, taken := s.ownerOf(e, c); taken && owner != rec.id {
			if owner < 0 {
				return nil, duplicateInBatch(propEmail, e)
			}
			return nil, conflict(strconv.FormatInt(owner, 10))
		}
	}
	if c != nil {
		if old != "" {
			c[old] = 0
		}
		if e != "" {
			c[e] = rec.id
		}
	}
	return changes, nil
}

func duplicateInBatch(prop, value string) *apiError {
	return badRequest("Duplicate values for unique property %s found in batch input: [%s]",
		prop, value)
}

// handleUpdate serves PATCH …/contacts/{id}.
func (s *Server) handleUpdate(r *http.Request, id string, now time.Time) (int, any,
	*apiError) {
	var body writeBody
	if aerr := decodeBody(r, &body); aerr != nil {
		return 0, nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, aerr := s.lookup(id, r.URL.Query().Get("idProperty"), false)
	if aerr != nil {
		return 0, nil, aerr
	}
	changes, aerr := s.checkUpdate(rec, body.Properties, nil)
	if aerr != nil {
		return 0, nil, aerr
	}
	s.updateLocked(rec, changes, now)
	return http.StatusOK, s.view(rec.id, rec.cur(), nil, true), nil
}

// handleArchive serves DELETE …/contacts/{id}. Like HubSpot it answers 204
// also for unknown or already archived ids.
func (s *Server) handleArchive(r *http.Request, id string, now time.Time) (int, any,
	*apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, aerr := s.lookup(id, r.URL.Query().Get("idProperty"), false); aerr == nil {
		s.archiveLocked(rec, now)
	}
	return http.StatusNoContent, nil, nil
}

// handleGDPRDelete serves POST …/contacts/gdpr-delete: permanent deletion.
func (s *Server) handleGDPRDelete(r *http.Request, _ time.Time) (int, any, *apiError) {
	var body struct {
		ObjectID   string `json:"objectId"`
		IDProperty string `json:"idProperty"`
	}
	if aerr := decodeBody(r, &body); aerr != nil {
		return 0, nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, aerr := s.lookup(body.ObjectID, body.IDProperty, false)
	if aerr != nil {
		rec, aerr = s.lookup(body.ObjectID, body.IDProperty, true)
	}
	if aerr != nil {
		return 0, nil, aerr
	}
	if e := rec.cur().props[propEmail]; e != "" && s.emails[e] == rec.id {
		delete(s.emails, e)
	}
	delete(s.records, rec.id)
	if i, found := slices.BinarySearch(s.ids, rec.id); found {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
	return http.StatusNoContent, nil, nil
}
