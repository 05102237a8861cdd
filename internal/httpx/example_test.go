package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/internal/httpx"
)

func ExampleNewWindowLimiter() {
	// Pipedrive's Lite plan allows 20 requests per rolling 2 seconds.
	lim := httpx.NewWindowLimiter(20, 2*time.Second)
	fmt.Println("burst:", lim.Burst(), "rate per second:", float64(lim.Limit()))

	// Offer a request every millisecond for two seconds.
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	allowed := 0
	for ms := range 2001 {
		if lim.AllowN(start.Add(time.Duration(ms)*time.Millisecond), 1) {
			allowed++
		}
	}
	fmt.Println("allowed in [0s, 2s]:", allowed)
	// Output:
	// burst: 4 rate per second: 8
	// allowed in [0s, 2s]: 20
}

func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-token") != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"unauthorized access"}`)
			return
		}
		fmt.Fprint(w, `{"success":true}`)
	}))
	defer srv.Close()

	newClient := func(tok string) *httpx.Client {
		c, err := httpx.NewClient(httpx.Config{
			Service: "example",
			BaseURL: srv.URL,
			Token:   httpx.NewToken(tok),
			Hooks: httpx.Hooks{
				Authorize: func(h http.Header, t httpx.Token) { h.Set("x-api-token", t.Reveal()) },
			},
		})
		if err != nil {
			panic(err)
		}
		return c
	}

	ping := httpx.Request{Method: "GET", Path: "/ping"}
	resp, err := newClient("secret").Do(context.Background(), ping)
	fmt.Println(string(resp.Body), err)

	_, err = newClient("wrong").Do(context.Background(), ping)
	fmt.Println(errors.Is(err, keysync.ErrUnauthorized))
	// Output:
	// {"success":true} <nil>
	// true
}
