package pipedrive

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	keysync "github.com/keysync/sync"
)

// legacyTime is the v1 timestamp layout (UTC, no zone marker).
const legacyTime = "2006-01-02 15:04:05"

// customKey matches Pipedrive's 40-character custom field keys.
var customKey = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ToLegacy returns person, given in the API's v2 shape, in the v1 shape that
// n8n workflows and older integrations use, so their key paths work
// unchanged:
//
//   - emails and phones become email and phone, lists of
//     {label, value, primary}; an empty list becomes
//     [{"label": "", "value": "", "primary": true}] as v1 sends;
//   - primary_email holds the primary address;
//   - owner_id and org_id become v1's objects {"id": n, "value": n}
//     (org_id null when there is none; v2 carries no names for them);
//   - is_deleted becomes active_flag (negated);
//   - add_time and update_time become "YYYY-MM-DD HH:MM:SS" UTC;
//   - visible_to becomes a string; label holds the first of label_ids;
//   - custom_fields are spread into top-level keys.
//
// Other fields are copied. person is not modified; nested values that are
// copied as they are remain shared with it.
func ToLegacy(person keysync.Item) keysync.Item {
	if person == nil {
		return nil
	}
	out := make(keysync.Item, len(person)+4)
	for k, v := range person {
		switch k {
		case "emails", "phones", "custom_fields", "is_deleted", "owner_id", "org_id",
			"visible_to", "add_time", "update_time":
		default:
			out[k] = v
		}
	}
	out["email"] = legacyContacts(person["emails"])
	out["phone"] = legacyContacts(person["phones"])
	out["primary_email"] = primaryValue(person["emails"])
	out["owner_id"] = legacyRef(person["owner_id"])
	out["org_id"] = legacyRef(person["org_id"])
	if d, ok := person["is_deleted"].(bool); ok {
		out["active_flag"] = !d
	} else {
		out["active_flag"] = true
	}
	for _, k := range []string{"add_time", "update_time"} {
		if v, ok := person[k]; ok {
			out[k] = legacyTimestamp(v)
		}
	}
	if v, ok := person["visible_to"]; ok && v != nil {
		out["visible_to"] = fmt.Sprint(v)
	}
	if ids, ok := person["label_ids"].([]any); ok && len(ids) > 0 {
		out["label"] = ids[0]
	} else if _, ok := person["label_ids"]; ok {
		out["label"] = nil
	}
	if cf, ok := person["custom_fields"].(map[string]any); ok {
		for k, v := range cf {
			out[k] = v
		}
	}
	return out
}

func legacyContacts(v any) []any {
	list, _ := v.([]any)
	out := make([]any, 0, max(len(list), 1))
	for _, e := range list {
		switch e := e.(type) {
		case map[string]any:
			out = append(out, map[string]any{"label": e["label"], "value": e["value"],
				"primary": e["primary"] == true})
		case string:
			out = append(out, map[string]any{"label": "", "value": e, "primary": len(out) == 0})
		}
	}
	if len(out) == 0 {
		out = append(out, map[string]any{"label": "", "value": "", "primary": true})
	}
	return out
}

func primaryValue(v any) any {
	list, _ := v.([]any)
	var first any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if first == nil {
			first = m["value"]
		}
		if m["primary"] == true {
			return m["value"]
		}
	}
	return first
}

func legacyRef(v any) any {
	if v == nil {
		return nil
	}
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{"id": v, "value": v}
}

func legacyTimestamp(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return v
	}
	return t.UTC().Format(legacyTime)
}

// readOnly are fields of either shape that Pipedrive sets itself; WriteBody
// drops them so that a record read from Pipedrive can be written back.
var readOnly = map[string]bool{
	"id": true, "first_name": true, "last_name": true, "update_time": true,
	"is_deleted": true, "active_flag": true, "company_id": true, "first_char": true,
	"primary_email": true, "org_name": true, "owner_name": true, "cc_email": true,
	"picture_id": true, "related_objects": true, "followers_count": true,
	"open_deals_count": true, "related_open_deals_count": true, "closed_deals_count": true,
	"related_closed_deals_count": true, "participant_open_deals_count": true,
	"participant_closed_deals_count": true, "email_messages_count": true,
	"activities_count": true, "done_activities_count": true, "undone_activities_count": true,
	"files_count": true, "notes_count": true, "won_deals_count": true,
	"related_won_deals_count": true, "lost_deals_count": true, "related_lost_deals_count": true,
	"next_activity_date": true, "next_activity_time": true, "next_activity_id": true,
	"last_activity_id": true, "last_activity_date": true, "last_incoming_mail_time": true,
	"last_outgoing_mail_time": true, "delete_time": true, "smart_bcc_email": true,
	"label": true,
}

