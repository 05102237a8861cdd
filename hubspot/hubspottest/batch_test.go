package hubspottest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/hubspot/hubspottest"
)

// createInputs returns n batch-create inputs for emails prefix-i@example.com;
// with traced each carries an objectWriteTraceId.
func createInputs(prefix string, n int, traced bool) []map[string]any {
	in := make([]map[string]any, n)
	for i := range n {
		in[i] = contact(fmt.Sprintf("%s-%d@example.com", prefix, i), "P")
		if traced {
			in[i]["objectWriteTraceId"] = fmt.Sprintf("t-%d", i)
		}
	}
	return in
}

func TestServer_batchCreate250InThreeCalls(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	all := createInputs("bulk", 250, false)
	for _, chunk := range [][]map[string]any{all[:100], all[100:200], all[200:]} {
		r := call(t, s, "POST", contactsPath+"/batch/create", map[string]any{"inputs": chunk})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
		assert.Equal(t, "COMPLETE", r.Body["status"])
		assert.Len(t, results(t, r), len(chunk))
		assert.NotEmpty(t, r.Body["startedAt"])
		assert.NotEmpty(t, r.Body["completedAt"])
		assert.NotContains(t, r.Body, "errors")
	}
	got := s.Contacts()
	require.Len(t, got, 250)
	seen := map[string]bool{}
	for _, c := range got {
		seen[c.Properties["email"]] = true
	}
	assert.Len(t, seen, 250)
	assert.Equal(t, 3, s.Count("POST", contactsPath+"/batch/create"))
}

func TestServer_batchCreateWithOneBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		traced    bool
		bad       map[string]any
		status    int
		created   int
		category  string
		errorText string
	}{
		{"invalid email without trace ids fails whole batch", false,
			contact("dana@", ""), 400, 0, "VALIDATION_ERROR", ""},
		{"invalid email with trace ids is a 207", true,
			contact("dana@", ""), 207, 99, "VALIDATION_ERROR", ""},
		{"existing email without trace ids is a 409", false,
			contact("Taken@example.com", ""), 409, 0, "CONFLICT",
			"Contact already exists. Existing ID: 101"},
		{"existing email with trace ids is a 207", true,
			contact("taken@example.com", ""), 207, 99, "CONFLICT",
			"Contact already exists. Existing ID: 101"},
		{"duplicate within the batch is a 400", false,
			contact("bulk-3@example.com", ""), 400, 0, "VALIDATION_ERROR", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := hubspottest.NewTestServer(t)
			s.SeedProperties(map[string]string{"email": "taken@example.com"})
			inputs := createInputs("bulk", 100, tt.traced)
			tt.bad["objectWriteTraceId"] = "bad-one"
			if !tt.traced {
				delete(tt.bad, "objectWriteTraceId")
			}
			inputs[42] = tt.bad
			r := call(t, s, "POST", contactsPath+"/batch/create",
				map[string]any{"inputs": inputs})
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			assert.Len(t, s.Contacts(), 1+tt.created)
			if tt.status != http.StatusMultiStatus {
				assert.Equal(t, tt.category, r.Body["category"])
				if tt.errorText != "" {
					assert.Equal(t, tt.errorText, r.Body["message"])
				}
				return
			}
			assert.Len(t, results(t, r), tt.created)
			assert.EqualValues(t, 1, r.Body["numErrors"])
			errs := r.Body["errors"].([]any)
			require.Len(t, errs, 1)
			assert.Equal(t, tt.category, field(errs[0], "category"))
			assert.Equal(t, []any{"bad-one"},
				field(field(errs[0], "context"), "objectWriteTraceId"))
			if tt.errorText != "" {
				assert.Equal(t, tt.errorText, field(errs[0], "message"))
			}
		})
	}
}

func TestServer_batchLimits(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	for _, op := range []string{"read", "create", "update", "upsert", "archive"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			inputs := make([]map[string]any, 101)
			for i := range inputs {
				inputs[i] = map[string]any{"id": fmt.Sprint(i), "idProperty": "email",
					"properties": map[string]any{"firstname": "X"}}
			}
			r := call(t, s, "POST", contactsPath+"/batch/"+op, map[string]any{"inputs": inputs})
			assert.Equal(t, http.StatusBadRequest, r.Status)
			assert.Equal(t, "VALIDATION_ERROR", r.Body["category"])
			r = call(t, s, "POST", contactsPath+"/batch/"+op, map[string]any{"inputs": []any{}})
			assert.Equal(t, http.StatusBadRequest, r.Status)
		})
	}
}

