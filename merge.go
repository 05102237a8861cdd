package sync

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"

	"github.com/keysync/sync/internal/keyindex"
	"github.com/keysync/sync/internal/keypath"
)

// This file reproduces n8n's Merge node, type version 1, as published in
// n8n-nodes-base 2.41 with n8n-workflow 2.41 (lodash 4.17 get for key paths).
// Every behaviour below, odd or not, is that node's; the comments say which
// JavaScript rule causes it.

// Mode selects what [Merge] does. Its values are those of the "mode"
// parameter of n8n's Merge node version 1, so a node's JSON parameters map
// across unchanged. The zero Mode is [ModeAppend], the node's default.
type Mode string

// The eight modes of n8n's Merge node version 1.
const (
	// ModeAppend outputs the items of input 1 followed by those of input 2.
	ModeAppend Mode = "append"
	// ModeKeepKeyMatches outputs the items of input 1 whose key matches an
	// item of input 2.
	ModeKeepKeyMatches Mode = "keepKeyMatches"
	// ModeMergeByIndex merges item i of input 1 with item i of input 2.
	ModeMergeByIndex Mode = "mergeByIndex"
	// ModeMergeByKey merges each item of input 1 with the item of input 2
	// that has the same key.
	ModeMergeByKey Mode = "mergeByKey"
	// ModeMultiplex merges every item of input 1 with every item of input 2.
	ModeMultiplex Mode = "multiplex"
	// ModePassThrough outputs the items of one input.
	ModePassThrough Mode = "passThrough"
	// ModeRemoveKeyMatches outputs the items of input 1 whose key matches no
	// item of input 2.
	ModeRemoveKeyMatches Mode = "removeKeyMatches"
	// ModeWait outputs one empty item.
	ModeWait Mode = "wait"
)

// Join says how many items [MergeByIndex] outputs when the inputs differ in
// length. The zero Join is [JoinLeft], the node's default.
type Join string

// The joins of the Merge node's "join" parameter.
const (
	// JoinInner outputs as many items as the shorter input has.
	JoinInner Join = "inner"
	// JoinLeft outputs as many items as input 1 has.
	JoinLeft Join = "left"
	// JoinOuter outputs as many items as the longer input has.
	JoinOuter Join = "outer"
)

// Overwrite says when [MergeByKey] replaces a field of an input-1 item with
// the field of the matching input-2 item. The zero Overwrite is
// [OverwriteAlways], the node's default.
type Overwrite string

// The choices of the Merge node's "overwrite" parameter.
const (
	// OverwriteAlways always takes the input-2 field.
	OverwriteAlways Overwrite = "always"
	// OverwriteBlank takes the input-2 field where the input-1 field is
	// null, "" or missing ("If Blank" in n8n).
	OverwriteBlank Overwrite = "blank"
	// OverwriteUndefined takes the input-2 field only where the input-1
	// item lacks the field ("If Missing" in n8n).
	OverwriteUndefined Overwrite = "undefined"
)

// Input names one of the two inputs, as the Merge node's "output" parameter
// does for [PassThrough]. The zero Input is [OutputInput1], the node's
// default.
type Input string

// The choices of the Merge node's "output" parameter.
const (
	// OutputInput1 passes input 1 through.
	OutputInput1 Input = "input1"
	// OutputInput2 passes input 2 through.
	OutputInput2 Input = "input2"
)

// MergeOptions are the parameters of one [Merge] call, named after the
// parameters of n8n's Merge node version 1. Fields a mode does not use are
// ignored, but must still hold a known value or be empty. The zero value
// appends.
type MergeOptions struct {
	// Mode is what to do; "" means [ModeAppend].
	Mode Mode

	// Key1 and Key2 are the key paths (lodash get syntax, see [Lookup]) of
	// input 1 and input 2 for the key modes ("propertyName1" and
	// "propertyName2" in n8n). If either is empty the key modes behave as
	// though input 2 were absent.
	Key1, Key2 string

	// Join is used by [ModeMergeByIndex]; "" means [JoinLeft].
	Join Join

	// Overwrite is used by [ModeMergeByKey]; "" means [OverwriteAlways].
	Overwrite Overwrite

	// Output is used by [ModePassThrough]; "" means [OutputInput1].
	Output Input
}

// Errors of the merge functions, matched with [errors.Is].
var (
	// ErrMergeOption means a [MergeOptions] field, or a mode argument of a
	// per-mode function, holds a value n8n's Merge node does not know. The
	// error is a [*MergeOptionError].
	ErrMergeOption = errors.New("sync: unknown merge option")

	// ErrMergeInput means the inputs make n8n's Merge node fail, so no
	// output exists to reproduce. The error is a [*MergeInputError].
	ErrMergeInput = errors.New("sync: merge input rejected")
)

// MergeOptionError reports an option value that n8n's Merge node does not
// know. It matches [ErrMergeOption].
type MergeOptionError struct {
	Field string // the option: "Mode", "Join", "Overwrite" or "Output"
	Value string // the value given
}

