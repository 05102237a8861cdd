package demo

import (
	"strings"

	"github.com/keysync/sync"
)

// Fields returns the common fields of a stateful two-way sync between
// Pipedrive persons (A) and HubSpot contacts (B): email, first, last and
// phone. Both sides read records in either shape (current or legacy) and
// write the current shapes, which both connectors accept in either mode.
// Emails are compared normalized, so case and spaces never look like edits
// or conflicts.
//
// Pipedrive derives first_name and last_name from the full name (first word
// and the rest), so a HubSpot first name of two words, such as "Mary Ann",
// reads back as "Mary" and conflicts with HubSpot's value.
func (m Mapping) Fields() sync.FieldMapping {
	return sync.FieldMapping{
		A: sync.FieldSide{Get: personFields, Set: setPersonFields},
		B: sync.FieldSide{Get: contactFields, Set: setContactFields},
	}
}

// personFields reads the common fields of a Pipedrive person, v2 or v1.
func personFields(p sync.Item) map[string]string {
	return map[string]string{
		"email": sync.NormalizeEmail(primary(either(p, "emails", "email"))),
		"first": text(p["first_name"]),
		"last":  text(p["last_name"]),
		"phone": primary(either(p, "phones", "phone")),
	}
}

// either returns item[v2], or item[v1] when the v2 field is missing.
func either(item sync.Item, v2, v1 string) any {
	if v, ok := item[v2]; ok {
		return v
	}
	return item[v1]
}

// setPersonFields returns the Pipedrive write (v2 shape) giving a person the
// fields: a create when existing is nil, else an update of the named fields.
// Pipedrive stores one full name, so a changed first or last name rewrites
// it from the new part and the person's other part.
func setPersonFields(f map[string]string, existing sync.Item) sync.Item {
	out := sync.Item{}
	first, hasFirst := f["first"]
	last, hasLast := f["last"]
	if existing == nil || hasFirst || hasLast {
		if existing != nil && !hasFirst {
			first = text(existing["first_name"])
		}
		if existing != nil && !hasLast {
			last = text(existing["last_name"])
		}
		name := strings.TrimSpace(first + " " + last)
		if name == "" {
			name = f["email"]
		}
		out["name"] = name
	}
	if e, ok := f["email"]; ok {
		out["emails"] = withPrimary(either(existing, "emails", "email"), e)
	}
	if ph, ok := f["phone"]; ok {
		out["phones"] = withPrimary(either(existing, "phones", "phone"), ph)
	}
	if existing == nil && f["email"] == "" {
		return nil // a person must carry the key
	}
	return out
}

// withPrimary returns a Pipedrive list of {value, primary, label} (emails,
// phones) in which the primary entry, or the first, holds value; an empty
// value removes that entry. The other entries are kept.
func withPrimary(list any, value string) []any {
	entries, _ := list.([]any)
	out := make([]any, 0, len(entries)+1)
	at := -1
	for _, e := range entries {
		m, _ := e.(map[string]any)
		v := text(m["value"])
		if v == "" {
			continue
		}
		p, _ := m["primary"].(bool)
		label := orDefault(text(m["label"]), "work")
		entry := map[string]any{"value": v, "primary": p, "label": label}
		if p && at < 0 {
			at = len(out)
		}
		out = append(out, entry)
	}
	switch {
	case at < 0 && len(out) > 0:
		at = 0
	case at < 0:
		out = append(out, map[string]any{"value": "", "primary": true, "label": "work"})
		at = 0
	}
	if value == "" {
		return append(out[:at], out[at+1:]...)
	}
	out[at].(map[string]any)["value"] = value
	out[at].(map[string]any)["primary"] = true
	return out
}

// contactFields reads the common fields of a HubSpot contact, in either
// shape.
func contactFields(c sync.Item) map[string]string {
	return map[string]string{
		"email": sync.NormalizeEmail(property(c, "email")),
		"first": property(c, "firstname"),
		"last":  property(c, "lastname"),
		"phone": property(c, "phone"),
	}
}

// setContactFields returns the HubSpot write giving a contact the fields.
func setContactFields(f map[string]string, existing sync.Item) sync.Item {
	if existing == nil && f["email"] == "" {
		return nil // a contact must carry the key
	}
	props := map[string]any{}
	for common, prop := range map[string]string{
		"email": "email", "first": "firstname", "last": "lastname", "phone": "phone",
	} {
		if v, ok := f[common]; ok {
			props[prop] = v
		}
	}
	return sync.Item{"properties": props}
}
