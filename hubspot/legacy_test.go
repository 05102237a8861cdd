package hubspot

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

// apiContact is a contact in the CRM objects API shape, decoded from JSON as
// the client decodes it.
func apiContact(t *testing.T, js string) sync.Item {
	t.Helper()
	var item sync.Item
	require.NoError(t, json.Unmarshal([]byte(js), &item))
	return item
}

func TestLegacyShape(t *testing.T) {
	t.Parallel()
	item := apiContact(t, `{
		"id": "5101",
		"properties": {
			"email": "dana@example.com", "firstname": "Dana", "lastname": null,
			"createdate": "2026-11-02T09:15:00.123Z",
			"lastmodifieddate": "2026-11-03T10:00:00.456Z",
			"hs_object_id": "5101",
			"hs_additional_emails": "d.e@example.org;dana@example.net",
			"hs_merged_object_ids": "4001;4002",
			"note": "2026 plans"
		},
		"createdAt": "2026-11-02T09:15:00.123Z",
		"updatedAt": "2026-11-03T10:00:00.456Z",
		"archived": false
	}`)
	got := LegacyShape(item)

	tests := []struct {
		path string
		want any
	}{
		{"vid", int64(5101)},
		{"canonical-vid", int64(5101)},
		{"is-contact", true},
		{"addedAt", int64(1793610900123)},
		{"properties.firstname.value", "Dana"},
		{"properties.email.value", "dana@example.com"},
		{"properties.lastmodifieddate.value", "1793700000456"},
		{"properties.createdate.value", "1793610900123"},
		{"properties.note.value", "2026 plans"},
		{"identity-profiles[0].identities[0].value", "dana@example.com"},
		{"identity-profiles[0].identities[0].type", "EMAIL"},
		{"identity-profiles[0].identities[0].is-primary", true},
		{"identity-profiles[0].identities[1].value", "d.e@example.org"},
		{"identity-profiles[0].identities[2].value", "dana@example.net"},
		{"identity-profiles[0].vid", int64(5101)},
		{"merged-vids[1]", int64(4002)},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, lookup(t, got, tt.path))
		})
	}
	props := got["properties"].(map[string]any)
	assert.NotContains(t, props, "lastname", "null properties are left out, as v1 does")
	assert.NotContains(t, got, "archived")
}

func TestLegacyShape_edgeCases(t *testing.T) {
	t.Parallel()
	t.Run("no email gives no identities", func(t *testing.T) {
		t.Parallel()
		got := LegacyShape(apiContact(t, `{"id":"7","properties":{"firstname":"X"}}`))
		ids := lookup(t, got, "identity-profiles[0].identities")
		assert.Empty(t, ids)
	})
	t.Run("an item already in v1 shape is returned as is", func(t *testing.T) {
		t.Parallel()
		v1 := sync.Item{"vid": int64(1), "properties": map[string]any{}}
		assert.Equal(t, v1, LegacyShape(v1))
	})
	t.Run("nil stays nil", func(t *testing.T) {
		t.Parallel()
		assert.Nil(t, LegacyShape(nil))
	})
	t.Run("archived is kept", func(t *testing.T) {
		t.Parallel()
		got := LegacyShape(apiContact(t, `{"id":"7","archived":true,"properties":{}}`))
		assert.Equal(t, true, got["archived"])
	})
}

// pathToken is one step of a test path: a key or an [n] index.
var pathToken = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// lookup follows a dotted path with [n] indexes through decoded JSON; a
// test helper, deliberately simpler than the keypath package.
func lookup(t *testing.T, v any, path string) any {
	t.Helper()
	cur := v
	for _, tok := range pathToken.FindAllString(path, -1) {
		if n, ok := strings.CutPrefix(tok, "["); ok {
			i, err := strconv.Atoi(strings.TrimSuffix(n, "]"))
			require.NoError(t, err)
			list, ok := cur.([]any)
			require.True(t, ok, "path %s: %T is not a list", path, cur)
			require.Less(t, i, len(list), "path %s", path)
			cur = list[i]
			continue
		}
		m, ok := cur.(map[string]any)
		require.True(t, ok, "path %s: %T is not an object", path, cur)
		cur = m[tok]
	}
	return cur
}