// Error names the field and the value.
func (e *MergeOptionError) Error() string {
	return fmt.Sprintf("sync: unknown merge option %s %q", e.Field, e.Value)
}

// Is reports whether target is [ErrMergeOption].
func (e *MergeOptionError) Is(target error) bool { return target == ErrMergeOption }

// MergeInputError reports inputs on which n8n's Merge node throws instead of
// producing output, such as a key that is an object with its own "toString"
// field. It matches [ErrMergeInput].
type MergeInputError struct {
	Mode   Mode   // the mode that failed
	Input  int    // 1 or 2
	Index  int    // index of the offending item in that input, or -1
	Reason string // what n8n's node throws, as JavaScript words it
}

// Error names the mode, the item and n8n's reason.
func (e *MergeInputError) Error() string {
	where := fmt.Sprintf("input %d", e.Input)
	if e.Index >= 0 {
		where += fmt.Sprintf(" item %d", e.Index)
	}
	return fmt.Sprintf("sync: merge %s: %s: %s", e.Mode, where, e.Reason)
}

// Is reports whether target is [ErrMergeInput].
func (e *MergeInputError) Is(target error) bool { return target == ErrMergeInput }

// The JavaScript errors n8n's node throws, word for word.
const (
	reasonNoPrimitive   = "Cannot convert object to primitive value"
	reasonNullName      = "Cannot read properties of null (reading 'name')"
	reasonCopyHasOwn    = "copyData.hasOwnProperty is not a function"
	reasonEntryHasOwn   = "entry.json.hasOwnProperty is not a function"
	reasonAbsentLength  = "Cannot read properties of undefined (reading 'length')"
	reasonUnsupportedGo = "value of Go type %T is not JSON data"
)

// Merge combines two inputs as n8n's Merge node version 1 does with the
// parameters in opts, and returns the node's output. It is the
// table-driven form of the per-mode functions ([Append], [KeepKeyMatches],
// [MergeByIndex], [MergeByKey], [Multiplex], [PassThrough],
// [RemoveKeyMatches], [Wait]); see them for each mode's rules.
//
// A nil input means the input did not run at all (n8n passes undefined),
// which some modes treat differently from an empty one. A nil output with a
// nil error means the node emits no data at all. Inputs are never modified;
// the output shares unchanged items and field values with them, exactly
// where n8n's output shares objects with its inputs, so treat it as
// read-only or copy it. Items must be trees, as decoded JSON is (no cycles).
// Merge returns a [*MergeOptionError] for unknown option values and a
// [*MergeInputError] where n8n's node throws. Merge and the per-mode
// functions only read their inputs and are safe for concurrent use. The key
// modes split each input of 8,192 items or more into chunks that run on up to
// GOMAXPROCS goroutines, all finished before they return.
//
// For example, with opts {Mode: ModeRemoveKeyMatches, Key1: "email[0].value",
// Key2: "properties.email"} the output holds the Pipedrive persons whose first
// email is not the email of any HubSpot contact.
func Merge(in1, in2 []Item, opts MergeOptions) ([]Item, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	switch opts.Mode {
	case ModeKeepKeyMatches, ModeMergeByKey, ModeRemoveKeyMatches:
		return mergeKeyed(in1, in2, opts.Key1, opts.Key2, opts.Mode, opts.Overwrite)
	case ModeMergeByIndex:
		return MergeByIndex(in1, in2, opts.Join)
	case ModeMultiplex:
		return Multiplex(in1, in2), nil
	case ModePassThrough:
		return PassThrough(in1, in2, opts.Output)
	case ModeWait:
		return Wait(in1, in2)
	default: // "" or ModeAppend
		return Append(in1, in2), nil
	}
}

// validate checks every field, used by the mode or not, so that a typo never
// passes silently.
func (o MergeOptions) validate() error {
	switch o.Mode {
	case "", ModeAppend, ModeKeepKeyMatches, ModeMergeByIndex, ModeMergeByKey,
		ModeMultiplex, ModePassThrough, ModeRemoveKeyMatches, ModeWait:
	default:
		return &MergeOptionError{Field: "Mode", Value: string(o.Mode)}
	}
	if err := o.Join.validate(); err != nil {
		return err
	}
	if err := o.Overwrite.validate(); err != nil {
		return err
	}
	return o.Output.validate()
}

func (j Join) validate() error {
	switch j {
	case "", JoinInner, JoinLeft, JoinOuter:
		return nil
	}
	return &MergeOptionError{Field: "Join", Value: string(j)}
}

func (w Overwrite) validate() error {
	switch w {
	case "", OverwriteAlways, OverwriteBlank, OverwriteUndefined:
		return nil
	}
	return &MergeOptionError{Field: "Overwrite", Value: string(w)}
}

func (in Input) validate() error {
	switch in {
	case "", OutputInput1, OutputInput2:
		return nil
	}
	return &MergeOptionError{Field: "Output", Value: string(in)}
}

// Append returns the items of in1 followed by those of in2 ([ModeAppend]).
// An absent (nil) input contributes nothing.
//
//	Append([]Item{{"a": 1}}, []Item{{"b": 2}}) // [{"a":1} {"b":2}]
func Append(in1, in2 []Item) []Item {
	out := make([]Item, 0, len(in1)+len(in2))
	out = append(out, in1...)
	return append(out, in2...)
}

