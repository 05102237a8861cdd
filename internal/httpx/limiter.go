package httpx

import (
	"context"
	"fmt"
	"math"
	stdsync "sync"
	"time"

	"golang.org/x/time/rate"
)

// NewWindowLimiter returns a limiter that never allows more than n events in
// any window of length w, wherever the window starts (both ends included).
//
// A token bucket with burst n refilled at n/w lets almost 2n events through
// in one window: a full burst at the end of one window plus the refill. This
// limiter instead satisfies burst + rate·w ≤ n: it keeps a small burst of
// n/5 (at least 1, at most 10) and refills the rest evenly, so 20 per 2 s
// becomes a burst of 4 at 8/s and 100 per 10 s a burst of 10 at 9/s. For
// n == 1 the rate is a little under 1/w.
//
// NewWindowLimiter panics if n < 1 or w <= 0; callers validate first.
func NewWindowLimiter(n int, w time.Duration) *rate.Limiter {
	if n < 1 || w <= 0 {
		panic(fmt.Sprintf("httpx: NewWindowLimiter(%d, %v): need n >= 1 and w > 0", n, w))
	}
	b := max(1, min(n/5, 10))
	refill := float64(n - b)
	if refill == 0 {
		// burst + rate·w < n+1 is enough for an integer count of events.
		refill = 0.99
	}
	return rate.NewLimiter(rate.Limit(refill/w.Seconds()), b)
}

// gate takes one token from several limiters at the same instant. Taking
// them one after another (Wait on each in turn) would hold the first token
// while waiting for the second and send later than the first limiter
// believes, which can pack more requests into a window than it allows.
//
// The gate reads the clock under its lock and never lets it go backwards:
// a rate.Limiter told about an earlier time than it last saw counts the
// refill between the two twice.
type gate struct {
	mu   stdsync.Mutex
	last time.Time
}

// try takes one token from every limiter at the current time if all have
// one, and returns 0; otherwise it takes none and returns how long to wait
// before trying again. It also returns the time it used.
func (g *gate) try(clock func() time.Time, lims []*rate.Limiter) (time.Duration, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()

	now := clock()
	if now.Before(g.last) {
		now = g.last
	}
	g.last = now
	return takeAll(now, lims), now
}

// takeAll is try without the lock and clock; see try.
func takeAll(now time.Time, lims []*rate.Limiter) time.Duration {
	var wait time.Duration
	for _, l := range lims {
		if l.Limit() == rate.Inf {
			continue
		}
		tok := l.TokensAt(now)
		if tok >= 1 {
			continue
		}
		if l.Limit() <= 0 {
			return time.Duration(math.MaxInt64)
		}
		need := time.Duration((1 - tok) / float64(l.Limit()) * float64(time.Second))
		wait = max(wait, need+time.Microsecond)
	}
	if wait > 0 {
		return wait
	}
	for _, l := range lims {
		if !l.AllowN(now, 1) {
			// Only possible if the limiter is shared outside this gate;
			// tokens already taken are lost, which errs on the safe side.
			return time.Millisecond
		}
	}
	return 0
}

// acquire blocks until try succeeds. It fails at once with an error wrapping
// context.DeadlineExceeded when the wait would pass ctx's deadline.
func (g *gate) acquire(ctx context.Context, now func() time.Time, lims []*rate.Limiter) error {
	if len(lims) == 0 {
		return ctx.Err()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, t := g.try(now, lims)
		if wait == 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && t.Add(wait).After(dl) {
			return &limiterDeadlineError{wait: wait}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// limiterDeadlineError means waiting for the client's own rate limiter
// would pass the context's deadline.
type limiterDeadlineError struct {
	wait time.Duration
}

func (e *limiterDeadlineError) Error() string {
	return fmt.Sprintf("waiting %v for the rate limiter would pass the context deadline", e.wait)
}

func (e *limiterDeadlineError) Unwrap() error { return context.DeadlineExceeded }
