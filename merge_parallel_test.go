package sync

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneByOne is n8n's loop for the key modes written plainly, one item at a
// time with a Go map: the reference that the chunked, parallel mergeKeyed
// must agree with, output and errors alike.
func oneByOne(in1, in2 []Item, key1, key2 string, mode Mode, ow Overwrite) ([]Item, error) {
	if in1 == nil {
		return []Item{}, nil
	}
	if in2 == nil || key1 == "" || key2 == "" {
		if mode == ModeKeepKeyMatches {
			return []Item{}, nil
		}
		return append([]Item{}, in1...), nil
	}
	copyData := map[string]int{}
	for j, item := range in2 {
		v, found := Lookup(item, key2)
		if !found {
			continue
		}
		truthy, err := jsTruthy(v)
		if err == nil && truthy {
			var key string
			if key, err = jsToString(v); err == nil && key != "__proto__" {
				copyData[key] = j
			}
		}
		if err != nil {
			return nil, &MergeInputError{Mode: mode, Input: 2, Index: j, Reason: err.Error()}
		}
	}
	_, shadowed := copyData["hasOwnProperty"]
	out := []Item{}
	for i, item := range in1 {
		v, found := Lookup(item, key1)
		key, class, err := classifyKey1(v, found)
		if class == keyComparable && shadowed {
			err = errors.New(reasonCopyHasOwn)
		}
		if err != nil {
			return nil, &MergeInputError{Mode: mode, Input: 1, Index: i, Reason: err.Error()}
		}
		j, matched := copyData[key]
		matched = matched && class == keyComparable
		switch {
		case mode == ModeRemoveKeyMatches && !matched, mode == ModeKeepKeyMatches && matched:
			out = append(out, item)
		case mode != ModeMergeByKey || class != keyComparable:
		case !matched:
			out = append(out, item)
		default:
			merged, err := mergeFields(item, in2[j], key2, ow)
			if err != nil {
				return nil, &MergeInputError{Mode: mode, Input: 1, Index: i, Reason: err.Error()}
			}
			out = append(out, merged)
		}
	}
	return out, nil
}

var keyModes = []Mode{ModeKeepKeyMatches, ModeRemoveKeyMatches, ModeMergeByKey}

// FuzzMergeKeyedSplit checks that the key modes give the same output and
// the same error whatever the chunk size and number of goroutines, by
// comparing them with the one-item-at-a-time reference on FuzzMerge's
// inputs.
func FuzzMergeKeyedSplit(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 1, 0, 2, 4, 3, 0, 1, 7, 2, 2, 0, 5, 1, 1, 0, 3})
	f.Add([]byte("\x04\x02\x02\x02\x00\x00\x03\x04\x03\x00\x05\x09\x01\x03\x00\x01\x07"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{b: data}
		s := keySplit{workers: 1 + fb.pick(4), chunk: 1 + fb.pick(3), minItems: fb.pick(3)}
		opts := fuzzOptions(fb)
		mode := keyModes[fb.pick(len(keyModes))]
		in1, in2 := fuzzItems(fb), fuzzItems(fb)

		got, err := s.mergeKeyed(in1, in2, opts.Key1, opts.Key2, mode, opts.Overwrite)

		want, wantErr := oneByOne(in1, in2, opts.Key1, opts.Key2, mode, opts.Overwrite)
		require.Equal(t, wantErr, err, "split %+v", s)
		require.Equal(t, want, got, "split %+v", s)
	})
}

// keyedInputs returns n persons and n contacts whose keys are of every kind
// the key modes treat differently: strings, numbers, null, missing keys,
// falsy keys, arrays and objects, with duplicates.
func keyedInputs(seed uint64, n int) (in1, in2 []Item) {
	r := rand.New(rand.NewPCG(seed, 0))
	key := func() any {
		switch r.IntN(12) {
		case 0:
			return float64(r.IntN(n))
		case 1:
			return nil
		case 2:
			return ""
		case 3:
			return []any{fmt.Sprint(r.IntN(n))}
		case 4:
			return map[string]any{"a": 1.0}
		case 5:
			return false
		}
		return fmt.Sprint(r.IntN(n))
	}
	for i := range n {
		p := Item{"i": float64(i), "email": []any{map[string]any{"value": key()}}}
		if r.IntN(20) == 0 {
			delete(p, "email")
		}
		in1 = append(in1, p)
		in2 = append(in2, Item{"j": float64(i), "x": i % 3, "p": []any{map[string]any{
			"ids": []any{map[string]any{"value": key()}}}}})
	}
	return in1, in2
}

