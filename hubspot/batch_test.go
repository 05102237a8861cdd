package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

func TestPlanChunks(t *testing.T) {
	t.Parallel()
	upserts := func(emails ...string) []Input {
		out := make([]Input, len(emails))
		for i, e := range emails {
			out[i] = Input{ID: e, IDProperty: "email"}
		}
		return out
	}
	many := func(n int) []Input {
		out := make([]Input, n)
		for i := range out {
			out[i] = Input{ID: fmt.Sprintf("c%d@example.com", i), IDProperty: "email"}
		}
		return out
	}
	tests := []struct {
		name   string
		inputs []Input
		sizes  []int
	}{
		{"none", nil, nil},
		{"one", upserts("a@example.com"), []int{1}},
		{"exactly one full call", many(100), []int{100}},
		{"250 make three calls", many(250), []int{100, 100, 50}},
		{"a repeated email waits for the next call",
			upserts("a@example.com", "b@example.com", "A@example.com"), []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			idx := make([]int, len(tt.inputs))
			for i := range idx {
				idx[i] = i
			}
			chunks := planChunks(opUpsert, tt.inputs, idx)
			var sizes []int
			seen := map[int]bool{}
			for _, ch := range chunks {
				sizes = append(sizes, len(ch))
				keys := map[string]bool{}
				for _, i := range ch {
					k := batchKey(opUpsert, tt.inputs[i])
					assert.False(t, keys[k], "key %s twice in one call", k)
					keys[k] = true
					assert.False(t, seen[i])
					seen[i] = true
				}
			}
			assert.Equal(t, tt.sizes, sizes)
			assert.Len(t, seen, len(tt.inputs))
		})
	}
}

func TestPlanChunks_repeatsKeepInputOrder(t *testing.T) {
	t.Parallel()
	var inputs []Input
	for i := range 150 {
		inputs = append(inputs, Input{ID: fmt.Sprintf("c%d@example.com", i%3),
			IDProperty: "email"})
	}
	idx := make([]int, len(inputs))
	for i := range idx {
		idx[i] = i
	}
	chunkOf := map[int]int{}
	for c, ch := range planChunks(opUpsert, inputs, idx) {
		for _, i := range ch {
			chunkOf[i] = c
		}
	}
	for i := 3; i < len(inputs); i++ {
		assert.Less(t, chunkOf[i-3], chunkOf[i], "input %d must go after input %d", i, i-3)
	}
}

func TestPlanChunks_createsWithoutEmail(t *testing.T) {
	t.Parallel()
	var inputs []Input
	for i := range 120 {
		props := map[string]string{"firstname": fmt.Sprint("F", i)}
		if i%40 != 0 {
			props["email"] = fmt.Sprintf("c%d@example.com", i)
		}
		inputs = append(inputs, Input{Properties: props})
	}
	idx := make([]int, len(inputs))
	for i := range idx {
		idx[i] = i
	}
	chunks := planChunks(opCreate, inputs, idx)
	var sizes []int
	for _, ch := range chunks {
		sizes = append(sizes, len(ch))
		without := 0
		for _, i := range ch {
			if inputs[i].Properties["email"] == "" {
				without++
			}
		}
		assert.LessOrEqual(t, without, 1, "at most one create without an email per call")
	}
	assert.Equal(t, []int{100, 19, 1}, sizes)
}

func decodeBatch(t *testing.T, js string) batchResponse {
	t.Helper()
	var r batchResponse
	require.NoError(t, json.Unmarshal([]byte(js), &r))
	return r
}

