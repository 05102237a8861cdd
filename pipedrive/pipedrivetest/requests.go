package pipedrivetest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A Request is one request the server received, as logged by
// [Server.Requests].
type Request struct {
	// Method and Path are the request's method and URL path.
	Method string
	Path   string

	// Query is the raw query string with any api_token parameter removed,
	// so the log never holds a token.
	Query string

	// Status is the status the server answered with, or 0 when it sent no
	// response: the client went away during [Server.SetLatency], the
	// connection was dropped by [Server.DropAfterCommitNext], or the request
	// is still being served.
	Status int

	// At is the arrival time by the server clock.
	At time.Time
}

func (s *Server) logArrival(r *http.Request) int {
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  redactQuery(r.URL.RawQuery),
		At:     s.cfg.now(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, req)
	return len(s.log) - 1
}

func (s *Server) logStatus(idx, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log[idx].Status = status
}

// redactQuery removes api_token parameters, keeping the rest as sent.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err == nil && k == "api_token" {
			continue
		}
		if strings.EqualFold(key, "api_token") {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}

// Requests returns every request received so far, in arrival order,
// including those answered 401 or 429.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Count returns how many requests arrived with exactly this method and URL
// path (no query), whatever their outcome; for example
// Count("POST", "/api/v2/persons").
func (s *Server) Count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// MaxRequestsInWindow returns the largest number of requests (whatever
// their outcome) whose arrival times fall within one half-open window
// [t, t+d), over all t. With d = 2 s it tells whether a client kept to
// Pipedrive's burst limit.
func (s *Server) MaxRequestsInWindow(d time.Duration) int {
	s.mu.Lock()
	times := make([]time.Time, len(s.log))
	for i, r := range s.log {
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
