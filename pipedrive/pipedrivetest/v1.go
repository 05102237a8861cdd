package pipedrivetest

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// v1Time is the layout of v1 timestamps: UTC without a zone marker.
const v1Time = time.DateTime

func (s *Server) serveV1(w http.ResponseWriter, r *http.Request, tok string, rt route) {
	switch rt.kind {
	case kindList:
		s.listV1(w, r, tok)
	case kindGet:
		s.getV1(w, tok, rt)
	case kindCreate:
		s.createV1(w, r, tok)
	case kindUpdate:
		s.updateV1(w, r, tok, rt)
	case kindDelete:
		s.deleteV1(w, tok, rt)
	case kindSearch:
		s.searchV1(w, r, tok)
	}
}

func v1Error(msg string) *apiError { return &apiError{status: http.StatusBadRequest, msg: msg} }

func userName(id int) string { return "User " + strconv.Itoa(id) }

func v1User(id int) map[string]any {
	return map[string]any{
		"id": id, "name": userName(id), "email": "user" + strconv.Itoa(id) + "@example.com",
		"has_pic": 0, "pic_hash": nil, "active_flag": true,
	}
}

func v1Org(id, owner int) map[string]any {
	return map[string]any{
		"id": id, "name": orgName(id), "owner_id": owner, "address": nil,
		"active_flag": true, "cc_email": nil,
	}
}

func v1Contacts(cs []Contact) []map[string]any {
	if len(cs) == 0 {
		return []map[string]any{{"value": "", "primary": true}}
	}
	out := make([]map[string]any, len(cs))
	for i, c := range cs {
		out[i] = map[string]any{"label": c.Label, "value": c.Value, "primary": c.Primary}
	}
	return out
}

// v1Person renders r in the legacy v1 shape.
func v1Person(r record) map[string]any {
	first, last := splitName(r.name)
	owner := v1User(r.ownerID)
	owner["value"] = r.ownerID
	m := map[string]any{
		"id": r.id, "company_id": 1, "active_flag": !r.deleted,
		"name": r.name, "first_name": first, "last_name": last,
		"first_char": firstChar(r.name),
		"owner_id":   owner, "owner_name": userName(r.ownerID),
		"org_id": nil, "org_name": nil,
		"email": v1Contacts(r.emails), "phone": v1Contacts(r.phones),
		"primary_email": nil,
		"add_time":      r.addTime.UTC().Format(v1Time),
		"update_time":   r.updateTime.UTC().Format(v1Time),
		"visible_to":    strconv.Itoa(r.visibleTo),
		"label":         nil, "label_ids": nonNil(r.labelIDs),
		"picture_id": nil, "cc_email": "company1@pipedrivemail.com",
		"open_deals_count": 0, "closed_deals_count": 0, "won_deals_count": 0,
		"lost_deals_count": 0, "activities_count": 0, "done_activities_count": 0,
		"undone_activities_count": 0, "email_messages_count": 0, "files_count": 0,
		"notes_count": 0, "followers_count": 0,
		"last_incoming_mail_time": nil, "last_outgoing_mail_time": nil,
		"next_activity_date": nil, "next_activity_time": nil, "last_activity_date": nil,
	}
	if r.orgID != 0 {
		org := v1Org(r.orgID, r.ownerID)
		org["value"] = r.orgID
		delete(org, "id")
		m["org_id"], m["org_name"] = org, orgName(r.orgID)
	}
	for _, c := range r.emails {
		if c.Primary {
			m["primary_email"] = c.Value
		}
	}
	if len(r.labelIDs) > 0 {
		m["label"] = r.labelIDs[0]
	}
	if r.marketingStatus != "" {
		m["marketing_status"] = r.marketingStatus
	}
	for k, v := range r.customFields {
		m[k] = v
	}
	return m
}

func firstChar(name string) string {
	c, _ := utf8.DecodeRuneInString(name)
	if c == utf8.RuneError {
		return ""
	}
	return string(unicode.ToLower(c))
}

// relatedObjects is the v1 related_objects map of recs.
func relatedObjects(recs ...record) map[string]any {
	users, orgs := map[string]any{}, map[string]any{}
	for _, r := range recs {
		users[strconv.Itoa(r.ownerID)] = v1User(r.ownerID)
		if r.orgID != 0 {
			orgs[strconv.Itoa(r.orgID)] = v1Org(r.orgID, r.ownerID)
		}
	}
	related := map[string]any{"user": users}
	if len(orgs) > 0 {
		related["organization"] = orgs
	}
	return related
}

// writeV1 writes a v1 success envelope, which has related_objects.
func writeV1(w http.ResponseWriter, status int, data, additional any, recs ...record) {
	writeJSON(w, status, map[string]any{
		"success": true, "data": data, "additional_data": additional,
		"related_objects": relatedObjects(recs...),
	})
}

