package sync

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/keysync/sync/internal/jsonnum"
)

// KeysFunc returns the match key values of a record: the values that,
// turned into text and normalized, identify the record in both systems.
// Most records have one key, such as an email address; a record may have
// several, such as every email of a Pipedrive person, and two records match
// when they share any key.
//
// The orchestrators turn each value into key text strictly: a string as it
// is, a Go integer (int64, uint64 and the other integer kinds) and an
// integral [json.Number] such as "9007199254740993" with every digit, any
// other number as JavaScript prints it (42, 1.5, 1e+21). Bools, arrays,
// objects and nil are no usable key, and neither is a string that is empty
// after normalization. A KeysFunc must not modify the item and may be called
// concurrently.
type KeysFunc func(item Item) []any

// MustKeysAt is like [KeysAt] but panics when a path is invalid. It is meant
// for constant paths, written inline in an options literal.
func MustKeysAt(paths ...string) KeysFunc {
	f, err := KeysAt(paths...)
	if err != nil {
		panic(err)
	}
	return f
}

// MustEachKey is like [EachKey] but panics when a path is invalid. It is
// meant for constant paths, written inline in an options literal:
//
//	opts := sync.Options{SourceKeys: sync.MustEachKey("emails", "value"), …}
func MustEachKey(arrayPath, elemPath string) KeysFunc {
	f, err := EachKey(arrayPath, elemPath)
	if err != nil {
		panic(err)
	}
	return f
}

// KeysAt returns a [KeysFunc] that yields the value at each of the key paths,
// in order, skipping paths with no value: KeysAt("email", "work_email")
// gives a record up to two keys. Each path is checked with [ParseKeyPath].
func KeysAt(paths ...string) (KeysFunc, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("sync: KeysAt needs at least one key path")
	}
	kps := make([]KeyPath, len(paths))
	for i, p := range paths {
		kp, err := ParseKeyPath(p)
		if err != nil {
			return nil, err
		}
		kps[i] = kp
	}
	return func(item Item) []any {
		var vs []any
		for _, kp := range kps {
			if v, ok := kp.Lookup(item); ok {
				vs = append(vs, v)
			}
		}
		return vs
	}, nil
}

// EachKey returns a [KeysFunc] that yields, for each element of the array at
// arrayPath, the value at elemPath inside that element, or the element
// itself when elemPath is empty. EachKey("emails", "value") gives a Pipedrive
// person one key per email:
//
//	{"emails": [{"value": "dana@example.com"}, {"value": "d@example.org"}]}
//
// A record whose value at arrayPath is missing or not an array has no key.
// Both paths are checked with [ParseKeyPath].
func EachKey(arrayPath, elemPath string) (KeysFunc, error) {
	arr, err := ParseKeyPath(arrayPath)
	if err != nil {
		return nil, err
	}
	var elem *KeyPath
	if elemPath != "" {
		kp, err := ParseKeyPath(elemPath)
		if err != nil {
			return nil, err
		}
		elem = &kp
	}
	return func(item Item) []any {
		v, ok := arr.Lookup(item)
		if !ok {
			return nil
		}
		elems, ok := asSlice(v)
		if !ok {
			return nil
		}
		vs := make([]any, 0, len(elems))
		for _, e := range elems {
			if elem == nil {
				vs = append(vs, e)
			} else if ev, ok := elem.Lookup(e); ok {
				vs = append(vs, ev)
			}
		}
		return vs
	}, nil
}

// Strings returns the usable keys of item as the orchestrators match them:
// each value turned into text (see [KeysFunc]), normalized with normalize
// when it is not nil, without empty strings and duplicates, in order.
// Connectors that implement [KeySearcher] can use it to match keys exactly
// as [OneWay] does.
func (f KeysFunc) Strings(item Item, normalize Normalizer) []string {
	keys, _ := keysOf(f(item), normalize, nil)
	return keys
}

// Normalizer turns a key into its canonical form before keys are compared,
// for example by case-folding email addresses. The orchestrators apply it
// identically to the keys of both sides. It must be a pure function and may
// be called concurrently.
type Normalizer func(string) string

