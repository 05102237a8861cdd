package fakeserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	at := func(ms ...int) []time.Time {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		out := make([]time.Time, len(ms))
		for i, m := range ms {
			out[i] = base.Add(time.Duration(m) * time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name  string
		times []time.Time
		want  int
	}{
		{"none", nil, 0},
		{"one", at(5), 1},
		{"the window is half-open", at(0, 1000), 1},
		{"just inside", at(0, 999), 2},
		{"unsorted input", at(2500, 0, 2000, 100, 2900), 3},
		{"equal times", at(7, 7, 7), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := append([]time.Time(nil), tt.times...)
			assert.Equal(t, tt.want, MaxInWindow(tt.times, time.Second))
			assert.Equal(t, before, tt.times, "the input is not modified")
		})
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var l Log[[]string]
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := l.Add(Entry[[]string]{Method: "GET", Path: "/x", Query: []string{"q"}, At: base})
	l.Add(Entry[[]string]{Method: "POST", Path: "/x", At: base.Add(time.Second)})
	l.SetStatus(i, 207)

	got := l.Entries()
	require.Len(t, got, 2)
	assert.Equal(t, 207, got[0].Status)
	assert.Zero(t, got[1].Status, "no response yet")
	got[0].Status = 500
	assert.Equal(t, 207, l.Entries()[0].Status, "Entries returns a copy")
	assert.Equal(t, 1, l.Count("GET", "/x"))
	assert.Equal(t, 0, l.Count("GET", "/y"))
	assert.Equal(t, 1, l.MaxInWindow(time.Second))
	assert.Equal(t, 2, l.MaxInWindow(time.Second+1))
}

func TestLog_concurrentUse(t *testing.T) {
	t.Parallel()
	var l Log[string]
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				l.SetStatus(l.Add(Entry[string]{Method: "GET", Path: "/"}), 200)
				_ = l.MaxInWindow(time.Second)
			}
		}()
	}
	for range 4 {
		<-done
	}
	assert.Equal(t, 200, l.Count("GET", "/"))
}

func TestStatusWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"nothing", func(http.ResponseWriter) {}, 0},
		{"header", func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) }, 201},
		{"body only", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "x") }, 200},
		{"first header wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
		}, http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sw := &StatusWriter{ResponseWriter: newRecorder()}
			tt.write(sw)
			assert.Equal(t, tt.want, sw.Status)
		})
	}
}

func TestTransport(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Method", r.Method)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(b)
		case "/abort":
			panic(http.ErrAbortHandler)
		}
	})
	c := &http.Client{Transport: Transport{Handler: h}}

	resp, err := c.Post("http://fake.invalid/echo", "text/plain", strings.NewReader("hi"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("X-Method"))
	assert.Equal(t, "hi", string(body))

	resp, err = c.Get("http://fake.invalid/echo")
	require.NoError(t, err, "a request without a body")
	resp.Body.Close()

	_, err = c.Get("http://fake.invalid/abort")
	assert.ErrorContains(t, err, "aborted")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.invalid/echo", nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	assert.ErrorIs(t, err, context.Canceled)

	assert.Panics(t, func() {
		other := Transport{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("a bug")
		})}
		_, _ = other.RoundTrip(httptestRequest(t))
	}, "other panics are not swallowed")
}

func newRecorder() http.ResponseWriter { return &discardWriter{h: http.Header{}} }

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func httptestRequest(t *testing.T) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.invalid/", nil)
	require.NoError(t, err)
	return req
}

func TestWait(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	open := make(chan struct{})
	closed := make(chan struct{})
	close(closed)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name string
		r    *http.Request
		d    time.Duration
		done chan struct{}
		want bool
	}{
		{"no latency", req, 0, open, true},
		{"latency runs out", req, time.Millisecond, open, true},
		{"client gone", req.WithContext(ctx), time.Hour, open, false},
		{"server closed", req, time.Hour, closed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Wait(tt.r, tt.d, tt.done))
		})
	}
}