func TestAssign(t *testing.T) {
	t.Parallel()
	t.Run("create results by email, errors by trace id", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{
			{Properties: map[string]string{"email": "a@example.com"}, ObjectWriteTraceID: "t0"},
			{Properties: map[string]string{"email": "b@example.com"}, ObjectWriteTraceID: "t1"},
			{Properties: map[string]string{"email": "c@example.com"}, ObjectWriteTraceID: "t2"},
		}
		resp := decodeBatch(t, `{"status":"COMPLETE","numErrors":1,
			"results":[{"id":"3","properties":{"email":"c@example.com"}},
			           {"id":"1","properties":{"email":"a@example.com"}}],
			"errors":[{"status":"error","category":"CONFLICT",
				"message":"Contact already exists. Existing ID: 77",
				"context":{"objectWriteTraceId":["t1"]}}]}`)
		res := assign(opCreate, inputs, resp)
		require.Len(t, res, 3)
		assert.Equal(t, "1", res[0].Item["id"])
		assert.Equal(t, "3", res[2].Item["id"])
		var ie *ItemError
		require.ErrorAs(t, res[1].Err, &ie)
		assert.Equal(t, "77", ie.ExistingID)
		assert.ErrorIs(t, res[1].Err, sync.ErrConflict)
	})
	t.Run("creates without email are never matched by position", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{
			{Properties: map[string]string{"firstname": "A"}, ObjectWriteTraceID: "t0"},
			{Properties: map[string]string{"firstname": "B"}, ObjectWriteTraceID: "t1"},
			{Properties: map[string]string{"firstname": "C"}, ObjectWriteTraceID: "t2"},
		}
		// HubSpot may answer in any order: "3" could be A's or C's.
		resp := decodeBatch(t, `{"results":[{"id":"3"},{"id":"1"}],
			"errors":[{"category":"VALIDATION_ERROR","message":"bad",
				"context":{"objectWriteTraceId":"t1"}}]}`)
		res := assign(opCreate, inputs, resp)
		assert.ErrorIs(t, res[1].Err, sync.ErrInvalid, "matched by trace id")
		for _, i := range []int{0, 2} {
			assert.Nil(t, res[i].Item, "input %d", i)
			var ie *ItemError
			require.ErrorAs(t, res[i].Err, &ie, "input %d", i)
			assert.Equal(t, "UNMATCHED_RESULT", ie.Category)
			assert.Contains(t, ie.Message, "may have taken effect")
		}
	})
	t.Run("the one input left takes the one result left", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{
			{Properties: map[string]string{"email": "a@example.com"}, ObjectWriteTraceID: "t0"},
			{Properties: map[string]string{"firstname": "B"}, ObjectWriteTraceID: "t1"},
			{Properties: map[string]string{"email": "c@example.com"}, ObjectWriteTraceID: "t2"},
		}
		resp := decodeBatch(t, `{"results":[
			{"id":"3","properties":{"email":"c@example.com"}},
			{"id":"2","properties":{"firstname":"B"}},
			{"id":"1","properties":{"email":"a@example.com"}}]}`)
		res := assign(opCreate, inputs, resp)
		for i, want := range []string{"1", "2", "3"} {
			require.NoError(t, res[i].Err)
			assert.Equal(t, want, res[i].Item["id"])
		}
	})
	t.Run("the one input left takes the one error left", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{
			{Properties: map[string]string{"firstname": "A"}},
			{Properties: map[string]string{"email": "b@example.com"}},
		}
		resp := decodeBatch(t, `{"results":[{"id":"2","properties":{"email":"b@example.com"}}],
			"errors":[{"category":"VALIDATION_ERROR","message":"bad"}]}`)
		res := assign(opCreate, inputs, resp)
		assert.ErrorIs(t, res[0].Err, sync.ErrInvalid)
		assert.Equal(t, "2", res[1].Item["id"])
	})
	t.Run("one not-found error names several ids", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{{ID: "1"}, {ID: "2"}, {ID: "3"}}
		resp := decodeBatch(t, `{"results":[{"id":"2"}],
			"errors":[{"category":"OBJECT_NOT_FOUND","message":"gone",
				"context":{"ids":["3","1"]}}]}`)
		res := assign(opRead, inputs, resp)
		assert.ErrorIs(t, res[0].Err, sync.ErrNotFound)
		assert.Equal(t, "2", res[1].Item["id"])
		assert.ErrorIs(t, res[2].Err, sync.ErrNotFound)
	})
	t.Run("upsert results by email, case-insensitively, with the new flag", func(t *testing.T) {
		t.Parallel()
		inputs := []Input{
			{ID: "a@example.com", IDProperty: "email"},
			{ID: "b@example.com", IDProperty: "email"},
		}
		resp := decodeBatch(t, `{"results":[
			{"id":"9","new":false,"properties":{"email":"B@Example.com"}},
			{"id":"8","new":true,"properties":{"email":"a@example.com"}}]}`)
		res := assign(opUpsert, inputs, resp)
		assert.Equal(t, "8", res[0].Item["id"])
		assert.True(t, res[0].New)
		assert.NotContains(t, res[0].Item, "new")
		assert.Equal(t, "9", res[1].Item["id"])
		assert.False(t, res[1].New)
	})
	t.Run("an input without result or error fails", func(t *testing.T) {
		t.Parallel()
		res := assign(opUpdate, []Input{{ID: "1"}, {ID: "2"}},
			decodeBatch(t, `{"results":[{"id":"2"}]}`))
		assert.Error(t, res[0].Err)
		assert.NoError(t, res[1].Err)
	})
}

