package sync

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outcome is what a sync did, or in a dry run would do, with one record.
type Outcome string

// The outcomes of [OneWay] and [TwoWay].
const (
	// Created means the record was created in the target; Entry.Result holds
	// it as stored.
	Created Outcome = "created"

	// Updated means the matched target record was changed to hold the mapped
	// fields (only with Options.Upsert).
	Updated Outcome = "updated"

	// Unchanged means the record has a match in the target and nothing was
	// written: its mapped fields already agree, or the sync does not update.
	Unchanged Outcome = "unchanged"

	// Skipped means the sync chose not to write the record; Entry.Reason
	// says why.
	Skipped Outcome = "skipped"

	// Failed means a write was due but did not succeed (or was not
	// attempted); Entry.Reason and Entry.Err say why.
	Failed Outcome = "failed"
)

// Reason classifies why a record was skipped or failed, or what is wrong
// with a write that succeeded ([ReasonKeyMismatch]). Entry.Detail adds the
// particulars.
type Reason string

// Reasons for [Skipped] and [Failed] entries, and [ReasonKeyMismatch].
const (
	// ReasonMissingKey: the record has no usable key (no value at the key
	// path, null, empty after normalization, or not a string or number). It
	// is never created, since it could never be matched again.
	ReasonMissingKey Reason = "missing key"

	// ReasonAmbiguous: the record's keys match two or more target records,
	// so the sync cannot tell which one it belongs to.
	ReasonAmbiguous Reason = "ambiguous"

	// ReasonDuplicate: an earlier source record shares a key with this one,
	// or matches the same target record; only the first is written (and
	// nothing is when the first is skipped as ambiguous). A record that the
	// mapping filters out or fails on holds no key, so the next record with
	// the key is not a duplicate of it.
	ReasonDuplicate Reason = "duplicate"

	// ReasonFiltered: the mapping function returned a nil item, which means
	// "do not sync this record".
	ReasonFiltered Reason = "filtered"

	// ReasonMapError: the mapping function returned an error (in Entry.Err).
	ReasonMapError Reason = "map error"

	// ReasonWriteError: the destination rejected this record alone (the
	// error is in Entry.Err); the rest of its batch was applied.
	ReasonWriteError Reason = "write error"

	// ReasonBatchError: the destination failed the record's whole batch; the
	// write may or may not have taken effect.
	ReasonBatchError Reason = "batch error"

	// ReasonNotAttempted: the run stopped (on an authorization error, a rate
	// limit that retrying cannot help, a cancelled context, or batches that
	// kept failing as a whole) before the record's batch was sent.
	ReasonNotAttempted Reason = "not attempted"

	// ReasonKeyMismatch marks a [Created] or [Updated] entry, written or
	// planned, whose record will not match its source on the next run, so
	// that the run after creates it again: the destination stored the key
	// in another form (HubSpot lower-cases emails) or without it, or the
	// other side already holds the key up to case and white space.
	// Entry.Detail says which and how to fix it (usually a Normalize such as
	// [NormalizeEmail]). The outcome stands; the entry is among
	// Report.Problems.
	ReasonKeyMismatch Reason = "key mismatch"
)

// Entry is the fate of one record in a [Report].
type Entry struct {
	// Direction names the systems the record went between, as "from→to":
	// "source→target" by default in [OneWay], "a→b" and "b→a" in [TwoWay]
	// (see the Name options).
	Direction string

	// Index is the record's position in its side's listing, counting from 0.
	Index int

	// Key is the record's normalized match key: the key through which it
	// matched a target record, or else its first key. It is empty for
	// [ReasonMissingKey].
	Key string

	// Outcome is what happened.
	Outcome Outcome

	// Planned marks a [Created] or [Updated] entry whose write was planned
	// but not performed: in a dry run, every write is planned.
	Planned bool

	// Reason classifies [Skipped] and [Failed] entries. On other outcomes it
	// is empty, except for [ReasonKeyMismatch].
	Reason Reason

	// Detail explains Reason in a few words, for people. It may also note
	// something about a write without a Reason: that a create found the
	// record already there (and so is [Updated]), or that an update writes
	// fields the target's listing lacks (see Report.Warnings).
	Detail string

	// Err is the error behind a [Failed] entry or a [ReasonMapError].
	Err error

	// Source is the record as its side listed it.
	Source Item

	// Target is the matched record of the other side, if any.
	Target Item

	// Written is the mapped item sent (or, when planned, to be sent) to the
	// target, nil when nothing is to be written.
	Written Item

	// Result is the record as the target stored it, when it returned one.
	Result Item
}

