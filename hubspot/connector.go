package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"math"
	"slices"
	"strconv"
	stdsync "sync"
	"time"

	"github.com/keysync/sync"
	"github.com/keysync/sync/internal/jsonnum"
)

// DefaultProperties returns the contact properties a [Contacts] connector
// lists when ContactsOptions.Properties is nil: email, firstname, lastname,
// phone, company, website, jobtitle, lifecyclestage and
// hs_additional_emails, the standard properties syncs commonly map. The
// slice is new on every call, so it may be extended:
//
//	opts.Properties = append(hubspot.DefaultProperties(), "favourite_colour")
func DefaultProperties() []string {
	return []string{
		"email", "firstname", "lastname", "phone", "company", "website", "jobtitle",
		"lifecyclestage", "hs_additional_emails",
	}
}

// systemProperties come with every read whatever it names.
var systemProperties = []string{"createdate", "hs_object_id", "lastmodifieddate"}

// ContactsOptions configures a [Contacts] connector. The zero value lists
// [DefaultProperties] in the CRM objects API shape.
type ContactsOptions struct {
	// Properties names the contact properties to read; email is added when
	// missing, since it is the key HubSpot dedupes on. Nil means
	// [DefaultProperties]. createdate, hs_object_id and lastmodifieddate
	// come with every record anyway.
	//
	// It must name every property the sync writes, that is every property
	// the mapping function sets. A sync decides whether a contact needs an
	// update by comparing what it would write with what List yields; a
	// written property that List does not carry always looks changed, so
	// the contact would be updated again on every run. [Contacts.Write]
	// logs a Warn (once per property) when it writes a property that is not
	// listed.
	Properties []string

	// Legacy presents records in the shape of HubSpot's legacy contacts v1
	// API (see [LegacyShape]), so that key paths written for n8n's v1
	// HubSpot node, such as "identity-profiles[0].identities[0].value",
	// keep working.
	Legacy bool
}

// Contacts is the [sync.Connector] for HubSpot contacts. Besides listing
// and writing it implements [sync.Deleter] (archiving),
// [sync.KeySearcher] (by email), [sync.IncrementalSource] and
// [sync.Identifier]. It is safe for concurrent use.
type Contacts struct {
	c      *Client
	props  []string        // the properties List asks for
	listed map[string]bool // props as a set
	shown  []string        // the properties a listed record carries
	opts   ContactsOptions

	mu     stdsync.Mutex
	warned map[string]bool // unlisted properties already warned about
}

var (
	_ sync.Connector         = (*Contacts)(nil)
	_ sync.Deleter           = (*Contacts)(nil)
	_ sync.KeySearcher       = (*Contacts)(nil)
	_ sync.IncrementalSource = (*Contacts)(nil)
	_ sync.Identifier        = (*Contacts)(nil)
)

// NewContacts returns the contacts connector over c. The options are
// copied.
func NewContacts(c *Client, opts ContactsOptions) *Contacts {
	props := slices.Clone(opts.Properties)
	if props == nil {
		props = DefaultProperties()
	}
	if !slices.Contains(props, "email") {
		props = append(props, "email")
	}
	s := &Contacts{c: c, opts: opts, props: props, listed: map[string]bool{},
		warned: map[string]bool{}}
	for _, p := range props {
		s.listed[p] = true
	}
	s.shown = append(slices.Clone(props), systemProperties...)
	s.opts.Properties = props
	return s
}

// List yields every active contact, 100 per request, in the configured
// shape. The sequence may be used more than once; each use lists afresh.
// It follows the rules of [sync.Source]: a failure (an error matching
// [sync.ErrUnauthorized] or [sync.ErrRateLimited], say) is yielded once
// and ends it; a done ctx ends it with ctx.Err().
func (s *Contacts) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	return s.shaped(s.c.Contacts(ctx, ListOptions{Properties: s.props}))
}

func (s *Contacts) shaped(seq iter.Seq2[sync.Item, error]) iter.Seq2[sync.Item, error] {
	return func(yield func(sync.Item, error) bool) {
		for item, err := range seq {
			if !yield(s.shape(item), err) {
				return
			}
		}
	}
}

// shape returns a record in the connector's listing shape.
func (s *Contacts) shape(item sync.Item) sync.Item {
	if item != nil && s.opts.Legacy {
		return LegacyShape(item)
	}
	return item
}

