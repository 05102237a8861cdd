package pipedrivetest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// budget is the company's daily token budget.
type budget struct {
	day  string // UTC date the usage belongs to
	used int
}

// cost returns Pipedrive's token cost of a request (x-token-cost): v1
// calls cost twice as much as their v2 twins.
func cost(rt route) int {
	if !rt.methodOK {
		return 0
	}
	c := 0
	switch rt.kind {
	case kindList:
		c = 10
	case kindGet:
		c = 1
	case kindCreate, kindUpdate:
		c = 5
	case kindDelete:
		c = 3
	case kindSearch:
		c = 20
	}
	if rt.version == 1 {
		c *= 2
	}
	return c
}

type verdict int

const (
	pass verdict = iota
	fail
	limited
	blocked
	revoked
)

// admit applies abuse blocking, injected faults and rate limits. It writes
// the rate-limit headers and, when the request is refused, the answer; it
// reports whether the request may be served.
func (s *Server) admit(w http.ResponseWriter, tok string, rt route) bool {
	now := s.cfg.now()
	h := w.Header()
	s.mu.Lock()
	v, status := s.decideLocked(h, tok, rt, now)
	s.mu.Unlock()
	switch v {
	case pass:
		return true
	case fail:
		if status == http.StatusBadGateway {
			writeHTML(w, status, badGatewayHTML)
		} else {
			writeError(w, &apiError{status: status, msg: errorText(status)})
		}
	case limited:
		writeError(w, &apiError{status: http.StatusTooManyRequests, msg: "Request over limit"})
	case blocked:
		writeHTML(w, http.StatusForbidden, blockedHTML)
	case revoked:
		writeUnauthorized(w)
	}
	return false
}

func (s *Server) decideLocked(h http.Header, tok string, rt route, now time.Time) (verdict, int) {
	ts := s.tokens[tok]
	if ts == nil {
		return revoked, 0
	}
	if now.Before(ts.blockedUntil) {
		return blocked, 0
	}
	if s.faults.failN > 0 {
		s.faults.failN--
		return fail, s.faults.failStatus
	}
	v := s.limitLocked(h, ts, rt, now)
	if v == limited {
		ts.over++
		if s.cfg.abuseAfter > 0 && ts.over >= s.cfg.abuseAfter {
			ts.blockedUntil = now.Add(s.cfg.abuseFor)
			ts.over = 0
		}
		return limited, 0
	}
	ts.over = 0
	return pass, 0
}

// limitLocked checks and charges the burst windows and the daily budget,
// setting the rate-limit headers.
func (s *Server) limitLocked(h http.Header, ts *tokenState, rt route, now time.Time) verdict {
	lim, window := s.cfg.rateMax, s.cfg.rateWindow
	ts.burst = prune(ts.burst, now, window)
	ts.search = prune(ts.search, now, s.cfg.searchWindow)
	if s.faults.rateN > 0 {
		s.faults.rateN--
		if lim == 0 {
			lim, window = 20, 2*time.Second
		}
		setRateHeaders(h, lim, 0, resetIn(ts.burst, now, window))
		s.countRejectedLocked(ts, rt, now)
		return limited
	}
	over := lim > 0 && len(ts.burst) >= lim
	if lim > 0 {
		setRateHeaders(h, lim, lim-len(ts.burst)-1, resetIn(ts.burst, now, window))
	}
	if rt.isSearch() && s.cfg.searchMax > 0 {
		smax, swin := s.cfg.searchMax, s.cfg.searchWindow
		setRateHeaders(h, smax, smax-len(ts.search)-1, resetIn(ts.search, now, swin))
		over = over || len(ts.search) >= smax
	}
	if over {
		h.Set("x-ratelimit-remaining", "0")
		s.countRejectedLocked(ts, rt, now)
		return limited
	}
	if !s.chargeLocked(h, cost(rt), now) {
		return limited
	}
	s.countLocked(ts, rt, now)
	return pass
}

// countLocked takes a place in the token's burst windows for a request.
func (s *Server) countLocked(ts *tokenState, rt route, now time.Time) {
	ts.burst = appendIf(ts.burst, s.cfg.rateMax > 0, now)
	ts.search = appendIf(ts.search, rt.isSearch() && s.cfg.searchMax > 0, now)
}

// countRejectedLocked counts a request refused with 429 in the burst
// windows when [WithRejectedCounted] is on.
func (s *Server) countRejectedLocked(ts *tokenState, rt route, now time.Time) {
	if s.cfg.countRejected {
		s.countLocked(ts, rt, now)
	}
}

// chargeLocked takes c tokens from the daily budget, reporting false (and
// charging nothing) when not enough are left.
func (s *Server) chargeLocked(h http.Header, c int, now time.Time) bool {
	if s.cfg.daily == 0 {
		return true
	}
	if day := now.UTC().Format(time.DateOnly); day != s.budget.day {
		s.budget = budget{day: day}
	}
	ok := s.budget.used+c <= s.cfg.daily
	if ok {
		s.budget.used += c
	}
	h.Set("x-daily-ratelimit-token-limit", strconv.Itoa(s.cfg.daily))
	h.Set("x-daily-ratelimit-token-remaining", strconv.Itoa(s.cfg.daily-s.budget.used))
	if !ok {
		midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		h.Set("x-ratelimit-reset", strconv.Itoa(ceilSeconds(midnight.Sub(now))))
	}
	return ok
}

// DailyTokensUsed returns how many budget tokens the requests of the
// current UTC day have cost; it is 0 unless [WithDailyLimit] is given.
func (s *Server) DailyTokensUsed() int {
	now := s.cfg.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budget.day != now.UTC().Format(time.DateOnly) {
		return 0
	}
	return s.budget.used
}

func setRateHeaders(h http.Header, limit, remaining, reset int) {
	h.Set("x-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("x-ratelimit-reset", strconv.Itoa(reset))
}

// prune drops the times that fell out of the window ending at now.
func prune(times []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(times) && !times[i].After(now.Add(-window)) {
		i++
	}
	return times[i:]
}

// resetIn returns the whole seconds until the oldest request leaves the
// window, or the window length when it is empty.
func resetIn(times []time.Time, now time.Time, window time.Duration) int {
	if len(times) == 0 {
		return ceilSeconds(window)
	}
	return max(ceilSeconds(times[0].Add(window).Sub(now)), 1)
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

func appendIf(times []time.Time, ok bool, t time.Time) []time.Time {
	if !ok {
		return times
	}
	return append(times, t)
}