// PassThrough returns the items of the input that output names
// ([ModePassThrough]); "" means [OutputInput1]. An absent input yields an
// empty output. It returns a [*MergeOptionError] for an unknown output.
//
//	PassThrough([]Item{{"a": 1}}, []Item{{"b": 2}}, OutputInput2) // [{"b":2}]
func PassThrough(in1, in2 []Item, output Input) ([]Item, error) {
	if err := output.validate(); err != nil {
		return nil, err
	}
	if output == OutputInput2 {
		return Append(nil, in2), nil
	}
	return Append(in1, nil), nil
}

// Wait returns a single empty item whatever the inputs hold ([ModeWait]).
// Like n8n's node, which reads the length of input 1, it fails with a
// [*MergeInputError] when input 1 is absent (nil).
//
//	Wait([]Item{{"a": 1}}, nil) // [{}]
func Wait(in1, in2 []Item) ([]Item, error) {
	if in1 == nil {
		return nil, &MergeInputError{Mode: ModeWait, Input: 1, Index: -1, Reason: reasonAbsentLength}
	}
	return []Item{{}}, nil
}

// Multiplex returns, for every item of in1 and then every item of in2, the
// fields of both in one new item, input 2 winning where both have a field
// ([ModeMultiplex]); the output has len(in1)*len(in2) items. An absent or
// empty input yields an empty output. Field values are shared, not copied.
//
//	Multiplex([]Item{{"a": 1, "c": 0}}, []Item{{"b": 1, "c": 9}})
//	// [{"a":1,"b":1,"c":9}]
func Multiplex(in1, in2 []Item) []Item {
	out := make([]Item, 0, len(in1)*len(in2))
	for _, a := range in1 {
		for _, b := range in2 {
			// Object spread defines own properties, so even "__proto__"
			// is copied as a plain field.
			m := make(Item, len(a)+len(b))
			for k, v := range a {
				m[k] = v
			}
			for k, v := range b {
				m[k] = v
			}
			out = append(out, m)
		}
	}
	return out
}

// MergeByIndex merges item i of in1 with item i of in2 into a new item,
// input 2 winning where both have a field, for as many positions as join
// says ([ModeMergeByIndex]); "" means [JoinLeft]. Positions that only one
// input has are output as that input's item. The merge is shallow: nested
// objects come whole from one side.
//
// When input 1 is empty or absent the output is empty for inner and left
// joins and input 2 for an outer join (nil when input 2 is absent: n8n then
// emits no data). When input 2 is empty or absent the output is input 1 for
// left and outer joins and empty for an inner join. It returns a
// [*MergeOptionError] for an unknown join.
//
//	MergeByIndex([]Item{{"a": 1}, {"a": 2}}, []Item{{"b": 1}}, JoinLeft)
//	// [{"a":1,"b":1} {"a":2}]
func MergeByIndex(in1, in2 []Item, join Join) ([]Item, error) {
	if err := join.validate(); err != nil {
		return nil, err
	}
	if len(in1) == 0 {
		if join == JoinOuter {
			return slices.Clone(in2), nil
		}
		return []Item{}, nil
	}
	if len(in2) == 0 {
		if join == JoinInner {
			return []Item{}, nil
		}
		return slices.Clone(in1), nil
	}
	n := len(in1)
	switch join {
	case JoinInner:
		n = min(len(in1), len(in2))
	case JoinOuter:
		n = max(len(in1), len(in2))
	}
	out := make([]Item, 0, n)
	for i := range n {
		switch {
		case i >= len(in1):
			out = append(out, in2[i])
		case i >= len(in2):
			out = append(out, in1[i])
		default:
			out = append(out, assignMerge(in1[i], in2[i]))
		}
	}
	return out, nil
}

// assignMerge is Object.assign({}, a) followed by assigning every field of b:
// plain assignments, so a "__proto__" field goes through JavaScript's
// prototype setter (see jsObject).
func assignMerge(a, b Item) Item {
	o := jsObject{own: make(Item, len(a)+len(b))}
	for k, v := range a {
		o.set(k, v)
	}
	for k, v := range b {
		o.set(k, v)
	}
	return o.own
}

// KeepKeyMatches returns the items of in1 whose value at key path key1
// equals the value at key2 of some item of in2 ([ModeKeepKeyMatches]), in
// input-1 order, duplicates included.
//
// Keys compare as JavaScript strings (String(v)): 1 matches "1", 1e21
// matches "1e+21", an input-1 null matches an input-2 "null". An input-2
// item whose key is missing, null, false, 0 or "" is ignored; an input-1 key
// that is a bool, an array or an object never matches. When in1 is absent,
// in2 is absent or either key path is empty, the output is empty.
//
//	KeepKeyMatches([]Item{{"id": 1}, {"id": 2}}, []Item{{"id": "1"}}, "id", "id")
//	// [{"id":1}]
func KeepKeyMatches(in1, in2 []Item, key1, key2 string) ([]Item, error) {
	return mergeKeyed(in1, in2, key1, key2, ModeKeepKeyMatches, "")
}

