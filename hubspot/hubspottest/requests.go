package hubspottest

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/keysync/sync/internal/fakeserver"
)

// Request is one request the server received, as recorded for inspection.
// It never holds the token: headers are not recorded and credential-like
// query parameters (hapikey, access_token) are replaced by "REDACTED".
type Request struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// Path is the URL path, decoded, without the query.
	Path string
	// Query holds the query parameters.
	Query url.Values
	// Status is the status code of the response; 0 while the request is in
	// flight and when no response was sent (client gone during latency, or
	// connection dropped by [Server.DropAfterCommitNext]).
	Status int
	// At is when the request arrived, by the server clock.
	At time.Time
}

// logRequest records an arriving request and returns its index.
func (s *Server) logRequest(r *http.Request, now time.Time) int {
	q := r.URL.Query()
	for _, k := range []string{"hapikey", "access_token"} {
		if q.Has(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	return s.requests.Add(fakeserver.Entry[url.Values]{Method: r.Method, Path: r.URL.Path,
		Query: q, At: now})
}

// Requests returns every request received so far in arrival order. The
// result is the caller's to change.
func (s *Server) Requests() []Request {
	entries := s.requests.Entries()
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = Request{Method: e.Method, Path: e.Path, Query: cloneValues(e.Query),
			Status: e.Status, At: e.At}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vals := range v {
		out[k] = slices.Clone(vals)
	}
	return out
}

// Count returns how many requests arrived with exactly this method and path
// (the path without query), whatever their outcome. For example
// Count("POST", "/crm/objects/2026-09/contacts/batch/upsert").
func (s *Server) Count(method, path string) int {
	return s.requests.Count(method, path)
}

// MaxRequestsInWindow returns the largest number of requests (of any kind and
// outcome) that arrived within a window of length d: the most requests whose
// arrival times lie less than d apart. Use it to check that a client stays
// under a rate limit.
func (s *Server) MaxRequestsInWindow(d time.Duration) int {
	return s.requests.MaxInWindow(d)
}
