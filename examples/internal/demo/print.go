package demo

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keysync/sync"
)

// System describes the records of one system for the printed report.
type System struct {
	// Name is the system's name as the sync options give it, such as
	// "Pipedrive"; directions in the report are "Name→Name".
	Name string

	// Noun and Nouns name one record and several, such as "person".
	Noun, Nouns string

	// ID returns a record's id, or "".
	ID func(sync.Item) string

	// Label names a record for people, such as `Dana Example`.
	Label func(sync.Item) string

	// Emails returns a record's email addresses exactly as stored (not
	// normalized), first the one used as key.
	Emails func(sync.Item) []string
}

// PipedriveSystem describes Pipedrive persons in either shape.
func PipedriveSystem(ids func(sync.Item) string) System {
	return System{
		Name: "Pipedrive", Noun: "person", Nouns: "persons", ID: ids,
		Label: func(p sync.Item) string { return text(p["name"]) },
		Emails: func(p sync.Item) []string {
			list := p["emails"] // v2
			if list == nil {
				list = p["email"] // v1
			}
			return values(list)
		},
	}
}

// HubSpotSystem describes HubSpot contacts in either shape.
func HubSpotSystem(ids func(sync.Item) string) System {
	return System{
		Name: "HubSpot", Noun: "contact", Nouns: "contacts", ID: ids,
		Label: func(c sync.Item) string {
			return strings.TrimSpace(property(c, "firstname") + " " + property(c, "lastname"))
		},
		Emails: func(c sync.Item) []string {
			if e := property(c, "email"); e != "" {
				return []string{e}
			}
			return nil
		},
	}
}

// property reads a HubSpot property in the current shape ("x") or the
// legacy one ({"value": "x"}).
func property(c sync.Item, name string) string {
	v := lookup(c, "properties."+name)
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	return text(v)
}

// values returns the non-empty "value" of each entry of a list such as
// Pipedrive's emails, untrimmed.
func values(list any) []string {
	entries, _ := list.([]any)
	var out []string
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if s, ok := m["value"].(string); ok && strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// PrintReport writes a report for people: per direction, what was created,
// what was already there (with the matches worth a second look) and what
// was skipped or failed and why, then the one-line summary. systems
// describes the systems named in the report's directions.
func PrintReport(w io.Writer, r sync.Report, systems ...System) {
	byName := make(map[string]System, len(systems))
	for _, s := range systems {
		byName[s.Name] = s
	}
	for _, dir := range r.Directions() {
		from, to, _ := strings.Cut(dir, "→")
		p := printer{w: w, from: systemOr(byName, from), to: systemOr(byName, to), all: r}
		p.direction(r.Direction(dir))
	}
	if len(r.Entries) == 0 {
		fmt.Fprintln(w, "No records to sync.")
	}
}

func systemOr(m map[string]System, name string) System {
	if s, ok := m[name]; ok {
		return s
	}
	return System{Name: name, Noun: "record", Nouns: "records",
		ID: func(sync.Item) string { return "" }, Label: func(sync.Item) string { return "" },
		Emails: func(sync.Item) []string { return nil }}
}

// printer prints one direction of a report.
type printer struct {
	w        io.Writer
	from, to System
	all      sync.Report // every direction, for explanations across them
}

func (p printer) direction(r sync.Report) {
	var created, unchanged, other []sync.Entry
	for _, e := range r.Entries {
		switch e.Outcome {
		case sync.Created, sync.Updated:
			created = append(created, e)
		case sync.Unchanged:
			unchanged = append(unchanged, e)
		default:
			other = append(other, e)
		}
	}
	fmt.Fprintf(p.w, "%s → %s (%d %s listed)\n", p.from.Name, p.to.Name,
		len(r.Entries), p.from.Nouns)
	p.created(r.DryRun, created)
	p.unchanged(unchanged)
	p.problems(r, other)
	fmt.Fprintf(p.w, "  Summary: %s\n", r.String())
}

func (p printer) created(dryRun bool, entries []sync.Entry) {
	if len(entries) == 0 {
		fmt.Fprintf(p.w, "  Nothing to create in %s.\n", p.to.Name)
		return
	}
	fmt.Fprintf(p.w, "  %s in %s:\n", writesHeading(dryRun, entries, p.to), p.to.Name)
	width := keyWidth(entries)
	for _, e := range entries {
		if e.Outcome == sync.Updated {
			fmt.Fprintf(p.w, "    ~ %-*s  %s (%s) → %s: %s\n", width, e.Key,
				p.from.Label(e.Source), p.from.ref(e.Source), p.to.ref(e.Target),
				describeWrite(e.Written))
			continue
		}
		at := ""
		if e.Result != nil {
			if id := p.to.ID(e.Result); id != "" {
				at = fmt.Sprintf(" as %s %s", p.to.Noun, id)
			}
		}
		fmt.Fprintf(p.w, "    + %-*s  %s (%s)%s\n", width, e.Key,
			p.from.Label(e.Source), p.from.ref(e.Source), at)
	}
}

// describeWrite lists the fields an update writes: `lastname "Carter"`,
// with HubSpot's properties and Pipedrive's lists of {value} flattened.
func describeWrite(item sync.Item) string {
	fields := map[string]string{}
	for k, v := range item {
		switch v := v.(type) {
		case map[string]any:
			for name, pv := range v {
				if m, ok := pv.(map[string]any); ok { // legacy {"value": x}
					pv = m["value"]
				}
				fields[name] = fmt.Sprintf("%q", text(pv))
			}
		case []any:
			fields[k] = strings.Join(quoteAll(values(v)), ", ")
		default:
			fields[k] = fmt.Sprintf("%q", text(v))
		}
	}
	parts := make([]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, k+" "+fields[k])
	}
	return strings.Join(parts, ", ")
}