// RemoveKeyMatches returns the items of in1 whose key matches no item of
// in2 ([ModeRemoveKeyMatches]), in input-1 order; it is what a one-way sync
// must create. Keys compare as in [KeepKeyMatches]; input-1 items without a
// key, or with a bool, array or object key, are kept. When in2 is absent or
// either key path is empty the output is all of in1; when in1 is absent it
// is empty.
//
//	RemoveKeyMatches(persons, contacts,
//		"email[0].value", "identity-profiles[0].identities[0].value")
//	// the persons whose email no contact has
func RemoveKeyMatches(in1, in2 []Item, key1, key2 string) ([]Item, error) {
	return mergeKeyed(in1, in2, key1, key2, ModeRemoveKeyMatches, "")
}

// MergeByKey returns the items of in1 that have a usable key
// ([ModeMergeByKey]), each merged with the last item of in2 that has the
// same key; items without a match are output unchanged. Keys compare as in
// [KeepKeyMatches]; items whose key is missing, a bool, an array or an
// object are dropped.
//
// A merged item is a deep copy of the input-1 item (without fields named
// "__proto__", "constructor" or "prototype", which n8n's copy skips at every
// depth) into which the top-level fields of the input-2 item are copied,
// except the one named exactly key2, as overwrite says ("" means
// [OverwriteAlways]): always; only over null, "" or missing fields (blank);
// or only where the field is missing (undefined). A nested key therefore
// replaces the whole top-level field it lives in: with key paths "u.id",
// {"u": {"id": 1}} merged with {"u": {"id": 1, "z": 2}} gets input 2's "u".
//
// When in2 is absent or either key path is empty the output is in1
// unchanged, items without a key included; when in1 is absent it is empty.
// It returns a [*MergeOptionError] for an unknown overwrite.
//
//	MergeByKey([]Item{{"id": 1, "n": "a"}, {"id": 2}},
//		[]Item{{"id": 1, "n": "b", "x": true}}, "id", "id", OverwriteAlways)
//	// [{"id":1,"n":"b","x":true} {"id":2}]
func MergeByKey(in1, in2 []Item, key1, key2 string, overwrite Overwrite) ([]Item, error) {
	if err := overwrite.validate(); err != nil {
		return nil, err
	}
	return mergeKeyed(in1, in2, key1, key2, ModeMergeByKey, overwrite)
}

// mergeKeyed runs the three key modes, which share one algorithm in n8n.
func mergeKeyed(in1, in2 []Item, key1, key2 string, mode Mode, ow Overwrite) ([]Item, error) {
	return defaultKeySplit().mergeKeyed(in1, in2, key1, key2, mode, ow)
}

// mergeKeyed is n8n's algorithm: index the keys of input 2, then look up
// the key of each input-1 item. Both passes run in chunks on up to
// s.workers goroutines; the result, errors included, is the same as in one
// pass over each input in order.
func (s keySplit) mergeKeyed(in1, in2 []Item, key1, key2 string, mode Mode,
	ow Overwrite) ([]Item, error) {
	if in1 == nil {
		return []Item{}, nil
	}
	if in2 == nil || key1 == "" || key2 == "" {
		if mode == ModeKeepKeyMatches {
			return []Item{}, nil
		}
		return slices.Clone(in1), nil
	}
	t, err := s.index(in2, keypath.Compile(key2), mode)
	if err != nil {
		return nil, err
	}
	defer t.Release()
	// A key "hasOwnProperty" shadows the method n8n then calls on copyData,
	// which throws for every comparable key.
	const hasOwn = "hasOwnProperty"
	_, hasOwnShadowed := t.Get(hasOwn, t.Hash(hasOwn))

	p1 := keypath.Compile(key1)
	m := keyMatcher{t: t, hasOwnShadowed: hasOwnShadowed, in1: in1, in2: in2, key1: &p1,
		key2: key2, mode: mode, ow: ow}
	nc := s.chunks(len(in1))
	if mode == ModeMergeByKey {
		m.merged = make([][]Item, nc)
	} else {
		m.keep = make([]bool, len(in1))
	}
	err = s.run(nc, func(c int) error {
		lo, hi := s.bounds(c, len(in1))
		return m.match(c, lo, hi)
	})
	if err != nil {
		return nil, err
	}
	return m.output(), nil
}

// index returns n8n's copyData for in2: each key that p2 finds, as a
// JavaScript property key, mapped to the last item of in2 that has it. The
// caller must release the index; when index returns an error, it has
// released it already.
func (s keySplit) index(in2 []Item, p2 keypath.Path, mode Mode) (*keyindex.Index, error) {
	parts := 1
	if s.chunks(len(in2)) > 1 {
		parts = s.workers
	}
	t := keyindex.New(len(in2), parts)

	err := s.run(s.chunks(len(in2)), func(c int) error {
		lo, hi := s.bounds(c, len(in2))
		return addKeys(t, in2, lo, hi, &p2, mode)
	})
	if err != nil {
		t.Release()
		return nil, err
	}

	t.Prepare()
	_ = s.run(t.Partitions(), func(p int) error {
		t.BuildPartition(p)
		return nil
	})
	return t, nil
}