// MaxBatch returns [MaxBatchInputs], HubSpot's batch size.
func (s *Contacts) MaxBatch() int { return MaxBatchInputs }

// Write applies creates and updates, one [sync.WriteResult] per write in
// order. Write.Item may be in the CRM objects shape {"properties":
// {...}} or a legacy v1 shape (see [WriteProperties]).
//
// Creates whose item has an email go through batch upsert by email, so
// that repeating a create (after a timeout, or on the next run) updates
// the contact instead of duplicating it. Creates without an email use
// batch create, one such contact per request so that HubSpot's answer
// cannot be matched to the wrong write; they are not repeated once they
// may have reached HubSpot, and such a failure is reported on the item. A
// create that HubSpot refuses because the email already belongs to a
// contact ("Contact already exists. Existing ID: N") becomes an update of
// contact N. Updates go through batch update by the id of Write.Target.
//
// The result of a create that found its contact already there, an upsert
// that HubSpot answered with "new": false or a create turned into an
// update after a 409, has [sync.WriteResult.Existed] set. So does, in
// rare cases, a create whose first attempt reached HubSpot but whose
// answer was lost: the upsert is sent again and finds the contact the
// first attempt created.
//
// Writing a property that the connector does not list (see
// ContactsOptions.Properties) logs a Warn once per property: the next
// sync would see it as changed again.
//
// Each result carries the record HubSpot stored, in the listing shape,
// limited to the listed properties that the write response carries. A
// bad input (an invalid email, an unknown property) fails only its own
// result, matching [sync.ErrInvalid]. The error return is for failures
// that no single write explains, such as [sync.ErrUnauthorized] or a
// DAILY [*RateLimitError]; the results then still cover every write.
//
// Write is called by the orchestrators from one goroutine; it makes up to
// three batch requests per call (upsert, create, update), plus one per
// further create without an email, and more when HubSpot refuses a whole
// batch and the bad inputs must be isolated.
func (s *Contacts) Write(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]sync.WriteResult, len(batch))
	var upserts, creates, updates pending
	existed := make([]bool, len(batch)) // creates turned into updates
	for i, w := range batch {
		in, err := s.input(w)
		if err == nil {
			s.warnUnlisted(ctx, in.Properties)
		}
		switch {
		case err != nil:
			out[i].Err = err
		case w.Op == sync.OpUpdate:
			updates.add(i, in)
		case in.Properties["email"] != "":
			in.ID, in.IDProperty = in.Properties["email"], "email"
			upserts.add(i, in)
		default:
			creates.add(i, in)
		}
	}
	for _, step := range []struct {
		p      *pending
		run    func(context.Context, []Input) ([]Result, error)
		upsert bool
	}{{&upserts, s.c.BatchUpsert, true}, {&creates, s.c.BatchCreate, false}} {
		if len(step.p.inputs) == 0 {
			continue
		}
		res, err := step.run(ctx, step.p.inputs)
		if err != nil {
			return s.failRest(out, step.p, res, err), err
		}
		for k, r := range res {
			var ie *ItemError
			if errors.As(r.Err, &ie) && ie.ExistingID != "" {
				// The email is taken: update the contact that has it.
				in := step.p.inputs[k]
				updates.add(step.p.index[k], Input{ID: ie.ExistingID, Properties: in.Properties})
				existed[step.p.index[k]] = true
				continue
			}
			out[step.p.index[k]] = s.result(r)
			// An upsert that created nothing updated a contact already there.
			out[step.p.index[k]].Existed = step.upsert && r.Err == nil && !r.New
		}
	}
	if len(updates.inputs) == 0 {
		return out, nil
	}
	res, err := s.c.BatchUpdate(ctx, updates.inputs)
	if err != nil {
		return s.failRest(out, &updates, res, err), err
	}
	for k, r := range res {
		i := updates.index[k]
		out[i] = s.result(r)
		out[i].Existed = r.Err == nil && existed[i]
	}
	return out, nil
}

// warnUnlisted logs a Warn for each written property that List does not
// carry, once per property for the life of the connector.
func (s *Contacts) warnUnlisted(ctx context.Context, props map[string]string) {
	var fresh []string
	s.mu.Lock()
	for name := range props {
		if !s.listed[name] && !s.warned[name] {
			s.warned[name] = true
			fresh = append(fresh, name)
		}
	}
	s.mu.Unlock()
	slices.Sort(fresh)
	for _, name := range fresh {
		s.c.log.WarnContext(ctx, "hubspot: writing a contact property the connector does "+
			"not list; syncs will see it as changed and update it on every run. "+
			"Add it to ContactsOptions.Properties", slog.String("property", name))
	}
}

