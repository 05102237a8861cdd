package hubspot

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/keysync/sync"
)

// datetimeValue matches the form in which the CRM objects API returns
// datetime property values ("2026-11-02T09:15:00.123Z"). [LegacyShape]
// turns such values into epoch milliseconds, as the v1 API returned them.
var datetimeValue = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`)

// LegacyShape returns a contact in the shape of HubSpot's legacy contacts v1
// API, given the contact in the CRM objects API shape that [Client.Contacts]
// yields. The result carries
//
//   - "vid" and "canonical-vid": the id as an int64;
//   - "is-contact": true, "merged-vids" (from hs_merged_object_ids),
//     "form-submissions" and "merge-audits" (empty);
//   - "addedAt": createdAt in epoch milliseconds (int64);
//   - "properties": each non-null property as {"value": "..."}, datetime
//     values (such as createdate and lastmodifieddate) as epoch-millisecond
//     strings;
//   - "identity-profiles": one profile whose identities list the primary
//     email first (type EMAIL, is-primary true), then each address of
//     hs_additional_emails. No LEAD_GUID identity is invented.
//
// So key paths written for n8n's HubSpot v1 node, such as
// "identity-profiles[0].identities[0].value" and "properties.firstname.value",
// work unchanged. An item that already has a "vid" is returned as is.
func LegacyShape(item sync.Item) sync.Item {
	if item == nil {
		return nil
	}
	if _, ok := item["vid"]; ok {
		return item
	}
	props, _ := item["properties"].(map[string]any)
	vid := legacyVID(item)
	added := epochMillis(stringOf(item["createdAt"]))
	if added == 0 {
		added = epochMillis(stringOf(props["createdate"]))
	}

	out := sync.Item{
		"vid":              vid,
		"canonical-vid":    vid,
		"is-contact":       true,
		"addedAt":          added,
		"merged-vids":      mergedVIDs(stringOf(props["hs_merged_object_ids"])),
		"properties":       legacyProperties(props),
		"form-submissions": []any{},
		"merge-audits":     []any{},
		"identity-profiles": []any{map[string]any{
			"vid":                       vid,
			"saved-at-timestamp":        added,
			"deleted-changed-timestamp": int64(0),
			"identities":                legacyIdentities(props, added),
		}},
	}
	if archived, ok := item["archived"].(bool); ok && archived {
		out["archived"] = true
	}
	return out
}

// legacyVID returns the contact's id as a number, or the id string when it
// is not numeric.
func legacyVID(item sync.Item) any {
	id := stringOf(item["id"])
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		return n
	}
	return id
}

func legacyProperties(props map[string]any) map[string]any {
	out := make(map[string]any, len(props))
	for name, v := range props {
		if v == nil {
			continue // v1 leaves unset properties out.
		}
		s := stringOf(v)
		if datetimeValue.MatchString(s) {
			s = strconv.FormatInt(epochMillis(s), 10)
		}
		out[name] = map[string]any{"value": s}
	}
	return out
}

func legacyIdentities(props map[string]any, ts int64) []any {
	ids := []any{}
	if email := stringOf(props["email"]); email != "" {
		ids = append(ids, map[string]any{
			"type": "EMAIL", "value": email, "timestamp": ts, "is-primary": true,
		})
	}
	for _, email := range splitList(stringOf(props["hs_additional_emails"])) {
		ids = append(ids, map[string]any{"type": "EMAIL", "value": email, "timestamp": ts})
	}
	return ids
}

func mergedVIDs(s string) []any {
	out := []any{}
	for _, part := range splitList(s) {
		if n, err := strconv.ParseInt(part, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// splitList splits a HubSpot multi-value string ("a;b").
func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// epochMillis returns an ISO-8601 time in epoch milliseconds, or 0 when s is
// not one.
func epochMillis(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
}

// stringOf returns v as a string when it is a string or json.Number, else "".
func stringOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// readOnlyProperties are contact properties that HubSpot computes and
// rejects in writes; [WriteProperties] drops them so that records read from
// HubSpot can be written back.
var readOnlyProperties = map[string]bool{
	"createdate": true, "hs_object_id": true, "lastmodifieddate": true,
}

// WriteProperties returns the property values to send for a write item. It
// accepts the CRM objects API shape {"properties": {"firstname": "Dana"}}
// and both legacy v1 shapes: {"properties": {"firstname": {"value":
// "Dana"}}} and {"properties": [{"property": "firstname", "value":
// "Dana"}]} ("name" works in place of "property"). Values become strings,
// as HubSpot stores them: booleans as "true" or "false", null as "" (which
// clears the property), and numbers in plain decimal notation, never with
// an exponent: 1e21 becomes "1000000000000000000000" and 1e-7 "0.0000001"
// (the shortest digits that read back as the same float64; float32 values
// as float32, json.Number digits exactly as given). This deliberately
// differs from JavaScript's String(), which gives "1e+21" and "1e-7":
// HubSpot validates number properties and documents no exponent form,
// while plain decimal is what it accepts and shows. Syncs compare such a
// stored string with the mapped number by value, so either form matches. The read-only
// properties createdate, hs_object_id and lastmodifieddate are dropped. An item
// without properties, or with a nested value, gives an error matching
// [sync.ErrInvalid].
func WriteProperties(item sync.Item) (map[string]string, error) {
	switch props := item["properties"].(type) {
	case map[string]any:
		out := make(map[string]string, len(props))
		for name, v := range props {
			if m, ok := v.(map[string]any); ok {
				if _, ok := m["value"]; !ok {
					return nil, invalidf("property %q is an object without \"value\"", name)
				}
				v = m["value"]
			}
			if err := putProperty(out, name, v); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []any:
		out := make(map[string]string, len(props))
		for i, p := range props {
			m, ok := p.(map[string]any)
			if !ok {
				return nil, invalidf("properties[%d] is not an object", i)
			}
			name := stringOf(m["property"])
			if name == "" {
				name = stringOf(m["name"])
			}
			if name == "" {
				return nil, invalidf("properties[%d] has no property name", i)
			}
			if err := putProperty(out, name, m["value"]); err != nil {
				return nil, err
			}
		}
		return out, nil
	case nil:
		return nil, invalidf("item has no \"properties\"")
	default:
		return nil, invalidf("\"properties\" is a %T, want an object or array", props)
	}
}

func putProperty(out map[string]string, name string, v any) error {
	if readOnlyProperties[name] {
		return nil
	}
	s, err := propertyValue(v)
	if err != nil {
		return invalidf("property %q: %v", name, err)
	}
	out[name] = s
	return nil
}

// propertyValue formats a decoded JSON value as a HubSpot property string.
func propertyValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		d, ok := plainDecimal(v.String())
		if !ok {
			return "", fmt.Errorf("%q is not a number", v.String())
		}
		return d, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%v is not a number HubSpot can store", v)
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case float32:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "", fmt.Errorf("%v is not a number HubSpot can store", v)
		}
		return strconv.FormatFloat(f, 'f', -1, 32), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), nil
	default:
		return "", fmt.Errorf("value of type %T is not a string, number, boolean or null", v)
	}
}

// plainDecimal rewrites a JSON number in plain decimal notation, moving
// the point of an exponent form ("1.5e3" → "1500", "25E-4" → "0.0025")
// without rounding. It reports false for text that is not a JSON number.
func plainDecimal(num string) (string, bool) {
	if num == "" || strings.TrimSpace(num) != num || !json.Valid([]byte(num)) ||
		!strings.ContainsAny(num[:1], "-0123456789") {
		return "", false
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(num), "e")
	if !hasExp {
		return num, true
	}
	e, err := strconv.Atoi(exp)
	if err != nil || e > 1000 || e < -1000 {
		return "", false // far beyond any value HubSpot stores
	}
	sign := ""
	if mant[0] == '-' {
		sign, mant = "-", mant[1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + e // position of the decimal point in digits
	switch {
	case point <= 0:
		digits = strings.Repeat("0", 1-point) + digits
		point = 1
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	whole := strings.TrimLeft(digits[:point], "0")
	if whole == "" {
		whole = "0"
	}
	fraction := strings.TrimRight(digits[point:], "0")
	if whole == "0" && fraction == "" {
		sign = ""
	}
	if fraction == "" {
		return sign + whole, true
	}
	return sign + whole + "." + fraction, true
}