// writesHeading is "Created 5 contacts", "Created 2 and updated 1 contacts"
// or, in a dry run, "Would create (dry run) 5 contacts".
func writesHeading(dryRun bool, entries []sync.Entry, to System) string {
	created := 0
	for _, e := range entries {
		if e.Outcome == sync.Created {
			created++
		}
	}
	updated := len(entries) - created
	verbs := [2]string{"Created", "updated"}
	if dryRun {
		verbs = [2]string{"Would create (dry run)", "update"}
	}
	switch {
	case updated == 0:
		return fmt.Sprintf("%s %d %s", verbs[0], created, to.nouns(created))
	case created == 0:
		first := strings.ToUpper(verbs[1][:1]) + verbs[1][1:]
		if dryRun {
			first = "Would update (dry run)"
		}
		return fmt.Sprintf("%s %d %s", first, updated, to.nouns(updated))
	}
	return fmt.Sprintf("%s %d and %s %d %s", verbs[0], created, verbs[1], updated,
		to.nouns(len(entries)))
}

func (p printer) unchanged(entries []sync.Entry) {
	if len(entries) == 0 {
		return
	}
	var noted []sync.Entry
	for _, e := range entries {
		if p.note(e) != "" {
			noted = append(noted, e)
		}
	}
	width := keyWidth(noted)
	notes := make([]string, len(noted))
	for i, e := range noted {
		notes[i] = fmt.Sprintf("    = %-*s  %s", width, e.Key, p.note(e))
	}
	fmt.Fprintf(p.w, "  Already in %s: %d %s, left alone.", p.to.Name, len(entries),
		p.from.nouns(len(entries)))
	if len(notes) == 0 {
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintln(p.w, " Matches worth a look:")
	for _, n := range notes {
		fmt.Fprintln(p.w, n)
	}
}

// note explains a match that an exact comparison of the first email would
// have missed or that had a choice of emails.
func (p printer) note(e sync.Entry) string {
	emails := p.from.Emails(e.Source)
	var parts []string
	if len(emails) > 0 && emails[0] != e.Key && sync.NormalizeEmail(emails[0]) == e.Key {
		parts = append(parts, fmt.Sprintf("%s has %q: case and spaces are ignored",
			p.from.Name, emails[0]))
	}
	if len(emails) > 1 {
		parts = append(parts, fmt.Sprintf("%s has %d emails, %s", p.from.Name, len(emails),
			strings.Join(quoteAll(emails), ", ")))
	}
	return strings.Join(parts, "; ")
}

// keyWidth is the width of the longest key, in runes.
func keyWidth(entries []sync.Entry) int {
	w := 0
	for _, e := range entries {
		w = max(w, utf8.RuneCountInString(e.Key))
	}
	return w
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func (p printer) problems(r sync.Report, entries []sync.Entry) {
	var outcomes []sync.Outcome // Skipped and Failed last
	for _, e := range entries {
		if !slices.Contains(outcomes, e.Outcome) && e.Outcome != sync.Skipped &&
			e.Outcome != sync.Failed {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	outcomes = append(outcomes, sync.Skipped, sync.Failed)
	for _, o := range outcomes {
		var list []sync.Entry
		for _, e := range entries {
			if e.Outcome == o {
				list = append(list, e)
			}
		}
		if len(list) == 0 {
			continue
		}
		label := strings.ToUpper(string(o[:1])) + string(o[1:])
		if list[0].Planned { // "deleted" → "Would delete (dry run)"
			label = "Would " + strings.TrimSuffix(string(o), "d") + " (dry run)"
		}
		of := p.from
		if o == sync.Deleted { // the records deleted are the other side's
			of = p.to
		}
		fmt.Fprintf(p.w, "  %s %d %s:\n", label, len(list), of.nouns(len(list)))
		for _, e := range list {
			if why := p.why(r, e); why != "" {
				fmt.Fprintf(p.w, "    - %s: %s\n", p.describe(e), why)
			} else {
				fmt.Fprintf(p.w, "    - %s\n", p.describe(e))
			}
		}
	}
}

// describe names the source record of e: `person 27 "Chris Walker"
// <chris@example.com>`.
// A deletion has no source record (it is gone) and names the record of the
// other side that it deletes.
func (p printer) describe(e sync.Entry) string {
	sys, item := p.from, e.Source
	if item == nil && e.Target != nil {
		sys, item = p.to, e.Target
	}
	s := sys.ref(item)
	if l := sys.Label(item); l != "" {
		s += fmt.Sprintf(" %q", l)
	}
	if emails := sys.Emails(item); len(emails) > 0 {
		s += " <" + emails[0] + ">"
	}
	return s
}

// why explains a skipped or failed entry, ending with its reason as the
// summary counts it.
func (p printer) why(r sync.Report, e sync.Entry) string {
	switch e.Reason {
	case sync.ReasonMissingKey:
		return "no email, so it could never be matched again; not copied (missing key)"
	case sync.ReasonDuplicate:
		if j := earlier(r, e); j != nil {
			return fmt.Sprintf("same email as %s, which is the one copied (duplicate)",
				p.from.ref(j.Source))
		}
	case sync.ReasonAmbiguous:
		if why := p.duplicates(e); why != "" {
			return why
		}
		return fmt.Sprintf("its email matches more than one %s, so keysync will not guess "+
			"(ambiguous: %s)", p.to.Noun, e.Detail)
	}
	var why []string
	for _, s := range []string{string(e.Reason), e.Detail} {
		if s != "" {
			why = append(why, s)
		}
	}
	if e.Err != nil {
		why = append(why, e.Err.Error())
	}
	return strings.Join(why, ": ")
}

// duplicates explains an ambiguous entry whose key the opposite direction
// of the report skipped as a duplicate: the records it matches are the
// ones listed there, such as a person entered twice whose first copy an
// earlier run copied to the other system. It returns "" for other entries.
func (p printer) duplicates(e sync.Entry) string {
	back := p.to.Name + "→" + p.from.Name
	var refs []string
	dups := 0
	for _, x := range p.all.Direction(back).Entries {
		if x.Key != e.Key || x.Source == nil {
			continue
		}
		refs = append(refs, p.to.ref(x.Source))
		if x.Reason == sync.ReasonDuplicate {
			dups++
		}
	}
	if dups == 0 || len(refs) < 2 {
		return ""
	}
	where := "above"
	if slices.Index(p.all.Directions(), back) > slices.Index(p.all.Directions(), e.Direction) {
		where = "below"
	}
	skipped := "the duplicate skipped " + where
	if dups > 1 {
		skipped = "the duplicates skipped " + where
	}
	list := strings.Join(refs[:len(refs)-1], ", ") + " and " + refs[len(refs)-1]
	return fmt.Sprintf("its email matches %d %s in %s (%s, %s), so keysync will not guess "+
		"(ambiguous)", len(refs), p.to.Nouns, p.to.Name, list, skipped)
}

// earlier returns the first entry before e that holds e's key, or nil.
func earlier(r sync.Report, e sync.Entry) *sync.Entry {
	for i := range r.Entries {
		x := &r.Entries[i]
		if x.Index < e.Index && x.Key == e.Key && x.Direction == e.Direction {
			return x
		}
	}
	return nil
}

// ref is "person 12", or "person" when the record has no id.
func (s System) ref(item sync.Item) string {
	if id := s.ID(item); id != "" {
		return s.Noun + " " + id
	}
	return s.Noun
}

func (s System) nouns(n int) string {
	if n == 1 {
		return s.Noun
	}
	return s.Nouns
}
