package hubspottest

import (
	"net/http"
	"net/url"
	"slices"
	"time"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: q, At: now})
	return len(s.requests) - 1
}

func (s *Server) setStatus(idx, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[idx].Status = status
}

// Requests returns every request received so far in arrival order. The
// result is the caller's to change.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = cloneValues(r.Query)
		out[i] = r
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
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// MaxRequestsInWindow returns the largest number of requests (of any kind and
// outcome) that arrived within a window of length d: the most requests whose
// arrival times lie less than d apart. Use it to check that a client stays
// under a rate limit.
func (s *Server) MaxRequestsInWindow(d time.Duration) int {
	s.mu.Lock()
	times := make([]time.Time, len(s.requests))
	for i, r := range s.requests {
		times[i] = r.At
	}
	s.mu.Unlock()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
