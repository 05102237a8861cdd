// Package jsonnum turns the integer values a decoded JSON record may hold
// into exact decimal text. Records reach keysync decoded with float64 or
// json.Number, or built by hand with any Go integer kind; IDs and keys must
// keep every digit whichever form they arrive in.
package jsonnum

import (
	"encoding/json"
	"strconv"
	"strings"
)

// IntegerText returns v in decimal when it is a Go integer of any kind or a
// json.Number that holds a decimal integer (canonical: no leading zeros or
// plus sign, "-0" as "0"). It reports false for everything else, floats
// included.
func IntegerText(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uintptr:
		return strconv.FormatUint(uint64(x), 10), true
	case json.Number:
		return Canonical(string(x))
	}
	return "", false
}

// Canonical returns s in canonical form ("-12", "0") when it is a decimal
// integer: an optional minus sign and digits only, of any length.
func Canonical(s string) (string, bool) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return "", false
	}
	digits = strings.TrimLeft(digits, "0")
	switch {
	case digits == "":
		return "0", true
	case neg:
		return "-" + digits, true
	}
	return digits, true
}
