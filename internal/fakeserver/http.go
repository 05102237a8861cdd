package fakeserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"time"
)

// StatusWriter is an http.ResponseWriter that notes the first status
// written, so that a fake can log it after its handler returned.
type StatusWriter struct {
	http.ResponseWriter
	// Status is the status written so far; 0 when nothing was written.
	Status int
}

// WriteHeader records code (the first time) and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the implicit 200 of a body written without a header.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection, for hijacking.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport is an http.RoundTripper that serves every request with
// Handler in the calling goroutine, without a network. Tests inside a
// testing/synctest bubble, where sockets cannot be used, talk to a fake
// through it. Handlers that hijack the connection are not supported: the
// request fails (as a dropped connection would).
type Transport struct {
	Handler http.Handler
}

// RoundTrip serves req with t.Handler and returns the recorded response.
func (t Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p != http.ErrAbortHandler {
			panic(p)
		}
		resp, err = nil, errors.New("fakeserver: the handler aborted the response")
	}()
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, req)
	resp = rec.Result()
	resp.Request = req
	return resp, nil
}

// Wait blocks for d, the latency a fake injects, and reports whether it ran
// out: false when the client went away (r's context ended) or the server
// closed (done was closed) first. A d of zero or less returns true at once.
func Wait(r *http.Request, d time.Duration, done <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-done:
		return false
	}
}
