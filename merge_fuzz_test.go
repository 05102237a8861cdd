package sync

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzBytes hands out the fuzzer's bytes one at a time, then zeros.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzBytes) pick(n int) int { return int(f.next()) % n }

// The vocabularies of FuzzMerge: few enough that keys collide often, with
// the names and values that trip JavaScript up.
var (
	fuzzModes = []Mode{"", ModeAppend, ModeKeepKeyMatches, ModeMergeByIndex, ModeMergeByKey,
		ModeMultiplex, ModePassThrough, ModeRemoveKeyMatches, ModeWait}
	fuzzJoins      = []Join{"", JoinInner, JoinLeft, JoinOuter}
	fuzzOverwrites = []Overwrite{"", OverwriteAlways, OverwriteBlank, OverwriteUndefined}
	fuzzOutputs    = []Input{"", OutputInput1, OutputInput2}
	fuzzPaths      = []string{"id", "id", "id", "k", "u.id", "a[0]", "id.length", "a..b",
		"a[b.c]", "x.y", "", "__proto__", "constructor"}
	fuzzFields = []string{"id", "id", "k", "a", "u", "n", "x.y", "__proto__", "constructor",
		"prototype", "hasOwnProperty", "toString", "name", "0", "10", "length"}
	fuzzStrings = []string{"", "1", "2", "a", "null", "true", "0", "[object Object]",
		"__proto__", "hasOwnProperty", "Data", "1e+21", "a,b", "Infinity"}
	fuzzNumbers = []any{0.0, 1.0, 2.0, 1.5, 1e21, 0.1, -7.0, math.Copysign(0, -1),
		json.Number("1"), json.Number("1e400"), 2, int64(1)}
)

func fuzzValue(f *fuzzBytes, depth int) any {
	switch f.pick(10) {
	case 0, 1, 2:
		return fuzzStrings[f.pick(len(fuzzStrings))]
	case 3, 4:
		return fuzzNumbers[f.pick(len(fuzzNumbers))]
	case 5:
		return nil
	case 6:
		return f.next()%2 == 0
	case 7:
		if depth > 2 {
			return "deep"
		}
		a := make([]any, f.pick(3))
		for i := range a {
			a[i] = fuzzValue(f, depth+1)
		}
		return a
	case 8:
		if depth > 2 {
			return 3.0
		}
		return fuzzObject(f, depth+1)
	}
	switch f.pick(3) {
	case 0:
		return map[string]any{"constructor": map[string]any{"name": "Data"}}
	case 1:
		return map[string]any{"constructor": nil}
	}
	return map[string]any{"toString": 1.0}
}

func fuzzObject(f *fuzzBytes, depth int) map[string]any {
	m := make(map[string]any)
	for range f.pick(4) {
		m[fuzzFields[f.pick(len(fuzzFields))]] = fuzzValue(f, depth)
	}
	return m
}

func fuzzItems(f *fuzzBytes) []Item {
	switch f.pick(8) {
	case 0:
		return nil
	case 1:
		return []Item{}
	}
	items := make([]Item, f.pick(6))
	for i := range items {
		items[i] = fuzzObject(f, 0)
	}
	return items
}

func fuzzOptions(f *fuzzBytes) MergeOptions {
	return MergeOptions{
		Mode:      fuzzModes[f.pick(len(fuzzModes))],
		Key1:      fuzzPaths[f.pick(len(fuzzPaths))],
		Key2:      fuzzPaths[f.pick(len(fuzzPaths))],
		Join:      fuzzJoins[f.pick(len(fuzzJoins))],
		Overwrite: fuzzOverwrites[f.pick(len(fuzzOverwrites))],
		Output:    fuzzOutputs[f.pick(len(fuzzOutputs))],
	}
}

// FuzzMerge builds small JSON inputs and parameters from the fuzzer's bytes
// and checks that no mode panics or modifies its inputs, that Merge and the
// per-mode functions agree, and the invariants each mode promises.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{7, 0, 0, 0, 0, 0, 2, 5, 3, 0, 0, 2, 4, 3, 0, 1})
	f.Add([]byte("\x04\x02\x02\x02\x00\x00\x03\x04\x03\x00\x05\x09\x01\x03\x00\x01\x07"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{b: data}
		opts := fuzzOptions(fb)
		in1, in2 := fuzzItems(fb), fuzzItems(fb)
		before1, before2 := deepCloneItems(in1), deepCloneItems(in2)

		got, err := Merge(in1, in2, opts)
		again, againErr := callMode(in1, in2, opts)

		require.Equal(t, before1, in1, "input 1 modified")
		require.Equal(t, before2, in2, "input 2 modified")
		require.Equal(t, err, againErr)
		require.Equal(t, got, again, "Merge and the per-mode function disagree")
		if err == nil {
			_, jerr := json.Marshal(got)
			require.NoError(t, jerr, "output is not JSON data")
		}
		checkModeInvariants(t, in1, in2, opts, got, err)
		checkKeyPartition(t, in1, in2, opts.Key1, opts.Key2)
	})
}

