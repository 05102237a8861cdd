package sync

import (
	"fmt"

	"github.com/keysync/sync/internal/keypath"
)

// Lookup returns the value at path inside v, exactly as lodash 4.17's
// _.get(v, path) does for decoded JSON, which is how n8n resolves key paths.
// It reports false where lodash returns undefined.
//
// v may hold strings, float64, json.Number, Go integer kinds, bools, nil,
// []any and map[string]any ([Item]) nested to any depth; other maps with
// string keys and other slices behave as objects and arrays.
//
// Like lodash, Lookup first asks whether the whole path is one key: it is
// when it contains no '.' and no bracket pair, or when v is a map with path
// as a key (so "a.b" finds a top-level key "a.b" before trying a → b).
// Otherwise the path splits into keys as lodash's stringToPath splits it:
// "email[0].value", "email.0.value" and `email[0]["value"]` all mean
// email → 0 → value, quoted keys may contain any character ("a['b.c']"),
// and lodash's quirks are kept: "a..b" looks up an empty key between a and b,
// a trailing '.' adds an empty key, and "a[b.c]" means a → b → c. Use
// [ParseKeyPath] to reject such paths in configuration.
//
// Each key is then read with JavaScript's property access: map entries;
// array elements at canonical indexes ("0", "12"; not "00" or "-1") and
// "length"; string characters by UTF-16 index and "length" (counted in UTF-16
// code units, so "😀" has length 2), returned as a string and an int; numbers
// and bools have no properties. A character index that lands on half of a
// surrogate pair yields "\uFFFD", since a Go string cannot hold a lone
// surrogate. A value that is present and null is found: Lookup returns
// (nil, true). An empty list of keys finds nothing, and nil v finds nothing.
//
// The one deliberate difference from lodash: inherited JavaScript properties
// such as "toString", "constructor" or "__proto__" are not found unless the
// map really holds that key, because functions are not JSON data.
//
// Lookup never panics and runs in time linear in len(path) plus the cost of
// the property reads. It allocates only for quoted keys containing
// backslashes, for the bookkeeping of unterminated quotes, and when boxing a
// computed result (a string character or a large length) into an interface.
// It is safe for concurrent use.
func Lookup(v any, path string) (any, bool) {
	return keypath.Get(v, path)
}

// KeyPath is a key path checked by [ParseKeyPath] and split once, ready to
// be looked up in many records.
//
// The zero KeyPath is no path at all: its Lookup finds nothing and its String
// is "". A KeyPath is immutable and safe for concurrent use.
type KeyPath struct {
	raw  string
	keys []string
	// deep reports whether raw has '.' or brackets, so that lodash first
	// checks whether the record holds raw itself as a key.
	deep bool
}

// ParseKeyPath checks path against a strict grammar meant for configuration
// and returns it as a [KeyPath]. It returns a [*KeyPathError] for paths that
// lodash would accept but almost certainly do not say what their author
// meant: the empty path, a leading, doubled or trailing '.', "a.[0]", empty
// or unbalanced brackets, unterminated quotes, escapes other than \\, \' and
// \", quotes or white space at the ends of bare keys, unquoted brackets that
// lodash would split ("a[b.c]"), and indexes no array has ("[-1]", "[01]",
// "[1.5]").
//
// Accepted paths are keys joined by '.' or written in brackets:
// "email[0].value", "properties.email", `a["b.c"]`, "['x y'][0]". For every
// path ParseKeyPath accepts, [KeyPath.Lookup] returns what [Lookup] returns.
func ParseKeyPath(path string) (KeyPath, error) {
	if _, err := keypath.Parse(path); err != nil {
		return KeyPath{}, &KeyPathError{Path: path, Offset: err.Offset, Reason: err.Reason}
	}
	if !keypath.IsDeep(path) {
		return KeyPath{raw: path, keys: []string{path}}, nil
	}
	return KeyPath{raw: path, keys: keypath.Split(path), deep: true}, nil
}

// MustParseKeyPath is like [ParseKeyPath] but panics if path is invalid. It
// is meant for package-level variables holding constant paths.
func MustParseKeyPath(path string) KeyPath {
	p, err := ParseKeyPath(path)
	if err != nil {
		panic(err)
	}
	return p
}

// Lookup returns the value at p inside v with exactly the semantics of the
// package-level [Lookup] for p.String(). It neither parses nor allocates,
// apart from boxing a computed string character or large length.
func (p KeyPath) Lookup(v any) (any, bool) {
	return keypath.Walk(v, p.raw, p.keys, p.deep)
}

// String returns the path as it was written.
func (p KeyPath) String() string {
	return p.raw
}

// MarshalText implements [encoding.TextMarshaler]; it returns p.String().
func (p KeyPath) MarshalText() ([]byte, error) {
	return []byte(p.raw), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseKeyPath],
// so that configuration files can hold key paths.
func (p *KeyPath) UnmarshalText(text []byte) error {
	q, err := ParseKeyPath(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// KeyPathError reports a key path that [ParseKeyPath] rejected.
type KeyPathError struct {
	Path   string // the path as given
	Offset int    // byte offset of the problem in Path
	Reason string // what is wrong
}

// Error returns a message naming the path and the byte offset.
func (e *KeyPathError) Error() string {
	return fmt.Sprintf("sync: key path %q: %s at byte %d", e.Path, e.Reason, e.Offset)
}
