package pipedrive

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// TestTokenNeverLeaks drives successes and every kind of failure with a
// known token and checks logs, errors in every fmt form, the client value,
// and the fake's request log.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123456789abcdef01234567"
	s := pipedrivetest.NewTestServer(t, pipedrivetest.WithToken(token))
	seedN(s, 3)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := NewClient(token, WithBaseURL(s.URL), WithLogger(logger), WithoutRateLimit(),
		WithRetry(2, time.Millisecond, 2*time.Millisecond), WithMaxRetryWait(10*time.Millisecond))
	require.NoError(t, err)
	p := newConnector(t, c, PersonsOptions{})

	var out bytes.Buffer
	record := func(err error) {
		if err != nil {
			fmt.Fprintf(&out, "%v|%+v|%#v|%s|%q\n", err, err, err, err, err)
		}
	}
	ctx := t.Context()
	_, err = collect(t, p.List(ctx))
	record(err)
	s.FailNext(3, http.StatusBadGateway)
	_, err = c.Get(ctx, 1)
	record(err)
	s.RateLimitNext(3)
	_, err = c.Get(ctx, 1)
	record(err)
	s.DropAfterCommitNext(1)
	res, err := p.Write(ctx, []keysync.Write{create("Dana", "dana@example.com"),
		{Op: keysync.OpCreate, Item: keysync.Item{}}})
	record(err)
	for _, r := range res {
		record(r.Err)
	}
	_, err = c.SearchByEmail(ctx, "dana@example.com")
	record(err)
	s.RevokeToken(token)
	_, err = c.Get(ctx, 1)
	require.ErrorIs(t, err, keysync.ErrUnauthorized)
	record(err)
	fmt.Fprintf(&out, "%v %+v %#v %v %+v\n", c, c, c, p, p)
	for _, r := range s.Requests() {
		fmt.Fprintf(&out, "%+v\n", r)
	}

	// Not assert.NotContains: on failure it would print the haystack, token
	// and all.
	require.NotEmpty(t, logs.String())
	assert.False(t, strings.Contains(logs.String(), token), "token leaked into logs")
	assert.False(t, strings.Contains(out.String(), token), "token leaked into errors or values")
	assert.False(t, strings.Contains(logs.String(), "x-api-token"), "header name in logs")
}
