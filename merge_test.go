package sync

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mergeVector is one line of testdata/merge-n8n-v1.jsonl: the output of
// n8n's own Merge node, type version 1, for the given parameters and inputs.
type mergeVector struct {
	ID     string `json:"id"`
	Note   string `json:"note"`
	Params struct {
		Mode          string `json:"mode"`
		PropertyName1 string `json:"propertyName1"`
		PropertyName2 string `json:"propertyName2"`
		Join          string `json:"join"`
		Overwrite     string `json:"overwrite"`
		Output        string `json:"output"`
	} `json:"params"`
	Input1 json.RawMessage `json:"input1"`
	Input2 json.RawMessage `json:"input2"`
	Want   json.RawMessage `json:"want"`
}

func (v mergeVector) options() MergeOptions {
	return MergeOptions{
		Mode:      Mode(v.Params.Mode),
		Key1:      v.Params.PropertyName1,
		Key2:      v.Params.PropertyName2,
		Join:      Join(v.Params.Join),
		Overwrite: Overwrite(v.Params.Overwrite),
		Output:    Input(v.Params.Output),
	}
}

func readMergeVectors(t *testing.T) []mergeVector {
	t.Helper()
	f, err := os.Open("testdata/merge-n8n-v1.jsonl")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })

	var vs []mergeVector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v mergeVector
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v))
		vs = append(vs, v)
	}
	require.NoError(t, sc.Err())
	require.Len(t, vs, 44)
	return vs
}

// decodeItems decodes a JSON array of objects, or null, into items; with
// useNumber, numbers become json.Number as json.Decoder.UseNumber makes them.
func decodeItems(t *testing.T, raw json.RawMessage, useNumber bool) []Item {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		dec.UseNumber()
	}
	var items []Item
	require.NoError(t, dec.Decode(&items))
	return items
}

// assertSameJSON asserts that got, written as JSON, equals the JSON want,
// comparing numbers by value.
func assertSameJSON(t *testing.T, want string, got []Item) {
	t.Helper()
	b, err := json.Marshal(got)
	require.NoError(t, err)
	var w, g any
	require.NoError(t, json.Unmarshal([]byte(want), &w))
	require.NoError(t, json.Unmarshal(b, &g))
	assert.Equal(t, w, g, "got %s", b)
}

// deepCloneItems copies items to any depth so that a later comparison can
// prove the merge left its inputs alone.
func deepCloneItems(items []Item) []Item {
	if items == nil {
		return nil
	}
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = deepCloneValue(it).(map[string]any)
	}
	return out
}

func deepCloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return map[string]any(nil)
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCloneValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCloneValue(e)
		}
		return s
	}
	return v
}

// callMode runs opts through the per-mode function, the other way in.
func callMode(in1, in2 []Item, opts MergeOptions) ([]Item, error) {
	switch opts.Mode {
	case ModeKeepKeyMatches:
		return KeepKeyMatches(in1, in2, opts.Key1, opts.Key2)
	case ModeRemoveKeyMatches:
		return RemoveKeyMatches(in1, in2, opts.Key1, opts.Key2)
	case ModeMergeByKey:
		return MergeByKey(in1, in2, opts.Key1, opts.Key2, opts.Overwrite)
	case ModeMergeByIndex:
		return MergeByIndex(in1, in2, opts.Join)
	case ModeMultiplex:
		return Multiplex(in1, in2), nil
	case ModePassThrough:
		return PassThrough(in1, in2, opts.Output)
	case ModeWait:
		return Wait(in1, in2)
	}
	return Append(in1, in2), nil
}

// runMerge runs opts both through Merge and through the per-mode function,
// checks that they agree and that neither touched the inputs, and returns
// Merge's result.
func runMerge(t *testing.T, in1, in2 []Item, opts MergeOptions) ([]Item, error) {
	t.Helper()
	before1, before2 := deepCloneItems(in1), deepCloneItems(in2)

	got, err := Merge(in1, in2, opts)
	again, againErr := callMode(in1, in2, opts)

	assert.Equal(t, before1, in1, "input 1 modified")
	assert.Equal(t, before2, in2, "input 2 modified")
	assert.Equal(t, err, againErr, "Merge and the per-mode function disagree on the error")
	assert.Equal(t, got, again, "Merge and the per-mode function disagree")
	return got, err
}

