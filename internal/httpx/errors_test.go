package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClient_Do_unsentErrorsAreKnown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// change adapts the config so that the request fails before it
		// leaves; the request must then be neither sent nor retried.
		change       func(cfg *Config)
		wantAttempts int
	}{
		{"a header value net/http refuses", func(cfg *Config) {
			cfg.Hooks.Authorize = func(h http.Header, _ Token) { h.Set("x-api-token", "tok\n") }
		}, 0},
		{"a header added by a wrapping transport", func(cfg *Config) {
			cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (
				*http.Response, error) {
				r = r.Clone(r.Context())
				r.Header.Set("X-Trace", "a\r\nb")
				return http.DefaultTransport.RoundTrip(r)
			})}
		}, 1},
		{"an unsupported scheme set by a wrapping transport", func(cfg *Config) {
			cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (
				*http.Response, error) {
				r = r.Clone(r.Context())
				r.URL.Scheme = "gopher"
				return http.DefaultTransport.RoundTrip(r)
			})}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, ok)
			cfg := testConfig(s.srv.URL)
			tt.change(&cfg)
			c := newTestClient(t, cfg)
			_, err := c.Do(t.Context(), Request{Method: http.MethodPost, Path: "/p",
				Body: []byte(`{"name":"x"}`), NonIdempotent: true})
			var re *RequestError
			require.ErrorAs(t, err, &re)
			assert.False(t, re.Sent, "%v", err)
			assert.False(t, OutcomeUnknown(err), "%v", err)
			assert.Equal(t, tt.wantAttempts, re.Attempts, "a retry cannot help")
			assert.Zero(t, s.hits.Load())
		})
	}
}

func TestOutcomeUnknown_limiterDeadlineIsNotSent(t *testing.T) {
	t.Parallel()
	s := newScript(t, ok)
	cfg := testConfig(s.srv.URL)
	cfg.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
	c := newTestClient(t, cfg)
	_, err := c.Do(t.Context(), get("/x"))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = c.Do(ctx, Request{Method: http.MethodPost, Path: "/p", NonIdempotent: true})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	assert.False(t, re.Sent)
	assert.False(t, OutcomeUnknown(err), "the create never left: it is safe to retry")
	assert.EqualValues(t, 1, s.hits.Load())
}

func TestOutcomeUnknown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{&RequestError{Sent: true}, true},
		{&RequestError{Sent: false}, false},
		{&RequestError{Sent: false, Err: context.DeadlineExceeded}, false},
		{&RequestError{Sent: true, Err: context.DeadlineExceeded}, true},
		{context.Canceled, true},
		{&APIError{StatusCode: 503}, true},
		{&APIError{StatusCode: 429}, false},
		{errors.New("x"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, OutcomeUnknown(tt.err), "%#v", tt.err)
	}
}

func TestNewClient_rejectsControlCharsInToken(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{testToken + "\n", "\r" + testToken, testToken + "\x7f"} {
		cfg := testConfig("https://example.com")
		cfg.Token = NewToken(tok)
		_, err := NewClient(cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "control character")
		assert.False(t, strings.Contains(err.Error(), testToken), "token leaked into the error")
	}
}

func TestClient_Do_redactsTokenBeforeCapping(t *testing.T) {
	t.Parallel()
	pad := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		body string
	}{
		{"a token crossing the cap", pad(MaxErrorBody-8) + testToken + pad(100)},
		{"a token cut by the read limit and moved up by earlier redactions",
			strings.Repeat(testToken, 10) + pad(MaxErrorBody+5-10*len(testToken)) + testToken +
				pad(100)},
	}
	for _, tt := range tests {
		for _, code := range []int{400, 503} {
			t.Run(tt.name+" "+http.StatusText(code), func(t *testing.T) {
				t.Parallel()
				s := newScript(t, status(code, tt.body))
				cfg := testConfig(s.srv.URL)
				cfg.RetryMax = 1
				_, err := newTestClient(t, cfg).Do(t.Context(), get("/x"))
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				assert.LessOrEqual(t, len(ae.Body), MaxErrorBody)
				assert.False(t, strings.Contains(string(ae.Body), testToken[:5]),
					"part of the token leaked into APIError.Body")
			})
		}
	}
}
