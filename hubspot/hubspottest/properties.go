package hubspottest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// propKind is the type of a contact property.
type propKind int

const (
	kindString propKind = iota
	kindEmail
	kindDateTime
	kindEnum
)

// propDef describes one contact property the fake knows.
type propDef struct {
	kind     propKind
	readOnly bool
	options  []string // allowed values of a kindEnum property
}

// System properties the server maintains.
const (
	propEmail        = "email"
	propCreateDate   = "createdate"
	propLastModified = "lastmodifieddate"
	propObjectID     = "hs_object_id"
)

// defaultProperties returns the set a read returns when no properties are
// named.
func defaultProperties() []string {
	return []string{
		propCreateDate, propEmail, "firstname", propObjectID, propLastModified, "lastname",
	}
}

// systemProperties returns the properties sent with every object whatever was
// requested.
func systemProperties() []string {
	return []string{propCreateDate, propObjectID, propLastModified}
}

// builtinProperties returns the contact properties every fake server knows.
func builtinProperties() map[string]propDef {
	props := map[string]propDef{
		propEmail:        {kind: kindEmail},
		propCreateDate:   {kind: kindDateTime, readOnly: true},
		propLastModified: {kind: kindDateTime, readOnly: true},
		propObjectID:     {readOnly: true},
		"lifecyclestage": {kind: kindEnum, options: []string{
			"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
			"opportunity", "customer", "evangelist", "other",
		}},
		"hs_lead_status": {kind: kindEnum, options: []string{
			"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED",
			"ATTEMPTED_TO_CONTACT", "CONNECTED", "BAD_TIMING",
		}},
	}
	for _, name := range []string{
		"firstname", "lastname", "phone", "mobilephone", "fax", "company", "website",
		"jobtitle", "industry", "address", "city", "state", "zip", "country",
		"hs_additional_emails", "salutation", "message", "annualrevenue",
		"numemployees", "date_of_birth", "twitterhandle", "hubspot_owner_id",
		"hs_language", "hs_timezone", "hs_linkedin_url",
	} {
		props[name] = propDef{}
	}
	return props
}

// invalidProperty is one entry of the JSON list inside a "Property values
// were not valid" message.
type invalidProperty struct {
	IsValid bool   `json:"isValid"`
	Message string `json:"message"`
	Error   string `json:"error"`
	Name    string `json:"name"`
}

// propertyErrors builds HubSpot's 400 for invalid property values.
func propertyErrors(list []invalidProperty) *apiError {
	e := badRequest("Property values were not valid: %s", marshalNoEscape(list))
	for _, p := range list {
		e.details = append(e.details, errorDetail{
			Message: p.Message,
			Code:    p.Error,
			In:      p.Name,
			Context: map[string][]string{"propertyName": {p.Name}},
		})
	}
	return e
}

// validateChanges checks the properties of a create or update body and
// returns the normalized string values; an empty value means "clear". The
// server lock must be held (the property set is read).
func (s *Server) validateChanges(raw map[string]json.RawMessage) (map[string]string, *apiError) {
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)
	changes := make(map[string]string, len(raw))
	var invalid []invalidProperty
	bad := func(name, code, msg string) {
		invalid = append(invalid, invalidProperty{Message: msg, Error: code, Name: name})
	}
	for _, name := range names {
		def, ok := s.props[name]
		if !ok {
			bad(name, "PROPERTY_DOESNT_EXIST", `Property "`+name+`" does not exist`)
			continue
		}
		if def.readOnly {
			bad(name, "READ_ONLY_VALUE",
				`"`+name+`" is a read only property; its value cannot be set.`)
			continue
		}
		v, err := coerceValue(name, raw[name])
		if err != nil {
			return nil, err
		}
		switch def.kind {
		case kindEmail:
			v = normalizeEmail(v)
			if v != "" && !validEmail(v) {
				bad(name, "INVALID_EMAIL", "Email address "+v+" is invalid")
				continue
			}
		case kindEnum:
			if v != "" && !slices.Contains(def.options, v) {
				bad(name, "INVALID_OPTION", v+" was not one of the allowed options: ["+
					strings.Join(def.options, ", ")+"]")
				continue
			}
		}
		changes[name] = v
	}
	if len(invalid) > 0 {
		return nil, propertyErrors(invalid)
	}
	return changes, nil
}

// coerceValue turns one JSON property value into HubSpot's string form:
// strings as they are, numbers by their literal text, booleans as "true" or
// "false", null as "" (clear). Objects and arrays are rejected.
func coerceValue(name string, raw json.RawMessage) (string, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badRequest("Invalid input JSON: %v", err)
		}
		return s, nil
	case '{', '[':
		return "", badRequest("Invalid input JSON: Cannot deserialize value of type "+
			"`java.lang.String` from %s value (property %q)", jsonKind(raw[0]), name)
	default:
		return string(raw), nil
	}
}

func jsonKind(b byte) string {
	if b == '{' {
		return "Object"
	}
	return "Array"
}

// normalizeEmail trims and lower-cases an email address as HubSpot stores it.
func normalizeEmail(v string) string {
	return strings.ToLower(strings.TrimSpace(v))
}

// validEmail reports whether v looks like an address HubSpot accepts: one
// "@", a non-empty local part and a dotted domain without spaces.
func validEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return false
	}
	if strings.ContainsAny(v, " \t\r\n,;<>()[]\\\"") {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") ||
		strings.Contains(v, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
	}
	return len(labels[len(labels)-1]) >= 2
}

// formatTime renders t as HubSpot does: ISO-8601 UTC with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// parseInstant parses a date-time filter value or stored value: epoch
// milliseconds, RFC 3339 or a plain date.
func parseInstant(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if isNumeric(v) {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z0700",
		"2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func isNumeric(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// requestedProperties reads the properties a read asks for from repeated,
// comma-separated values. Names are trimmed; empty names dropped.
func requestedProperties(values []string) []string {
	var names []string
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}
