package keypath

import (
	"unicode"
	"unicode/utf8"
)

// Error describes why [Parse] rejected a path.
type Error struct {
	Offset int    // byte offset of the offending character
	Reason string // what is wrong, in lower case
}

// state is what the strict parser has just read.
type state int

const (
	atStart state = iota
	afterDot
	afterKey
	afterBracket
)

// Parse checks s against the strict key-path grammar and returns its keys.
//
// A path is a sequence of keys. A bare key is a run of characters other than
// '.', '[', ']' and quotes, without leading or trailing white space. Keys are
// joined by '.', or written in brackets: a canonical array index such as [0],
// a quoted key such as ['a.b'] or ["x"] (escapes \\, \' and \" only), or a
// bare key such as [email]. A bracket may be followed directly by a bare key,
// as lodash allows.
//
// Parse rejects the empty path, a leading, doubled or trailing '.', empty or
// unbalanced brackets, unterminated quotes, and bracket contents lodash would
// read differently from how they look: [b.c] (lodash splits it), [-1], [01]
// and [1.5] (lodash looks up those literal keys, which no array has). For
// every path it accepts, the keys equal those of [Split] (or s itself when
// [IsDeep] is false), so lodash reads the path as Parse does.
func Parse(s string) ([]string, *Error) {
	if s == "" {
		return nil, &Error{0, "empty path"}
	}
	var keys []string
	st := atStart
	for i := 0; i < len(s); {
		var key string
		var err *Error
		switch c := s[i]; {
		case c == '.':
			if err := checkDot(s, i, st); err != nil {
				return nil, err
			}
			st = afterDot
			i++
			continue
		case c == ']':
			return nil, &Error{i, "unmatched ']'"}
		case c == '[' && st == afterDot:
			return nil, &Error{i, "'[' after '.'; write a[0], not a.[0]"}
		case c == '[':
			key, i, err = parseBracket(s, i)
			st = afterBracket
		default:
			key, i, err = parseBare(s, i)
			st = afterKey
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if st == afterDot {
		return nil, &Error{len(s) - 1, "trailing '.'"}
	}
	return keys, nil
}

func checkDot(s string, i int, st state) *Error {
	switch st {
	case atStart:
		return &Error{i, "leading '.' (lodash would look up an empty key)"}
	case afterDot:
		return &Error{i, "empty key between '.' and '.'"}
	}
	return nil
}

// parseBare reads a bare key starting at i and returns it with the index
// after it.
func parseBare(s string, i int) (string, int, *Error) {
	e := i
	for e < len(s) && !isSpecial(s[e]) {
		if s[e] == '"' || s[e] == '\'' {
			return "", 0, &Error{e, "quote in a bare key; write ['...'] to quote a key"}
		}
		e++
	}
	if err := checkSpace(s, i, e); err != nil {
		return "", 0, err
	}
	return s[i:e], e, nil
}

// checkSpace rejects white space at either end of s[i:e].
func checkSpace(s string, i, e int) *Error {
	if r, _ := utf8.DecodeRuneInString(s[i:e]); unicode.IsSpace(r) {
		return &Error{i, "leading white space in key; quote the key if it is meant"}
	}
	if r, size := utf8.DecodeLastRuneInString(s[i:e]); unicode.IsSpace(r) {
		return &Error{e - size, "trailing white space in key; quote the key if it is meant"}
	}
	return nil
}

// parseBracket reads the bracket opened at i and returns its key with the
// index after the closing ']'.
func parseBracket(s string, i int) (string, int, *Error) {
	switch {
	case i+1 == len(s):
		return "", 0, &Error{i, "unclosed '['"}
	case s[i+1] == ']':
		return "", 0, &Error{i, "empty brackets"}
	case s[i+1] == '"' || s[i+1] == '\'':
		return parseQuoted(s, i+1)
	}
	e := i + 1
	for e < len(s) && s[e] != '[' && s[e] != ']' {
		e++
	}
	switch {
	case e == len(s):
		return "", 0, &Error{i, "unclosed '['"}
	case s[e] == '[':
		return "", 0, &Error{e, "'[' inside brackets; quote the key"}
	}
	if end, ok := matchNumber(s, i+1); ok {
		return s[i+1 : end], end + 1, checkIndex(s, i+1, end)
	}
	for j := i + 1; j < e; j++ {
		switch s[j] {
		case '.':
			return "", 0, &Error{j, "'.' inside unquoted brackets splits the key; " +
				"write ['...'] to quote it"}
		case '"', '\'':
			return "", 0, &Error{j, "quote inside unquoted brackets"}
		}
	}
	if err := checkSpace(s, i+1, e); err != nil {
		return "", 0, err
	}
	return s[i+1 : e], e + 1, nil
}

// checkIndex rejects numbers in s[i:e] (matching -?\d+(\.\d+)?) that are not
// canonical array indexes: lodash would look them up as literal keys.
func checkIndex(s string, i, e int) *Error {
	n := s[i:e]
	switch {
	case n[0] == '-':
		return &Error{i, "negative index; lodash looks up the literal key, " +
			"write ['" + n + "'] if that is meant"}
	case digits(n, 0) != len(n):
		return &Error{i, "fractional index; write ['" + n + "'] for that key"}
	case len(n) > 1 && n[0] == '0':
		return &Error{i, "index with a leading zero; write ['" + n + "'] for that key"}
	}
	return nil
}

// parseQuoted reads the quoted key whose opening quote is at q and returns
// it unescaped, with the index after the closing ']'.
func parseQuoted(s string, q int) (string, int, *Error) {
	qc := s[q]
	for j := q + 1; j < len(s); j++ {
		switch s[j] {
		case qc:
			if j+1 < len(s) && s[j+1] == ']' {
				return Unescape(s[q+1 : j]), j + 2, nil
			}
			return "", 0, &Error{j + 1, "expected ']' after the closing quote"}
		case '\\':
			if j+1 == len(s) {
				return "", 0, &Error{q, "unterminated quote"}
			}
			switch s[j+1] {
			case '\\', '"', '\'':
			default:
				return "", 0, &Error{j, "unsupported escape; only \\\\, \\' and \\\" " +
					"are allowed (lodash drops any other backslash)"}
			}
			j++
		}
	}
	return "", 0, &Error{q, "unterminated quote"}
}
