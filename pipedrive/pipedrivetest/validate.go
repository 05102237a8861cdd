package pipedrivetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type inputMode int

const (
	modeCreate inputMode = iota
	modePatch
	modeSeed
)

// personInput is a parsed write body; nil pointers are fields not sent.
type personInput struct {
	id              *int
	name            *string
	emails, phones  *[]Contact
	ownerID         *int
	orgID           *int // 0 clears
	visibleTo       *int
	labelIDs        *[]int
	marketingStatus *string
	customFields    map[string]any // nil values clear; nil map: not sent
	addTime         *time.Time
	updateTime      *time.Time
	deleted         *bool
}

// apply writes the sent fields of in onto r.
func (in personInput) apply(r *record) {
	if in.name != nil {
		r.name = *in.name
	}
	if in.emails != nil {
		r.emails = normalizeContacts(*in.emails)
	}
	if in.phones != nil {
		r.phones = normalizeContacts(*in.phones)
	}
	if in.ownerID != nil {
		r.ownerID = *in.ownerID
	}
	if in.orgID != nil {
		r.orgID = *in.orgID
	}
	if in.visibleTo != nil {
		r.visibleTo = *in.visibleTo
	}
	if in.labelIDs != nil {
		r.labelIDs = *in.labelIDs
	}
	if in.marketingStatus != nil {
		r.marketingStatus = *in.marketingStatus
	}
	if in.customFields != nil && r.customFields == nil {
		r.customFields = map[string]any{}
	}
	for k, v := range in.customFields {
		r.customFields[k] = v
	}
	if in.addTime != nil {
		r.addTime = *in.addTime
	}
}

// person converts a seed-mode input to a Person.
func (in personInput) person() Person {
	var r record
	in.apply(&r)
	p := Person{
		Name: r.name, Emails: r.emails, Phones: r.phones, OwnerID: r.ownerID,
		OrgID: r.orgID, VisibleTo: r.visibleTo, LabelIDs: r.labelIDs,
		MarketingStatus: r.marketingStatus, CustomFields: r.customFields,
		AddTime: r.addTime,
	}
	if in.id != nil {
		p.ID = *in.id
	}
	if in.updateTime != nil {
		p.UpdateTime = *in.updateTime
	}
	if in.deleted != nil {
		p.Deleted = *in.deleted
	}
	return p
}

const codeSchema = "ERR_SCHEMA_VALIDATION_FAILED"

func schemaError(format string, args ...any) *apiError {
	return &apiError{
		status: 400,
		msg:    "Validation failed: " + fmt.Sprintf(format, args...),
		code:   codeSchema,
	}
}

// parseV2 parses a v2 JSON write body with the API's strict typing:
// integers must be JSON numbers, booleans JSON true/false, and unknown
// fields are rejected.
func parseV2(body []byte, mode inputMode) (personInput, *apiError) {
	var in personInput
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return in, schemaError("request body must be a JSON object")
	}
	if dec.More() {
		return in, schemaError("request body must be a single JSON object")
	}
	for key, v := range raw {
		if aerr := in.setV2(key, v, mode); aerr != nil {
			return in, aerr
		}
	}
	if mode != modePatch && in.name == nil {
		return in, schemaError("name: is required")
	}
	return in, nil
}

func (in *personInput) setV2(key string, v json.RawMessage, mode inputMode) *apiError {
	var aerr *apiError
	switch key {
	case "name":
		var s string
		s, aerr = jsonString(key, v)
		if aerr == nil && strings.TrimSpace(s) == "" {
			aerr = schemaError("name: must not be empty")
		}
		s = strings.TrimSpace(s)
		in.name = &s
	case "owner_id":
		in.ownerID, aerr = jsonIntPtr(key, v, false)
	case "org_id":
		in.orgID, aerr = jsonIntPtr(key, v, true)
	case "visible_to":
		in.visibleTo, aerr = jsonIntPtr(key, v, false)
		if aerr == nil && !validVisibleTo(*in.visibleTo) {
			aerr = schemaError("visible_to: must be one of 1, 3, 5, 7")
		}
	case "label_ids":
		in.labelIDs, aerr = jsonIntList(key, v)
	case "emails", "phones":
		var cs *[]Contact
		cs, aerr = jsonContacts(key, v)
		if key == "emails" {
			in.emails = cs
		} else {
			in.phones = cs
		}
	case "marketing_status":
		var s string
		s, aerr = jsonString(key, v)
		if aerr == nil && !validMarketing(s) {
			aerr = schemaError("marketing_status: unknown value %q", s)
		}
		in.marketingStatus = &s
	case "custom_fields":
		in.customFields, aerr = jsonObject(key, v)
	case "add_time":
		if mode == modePatch {
			return schemaError("add_time: can only be set on create")
		}
		in.addTime, aerr = jsonTime(key, v)
	case "id", "update_time", "is_deleted":
		if mode != modeSeed {
			return schemaError("%s: is read-only", key)
		}
		aerr = in.setSeedOnly(key, v)
	default:
		return schemaError("%s: unknown field", key)
	}
	return aerr
}