// WriteBody converts a person in either shape into the JSON body of a v2
// create (create true) or update: v1 email and phone (a plain string, a
// list of strings or of {label, value, primary} objects) become emails and
// phones; owner_id and org_id objects become their value; a numeric
// visible_to string becomes a number; v1's label becomes label_ids;
// top-level 40-character custom field keys move into custom_fields.
// Read-only fields such as id, first_name or update_time are dropped, so a
// record read from Pipedrive can be written back; add_time is kept only on
// create and only in RFC 3339. Contacts with an empty value are dropped.
// Any other field is sent as it is and left for Pipedrive to validate.
// item is not modified.
func WriteBody(item keysync.Item, create bool) (keysync.Item, error) {
	out := keysync.Item{}
	custom := map[string]any{}
	if cf, ok := item["custom_fields"].(map[string]any); ok {
		maps.Copy(custom, cf)
	}
	for _, k := range slices.Sorted(maps.Keys(item)) {
		v := item[k]
		switch {
		case k == "custom_fields":
		case k == "email" || k == "emails":
			if err := setContacts(out, "emails", k, v, item); err != nil {
				return nil, err
			}
		case k == "phone" || k == "phones":
			if err := setContacts(out, "phones", k, v, item); err != nil {
				return nil, err
			}
		case k == "owner_id" || k == "org_id":
			out[k] = refValue(v)
		case k == "visible_to":
			out[k] = visibleTo(v)
		case k == "add_time":
			if s, ok := v.(string); ok && create {
				if _, err := time.Parse(time.RFC3339, s); err == nil {
					out[k] = s
				}
			}
		case k == "label":
			if _, ok := item["label_ids"]; !ok && v != nil {
				out["label_ids"] = []any{v}
			}
		case customKey.MatchString(k):
			custom[k] = v
		case readOnly[k] || isCustomSubKey(k):
		default:
			out[k] = v
		}
	}
	if len(custom) > 0 {
		out["custom_fields"] = custom
	}
	return out, nil
}

// setContacts converts an email or phone field into a v2 list. When both
// the v1 and v2 names are present, the v2 one wins.
func setContacts(out keysync.Item, v2, k string, v any, item keysync.Item) error {
	if k != v2 {
		if _, both := item[v2]; both {
			return nil
		}
	}
	list, err := contactList(v)
	if err != nil {
		return fmt.Errorf("pipedrive: field %s: %w", k, err)
	}
	out[v2] = list
	return nil
}

func contactList(v any) ([]any, error) {
	var in []any
	switch v := v.(type) {
	case nil:
		return []any{}, nil
	case string:
		in = []any{v}
	case []any:
		in = v
	case []string:
		for _, s := range v {
			in = append(in, s)
		}
	case []map[string]any:
		for _, m := range v {
			in = append(in, m)
		}
	default:
		return nil, fmt.Errorf("unsupported type %T: %w", v, keysync.ErrInvalid)
	}
	out := make([]any, 0, len(in))
	for _, e := range in {
		c := map[string]any{}
		switch e := e.(type) {
		case string:
			c["value"] = e
		case map[string]any:
			for _, f := range []string{"value", "label", "primary"} {
				if x, ok := e[f]; ok && x != nil && x != "" {
					c[f] = x
				}
			}
		default:
			return nil, fmt.Errorf("unsupported entry type %T: %w", e, keysync.ErrInvalid)
		}
		if s, _ := c["value"].(string); strings.TrimSpace(s) == "" {
			continue
		}
		out = append(out, c)
	}
	if len(out) > 0 && !slices.ContainsFunc(out, func(c any) bool {
		return c.(map[string]any)["primary"] == true
	}) {
		out[0].(map[string]any)["primary"] = true
	}
	return out, nil
}

// refValue turns v1's {"value": 7, ...} into 7.
func refValue(v any) any {
	if m, ok := v.(map[string]any); ok {
		if x, ok := m["value"]; ok {
			return x
		}
		return m["id"]
	}
	return v
}

// visibleTo turns v1's "3" into 3.
func visibleTo(v any) any {
	if s, ok := v.(string); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return n
		}
	}
	return v
}

// isCustomSubKey reports v1's derived custom field keys such as
// "<40 hex>_currency" or "<40 hex>_formatted_address".
func isCustomSubKey(k string) bool {
	return len(k) > 41 && k[40] == '_' && customKey.MatchString(k[:40])
}

// emails returns every address of a person in either shape (v2 emails,
// v1 email, search's flat strings).
func emails(p keysync.Item) []string {
	var out []string
	for _, k := range []string{"emails", "email"} {
		switch v := p[k].(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				switch e := e.(type) {
				case string:
					out = append(out, e)
				case map[string]any:
					if s, ok := e["value"].(string); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

// primaryEmail returns the primary (or else first non-empty) address of a
// person in either shape, or "".
func primaryEmail(p keysync.Item) string {
	for _, k := range []string{"emails", "email"} {
		if s, ok := p[k].(string); ok {
			return strings.TrimSpace(s)
		}
		if s, ok := primaryValue(p[k]).(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	for _, e := range emails(p) {
		if strings.TrimSpace(e) != "" {
			return strings.TrimSpace(e)
		}
	}
	return ""
}

func hasEmail(p keysync.Item, email string) bool {
	return containsFold(emails(p), email)
}

func containsFold(list []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, e := range list {
		if strings.EqualFold(strings.TrimSpace(e), s) {
			return true
		}
	}
	return false
}

// idOf returns the id of a person in either shape as an int64.
func idOf(p keysync.Item) (int64, bool) {
	switch v := p["id"].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case float64:
		return int64(v), v == float64(int64(v))
	case int:
		return int64(v), true
	case int64:
		return v, true
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}
