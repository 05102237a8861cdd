package pipedrive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"

	keysync "github.com/keysync/sync"
)

// errDiffers means a person added since an ambiguous create holds its
// address but not the other fields the create sent: someone else's person,
// or ours as Pipedrive rewrote it. Either way the connector cannot tell.
var errDiffers = errors.New("pipedrive: a person added since the create holds its " +
	"address but not the other fields sent")

// writeBatch is the state of one Write call: its creates and the person
// ids its writes have taken, so that no two writes take the same person.
type writeBatch struct {
	p       *Persons
	batch   []keysync.Write
	creates []*pendingCreate // by write index; nil for other writes

	mu      stdsync.Mutex
	claimed map[int64]bool
}

// pendingCreate is one create write across its attempts.
type pendingCreate struct {
	body     keysync.Item // the v2 body sent
	email    string       // the address to look for
	bound    int64        // the newest id known before the last attempt
	attempts int
	err      error // the last attempt's error
	open     bool  // the last attempt's outcome is unknown and not settled
}

func newWriteBatch(p *Persons, batch []keysync.Write) *writeBatch {
	return &writeBatch{p: p, batch: batch, creates: make([]*pendingCreate, len(batch)),
		claimed: map[int64]bool{}}
}

// learnNewest asks Pipedrive for the newest person id when the batch holds
// a create and the connector knows none yet. Without it an ambiguous
// create is looked for among all persons, newest first, which for a large
// company ends in the search. Only errors that stop the batch are
// returned.
func (wb *writeBatch) learnNewest(ctx context.Context) error {
	p := wb.p
	if p.newest.Load() >= 0 || !slices.ContainsFunc(wb.batch, func(w keysync.Write) bool {
		return w.Op == keysync.OpCreate
	}) {
		return nil
	}
	items, _, err := p.c.PersonsPage(ctx, ListOptions{SortBy: "id", SortDesc: true, Limit: 1}, "")
	if err != nil {
		if batchFatal(err) || ctx.Err() != nil {
			return err
		}
		p.c.log.WarnContext(ctx, "pipedrive: cannot read the newest person id", "error", err)
		return nil
	}
	p.saw(0)
	for _, it := range items {
		p.sawItem(it)
	}
	return nil
}

func (wb *writeBatch) claim(id int64) {
	wb.mu.Lock()
	defer wb.mu.Unlock()
	wb.claimed[id] = true
}

// first makes the first attempt of write i. pending reports a create whose
// outcome is unknown, to be settled by resolve once every write of the
// batch has made its first attempt and taken its person.
func (wb *writeBatch) first(ctx context.Context, i int) (item keysync.Item, err error,
	pending bool) {
	w := wb.batch[i]
	switch w.Op {
	case keysync.OpCreate:
		body, err := WriteBody(w.Item, true)
		if err != nil {
			return nil, err, false
		}
		email := strings.TrimSpace(w.Key)
		if !strings.Contains(email, "@") {
			email = primaryEmail(body)
		}
		pc := &pendingCreate{body: body, email: email}
		wb.creates[i] = pc
		return wb.attempt(ctx, pc)
	case keysync.OpUpdate:
		id, ok := idOf(w.Target)
		if !ok {
			return nil, fmt.Errorf("pipedrive: updating person: target has no id: %w",
				keysync.ErrInvalid), false
		}
		wb.claim(id)
		item, err := wb.p.c.Update(ctx, id, w.Item)
		return item, err, false
	}
	return nil, fmt.Errorf("pipedrive: unknown write op %q: %w", w.Op, keysync.ErrInvalid), false
}

// attempt sends one create. pending reports an unknown outcome that a
// search may settle.
func (wb *writeBatch) attempt(ctx context.Context, pc *pendingCreate) (keysync.Item, error,
	bool) {
	pc.bound = max(wb.p.newest.Load(), 0)
	pc.attempts++
	created, err := wb.p.c.create(ctx, pc.body)
	pc.err, pc.open = err, false
	switch {
	case err == nil:
		id, _ := idOf(created) // create checked it
		wb.claim(id)
		wb.p.saw(id)
		return created, nil, false
	case !OutcomeUnknown(err):
		return nil, err, false
	case ctx.Err() != nil || pc.email == "":
		return nil, unknownOutcome(pc.email, err), false
	}
	pc.open = true
	return nil, nil, true
}

