package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestToken_neverPrints(t *testing.T) {
	t.Parallel()
	tok := NewToken(testToken)
	holder := struct {
		Exported Token
		hidden   Token
	}{tok, tok}
	outputs := []string{
		tok.String(), tok.GoString(),
		fmt.Sprint(tok), fmt.Sprintf("%s|%v|%+v|%#v|%q|%x|%d", tok, tok, tok, tok, tok, tok, tok),
		fmt.Sprintf("%v|%+v|%#v", holder, holder, holder),
		fmt.Sprintf("%v", &holder),
	}
	js, err := json.Marshal(holder)
	require.NoError(t, err)
	outputs = append(outputs, string(js))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", tok, "holder", holder)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "token", tok, "holder", holder)
	outputs = append(outputs, logs.String())
	for _, out := range outputs {
		assert.NotContains(t, out, testToken)
	}
	assert.Equal(t, testToken, tok.Reveal())
	assert.False(t, tok.IsZero())
	assert.True(t, Token{}.IsZero())
	assert.Equal(t, "[REDACTED]", fmt.Sprint(tok))
}

// TestClient_noTokenLeak runs failing requests, including servers that echo
// the token back, and checks every error rendering and log line.
func TestClient_noTokenLeak(t *testing.T) {
	t.Parallel()
	echo := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Echo", r.Header.Get("x-api-token"))
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"error":"bad token %s","code":"%s"}`, r.Header.Get("x-api-token"),
				r.Header.Get("x-api-token"))
		}
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	servers := []string{
		newScript(t, echo(401)).srv.URL,
		newScript(t, echo(500)).srv.URL,
		newScript(t, echo(429)).srv.URL,
		newScript(t, status(429, `{}`, "Retry-After", "3600")).srv.URL,
		newScript(t, hangUp).srv.URL,
		dead.URL,
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var rendered bytes.Buffer
	for _, base := range servers {
		cfg := testConfig(base)
		cfg.Logger = logger
		cfg.RetryMax = 1
		cfg.MaxRetryWait = 10 * time.Millisecond
		c := newTestClient(t, cfg)
		fmt.Fprintf(&rendered, "%v %+v %#v\n", c, c, c)
		reqs := []Request{
			{Method: "GET", Path: "/p", Query: url.Values{"term": {"x"}}},
			{Method: "POST", Path: "/p", Body: map[string]string{"name": "x"}, NonIdempotent: true},
		}
		for _, r := range reqs {
			_, err := c.Do(t.Context(), r)
			require.Error(t, err)
			fmt.Fprintf(&rendered, "%v\n%+v\n%#v\n%s\n", err, err, err, err)
			var ae *APIError
			if errors.As(err, &ae) {
				fmt.Fprintf(&rendered, "%s %s %s %s\n", ae.Body, ae.Message, ae.Code, ae.URL)
			}
		}
	}
	require.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, rendered.String(), testToken)
	assert.Contains(t, rendered.String(), "[REDACTED]", "the echoed token was cut out")
}
