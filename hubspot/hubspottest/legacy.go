package hubspottest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Legacy v1 contacts API paths.
const (
	legacyAllContacts   = "/contacts/v1/lists/all/contacts/all"
	legacyProfilePrefix = "/contacts/v1/contact/vid/"
	legacyProfileSuffix = "/profile"
	legacyDefaultCount  = 20
	legacyMaxCount      = 100
	legacyPortalID      = 4400123
)

// legacyDefaultProperties are the properties the v1 list returns when none
// are named.
func legacyDefaultProperties() []string {
	return []string{"firstname", "lastname", "company", propLastModified}
}

type legacyValue struct {
	Value string `json:"value"`
}

type legacyIdentity struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Timestamp int64  `json:"timestamp"`
	IsPrimary bool   `json:"is-primary,omitempty"`
}

type legacyProfile struct {
	VID                     int64            `json:"vid"`
	SavedAtTimestamp        int64            `json:"saved-at-timestamp"`
	DeletedChangedTimestamp int64            `json:"deleted-changed-timestamp"`
	Identities              []legacyIdentity `json:"identities"`
}

type legacyContact struct {
	AddedAt          int64                  `json:"addedAt"`
	VID              int64                  `json:"vid"`
	CanonicalVID     int64                  `json:"canonical-vid"`
	MergedVIDs       []int64                `json:"merged-vids"`
	PortalID         int64                  `json:"portal-id"`
	IsContact        bool                   `json:"is-contact"`
	Properties       map[string]legacyValue `json:"properties"`
	FormSubmissions  []any                  `json:"form-submissions"`
	IdentityProfiles []legacyProfile        `json:"identity-profiles"`
	MergeAudits      []any                  `json:"merge-audits"`
}

type legacyList struct {
	Contacts  []legacyContact `json:"contacts"`
	HasMore   bool            `json:"has-more"`
	VIDOffset int64           `json:"vid-offset"`
}

// resolveLegacy maps the read-only v1 endpoints.
func (s *Server) resolveLegacy(method, p string) (endpoint, bool) {
	if method != http.MethodGet {
		return endpoint{}, false
	}
	if p == legacyAllContacts {
		return endpoint{handle: s.handleLegacyList}, true
	}
	rest, ok := strings.CutPrefix(p, legacyProfilePrefix)
	if !ok {
		return endpoint{}, false
	}
	vid, ok := strings.CutSuffix(rest, legacyProfileSuffix)
	if !ok || strings.Contains(vid, "/") {
		return endpoint{}, false
	}
	return endpoint{handle: func(r *http.Request, _ time.Time) (int, any, *apiError) {
		return s.handleLegacyProfile(r, vid)
	}}, true
}

// handleLegacyList serves GET /contacts/v1/lists/all/contacts/all.
func (s *Server) handleLegacyList(r *http.Request, _ time.Time) (int, any, *apiError) {
	q := r.URL.Query()
	count := legacyDefaultCount
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > legacyMaxCount {
			return 0, nil, legacyError(http.StatusBadRequest,
				fmt.Sprintf("count must be between 1 and %d", legacyMaxCount))
		}
		count = n
	}
	var offset int64
	if v := q.Get("vidOffset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, nil, legacyError(http.StatusBadRequest, "invalid vidOffset "+v)
		}
		offset = n
	}
	names := q["property"]
	if len(names) == 0 {
		names = legacyDefaultProperties()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := legacyList{Contacts: []legacyContact{}, VIDOffset: offset}
	for _, id := range s.ids {
		v := s.records[id].cur()
		if id <= offset || v.archived {
			continue
		}
		if len(resp.Contacts) == count {
			resp.HasMore = true
			break
		}
		resp.Contacts = append(resp.Contacts, legacyView(id, v, names))
		resp.VIDOffset = id
	}
	return http.StatusOK, resp, nil
}

// handleLegacyProfile serves GET /contacts/v1/contact/vid/{vid}/profile.
func (s *Server) handleLegacyProfile(r *http.Request, vid string) (int, any, *apiError) {
	names := r.URL.Query()["property"]
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, aerr := s.lookup(vid, "", false)
	if aerr != nil {
		return 0, nil, legacyError(http.StatusNotFound, "contact does not exist")
	}
	v := rec.cur()
	if len(names) == 0 {
		for name := range v.props {
			names = append(names, name)
		}
	}
	return http.StatusOK, legacyView(rec.id, v, names), nil
}

// legacyView renders a contact in the v1 shape with the named properties
// that have values; date-times become epoch milliseconds.
func legacyView(id int64, v version, names []string) legacyContact {
	props := map[string]legacyValue{}
	for _, name := range names {
		val, ok := v.props[name]
		if !ok {
			continue
		}
		if name == propCreateDate || name == propLastModified {
			if t, ok := parseInstant(val); ok {
				val = strconv.FormatInt(t.UnixMilli(), 10)
			}
		}
		props[name] = legacyValue{Value: val}
	}
	created := v.createdAt.UnixMilli()
	var ids []legacyIdentity
	if e := v.props[propEmail]; e != "" {
		ids = append(ids, legacyIdentity{Type: "EMAIL", Value: e, Timestamp: created,
			IsPrimary: true})
	}
	ids = append(ids, legacyIdentity{Type: "LEAD_GUID", Value: leadGUID(id),
		Timestamp: created})
	return legacyContact{
		AddedAt:         created,
		VID:             id,
		CanonicalVID:    id,
		MergedVIDs:      []int64{},
		PortalID:        legacyPortalID,
		IsContact:       true,
		Properties:      props,
		FormSubmissions: []any{},
		IdentityProfiles: []legacyProfile{{
			VID:              id,
			SavedAtTimestamp: v.updatedAt.UnixMilli(),
			Identities:       ids,
		}},
		MergeAudits: []any{},
	}
}

// leadGUID derives a stable LEAD_GUID identity from a contact id.
func leadGUID(id int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(id), uint64(id))
}

// legacyError builds the v1 error shape: status, message, correlationId and
// requestId, without a category.
func legacyError(status int, message string) *apiError {
	return &apiError{status: status, message: message}
}
