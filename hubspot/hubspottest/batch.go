package hubspottest

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// batchMax is the most inputs a batch request may carry.
const batchMax = 100

type batchInput struct {
	ID                 string                     `json:"id"`
	IDProperty         string                     `json:"idProperty"`
	Properties         map[string]json.RawMessage `json:"properties"`
	ObjectWriteTraceID string                     `json:"objectWriteTraceId"`
}

type batchBody struct {
	Inputs     []batchInput `json:"inputs"`
	Properties []string     `json:"properties"`
	IDProperty string       `json:"idProperty"`
}

type batchResponse struct {
	Status      string       `json:"status"`
	Results     []object     `json:"results"`
	NumErrors   int          `json:"numErrors,omitempty"`
	Errors      []batchError `json:"errors,omitempty"`
	StartedAt   string       `json:"startedAt"`
	CompletedAt string       `json:"completedAt"`
}

// batchHandler returns the handler and scope of a batch operation.
func (s *Server) batchHandler(op string) (func(*http.Request, time.Time) (int, any, *apiError),
	string, bool) {
	switch op {
	case "read":
		return s.handleBatchRead, ScopeContactsRead, true
	case "create":
		return s.handleBatchCreate, ScopeContactsWrite, true
	case "update":
		return s.handleBatchUpdate, ScopeContactsWrite, true
	case "upsert":
		return s.handleBatchUpsert, ScopeContactsWrite, true
	case "archive":
		return s.handleBatchArchive, ScopeContactsWrite, true
	}
	return nil, "", false
}

// readBatch decodes a batch body and checks the number of inputs.
func readBatch(r *http.Request) (batchBody, *apiError) {
	var b batchBody
	if aerr := decodeBody(r, &b); aerr != nil {
		return b, aerr
	}
	switch n := len(b.Inputs); {
	case n == 0:
		return b, badRequest("Batch input must contain at least one input")
	case n > batchMax:
		return b, badRequest("Batch input is too large: %d inputs; the limit is %d", n, batchMax)
	}
	return b, nil
}

// idPropertyOf returns the idProperty of an input: its own, else the body's,
// else the query's.
func idPropertyOf(in batchInput, b batchBody, r *http.Request) string {
	if in.IDProperty != "" {
		return in.IDProperty
	}
	if b.IDProperty != "" {
		return b.IDProperty
	}
	return r.URL.Query().Get("idProperty")
}

// allTraced reports whether every input carries an objectWriteTraceId, which
// turns on per-input errors (207) for writes.
func allTraced(inputs []batchInput) bool {
	for _, in := range inputs {
		if in.ObjectWriteTraceID == "" {
			return false
		}
	}
	return true
}

func traceContext(in batchInput) map[string][]string {
	return map[string][]string{"objectWriteTraceId": {in.ObjectWriteTraceID}}
}

// duplicateIDs returns HubSpot's 400 when two inputs address the same
// contact.
func duplicateIDs(inputs []batchInput, key func(batchInput) string) *apiError {
	seen := map[string]bool{}
	var dups []string
	for _, in := range inputs {
		k := key(in)
		if seen[k] {
			dups = append(dups, k)
		}
		seen[k] = true
	}
	if len(dups) == 0 {
		return nil
	}
	return badRequest("Duplicate IDs found in batch input: [%s]. IDs must be unique",
		strings.Join(dups, ", "))
}

// batchResult builds a batch response. The server lock must be held.
func (s *Server) batchResult(status int, results []object, errs []batchError,
	now time.Time) (int, any, *apiError) {
	if len(errs) > 0 {
		status = http.StatusMultiStatus
	}
	if results == nil {
		results = []object{}
	}
	if s.cfg.shuffle {
		shuffle(s.rng, results)
		shuffle(s.rng, errs)
	}
	return status, batchResponse{
		Status:      "COMPLETE",
		Results:     results,
		NumErrors:   len(errs),
		Errors:      errs,
		StartedAt:   formatTime(now),
		CompletedAt: formatTime(s.cfg.now()),
	}, nil
}

