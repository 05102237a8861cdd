package sync

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/internal/keypath"
)

// lodashVector is one line of testdata/keypath-lodash-get.jsonl: the result
// of lodash 4.17's _.get(data, path).
type lodashVector struct {
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
	Path string          `json:"path"`
	Want struct {
		Found bool            `json:"found"`
		Value json.RawMessage `json:"value"`
	} `json:"want"`
}

func readLodashVectors(t testing.TB) []lodashVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/keypath-lodash-get.jsonl")
	require.NoError(t, err)
	var vs []lodashVector
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var v lodashVector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), "line %q", sc.Text())
		vs = append(vs, v)
	}
	require.NoError(t, sc.Err())
	return vs
}

// decodeJSON decodes raw into any, with json.Number for numbers when
// useNumber is set and float64 otherwise.
func decodeJSON(t testing.TB, raw []byte, useNumber bool) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		dec.UseNumber()
	}
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

// normalize turns every number (Go integer kinds, float64, json.Number)
// into float64 so that values decoded in different ways compare equal.
func normalize(t testing.TB, v any) any {
	t.Helper()
	switch x := v.(type) {
	case int:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x // out of float64 range: both decodings keep it
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(t, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(t, e)
		}
		return out
	}
	return v
}

func TestLookup_lodashVectors(t *testing.T) {
	t.Parallel()
	vectors := readLodashVectors(t)
	require.Len(t, vectors, 88)

	for _, useNumber := range []bool{false, true} {
		for _, vec := range vectors {
			name := vec.ID + "/" + vec.Path
			if useNumber {
				name += "/json.Number"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				data := decodeJSON(t, vec.Data, useNumber)

				got, found := Lookup(data, vec.Path)

				require.Equal(t, vec.Want.Found, found, "found")
				if !found {
					assert.Nil(t, got)
					return
				}
				want := decodeJSON(t, vec.Want.Value, false)
				assert.Equal(t, normalize(t, want), normalize(t, got))
			})
		}
	}
}

func TestLookup_edgeCases(t *testing.T) {
	t.Parallel()
	nested := Item{
		"a":         map[string]any{"b": []any{int64(1), Item{"c": "deep"}}},
		"a.b":       "flat",
		"n":         nil,
		"":          Item{"": "empty-empty", "x": 1},
		"__proto__": "own",
		"emoji":     "😀x",
		"ü":         "über",
		"bad":       "a\xffb",
		"nums":      []any{int8(1), uint16(2), json.Number("3.5"), float32(4)},
		"typed":     map[string]string{"k": "v", "a.b": "typed-flat"},
		"strs":      []string{"x", "y"},
		"items":     []Item{{"id": 1}},
		"arr":       [2]any{"p", "q"},
	}
	tests := []struct {
		name      string
		v         any
		path      string
		want      any
		wantFound bool
	}{
		{"nil input finds nothing", nil, "a", nil, false},
		{"nil input with empty path", nil, "", nil, false},
		{"null value is found", nested, "n", nil, true},
		{"past a null value", nested, "n.x", nil, false},
		{"array of Go ints", nested, "a.b[0]", int64(1), true},
		{"map inside array", nested, "a.b[1].c", "deep", true},
		{"whole path as a key wins", nested, "a.b", "flat", true},
		{"empty key path", nested, "", Item{"": "empty-empty", "x": 1}, true},
		{"leading dot means empty key", nested, ".x", 1, true},
		{"surrogate pair has length 2", "😀", "length", 2, true},
		{"index after surrogate pair", nested, "emoji[2]", "x", true},
		{"high surrogate half", nested, "emoji[0]", "\uFFFD", true},
		{"low surrogate half", nested, "emoji[1]", "\uFFFD", true},
		{"past the end of a string", nested, "emoji[3]", nil, false},
		{"two-byte rune counts once", nested, "ü.length", 4, true},
		{"non-ASCII character", "über", "0", "ü", true},
		{"invalid UTF-8 byte", nested, "bad[1]", "\uFFFD", true},
		{"invalid UTF-8 length", nested, "bad.length", 3, true},
		{"int8 has no properties", nested, "nums[0].length", nil, false},
		{"uint16 element", nested, "nums.1", uint16(2), true},
		{"json.Number is a number, not a string", nested, "nums[2].length", nil, false},
		{"json.Number is returned as is", nested, "nums[2]", json.Number("3.5"), true},
		{"float32 element", nested, "nums[3]", float32(4), true},
		{"array length is an int", nested, "nums.length", 4, true},
		{"leading zero index", nested, "nums[01]", nil, false},
		{"plus sign index", nested, "nums.+1", nil, false},
		{"space in index", nested, "nums[ 1]", nil, false},
		{"fractional index", nested, "nums[1.0]", nil, false},
		{"negative index", nested, "nums[-1]", nil, false},
		{"huge index does not overflow", nested, "nums[99999999999999999999999]", nil, false},
		{"index past the end", nested, "nums[4]", nil, false},
		{"map[string]string", nested, "typed.k", "v", true},
		{"map[string]string whole key", nested, "typed['a.b']", "typed-flat", true},
		{"[]string element", nested, "strs[1]", "y", true},
		{"[]string length", nested, "strs.length", 2, true},
		{"[]Item element", nested, "items[0].id", 1, true},
		{"Go array", nested, "arr[1]", "q", true},
		{"toString is not JSON", nested, "toString", nil, false},
		{"constructor is not JSON", nested, "a.constructor", nil, false},
		{"hasOwnProperty on array", nested, "strs.hasOwnProperty", nil, false},
		{"__proto__ held by the map", nested, "__proto__", "own", true},
		{"__proto__ of a nested map", nested, "a.__proto__", nil, false},
		{"length of a map", nested, "a.length", nil, false},
		{"no keys at all", nested, "[]]", nil, false},
		{"top-level string", "scalar", "[5]", "r", true},
		{"top-level number", 7, "length", nil, false},
		{"bool has no properties", true, "0", nil, false},
		{"unicode key", nested, "ü", "über", true},
		{"unknown type is opaque", struct{ A int }{1}, "A", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, found := Lookup(tt.v, tt.path)

			assert.Equal(t, tt.wantFound, found, "found")
			assert.Equal(t, tt.want, got)
			if p, err := ParseKeyPath(tt.path); err == nil {
				got, found := p.Lookup(tt.v)
				assert.Equal(t, tt.wantFound, found, "KeyPath found")
				assert.Equal(t, tt.want, got, "KeyPath value")
			}
		})
	}
}