// failRest handles a batch method's fatal error: p's results (which cover
// every input, those with an unknown outcome carrying err) go to their
// writes, and every write without an outcome yet, never sent, gets err.
func (s *Contacts) failRest(out []sync.WriteResult, p *pending, res []Result,
	err error) []sync.WriteResult {
	for k, r := range res {
		out[p.index[k]] = s.result(r)
	}
	for i := range out {
		if out[i].Item == nil && out[i].Err == nil {
			out[i].Err = err
		}
	}
	return out
}

// pending collects the inputs of one batch method with the index of the
// write each came from.
type pending struct {
	index  []int
	inputs []Input
}

func (p *pending) add(i int, in Input) {
	p.index = append(p.index, i)
	p.inputs = append(p.inputs, in)
}

// input turns a write into a batch input.
func (s *Contacts) input(w sync.Write) (Input, error) {
	props, err := WriteProperties(w.Item)
	if err != nil {
		return Input{}, err
	}
	switch w.Op {
	case sync.OpCreate:
		if email, ok := props["email"]; ok {
			props["email"] = sync.NormalizeEmail(email)
		}
		return Input{Properties: props}, nil
	case sync.OpUpdate:
		id := s.RecordID(w.Target)
		if id == "" {
			return Input{}, invalidf("update target has no contact id")
		}
		return Input{ID: id, Properties: props}, nil
	}
	return Input{}, invalidf("unknown write op %q", w.Op)
}

// result turns a batch result into a write result in the listing shape.
func (s *Contacts) result(r Result) sync.WriteResult {
	if r.Err != nil {
		return sync.WriteResult{Err: r.Err}
	}
	return sync.WriteResult{Item: s.shape(s.project(r.Item))}
}

// project keeps only the listed properties of a write response, so that
// a write result looks like the record as List yields it.
func (s *Contacts) project(item sync.Item) sync.Item {
	props, ok := item["properties"].(map[string]any)
	if !ok {
		return item
	}
	kept := make(map[string]any, len(s.shown))
	for _, name := range s.shown {
		if v, ok := props[name]; ok {
			kept[name] = v
		}
	}
	item["properties"] = kept
	return item
}

// Delete archives the given records (as List yielded them), one result per
// record in order. Archiving a contact that is already archived or gone
// succeeds. A record without an id fails alone with [sync.ErrInvalid]. The
// calling rules are those of Write.
func (s *Contacts) Delete(ctx context.Context, batch []sync.Item) ([]sync.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]sync.WriteResult, len(batch))
	var ids []string
	var index []int
	for i, item := range batch {
		id := s.RecordID(item)
		if id == "" {
			out[i].Err = invalidf("record has no contact id")
			continue
		}
		ids = append(ids, id)
		index = append(index, i)
	}
	if len(ids) == 0 {
		return out, nil
	}
	res, err := s.c.BatchArchive(ctx, ids)
	for k, r := range res {
		if errors.Is(r.Err, sync.ErrNotFound) {
			r.Err = nil
		}
		out[index[k]].Err = r.Err
	}
	return out, err
}

// SearchKey returns the contacts whose primary email equals key (trimmed,
// case-folded), in the listing shape, or an empty slice. It uses HubSpot's
// search, whose index lags writes by a few seconds: a contact created or
// changed moments ago may be missing. It may be called concurrently;
// searches share the client's search rate limit.
func (s *Contacts) SearchKey(ctx context.Context, key string) ([]sync.Item, error) {
	if sync.NormalizeEmail(key) == "" {
		return []sync.Item{}, nil
	}
	items, err := s.c.SearchByEmail(ctx, key, s.props)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i] = s.shape(items[i])
	}
	return items, nil
}

