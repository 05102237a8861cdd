package keypath

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toFloats turns the ints that Prop computes for lengths into float64, the
// type encoding/json decodes lodash's numbers into.
func toFloats(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toFloats(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toFloats(e)
		}
		return out
	}
	return v
}

// TestGet_lodashRandomVectors runs the differential vectors that
// testdata/lodash-vectors.js computed with lodash 4.17.21.
func TestGet_lodashRandomVectors(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/lodash-4.17.21-random.jsonl")
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var c struct {
			Data  any      `json:"data"`
			Path  string   `json:"path"`
			Keys  []string `json:"keys"`
			Deep  bool     `json:"deep"`
			Found bool     `json:"found"`
			Value any      `json:"value"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		n++

		got, found := Get(c.Data, c.Path)

		assert.Equal(t, c.Deep, IsDeep(c.Path), "IsDeep(%q)", c.Path)
		assert.Equal(t, c.Keys, Split(c.Path), "Split(%q)", c.Path)
		if assert.Equal(t, c.Found, found, "Get(%s, %q)", sc.Text(), c.Path) && found {
			assert.Equal(t, c.Value, toFloats(got), "Get(%s, %q)", sc.Text(), c.Path)
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 1500, n)
}

func TestSplit(t *testing.T) {
	t.Parallel()
	// Expected keys are what lodash 4.17.21's _.toPath returns.
	tests := []struct {
		path string
		want []string
	}{
		{"", []string{}},
		{".", []string{"", ""}},
		{"..", []string{"", "", ""}},
		{".a", []string{"", "a"}},
		{"a.", []string{"a", ""}},
		{"a..b", []string{"a", "", "b"}},
		{"[]", []string{""}},
		{"[][]", []string{"", ""}},
		{"a[]b", []string{"a", "b"}},
		{"[]]", []string{}},
		{"a[0].b", []string{"a", "0", "b"}},
		{"a[-1.5]", []string{"a", "-1.5"}},
		{"a[1.]", []string{"a", "1"}},
		{"a[b.c]", []string{"a", "b", "c"}},
		{"a[ b ]", []string{"a", " b "}},
		{"[x y]", []string{"x y"}},
		{`a["b.c"]`, []string{"a", "b.c"}},
		{`a['b"c']`, []string{"a", `b"c`}},
		{`a['b\'c']`, []string{"a", "b'c"}},
		{`a['b\\c']`, []string{"a", `b\c`}},
		{`a['b\nc']`, []string{"a", "bnc"}},
		{"a['b\\\nc']", []string{"a", "'b\\\nc'"}},
		{"a['b\\\u2028c']", []string{"a", "'b\\\u2028c'"}},
		{"a['b'x]", []string{"a", "'b'x"}},
		{"a['b]", []string{"a", "'b"}},
		{"['a']['b", []string{"a", "'b"}},
		{"[0]a[1]", []string{"0", "a", "1"}},
		{"ü.😀", []string{"ü", "😀"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Split(tt.path))
		})
	}
}

func TestIsDeep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want bool
	}{
		{"", false},
		{"abc", false},
		{"x y", false},
		{"a.b", true},
		{"[]", true},
		{"a[", false},
		{"a]", false},
		{"]a[", false},
		{"a[[b]", true},
		{"['a[']", true},
		{"a[b", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, IsDeep(tt.path), tt.path)
	}
}

func TestIndex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key    string
		n      int
		want   int
		wantOK bool
	}{
		{"0", 1, 0, true},
		{"12", 13, 12, true},
		{"12", 12, 0, false},
		{"", 5, 0, false},
		{"00", 5, 0, false},
		{"01", 5, 0, false},
		{"-1", 5, 0, false},
		{"+1", 5, 0, false},
		{" 1", 5, 0, false},
		{"1.0", 5, 0, false},
		{"1e0", 5, 0, false},
		{"99999999999999999999999999", 5, 0, false},
		{"0", 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := Index(tt.key, tt.n)
		assert.Equal(t, tt.wantOK, ok, "%q < %d", tt.key, tt.n)
		assert.Equal(t, tt.want, got, "%q < %d", tt.key, tt.n)
	}
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`plain`:    `plain`,
		`a\'b`:     `a'b`,
		`a\\b`:     `a\b`,
		`a\\\b`:    `a\b`,
		`a\\\\b`:   `a\\b`,
		`\n`:       `n`,
		`a\`:       `a`,
		`\😀`:       `😀`,
		`x\\\\\\y`: `x\\\y`,
	}
	for in, want := range tests {
		assert.Equal(t, want, Unescape(in), in)
	}
}

func TestProp(t *testing.T) {
	t.Parallel()
	type named string
	tests := []struct {
		name   string
		v      any
		key    string
		want   any
		wantOK bool
	}{
		{"named string kind", named("héllo"), "1", "é", true},
		{"named string length", named("héllo"), "length", 5, true},
		{"map with named string keys", map[named]int{"k": 3}, "k", 3, true},
		{"map with int keys", map[int]int{1: 3}, "1", nil, false},
		{"nil map", map[string]any(nil), "a", nil, false},
		{"nil slice length", []any(nil), "length", 0, true},
		{"pointer is opaque", new(int), "0", nil, false},
		{"string index past the end", "ab", "2", nil, false},
		{"four-byte rune as two units", "a😀", "length", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, ok := Prop(tt.v, tt.key)

			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestScanner_memoMatchesPlainScan checks that remembering failed quoted
// scans, which keeps many unterminated quotes linear, never changes a key:
// a scanner whose memo is wiped before every step must agree.
func TestScanner_memoMatchesPlainScan(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "['\"\\]a.\n"
	paths := []string{strings.Repeat("['a", 200) + `\`, strings.Repeat(`["'\`, 100)}
	for range 5000 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		paths = append(paths, string(b))
	}
	for _, path := range paths {
		memo, plain := NewScanner(path), NewScanner(path)
		for {
			plain.bad = [2][]uint64{}
			mk, mq, mok := memo.Next()
			pk, pq, pok := plain.Next()
			require.Equal(t, []any{pk, pq, pok}, []any{mk, mq, mok}, "path %q", path)
			if !mok {
				break
			}
		}
	}
}

func BenchmarkSplit_unbalancedQuotes(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		path := strings.Repeat("['a", n)
		b.Run(fmt.Sprintf("bytes=%d", len(path)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Split(path)
			}
		})
	}
}