// String describes the entry in one line, without record contents:
//
//	source→target "dana@example.com": skipped (duplicate: key already held by source record 3)
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(e.Direction)
	if e.Key != "" {
		fmt.Fprintf(&b, " %q: ", e.Key)
	} else {
		fmt.Fprintf(&b, " record %d: ", e.Index)
	}
	b.WriteString(e.label())
	if e.Reason == "" && e.Detail == "" && e.Err == nil {
		return b.String()
	}
	b.WriteString(" (")
	parts := make([]string, 0, 3)
	for _, s := range []string{string(e.Reason), e.Detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if e.Err != nil {
		parts = append(parts, e.Err.Error())
	}
	b.WriteString(strings.Join(parts, ": "))
	b.WriteString(")")
	return b.String()
}

// label is the outcome as people read it: "would create" when planned.
func (e Entry) label() string {
	return outcomeLabel(e.Outcome, e.Planned)
}

func outcomeLabel(o Outcome, planned bool) string {
	if !planned {
		return string(o)
	}
	switch o {
	case Created:
		return "would create"
	case Updated:
		return "would update"
	}
	return "would " + strings.TrimSuffix(string(o), "d")
}

// entryJSON is the JSON form of an Entry.
type entryJSON struct {
	Direction string  `json:"direction"`
	Index     int     `json:"index"`
	Key       string  `json:"key,omitempty"`
	Outcome   Outcome `json:"outcome"`
	Planned   bool    `json:"planned,omitempty"`
	Reason    Reason  `json:"reason,omitempty"`
	Detail    string  `json:"detail,omitempty"`
	Err       string  `json:"error,omitempty"`
	Source    Item    `json:"source,omitempty"`
	Target    Item    `json:"target,omitempty"`
	Written   Item    `json:"written,omitempty"`
	Result    Item    `json:"result,omitempty"`
}

// MarshalJSON encodes the entry as an object with lower-case field names and
// the error as its message ("error").
func (e Entry) MarshalJSON() ([]byte, error) {
	j := entryJSON{
		Direction: e.Direction, Index: e.Index, Key: e.Key, Outcome: e.Outcome,
		Planned: e.Planned, Reason: e.Reason, Detail: e.Detail,
		Source: e.Source, Target: e.Target, Written: e.Written, Result: e.Result,
	}
	if e.Err != nil {
		j.Err = e.Err.Error()
	}
	return json.Marshal(j)
}

// Report tells what a sync did with every record it listed: one [Entry] per
// record and direction, in listing order, each direction after the other.
// It is returned even when the sync fails, holding what was done until then.
//
// A run that the guard refused (see Options.MaxMissingKeys) returns the
// report of its plan: the writes it would have made are [Entry.Planned], as
// in a dry run, but the report is no DryRun, and [Report.Count] leaves them
// out ([Report.CountPlanned] counts them).
type Report struct {
	// DryRun is set when the run only planned: nothing was written, and
	// entries that would be written are [Entry.Planned].
	DryRun bool

	// Started and Finished are when the run began and ended.
	Started, Finished time.Time

	// Entries holds one entry per listed record and direction.
	Entries []Entry

	// Warnings holds notes about the run that concern no single record,
	// such as mapped fields that no listed target record has (see
	// Options.Equal). Each begins with the direction it concerns and ": ".
	Warnings []string

	// directions are the run's directions, set by the orchestrators so that
	// a two-way report reads as such even when one direction has no entry.
	directions []string
}

// Count returns how many entries have outcome o. In a dry run that is what
// the run would do, planned entries included; otherwise it is what was done,
// and planned entries (left by a run the guard refused) are not counted.
func (r Report) Count(o Outcome) int {
	n := 0
	for i := range r.Entries {
		if e := &r.Entries[i]; e.Outcome == o && (r.DryRun || !e.Planned) {
			n++
		}
	}
	return n
}

// CountPlanned returns how many entries have outcome o and are planned: in
// a dry run, or in a run the guard refused, the writes that would be made.
func (r Report) CountPlanned(o Outcome) int {
	n := 0
	for i := range r.Entries {
		if e := &r.Entries[i]; e.Outcome == o && e.Planned {
			n++
		}
	}
	return n
}

// CountReason returns how many entries have reason rs.
func (r Report) CountReason(rs Reason) int {
	n := 0
	for i := range r.Entries {
		if r.Entries[i].Reason == rs {
			n++
		}
	}
	return n
}