// TestMergeKeyed_parallelMatchesOneByOne runs inputs large enough for the
// default split to use several goroutines, and with errors planted at
// chunk boundaries and inside chunks, through every key mode.
func TestMergeKeyed_parallelMatchesOneByOne(t *testing.T) {
	t.Parallel()
	const n = 20_000
	const key1, key2 = "email[0].value", "p[0].ids[0].value"
	bad := map[string]any{"toString": 1.0} // String() of it throws
	tests := []struct {
		name  string
		plant func(in1, in2 []Item)
	}{
		{"no errors", func(in1, in2 []Item) {}},
		{"input 2 fails in two chunks", func(in1, in2 []Item) {
			in2[3*4096+7]["p"] = []any{map[string]any{"ids": []any{map[string]any{"value": bad}}}}
			in2[1*4096]["p"] = []any{map[string]any{"ids": []any{map[string]any{"value": bad}}}}
		}},
		{"input 1 fails in two chunks", func(in1, in2 []Item) {
			in1[4*4096-1]["email"] = []any{map[string]any{"value": map[string]any{
				"constructor": nil}}}
			in1[2*4096+100]["email"] = []any{map[string]any{"value": map[string]any{
				"constructor": map[string]any{"name": "Data"}, "toString": 0.0}}}
		}},
		{"a hasOwnProperty key shadows the method", func(in1, in2 []Item) {
			in2[n-1]["p"] = []any{map[string]any{"ids": []any{map[string]any{
				"value": "hasOwnProperty"}}}}
		}},
		{"the whole path is a top-level key", func(in1, in2 []Item) {
			for i := 0; i < n; i += 97 {
				in1[i][key1] = fmt.Sprint(i)
				in2[i][key2] = fmt.Sprint(i + 1)
			}
		}},
	}
	for _, tt := range tests {
		for _, mode := range keyModes {
			t.Run(tt.name+"/"+string(mode), func(t *testing.T) {
				t.Parallel()
				in1, in2 := keyedInputs(uint64(len(tt.name)), n)
				tt.plant(in1, in2)
				s := keySplit{workers: 3, chunk: 4096, minItems: 8192}
				require.Greater(t, s.chunks(n), 1, "the test must run chunks in parallel")

				got, err := s.mergeKeyed(in1, in2, key1, key2, mode, OverwriteBlank)

				want, wantErr := oneByOne(in1, in2, key1, key2, mode, OverwriteBlank)
				assert.Equal(t, wantErr, err)
				assert.Equal(t, want, got)
			})
		}
	}
}

// TestMergeKeyed_lastInput2ItemWins checks MergeByKey when many chunks,
// recorded in parallel, hold the same keys: the input-2 item merged is
// always the last one with the key.
func TestMergeKeyed_lastInput2ItemWins(t *testing.T) {
	t.Parallel()
	const n, keys = 30_000, 7
	var in1, in2 []Item
	for i := range keys {
		in1 = append(in1, Item{"k": float64(i)})
	}
	for j := range n {
		in2 = append(in2, Item{"k": fmt.Sprint(j % keys), "j": float64(j)})
	}
	s := keySplit{workers: 4, chunk: 100}

	got, err := s.mergeKeyed(in1, in2, "k", "k", ModeMergeByKey, OverwriteAlways)

	require.NoError(t, err)
	require.Len(t, got, keys)
	for i, item := range got {
		last := n - 1
		for last%keys != i {
			last--
		}
		assert.Equal(t, float64(last), item["j"], "key %d", i)
	}
}

func TestKeySplit_run(t *testing.T) {
	t.Parallel()
	errAt := func(c int) error { return fmt.Errorf("chunk %d", c) }
	tests := []struct {
		name    string
		split   keySplit
		n       int
		failing []int
		want    error
	}{
		{"one goroutine", keySplit{workers: 1}, 5, nil, nil},
		{"many goroutines", keySplit{workers: 8}, 100, nil, nil},
		{"the lowest failure wins", keySplit{workers: 4}, 100, []int{71, 9, 40}, errAt(9)},
		{"one goroutine stops at a failure", keySplit{workers: 1}, 10, []int{3, 4}, errAt(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := make([]int, tt.n)

			err := tt.split.run(tt.n, func(c int) error {
				calls[c]++
				for _, f := range tt.failing {
					if c == f {
						return errAt(c)
					}
				}
				return nil
			})

			assert.Equal(t, tt.want, err)
			for c, k := range calls {
				if tt.want == nil {
					assert.Equal(t, 1, k, "chunk %d", c)
				} else {
					assert.LessOrEqual(t, k, 1, "chunk %d", c)
				}
			}
		})
	}
}

func TestKeySplit_runRaisesPanicsOnTheCaller(t *testing.T) {
	t.Parallel()
	s := keySplit{workers: 4}
	assert.PanicsWithValue(t, "boom", func() {
		_ = s.run(50, func(c int) error {
			if c == 33 {
				panic("boom")
			}
			return nil
		})
	})
}
