package keypath

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathCases are paths and values on which a compiled path could go wrong:
// the whole path as a top-level key, paths with no keys, index parsing and
// values of every kind along the way.
var pathCases = []struct {
	path string
	v    any
}{
	{"a.b", map[string]any{"a.b": 1.0, "a": map[string]any{"b": 2.0}}},
	{"a.b", map[string]any{"a": map[string]any{"b": 2.0}}},
	{"a.b", map[string]any{"a.b": nil, "a": map[string]any{"b": 2.0}}},
	{"[]]", map[string]any{"[]]": "whole"}},
	{"[]]", map[string]any{"": "empty"}},
	{"a[0]", map[string]any{"a": []any{"x"}}},
	{"a[1]", map[string]any{"a": []any{"x"}}},
	{"a[01]", map[string]any{"a": []any{"x", "y"}}},
	{"a.length", map[string]any{"a": []any{"x", "y"}}},
	{"a.length", map[string]any{"a": "😀x"}},
	{"a[1]", map[string]any{"a": "😀x"}},
	{"a.99999999999999999999999", map[string]any{"a": []any{"x"}}},
	{"a.b", map[string]any{"a": nil}},
	{"a.b.c", map[string]any{"a": map[string]any{"b": nil}}},
	{"a.0", map[string]any{"a": []map[string]any{{"k": 1.0}}}},
	{"a.k", map[string]any{"a": map[string]int{"k": 3}}},
	{"a.0", map[string]any{"a": [2]string{"p", "q"}}},
	{"0", []any{"x"}},
	{"a.b", []any{"x"}},
	{"length", "abc"},
	{"a", nil},
	{"", map[string]any{"": 1.0}},
	{"", map[string]any{"x": 1.0}},
	{"x", map[string]any(nil)},
	{"x.y", map[string]any(nil)},
	{"email[0].value", map[string]any{"email": []any{map[string]any{"value": "a@b.c"}}}},
}

func TestCompile_matchesGet(t *testing.T) {
	t.Parallel()
	for _, tt := range pathCases {
		want, wantOK := Get(tt.v, tt.path)
		p := Compile(tt.path)
		got, ok := p.Get(tt.v)
		assert.Equal(t, wantOK, ok, "Compile(%q).Get(%#v)", tt.path, tt.v)
		assert.Equal(t, want, got, "Compile(%q).Get(%#v)", tt.path, tt.v)
		assert.Equal(t, tt.path, p.String())
	}
}

func TestPath_zeroFindsNothing(t *testing.T) {
	t.Parallel()
	var p Path
	got, ok := p.Get(map[string]any{"": 1.0})
	assert.False(t, ok)
	assert.Nil(t, got)

	vals, found := []any{"stale"}, []bool{true}
	p.GetEach([]map[string]any{{"": 1.0}}, vals, found)
	assert.Equal(t, []any{nil}, vals)
	assert.Equal(t, []bool{false}, found)
}

// TestGetEach_matchesGet checks GetEach against Get on blocks longer than
// its 64-item batches, with the whole path as a key in some items.
func TestGetEach_matchesGet(t *testing.T) {
	t.Parallel()
	paths := []string{"a.b", "a[0]", "a", "[]]", "a..b", "a.length", "a.b.c"}
	items := make([]map[string]any, 150)
	for i := range items {
		switch i % 5 {
		case 0:
			items[i] = map[string]any{"a": map[string]any{"b": float64(i), "": map[string]any{}}}
		case 1:
			items[i] = map[string]any{"a.b": i, "[]]": "whole", "a": []any{"x"}}
		case 2:
			items[i] = map[string]any{"a": []any{map[string]any{"b": "s"}}}
		case 3:
			items[i] = nil
		default:
			items[i] = map[string]any{"a": "text", "a..b": true}
		}
	}
	for _, path := range paths {
		p := Compile(path)
		vals := make([]any, len(items))
		found := make([]bool, len(items))
		p.GetEach(items, vals, found)
		for i, item := range items {
			want, wantOK := Get(item, path)
			assert.Equal(t, wantOK, found[i], "%q item %d", path, i)
			assert.Equal(t, want, vals[i], "%q item %d", path, i)
		}
	}
}

// TestCompile_lodashRandomVectors runs the lodash vectors through compiled
// paths.
func TestCompile_lodashRandomVectors(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/lodash-4.17.21-random.jsonl")
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			Data  any    `json:"data"`
			Path  string `json:"path"`
			Found bool   `json:"found"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		p := Compile(c.Path)

		got, found := p.Get(c.Data)

		want, wantFound := Get(c.Data, c.Path)
		assert.Equal(t, c.Found, found, "Compile(%q).Get(%s)", c.Path, sc.Text())
		assert.Equal(t, wantFound, found)
		assert.Equal(t, want, got)
		if m, ok := c.Data.(map[string]any); ok {
			vals, founds := make([]any, 1), make([]bool, 1)
			p.GetEach([]map[string]any{m}, vals, founds)
			assert.Equal(t, want, vals[0], "GetEach(%q)", c.Path)
			assert.Equal(t, wantFound, founds[0], "GetEach(%q)", c.Path)
		}
	}
	require.NoError(t, sc.Err())
}

// FuzzCompile checks that a compiled path reads any JSON document, and any
// block of objects, exactly as Get does.
func FuzzCompile(f *testing.F) {
	for _, tt := range pathCases {
		doc, err := json.Marshal(tt.v)
		if err == nil {
			f.Add(tt.path, doc)
		}
	}
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			v = string(doc)
		}
		p := Compile(path)

		got, found := p.Get(v)

		want, wantFound := Get(v, path)
		require.Equal(t, wantFound, found)
		require.Equal(t, want, got)
		arr, ok := v.([]any)
		if !ok {
			return
		}
		var items []map[string]any
		for _, e := range arr {
			if m, ok := e.(map[string]any); ok {
				items = append(items, m)
			}
		}
		vals, founds := make([]any, len(items)), make([]bool, len(items))
		p.GetEach(items, vals, founds)
		for i, m := range items {
			want, wantFound := Get(m, path)
			require.Equal(t, wantFound, founds[i])
			require.Equal(t, want, vals[i])
		}
	})
}

func ExampleCompile() {
	p := Compile("email[0].value")
	people := []map[string]any{
		{"email": []any{map[string]any{"value": "ada@example.com"}}},
		{"email": []any{}},
		{"email[0].value": "whole@example.com"}, // lodash reads the whole path first
	}
	vals, found := make([]any, len(people)), make([]bool, len(people))
	p.GetEach(people, vals, found)
	for i := range people {
		fmt.Println(vals[i], found[i])
	}
	// Output:
	// ada@example.com true
	// <nil> false
	// whole@example.com true
}
