package hubspottest

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/sync/internal/fakeserver"
)

// Server is a fake HubSpot CRM serving the contacts API over HTTP on a local
// port. Create it with [NewServer] or [NewTestServer]. All methods are safe
// for concurrent use, also while requests are being served.
type Server struct {
	// URL is the base URL of the server, such as "http://127.0.0.1:41234",
	// without a trailing slash. Clients append paths such as
	// "/crm/objects/2026-09/contacts".
	URL string
	// Token is the private-app token the server accepts as
	// "Authorization: Bearer <Token>".
	Token string

	ts   *httptest.Server
	done chan struct{}
	cfg  config

	requests fakeserver.Log[url.Values] // has its own lock

	mu           sync.Mutex
	props        map[string]propDef
	records      map[int64]*record
	ids          []int64 // ascending
	nextID       int64
	emails       map[string]int64 // primary email → id of the live contact
	faults       []fault
	dropNext     int
	latency      time.Duration
	tokenExpired bool
	limits       limiters
	rng          *rand.Rand // shuffles batch results (WithShuffledBatchResults)
	closeOnce    sync.Once
}

// NewServer starts a fake HubSpot server configured by opts. The caller must
// call [Server.Close] when done; tests can use [NewTestServer] instead.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.token == "" {
		cfg.token = "pat-na1-" + newUUID()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	s := &Server{
		Token:   cfg.token,
		done:    make(chan struct{}),
		cfg:     cfg,
		props:   builtinProperties(),
		records: map[int64]*record{},
		nextID:  firstID,
		emails:  map[string]int64{},
		limits:  newLimiters(),
		rng:     rand.New(rand.NewPCG(0x6b657973, 0x796e6321)), // fixed: deterministic
	}
	for name, def := range cfg.extraProps {
		if _, builtin := s.props[name]; !builtin {
			s.props[name] = def
		}
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.ts.Start()
	return s
}

// NewTestServer is [NewServer] for tests: it closes the server when t and
// its subtests finish.
func NewTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, ending any injected latency, and waits for
// outstanding requests. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.ts.Close()
	})
}

// Client returns an *http.Client for the server, as
// httptest.Server.Client does.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Handler returns the handler that serves the server's requests. Serving
// requests with it directly, without a network, suits tests that run in a
// testing/synctest bubble, where sockets cannot be used: with an
// http.RoundTripper that calls the handler, a client under test sees
// simulated time only, so rate-limit tests become exact. In that setting
// [Server.DropAfterCommitNext] fails the request instead of dropping a
// connection (there is none to hijack).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// endpoint is a resolved route.
type endpoint struct {
	handle func(r *http.Request, now time.Time) (int, any, *apiError)
	write  bool // commits changes (drop-after-commit applies)
	search bool // counted by the search limiter
}

// serve is the request pipeline: log, latency, injected faults,
// authentication, routing, scopes, rate limits, then the handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.now()
	idx := s.logRequest(r, now)
	sw := &fakeserver.StatusWriter{ResponseWriter: w}
	defer func() { s.requests.SetStatus(idx, sw.Status) }()

	if !s.sleep(r) {
		return
	}
	if f, ok := s.takeFault(); ok {
		s.writeFault(sw, f, now)
		return
	}
	oauth, aerr := s.authenticate(r)
	if aerr != nil {
		writeError(sw, aerr)
		return
	}
	ep, scope, aerr := s.resolve(r)
	if aerr == nil {
		aerr = s.checkScope(scope)
	}
	if !s.admit(sw, oauth, ep.search, now) {
		return
	}
	if aerr != nil {
		writeError(sw, aerr)
		return
	}
	if ep.write && s.takeDrop() {
		s.dropAfterCommit(sw, r, ep, now)
		sw.Status = 0
		return
	}
	status, body, aerr := ep.handle(r, now)
	if aerr != nil {
		writeError(sw, aerr)
		return
	}
	writeJSON(sw, status, body)
}

// authenticate checks the bearer token. It reports whether the token is the
// OAuth token.
func (s *Server) authenticate(r *http.Request) (oauth bool, _ *apiError) {
	q := r.URL.Query()
	if q.Has("hapikey") {
		e := unauthorized()
		e.message = "The API key provided is invalid. View or manage your API key here: " +
			"https://app.hubspot.com/l/api-key/. API keys (hapikey) are no longer supported; " +
			"use a private app or OAuth access token."
		return false, e
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return false, unauthorized()
	}
	oauth = s.cfg.oauthToken != "" && tok == s.cfg.oauthToken
	if tok != s.cfg.token && !oauth {
		return false, unauthorized()
	}
	s.mu.Lock()
	expired := s.tokenExpired
	s.mu.Unlock()
	if expired {
		return false, newError(http.StatusUnauthorized, catExpiredAuth,
			"The OAuth token used to make this call expired 1 minute(s) ago.")
	}
	return oauth, nil
}

