package fakeserver

import (
	"slices"
	"sync"
	"time"
)

// Entry is one logged request. Q is the fake's form of the query, already
// stripped of credentials: url.Values for one fake, a raw string for
// another.
type Entry[Q any] struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path without the query.
	Path string
	// Query is the query in the fake's form.
	Query Q
	// Status is the response status, or 0 while the request is in flight
	// and when no response was sent.
	Status int
	// At is the arrival time by the fake's clock.
	At time.Time
}

// Log is the request log of a fake server, in arrival order. The zero
// value is empty and ready; a Log is safe for concurrent use.
type Log[Q any] struct {
	mu      sync.Mutex
	entries []Entry[Q]
}

// Add appends e and returns its index, for [Log.SetStatus].
func (l *Log[Q]) Add(e Entry[Q]) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
	return len(l.entries) - 1
}

// SetStatus records the status of the response to entry i.
func (l *Log[Q]) SetStatus(i, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[i].Status = status
}

// Entries returns a copy of the log. Queries are shared with the log, so
// a Q that is a reference type must be cloned by the caller before it is
// handed out.
func (l *Log[Q]) Entries() []Entry[Q] {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// Count returns how many requests arrived with exactly this method and
// path, whatever their outcome.
func (l *Log[Q]) Count(method, path string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if e.Method == method && e.Path == path {
			n++
		}
	}
	return n
}

// MaxInWindow returns the largest number of requests, whatever their
// outcome, whose arrival times lie in one half-open window [t, t+d), over
// all t.
func (l *Log[Q]) MaxInWindow(d time.Duration) int {
	l.mu.Lock()
	times := make([]time.Time, len(l.entries))
	for i, e := range l.entries {
		times[i] = e.At
	}
	l.mu.Unlock()
	return MaxInWindow(times, d)
}

// MaxInWindow returns the largest number of times that lie in one
// half-open window [t, t+d), over all t. times need not be sorted and is
// not modified.
func MaxInWindow(times []time.Time, d time.Duration) int {
	sorted := slices.Clone(times)
	slices.SortFunc(sorted, time.Time.Compare)
	best, lo := 0, 0
	for hi := range sorted {
		for sorted[hi].Sub(sorted[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