// keyBlock is how many items the key modes resolve at a time: enough for
// the memory reads of different items to overlap, few enough to stay in L1.
const keyBlock = 32

// keyMatcher is the input-1 pass of the key modes.
type keyMatcher struct {
	t              *keyindex.Index
	hasOwnShadowed bool // input 2 has the key "hasOwnProperty"
	in1, in2       []Item
	key1           *keypath.Path
	key2           string
	mode           Mode
	ow             Overwrite

	keep   []bool   // by input-1 item, for ModeKeepKeyMatches and ModeRemoveKeyMatches
	merged [][]Item // by chunk, for ModeMergeByKey
}

// keyBlockState holds what the key modes know about a block of items.
type keyBlockState struct {
	vals    [keyBlock]any
	found   [keyBlock]bool
	class   [keyBlock]keyClass
	keys    [keyBlock]string
	hashes  [keyBlock]uint64
	js      [keyBlock]int
	matched [keyBlock]bool
}

// match handles input-1 items lo to hi, chunk c, or returns the error for
// the first of them on which n8n's node throws. It works block by block:
// resolve every key, hash every comparable one, look each up, then output
// in order.
func (m *keyMatcher) match(c, lo, hi int) error {
	var b keyBlockState
	for blo := lo; blo < hi; blo += keyBlock {
		items := m.in1[blo:min(blo+keyBlock, hi)]
		m.key1.GetEach(items, b.vals[:], b.found[:])
		n, convErr := m.classify(&b, len(items))
		for i := range n {
			b.js[i], b.matched[i] = -1, false
			if b.class[i] == keyComparable {
				b.js[i], b.matched[i] = m.t.Get(b.keys[i], b.hashes[i])
			}
		}
		if m.mode != ModeMergeByKey {
			for i := range n {
				m.keep[blo+i] = b.matched[i] == (m.mode == ModeKeepKeyMatches)
			}
		} else if err := m.merge(c, hi-lo, blo, items[:n], &b); err != nil {
			return err
		}
		if convErr != nil {
			return &MergeInputError{Mode: m.mode, Input: 1, Index: blo + n,
				Reason: convErr.Error()}
		}
	}
	return nil
}

// classify classifies the first n keys of b and hashes the comparable ones.
// It stops at the first key on which n8n's node throws and returns its
// position and error.
func (m *keyMatcher) classify(b *keyBlockState, n int) (int, error) {
	for i := range n {
		key, class, err := classifyKey1(b.vals[i], b.found[i])
		// copyData.hasOwnProperty(key) runs only for comparable keys.
		if class == keyComparable && m.hasOwnShadowed {
			err = errors.New(reasonCopyHasOwn)
		}
		if err != nil {
			return i, err
		}
		b.class[i] = class
		if class == keyComparable {
			b.keys[i], b.hashes[i] = key, m.t.Hash(key)
		}
	}
	return n, nil
}

// merge appends the [ModeMergeByKey] output for the block of items that
// starts at input-1 item blo to the output of its chunk c, which has size
// items.
func (m *keyMatcher) merge(c, size, blo int, items []Item, b *keyBlockState) error {
	if m.merged[c] == nil {
		m.merged[c] = make([]Item, 0, size)
	}
	for i, item := range items {
		switch {
		case b.class[i] != keyComparable:
		case !b.matched[i]:
			m.merged[c] = append(m.merged[c], item)
		default:
			merged, err := mergeFields(item, m.in2[b.js[i]], m.key2, m.ow)
			if err != nil {
				return &MergeInputError{Mode: m.mode, Input: 1, Index: blo + i,
					Reason: err.Error()}
			}
			m.merged[c] = append(m.merged[c], merged)
		}
	}
	return nil
}

// output returns the mode's output once every chunk is matched.
func (m *keyMatcher) output() []Item {
	if m.mode == ModeMergeByKey {
		n := 0
		for _, items := range m.merged {
			n += len(items)
		}
		out := make([]Item, 0, n)
		for _, items := range m.merged {
			out = append(out, items...)
		}
		return out
	}
	n := 0
	for _, k := range m.keep {
		if k {
			n++
		}
	}
	out := make([]Item, 0, n)
	for i, k := range m.keep {
		if k {
			out = append(out, m.in1[i])
		}
	}
	return out
}

// addKeys records the keys of in2[lo:hi] that n8n stores in copyData, or
// returns the error for the first item on which n8n's node throws.
func addKeys(t *keyindex.Index, in2 []Item, lo, hi int, p *keypath.Path, mode Mode) error {
	var b keyBlockState
	for blo := lo; blo < hi; blo += keyBlock {
		items := in2[blo:min(blo+keyBlock, hi)]
		p.GetEach(items, b.vals[:], b.found[:])
		for i := range items {
			if !b.found[i] {
				continue
			}
			key, ok, err := inputKey(b.vals[i])
			if err != nil {
				return &MergeInputError{Mode: mode, Input: 2, Index: blo + i,
					Reason: err.Error()}
			}
			if ok {
				t.Set(blo+i, key)
			}
		}
	}
	return nil
}

