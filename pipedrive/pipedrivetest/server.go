package pipedrivetest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/sync/internal/fakeserver"
)

// A Server is a fake Pipedrive company serving the persons API over HTTP
// on a loopback port. Its methods are safe for concurrent use, also while
// requests are being served.
type Server struct {
	// URL is the base URL, such as http://127.0.0.1:41234, with no trailing
	// slash. Clients append /api/v2/persons, /v1/persons and so on.
	URL string

	// Token is the fake's valid API token, a test token that grants access
	// to nothing but this server (see [WithToken]). It is a plain string,
	// so it prints in plain text in logs and test output; never store a
	// real Pipedrive token here. Send it in the x-api-token header, as an
	// Authorization bearer token or as the api_token query parameter.
	Token string

	cfg       config
	hs        *httptest.Server
	done      chan struct{} // closed by Close to end latency waits
	closeOnce sync.Once
	log       fakeserver.Log[string] // has its own lock

	mu      sync.Mutex
	persons map[int]*entry
	nextID  int
	tokens  map[string]*tokenState
	faults  faults
	inserts map[int][]Person
	hooks   []func(page int)
	budget  budget
	latency time.Duration
}

// NewServer starts a fake Pipedrive with no persons. The caller must call
// [Server.Close] when done; tests should prefer [NewTestServer].
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.token == "" {
		cfg.token = randomToken()
	}
	s := &Server{
		Token:   cfg.token,
		cfg:     cfg,
		persons: map[int]*entry{},
		nextID:  1,
		tokens:  map[string]*tokenState{cfg.token: {}},
		inserts: map[int][]Person{},
		done:    make(chan struct{}),
	}
	s.hs = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.hs.URL
	return s
}

// NewTestServer starts a fake Pipedrive like [NewServer] and closes it when
// t and its subtests finish.
func NewTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, blocking until all outstanding requests on
// it have completed; requests waiting out [Server.SetLatency] are dropped
// without a response. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.hs.Close()
}

// Client returns an *http.Client that talks to the server; it carries no
// token.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// AddToken adds another valid token, with its own rate-limit windows. When
// visible is not nil, the token sees only the persons for which it returns
// true plus the persons it created itself: others are missing from lists
// and search, dropped from ids= filters, and 404 on get, update and delete.
func (s *Server) AddToken(token string, visible func(id int) bool) {
	if token == "" {
		panic("pipedrivetest: AddToken: empty token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = &tokenState{visible: visible}
}

// RevokeToken makes token invalid, so that later requests with it get 401,
// as after the user regenerates the token in Pipedrive. The token may be
// [Server.Token].
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

func randomToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenState is what the server tracks per token.
type tokenState struct {
	visible      func(id int) bool
	created      map[int]bool
	burst        []time.Time
	search       []time.Time
	over         int // 429 answers in a row
	blockedUntil time.Time
}

func (ts *tokenState) sees(id int) bool {
	return ts.visible == nil || ts.created[id] || ts.visible(id)
}

// handle is the entry point of every request.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	rec := &fakeserver.StatusWriter{ResponseWriter: w}
	idx := s.logArrival(r)
	defer func() { s.log.SetStatus(idx, rec.Status) }()
	if !s.wait(r) {
		drop(rec) // the client is gone or the server is closing: no answer
		return
	}
	tok, ok := s.authenticate(r)
	if !ok {
		writeUnauthorized(rec)
		return
	}
	rt := matchRoute(r.Method, r.URL.Path)
	if !s.admit(rec, tok, rt) {
		return
	}
	s.dispatch(rec, r, tok, rt)
}

// wait applies the configured latency; it reports false when the client
// went away meanwhile.
func (s *Server) wait(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	return fakeserver.Wait(r, d, s.done)
}

// authenticate returns the request's token when it is valid. A token in
// the x-api-token header wins over a bearer token, which wins over the
// api_token query parameter.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	tok := r.Header.Get("x-api-token")
	if tok == "" {
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			tok = strings.TrimSpace(a[7:])
		}
	}
	if tok == "" {
		tok = r.URL.Query().Get("api_token")
	}
	if tok == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return tok, ok
}

// dispatch runs the handler of an admitted request.
func (s *Server) dispatch(w *fakeserver.StatusWriter, r *http.Request, tok string, rt route) {
	switch {
	case rt.kind == kindUnknown:
		writeError(w, &apiError{status: 404, msg: "Unknown method ."})
	case !rt.methodOK:
		writeError(w, &apiError{status: 405, msg: "Method not allowed"})
	case rt.version == 2:
		s.serveV2(w, r, tok, rt)
	default:
		s.serveV1(w, r, tok, rt)
	}
}

type routeKind int

const (
	kindUnknown routeKind = iota
	kindList
	kindGet
	kindCreate
	kindUpdate
	kindDelete
	kindSearch
)

// route is what a request path and method address.
type route struct {
	version  int
	kind     routeKind
	idText   string
	methodOK bool
}

func (rt route) isSearch() bool { return rt.kind == kindSearch }

// matchRoute maps a method and path onto a persons endpoint.
func matchRoute(method, path string) route {
	var rt route
	var rest string
	switch {
	case cutPrefix(path, "/api/v2/persons", &rest):
		rt.version = 2
	case cutPrefix(path, "/v1/persons", &rest), cutPrefix(path, "/api/v1/persons", &rest):
		rt.version = 1
	default:
		return rt
	}
	update := http.MethodPatch
	if rt.version == 1 {
		update = http.MethodPut
	}
	switch {
	case rest == "" || rest == "/":
		rt.kind, rt.methodOK = kindList, method == http.MethodGet
		if method == http.MethodPost {
			rt.kind, rt.methodOK = kindCreate, true
		}
	case rest == "/search":
		rt.kind, rt.methodOK = kindSearch, method == http.MethodGet
	case !strings.Contains(rest[1:], "/"):
		rt.idText = rest[1:]
		switch method {
		case http.MethodGet:
			rt.kind, rt.methodOK = kindGet, true
		case update:
			rt.kind, rt.methodOK = kindUpdate, true
		case http.MethodDelete:
			rt.kind, rt.methodOK = kindDelete, true
		default:
			rt.kind = kindGet
		}
	}
	return rt
}

func cutPrefix(path, prefix string, rest *string) bool {
	r, ok := strings.CutPrefix(path, prefix)
	if ok && (r == "" || r[0] == '/') {
		*rest = r
		return true
	}
	return false
}

// parseID parses a path id; ids are positive integers.
func parseID(text string) (int, *apiError) {
	id, err := strconv.Atoi(text)
	if err != nil || id <= 0 {
		return 0, schemaError("id: must be a positive integer")
	}
	return id, nil
}