// ListModifiedSince yields the contacts whose lastmodifieddate is at or
// after since, oldest change first, with the rules of List. It searches
// with lastmodifieddate GTE since, sorted ascending, 200 per request.
// HubSpot lets one search page through 10,000 results; near that ceiling
// it searches again from the last timestamp seen, skipping contacts it has
// already yielded at that timestamp. Should more than 10,000 contacts share
// one timestamp, it falls back to listing every contact and keeping those
// modified since.
//
// Being a search, it may miss changes made in the last few seconds (the
// index lags writes); pass a since somewhat earlier than the end of the
// previous run, as [sync.IncrementalSource] asks.
func (s *Contacts) ListModifiedSince(ctx context.Context, since time.Time) iter.Seq2[sync.Item,
	error] {
	props := s.props
	if props != nil && !slices.Contains(props, "lastmodifieddate") {
		props = append(slices.Clone(props), "lastmodifieddate")
	}
	return s.shaped(func(yield func(sync.Item, error) bool) {
		mark := since
		var atMark map[string]bool // ids yielded whose timestamp is mark
		for {
			req := SearchRequest{
				FilterGroups: []FilterGroup{{Filters: []Filter{{
					PropertyName: "lastmodifieddate", Operator: OpGTE,
					Value: strconv.FormatInt(mark.UnixMilli(), 10),
				}}}},
				Sorts:      []Sort{{PropertyName: "lastmodifieddate", Direction: Ascending}},
				Properties: props,
				Limit:      MaxSearchPageSize,
			}
			last, lastIDs, ceiling := mark, map[string]bool{}, false
			for item, err := range s.c.Search(ctx, req) {
				if errors.Is(err, ErrSearchCeiling) {
					ceiling = true
					break
				}
				if err != nil {
					yield(nil, err)
					return
				}
				id := stringOf(item["id"])
				t, _ := modifiedAt(item)
				if atMark[id] && t.Equal(mark) {
					continue
				}
				if t.After(last) {
					last, lastIDs = t, map[string]bool{}
				}
				lastIDs[id] = true
				if !yield(item, nil) {
					return
				}
			}
			if !ceiling {
				return
			}
			if !last.After(mark) {
				s.c.log.WarnContext(ctx, "hubspot: over 10,000 contacts share one "+
					"modification time; listing all contacts instead",
					slog.Time("lastmodifieddate", mark))
				for id := range atMark {
					lastIDs[id] = true
				}
				s.listSince(ctx, mark, lastIDs, yield)
				return
			}
			mark, atMark = last, lastIDs
		}
	})
}

// listSince yields the contacts modified at or after since by listing
// them all, except those in skip modified exactly at since (already
// yielded).
func (s *Contacts) listSince(ctx context.Context, since time.Time, skip map[string]bool,
	yield func(sync.Item, error) bool) {
	props := s.props
	if props != nil && !slices.Contains(props, "lastmodifieddate") {
		props = append(slices.Clone(props), "lastmodifieddate")
	}
	for item, err := range s.c.Contacts(ctx, ListOptions{Properties: props}) {
		if err != nil {
			yield(nil, err)
			return
		}
		t, ok := modifiedAt(item)
		if ok && (t.Before(since) || t.Equal(since) && skip[stringOf(item["id"])]) {
			continue
		}
		if !yield(item, nil) {
			return
		}
	}
}

// RecordID returns the contact id of a record in either shape: "id", or
// "vid" in the legacy shape. It returns "" when there is none.
func (s *Contacts) RecordID(item sync.Item) string {
	if id := idString(item["id"]); id != "" {
		return id
	}
	return idString(item["vid"])
}

// idString returns an id held as a string, a json.Number, any Go integer
// kind, or a float with an integral value (as JSON decodes numbers); ""
// for anything else, including fractions.
func idString(v any) string {
	if s, ok := jsonnum.IntegerText(v); ok {
		return s
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return idString(f)
		}
	case float32:
		return idString(float64(v))
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return strconv.FormatInt(int64(v), 10)
		}
	}
	return ""
}

// ModifiedAt returns when the contact was last modified: "updatedAt", or
// properties.lastmodifieddate (ISO-8601, or epoch milliseconds in the
// legacy shape's "value").
func (s *Contacts) ModifiedAt(item sync.Item) (time.Time, bool) {
	return modifiedAt(item)
}

func modifiedAt(item sync.Item) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, stringOf(item["updatedAt"])); err == nil {
		return t, true
	}
	props, _ := item["properties"].(map[string]any)
	v := props["lastmodifieddate"]
	if m, ok := v.(map[string]any); ok {
		v = m["value"]
	}
	s := stringOf(v)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}