// inputKey returns the copyData key of an input-2 key value v, and false
// when n8n stores none: v is falsy, or its key is "__proto__" (copyData[
// "__proto__"] = entry sets copyData's prototype and stores no key).
func inputKey(v any) (string, bool, error) {
	if s, ok := v.(string); ok {
		return s, s != "" && s != "__proto__", nil
	}
	truthy, err := jsTruthy(v)
	if err != nil || !truthy {
		return "", false, err
	}
	key, err := jsToString(v)
	if err != nil {
		return "", false, err
	}
	return key, key != "__proto__", nil
}

// keySplit says how the key modes divide an input into chunks that run on
// several goroutines.
type keySplit struct {
	workers  int // goroutines at most
	chunk    int // items per chunk
	minItems int // shorter inputs run in one chunk on the caller's goroutine
}

// defaultKeySplit uses every processor for inputs long enough that the
// goroutines cost far less than they save.
func defaultKeySplit() keySplit {
	return keySplit{workers: runtime.GOMAXPROCS(0), chunk: 4096, minItems: 8192}
}

// chunks returns the number of chunks n items are divided into.
func (s keySplit) chunks(n int) int {
	if s.workers <= 1 || n < s.minItems || n <= s.chunk {
		return 1
	}
	return (n + s.chunk - 1) / s.chunk
}

// bounds returns the items of chunk c of n items.
func (s keySplit) bounds(c, n int) (lo, hi int) {
	if s.chunks(n) == 1 {
		return 0, n
	}
	lo = c * s.chunk
	return lo, min(lo+s.chunk, n)
}

// run calls f(c) for c from 0 to n-1 on up to s.workers goroutines, none of
// which outlives the call, and returns the error of the lowest c that
// failed; calls after a failed one may be skipped. A panic in f is raised
// again on the caller's goroutine.
func (s keySplit) run(n int, f func(c int) error) error {
	if n == 1 || s.workers <= 1 {
		for c := range n {
			if err := f(c); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var (
		next     atomic.Int64
		failed   atomic.Int64 // the lowest c that failed
		wg       stdsync.WaitGroup
		panicked atomic.Pointer[any]
	)
	failed.Store(int64(n))
	work := func() {
		defer func() {
			if r := recover(); r != nil {
				panicked.CompareAndSwap(nil, &r)
			}
		}()
		for {
			c := next.Add(1) - 1
			if c >= int64(n) || c > failed.Load() {
				return
			}
			if errs[c] = f(int(c)); errs[c] == nil {
				continue
			}
			for old := failed.Load(); c < old && !failed.CompareAndSwap(old, c); {
				old = failed.Load()
			}
		}
	}
	for range min(s.workers, n) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(*p)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// keyClass is how n8n's node treats an input-1 key value.
type keyClass uint8

const (
	keyUndefined    keyClass = iota // get returned undefined
	keyIncomparable                 // a bool, an array or an object
	keyComparable                   // a string, a number, null or a "Data" object
)

// classifyKey1 classifies an input-1 key value and returns its string form
// when comparable. err is what n8n would throw for it.
func classifyKey1(v any, found bool) (string, keyClass, error) {
	if !found {
		return "", keyUndefined, nil
	}
	switch x := v.(type) {
	case string:
		return x, keyComparable, nil
	case nil:
		// typeof null is "object" but the node lets null through, and
		// copyData.hasOwnProperty(null) looks up the key "null".
		return "null", keyComparable, nil
	case bool, []any:
		return "", keyIncomparable, nil
	case map[string]any:
		return classifyObjectKey(x)
	}
	if s, ok := jsString(v); ok {
		return s, keyComparable, nil
	}
	return "", keyIncomparable, fmt.Errorf(reasonUnsupportedGo, v)
}

// classifyObjectKey applies the node's test referenceValue.constructor.name
// !== 'Data' (a typo for 'Date') to a JSON object: it reads an own
// "constructor" field if there is one, else Object, whose name is "Object".
func classifyObjectKey(m map[string]any) (string, keyClass, error) {
	c, ok := m["constructor"]
	if !ok {
		return "", keyIncomparable, nil
	}
	if c == nil {
		//lint:ignore ST1005 the text is JavaScript's own TypeError, quoted as n8n reports it
		return "", keyIncomparable, errors.New(reasonNullName)
	}
	if cm, ok := c.(map[string]any); ok {
		if name, ok := cm["name"].(string); ok && name == "Data" {
			s, err := jsToString(m)
			return s, keyComparable, err
		}
	}
	return "", keyIncomparable, nil
}

// mergeFields is the node's merge of one matched pair: deepCopy(a), then
// each field of b except the one named key2, as ow says.
func mergeFields(a, b Item, key2 string, ow Overwrite) (Item, error) {
	o := jsObject{own: deepCopyJSON(a).(map[string]any)}
	// The result depends on field order only when b has a field that
	// changes how later fields resolve; only then pay for sorting.
	_, hasProto := b["__proto__"]
	_, hasHasOwn := b["hasOwnProperty"]
	if ow == OverwriteAlways || ow == "" || (!hasProto && !hasHasOwn) {
		for k, v := range b {
			if err := o.overwrite(k, v, key2, ow); err != nil {
				return nil, err
			}
		}
		return o.own, nil
	}
	for _, k := range jsKeyOrder(b) {
		if err := o.overwrite(k, b[k], key2, ow); err != nil {
			return nil, err
		}
	}
	return o.own, nil
}

// BUG(keysync): A Go map keeps no field order, but n8n's MergeByKey visits
// the fields of the input-2 item in JavaScript order, and with
// OverwriteBlank or OverwriteUndefined the result can depend on it when that
// item has a field named "__proto__" or "hasOwnProperty". Such items are
// handled as if their fields were written sorted, as encoding/json writes
// them (array-index names first).

// BUG(keysync): Key paths are resolved by [Lookup], which never finds
// inherited JavaScript properties: n8n's lodash get finds "constructor" or
// "toString" on every object, "__proto__" as Object.prototype, and so on. A
// key path through such a name ("constructor.name", "__proto__") can
// therefore match differently from n8n; paths of JSON fields are unaffected.

// overwrite applies one input-2 field to the merged item.
func (o *jsObject) overwrite(k string, v any, key2 string, ow Overwrite) error {
	if k == key2 {
		return nil
	}
	switch ow {
	case OverwriteUndefined:
		has, err := o.hasOwnProperty(k)
		if err != nil {
			return err
		}
		if has {
			return nil
		}
	case OverwriteBlank:
		if !o.blank(k) {
			return nil
		}
	}
	o.set(k, v)
	return nil
}

// jsKeyOrder returns m's keys in JavaScript's Object.keys order for an
// object written with sorted keys (as encoding/json writes a map): array
// indexes in numeric order, then the other keys in byte order. A Go map
// keeps no insertion order, so this is the order documented for Items.
func jsKeyOrder(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		ix, okx := arrayIndex(x)
		iy, oky := arrayIndex(y)
		switch {
		case okx && oky:
			return cmp.Compare(ix, iy)
		case okx:
			return -1
		case oky:
			return 1
		}
		return strings.Compare(x, y)
	})
	return keys
}

// arrayIndex reports whether s is a canonical JavaScript array index
// ("0" to "4294967294", no leading zeros) and returns it.
func arrayIndex(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

// reservedCopyKeys are the fields n8n-workflow's deepCopy never copies.
var reservedCopyKeys = [...]string{"__proto__", "constructor", "prototype"}

// deepCopyJSON copies decoded JSON as n8n-workflow's deepCopy does: objects
// and arrays are copied to any depth, and object fields named in
// reservedCopyKeys are left out. A nil Item counts as an empty object. Values
// of other Go types are shared, not copied.
func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopyJSON(e)
		}
		for _, k := range reservedCopyKeys {
			delete(m, k)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopyJSON(e)
		}
		return s
	}
	return v
}

