package keypath

import (
	"encoding/json"
	"reflect"
	"unicode/utf8"
)

// Prop returns v[key] with JavaScript property-access semantics for decoded
// JSON, and false where JavaScript yields undefined:
//
//   - map[string]any (and any map with string keys): the entry, if present;
//     prototype properties such as "toString" are not found.
//   - []any (and any slice or array): "length" as an int, and the element at
//     a canonical index ("0", "12"; not "00", "-1", "+1", "1.0", " 1").
//   - string (and any string kind except json.Number): "length" in UTF-16 code
//     units as an int, and the code unit at a canonical index as a string.
//   - numbers, json.Number, bools, nil and every other type: nothing.
//
// A string index that lands on half of a surrogate pair, or on a byte of
// invalid UTF-8, yields "\uFFFD": Go strings cannot hold a lone surrogate, and
// that is what encoding/json makes of one.
func Prop(v any, key string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		val, ok := x[key]
		return val, ok
	case []any:
		if key == "length" {
			return len(x), true
		}
		if i, ok := Index(key, len(x)); ok {
			return x[i], true
		}
		return nil, false
	case string:
		return stringProp(x, key)
	case nil, json.Number, bool, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, uintptr:
		return nil, false
	case []map[string]any:
		if key == "length" {
			return len(x), true
		}
		if i, ok := Index(key, len(x)); ok {
			return x[i], true
		}
		return nil, false
	}
	return reflectProp(reflect.ValueOf(v), key)
}

func reflectProp(rv reflect.Value, key string) (any, bool) {
	switch rv.Kind() {
	case reflect.Map:
		return mapIndex(rv, key)
	case reflect.Slice, reflect.Array:
		if key == "length" {
			return rv.Len(), true
		}
		if i, ok := Index(key, rv.Len()); ok {
			return rv.Index(i).Interface(), true
		}
	case reflect.String:
		return stringProp(rv.String(), key)
	}
	return nil, false
}

func mapIndex(rv reflect.Value, key string) (any, bool) {
	kt := rv.Type().Key()
	if kt.Kind() != reflect.String {
		return nil, false
	}
	mv := rv.MapIndex(reflect.ValueOf(key).Convert(kt))
	if !mv.IsValid() {
		return nil, false
	}
	return mv.Interface(), true
}

// OwnKey reports whether v is an object with key as an own property, and
// returns its value. It is the part of lodash's isKey test (`key in
// Object(v)`) that can matter for a path with '.' or brackets: array and
// string properties and prototype properties never contain those characters.
func OwnKey(v any, key string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		val, ok := x[key]
		return val, ok
	case nil, []any, string, json.Number, bool, float64, int, int64, []map[string]any:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map {
		return nil, false
	}
	return mapIndex(rv, key)
}

// Index parses key as a canonical array index below n: decimal digits without
// a leading zero (except "0" itself), as JavaScript requires of an array index
// property name.
func Index(key string, n int) (int, bool) {
	if key == "" || len(key) > 1 && key[0] == '0' {
		return 0, false
	}
	i := 0
	for j := 0; j < len(key); j++ {
		c := key[j]
		if !isDigit(c) {
			return 0, false
		}
		i = i*10 + int(c-'0')
		if i >= n {
			return 0, false
		}
	}
	return i, true
}

func stringProp(s, key string) (any, bool) {
	if key == "length" {
		return utf16Len(s), true
	}
	// A string of n bytes has at most n UTF-16 code units.
	i, ok := Index(key, len(s))
	if !ok {
		return nil, false
	}
	return utf16At(s, i)
}

// utf16Len returns the length of s in UTF-16 code units, counting each byte
// of invalid UTF-8 as one U+FFFD.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n++
		if r >= 0x10000 {
			n++
		}
		i += size
	}
	return n
}

// utf16At returns the UTF-16 code unit at index i of s as a string.
func utf16At(s string, i int) (any, bool) {
	u := 0
	for j := 0; j < len(s); {
		if c := s[j]; c < utf8.RuneSelf {
			if u == i {
				return s[j : j+1], true
			}
			u++
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		width := 1
		if r >= 0x10000 {
			width = 2
		}
		if i < u+width {
			if width == 2 || r == utf8.RuneError && size == 1 {
				return "\uFFFD", true
			}
			return s[j : j+size], true
		}
		u += width
		j += size
	}
	return nil, false
}