func TestServer_batchUpsert(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.SeedProperties(map[string]string{"email": "dana@example.com", "firstname": "D"})
	tests := []struct {
		name   string
		query  string
		inputs []map[string]any
		status int
		news   map[string]bool // email → new
	}{
		{"new and existing", "", []map[string]any{
			{"id": "DANA@example.com", "idProperty": "email",
				"properties": map[string]any{"firstname": "Dana"}},
			{"id": "Lee@Example.com", "idProperty": "email",
				"properties": map[string]any{"firstname": "Lee"}},
		}, 200, map[string]bool{"dana@example.com": false, "lee@example.com": true}},
		{"idProperty in query", "?idProperty=email", []map[string]any{
			{"id": "lee@example.com", "properties": map[string]any{"lastname": "L"}},
		}, 200, map[string]bool{"lee@example.com": false}},
		{"missing idProperty", "", []map[string]any{
			{"id": "x@example.com", "properties": map[string]any{"lastname": "L"}},
		}, 400, nil},
		{"duplicate ids", "", []map[string]any{
			{"id": "a@example.com", "idProperty": "email"},
			{"id": "A@example.com", "idProperty": "email"},
		}, 400, nil},
		{"invalid email", "", []map[string]any{
			{"id": "a@", "idProperty": "email"},
		}, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "POST", contactsPath+"/batch/upsert"+tt.query,
				map[string]any{"inputs": tt.inputs})
			require.Equal(t, tt.status, r.Status, string(r.Raw))
			if tt.status != 200 {
				return
			}
			got := map[string]bool{}
			for _, o := range results(t, r) {
				got[props(t, o)["email"].(string)] = field(o, "new").(bool)
			}
			assert.Equal(t, tt.news, got)
		})
	}
	all := s.Contacts()
	require.Len(t, all, 2, "upsert never duplicates")
	assert.Equal(t, ids[0], all[0].ID)
	assert.Equal(t, "Dana", all[0].Properties["firstname"])
	assert.Equal(t, "L", all[1].Properties["lastname"])
	assert.Equal(t, "Lee", all[1].Properties["firstname"])
}