// pendingGroups returns the writes whose create is pending, grouped by
// address in batch order. Only writes of one group can take the same
// person, so groups are settled concurrently and the writes of a group
// one after another.
func (wb *writeBatch) pendingGroups() [][]int {
	var groups [][]int
	index := map[string]int{}
	for i, pc := range wb.creates {
		if pc == nil || !pc.open {
			continue
		}
		key := strings.ToLower(pc.email)
		g, ok := index[key]
		if !ok {
			g = len(groups)
			index[key] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// resolve settles the pending create of write i: it uses the person the
// create stored if it finds one, creates again if it finds none, and
// reports ErrOutcomeUnknown when it cannot tell.
func (wb *writeBatch) resolve(ctx context.Context, i int) (keysync.Item, error) {
	pc := wb.creates[i]
	for {
		found, err := wb.findCreated(ctx, pc)
		switch {
		case err != nil:
			pc.open = false
			return nil, unknownOutcome(pc.email, errors.Join(pc.err, err))
		case found != nil:
			pc.open = false
			wb.p.c.log.DebugContext(ctx, "pipedrive: ambiguous create found stored",
				"attempt", pc.attempts)
			return found, nil
		case pc.attempts >= wb.p.opts.MaxCreateAttempts:
			pc.open = false
			return nil, unknownOutcome(pc.email, pc.err)
		}
		item, err, pending := wb.attempt(ctx, pc)
		if !pending {
			return item, err
		}
	}
}

// unsettled returns the error of write i when its create is pending while
// the batch stops, or nil.
func (wb *writeBatch) unsettled(i int, batchErr error) error {
	if pc := wb.creates[i]; pc != nil && pc.open {
		return unknownOutcome(pc.email, errors.Join(batchErr, pc.err))
	}
	return nil
}

func unknownOutcome(email string, cause error) error {
	return fmt.Errorf("creating person %q: %w: %w", email, ErrOutcomeUnknown, cause)
}

// findCreated looks for the person pc's last attempt may have stored: one
// with a larger id than pc.bound that holds pc.email and every field sent,
// and that no other write of the batch took. It reads the newest persons
// from the list (current, unlike the search index); when more were added
// than maxScanPages pages hold, it also runs the email search, a few times
// with backoff. It returns nil, nil only when it is sure there is none.
func (wb *writeBatch) findCreated(ctx context.Context, pc *pendingCreate) (keysync.Item, error) {
	cands, complete, err := wb.scanNew(ctx, pc)
	if err != nil {
		return nil, err
	}
	found, differs := wb.pick(cands, pc)
	if found != nil || complete {
		if differs && found == nil {
			return nil, errDiffers
		}
		return found, nil
	}
	wait := wb.p.opts.SearchBackoff
	for i := range wb.p.opts.SearchAttempts {
		if i > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait *= 2
		}
		hits, err := wb.p.c.SearchByEmail(ctx, pc.email)
		if err != nil {
			return nil, err
		}
		found, d := wb.pick(append(hits, cands...), pc)
		if found != nil {
			return found, nil
		}
		differs = differs || d
	}
	if differs {
		return nil, errDiffers
	}
	return nil, errors.New("pipedrive: too many persons were added since the create " +
		"to rule it out, and the search does not show it")
}

// scanNew reads the persons with an id above pc.bound, newest first, for
// at most maxScanPages pages, and returns those holding pc.email. complete
// reports whether it reached pc.bound or the end of the list.
func (wb *writeBatch) scanNew(ctx context.Context, pc *pendingCreate) (
	cands []keysync.Item, complete bool, err error) {
	opts := ListOptions{SortBy: "id", SortDesc: true}
	seen := map[string]bool{}
	cursor := ""
	for range maxScanPages {
		items, next, err := wb.p.c.PersonsPage(ctx, opts, cursor)
		if err != nil {
			return nil, false, fmt.Errorf("reading the newest persons: %w", err)
		}
		reached := false
		for _, it := range items {
			id, ok := idOf(it)
			switch {
			case !ok:
			case id <= pc.bound:
				reached = true
			case hasEmail(it, pc.email):
				cands = append(cands, it)
			}
		}
		if reached || next == "" {
			return cands, true, nil
		}
		if seen[next] {
			return nil, false, fmt.Errorf("reading the newest persons: %w", ErrRepeatedCursor)
		}
		seen[next] = true
		cursor = next
	}
	return cands, false, nil
}

// pick takes, among cands, the person with the lowest id above pc.bound
// that is not deleted, holds pc.email and every field sent, and was not
// taken by another write. differs reports a candidate that holds the
// address but not the other fields.
func (wb *writeBatch) pick(cands []keysync.Item, pc *pendingCreate) (
	found keysync.Item, differs bool) {
	type cand struct {
		id   int64
		item keysync.Item
	}
	var list []cand
	for _, it := range cands {
		id, ok := idOf(it)
		if ok && id > pc.bound && !isDeleted(it) && hasEmail(it, pc.email) {
			list = append(list, cand{id, it})
		}
	}
	slices.SortFunc(list, func(a, b cand) int { return cmp.Compare(a.id, b.id) })

	wb.mu.Lock()
	defer wb.mu.Unlock()
	for _, c := range list {
		switch {
		case wb.claimed[c.id]:
		case matchesSent(c.item, pc.body):
			wb.claimed[c.id] = true
			wb.p.saw(c.id)
			return c.item, false
		default:
			differs = true
		}
	}
	return nil, differs
}

// matchesSent reports whether person (v2 shape) holds what a create sent
// in body (a [WriteBody] result): the same name; every sent email address
// (ignoring case) and phone number; the same owner, organization,
// visibility, labels and marketing status where sent; and, for custom
// fields sent with a string, number, boolean or null value, the same
// value. Other fields, such as notes or custom fields with structured
// values that Pipedrive may reshape, are not compared.
func matchesSent(person, body keysync.Item) bool {
	for k, v := range body {
		var ok bool
		switch k {
		case "name", "marketing_status":
			ok = strings.TrimSpace(text(person[k])) == strings.TrimSpace(text(v))
		case "emails", "phones":
			ok = containsAll(contactValues(person[k]), contactValues(v))
		case "owner_id", "org_id", "visible_to":
			ok = v == nil && k != "org_id" || numText(person[k]) == numText(v)
		case "label_ids":
			ok = sameNumbers(person[k], v)
		case "custom_fields":
			ok = sameScalars(person[k], v)
		default:
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

func text(v any) string {
	s, _ := v.(string)
	return s
}

// numText renders a number (or a numeric string) in one canonical form,
// and anything else as "".
func numText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return numText(string(v))
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	case int64:
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	}
	return ""
}

// contactValues returns the values of an emails or phones list, trimmed.
func contactValues(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		switch e := e.(type) {
		case string:
			out = append(out, strings.TrimSpace(e))
		case map[string]any:
			if s, ok := e["value"].(string); ok {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !containsFold(have, w) {
			return false
		}
	}
	return true
}

// sameNumbers compares two lists of numbers as sets.
func sameNumbers(a, b any) bool {
	set := func(v any) []string {
		list, _ := v.([]any)
		out := make([]string, 0, len(list))
		for _, x := range list {
			out = append(out, numText(x))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(set(a), set(b))
}

// sameScalars reports whether the custom fields stored hold the sent
// string, number, boolean and null values.
func sameScalars(stored, sent any) bool {
	have, _ := stored.(map[string]any)
	want, _ := sent.(map[string]any)
	for k, w := range want {
		h := have[k]
		switch w := w.(type) {
		case nil:
			if h != nil {
				return false
			}
		case string:
			if hs, ok := h.(string); ok && hs == w || w == "" && h == nil {
				continue
			}
			if n := numText(w); n == "" || n != numText(h) {
				return false
			}
		case bool:
			if h != w {
				return false
			}
		case json.Number, float64, int, int64:
			if numText(h) != numText(w) {
				return false
			}
		}
	}
	return true
}
