package pipedrivetest

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// faults holds the pending one-shot faults.
type faults struct {
	failN      int
	failStatus int
	rateN      int
	dropN      int
	repeatN    int // cursor requests answered with the previous page and cursor
	replayN    int // cursor requests answered with the previous page, fresh cursor
	expireN    int // cursor requests answered 400: cursor expired
}

// FailNext makes the next n authenticated requests fail with status
// instead of being served: a 502 comes as Cloudflare's HTML page, any
// other status as Pipedrive's JSON error envelope. Calls replace the
// pending count. Use 500 or 503 for server errors, 402 for a closed
// company account and 403 for a missing permission.
func (s *Server) FailNext(n, status int) {
	if status < 400 || status > 599 {
		panic(fmt.Sprintf("pipedrivetest: FailNext: status %d is not an error", status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failN, s.faults.failStatus = n, status
}

// RateLimitNext makes the next n authenticated requests get Pipedrive's
// 429 "Request over limit" answer, with x-ratelimit-limit,
// x-ratelimit-remaining (0) and x-ratelimit-reset headers, whether or not
// rate limiting is on. Pending [Server.FailNext] faults come first.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rateN = n
}

// SetLatency makes every later request wait d (in real time) before it is
// handled. A client that gives up meanwhile gets no response, and the
// request is logged with status 0.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// DropAfterCommitNext makes the next n successful create requests (POST to
// /api/v2/persons or the v1 equivalents) store the new person and then
// close the connection without sending a response, as when a network fault
// hits after the server committed. The client sees an error although the
// person exists, so a retry would create a duplicate.
func (s *Server) DropAfterCommitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.dropN = n
}

// RepeatPageNext makes the next n v2 list requests that carry a cursor get
// the page before the one they ask for again, with that page's
// next_cursor, which is the cursor the request sent: a client that follows
// next_cursor without remembering the cursors it has seen loops for ever.
// Pending [Server.ExpireCursorNext] faults come first. Search cursors are
// not affected.
func (s *Server) RepeatPageNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.repeatN = n
}

// ReplayPageNext makes the next n v2 list requests that carry a cursor get
// the page before the one they ask for again, with a new next_cursor (a
// string not handed out before) that continues where the request's cursor
// pointed. The client sees every person of that page twice, and no cursor
// twice. Pending [Server.ExpireCursorNext] and [Server.RepeatPageNext]
// faults come first. Search cursors are not affected.
func (s *Server) ReplayPageNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.replayN = n
}

// ExpireCursorNext makes the next n v2 list requests that carry a cursor
// get 400 with Pipedrive's validation error envelope ("cursor: the cursor
// has expired", code ERR_SCHEMA_VALIDATION_FAILED), as when a client
// resumes a listing after a long pause. Requests without a cursor and
// search requests are not affected.
func (s *Server) ExpireCursorNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.expireN = n
}

// cursorFault is the fault a list request with a cursor gets.
type cursorFault int

const (
	noCursorFault cursorFault = iota
	expireCursor
	repeatPage
	replayPage
)

// takeCursorFault consumes one pending cursor fault, if any.
func (s *Server) takeCursorFault() cursorFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := &s.faults; {
	case f.expireN > 0:
		f.expireN--
		return expireCursor
	case f.repeatN > 0:
		f.repeatN--
		return repeatPage
	case f.replayN > 0:
		f.replayN--
		return replayPage
	}
	return noCursorFault
}

// takeDrop consumes one pending drop.
func (s *Server) takeDrop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.dropN <= 0 {
		return false
	}
	s.faults.dropN--
	return true
}

// drop closes the connection of w without a response. It reports false
// when the connection cannot be hijacked (HTTP/2), in which case nothing
// was written either.
func drop(w http.ResponseWriter) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// OnListPage registers fn to run each time the server has built a page of
// a persons list (v2 or v1, not search), before the page is sent. page is
// 1 for the first page of a listing (no cursor, or v1 start below limit)
// and counts up along the cursors. fn runs on the request goroutine
// without locks held, so it may seed, update or inspect the server; it
// must be safe for concurrent use when lists run concurrently.
func (s *Server) OnListPage(fn func(page int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// InsertAfterPage seeds p right after the server has built page number page
// of the next listing that reaches that page, before the page is sent. It
// simulates a person created by someone else while a client pages through
// the list: with id order the person appears on a later page.
func (s *Server) InsertAfterPage(page int, p Person) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inserts[page] = append(s.inserts[page], p)
}

// pageServed runs the drift hooks for page.
func (s *Server) pageServed(page int) {
	for _, fn := range s.takeHooks(page) {
		fn(page)
	}
}

// takeHooks seeds the persons waiting for page and returns the hooks.
func (s *Server) takeHooks(page int) []func(int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := s.inserts[page]
	delete(s.inserts, page)
	for _, p := range pending {
		s.seedLocked(p)
	}
	return slices.Clone(s.hooks)
}