func TestLookup_pathologicalPaths(t *testing.T) {
	t.Parallel()
	data := Item{"a": Item{"b": "c"}}
	paths := []string{
		strings.Repeat("['", 5000),
		strings.Repeat(`["\`, 5000),
		strings.Repeat("[", 10000) + "]",
		strings.Repeat(".", 10000),
		strings.Repeat("[]", 5000),
		strings.Repeat("a.", 5000) + "b",
		strings.Repeat("[0]", 5000),
		"['" + strings.Repeat(`\`, 9999),
	}
	for _, path := range paths {
		got, found := Lookup(data, path)
		assert.False(t, found, "path of %d bytes", len(path))
		assert.Nil(t, got)
	}
}

func TestParseKeyPath_accepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		keys []string
	}{
		{"email", []string{"email"}},
		{"email[0].value", []string{"email", "0", "value"}},
		{"email.0.value", []string{"email", "0", "value"}},
		{`email[0]["value"]`, []string{"email", "0", "value"}},
		{"identity-profiles[0]identities[0]value",
			[]string{"identity-profiles", "0", "identities", "0", "value"}},
		{"properties[email]", []string{"properties", "email"}},
		{"a['b.c']", []string{"a", "b.c"}},
		{`['q\"uote']`, []string{`q"uote`}},
		{`['sq\'']`, []string{"sq'"}},
		{`['back\\slash']`, []string{`back\slash`}},
		{"['br[0]']", []string{"br[0]"}},
		{"['']", []string{""}},
		{"[x y]", []string{"x y"}},
		{"x y", []string{"x y"}},
		{"ü.😀", []string{"ü", "😀"}},
		{"[0][1]", []string{"0", "1"}},
		{"[a]b", []string{"a", "b"}},
		{"a[-]", []string{"a", "-"}},
		{"a[0a]", []string{"a", "0a"}},
		{`a\b`, []string{`a\b`}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()

			p, err := ParseKeyPath(tt.path)

			require.NoError(t, err)
			assert.Equal(t, tt.keys, p.keys)
			assert.Equal(t, tt.path, p.String())
			strict, perr := keypath.Parse(tt.path)
			require.Nil(t, perr)
			assert.Equal(t, tt.keys, strict, "strict grammar reads it as lodash does")
		})
	}
}

