package fakeserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
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
