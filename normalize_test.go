package sync_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{name: "lower-cases", in: "Dana@Example.COM", want: "dana@example.com"},
		{name: "trims ASCII white space", in: " \tdana@example.com\r\n", want: "dana@example.com"},
		{name: "trims no-break and ideographic spaces", in: "\u00a0dana@example.com\u3000", want: "dana@example.com"},
		{name: "trims zero-width space and BOM", in: "\ufeffdana@example.com\u200b", want: "dana@example.com"},
		{name: "keeps inner characters", in: "Dana O'Neil+x@example.com", want: "dana o'neil+x@example.com"},
		{name: "lower-cases beyond ASCII", in: "ÅSA@EXAMPLE.SE", want: "åsa@example.se"},
		{name: "white space only becomes empty", in: " \u2003 ", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, sync.NormalizeEmail(tt.in))
		})
	}
}

func TestNormalizeTrim(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Dana@Example.COM", sync.NormalizeTrim("\u00a0 Dana@Example.COM\u200b\n"))
	assert.Equal(t, "a b", sync.NormalizeTrim("a b"))
}

func TestNormalize_KeysFuncStrings(t *testing.T) {
	t.Parallel()
	values := func(vs ...any) sync.KeysFunc {
		return func(sync.Item) []any { return vs }
	}
	tests := []struct {
		name      string
		keys      sync.KeysFunc
		normalize sync.Normalizer
		want      []string
	}{
		{name: "strings as they are", keys: values("Dana@x.io"), want: []string{"Dana@x.io"}},
		{name: "normalized", keys: values(" Dana@x.io"), normalize: sync.NormalizeEmail,
			want: []string{"dana@x.io"}},
		{
			name: "numbers as JavaScript prints them",
			keys: values(42.0, 1.5, 1e21, json.Number("7.0"), int64(9), math.Copysign(0, -1)),
			want: []string{"42", "1.5", "1e+21", "7", "9", "0"},
		},
		{
			name: "integers with every digit",
			keys: values(int64(9007199254740993), int64(9007199254740992),
				json.Number("9007199254740993"), uint64(18446744073709551615), int32(-7),
				json.Number("-0"), json.Number("-12"), json.Number("1e3")),
			want: []string{"9007199254740993", "9007199254740992", "18446744073709551615", "-7",
				"0", "-12", "1000"},
		},
		{
			name: "bools, arrays, objects and null are no keys",
			keys: values(true, []any{"a"}, map[string]any{"a": "b"}, nil, "ok"),
			want: []string{"ok"},
		},
		{name: "empty strings are no keys", keys: values("", "  "), normalize: sync.NormalizeTrim},
		{
			name:      "duplicates after normalization collapse",
			keys:      values("a@x.io", "A@X.IO", "b@x.io", "a@x.io"),
			normalize: sync.NormalizeEmail,
			want:      []string{"a@x.io", "b@x.io"},
		},
		{name: "no values", keys: values()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.keys.Strings(sync.Item{}, tt.normalize))
		})
	}
}

func TestNormalize_EachKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		arr, elem string
		item      sync.Item
		want      []string
	}{
		{
			name: "every Pipedrive email",
			arr:  "emails", elem: "value",
			item: sync.Item{"emails": []any{
				map[string]any{"value": "a@x.io", "primary": true},
				map[string]any{"label": "no value"},
				map[string]any{"value": "b@x.io"},
			}},
			want: []string{"a@x.io", "b@x.io"},
		},
		{
			name: "elements themselves",
			arr:  "tags",
			item: sync.Item{"tags": []any{"x", 3.0, true}},
			want: []string{"x", "3"},
		},
		{
			name: "Go slices",
			arr:  "data.emails", elem: "value",
			item: sync.Item{"data": map[string]any{"emails": []map[string]any{{"value": "c@x.io"}}}},
			want: []string{"c@x.io"},
		},
		{name: "not an array", arr: "emails", elem: "value", item: sync.Item{"emails": "a@x.io"}},
		{name: "missing", arr: "emails", elem: "value", item: sync.Item{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, err := sync.EachKey(tt.arr, tt.elem)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keys.Strings(tt.item, nil))
		})
	}
}

func TestNormalize_KeysAt(t *testing.T) {
	t.Parallel()
	keys, err := sync.KeysAt("email", "work.email", "email")
	require.NoError(t, err)

	got := keys.Strings(sync.Item{"email": "A@x.io", "work": map[string]any{"email": "w@x.io"}},
		sync.NormalizeEmail)

	assert.Equal(t, []string{"a@x.io", "w@x.io"}, got)
	assert.Empty(t, keys.Strings(sync.Item{"name": "none"}, nil))
}

