package pipedrive

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
)

func jsonItem(t *testing.T, s string) keysync.Item {
	t.Helper()
	var it keysync.Item
	require.NoError(t, decode([]byte(s), &it))
	return it
}

func TestToLegacy(t *testing.T) {
	t.Parallel()
	v2 := jsonItem(t, `{"id":101,"name":"Dana Example","first_name":"Dana","last_name":"Example",
		"owner_id":7,"org_id":55,"add_time":"2026-11-02T09:15:00Z",
		"update_time":"2026-11-03T10:00:00Z",
		"emails":[{"value":"dana.home@example.com","primary":false,"label":"home"},
		          {"value":"dana@example.com","primary":true,"label":"work"}],
		"phones":[],"is_deleted":false,"visible_to":3,"label_ids":[4],"picture_id":null,
		"custom_fields":{"9f2c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b":"Gold"}}`)
	want := jsonItem(t, `{"id":101,"name":"Dana Example","first_name":"Dana","last_name":"Example",
		"owner_id":{"id":7,"value":7},"org_id":{"id":55,"value":55},
		"add_time":"2026-11-02 09:15:00","update_time":"2026-11-03 10:00:00",
		"email":[{"value":"dana.home@example.com","primary":false,"label":"home"},
		         {"value":"dana@example.com","primary":true,"label":"work"}],
		"phone":[{"value":"","primary":true,"label":""}],
		"primary_email":"dana@example.com","active_flag":true,"visible_to":"3",
		"label_ids":[4],"label":4,"picture_id":null,
		"9f2c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b":"Gold"}`)
	got := ToLegacy(v2)
	assert.Equal(t, want, got)
	assert.Contains(t, v2, "emails", "the input is not modified")
	assert.Nil(t, ToLegacy(nil))

	deleted := ToLegacy(keysync.Item{"is_deleted": true, "org_id": nil})
	assert.Equal(t, false, deleted["active_flag"])
	assert.Nil(t, deleted["org_id"])
}

func TestWriteBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		create bool
		want   string
	}{
		{"v1 n8n shape with read-only fields", `{"id":1,"name":"Ann Lee","first_name":"Ann",
			"last_name":"Lee","email":[{"label":"work","value":"ann@example.com","primary":true}],
			"phone":[{"label":"","value":"","primary":true}],"owner_id":1001,"active_flag":true}`,
			true,
			`{"name":"Ann Lee","emails":[{"label":"work","value":"ann@example.com","primary":true}],
			"phones":[],"owner_id":1001}`},
		{"plain string email", `{"name":"Bo","email":"bo@example.com"}`, true,
			`{"name":"Bo","emails":[{"value":"bo@example.com","primary":true}]}`},
		{"list of strings, first becomes primary", `{"emails":["a@example.com","b@example.com"]}`,
			false, `{"emails":[{"value":"a@example.com","primary":true},
			{"value":"b@example.com"}]}`},
		{"v2 wins over v1", `{"email":"old@example.com","emails":[{"value":"new@example.com",
			"primary":true}]}`, false, `{"emails":[{"value":"new@example.com","primary":true}]}`},
		{"v1 objects and strings", `{"owner_id":{"id":7,"name":"Olive","value":7},
			"org_id":{"name":"Example Co","value":55},"visible_to":"3","label":4,
			"update_time":"2026-11-03 10:00:00","add_time":"2026-11-02 09:15:00",
			"9f2c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b":"Gold",
			"9f2c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b_currency":"EUR",
			"open_deals_count":2,"related_objects":{}}`, true,
			`{"owner_id":7,"org_id":55,"visible_to":3,"label_ids":[4],
			"custom_fields":{"9f2c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b":"Gold"}}`},
		{"add_time only on create and in RFC 3339", `{"add_time":"2026-11-02T09:15:00Z"}`, true,
			`{"add_time":"2026-11-02T09:15:00Z"}`},
		{"add_time dropped on update", `{"add_time":"2026-11-02T09:15:00Z"}`, false, `{}`},
		{"unknown fields are left to Pipedrive", `{"nmae":"typo"}`, false, `{"nmae":"typo"}`},
		{"custom_fields merge with top-level keys", `{"custom_fields":{"a":1},
			"0123456789abcdef0123456789abcdef01234567":null}`, false,
			`{"custom_fields":{"a":1,"0123456789abcdef0123456789abcdef01234567":null}}`},
		{"null email clears", `{"email":null}`, false, `{"emails":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := jsonItem(t, tt.in)
			before, _ := json.Marshal(in)
			got, err := WriteBody(in, tt.create)
			require.NoError(t, err)
			gotJSON, _ := json.Marshal(got)
			assert.JSONEq(t, tt.want, string(gotJSON))
			after, _ := json.Marshal(in)
			assert.JSONEq(t, string(before), string(after), "input not modified")
		})
	}
	_, err := WriteBody(keysync.Item{"email": 5}, true)
	assert.ErrorIs(t, err, keysync.ErrInvalid)
	_, err = WriteBody(keysync.Item{"phones": []any{true}}, true)
	assert.ErrorIs(t, err, keysync.ErrInvalid)
}

func TestPrimaryEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{`{"email":" a@example.com "}`, "a@example.com"},
		{`{"emails":[{"value":"x@example.com"},{"value":"p@example.com","primary":true}]}`,
			"p@example.com"},
		{`{"email":[{"value":"","primary":true},{"value":"b@example.com"}]}`, "b@example.com"},
		{`{"emails":["s@example.com"]}`, "s@example.com"},
		{`{"name":"x"}`, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, primaryEmail(jsonItem(t, tt.in)), tt.in)
	}
}