// checkScope returns HubSpot's 403 when scope is needed but not granted.
func (s *Server) checkScope(scope string) *apiError {
	if scope == "" || !s.cfg.scopesSet || slices.Contains(s.cfg.scopes, scope) {
		return nil
	}
	e := newError(http.StatusForbidden, catMissingScope, "This app hasn't been granted all "+
		"required scopes to make this call. Read more about required scopes here: "+
		"https://developers.hubspot.com/scopes.")
	e.details = []errorDetail{{
		Message: "One or more of the following scopes are required.",
		Context: map[string][]string{"requiredGranularScopes": {scope}},
	}}
	e.links = map[string]string{"scopes": "https://developers.hubspot.com/scopes"}
	return e
}

// crmPrefixes are the path prefixes that lead to the CRM object endpoints.
func crmPrefixes() []string {
	return []string{"/crm/objects/2026-09/", "/crm/objects/2026-03/", "/crm/v3/objects/"}
}

// resolve maps a request to its endpoint and the scope it needs.
func (s *Server) resolve(r *http.Request) (endpoint, string, *apiError) {
	p := r.URL.Path
	if ep, ok := s.resolveLegacy(r.Method, p); ok {
		return ep, ScopeContactsRead, nil
	}
	for _, prefix := range crmPrefixes() {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		obj, sub, _ := strings.Cut(rest, "/")
		if obj != "contacts" && obj != "0-1" {
			break
		}
		return s.resolveContacts(r.Method, strings.TrimSuffix(sub, "/"))
	}
	return endpoint{}, "", newError(http.StatusNotFound, "RESOURCE_NOT_FOUND",
		"hubspottest: no such endpoint: %s %s", r.Method, p)
}

func (s *Server) resolveContacts(method, sub string) (endpoint, string, *apiError) {
	read, write := ScopeContactsRead, ScopeContactsWrite
	type route struct {
		method string
		ep     endpoint
		scope  string
	}
	var routes []route
	switch {
	case sub == "":
		routes = []route{
			{http.MethodGet, endpoint{handle: s.handleList}, read},
			{http.MethodPost, endpoint{handle: s.handleCreate, write: true}, write},
		}
	case sub == "search":
		routes = []route{{http.MethodPost, endpoint{handle: s.handleSearch, search: true}, read}}
	case sub == "gdpr-delete":
		routes = []route{{http.MethodPost, endpoint{handle: s.handleGDPRDelete, write: true},
			write}}
	case strings.HasPrefix(sub, "batch/"):
		op := strings.TrimPrefix(sub, "batch/")
		h, scope, ok := s.batchHandler(op)
		if ok {
			routes = []route{{http.MethodPost, endpoint{handle: h, write: op != "read"}, scope}}
		}
	case !strings.Contains(sub, "/"):
		id := sub
		routes = []route{
			{http.MethodGet, endpoint{handle: s.withID(id, s.handleGet)}, read},
			{http.MethodPatch, endpoint{handle: s.withID(id, s.handleUpdate), write: true}, write},
			{http.MethodDelete, endpoint{handle: s.withID(id, s.handleArchive), write: true},
				write},
		}
	}
	if len(routes) == 0 {
		return endpoint{}, "", newError(http.StatusNotFound, "RESOURCE_NOT_FOUND",
			"hubspottest: no such contacts endpoint: %s", sub)
	}
	for _, rt := range routes {
		if rt.method == method {
			return rt.ep, rt.scope, nil
		}
	}
	return endpoint{}, "", newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"HTTP method %s is not supported by this resource", method)
}

// withID binds a path id to a handler.
func (s *Server) withID(id string,
	h func(r *http.Request, id string, now time.Time) (int, any, *apiError),
) func(r *http.Request, now time.Time) (int, any, *apiError) {
	return func(r *http.Request, now time.Time) (int, any, *apiError) { return h(r, id, now) }
}

// sleep waits for the injected latency. It returns false when the client
// went away or the server closed first.
func (s *Server) sleep(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	return fakeserver.Wait(r, d, s.done)
}