// jsObject models the JavaScript object n8n builds while merging, as far as
// the merge can observe it: its own fields and its prototype. JSON data
// only ever changes the prototype through a "__proto__" assignment, which
// makes a later "__proto__" assignment create a plain field (when the new
// prototype is null or has its own "__proto__" field) and lets inherited
// fields decide the "blank" test and whether hasOwnProperty still works.
type jsObject struct {
	own Item
	// proto is the prototype: protoObject (Object.prototype), protoNull, or
	// an input value (map[string]any or []any) assigned to "__proto__".
	proto any
}

type protoMarker uint8

const (
	protoObject protoMarker = iota
	protoNull
)

// propKind is how a property read resolves.
type propKind uint8

const (
	propAbsent   propKind = iota // undefined
	propData                     // a JSON value
	propBuiltin                  // a method of Object.prototype or Array.prototype
	propAccessor                 // Object.prototype.__proto__
)

// inherited resolves key on o's prototype chain.
func (o *jsObject) inherited(key string) (any, propKind) {
	switch p := o.proto.(type) {
	case nil, protoMarker:
		if p == protoNull {
			return nil, propAbsent
		}
	case map[string]any:
		if v, ok := p[key]; ok {
			return v, propData
		}
	case []any:
		if i, ok := arrayIndex(key); ok && int(i) < len(p) {
			return p[i], propData
		}
		if key == "length" {
			return float64(len(p)), propData
		}
		if slices.Contains(arrayProtoMembers[:], key) {
			return nil, propBuiltin
		}
	}
	if key == "__proto__" {
		return nil, propAccessor
	}
	if slices.Contains(objectProtoMembers[:], key) {
		return nil, propBuiltin
	}
	return nil, propAbsent
}

