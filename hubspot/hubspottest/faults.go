package hubspottest

import (
	"net/http"
	"time"
)

// faultKind is what an injected fault does to a request.
type faultKind int

const (
	faultStatus faultKind = iota
	faultBurst
	faultDaily
)

// fault is one queued injected failure.
type fault struct {
	kind   faultKind
	status int
}

// FailNext makes the next n requests (after the call, in arrival order, of
// any kind and before authentication) fail with status and no effect. The
// body is HubSpot's error envelope with a category fitting the status
// (400 VALIDATION_ERROR, 401 INVALID_AUTHENTICATION, 403 MISSING_SCOPES,
// 404 OBJECT_NOT_FOUND, 409 CONFLICT), except for 502, which gets an HTML
// page as from HubSpot's edge, and 429, which is the same as
// [Server.RateLimitNext]. A 477 (account migration in progress) carries
// "Retry-After: 1". Faults queue up: FailNext(1, 500) followed by
// RateLimitNext(1) fails the next request with 500 and the one after with 429.
func (s *Server) FailNext(n, status int) {
	kind := faultStatus
	if status == http.StatusTooManyRequests {
		kind = faultBurst
	}
	s.queueFaults(n, fault{kind: kind, status: status})
}

// RateLimitNext makes the next n requests fail with HubSpot's 429 for the
// TEN_SECONDLY_ROLLING policy, with X-HubSpot-RateLimit-Remaining "0". The
// requests do not count against any limit.
func (s *Server) RateLimitNext(n int) {
	s.queueFaults(n, fault{kind: faultBurst, status: http.StatusTooManyRequests})
}

// RateLimitNextDaily makes the next n requests fail with HubSpot's 429 for
// the DAILY policy, with X-HubSpot-RateLimit-Daily-Remaining "0".
func (s *Server) RateLimitNextDaily(n int) {
	s.queueFaults(n, fault{kind: faultDaily, status: http.StatusTooManyRequests})
}

func (s *Server) queueFaults(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// SetLatency makes every later request wait d (real time, not the
// [WithClock] clock) before it is handled. The wait ends early, without a
// response, when the client goes away or the server closes. Zero turns it
// off.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// DropAfterCommitNext makes the next n write requests (create, update,
// archive, GDPR delete and the batch create, update, upsert and archive
// endpoints) take full effect and then close the connection without
// sending a response, as when a network fault hits after HubSpot committed
// the write. Reads and searches are not affected.
func (s *Server) DropAfterCommitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropNext += n
}

// SetTokenExpired makes every request answer 401 EXPIRED_AUTHENTICATION, as
// for an expired OAuth access token, until it is called with false.
func (s *Server) SetTokenExpired(expired bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenExpired = expired
}

func (s *Server) takeFault() (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return fault{}, false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f, true
}

func (s *Server) takeDrop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropNext == 0 {
		return false
	}
	s.dropNext--
	return true
}

// badGatewayHTML is the page HubSpot's edge answers a 502 with.
const badGatewayHTML = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete response.</p>
</body></html>
`

func (s *Server) writeFault(w http.ResponseWriter, f fault, now time.Time) {
	switch f.kind {
	case faultBurst, faultDaily:
		policy := policyBurst
		if f.kind == faultDaily {
			policy = policyDaily
		}
		s.mu.Lock()
		s.rateLimitHeadersLocked(w, policy)
		s.mu.Unlock()
		writeRateLimit(w, policy)
		return
	}
	switch f.status {
	case http.StatusBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(badGatewayHTML))
		return
	case 477:
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, injectedError(f.status))
}

// injectedError builds the envelope for an injected status.
func injectedError(status int) *apiError {
	switch status {
	case http.StatusBadRequest:
		return badRequest("Invalid input (injected fault)")
	case http.StatusUnauthorized:
		return unauthorized()
	case http.StatusForbidden:
		return newError(status, catMissingScope, "This app hasn't been granted all "+
			"required scopes to make this call.")
	case http.StatusNotFound:
		return notFound("0")
	case http.StatusConflict:
		return conflict("0")
	case 477:
		return newError(status, "MIGRATION_IN_PROGRESS",
			"This account is being migrated between data centers; retry later.")
	}
	text := http.StatusText(status)
	if text == "" {
		text = "error"
	}
	return newError(status, "", "%s", text)
}

// dropAfterCommit runs the handler, discarding its response, then closes the
// client connection without answering.
func (s *Server) dropAfterCommit(w http.ResponseWriter, r *http.Request, ep endpoint,
	now time.Time) {
	_, _, _ = ep.handle(r, now)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the response instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