func TestNormalize_InvalidKeyPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func() (sync.KeysFunc, error)
	}{
		{name: "KeysAt without paths", make: func() (sync.KeysFunc, error) { return sync.KeysAt() }},
		{name: "KeysAt bad path", make: func() (sync.KeysFunc, error) { return sync.KeysAt("a", "b..c") }},
		{name: "EachKey bad array path", make: func() (sync.KeysFunc, error) { return sync.EachKey("a[", "v") }},
		{name: "EachKey bad element path", make: func() (sync.KeysFunc, error) { return sync.EachKey("a", ".v") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys, err := tt.make()
			assert.Error(t, err)
			assert.Nil(t, keys)
		})
	}
}

func TestNormalize_EqualLeaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		mapped, target sync.Item
		want           bool
	}{
		{name: "same strings", mapped: sync.Item{"a": "x"}, target: sync.Item{"a": "x"}, want: true},
		{name: "different strings", mapped: sync.Item{"a": "x"}, target: sync.Item{"a": "y"}},
		{name: "case matters", mapped: sync.Item{"a": "X"}, target: sync.Item{"a": "x"}},
		{name: "number and its string", mapped: sync.Item{"a": 42}, target: sync.Item{"a": "42"}, want: true},
		{name: "float and its string", mapped: sync.Item{"a": 0.5}, target: sync.Item{"a": "0.5"}, want: true},
		{name: "bool and its string", mapped: sync.Item{"a": false}, target: sync.Item{"a": "false"}, want: true},
		{name: "bool and number", mapped: sync.Item{"a": true}, target: sync.Item{"a": 1.0}},
		{name: "null and missing", mapped: sync.Item{"a": nil}, target: sync.Item{}, want: true},
		{name: "empty string and null", mapped: sync.Item{"a": ""}, target: sync.Item{"a": nil}, want: true},
		{name: "null and a value", mapped: sync.Item{"a": nil}, target: sync.Item{"a": "x"}},
		{name: "extra target fields ignored", mapped: sync.Item{"a": "x"},
			target: sync.Item{"a": "x", "id": "7"}, want: true},
		{
			name:   "nested objects compare leaf by leaf",
			mapped: sync.Item{"properties": map[string]any{"email": "a@x.io", "age": 3}},
			target: sync.Item{"id": "1", "properties": map[string]any{"email": "a@x.io", "age": "3", "x": "y"}},
			want:   true,
		},
		{
			name:   "nested difference",
			mapped: sync.Item{"properties": map[string]any{"email": "a@x.io"}},
			target: sync.Item{"properties": map[string]any{"email": "b@x.io"}},
		},
		{
			name:   "arrays element by element",
			mapped: sync.Item{"emails": []any{map[string]any{"value": "a@x.io"}}},
			target: sync.Item{"emails": []any{map[string]any{"value": "a@x.io", "primary": true}}},
			want:   true,
		},
		{
			name:   "arrays of other lengths differ",
			mapped: sync.Item{"emails": []any{"a"}},
			target: sync.Item{"emails": []any{"a", "b"}},
		},
		{
			name:   "Go slices and maps",
			mapped: sync.Item{"emails": []map[string]any{{"value": "a"}}, "tags": []string{"x"}},
			target: sync.Item{"emails": []any{map[string]any{"value": "a"}}, "tags": []any{"x"}},
			want:   true,
		},
		{name: "empty array and missing", mapped: sync.Item{"tags": []any{}}, target: sync.Item{}, want: true},
		{name: "object and scalar", mapped: sync.Item{"a": map[string]any{"b": "c"}}, target: sync.Item{"a": "c"}},
		{name: "scalar and object", mapped: sync.Item{"a": "c"}, target: sync.Item{"a": map[string]any{"b": "c"}}},
		{name: "large float and its digits", mapped: sync.Item{"a": 1e21},
			target: sync.Item{"a": "1000000000000000000000"}, want: true},
		{name: "digits and a large float", mapped: sync.Item{"a": "1000000000000000000000"},
			target: sync.Item{"a": 1e21}, want: true},
		{name: "large integer and its digits", mapped: sync.Item{"a": int64(9007199254740993)},
			target: sync.Item{"a": "9007199254740993"}, want: true},
		{name: "large integers one apart", mapped: sync.Item{"a": int64(9007199254740993)},
			target: sync.Item{"a": "9007199254740992"}},
		{name: "number and its decimal", mapped: sync.Item{"a": 7},
			target: sync.Item{"a": "7.0"}, want: true},
		{name: "json.Number and a float", mapped: sync.Item{"a": json.Number("0.10")},
			target: sync.Item{"a": 0.1}, want: true},
		{name: "strings that hold the same number", mapped: sync.Item{"a": "7"},
			target: sync.Item{"a": "7.0"}},
		{name: "number and hexadecimal", mapped: sync.Item{"a": 42},
			target: sync.Item{"a": "0x2Ap0"}},
		{name: "number and padded text", mapped: sync.Item{"a": 42}, target: sync.Item{"a": " 42"}},
		{name: "number and another", mapped: sync.Item{"a": 0.1}, target: sync.Item{"a": "0.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, sync.EqualLeaves(tt.mapped, tt.target))
		})
	}
}
