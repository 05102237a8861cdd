package pipedrivetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// get sends an authenticated GET and decodes the JSON answer.
func get(s *pipedrivetest.Server, path string) (int, map[string]any) {
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set("x-api-token", s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		panic(err)
	}
	return resp.StatusCode, body
}

// A test seeds the fake, points its client at s.URL and checks what the
// client did.
func Example() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	s.Seed(
		pipedrivetest.Person{
			Name:   "Dana Example",
			Emails: []pipedrivetest.Contact{{Value: "dana@example.com", Label: "work"}},
		},
		pipedrivetest.Person{Name: "Kim Example"},
	)

	cursor := ""
	for {
		path := "/api/v2/persons?limit=1"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		_, body := get(s, path)
		for _, p := range body["data"].([]any) {
			person := p.(map[string]any)
			fmt.Println(person["id"], person["name"], person["emails"])
		}
		next, _ := body["additional_data"].(map[string]any)["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	fmt.Println("list requests:", s.Count("GET", "/api/v2/persons"))
	// Output:
	// 1 Dana Example [map[label:work primary:true value:dana@example.com]]
	// 2 Kim Example []
	// list requests: 2
}

// Search by email as an upsert would: exact_match ignores case.
func ExampleServer_Seed() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	ids := s.Seed(pipedrivetest.Person{
		Name:   "Dana Example",
		Emails: []pipedrivetest.Contact{{Value: "Dana@Example.com"}},
	})
	fmt.Println("seeded", ids)

	status, body := get(s,
		"/api/v2/persons/search?term=dana%40example.com&fields=email&exact_match=true")
	for _, it := range body["data"].(map[string]any)["items"].([]any) {
		item := it.(map[string]any)["item"].(map[string]any)
		fmt.Println(status, item["id"], item["emails"])
	}
	// Output:
	// seeded [1]
	// 200 1 [Dana@Example.com]
}

// SeedJSON loads a fixture in the v2 create shape.
func ExampleServer_SeedJSON() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	ids, err := s.SeedJSON(strings.NewReader(`[
		{"name": "Dana Example", "emails": [{"value": "dana@example.com", "primary": true}],
		 "add_time": "2026-11-02T09:15:00Z"}
	]`))
	fmt.Println(ids, err)
	p, _ := s.Person(ids[0])
	fmt.Println(p["first_name"], p["last_name"], p["update_time"])
	// Output:
	// [1] <nil>
	// Dana Example 2026-11-02T09:15:00Z
}

// Every request is logged without its token, so tests can check what a
// client sent.
func ExampleServer_Requests() {
	s := pipedrivetest.NewServer(pipedrivetest.WithToken("0123456789abcdef"))
	defer s.Close()
	resp, err := http.Get(s.URL + "/api/v2/persons?limit=500&api_token=0123456789abcdef")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	for _, r := range s.Requests() {
		fmt.Println(r.Method, r.Path, r.Query, r.Status)
	}
	// Output:
	// GET /api/v2/persons limit=500 200
}

// With rate limiting on, requests over the burst limit get 429 and every
// response tells the client how long to wait.
func ExampleWithRateLimit() {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := pipedrivetest.NewServer(
		pipedrivetest.WithRateLimit(2, 2*time.Second),
		pipedrivetest.WithClock(func() time.Time { return now }),
	)
	defer s.Close()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v2/persons", nil)
		req.Header.Set("x-api-token", s.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("x-ratelimit-remaining"),
			resp.Header.Get("x-ratelimit-reset"))
	}
	// Output:
	// 200 1 2
	// 200 0 2
	// 429 0 2
}

// FailNext makes the next requests fail, for testing a client's retries.
func ExampleServer_FailNext() {
	s := pipedrivetest.NewServer()
	defer s.Close()
	s.FailNext(1, http.StatusServiceUnavailable)
	status, body := get(s, "/api/v2/persons")
	fmt.Println(status, body["success"], body["error"])
	status, body = get(s, "/api/v2/persons")
	fmt.Println(status, body["success"])
	// Output:
	// 503 false Service is temporarily unavailable
	// 200 true
}