// NormalizeEmail trims leading and trailing white space (Unicode spaces such
// as U+00A0 included, and the zero-width space and byte order mark that
// copying from web pages leaves behind) and lower-cases the rest with
// [strings.ToLower].
//
// Use it whenever an email address is the key. HubSpot stores emails
// lower-cased, so an exact, case-sensitive match would miss every contact
// whose address was typed with capitals elsewhere, and a sync would try to
// create such contacts again on every run.
func NormalizeEmail(s string) string {
	return strings.ToLower(NormalizeTrim(s))
}

// NormalizeTrim trims leading and trailing white space like [NormalizeEmail]
// and leaves the case alone.
func NormalizeTrim(s string) string {
	return strings.TrimFunc(s, isTrimSpace)
}

func isTrimSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

// keyString returns the key text of a value: strings as they are, integers
// exactly (see [exactText]), other numbers as JavaScript prints them, and
// false for everything else.
func keyString(v any) (string, bool) {
	switch v.(type) {
	case nil, bool, map[string]any, []any:
		return "", false
	}
	return exactText(v)
}

// exactText is jsString, except that Go integers and integral json.Numbers
// keep every digit: JavaScript would round 9007199254740993 to
// 9007199254740992, making two distinct IDs one key. Merge keeps the
// JavaScript text; keys and comparisons must not.
func exactText(v any) (string, bool) {
	if s, ok := jsonnum.IntegerText(v); ok {
		return s, true
	}
	return jsString(v)
}

// keysOf turns key values into normalized, distinct, non-empty key strings,
// appending to dst. When it finds none, problem describes why, for reports.
func keysOf(vs []any, normalize Normalizer, dst []string) (keys []string, problem string) {
	keys = dst
	start := len(dst)
	for _, v := range vs {
		s, ok := keyString(v)
		if !ok {
			if problem == "" {
				problem = fmt.Sprintf("key is %s, not a string or number", kindOf(v))
			}
			continue
		}
		if normalize != nil {
			s = normalize(s)
		}
		if s == "" {
			if problem == "" {
				problem = "key is empty"
			}
			continue
		}
		if !slices.Contains(keys[start:], s) {
			keys = append(keys, s)
		}
	}
	if len(keys) > start {
		return keys, ""
	}
	if problem == "" {
		problem = "no key value"
	}
	return keys, problem
}

// kindOf names the JSON kind of v for messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// asSlice returns v's elements when v is a slice or array of any element
// type ([]any from decoded JSON, or []string, []Item from Go code).
func asSlice(v any) ([]any, bool) {
	switch s := v.(type) {
	case []any:
		return s, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	if rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false // []byte is a binary string, not a list
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asMap returns v as a map[string]any when it is one or another map with
// string keys.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// keyer computes the normalized keys of one side's records.
type keyer struct {
	path      *KeyPath // the key path, when the key was given as one
	keys      KeysFunc // the key function otherwise
	name      string   // how the user gave the key, for messages: a path or a field name
	normalize Normalizer
}

// newKeyer builds a keyer from a key path or a key function, exactly one of
// which must be set; field names the option for messages.
func newKeyer(path string, keys KeysFunc, field string, normalize Normalizer) (keyer, error) {
	switch {
	case path != "" && keys != nil:
		return keyer{}, optionsError(field, "set the key path or the key function, not both", nil)
	case keys != nil:
		return keyer{keys: keys, name: field + "s", normalize: normalize}, nil
	case path == "":
		return keyer{}, optionsError(field, "a key path or key function is required", nil)
	}
	kp, err := ParseKeyPath(path)
	if err != nil {
		return keyer{}, optionsError(field, fmt.Sprintf("invalid key path %q", path), err)
	}
	return keyer{path: &kp, name: fmt.Sprintf("%q", path), normalize: normalize}, nil
}

// appendKeys appends the keys of item to dst; problem says why there are none.
func (k keyer) appendKeys(dst []string, item Item) ([]string, string) {
	if k.path == nil {
		return keysOf(k.keys(item), k.normalize, dst)
	}
	v, ok := k.path.Lookup(item)
	if !ok {
		return dst, "no value at " + k.name
	}
	var one [1]any
	one[0] = v
	keys, problem := keysOf(one[:], k.normalize, dst)
	if problem != "" {
		problem += " at " + k.name
	}
	return keys, problem
}
