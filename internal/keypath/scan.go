package keypath

import "strings"

// IsDeep reports whether lodash's reIsDeepProp,
// /\.|\[(?:[^[\]]*|(["'])(?:(?!\1)[^\\]|\\.)*?\1)\]/, matches s: whether s
// contains a '.' or a '[' whose next bracket character is a ']'.
//
// The quoted alternative of the expression never changes the answer: a quoted
// match from '[' to ']' contains a last '[' whose next bracket is that ']', so
// the unquoted alternative matches there too.
func IsDeep(s string) bool {
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			return true
		case '[':
			open = true
		case ']':
			if open {
				return true
			}
		}
	}
	return false
}

// Scanner yields the keys lodash's stringToPath produces for one path, one
// at a time and without allocating for unquoted keys. The zero Scanner yields
// nothing; use [NewScanner].
type Scanner struct {
	s    string
	pos  int  // the regular expression's lastIndex
	lead bool // a leading '.' still owes its empty key
	done bool

	// bad[i] marks, for quote character i (0 for '"', 1 for '\''), token
	// boundaries from which a quoted key is known not to close. It keeps
	// repeated failing scans of one unbalanced quote linear overall.
	bad [2][]uint64
}

// NewScanner returns a Scanner over path s.
func NewScanner(s string) Scanner {
	return Scanner{s: s, lead: len(s) > 0 && s[0] == '.'}
}

// Next returns the next key. When quoted is true, key is the body of a
// quoted bracket and may still contain escaping backslashes; pass it through
// [Unescape]. ok is false once the path is exhausted.
func (sc *Scanner) Next() (key string, quoted, ok bool) {
	if sc.lead {
		sc.lead = false
		return "", false, true
	}
	if sc.done {
		return "", false, false
	}
	s := sc.s
	for q := sc.pos; q <= len(s); q++ {
		if q < len(s) && !isSpecial(s[q]) {
			e := q + 1
			for e < len(s) && !isSpecial(s[e]) {
				e++
			}
			sc.pos = e
			return s[q:e], false, true
		}
		if q < len(s) && s[q] == '[' {
			if e, ok := matchNumber(s, q+1); ok {
				sc.pos = e + 1
				return s[q+1 : e], false, true
			}
			if e, ok := sc.matchQuoted(q + 1); ok {
				sc.pos = e + 2
				return s[q+2 : e], true, true
			}
		}
		if emptyAt(s, q) {
			sc.pos = q + 1
			return "", false, true
		}
	}
	sc.done = true
	return "", false, false
}

func isSpecial(c byte) bool {
	return c == '.' || c == '[' || c == ']'
}

// matchNumber matches -?\d+(?:\.\d+)?\] at i and returns the index of the
// closing ']'.
func matchNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := digits(s, i)
	if d == i {
		return 0, false
	}
	i = d
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i = digits(s, i+1)
	}
	if i < len(s) && s[i] == ']' {
		return i, true
	}
	return 0, false
}

func digits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// matchQuoted matches (["'])((?:(?!\1)[^\\]|\\.)*?)\1\] at i and returns the
// index of the closing quote. The expression is deterministic: only the
// closing quote can end the body, and it must be followed by ']'.
func (sc *Scanner) matchQuoted(i int) (int, bool) {
	s := sc.s
	if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
		return 0, false
	}
	qi := 0
	if s[i] == '\'' {
		qi = 1
	}
	bad := sc.bad[qi]
	stop, ok := scanQuoted(s, i, bad)
	if ok {
		return stop, true
	}
	// Mark every boundary this scan visited, so that a later scan for the
	// same quote fails as soon as it joins this one's path.
	if bad == nil {
		bad = make([]uint64, len(s)/64+1)
		sc.bad[qi] = bad
	}
	for j := i + 1; ; {
		bad[j>>6] |= 1 << (j & 63)
		if j >= stop {
			break
		}
		if s[j] == '\\' {
			j += 2
		} else {
			j++
		}
	}
	return 0, false
}

// scanQuoted scans the quoted body opened by the quote at i. It returns the
// index of the closing quote, or on failure the token boundary where the scan
// stopped. Boundaries marked in bad are known to fail.
func scanQuoted(s string, i int, bad []uint64) (int, bool) {
	qc := s[i]
	for j := i + 1; ; {
		if j >= len(s) || (bad != nil && bad[j>>6]&(1<<(j&63)) != 0) {
			return j, false
		}
		switch s[j] {
		case qc:
			return j, j+1 < len(s) && s[j+1] == ']'
		case '\\':
			if j+1 >= len(s) || IsLineTerminator(s, j+1) {
				return j, false
			}
			j += 2
		default:
			j++
		}
	}
}

// IsLineTerminator reports whether s[i:] starts with a character that
// JavaScript's '.' does not match: \n, \r, U+2028 or U+2029.
func IsLineTerminator(s string, i int) bool {
	switch s[i] {
	case '\n', '\r':
		return true
	case 0xE2:
		rest := s[i:]
		return strings.HasPrefix(rest, "\u2028") || strings.HasPrefix(rest, "\u2029")
	}
	return false
}

// emptyAt matches (?=(?:\.|\[\])(?:\.|\[\]|$)) at q.
func emptyAt(s string, q int) bool {
	var r int
	switch {
	case q < len(s) && s[q] == '.':
		r = q + 1
	case strings.HasPrefix(s[q:], "[]"):
		r = q + 2
	default:
		return false
	}
	return r == len(s) || s[r] == '.' || strings.HasPrefix(s[r:], "[]")
}

// Unescape applies lodash's reEscapeChar replacement to a quoted key: each
// backslash is dropped, and a doubled backslash becomes one.
func Unescape(key string) string {
	if strings.IndexByte(key, '\\') < 0 {
		return key
	}
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '\\' {
			b.WriteByte(key[i])
			continue
		}
		if i+1 < len(key) && key[i+1] == '\\' {
			b.WriteByte('\\')
			i++
		}
	}
	return b.String()
}

// Split returns every key lodash's stringToPath produces for s, unescaped.
func Split(s string) []string {
	keys := []string{}
	sc := NewScanner(s)
	for {
		k, quoted, ok := sc.Next()
		if !ok {
			return keys
		}
		if quoted {
			k = Unescape(k)
		}
		keys = append(keys, k)
	}
}