// v1Sort is a parsed v1 sort parameter such as "update_time DESC".
type v1Sort struct {
	field string
	desc  bool
}

func parseV1Sort(text string) (v1Sort, *apiError) {
	srt := v1Sort{field: "id"}
	if text == "" {
		return srt, nil
	}
	first, _, _ := strings.Cut(text, ",")
	f := strings.Fields(first)
	if len(f) == 0 || len(f) > 2 {
		return srt, v1Error("Invalid sort parameter")
	}
	switch f[0] {
	case "id", "name", "update_time", "add_time":
		srt.field = f[0]
	default:
		return srt, v1Error("Invalid sort field " + f[0])
	}
	if len(f) == 2 {
		switch strings.ToUpper(f[1]) {
		case "ASC":
		case "DESC":
			srt.desc = true
		default:
			return srt, v1Error("Invalid sort direction " + f[1])
		}
	}
	return srt, nil
}

func (srt v1Sort) compare(a, b record) int {
	var c int
	switch srt.field {
	case "name":
		c = strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	case "update_time":
		c = a.updateTime.Compare(b.updateTime)
	case "add_time":
		c = a.addTime.Compare(b.addTime)
	}
	if c == 0 {
		c = a.id - b.id
	}
	if srt.desc {
		return -c
	}
	return c
}

// parseStart parses v1 start/limit paging.
func parseStart(q url.Values, pageMax int) (start, limit int, aerr *apiError) {
	if q.Has("start") {
		var err error
		if start, err = strconv.Atoi(q.Get("start")); err != nil || start < 0 {
			return 0, 0, v1Error("start must be a non-negative integer")
		}
	}
	limit, aerr = parseLimit(q, pageMax)
	if aerr != nil {
		aerr = v1Error("limit must be an integer from 1 to " + strconv.Itoa(pageMax))
	}
	return start, limit, aerr
}

func pagination(start, limit, total int) map[string]any {
	p := map[string]any{
		"start": start, "limit": limit, "more_items_in_collection": start+limit < total,
	}
	if start+limit < total {
		p["next_start"] = start + limit
	}
	return p
}

func (s *Server) listV1(w http.ResponseWriter, r *http.Request, tok string) {
	q := r.URL.Query()
	start, limit, aerr := parseStart(q, s.cfg.pageMax)
	var srt v1Sort
	if aerr == nil {
		srt, aerr = parseV1Sort(q.Get("sort"))
	}
	var owner int
	if aerr == nil {
		owner, aerr = queryInt(q, "user_id")
	}
	if aerr == nil && q.Has("filter_id") {
		aerr = v1Error("pipedrivetest: filter_id is not supported by the fake")
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	fc := strings.ToLower(q.Get("first_char"))
	s.mu.Lock()
	recs := s.visibleLocked(tok, func(r record) bool {
		return (owner == 0 || r.ownerID == owner) && (fc == "" || firstChar(r.name) == fc)
	})
	s.mu.Unlock()
	slices.SortFunc(recs, srt.compare)
	total := len(recs)
	page := recs[min(start, total):min(start+limit, total)]
	data := make([]map[string]any, len(page))
	for i, rec := range page {
		data[i] = v1Person(rec)
	}
	s.pageServed(start/limit + 1)
	var body any = data
	if len(data) == 0 {
		body = nil
	}
	writeV1(w, http.StatusOK, body,
		map[string]any{"pagination": pagination(start, limit, total)}, page...)
}

func (s *Server) getV1(w http.ResponseWriter, tok string, rt route) {
	id, aerr := parseID(rt.idText)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s.mu.Lock()
	e, ok := s.persons[id]
	ts := s.tokens[tok]
	var rec record
	if ok {
		rec = e.cur.clone()
	}
	visible := ok && ts != nil && ts.sees(id)
	s.mu.Unlock()
	if !visible {
		writeError(w, notFound())
		return
	}
	writeV1(w, http.StatusOK, v1Person(rec), nil, rec)
}

func (s *Server) createV1(w http.ResponseWriter, r *http.Request, tok string) {
	in, aerr := readV1(w, r, true)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rec := s.create(tok, in)
	if s.takeDrop() && drop(w) {
		return
	}
	writeV1(w, http.StatusCreated, v1Person(rec), nil, rec)
}

func (s *Server) updateV1(w http.ResponseWriter, r *http.Request, tok string, rt route) {
	in, aerr := readV1(w, r, false)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	rec, aerr := s.update(tok, rt.idText, in)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeV1(w, http.StatusOK, v1Person(rec), nil, rec)
}

func (s *Server) deleteV1(w http.ResponseWriter, tok string, rt route) {
	id, aerr := s.remove(tok, rt.idText)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeV1(w, http.StatusOK, map[string]int{"id": id}, nil)
}

func (s *Server) searchV1(w http.ResponseWriter, r *http.Request, tok string) {
	q := r.URL.Query()
	sq, aerr := parseSearch(q, false)
	var start, limit int
	if aerr == nil {
		start, limit, aerr = parseStart(q, s.cfg.pageMax)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	items := s.search(tok, sq, s.cfg.now())
	total := len(items)
	items = items[min(start, total):min(start+limit, total)]
	writeJSON(w, http.StatusOK, map[string]any{
		"success":         true,
		"data":            map[string]any{"items": nonNil(items)},
		"additional_data": map[string]any{"pagination": pagination(start, limit, total)},
	})
}

// readV1 parses a v1 write body, JSON or form-encoded, with v1's loose
// typing: numbers may come as strings, booleans as 0/1, email and phone
// as a plain string, a list of strings or a list of objects. Top-level
// 40-character hex keys are custom fields; other unknown keys are ignored.
func readV1(w http.ResponseWriter, r *http.Request, create bool) (personInput, *apiError) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return personInput{}, aerr
	}
	fields, aerr := v1Fields(r.Header.Get("Content-Type"), body)
	if aerr != nil {
		return personInput{}, aerr
	}
	var in personInput
	for k, v := range fields {
		if aerr := in.setV1(k, v); aerr != nil {
			return in, aerr
		}
	}
	if create && in.name == nil {
		return in, v1Error("Name must be given.")
	}
	return in, nil
}