func (in *personInput) setSeedOnly(key string, v json.RawMessage) *apiError {
	var aerr *apiError
	switch key {
	case "id":
		in.id, aerr = jsonIntPtr(key, v, false)
	case "update_time":
		in.updateTime, aerr = jsonTime(key, v)
	case "is_deleted":
		var b bool
		b, aerr = jsonBool(key, v)
		in.deleted = &b
	}
	return aerr
}

func validVisibleTo(v int) bool { return v == 1 || v == 3 || v == 5 || v == 7 }

func validMarketing(s string) bool {
	switch s {
	case "no_consent", "unsubscribed", "subscribed", "archived":
		return true
	}
	return false
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func jsonString(key string, v json.RawMessage) (string, *apiError) {
	var s string
	if bytes.TrimSpace(v)[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", schemaError("%s: must be a string", key)
	}
	return s, nil
}

func jsonBool(key string, v json.RawMessage) (bool, *apiError) {
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, schemaError("%s: must be a boolean", key)
}

// jsonInt accepts a JSON number with an integral value, never a string.
func jsonInt(key string, v json.RawMessage) (int, *apiError) {
	t := string(bytes.TrimSpace(v))
	if t == "" || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		return 0, schemaError("%s: must be an integer", key)
	}
	if n, err := strconv.Atoi(t); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != float64(int(f)) {
		return 0, schemaError("%s: must be an integer", key)
	}
	return int(f), nil
}

// jsonIntPtr parses an integer; with nullable, null yields 0 (cleared).
func jsonIntPtr(key string, v json.RawMessage, nullable bool) (*int, *apiError) {
	if nullable && isNull(v) {
		zero := 0
		return &zero, nil
	}
	n, aerr := jsonInt(key, v)
	if aerr != nil {
		return nil, aerr
	}
	if n <= 0 {
		return nil, schemaError("%s: must be a positive integer", key)
	}
	return &n, nil
}

func jsonIntList(key string, v json.RawMessage) (*[]int, *apiError) {
	var raws []json.RawMessage
	if bytes.TrimSpace(v)[0] != '[' || json.Unmarshal(v, &raws) != nil {
		return nil, schemaError("%s: must be an array of integers", key)
	}
	out := make([]int, len(raws))
	for i, r := range raws {
		n, aerr := jsonInt(fmt.Sprintf("%s[%d]", key, i), r)
		if aerr != nil {
			return nil, aerr
		}
		out[i] = n
	}
	return &out, nil
}

func jsonContacts(key string, v json.RawMessage) (*[]Contact, *apiError) {
	var raws []map[string]json.RawMessage
	if bytes.TrimSpace(v)[0] != '[' || json.Unmarshal(v, &raws) != nil {
		return nil, schemaError("%s: must be an array of objects", key)
	}
	out := make([]Contact, len(raws))
	for i, obj := range raws {
		at := fmt.Sprintf("%s[%d]", key, i)
		if obj == nil {
			return nil, schemaError("%s: must be an object", at)
		}
		if _, ok := obj["value"]; !ok {
			return nil, schemaError("%s.value: is required", at)
		}
		for k, fv := range obj {
			var aerr *apiError
			switch k {
			case "value":
				out[i].Value, aerr = jsonString(at+".value", fv)
			case "label":
				if !isNull(fv) {
					out[i].Label, aerr = jsonString(at+".label", fv)
				}
			case "primary":
				out[i].Primary, aerr = jsonBool(at+".primary", fv)
			default:
				aerr = schemaError("%s.%s: unknown field", at, k)
			}
			if aerr != nil {
				return nil, aerr
			}
		}
	}
	return &out, nil
}

func jsonObject(key string, v json.RawMessage) (map[string]any, *apiError) {
	var m map[string]any
	if bytes.TrimSpace(v)[0] != '{' || json.Unmarshal(v, &m) != nil {
		return nil, schemaError("%s: must be an object", key)
	}
	return m, nil
}

// rfc3339Whole matches RFC 3339 timestamps without fractional seconds.
var rfc3339Whole = regexp.MustCompile(
	`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$`)

func jsonTime(key string, v json.RawMessage) (*time.Time, *apiError) {
	s, aerr := jsonString(key, v)
	if aerr != nil {
		return nil, aerr
	}
	t, aerr := parseWholeTime(key, s)
	if aerr != nil {
		return nil, aerr
	}
	return &t, nil
}

// parseWholeTime parses a whole-second RFC 3339 timestamp; fractions of a
// second are rejected as Pipedrive does.
func parseWholeTime(key, s string) (time.Time, *apiError) {
	if !rfc3339Whole.MatchString(s) {
		return time.Time{}, schemaError(
			"%s: must be an RFC 3339 date-time without fractional seconds", key)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, schemaError("%s: invalid date-time", key)
	}
	return t.UTC(), nil
}