// Directions returns the directions of the run: both for a two-way sync, even
// when one has no entries. For a Report built by hand, it returns those of
// the entries in order of appearance.
func (r Report) Directions() []string {
	if r.directions != nil {
		return slices.Clone(r.directions)
	}
	var dirs []string
	for i := range r.Entries {
		if d := r.Entries[i].Direction; !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// Direction returns the report restricted to the entries and warnings of
// one direction, such as "a→b", so that Count and String apply to it alone.
func (r Report) Direction(dir string) Report {
	out := r
	out.Entries, out.Warnings, out.directions = nil, nil, []string{dir}
	for i := range r.Entries {
		if r.Entries[i].Direction == dir {
			out.Entries = append(out.Entries, r.Entries[i])
		}
	}
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, dir+": ") {
			out.Warnings = append(out.Warnings, w)
		}
	}
	return out
}

// Problems returns the entries that need attention, in order: those skipped
// or failed, and writes with a Reason ([ReasonKeyMismatch]). Print each with
// its String method to show what is wrong and why.
func (r Report) Problems() []Entry {
	var out []Entry
	for i := range r.Entries {
		e := &r.Entries[i]
		if e.Outcome == Skipped || e.Outcome == Failed || e.Reason != "" {
			out = append(out, *e)
		}
	}
	return out
}

// String summarizes the report in one line, per direction ("a→b: …; b→a:
// …") when the run had two (see Directions):
//
//	created 5, updated 0, unchanged 30,
//	skipped 3 (missing key 1, ambiguous 1, duplicate 1), failed 0
//
// (on one line).
// Planned writes read "would create" and "would update": in a dry run they
// replace "created" and "updated", and after a run that wrote nothing
// (refused by the guard) they follow them.
func (r Report) String() string {
	dirs := r.Directions()
	if len(dirs) <= 1 {
		return r.summary()
	}
	parts := make([]string, len(dirs))
	for i, d := range dirs {
		parts[i] = d + ": " + r.Direction(d).summary()
	}
	return strings.Join(parts, "; ")
}

// summary is String for the entries taken together.
func (r Report) summary() string {
	type tally struct {
		o       Outcome
		planned bool
		rs      Reason
	}
	counts := map[tally]int{}
	reasons := map[Outcome][]Reason{} // in order of first appearance
	var extra []Outcome
	for i := range r.Entries {
		e := &r.Entries[i]
		counts[tally{o: e.Outcome, planned: e.Planned}]++
		if !isCoreOutcome(e.Outcome) && !slices.Contains(extra, e.Outcome) {
			extra = append(extra, e.Outcome)
		}
		if e.Reason == "" {
			continue
		}
		k := tally{o: e.Outcome, rs: e.Reason}
		if counts[k] == 0 {
			reasons[e.Outcome] = append(reasons[e.Outcome], e.Reason)
		}
		counts[k]++
	}
	slices.Sort(extra)
	order := append([]Outcome{Created, Updated, Unchanged}, extra...)
	order = append(order, Skipped, Failed)
	parts := make([]string, 0, len(order)+2)
	for _, o := range order {
		done, planned := counts[tally{o: o}], counts[tally{o: o, planned: true}]
		writes := o != Unchanged && o != Skipped && o != Failed
		if !r.DryRun || !writes || done > 0 {
			s := fmt.Sprintf("%s %d", o, done)
			if rs := reasons[o]; len(rs) > 0 {
				sub := make([]string, len(rs))
				for i, reason := range rs {
					sub[i] = fmt.Sprintf("%s %d", reason, counts[tally{o: o, rs: reason}])
				}
				s += " (" + strings.Join(sub, ", ") + ")"
			}
			parts = append(parts, s)
		}
		if writes && (r.DryRun || planned > 0) {
			parts = append(parts, fmt.Sprintf("%s %d", outcomeLabel(o, true), planned))
		}
	}
	return strings.Join(parts, ", ")
}

func isCoreOutcome(o Outcome) bool {
	switch o {
	case Created, Updated, Unchanged, Skipped, Failed:
		return true
	}
	return false
}

// reportJSON is the JSON form of a Report.
type reportJSON struct {
	DryRun   bool            `json:"dryRun,omitempty"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	Counts   map[Outcome]int `json:"counts"`
	Planned  map[Outcome]int `json:"planned,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Entries  []Entry         `json:"entries"`
}

// MarshalJSON encodes the report with lower-case field names, adding the
// number of entries per outcome under "counts" (as [Report.Count] counts
// them) and of planned entries under "planned" (as [Report.CountPlanned]).
func (r Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{
		DryRun: r.DryRun, Started: r.Started, Finished: r.Finished,
		Counts: map[Outcome]int{}, Planned: map[Outcome]int{},
		Warnings: r.Warnings, Entries: r.Entries,
	}
	for i := range r.Entries {
		e := &r.Entries[i]
		if r.DryRun || !e.Planned {
			j.Counts[e.Outcome]++
		}
		if e.Planned {
			j.Planned[e.Outcome]++
		}
	}
	if j.Entries == nil {
		j.Entries = []Entry{}
	}
	return json.Marshal(j)
}