// set is the assignment o[key] = v.
func (o *jsObject) set(key string, v any) {
	if key != "__proto__" {
		o.own[key] = v // every other field a JSON prototype has is writable data
		return
	}
	if _, ok := o.own[key]; ok {
		o.own[key] = v
		return
	}
	if _, kind := o.inherited(key); kind != propAccessor {
		o.own[key] = v
		return
	}
	// The __proto__ setter: objects and null become the prototype, other
	// values are ignored. Nothing is stored as a field.
	switch v.(type) {
	case nil:
		o.proto = protoNull
	case map[string]any, []any:
		o.proto = v
	}
}

// blank is the test [null, undefined, ""].includes(o[key]).
func (o *jsObject) blank(key string) bool {
	v, ok := o.own[key]
	kind := propData
	if !ok {
		v, kind = o.inherited(key)
	}
	switch kind {
	case propAbsent:
		return true
	case propData:
		return v == nil || v == ""
	}
	return false // a method, or the prototype returned by the __proto__ getter
}

// hasOwnProperty is the call o.hasOwnProperty(key), which throws when that
// name resolves to anything but Object.prototype's method.
func (o *jsObject) hasOwnProperty(key string) (bool, error) {
	if _, ok := o.own["hasOwnProperty"]; ok {
		return false, errors.New(reasonEntryHasOwn)
	}
	if _, kind := o.inherited("hasOwnProperty"); kind != propBuiltin {
		return false, errors.New(reasonEntryHasOwn)
	}
	_, ok := o.own[key]
	return ok, nil
}

// objectProtoMembers and arrayProtoMembers are the property names of
// Object.prototype and Array.prototype in Node.js 20.
var (
	objectProtoMembers = [...]string{
		"constructor", "__defineGetter__", "__defineSetter__", "hasOwnProperty",
		"__lookupGetter__", "__lookupSetter__", "isPrototypeOf",
		"propertyIsEnumerable", "toString", "valueOf", "__proto__", "toLocaleString",
	}
	arrayProtoMembers = [...]string{
		"length", "constructor", "at", "concat", "copyWithin", "fill", "find",
		"findIndex", "findLast", "findLastIndex", "lastIndexOf", "pop", "push",
		"reverse", "shift", "unshift", "slice", "sort", "splice", "includes",
		"indexOf", "join", "keys", "entries", "values", "forEach", "filter",
		"flat", "flatMap", "map", "every", "some", "reduce", "reduceRight",
		"toLocaleString", "toString", "toReversed", "toSorted", "toSpliced", "with",
	}
)

// jsTruthy is JavaScript's Boolean(v) for decoded JSON. Only the input-2 key
// is tested this way: missing, null, false, 0, NaN and "" are falsy.
func jsTruthy(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		return x != "", nil
	case map[string]any, []any:
		return true, nil
	}
	f, ok := jsNumberValue(v)
	if !ok {
		return false, fmt.Errorf(reasonUnsupportedGo, v)
	}
	return f != 0 && !math.IsNaN(f), nil
}

// jsToString is JavaScript's String(v), which is also how a value becomes a
// property key, for decoded JSON: arrays join their elements with commas
// (null elements as ""), objects give "[object Object]". An object with its
// own "toString" field cannot be converted: its toString is not callable and
// its valueOf returns the object itself, so JavaScript throws.
func jsToString(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		if _, ok := x["toString"]; ok {
			//lint:ignore ST1005 the text is JavaScript's own TypeError, quoted as n8n reports it
			return "", errors.New(reasonNoPrimitive)
		}
		return "[object Object]", nil
	case []any:
		var b strings.Builder
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if e == nil {
				continue
			}
			s, err := jsToString(e)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		}
		return b.String(), nil
	}
	if s, ok := jsString(v); ok {
		return s, nil
	}
	return "", fmt.Errorf(reasonUnsupportedGo, v)
}

// jsString is JavaScript's String(v) for strings and numbers: float64,
// float32, json.Number and Go integers, numbers printed as ECMAScript's
// Number::toString prints them (1e21 → "1e+21", 0.1+0.2 →
// "0.30000000000000004", -0 → "0"). It reports false for other types and for
// a json.Number that is not a number.
func jsString(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	f, ok := jsNumberValue(v)
	if !ok {
		return "", false
	}
	return jsNumberString(f), true
}

// jsNumberValue returns the JavaScript number v stands for. Integers round
// to the nearest float64, as JSON.parse rounds them; json.Number parses as
// JSON.parse would (overflow gives ±Infinity); a float32 counts as the
// shortest decimal that encoding/json writes for it.
func jsNumberValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		f, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return f, err == nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uintptr:
		return float64(x), true
	}
	return 0, false
}

// jsNumberString is ECMAScript's Number::toString(f) in radix 10: the
// shortest digits that round-trip, in plain notation for 1e-7 < |f| < 1e21
// and in exponent notation ("1e+21", "1.5e-7") outside it.
func jsNumberString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f == 0:
		return "0" // also -0
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits d1.d2…dk and exponent e, f = 0.d1…dk × 10^n.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	s := digits[:1]
	if k > 1 {
		s += "." + digits[1:]
	}
	if n-1 >= 0 {
		return sign + s + "e+" + strconv.Itoa(n-1)
	}
	return sign + s + "e-" + strconv.Itoa(1-n)
}
