package hubspottest

import (
	"net/http"
	"strconv"
	"time"
)

// Rate-limit policies named in 429 bodies.
const (
	policyBurst  = "TEN_SECONDLY_ROLLING"
	policyDaily  = "DAILY"
	policySearch = "SECONDLY"
)

// Rate-limit response headers.
const (
	hdrDaily          = "X-HubSpot-RateLimit-Daily"
	hdrDailyRemaining = "X-HubSpot-RateLimit-Daily-Remaining"
	hdrInterval       = "X-HubSpot-RateLimit-Interval-Milliseconds"
	hdrMax            = "X-HubSpot-RateLimit-Max"
	hdrRemaining      = "X-HubSpot-RateLimit-Remaining"
)

// slidingLog is a rolling-window limiter: the arrival times of the admitted
// requests within the window.
type slidingLog struct {
	times []time.Time
}

// used drops entries older than window and returns how many remain.
func (l *slidingLog) used(now time.Time, window time.Duration) int {
	i := 0
	for i < len(l.times) && !l.times[i].After(now.Add(-window)) {
		i++
	}
	l.times = l.times[i:]
	return len(l.times)
}

// limiters holds the rate-limit state of a server.
type limiters struct {
	burst      map[bool]*slidingLog // by "is OAuth token": one window per token
	search     slidingLog
	day        string
	dailyCount int
}

func newLimiters() limiters {
	return limiters{burst: map[bool]*slidingLog{false: {}, true: {}}}
}

// admit applies the daily, burst and search limits to a request and sets the
// rate-limit headers. It writes the 429 and returns false when a limit is
// reached.
func (s *Server) admit(w http.ResponseWriter, oauth, search bool,
	now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, l := &s.cfg, &s.limits
	daily := c.daily > 0 && !oauth
	if day := now.UTC().Format(time.DateOnly); day != l.day {
		l.day, l.dailyCount = day, 0
	}
	burstLog := l.burst[oauth]
	burstUsed := 0
	if c.rateMax > 0 {
		burstUsed = burstLog.used(now, c.rateWindow)
	}
	setHeaders := func(dailyLeft, burstLeft int) {
		if search {
			return
		}
		h := w.Header()
		if daily {
			h.Set(hdrDaily, strconv.Itoa(c.daily))
			h.Set(hdrDailyRemaining, strconv.Itoa(max(dailyLeft, 0)))
		}
		if c.rateMax > 0 {
			h.Set(hdrInterval, strconv.FormatInt(c.rateWindow.Milliseconds(), 10))
			h.Set(hdrMax, strconv.Itoa(c.rateMax))
			h.Set(hdrRemaining, strconv.Itoa(max(burstLeft, 0)))
		}
	}
	switch {
	case daily && l.dailyCount >= c.daily:
		setHeaders(0, c.rateMax-burstUsed)
		writeRateLimit(w, policyDaily)
		return false
	case search && c.searchMax > 0 && l.search.used(now, c.searchWindow) >= c.searchMax:
		writeRateLimit(w, policySearch)
		return false
	case !search && c.rateMax > 0 && burstUsed >= c.rateMax:
		setHeaders(c.daily-l.dailyCount, 0)
		writeRateLimit(w, policyBurst)
		return false
	}
	if search {
		if c.searchMax > 0 {
			l.search.times = append(l.search.times, now)
		}
	} else if c.rateMax > 0 {
		burstLog.times = append(burstLog.times, now)
		burstUsed++
	}
	if daily {
		l.dailyCount++
	}
	setHeaders(c.daily-l.dailyCount, c.rateMax-burstUsed)
	return true
}

// writeRateLimit writes HubSpot's 429 body for policy.
func writeRateLimit(w http.ResponseWriter, policy string) {
	msg := map[string]string{
		policyBurst:  "You have reached your ten_secondly_rolling limit.",
		policyDaily:  "You have reached your daily limit.",
		policySearch: "You have reached your secondly limit.",
	}[policy]
	writeJSON(w, http.StatusTooManyRequests, rateLimitBody{
		Status:        "error",
		Message:       msg,
		ErrorType:     "RATE_LIMIT",
		CorrelationID: newUUID(),
		PolicyName:    policy,
		RequestID:     newUUID(),
	})
}

// rateLimitHeadersLocked sets the headers of an injected 429 from the current
// state. The server lock must be held.
func (s *Server) rateLimitHeadersLocked(w http.ResponseWriter, policy string) {
	c := &s.cfg
	h := w.Header()
	if c.daily > 0 {
		h.Set(hdrDaily, strconv.Itoa(c.daily))
		left := c.daily - s.limits.dailyCount
		if policy == policyDaily {
			left = 0
		}
		h.Set(hdrDailyRemaining, strconv.Itoa(max(left, 0)))
	}
	window, maxReq := c.rateWindow, c.rateMax
	if maxReq <= 0 {
		window, maxReq = DefaultRateWindow, DefaultRateLimit
	}
	h.Set(hdrInterval, strconv.FormatInt(window.Milliseconds(), 10))
	h.Set(hdrMax, strconv.Itoa(maxReq))
	h.Set(hdrRemaining, "0")
}
