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

func TestWriteProperties_goIntegers(t *testing.T) {
	t.Parallel()
	got, err := WriteProperties(sync.Item{"properties": map[string]any{
		"a": 7, "b": int64(-3), "c": uint8(9), "d": json.Number("1e3"),
	}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "7", "b": "-3", "c": "9", "d": "1e3"}, got)
}