func checkModeInvariants(t *testing.T, in1, in2 []Item, opts MergeOptions, got []Item, err error) {
	t.Helper()
	switch opts.Mode {
	case "", ModeAppend:
		require.NoError(t, err)
		assert.Len(t, got, len(in1)+len(in2))
	case ModeMultiplex:
		require.NoError(t, err)
		assert.Len(t, got, len(in1)*len(in2))
	case ModeWait:
		if in1 == nil {
			assert.ErrorIs(t, err, ErrMergeInput)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, []Item{{}}, got)
	case ModePassThrough:
		require.NoError(t, err)
		if opts.Output == OutputInput2 {
			assert.Equal(t, Append(nil, in2), got)
		} else {
			assert.Equal(t, Append(in1, nil), got)
		}
	case ModeMergeByIndex:
		require.NoError(t, err)
		assert.Len(t, got, mergeByIndexLen(len(in1), len(in2), opts.Join))
	case ModeMergeByKey:
		if err != nil {
			require.ErrorIs(t, err, ErrMergeInput)
			return
		}
		checkMergeByKeyShape(t, in1, in2, opts, got)
	}
}

func mergeByIndexLen(n1, n2 int, join Join) int {
	switch {
	case n1 == 0 && join == JoinOuter:
		return n2
	case n1 == 0 || (n2 == 0 && join == JoinInner):
		return 0
	case n2 == 0:
		return n1
	case join == JoinInner:
		return min(n1, n2)
	case join == JoinOuter:
		return max(n1, n2)
	}
	return n1
}

// checkMergeByKeyShape checks that MergeByKey keeps input-1 order, passing
// items through or replacing them by new maps, never by input-2 items.
func checkMergeByKeyShape(t *testing.T, in1, in2 []Item, opts MergeOptions, got []Item) {
	t.Helper()
	if in1 != nil && (in2 == nil || opts.Key1 == "" || opts.Key2 == "") {
		assert.Equal(t, in1, got)
		return
	}
	require.LessOrEqual(t, len(got), len(in1))
	last := -1
	for _, g := range got {
		if i := indexOfMap(in1, g); i >= 0 {
			require.Greater(t, i, last, "input-1 order")
			last = i
			continue
		}
		require.Equal(t, -1, indexOfMap(in2, g), "an input-2 item in the output")
	}
}

func indexOfMap(in []Item, m Item) int {
	for i, x := range in {
		if sameMap(x, m) {
			return i
		}
	}
	return -1
}

// checkKeyPartition checks that RemoveKeyMatches and KeepKeyMatches split
// input 1 between them, each item going to exactly one side in order, and,
// when every key is a plain string, that the split is the one a set of the
// input-2 keys gives.
func checkKeyPartition(t *testing.T, in1, in2 []Item, key1, key2 string) {
	t.Helper()
	removed, rerr := RemoveKeyMatches(in1, in2, key1, key2)
	kept, kerr := KeepKeyMatches(in1, in2, key1, key2)
	if rerr != nil || kerr != nil {
		// The two key modes fail alike, on the same item for the same reason.
		var re, ke *MergeInputError
		require.ErrorAs(t, rerr, &re)
		require.ErrorAs(t, kerr, &ke)
		re.Mode = ke.Mode
		require.Equal(t, ke, re)
		return
	}
	r, k := 0, 0
	for _, item := range in1 {
		switch {
		case r < len(removed) && sameMap(removed[r], item):
			r++
		case k < len(kept) && sameMap(kept[k], item):
			k++
		default:
			t.Fatalf("item %v is in neither output", item)
		}
	}
	require.Equal(t, len(removed), r)
	require.Equal(t, len(kept), k)

	want, ok := stringKeySplit(in1, in2, key1, key2)
	if ok {
		assert.Equal(t, want, len(kept), "keep count by a plain string set")
	}
}

// stringKeySplit counts the input-1 items a plain set of input-2 string keys
// keeps; ok is false unless every key present is a string.
func stringKeySplit(in1, in2 []Item, key1, key2 string) (int, bool) {
	if in1 == nil || in2 == nil || key1 == "" || key2 == "" {
		return 0, false
	}
	set := map[string]bool{}
	for _, item := range in2 {
		v, found := Lookup(item, key2)
		s, isString := v.(string)
		if found && !isString {
			return 0, false
		}
		if s != "" && s != "__proto__" {
			set[s] = true
		}
	}
	if set["hasOwnProperty"] {
		return 0, false
	}
	n := 0
	for _, item := range in1 {
		v, found := Lookup(item, key1)
		s, isString := v.(string)
		if found && !isString {
			return 0, false
		}
		if found && set[s] {
			n++
		}
	}
	return n, true
}
