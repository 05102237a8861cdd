package demo

import (
	"fmt"
	"strings"

	"github.com/keysync/sync"
)

// Mapping is how the demos match and copy records between Pipedrive persons
// and HubSpot contacts, in the current API shapes or, with N8N, in the
// legacy shapes whose key paths n8n's tutorial uses:
//
//	                     current (default)           n8n (legacy v1 shapes)
//	Pipedrive email      emails[*].value (every one) email[0].value
//	Pipedrive names      first_name, last_name       first_name, last_name
//	HubSpot email        properties.email            identity-profiles[0].identities[0].value
//	HubSpot names        properties.firstname        properties.firstname.value
//	HubSpot record id    id                          vid
//
// Both compare emails with [sync.NormalizeEmail], so case and stray spaces
// never make a person look new. On the demo data both give the same results;
// the one difference is a person whose second email is the one HubSpot
// holds: the current mapping matches them, n8n's email[0].value cannot.
type Mapping struct {
	// N8N selects the legacy shapes and the tutorial's key paths.
	N8N bool
}

// PipedriveKey describes the key of Pipedrive persons, for people.
func (m Mapping) PipedriveKey() string {
	if m.N8N {
		return "email[0].value"
	}
	return "emails[*].value"
}

// HubSpotKey describes the key of HubSpot contacts, for people.
func (m Mapping) HubSpotKey() string {
	if m.N8N {
		return "identity-profiles[0].identities[0].value"
	}
	return "properties.email"
}

// OneWay returns the options of the one-way sync Pipedrive → HubSpot.
func (m Mapping) OneWay() sync.Options {
	o := sync.Options{
		SourceName: "Pipedrive", TargetName: "HubSpot",
		Normalize: sync.NormalizeEmail,
		Map:       m.PersonToContact,
	}
	if m.N8N {
		o.SourceKey = "email[0].value"
		o.TargetKey = "identity-profiles[0].identities[0].value"
	} else {
		o.SourceKeys = personEmails()
		o.TargetKey = "properties.email"
	}
	return o
}

// TwoWay returns the options of the two-way sync with Pipedrive as A and
// HubSpot as B.
func (m Mapping) TwoWay() sync.TwoWayOptions {
	one := m.OneWay()
	return sync.TwoWayOptions{
		AName: "Pipedrive", BName: "HubSpot",
		AKey: one.SourceKey, AKeys: one.SourceKeys, BKey: one.TargetKey,
		Normalize: sync.NormalizeEmail,
		AToB:      m.PersonToContact,
		BToA:      m.ContactToPerson,
	}
}

// personEmails yields every email of a Pipedrive person (v2 shape), so that
// a person matches a contact holding any of them.
func personEmails() sync.KeysFunc {
	keys, err := sync.EachKey("emails", "value")
	if err != nil {
		panic(err) // the paths are constants
	}
	return keys
}

// PersonToContact maps a Pipedrive person to a HubSpot contact: email (the
// primary one, normalized), first and last name and phone. It skips a
// person without any email (by returning nil), though the sync never asks
// for one, since such a person has no key.
func (m Mapping) PersonToContact(p sync.Item) (sync.Item, error) {
	if m.N8N {
		return n8nPersonToContact(p)
	}
	email := sync.NormalizeEmail(primary(p["emails"]))
	if email == "" {
		return nil, nil
	}
	props := map[string]any{"email": email}
	setText(props, "firstname", p["first_name"])
	setText(props, "lastname", p["last_name"])
	setText(props, "phone", primary(p["phones"]))
	return sync.Item{"properties": props}, nil
}

// n8nPersonToContact is the tutorial's HubSpot node: the fields are read
// with the expressions' key paths from a Pipedrive v1 person and written in
// the contacts v1 create shape, a list of {property, value}.
func n8nPersonToContact(p sync.Item) (sync.Item, error) {
	var props []any
	for _, f := range [...]struct{ property, path string }{
		{"email", "email[0].value"},
		{"firstname", "first_name"},
		{"lastname", "last_name"},
		{"phone", "phone[0].value"},
	} {
		v := text(lookup(p, f.path))
		if f.property == "email" {
			v = sync.NormalizeEmail(v)
		}
		if v != "" {
			props = append(props, map[string]any{"property": f.property, "value": v})
		}
	}
	return sync.Item{"properties": props}, nil
}

// ContactToPerson maps a HubSpot contact to a Pipedrive person: the name
// (first and last, or the email when the contact has neither), the email and
// the phone.
func (m Mapping) ContactToPerson(c sync.Item) (sync.Item, error) {
	paths := [...]string{"properties.email", "properties.firstname",
		"properties.lastname", "properties.phone"}
	if m.N8N {
		paths = [...]string{"identity-profiles[0].identities[0].value",
			"properties.firstname.value", "properties.lastname.value", "properties.phone.value"}
	}
	email := sync.NormalizeEmail(text(lookup(c, paths[0])))
	if email == "" {
		return nil, nil
	}
	name := strings.TrimSpace(text(lookup(c, paths[1])) + " " + text(lookup(c, paths[2])))
	if name == "" {
		name = email
	}
	phone := text(lookup(c, paths[3]))
	if m.N8N {
		// Pipedrive's v1 create body takes plain strings.
		person := sync.Item{"name": name, "email": email}
		if phone != "" {
			person["phone"] = phone
		}
		return person, nil
	}
	person := sync.Item{"name": name, "emails": []any{
		map[string]any{"value": email, "primary": true, "label": "work"},
	}}
	if phone != "" {
		person["phones"] = []any{map[string]any{"value": phone, "primary": true, "label": "work"}}
	}
	return person, nil
}

// lookup is sync.Lookup without the found flag.
func lookup(item sync.Item, path string) any {
	v, _ := sync.Lookup(item, path)
	return v
}

// primary returns the value of the primary entry of a Pipedrive v2 list of
// {value, primary} (emails, phones), or of its first non-empty entry.
func primary(list any) string {
	entries, _ := list.([]any)
	first := ""
	for _, e := range entries {
		m, _ := e.(map[string]any)
		v := text(m["value"])
		if v == "" {
			continue
		}
		if p, _ := m["primary"].(bool); p {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}

// text returns a scalar as text and anything else as "".
func text(v any) string {
	switch v := v.(type) {
	case nil, map[string]any, []any:
		return ""
	case string:
		return strings.TrimSpace(v)
	default:
		return fmt.Sprint(v)
	}
}

func setText(props map[string]any, name string, v any) {
	if s := text(v); s != "" {
		props[name] = s
	}
}