func TestExistingID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		id   string
		want bool
	}{
		{"Contact already exists. Existing ID: 5101", "5101", true},
		{"Contact already exists. Existing ID:42", "42", true},
		{"Duplicate values for unique property email", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			t.Parallel()
			id, ok := ExistingID(tt.msg)
			assert.Equal(t, tt.want, ok)
			assert.Equal(t, tt.id, id)
		})
	}
}

func TestPlausibleEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email string
		want  bool
	}{
		{"dana@example.com", true},
		{"dana+tag@example.com", true},
		{"o'neil@example.co.uk", true},
		{"a/b@example.com", true},
		{"jürgen@müller.de", true},
		{"x@a-b.example", true},
		{"dana@", false},
		{"@example.com", false},
		{"dana", false},
		{"dana@example", false},
		{"dana@@example.com", false},
		{"da na@example.com", false},
		{"dana@example..com", false},
		{".dana@example.com", false},
		{"dana.@example.com", false},
		{"dana@-example.com", false},
		{"dana@example.c", false},
		{"dana,x@example.com", false},
		{"<dana@example.com>", false},
		{strings.Repeat("a", 65) + "@example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, plausibleEmail(tt.email))
		})
	}
}

func TestItemError_Is(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *ItemError
		want error
	}{
		{&ItemError{Category: "VALIDATION_ERROR"}, sync.ErrInvalid},
		{&ItemError{Category: "CONFLICT"}, sync.ErrConflict},
		{&ItemError{Category: "OBJECT_NOT_FOUND"}, sync.ErrNotFound},
		{&ItemError{Category: "BAD_REQUEST", StatusCode: 400}, sync.ErrInvalid},
		{&ItemError{Category: "SOMETHING", StatusCode: 409}, sync.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.err.Category, func(t *testing.T) {
			t.Parallel()
			assert.ErrorIs(t, tt.err, tt.want)
			for _, other := range []error{sync.ErrInvalid, sync.ErrConflict, sync.ErrNotFound,
				sync.ErrUnauthorized} {
				if other != tt.want {
					assert.False(t, errors.Is(tt.err, other), "must not match %v", other)
				}
			}
		})
	}
}

func TestNamedInputs(t *testing.T) {
	t.Parallel()
	sub := []Input{
		{ID: "a@example.com", IDProperty: "email", Properties: map[string]string{"x": "1"}},
		{ID: "b@exa", IDProperty: "email"},
		{ID: "c@example.com", IDProperty: "email", Properties: map[string]string{"x": "2"}},
	}
	tests := []struct {
		name string
		env  string
		want map[int]bool
	}{
		{"invalid email in the message",
			`{"message":"Property values were not valid: [{\"isValid\":false,` +
				`\"message\":\"Email address b@exa is invalid\",\"name\":\"email\"}]"}`,
			map[int]bool{1: true}},
		{"ids in the context", `{"message":"x","context":{"ids":["C@example.com"]}}`,
			map[int]bool{2: true}},
		{"an unknown property some inputs set", `{"message":"Property \"x\" does not exist"}`,
			map[int]bool{0: true, 2: true}},
		{"nothing named", `{"message":"Invalid input"}`, map[int]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, namedInputs(sub, parseEnvelope([]byte(tt.env))))
		})
	}
}
