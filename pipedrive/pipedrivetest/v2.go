package pipedrivetest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) serveV2(w http.ResponseWriter, r *http.Request, tok string, rt route) {
	switch rt.kind {
	case kindList:
		s.listV2(w, r, tok)
	case kindGet:
		s.getV2(w, tok, rt)
	case kindCreate:
		s.createV2(w, r, tok)
	case kindUpdate:
		s.updateV2(w, r, tok, rt)
	case kindDelete:
		s.deleteV2(w, tok, rt)
	case kindSearch:
		s.searchV2(w, r, tok)
	}
}

// listQuery is a parsed v2 list request.
type listQuery struct {
	limit          int
	ids            map[int]bool
	ownerID, orgID int
	since, until   *time.Time
	sortBy         string
	desc           bool
	after          *listCursor
}

// listCursor is the content of an opaque v2 list cursor: the position
// after the last person of page Page, and where that page began.
type listCursor struct {
	Key  int64      `json:"k"`
	ID   int        `json:"i"`
	Page int        `json:"p"`
	Sort string     `json:"s"`
	From *cursorPos `json:"f,omitempty"` // nil: page Page began at the start
	N    int        `json:"n,omitempty"` // makes a replayed cursor a new string
}

// cursorPos is a position in a sorted list: after (Key, ID).
type cursorPos struct {
	Key int64 `json:"k"`
	ID  int   `json:"i"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(text string, v any) *apiError {
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || json.Unmarshal(b, v) != nil {
		return schemaError("cursor: invalid cursor")
	}
	return nil
}

func parseListV2(q url.Values, pageMax int) (listQuery, *apiError) {
	lq := listQuery{sortBy: "id"}
	var aerr *apiError
	if lq.limit, aerr = parseLimit(q, pageMax); aerr != nil {
		return lq, aerr
	}
	if q.Has("filter_id") || q.Has("deal_id") {
		return lq, &apiError{status: 400,
			msg: "pipedrivetest: filter_id and deal_id are not supported by the fake"}
	}
	if lq.ids, aerr = parseIDList(q); aerr != nil {
		return lq, aerr
	}
	if lq.ownerID, aerr = queryInt(q, "owner_id"); aerr != nil {
		return lq, aerr
	}
	if lq.orgID, aerr = queryInt(q, "org_id"); aerr != nil {
		return lq, aerr
	}
	if lq.since, aerr = queryTime(q, "updated_since"); aerr != nil {
		return lq, aerr
	}
	if lq.until, aerr = queryTime(q, "updated_until"); aerr != nil {
		return lq, aerr
	}
	if aerr = lq.parseSort(q); aerr != nil {
		return lq, aerr
	}
	if c := q.Get("cursor"); c != "" {
		lq.after = &listCursor{}
		if aerr = decodeCursor(c, lq.after); aerr != nil {
			return lq, aerr
		}
		if lq.after.Sort != lq.sortKey() {
			return lq, schemaError("cursor: does not match sort_by and sort_direction")
		}
	}
	return lq, nil
}

func (lq *listQuery) parseSort(q url.Values) *apiError {
	if by := q.Get("sort_by"); by != "" {
		if by != "id" && by != "update_time" && by != "add_time" {
			return schemaError("sort_by: must be one of id, update_time, add_time")
		}
		lq.sortBy = by
	}
	switch q.Get("sort_direction") {
	case "", "asc":
	case "desc":
		lq.desc = true
	default:
		return schemaError("sort_direction: must be one of asc, desc")
	}
	return nil
}

func (lq listQuery) sortKey() string {
	if lq.desc {
		return lq.sortBy + " desc"
	}
	return lq.sortBy + " asc"
}

// parseLimit parses limit: default 100, at most pageMax, else 400.
func parseLimit(q url.Values, pageMax int) (int, *apiError) {
	if !q.Has("limit") {
		return min(100, pageMax), nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil || n < 1 || n > pageMax {
		return 0, schemaError("limit: must be an integer from 1 to %d", pageMax)
	}
	return n, nil
}

func queryInt(q url.Values, key string) (int, *apiError) {
	if !q.Has(key) {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get(key))
	if err != nil || n <= 0 {
		return 0, schemaError("%s: must be a positive integer", key)
	}
	return n, nil
}

func queryTime(q url.Values, key string) (*time.Time, *apiError) {
	if !q.Has(key) {
		return nil, nil
	}
	t, aerr := parseWholeTime(key, q.Get(key))
	if aerr != nil {
		return nil, aerr
	}
	return &t, nil
}

func parseIDList(q url.Values) (map[int]bool, *apiError) {
	if !q.Has("ids") {
		return nil, nil
	}
	parts := strings.Split(q.Get("ids"), ",")
	if len(parts) > 100 {
		return nil, schemaError("ids: at most 100 ids")
	}
	ids := make(map[int]bool, len(parts))
	for _, p := range parts {
		id, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || id <= 0 {
			return nil, schemaError("ids: must be a comma-separated list of integers")
		}
		ids[id] = true
	}
	return ids, nil
}

func (lq listQuery) match(r record) bool {
	switch {
	case lq.ids != nil && !lq.ids[r.id]:
	case lq.ownerID != 0 && r.ownerID != lq.ownerID:
	case lq.orgID != 0 && r.orgID != lq.orgID:
	case lq.since != nil && r.updateTime.Before(*lq.since):
	case lq.until != nil && !r.updateTime.Before(*lq.until):
	default:
		return true
	}
	return false
}

func (lq listQuery) key(r record) int64 {
	switch lq.sortBy {
	case "update_time":
		return r.updateTime.Unix()
	case "add_time":
		return r.addTime.Unix()
	}
	return int64(r.id)
}

// compare orders records by (sort key, id) in the requested direction.
func (lq listQuery) compare(ak int64, aid int, bk int64, bid int) int {
	c := cmp.Or(cmp.Compare(ak, bk), cmp.Compare(aid, bid))
	if lq.desc {
		return -c
	}
	return c
}

// visibleLocked returns clones of the live persons tok may see that match.
func (s *Server) visibleLocked(tok string, match func(record) bool) []record {
	return s.listableLocked(tok, false, match)
}

// listableLocked returns clones of the persons tok may see that match,
// deleted ones too when withDeleted is set.
func (s *Server) listableLocked(tok string, withDeleted bool, match func(record) bool) []record {
	ts := s.tokens[tok]
	var out []record
	for _, e := range s.persons {
		if (e.cur.deleted && !withDeleted) || ts == nil || !ts.sees(e.cur.id) || !match(e.cur) {
			continue
		}
		out = append(out, e.cur.clone())
	}
	return out
}

func (s *Server) listV2(w http.ResponseWriter, r *http.Request, tok string) {
	lq, aerr := parseListV2(r.URL.Query(), s.cfg.pageMax)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	fault := noCursorFault
	if lq.after != nil {
		fault = s.takeCursorFault()
	}
	if fault == expireCursor {
		writeError(w, schemaError("cursor: the cursor has expired"))
		return
	}
	s.mu.Lock()
	recs := s.listableLocked(tok, s.cfg.deletedVisible, lq.match)
	s.mu.Unlock()
	slices.SortFunc(recs, func(a, b record) int {
		return lq.compare(lq.key(a), a.id, lq.key(b), b.id)
	})
	page, start := 1, (*cursorPos)(nil)
	if c := lq.after; c != nil {
		page, start = c.Page+1, &cursorPos{Key: c.Key, ID: c.ID}
		if fault != noCursorFault {
			page, start = c.Page, c.From // the page before, once more
		}
	}
	if start != nil {
		i, _ := slices.BinarySearchFunc(recs, start, func(r record, c *cursorPos) int {
			if lq.compare(lq.key(r), r.id, c.Key, c.ID) <= 0 {
				return -1
			}
			return 1
		})
		recs = recs[i:]
	}
	var next *string
	if len(recs) > lq.limit {
		recs = recs[:lq.limit]
		last := recs[len(recs)-1]
		c := encodeCursor(listCursor{
			Key: lq.key(last), ID: last.id, Page: page, Sort: lq.sortKey(), From: start,
		})
		next = &c
	}
	switch c := lq.after; fault {
	case repeatPage:
		same := r.URL.Query().Get("cursor")
		next = &same
	case replayPage:
		replay := *c
		replay.N++
		fresh := encodeCursor(replay)
		next = &fresh
	}
	data := make([]personV2, len(recs))
	for i, rec := range recs {
		data[i] = v2Person(rec)
	}
	s.pageServed(page)
	writeOK(w, http.StatusOK, s.emptyData(data), map[string]any{"next_cursor": next})
}

// emptyData turns an empty v2 slice into null when WithNullEmptyData is on.
func (s *Server) emptyData(data []personV2) any {
	if len(data) == 0 && s.cfg.nullEmpty {
		return nil
	}
	return data
}

func notFound() *apiError {
	return &apiError{status: http.StatusNotFound, msg: "Person not found"}
}

// liveLocked returns the live person id that tok may see.
func (s *Server) liveLocked(tok, idText string) (*entry, *apiError) {
	id, aerr := parseID(idText)
	if aerr != nil {
		return nil, aerr
	}
	e, ok := s.persons[id]
	ts := s.tokens[tok]
	if !ok || e.cur.deleted || ts == nil || !ts.sees(id) {
		return nil, notFound()
	}
	return e, nil
}

// readableLocked returns the person id that tok may see: a live one, or
// with [WithDeletedVisible] also a deleted one.
func (s *Server) readableLocked(tok, idText string) (*entry, *apiError) {
	if !s.cfg.deletedVisible {
		return s.liveLocked(tok, idText)
	}
	id, aerr := parseID(idText)
	if aerr != nil {
		return nil, aerr
	}
	e, ok := s.persons[id]
	ts := s.tokens[tok]
	if !ok || ts == nil || !ts.sees(id) {
		return nil, notFound()
	}
	return e, nil
}

func (s *Server) getV2(w http.ResponseWriter, tok string, rt route) {
	s.mu.Lock()
	e, aerr := s.readableLocked(tok, rt.idText)
	var rec record
	if aerr == nil {
		rec = e.cur.clone()
	}
	s.mu.Unlock()
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeOK(w, http.StatusOK, v2Person(rec), nil)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, &apiError{status: 400, msg: "Request body could not be read"}
	}
	return b, nil
}

func (s *Server) createV2(w http.ResponseWriter, r *http.Request, tok string) {
	in, aerr := readV2(w, r, modeCreate)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rec := s.create(tok, in)
	if s.takeDrop() && drop(w) {
		return
	}
	writeOK(w, http.StatusOK, v2Person(rec), nil)
}

func readV2(w http.ResponseWriter, r *http.Request, mode inputMode) (personInput, *apiError) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return personInput{}, aerr
	}
	return parseV2(body, mode)
}

// create stores a new person from in on behalf of tok.
func (s *Server) create(tok string, in personInput) record {
	now := wholeSecond(s.cfg.now())
	rec := record{addTime: now}
	in.apply(&rec)
	rec.addTime = wholeSecond(rec.addTime)
	rec.updateTime = now
	s.mu.Lock()
	defer s.mu.Unlock()
	rec = s.insertLocked(rec, now)
	if ts := s.tokens[tok]; ts != nil {
		if ts.created == nil {
			ts.created = map[int]bool{}
		}
		ts.created[rec.id] = true
	}
	return rec.clone()
}

// update applies in to a live person and bumps its update_time, even when
// nothing changed.
func (s *Server) update(tok, idText string, in personInput) (record, *apiError) {
	now := wholeSecond(s.cfg.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.liveLocked(tok, idText)
	if aerr != nil {
		return record{}, aerr
	}
	in.apply(&e.cur)
	e.cur.updateTime = now
	s.indexLocked(e, now)
	return e.cur.clone(), nil
}

// remove soft-deletes a live person.
func (s *Server) remove(tok, idText string) (int, *apiError) {
	now := wholeSecond(s.cfg.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.liveLocked(tok, idText)
	if aerr != nil {
		return 0, aerr
	}
	e.cur.deleted = true
	e.cur.updateTime = now
	s.indexLocked(e, now)
	return e.cur.id, nil
}

func (s *Server) updateV2(w http.ResponseWriter, r *http.Request, tok string, rt route) {
	in, aerr := readV2(w, r, modePatch)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rec, aerr := s.update(tok, rt.idText, in)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeOK(w, http.StatusOK, v2Person(rec), nil)
}

func (s *Server) deleteV2(w http.ResponseWriter, tok string, rt route) {
	id, aerr := s.remove(tok, rt.idText)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeOK(w, http.StatusOK, map[string]int{"id": id}, nil)
}