func TestWriteProperties(t *testing.T) {
	t.Parallel()
	want := map[string]string{"email": "dana@example.com", "firstname": "Dana"}
	tests := []struct {
		name string
		item string
		want map[string]string
	}{
		{"current shape", `{"properties":{"email":"dana@example.com","firstname":"Dana"}}`, want},
		{"v1 objects with value",
			`{"properties":{"email":{"value":"dana@example.com"},"firstname":{"value":"Dana"}}}`,
			want},
		{"v1 property array",
			`{"properties":[{"property":"email","value":"dana@example.com"},
				{"property":"firstname","value":"Dana"}]}`, want},
		{"v1 name array",
			`{"properties":[{"name":"email","value":"dana@example.com"},
				{"name":"firstname","value":"Dana"}]}`, want},
		{"scalars become strings",
			`{"properties":{"n":42,"f":1.5,"b":true,"big":12345678901234,"clear":null}}`,
			map[string]string{"n": "42", "f": "1.5", "b": "true", "big": "12345678901234",
				"clear": ""}},
		{"read-only properties are dropped",
			`{"properties":{"email":"dana@example.com","firstname":"Dana",
				"hs_object_id":"5","lastmodifieddate":"x","createdate":"y"}}`, want},
		{"a legacy record read from HubSpot can be written back",
			`{"vid":5,"properties":{"email":{"value":"dana@example.com"},
				"firstname":{"value":"Dana"},"lastmodifieddate":{"value":"1793700000456"}}}`,
			want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := WriteProperties(apiContact(t, tt.item))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWriteProperties_invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item sync.Item
	}{
		{"no properties", sync.Item{"email": "dana@example.com"}},
		{"properties is a string", sync.Item{"properties": "x"}},
		{"nested object value", sync.Item{"properties": map[string]any{
			"address": map[string]any{"city": "Bonn"}}}},
		{"array value", sync.Item{"properties": map[string]any{"tags": []any{"a"}}}},
		{"array entry without a name", sync.Item{"properties": []any{
			map[string]any{"value": "x"}}}},
		{"array entry not an object", sync.Item{"properties": []any{"x"}}},
		{"NaN", sync.Item{"properties": map[string]any{"n": math.NaN()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := WriteProperties(tt.item)
			assert.ErrorIs(t, err, sync.ErrInvalid)
		})
	}
}

func TestWriteProperties_numbers(t *testing.T) {
	t.Parallel()
	// Numbers go out in plain decimal, never with an exponent (unlike
	// JavaScript's String, which gives "1e+21" and "1e-7").
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"int", 7, "7"},
		{"int64", int64(-3), "-3"},
		{"uint8", uint8(9), "9"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"float64", 1.5, "1.5"},
		{"float64 integral", float64(42), "42"},
		{"float64 1e21", 1e21, "1000000000000000000000"},
		{"float64 tiny", 1e-7, "0.0000001"},
		{"float64 negative", -2.25e-3, "-0.00225"},
		{"float32 keeps its own precision", float32(0.1), "0.1"},
		{"json.Number plain", json.Number("12.50"), "12.50"},
		{"json.Number big integer exactly", json.Number("123456789012345678901234567890"),
			"123456789012345678901234567890"},
		{"json.Number exponent", json.Number("1e3"), "1000"},
		{"json.Number exponent with fraction", json.Number("1.5E+3"), "1500"},
		{"json.Number negative exponent", json.Number("-25e-4"), "-0.0025"},
		{"json.Number fraction beyond float64", json.Number("1.234567890123456789e2"),
			"123.4567890123456789"},
		{"json.Number zero with exponent", json.Number("-0.0e5"), "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := WriteProperties(sync.Item{"properties": map[string]any{"n": tt.v}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got["n"])
		})
	}
}

func TestWriteProperties_invalidNumbers(t *testing.T) {
	t.Parallel()
	for _, v := range []any{json.Number("1e"), json.Number("abc"), json.Number(" 1"),
		json.Number("1e99999"), float32(math.Inf(1)), math.Inf(-1)} {
		_, err := WriteProperties(sync.Item{"properties": map[string]any{"n": v}})
		assert.ErrorIs(t, err, sync.ErrInvalid, "%#v", v)
	}
}
