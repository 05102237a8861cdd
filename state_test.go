package sync_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/state/statetest"
)

func TestFieldPaths_Set(t *testing.T) {
	t.Parallel()
	fs, err := keysync.FieldPaths(map[string]string{
		"phone": "properties.phone", "email": "properties.email",
		"work": "email[1].value", "city": "address.home.city",
	})
	require.NoError(t, err)
	existing := keysync.Item{"id": "1",
		"properties": map[string]any{"email": "x@y", "phone": "1", "firstname": "Dana"},
		"email": []any{
			map[string]any{"value": "home@x", "primary": true},
			map[string]any{"value": "work@x", "label": "work"},
		},
		"address": map[string]any{"home": map[string]any{"city": "Paris", "zip": "75001"},
			"work": map[string]any{"city": "Lyon"}},
	}
	tests := []struct {
		name   string
		fields map[string]string
		want   keysync.Item
	}{
		{"an object path sends only that property", map[string]string{"phone": "2"},
			keysync.Item{"properties": map[string]any{"phone": "2"}}},
		{"two paths in one object", map[string]string{"phone": "2", "email": "z@y"},
			keysync.Item{"properties": map[string]any{"phone": "2", "email": "z@y"}}},
		{"nested objects stay sparse", map[string]string{"city": "Nice"},
			keysync.Item{"address": map[string]any{"home": map[string]any{"city": "Nice"}}}},
		{"an array is copied whole", map[string]string{"work": "new@x"},
			keysync.Item{"email": []any{
				map[string]any{"value": "home@x", "primary": true},
				map[string]any{"value": "new@x", "label": "work"},
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, fs.Set(tt.fields, existing))
		})
	}
	t.Run("the existing record is not modified", func(t *testing.T) {
		t.Parallel()
		w := fs.Set(map[string]string{"work": "new@x"}, existing)
		w["email"].([]any)[0].(map[string]any)["value"] = "changed"
		assert.Equal(t, "home@x", existing["email"].([]any)[0].(map[string]any)["value"])
	})
	t.Run("a create builds the shape", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, keysync.Item{
			"properties": map[string]any{"phone": "2"},
			"email":      []any{nil, map[string]any{"value": "w@x"}},
		}, fs.Set(map[string]string{"phone": "2", "work": "w@x"}, nil))
	})
}

func TestStateStore_ZeroValue(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(t *testing.T) keysync.StateStore { return &memory.StateStore{} })
}
