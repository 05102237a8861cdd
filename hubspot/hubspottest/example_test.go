package hubspottest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/keysync/sync/hubspot/hubspottest"
)

// send makes one authenticated request and returns the status and body.
func send(s *hubspottest.Server, method, path, body string) (int, []byte) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The fake is seeded with a contact and read back with net/http.
func Example() {
	s := hubspottest.NewServer()
	defer s.Close()
	ids := s.SeedProperties(map[string]string{"email": "dana@example.com", "firstname": "Dana"})

	status, body := send(s, "GET", "/crm/objects/2026-09/contacts/"+ids[0]+
		"?properties=email,firstname", "")
	var c struct {
		ID         string
		Properties map[string]*string
	}
	_ = json.Unmarshal(body, &c)
	fmt.Println(status, c.ID, *c.Properties["email"], *c.Properties["firstname"])
	// Output: 200 101 dana@example.com Dana
}

// A duplicate email is a 409 whose message names the existing contact.
func ExampleServer_Seed() {
	s := hubspottest.NewServer()
	defer s.Close()
	s.Seed(hubspottest.Contact{ID: "5101", Properties: map[string]string{
		"email": "dana@example.com"}})

	status, body := send(s, "POST", "/crm/objects/2026-09/contacts",
		`{"properties":{"email":"Dana@Example.com"}}`)
	var e struct{ Message, Category string }
	_ = json.Unmarshal(body, &e)
	fmt.Println(status, e.Category)
	fmt.Println(e.Message)
	// Output:
	// 409 CONFLICT
	// Contact already exists. Existing ID: 5101
}

// Batch upsert by email creates missing contacts and updates existing ones.
func ExampleServer_Contacts() {
	s := hubspottest.NewServer()
	defer s.Close()
	s.SeedProperties(map[string]string{"email": "dana@example.com"})

	status, body := send(s, "POST", "/crm/objects/2026-09/contacts/batch/upsert", `{"inputs":[
		{"id":"DANA@example.com","idProperty":"email","properties":{"firstname":"Dana"}},
		{"id":"lee@example.com","idProperty":"email","properties":{"firstname":"Lee"}}]}`)
	var resp struct {
		Results []struct {
			ID  string
			New bool
		}
	}
	_ = json.Unmarshal(body, &resp)
	fmt.Println(status, resp.Results[0].New, resp.Results[1].New)
	for _, c := range s.Contacts() {
		fmt.Println(c.ID, c.Properties["email"], c.Properties["firstname"])
	}
	// Output:
	// 200 false true
	// 101 dana@example.com Dana
	// 151 lee@example.com Lee
}

// Injected faults hit the next requests in order.
func ExampleServer_FailNext() {
	s := hubspottest.NewServer()
	defer s.Close()
	s.FailNext(1, http.StatusBadGateway)
	s.RateLimitNext(1)

	for range 3 {
		status, _ := send(s, "GET", "/crm/objects/2026-09/contacts", "")
		fmt.Println(status)
	}
	fmt.Println(s.Count("GET", "/crm/objects/2026-09/contacts"))
	// Output:
	// 502
	// 429
	// 200
	// 3
}

// Requests records what the client sent, never its token.
func ExampleServer_Requests() {
	s := hubspottest.NewServer()
	defer s.Close()
	send(s, "GET", "/crm/objects/2026-09/contacts?limit=5&after=101", "")

	for _, r := range s.Requests() {
		fmt.Println(r.Method, r.Path, r.Query.Encode(), r.Status)
	}
	// Output: GET /crm/objects/2026-09/contacts after=101&limit=5 200
}