func TestMerge_n8nVectors(t *testing.T) {
	t.Parallel()
	for _, v := range readMergeVectors(t) {
		for _, useNumber := range []bool{false, true} {
			name := v.ID + " " + v.Note
			if useNumber {
				name += " (json.Number)"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				in1 := decodeItems(t, v.Input1, useNumber)
				in2 := decodeItems(t, v.Input2, useNumber)

				got, err := runMerge(t, in1, in2, v.options())

				require.NoError(t, err)
				assertSameJSON(t, string(v.Want), got)
			})
		}
	}
}

// TestMerge_oddCorners pins behaviours of n8n's node that surprise. Each
// want was produced by the published n8n Merge node (n8n-nodes-base 2.41.2,
// n8n-workflow 2.41.0) on the same parameters and inputs.
func TestMerge_oddCorners(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    MergeOptions
		in1     string // JSON array of items, or null for an absent input
		in2     string
		want    string // JSON output, or null for no output at all
		wantErr string // what n8n throws instead
	}{
		{
			name: "number keys compare as JavaScript prints them",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1: `[{"id":1e21},{"id":123456789},{"id":0.30000000000000004},{"id":-0},
				{"id":1e-7},{"id":0.000001},{"id":100},{"id":1.5}]`,
			in2: `[{"k":"1e+21"},{"k":"123456789"},{"k":"0.30000000000000004"},{"k":"0"},
				{"k":"1e-7"},{"k":"0.000001"},{"k":"100"},{"k":"1.50"}]`,
			want: `[{"id":1e21},{"id":123456789},{"id":0.30000000000000004},{"id":0},
				{"id":1e-7},{"id":0.000001},{"id":100}]`,
		},
		{
			name: "array keys join with commas, null elements as empty strings",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1:  `[{"id":"a,b,,1,true,[object Object]"},{"id":""},{"id":"x"}]`,
			in2:  `[{"k":["a",["b",null],1,true,{"z":1}]},{"k":[]},{"k":[[]]}]`,
			want: `[{"id":"a,b,,1,true,[object Object]"},{"id":""}]`,
		},
		{
			name: "input-2 keys that are missing, null, false, 0 or empty never match",
			opts: MergeOptions{Mode: ModeRemoveKeyMatches, Key1: "id", Key2: "k"},
			in1: `[{"id":"0"},{"id":"false"},{"id":""},{"id":"null"},{"id":null},{"id":0},
				{"id":"true"}]`,
			in2:  `[{"k":0},{"k":false},{"k":""},{"k":null},{},{"k":-0},{"k":true}]`,
			want: `[{"id":"0"},{"id":"false"},{"id":""},{"id":"null"},{"id":null},{"id":0}]`,
		},
		{
			name: "input-1 bools, arrays and objects never match",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1: `[{"id":true},{"id":["a"]},{"id":{"z":1}},{"id":"a"},
				{"id":"[object Object]"}]`,
			in2:  `[{"k":"true"},{"k":"a"},{"k":{"q":2}}]`,
			want: `[{"id":"a"},{"id":"[object Object]"}]`,
		},
		{
			name: "an input-1 object whose constructor is named Data is compared",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1:  `[{"id":{"constructor":{"name":"Data"}}},{"id":{"constructor":{"name":"Date"}}}]`,
			in2:  `[{"k":"[object Object]"}]`,
			want: `[{"id":{"constructor":{"name":"Data"}}}]`,
		},
		{
			name: "__proto__ keys never match",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1:  `[{"id":"__proto__"},{"id":"constructor"}]`,
			in2:  `[{"k":"__proto__"},{"k":"constructor"}]`,
			want: `[{"id":"constructor"}]`,
		},
		{
			name: "the last input-2 item with a key wins",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id"},
			in1:  `[{"id":"a","v":0}]`,
			in2:  `[{"id":"a","v":1,"first":true},{"id":"a","v":2}]`,
			want: `[{"id":"a","v":2}]`,
		},
		{
			name: "mergeByKey copies matched input-1 items without reserved fields",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id"},
			in1: `[{"id":1,"constructor":"c","prototype":"p","__proto__":{"q":1},
				"deep":{"constructor":1,"list":[{"prototype":2,"ok":3}]}},
				{"id":2,"constructor":"kept when unmatched"}]`,
			in2: `[{"id":1,"new":true}]`,
			want: `[{"id":1,"deep":{"list":[{"ok":3}]},"new":true},
				{"id":2,"constructor":"kept when unmatched"}]`,
		},
		{
			name: "blank overwrite skips fields named like inherited methods",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteBlank},
			in1: `[{"id":1,"e":"","z":null,"f":0}]`,
			in2: `[{"id":1,"e":"E","z":"Z","f":"F","g":"G","toString":"T","constructor":"C",
				"valueOf":"V","__proto__":{"a":1}}]`,
			want: `[{"id":1,"e":"E","z":"Z","f":0,"g":"G"}]`,
		},
		{
			name: "undefined overwrite adds only missing fields",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteUndefined},
			in1:  `[{"id":1,"e":"","z":null}]`,
			in2:  `[{"id":1,"e":"E","z":"Z","g":"G","toString":"T"}]`,
			want: `[{"id":1,"e":"","z":null,"g":"G","toString":"T"}]`,
		},
		{
			name: "a top-level field named like the whole path is the key",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "u.id", Key2: "u.id"},
			in1:  `[{"u":{"id":1,"keep":"lost"},"a":1}]`,
			in2:  `[{"u":{"id":1},"u.id":"not 1","b":2}]`,
			want: `[{"u":{"id":1,"keep":"lost"},"a":1}]`,
		},
		{
			name: "mergeByIndex assigns __proto__ through the prototype setter",
			opts: MergeOptions{Mode: ModeMergeByIndex},
			in1:  `[{"a":1,"__proto__":{"__proto__":1}},{"__proto__":null},{"__proto__":{"x":1}}]`,
			in2:  `[{"__proto__":{"b":2},"c":3},{"__proto__":5},{"__proto__":{"y":1}}]`,
			want: `[{"a":1,"__proto__":{"b":2},"c":3},{"__proto__":5},{}]`,
		},
		{
			name: "multiplex copies __proto__ as a plain field",
			opts: MergeOptions{Mode: ModeMultiplex},
			in1:  `[{"__proto__":1,"a":1}]`,
			in2:  `[{"b":1},{"__proto__":2}]`,
			want: `[{"__proto__":1,"a":1,"b":1},{"__proto__":2,"a":1}]`,
		},
		{
			name:    "an input-2 key hasOwnProperty breaks every comparable input-1 key",
			opts:    MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "k"},
			in1:     `[{"id":true},{"id":"x"}]`,
			in2:     `[{"k":"hasOwnProperty"}]`,
			wantErr: "copyData.hasOwnProperty is not a function",
		},
		{
			name:    "an input-2 object key with its own toString",
			opts:    MergeOptions{Mode: ModeRemoveKeyMatches, Key1: "id", Key2: "k"},
			in1:     `[{"id":"x"}]`,
			in2:     `[{"k":"ok"},{"k":[{"toString":1}]}]`,
			wantErr: "Cannot convert object to primitive value",
		},
		{
			name:    "an input-1 Data key with its own toString",
			opts:    MergeOptions{Mode: ModeRemoveKeyMatches, Key1: "id", Key2: "k"},
			in1:     `[{"id":"x"},{"id":{"constructor":{"name":"Data"},"toString":"s"}}]`,
			in2:     `[{"k":"ok"}]`,
			wantErr: "Cannot convert object to primitive value",
		},
		{
			name:    "an input-1 key with a null constructor",
			opts:    MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "k"},
			in1:     `[{"id":{"constructor":null}}]`,
			in2:     `[{"k":"ok"}]`,
			wantErr: "Cannot read properties of null (reading 'name')",
		},
		{
			name: "undefined overwrite of an item with its own hasOwnProperty",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteUndefined},
			in1:     `[{"id":1,"hasOwnProperty":"h"}]`,
			in2:     `[{"id":1,"x":1}]`,
			wantErr: "entry.json.hasOwnProperty is not a function",
		},
		{
			name: "undefined overwrite after copying a hasOwnProperty field",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteUndefined},
			in1:     `[{"id":1}]`,
			in2:     `[{"id":1,"a":1,"hasOwnProperty":"h","z":1}]`,
			wantErr: "entry.json.hasOwnProperty is not a function",
		},
		{
			name: "undefined overwrite with hasOwnProperty as the last field",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteUndefined},
			in1:  `[{"id":1}]`,
			in2:  `[{"id":1,"a":1,"hasOwnProperty":"h"}]`,
			want: `[{"id":1,"a":1,"hasOwnProperty":"h"}]`,
		},
		{
			name: "undefined overwrite after a null __proto__",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id",
				Overwrite: OverwriteUndefined},
			in1:     `[{"id":1}]`,
			in2:     `[{"id":1,"__proto__":null,"a":1}]`,
			wantErr: "entry.json.hasOwnProperty is not a function",
		},
		{
			name:    "wait with absent input 1",
			opts:    MergeOptions{Mode: ModeWait},
			in1:     `null`,
			in2:     `[{"a":1}]`,
			wantErr: "Cannot read properties of undefined (reading 'length')",
		},
		{
			name: "wait with absent input 2",
			opts: MergeOptions{Mode: ModeWait},
			in1:  `[]`,
			in2:  `null`,
			want: `[{}]`,
		},
		{
			name: "outer join of nothing with an absent input emits no data",
			opts: MergeOptions{Mode: ModeMergeByIndex, Join: JoinOuter},
			in1:  `null`,
			in2:  `null`,
			want: `null`,
		},
		{
			name: "mergeByKey with absent input 2 keeps items without a key",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id"},
			in1:  `[{"x":1},{"id":true}]`,
			in2:  `null`,
			want: `[{"x":1},{"id":true}]`,
		},
		{
			name: "mergeByKey with an empty key path keeps everything",
			opts: MergeOptions{Mode: ModeMergeByKey, Key1: "id"},
			in1:  `[{"x":1}]`,
			in2:  `[{"id":1}]`,
			want: `[{"x":1}]`,
		},
		{
			name: "keepKeyMatches with absent input 2",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "id"},
			in1:  `[{"id":1}]`,
			in2:  `null`,
			want: `[]`,
		},
		{
			name: "paths the strict key-path grammar rejects still work as in lodash",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "a..b", Key2: "a[b.c]"},
			in1:  `[{"a":{"":{"b":"v"}}},{"a":{"b":"w"}}]`,
			in2:  `[{"a":{"b":{"c":"v"}}}]`,
			want: `[{"a":{"":{"b":"v"}}}]`,
		},
		{
			name: "string and array lengths as keys",
			opts: MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id.length", Key2: "k"},
			in1:  `[{"id":"abc"},{"id":[1,2]},{"id":"😀"}]`,
			in2:  `[{"k":"3"},{"k":2}]`,
			want: `[{"id":"abc"},{"id":[1,2]},{"id":"😀"}]`,
		},
		{
			name: "passThrough of an absent input",
			opts: MergeOptions{Mode: ModePassThrough, Output: OutputInput2},
			in1:  `[{"a":1}]`,
			in2:  `null`,
			want: `[]`,
		},
		{
			name: "append of absent inputs",
			opts: MergeOptions{Mode: ModeAppend},
			in1:  `null`,
			in2:  `null`,
			want: `[]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in1 := decodeItems(t, json.RawMessage(tt.in1), false)
			in2 := decodeItems(t, json.RawMessage(tt.in2), false)

			got, err := runMerge(t, in1, in2, tt.opts)

			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrMergeInput)
				var me *MergeInputError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, tt.wantErr, me.Reason)
				assert.Equal(t, tt.opts.Mode, me.Mode)
				return
			}
			require.NoError(t, err)
			if tt.want == "null" {
				assert.Nil(t, got)
				return
			}
			assert.NotNil(t, got)
			assertSameJSON(t, tt.want, got)
		})
	}
}

func TestMerge_unknownOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  MergeOptions
		field string
		value string
	}{
		{"mode", MergeOptions{Mode: "combine"}, "Mode", "combine"},
		{"join", MergeOptions{Mode: ModeMergeByIndex, Join: "cross"}, "Join", "cross"},
		{"overwrite", MergeOptions{Mode: ModeMergeByKey, Overwrite: "never"}, "Overwrite", "never"},
		{"output", MergeOptions{Mode: ModePassThrough, Output: "input3"}, "Output", "input3"},
		{"unused field", MergeOptions{Mode: ModeAppend, Join: "Left"}, "Join", "Left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := Merge([]Item{{"a": 1}}, []Item{{"b": 2}}, tt.opts)

			assert.Nil(t, got)
			require.ErrorIs(t, err, ErrMergeOption)
			var oe *MergeOptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.field, oe.Field)
			assert.Equal(t, tt.value, oe.Value)
			assert.Contains(t, err.Error(), tt.value)
		})
	}
}

func TestMerge_perModeFunctionsRejectUnknownValues(t *testing.T) {
	t.Parallel()
	in := []Item{{"id": 1}}

	_, err := MergeByIndex(in, in, "cross")
	assert.ErrorIs(t, err, ErrMergeOption)
	_, err = MergeByKey(in, in, "id", "id", "never")
	assert.ErrorIs(t, err, ErrMergeOption)
	_, err = PassThrough(in, in, "input3")
	assert.ErrorIs(t, err, ErrMergeOption)
}

// TestMerge_eachMode runs one small case per mode through Merge and the
// per-mode function (runMerge checks both), with the zero values of the
// optional fields meaning n8n's defaults.
func TestMerge_eachMode(t *testing.T) {
	t.Parallel()
	in1 := `[{"id":1,"a":"x"},{"id":2,"a":"y"},{"a":"no key"}]`
	in2 := `[{"id":"1","b":true},{"id":3}]`
	tests := []struct {
		opts MergeOptions
		want string
	}{
		{MergeOptions{}, `[{"id":1,"a":"x"},{"id":2,"a":"y"},{"a":"no key"},
			{"id":"1","b":true},{"id":3}]`},
		{MergeOptions{Mode: ModeAppend}, `[{"id":1,"a":"x"},{"id":2,"a":"y"},{"a":"no key"},
			{"id":"1","b":true},{"id":3}]`},
		{MergeOptions{Mode: ModeKeepKeyMatches, Key1: "id", Key2: "id"}, `[{"id":1,"a":"x"}]`},
		{MergeOptions{Mode: ModeRemoveKeyMatches, Key1: "id", Key2: "id"},
			`[{"id":2,"a":"y"},{"a":"no key"}]`},
		{MergeOptions{Mode: ModeMergeByKey, Key1: "id", Key2: "id"},
			`[{"id":1,"a":"x","b":true},{"id":2,"a":"y"}]`},
		{MergeOptions{Mode: ModeMergeByIndex}, `[{"id":"1","a":"x","b":true},{"id":3,"a":"y"},
			{"a":"no key"}]`},
		{MergeOptions{Mode: ModeMergeByIndex, Join: JoinInner},
			`[{"id":"1","a":"x","b":true},{"id":3,"a":"y"}]`},
		{MergeOptions{Mode: ModeMultiplex}, `[{"id":"1","a":"x","b":true},{"id":3,"a":"x"},
			{"id":"1","a":"y","b":true},{"id":3,"a":"y"},{"id":"1","a":"no key","b":true},
			{"id":3,"a":"no key"}]`},
		{MergeOptions{Mode: ModePassThrough}, in1},
		{MergeOptions{Mode: ModePassThrough, Output: OutputInput2}, in2},
		{MergeOptions{Mode: ModeWait}, `[{}]`},
	}
	for _, tt := range tests {
		t.Run(string(tt.opts.Mode)+" "+string(tt.opts.Join)+string(tt.opts.Output), func(t *testing.T) {
			t.Parallel()

			got, err := runMerge(t, decodeItems(t, json.RawMessage(in1), false),
				decodeItems(t, json.RawMessage(in2), false), tt.opts)

			require.NoError(t, err)
			assertSameJSON(t, tt.want, got)
		})
	}
}

// TestMerge_sharing pins which output items are input items (n8n passes
// them through) and which are new (n8n builds or deep-copies them).
func TestMerge_sharing(t *testing.T) {
	t.Parallel()
	nested := map[string]any{"deep": []any{"v"}}
	a := Item{"id": "k", "n": nested}
	b := Item{"id": "other"}
	c := Item{"id": "k", "x": map[string]any{"from": 2}}

	removed, err := RemoveKeyMatches([]Item{a, b}, []Item{c}, "id", "id")
	require.NoError(t, err)
	require.Len(t, removed, 1)
	assert.True(t, sameMap(b, removed[0]), "unmatched item is passed through")

	merged, err := MergeByKey([]Item{a, b}, []Item{c}, "id", "id", OverwriteAlways)
	require.NoError(t, err)
	require.Len(t, merged, 2)
	assert.False(t, sameMap(a, merged[0]), "matched item is a copy")
	assert.True(t, sameMap(b, merged[1]), "unmatched item is passed through")

	// The copy is deep: changing it leaves input 1 alone.
	merged[0]["n"].(map[string]any)["deep"].([]any)[0] = "changed"
	assert.Equal(t, "v", nested["deep"].([]any)[0])
	// Input-2 values are shared, as in n8n.
	assert.True(t, sameMap(c["x"].(map[string]any), merged[0]["x"].(map[string]any)))

	indexed, err := MergeByIndex([]Item{a}, []Item{c, b}, JoinOuter)
	require.NoError(t, err)
	require.Len(t, indexed, 2)
	assert.True(t, sameMap(b, indexed[1]))
	assert.Equal(t, Item{"id": "k", "n": nested, "x": c["x"]}, indexed[0])
}

func sameMap(x, y map[string]any) bool {
	return reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
}

// TestMerge_resultSliceIsFresh checks that writing to an output slice never
// writes to an input slice, even where the output equals an input.
func TestMerge_resultSliceIsFresh(t *testing.T) {
	t.Parallel()
	in1 := []Item{{"a": 1}, {"a": 2}}
	for _, opts := range []MergeOptions{
		{Mode: ModeRemoveKeyMatches, Key1: "id"},
		{Mode: ModeMergeByKey, Key1: "id", Key2: "id"},
		{Mode: ModeMergeByIndex},
		{Mode: ModePassThrough},
		{Mode: ModeAppend},
	} {
		var in2 []Item
		if opts.Mode == ModeMergeByKey {
			in2 = nil // absent input 2: the output is input 1 itself
		}
		out, err := Merge(in1, in2, opts)
		require.NoError(t, err)
		require.Len(t, out, 2)
		out[0] = Item{"replaced": true}
		assert.Equal(t, Item{"a": 1}, in1[0], "mode %s", opts.Mode)
	}
}

func TestMerge_goValueTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  any
		want bool // whether it matches input-2 key "42"
	}{
		{"int", 42, true},
		{"int64", int64(42), true},
		{"uint8", uint8(42), true},
		{"float32", float32(42), true},
		{"json.Number", json.Number("42"), true},
		{"json.Number with exponent", json.Number("4.2e1"), true},
		{"string", "42", true},
		{"other number", 43, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in1 := []Item{{"id": tt.key}}

			got, err := KeepKeyMatches(in1, []Item{{"id": "42"}}, "id", "id")

			require.NoError(t, err)
			assert.Equal(t, tt.want, len(got) == 1)
		})
	}

	t.Run("a nil item counts as an empty object", func(t *testing.T) {
		t.Parallel()
		got, err := RemoveKeyMatches([]Item{nil, {"id": 1}}, []Item{nil, {"id": 1}}, "id", "id")
		require.NoError(t, err)
		assert.Equal(t, []Item{nil}, got)

		got, err = MergeByIndex([]Item{nil}, []Item{{"b": 1}}, JoinLeft)
		require.NoError(t, err)
		assert.Equal(t, []Item{{"b": 1}}, got)
	})

	t.Run("a key of a non-JSON Go type is an error", func(t *testing.T) {
		t.Parallel()
		_, err := RemoveKeyMatches([]Item{{"id": 1}}, []Item{{"id": struct{}{}}}, "id", "id")
		require.ErrorIs(t, err, ErrMergeInput)
		var me *MergeInputError
		require.ErrorAs(t, err, &me)
		assert.Equal(t, 2, me.Input)
		assert.Equal(t, 0, me.Index)
	})
}

func TestMergeInputError_Error(t *testing.T) {
	t.Parallel()
	err := error(&MergeInputError{Mode: ModeMergeByKey, Input: 2, Index: 3, Reason: "boom"})
	assert.Equal(t, "sync: merge mergeByKey: input 2 item 3: boom", err.Error())
	err = &MergeInputError{Mode: ModeWait, Input: 1, Index: -1, Reason: "boom"}
	assert.Equal(t, "sync: merge wait: input 1: boom", err.Error())
	assert.True(t, errors.Is(err, ErrMergeInput))
	assert.False(t, errors.Is(err, ErrMergeOption))
}

// TestJSString checks String(v) against what Node.js prints for each value.
func TestJSString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     any
		want   string
		wantOK bool
	}{
		{"", "", true},
		{"héllo", "héllo", true},
		{0.0, "0", true},
		{math.Copysign(0, -1), "0", true},
		{1.0, "1", true},
		{-1.0, "-1", true},
		{1e21, "1e+21", true},
		{-1e21, "-1e+21", true},
		{1e20, "100000000000000000000", true},
		{999999999999999900000.0, "999999999999999900000", true},
		{1.2345e21, "1.2345e+21", true},
		{123456789.0, "123456789", true},
		{0.1, "0.1", true},
		{runtimeFloat(0.1) + runtimeFloat(0.2), "0.30000000000000004", true},
		{1.0 / 3, "0.3333333333333333", true},
		{4.35, "4.35", true},
		{12345.678, "12345.678", true},
		{1e-6, "0.000001", true},
		{0.0000015, "0.0000015", true},
		{-0.000001234, "-0.000001234", true},
		{1e-7, "1e-7", true},
		{1.5e-7, "1.5e-7", true},
		{123e-20, "1.23e-18", true},
		{9007199254740992.0, "9007199254740992", true},
		{5e-324, "5e-324", true},
		{math.MaxFloat64, "1.7976931348623157e+308", true},
		{math.Inf(1), "Infinity", true},
		{math.Inf(-1), "-Infinity", true},
		{math.NaN(), "NaN", true},
		{float32(0.1), "0.1", true},
		{json.Number("1e400"), "Infinity", true},
		{json.Number("-0"), "0", true},
		{json.Number("1.50"), "1.5", true},
		{json.Number("12345678901234567890"), "12345678901234567000", true},
		{json.Number("not a number"), "", false},
		{int64(math.MaxInt64), "9223372036854776000", true},
		{uint64(math.MaxUint64), "18446744073709552000", true},
		{int8(-5), "-5", true},
		{uint(7), "7", true},
		{true, "", false},
		{nil, "", false},
		{[]any{"a"}, "", false},
		{map[string]any{}, "", false},
	}
	for _, tt := range tests {
		got, ok := jsString(tt.in)
		assert.Equal(t, tt.wantOK, ok, "%T %v", tt.in, tt.in)
		assert.Equal(t, tt.want, got, "%T %v", tt.in, tt.in)
	}
}

// runtimeFloat keeps constant folding, which is exact, out of float sums.
func runtimeFloat(f float64) float64 { return f }

func TestJSToString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      any
		want    string
		wantErr bool
	}{
		{nil, "null", false},
		{true, "true", false},
		{false, "false", false},
		{[]any{}, "", false},
		{[]any{nil, nil}, ",", false},
		{
			[]any{"a", []any{"b", nil}, 1.0, true, map[string]any{"z": 1}},
			"a,b,,1,true,[object Object]", false,
		},
		{map[string]any{"constructor": "x"}, "[object Object]", false},
		{map[string]any{"toString": "x"}, "", true},
		{[]any{[]any{map[string]any{"toString": nil}}}, "", true},
		{struct{}{}, "", true},
	}
	for _, tt := range tests {
		got, err := jsToString(tt.in)
		if tt.wantErr {
			assert.Error(t, err, "%v", tt.in)
			continue
		}
		assert.NoError(t, err, "%v", tt.in)
		assert.Equal(t, tt.want, got, "%v", tt.in)
	}
}

func TestJSKeyOrder(t *testing.T) {
	t.Parallel()
	m := map[string]any{"b": 1, "10": 1, "a": 1, "2": 1, "01": 1, "4294967295": 1,
		"4294967294": 1, "-1": 1, "__proto__": 1}
	assert.Equal(t, []string{"2", "10", "4294967294", "-1", "01", "4294967295", "__proto__", "a", "b"},
		jsKeyOrder(m))
}