func notFoundEntry(ids []string) batchError {
	e := newError(http.StatusNotFound, catNotFound, "Could not get some CONTACT objects, "+
		"they may be deleted or not exist. Check that ids are valid.")
	return e.batchEntry(map[string][]string{"ids": ids})
}

// handleBatchRead serves POST …/contacts/batch/read.
func (s *Server) handleBatchRead(r *http.Request, now time.Time) (int, any, *apiError) {
	b, aerr := readBatch(r)
	if aerr != nil {
		return 0, nil, aerr
	}
	archived := r.URL.Query().Get("archived") == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	var results []object
	var missing []string
	seen := map[int64]bool{}
	for _, in := range b.Inputs {
		rec, aerr := s.lookup(in.ID, b.IDProperty, archived)
		if aerr != nil {
			if aerr.status != http.StatusNotFound {
				return 0, nil, aerr
			}
			missing = append(missing, in.ID)
			continue
		}
		if !seen[rec.id] {
			seen[rec.id] = true
			results = append(results, s.view(rec.id, rec.cur(), b.Properties, false))
		}
	}
	var errs []batchError
	if len(missing) > 0 {
		errs = append(errs, notFoundEntry(missing))
	}
	return s.batchResult(http.StatusOK, results, errs, now)
}

// handleBatchCreate serves POST …/contacts/batch/create. Without an
// objectWriteTraceId on every input, one bad input fails the whole batch.
func (s *Server) handleBatchCreate(r *http.Request, now time.Time) (int, any, *apiError) {
	b, aerr := readBatch(r)
	if aerr != nil {
		return 0, nil, aerr
	}
	traced := allTraced(b.Inputs)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := claims{}
	var plans []map[string]string
	var errs []batchError
	for _, in := range b.Inputs {
		changes, aerr := s.checkCreate(in.Properties, c)
		if aerr != nil {
			if !traced {
				return 0, nil, aerr
			}
			errs = append(errs, aerr.batchEntry(traceContext(in)))
			continue
		}
		plans = append(plans, changes)
	}
	results := make([]object, 0, len(plans))
	for _, changes := range plans {
		rec := s.createLocked(changes, now)
		results = append(results, s.view(rec.id, rec.cur(), nil, true))
	}
	return s.batchResult(http.StatusCreated, results, errs, now)
}

type updatePlan struct {
	rec     *record
	changes map[string]string
	created bool
}

// handleBatchUpdate serves POST …/contacts/batch/update. Unknown ids are
// reported as OBJECT_NOT_FOUND (207); invalid values and email conflicts fail
// the whole batch unless every input has an objectWriteTraceId.
func (s *Server) handleBatchUpdate(r *http.Request, now time.Time) (int, any, *apiError) {
	b, aerr := readBatch(r)
	if aerr != nil {
		return 0, nil, aerr
	}
	key := func(in batchInput) string {
		if idPropertyOf(in, b, r) == propEmail {
			return normalizeEmail(in.ID)
		}
		return in.ID
	}
	if aerr := duplicateIDs(b.Inputs, key); aerr != nil {
		return 0, nil, aerr
	}
	traced := allTraced(b.Inputs)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := claims{}
	var plans []updatePlan
	var errs []batchError
	var missing []string
	for _, in := range b.Inputs {
		rec, aerr := s.lookup(in.ID, idPropertyOf(in, b, r), false)
		if aerr != nil && aerr.status == http.StatusNotFound {
			missing = append(missing, in.ID)
			continue
		}
		var changes map[string]string
		if aerr == nil {
			changes, aerr = s.checkUpdate(rec, in.Properties, c)
		}
		if aerr != nil {
			if !traced {
				return 0, nil, aerr
			}
			errs = append(errs, aerr.batchEntry(traceContext(in)))
			continue
		}
		plans = append(plans, updatePlan{rec: rec, changes: changes})
	}
	results := make([]object, 0, len(plans))
	for _, p := range plans {
		s.updateLocked(p.rec, p.changes, now)
		results = append(results, s.view(p.rec.id, p.rec.cur(), nil, true))
	}
	if len(missing) > 0 {
		errs = append(errs, notFoundEntry(missing))
	}
	return s.batchResult(http.StatusOK, results, errs, now)
}

