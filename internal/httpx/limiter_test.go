package httpx

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// maxInWindow returns the largest number of times in any window [t, t+w],
// both ends included. times must be sorted.
func maxInWindow(times []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for j < len(times) && !times[j].After(times[i].Add(w)) {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// arrivals returns a sorted random arrival pattern of one of several shapes:
// uniform noise, tight bursts, arrivals on exact window boundaries, and a
// steady saturating stream.
func arrivals(rng *rand.Rand, start time.Time, w time.Duration, shape int) []time.Time {
	var out []time.Time
	span := 20 * w
	switch shape {
	case 0: // uniform noise
		for range 2000 {
			out = append(out, start.Add(time.Duration(rng.Int64N(int64(span)))))
		}
	case 1: // bursts of up to 50 at the same instant
		for range 60 {
			t := start.Add(time.Duration(rng.Int64N(int64(span))))
			for range 1 + rng.IntN(50) {
				out = append(out, t)
			}
		}
	case 2: // on and around multiples of w and w/n, to hit inclusive ends
		for k := range 400 {
			base := start.Add(time.Duration(k) * w / 20)
			out = append(out, base, base, base.Add(-time.Nanosecond), base.Add(time.Nanosecond))
		}
	case 3: // a steady stream, 500 per window
		for k := range 10000 {
			out = append(out, start.Add(time.Duration(k)*w/500))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func TestNewWindowLimiter_neverExceedsWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n int
		w time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {5, time.Second}, {10, 2 * time.Second},
		{20, 2 * time.Second}, {40, 2 * time.Second}, {100, 10 * time.Second},
		{120, 2 * time.Second}, {190, 10 * time.Second}, {480, 2 * time.Second},
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		for shape := range 4 {
			for seed := range uint64(3) {
				rng := rand.New(rand.NewPCG(seed, uint64(tt.n)))
				lim := NewWindowLimiter(tt.n, tt.w)
				var allowed []time.Time
				for _, at := range arrivals(rng, start, tt.w, shape) {
					if lim.AllowN(at, 1) {
						allowed = append(allowed, at)
					}
				}
				require.NotEmpty(t, allowed)
				assert.LessOrEqual(t, maxInWindow(allowed, tt.w), tt.n,
					"n=%d w=%v shape=%d seed=%d", tt.n, tt.w, shape, seed)
			}
		}
	}
}

func TestNewWindowLimiter_plainBucketWouldExceed(t *testing.T) {
	t.Parallel()
	// The check above can fail: a bucket with burst n and rate n/w lets
	// nearly 2n through in one window.
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	lim := rate.NewLimiter(rate.Limit(20.0/2), 20)
	var allowed []time.Time
	for _, at := range arrivals(rand.New(rand.NewPCG(1, 1)), start, 2*time.Second, 3) {
		if lim.AllowN(at, 1) {
			allowed = append(allowed, at)
		}
	}
	assert.Greater(t, maxInWindow(allowed, 2*time.Second), 20)
}

func TestNewWindowLimiter_throughput(t *testing.T) {
	t.Parallel()
	// Under a saturating stream the limiter still lets most of the budget
	// through: at least 75% of n per window on average for n >= 10.
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10, 20, 100, 480} {
		w := 2 * time.Second
		lim := NewWindowLimiter(n, w)
		got := 0
		for _, at := range arrivals(rand.New(rand.NewPCG(2, 2)), start, w, 3) {
			if lim.AllowN(at, 1) {
				got++
			}
		}
		assert.GreaterOrEqual(t, float64(got)/20, 0.75*float64(n), "n=%d", n)
	}
}

func TestNewWindowLimiter_panicsOnBadArguments(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { NewWindowLimiter(0, time.Second) })
	assert.Panics(t, func() { NewWindowLimiter(5, 0) })
}

func TestGate_takesFromAllLimitersAtOnce(t *testing.T) {
	t.Parallel()
	// Requests of the search class wait for both limiters; plain ones only
	// for the general one. Both windows must hold for the times at which
	// the gate let requests through.
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := 2 * time.Second
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 7))
		general, search := NewWindowLimiter(20, w), NewWindowLimiter(10, w)
		var g gate
		var all, searches []time.Time
		now := start
		clock := func() time.Time { return now }
		pending := 0 // number of queued requests; each is retried until it passes
		for step := 0; step < 20000; step++ {
			now = now.Add(time.Duration(rng.IntN(20)) * time.Millisecond)
			pending += rng.IntN(2)
			if pending == 0 {
				continue
			}
			isSearch := rng.IntN(3) == 0
			lims := []*rate.Limiter{general}
			if isSearch {
				lims = []*rate.Limiter{search, general}
			}
			wait, at := g.try(clock, lims)
			if wait > 0 {
				continue
			}
			pending--
			all = append(all, at)
			if isSearch {
				searches = append(searches, at)
			}
		}
		require.NotEmpty(t, searches)
		assert.LessOrEqual(t, maxInWindow(all, w), 20, "seed %d", seed)
		assert.LessOrEqual(t, maxInWindow(searches, w), 10, "seed %d", seed)
	}
}

func TestGate_clockNeverGoesBackwards(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	lim := NewWindowLimiter(20, 2*time.Second)
	var g gate
	times := []time.Time{start.Add(time.Second), start}
	var used []time.Time
	for _, at := range times {
		wait, t0 := g.try(func() time.Time { return at }, []*rate.Limiter{lim})
		require.Zero(t, wait)
		used = append(used, t0)
	}
	assert.Equal(t, []time.Time{start.Add(time.Second), start.Add(time.Second)}, used)
}

func TestGate_reportsWait(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	lim := rate.NewLimiter(rate.Every(time.Second), 1)
	var g gate
	clock := func() time.Time { return start }
	wait, _ := g.try(clock, []*rate.Limiter{lim})
	require.Zero(t, wait)
	wait, _ = g.try(clock, []*rate.Limiter{lim})
	assert.InDelta(t, time.Second, wait, float64(time.Millisecond))
	// A limiter that never refills makes the gate wait forever.
	wait, _ = g.try(clock, []*rate.Limiter{rate.NewLimiter(0, 0)})
	assert.Greater(t, wait, 1000*time.Hour)
}
