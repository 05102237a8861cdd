package pipedrivetest

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keysync/sync/internal/fakeserver"
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
	return s.log.Add(fakeserver.Entry[string]{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  redactQuery(r.URL.RawQuery),
		At:     s.cfg.now(),
	})
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
	entries := s.log.Entries()
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = Request{Method: e.Method, Path: e.Path, Query: e.Query, Status: e.Status,
			At: e.At}
	}
	return out
}

// Count returns how many requests arrived with exactly this method and URL
// path (no query), whatever their outcome; for example
// Count("POST", "/api/v2/persons").
func (s *Server) Count(method, path string) int {
	return s.log.Count(method, path)
}

// MaxRequestsInWindow returns the largest number of requests (whatever
// their outcome) whose arrival times fall within one half-open window
// [t, t+d), over all t. With d = 2 s it tells whether a client kept to
// Pipedrive's burst limit.
func (s *Server) MaxRequestsInWindow(d time.Duration) int {
	return s.log.MaxInWindow(d)
}