// handleBatchUpsert serves POST …/contacts/batch/upsert with idProperty
// "email": existing contacts are updated, missing ones created.
func (s *Server) handleBatchUpsert(r *http.Request, now time.Time) (int, any, *apiError) {
	b, aerr := readBatch(r)
	if aerr != nil {
		return 0, nil, aerr
	}
	for _, in := range b.Inputs {
		switch p := idPropertyOf(in, b, r); p {
		case propEmail:
		case "":
			return 0, nil, badRequest("Upsert requires idProperty: use \"email\"")
		default:
			return 0, nil, badRequest("Upsert by idProperty %q is not supported; "+
				"use \"email\"", p)
		}
	}
	if aerr := duplicateIDs(b.Inputs, func(in batchInput) string {
		return normalizeEmail(in.ID)
	}); aerr != nil {
		return 0, nil, aerr
	}
	traced := allTraced(b.Inputs)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := claims{}
	var plans []updatePlan
	var errs []batchError
	for _, in := range b.Inputs {
		p, aerr := s.planUpsert(in, c)
		if aerr != nil {
			if !traced {
				return 0, nil, aerr
			}
			errs = append(errs, aerr.batchEntry(traceContext(in)))
			continue
		}
		plans = append(plans, p)
	}
	results := make([]object, 0, len(plans))
	for _, p := range plans {
		rec := p.rec
		if p.created {
			rec = s.createLocked(p.changes, now)
		} else {
			s.updateLocked(rec, p.changes, now)
		}
		o := s.view(rec.id, rec.cur(), nil, true)
		o.New = &p.created
		results = append(results, o)
	}
	return s.batchResult(http.StatusOK, results, errs, now)
}

// planUpsert validates one upsert input. The server lock must be held.
func (s *Server) planUpsert(in batchInput, c claims) (updatePlan, *apiError) {
	email := normalizeEmail(in.ID)
	if !validEmail(email) {
		return updatePlan{}, propertyErrors([]invalidProperty{{
			Message: "Email address " + email + " is invalid", Error: "INVALID_EMAIL",
			Name: propEmail,
		}})
	}
	raw := make(map[string]json.RawMessage, len(in.Properties)+1)
	for k, v := range in.Properties {
		raw[k] = v
	}
	if v, ok := raw[propEmail]; ok {
		if given, aerr := coerceValue(propEmail, v); aerr != nil ||
			normalizeEmail(given) != email {
			return updatePlan{}, badRequest("Property email does not match the upsert id %s",
				email)
		}
	}
	raw[propEmail], _ = json.Marshal(email)
	if owner, ok := s.ownerOf(email, c); ok && owner > 0 {
		rec := s.records[owner]
		changes, aerr := s.checkUpdate(rec, raw, c)
		return updatePlan{rec: rec, changes: changes}, aerr
	}
	changes, aerr := s.checkCreate(raw, c)
	return updatePlan{changes: changes, created: true}, aerr
}

// handleBatchArchive serves POST …/contacts/batch/archive. Unknown ids are
// ignored; the answer is always 204.
func (s *Server) handleBatchArchive(r *http.Request, now time.Time) (int, any, *apiError) {
	b, aerr := readBatch(r)
	if aerr != nil {
		return 0, nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range b.Inputs {
		if rec, aerr := s.lookup(in.ID, idPropertyOf(in, b, r), false); aerr == nil {
			s.archiveLocked(rec, now)
		}
	}
	return http.StatusNoContent, nil, nil
}

// shuffle permutes xs with rng, never leaving two or more elements in
// their original order.
func shuffle[T any](rng *rand.Rand, xs []T) {
	if len(xs) < 2 {
		return
	}
	perm := rng.Perm(len(xs))
	if slices.IsSorted(perm) {
		// The identity: rotate by one instead.
		perm = append(perm[1:], perm[0])
	}
	orig := slices.Clone(xs)
	for i, p := range perm {
		xs[i] = orig[p]
	}
}