func v1Fields(contentType string, body []byte) (map[string]any, *apiError) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, v1Error("Malformed form body")
		}
		out := map[string]any{}
		for k, vs := range vals {
			k = strings.TrimSuffix(k, "[]")
			if len(vs) == 1 {
				out[k] = vs[0]
				continue
			}
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			out[k] = list
		}
		return out, nil
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || out == nil {
		return nil, v1Error("Malformed JSON body")
	}
	return out, nil
}

// customKey matches the 40-character hash keys of custom fields.
var customKey = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (in *personInput) setV1(k string, v any) *apiError {
	switch k {
	case "name":
		s, ok := v.(string)
		if s = strings.TrimSpace(s); !ok || s == "" {
			return v1Error("Name must be given.")
		}
		in.name = &s
	case "owner_id", "visible_to":
		n, ok := looseInt(v)
		if !ok || n <= 0 || (k == "visible_to" && !validVisibleTo(n)) {
			return v1Error("Invalid " + k)
		}
		if k == "owner_id" {
			in.ownerID = &n
		} else {
			in.visibleTo = &n
		}
	case "org_id":
		n, ok := looseInt(v)
		if v == nil || v == "" {
			n, ok = 0, true
		}
		if !ok || n < 0 {
			return v1Error("Invalid org_id")
		}
		in.orgID = &n
	case "email", "phone":
		cs, ok := looseContacts(v)
		if !ok {
			return v1Error("Invalid " + k)
		}
		if k == "email" {
			in.emails = &cs
		} else {
			in.phones = &cs
		}
	case "label_ids", "label":
		return in.setV1Labels(v)
	case "marketing_status":
		s, ok := v.(string)
		if !ok || !validMarketing(s) {
			return v1Error("Invalid marketing_status")
		}
		in.marketingStatus = &s
	case "add_time":
		s, _ := v.(string)
		t, err := time.Parse(v1Time, s)
		if err != nil {
			return v1Error("Invalid add_time")
		}
		in.addTime = &t
	default:
		if customKey.MatchString(k) {
			if n, ok := v.(json.Number); ok {
				v, _ = n.Float64()
			}
			if in.customFields == nil {
				in.customFields = map[string]any{}
			}
			in.customFields[k] = v
		}
	}
	return nil
}

func (in *personInput) setV1Labels(v any) *apiError {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := []int{}
	for _, x := range list {
		if x == nil {
			continue
		}
		n, ok := looseInt(x)
		if !ok {
			return v1Error("Invalid label")
		}
		ids = append(ids, n)
	}
	in.labelIDs = &ids
	return nil
}

func looseInt(v any) (int, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(x.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	case float64:
		return int(x), x == float64(int(x))
	}
	return 0, false
}

func looseBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch x {
		case "true", "1":
			return true, true
		case "false", "0", "":
			return false, true
		}
	case json.Number:
		switch x.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	return false, false
}

func looseContacts(v any) ([]Contact, bool) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]Contact, 0, len(list))
	for _, x := range list {
		switch c := x.(type) {
		case string:
			out = append(out, Contact{Value: c})
		case map[string]any:
			val, ok1 := c["value"].(string)
			label, _ := c["label"].(string)
			primary, ok2 := looseBool(c["primary"])
			if c["primary"] == nil {
				ok2 = true
			}
			if !ok1 || !ok2 {
				return nil, false
			}
			out = append(out, Contact{Value: val, Label: label, Primary: primary})
		case nil:
		default:
			return nil, false
		}
	}
	return out, true
}