func TestServer_batchReadUpdateArchive(t *testing.T) {
	t.Parallel()
	s := hubspottest.NewTestServer(t)
	ids := s.SeedProperties(
		map[string]string{"email": "a@example.com", "phone": "1"},
		map[string]string{"email": "b@example.com"},
		map[string]string{"email": "c@example.com"},
	)

	r := call(t, s, "POST", contactsPath+"/batch/read", map[string]any{
		"properties": []string{"phone"},
		"inputs":     []map[string]any{{"id": ids[0]}, {"id": "999"}, {"id": ids[1]}},
	})
	require.Equal(t, http.StatusMultiStatus, r.Status, string(r.Raw))
	assert.Len(t, results(t, r), 2)
	assert.Equal(t, "1", props(t, results(t, r)[0])["phone"])
	errs := r.Body["errors"].([]any)
	assert.Equal(t, "OBJECT_NOT_FOUND", field(errs[0], "category"))
	assert.Equal(t, []any{"999"}, field(field(errs[0], "context"), "ids"))

	r = call(t, s, "POST", contactsPath+"/batch/read", map[string]any{
		"idProperty": "email", "inputs": []map[string]any{{"id": "B@example.com"}},
	})
	require.Equal(t, http.StatusOK, r.Status, string(r.Raw))
	assert.Equal(t, ids[1], field(results(t, r)[0], "id"))

	tests := []struct {
		name   string
		inputs []map[string]any
		status int
	}{
		{"all found", []map[string]any{
			{"id": ids[0], "properties": map[string]any{"city": "Oslo"}},
			{"id": "b@example.com", "idProperty": "email",
				"properties": map[string]any{"city": "Bergen"}},
		}, 200},
		{"one missing", []map[string]any{
			{"id": ids[2], "properties": map[string]any{"city": "Tromsø"}},
			{"id": "999", "properties": map[string]any{"city": "Nowhere"}},
		}, 207},
		{"email conflict fails batch", []map[string]any{
			{"id": ids[0], "properties": map[string]any{"city": "Changed"}},
			{"id": ids[1], "properties": map[string]any{"email": "c@example.com"}},
		}, 409},
		{"duplicate ids", []map[string]any{
			{"id": ids[0], "properties": map[string]any{"city": "X"}},
			{"id": ids[0], "properties": map[string]any{"city": "Y"}},
		}, 400},
		{"swap emails within batch", []map[string]any{
			{"id": ids[0], "properties": map[string]any{"email": "a2@example.com"}},
			{"id": ids[1], "properties": map[string]any{"email": "a@example.com"}},
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "POST", contactsPath+"/batch/update",
				map[string]any{"inputs": tt.inputs})
			require.Equal(t, tt.status, r.Status, string(r.Raw))
		})
	}
	got := s.Contacts()
	assert.Equal(t, "Oslo", got[0].Properties["city"])
	assert.Equal(t, "a2@example.com", got[0].Properties["email"])
	assert.Equal(t, "a@example.com", got[1].Properties["email"])
	assert.Equal(t, "Tromsø", got[2].Properties["city"])

	r = call(t, s, "POST", contactsPath+"/batch/archive", map[string]any{
		"inputs": []map[string]any{{"id": ids[0]}, {"id": "999"}}})
	require.Equal(t, http.StatusNoContent, r.Status)
	assert.True(t, s.Contacts()[0].Archived)
	assert.False(t, s.Contacts()[1].Archived)
}

func TestServer_withShuffledBatchResults(t *testing.T) {
	t.Parallel()
	emails := func(r response) []string {
		var out []string
		for _, res := range results(t, r) {
			out = append(out, field(field(res, "properties"), "email").(string))
		}
		return out
	}
	inputOrder := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%d@example.com", prefix, i)
		}
		return out
	}
	run := func(s *hubspottest.Server) [][]string {
		var orders [][]string
		for _, n := range []int{2, 3, 40} {
			r := call(t, s, "POST", contactsPath+"/batch/create",
				map[string]any{"inputs": createInputs(fmt.Sprint("n", n), n, true)})
			require.Equal(t, http.StatusCreated, r.Status, string(r.Raw))
			orders = append(orders, emails(r))
		}
		return orders
	}

	plain := run(hubspottest.NewTestServer(t))
	for i, n := range []int{2, 3, 40} {
		assert.Equal(t, inputOrder(fmt.Sprint("n", n), n), plain[i], "input order by default")
	}
	shuffled := run(hubspottest.NewTestServer(t, hubspottest.WithShuffledBatchResults()))
	for i, n := range []int{2, 3, 40} {
		want := inputOrder(fmt.Sprint("n", n), n)
		assert.NotEqual(t, want, shuffled[i], "never input order")
		assert.ElementsMatch(t, want, shuffled[i], "the same results")
	}
	again := run(hubspottest.NewTestServer(t, hubspottest.WithShuffledBatchResults()))
	assert.Equal(t, shuffled, again, "deterministic")

	// Errors of a multi-status response are shuffled too.
	s := hubspottest.NewTestServer(t, hubspottest.WithShuffledBatchResults())
	inputs := createInputs("bad", 4, true)
	for _, in := range inputs {
		in["properties"].(map[string]any)["lifecyclestage"] = "bogus"
	}
	r := call(t, s, "POST", contactsPath+"/batch/create", map[string]any{"inputs": inputs})
	require.Equal(t, http.StatusMultiStatus, r.Status, string(r.Raw))
	var traces []string
	for _, e := range r.Body["errors"].([]any) {
		ids := field(field(e, "context"), "objectWriteTraceId").([]any)
		traces = append(traces, ids[0].(string))
	}
	assert.ElementsMatch(t, []string{"t-0", "t-1", "t-2", "t-3"}, traces)
	assert.NotEqual(t, []string{"t-0", "t-1", "t-2", "t-3"}, traces)
}