func TestParseKeyPath_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path   string
		offset int
		msg    string
	}{
		{"", 0, `sync: key path "": empty path at byte 0`},
		{".email", 0,
			`sync: key path ".email": leading '.' (lodash would look up an empty key) at byte 0`},
		{"email..value", 6,
			`sync: key path "email..value": empty key between '.' and '.' at byte 6`},
		{"email[0].", 8, `sync: key path "email[0].": trailing '.' at byte 8`},
		{".", 0, `sync: key path ".": leading '.' (lodash would look up an empty key) at byte 0`},
		{"a.[0]", 2, `sync: key path "a.[0]": '[' after '.'; write a[0], not a.[0] at byte 2`},
		{"[]", 0, `sync: key path "[]": empty brackets at byte 0`},
		{"email[0", 5, `sync: key path "email[0": unclosed '[' at byte 5`},
		{"email[", 5, `sync: key path "email[": unclosed '[' at byte 5`},
		{"email]", 5, `sync: key path "email]": unmatched ']' at byte 5`},
		{"a[b[0]]", 3, `sync: key path "a[b[0]]": '[' inside brackets; quote the key at byte 3`},
		{"a['b]", 2, `sync: key path "a['b]": unterminated quote at byte 2`},
		{`a["b'c]`, 2, `sync: key path "a[\"b'c]": unterminated quote at byte 2`},
		{"a['b'x]", 5,
			`sync: key path "a['b'x]": expected ']' after the closing quote at byte 5`},
		{"a['b'", 5, `sync: key path "a['b'": expected ']' after the closing quote at byte 5`},
		{`a['b\`, 2, `sync: key path "a['b\\": unterminated quote at byte 2`},
		{`a['\n']`, 3, `sync: key path "a['\\n']": unsupported escape; only \\, \' and \" ` +
			`are allowed (lodash drops any other backslash) at byte 3`},
		{"a[b.c]", 3, `sync: key path "a[b.c]": '.' inside unquoted brackets splits the key; ` +
			`write ['...'] to quote it at byte 3`},
		{"a[b'c]", 3, `sync: key path "a[b'c]": quote inside unquoted brackets at byte 3`},
		{"a[ b ]", 2, `sync: key path "a[ b ]": leading white space in key; ` +
			`quote the key if it is meant at byte 2`},
		{"a[b ]", 3, `sync: key path "a[b ]": trailing white space in key; ` +
			`quote the key if it is meant at byte 3`},
		{"email .value", 5, `sync: key path "email .value": trailing white space in key; ` +
			`quote the key if it is meant at byte 5`},
		{"a.\u00a0b", 2, `sync: key path "a.\u00a0b": leading white space in key; ` +
			`quote the key if it is meant at byte 2`},
		{"a.'b'", 2, `sync: key path "a.'b'": quote in a bare key; ` +
			`write ['...'] to quote a key at byte 2`},
		{"email[-1]", 6, `sync: key path "email[-1]": negative index; lodash looks up ` +
			`the literal key, write ['-1'] if that is meant at byte 6`},
		{"email[00]", 6, `sync: key path "email[00]": index with a leading zero; ` +
			`write ['00'] for that key at byte 6`},
		{"email[1.5]", 6, `sync: key path "email[1.5]": fractional index; ` +
			`write ['1.5'] for that key at byte 6`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()

			p, err := ParseKeyPath(tt.path)

			var kerr *KeyPathError
			require.ErrorAs(t, err, &kerr)
			assert.Equal(t, tt.path, kerr.Path)
			assert.Equal(t, tt.offset, kerr.Offset)
			assert.Equal(t, tt.msg, err.Error())
			assert.Equal(t, KeyPath{}, p)
			assert.Panics(t, func() { MustParseKeyPath(tt.path) })
		})
	}
}

func TestKeyPath_roundTrip(t *testing.T) {
	t.Parallel()
	for _, vec := range readLodashVectors(t) {
		p, err := ParseKeyPath(vec.Path)
		if err != nil {
			continue
		}
		again, err := ParseKeyPath(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, again, vec.Path)

		text, err := p.MarshalText()
		require.NoError(t, err)
		var back KeyPath
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, p, back, vec.Path)
	}
}

