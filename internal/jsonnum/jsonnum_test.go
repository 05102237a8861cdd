package jsonnum

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIntegerText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     any
		want   string
		wantOK bool
	}{
		{"int", -42, "-42", true},
		{"int8", int8(-8), "-8", true},
		{"int16", int16(16), "16", true},
		{"int32", int32(1 << 30), "1073741824", true},
		{"int64 beyond float precision", int64(9007199254740993), "9007199254740993", true},
		{"uint", uint(7), "7", true},
		{"uint8", uint8(255), "255", true},
		{"uint16", uint16(65535), "65535", true},
		{"uint32", uint32(math.MaxUint32), "4294967295", true},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615", true},
		{"uintptr", uintptr(3), "3", true},
		{"json.Number integer", json.Number("9007199254740993"), "9007199254740993", true},
		{"json.Number leading zeros", json.Number("-007"), "-7", true},
		{"json.Number minus zero", json.Number("-0"), "0", true},
		{"json.Number fraction", json.Number("1.5"), "", false},
		{"json.Number exponent", json.Number("1e3"), "", false},
		{"float64", 3.0, "", false},
		{"string", "12", "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := IntegerText(tt.in)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"0": "0", "000": "0", "12": "12", "-012": "-12"} {
		got, ok := Canonical(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-", "+1", "1.0", "1e2", " 1", "0x10"} {
		_, ok := Canonical(in)
		assert.False(t, ok, "%q is not a decimal integer", in)
	}
}