func TestKeyPath_textUnmarshal(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Key KeyPath `json:"key"`
	}

	require.NoError(t, json.Unmarshal([]byte(`{"key":"email[0].value"}`), &cfg))
	assert.Equal(t, MustParseKeyPath("email[0].value"), cfg.Key)

	err := json.Unmarshal([]byte(`{"key":"email..value"}`), &cfg)
	var kerr *KeyPathError
	require.ErrorAs(t, err, &kerr)
	assert.Equal(t, 6, kerr.Offset)
	assert.Equal(t, "email[0].value", cfg.Key.String(), "a failed decode keeps the old path")

	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.JSONEq(t, `{"key":"email[0].value"}`, string(out))
}

func TestKeyPath_matchesLookupOnVectors(t *testing.T) {
	t.Parallel()
	accepted := 0
	for _, vec := range readLodashVectors(t) {
		p, err := ParseKeyPath(vec.Path)
		if err != nil {
			continue
		}
		accepted++
		for _, useNumber := range []bool{false, true} {
			data := decodeJSON(t, vec.Data, useNumber)
			want, wantFound := Lookup(data, vec.Path)
			got, found := p.Lookup(data)
			assert.Equal(t, wantFound, found, vec.ID)
			assert.Equal(t, want, got, vec.ID)
		}
	}
	assert.Greater(t, accepted, 60, "most vector paths are valid configuration")
}

func TestKeyPath_zeroValue(t *testing.T) {
	t.Parallel()
	var p KeyPath

	got, found := p.Lookup(Item{"": "empty key"})

	assert.False(t, found)
	assert.Nil(t, got)
	assert.Empty(t, p.String())
	var kerr *KeyPathError
	assert.True(t, errors.As(p.UnmarshalText(nil), &kerr), "the zero path does not parse")
}

func TestKeyPath_LookupDoesNotAllocate(t *testing.T) {
	contact := hubspotContact(t)
	paths := []string{
		"identity-profiles[0].identities[0].value",
		"properties.email.value",
		`["identity-profiles"][0]['identities'][1].type`,
		"identity-profiles[0].identities.length",
	}
	for _, path := range paths {
		p := MustParseKeyPath(path)
		_, found := p.Lookup(contact)
		require.True(t, found, path)

		compiled := testing.AllocsPerRun(100, func() { p.Lookup(contact) })
		uncompiled := testing.AllocsPerRun(100, func() { Lookup(contact, path) })

		assert.Zero(t, compiled, "KeyPath.Lookup(%q)", path)
		assert.Zero(t, uncompiled, "Lookup(%q)", path)
	}
}

// hubspotContactJSON is a contact as HubSpot's legacy v1 contacts API
// returns it.
const hubspotContactJSON = `{
  "vid": 3234574, "canonical-vid": 3234574, "merged-vids": [],
  "portal-id": 62515, "is-contact": true,
  "properties": {
    "firstname": {"value": "Grace", "versions": [{"value": "Grace",
      "source-type": "CRM_UI", "timestamp": 1767225600000, "selected": false}]},
    "lastname": {"value": "Hopper", "versions": []},
    "email": {"value": "grace@example.com", "versions": []},
    "lastmodifieddate": {"value": "1767225600000", "versions": []}
  },
  "form-submissions": [],
  "list-memberships": [{"static-list-id": 1, "internal-list-id": 2147483643,
    "timestamp": 1767225600000, "vid": 3234574, "is-member": true}],
  "identity-profiles": [{
    "vid": 3234574, "saved-at-timestamp": 1767225600000, "deleted-changed-timestamp": 0,
    "identities": [
      {"type": "EMAIL", "value": "grace@example.com", "timestamp": 1767225600000,
       "is-primary": true},
      {"type": "LEAD_GUID", "value": "f9a0c2b4-0000-4000-8000-000000000301",
       "timestamp": 1767225600000}
    ]
  }],
  "merge-audits": []
}`

func hubspotContact(t testing.TB) Item {
	t.Helper()
	var item Item
	require.NoError(t, json.Unmarshal([]byte(hubspotContactJSON), &item))
	return item
}

func BenchmarkLookup(b *testing.B) {
	contact := hubspotContact(b)
	const path = "identity-profiles[0].identities[0].value"
	p := MustParseKeyPath(path)

	b.Run("compiled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := p.Lookup(contact); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run("uncompiled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := Lookup(contact, path); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseKeyPath(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}
