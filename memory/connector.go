package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/internal/jsonnum"
)

// UpdatedField is the field in which [Connector] keeps each record's
// modification time, as an RFC 3339 string in UTC with nanoseconds.
const UpdatedField = "updated_at"

// DefaultMaxBatch is the MaxBatch of a [Connector] created without
// [WithMaxBatch].
const DefaultMaxBatch = 100

// Errors of [Connector].
var (
	// ErrInjected is the error of injected faults given a nil error.
	ErrInjected = errors.New("memory: injected failure")

	// ErrNoSearchKey is returned by SearchKey when the connector was created
	// without [WithSearchKey] or [WithSearchKeys].
	ErrNoSearchKey = errors.New("memory: no search key configured")
)

// Connector is an in-memory [keysync.Connector] with every optional
// capability and with fault injection; see the package documentation. Its
// zero value is not usable: call [New]. It is safe for concurrent use.
type Connector struct {
	idField    string
	maxBatch   int
	now        func() time.Time
	searchKeys keysync.KeysFunc
	searchNorm keysync.Normalizer
	validate   func(keysync.Item) error

	mu      sync.Mutex
	records map[string]*record
	order   []slot // creation order, including records since deleted or replaced
	nextID  int
	nextSeq int
	faults  faults
	stats   Stats
	onWrite func(keysync.Write)
}

// record is one stored record. Its item is never modified once stored:
// updates store a new map, so snapshots can be copied outside the lock.
type record struct {
	item    keysync.Item
	updated time.Time
	seq     int // position in creation order, kept across updates
}

// slot is a place in the creation order; it is stale when the record with
// its ID is gone or was created again with another seq.
type slot struct {
	id  string
	seq int
}

// faults are the injected failures, by operation and call number.
type faults struct {
	items     map[int]error // operation number → its error
	after     int           // operations after which everything fails; -1 = never
	afterErr  error
	calls     map[int]error // Write/Delete call number → its error
	listAfter int           // records a listing yields before failing; -1 = never
	listErr   error
}

// Stats counts what a [Connector] was asked to do.
type Stats struct {
	// Lists counts calls of List and ListModifiedSince.
	Lists int
	// Calls counts calls of Write and Delete.
	Calls int
	// Ops counts the records passed to Write and Delete that were looked at
	// (a call that fails as a whole or stops on its context may leave some
	// out).
	Ops int
	// Created, Updated and Deleted count successful operations.
	Created, Updated, Deleted int
}

// Option configures a [Connector] in [New].
type Option func(*Connector)

// WithIDField sets the field holding record IDs (default "id").
func WithIDField(name string) Option {
	return func(c *Connector) { c.idField = name }
}

// WithMaxBatch sets the connector's MaxBatch (default [DefaultMaxBatch]);
// values below 1 count as 1.
func WithMaxBatch(n int) Option {
	return func(c *Connector) { c.maxBatch = max(n, 1) }
}

// WithClock sets the clock for modification times (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Connector) { c.now = now }
}

// WithSearchKey makes SearchKey find records by the value at a key path
// (read with [keysync.Lookup]), normalized with normalize when it is not
// nil, exactly as [keysync.OneWay] would match them.
func WithSearchKey(path string, normalize keysync.Normalizer) Option {
	return WithSearchKeys(func(item keysync.Item) []any {
		v, ok := keysync.Lookup(item, path)
		if !ok {
			return nil
		}
		return []any{v}
	}, normalize)
}

// WithSearchKeys is [WithSearchKey] for records with several keys, such as
// those of [keysync.EachKey].
func WithSearchKeys(keys keysync.KeysFunc, normalize keysync.Normalizer) Option {
	return func(c *Connector) { c.searchKeys, c.searchNorm = keys, normalize }
}

// WithValidator makes Write reject, per record, every create or update that
// validate returns an error for; the error becomes that record's result.
// validate sees the record as it would be stored (for an update, the stored
// record with the update merged in), without its timestamp and, for a
// create, without an ID. Wrap [keysync.ErrInvalid] or [keysync.ErrConflict]
// in the error as a real system would. validate must not call the
// connector.
func WithValidator(validate func(item keysync.Item) error) Option {
	return func(c *Connector) { c.validate = validate }
}

// New returns an empty connector.
func New(opts ...Option) *Connector {
	c := &Connector{
		idField:  "id",
		maxBatch: DefaultMaxBatch,
		now:      time.Now,
		records:  map[string]*record{},
		nextID:   1,
	}
	c.faults.clear()
	for _, o := range opts {
		o(c)
	}
	return c
}

func (f *faults) clear() {
	*f = faults{after: -1, listAfter: -1}
}

// Put stores copies of items as they are, without going through Write, and
// returns their IDs. An item that has an ID keeps it (replacing any record
// with that ID); others get the next free one. An item without an
// [UpdatedField] gets the current time.
func (c *Connector) Put(items ...keysync.Item) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, len(items))
	for i, it := range items {
		item := cloneItem(it)
		id := idString(item[c.idField])
		if id == "" {
			id = c.newID()
		} else if n, err := strconv.Atoi(id); err == nil && n >= c.nextID {
			c.nextID = n + 1
		}
		item[c.idField] = id
		updated, ok := parseTime(item[UpdatedField])
		if !ok {
			updated = c.now()
			item[UpdatedField] = formatTime(updated)
		}
		c.store(id, &record{item: item, updated: updated})
		ids[i] = id
	}
	return ids
}

// Items returns copies of all records in creation order.
func (c *Connector) Items() []keysync.Item {
	recs := c.snapshot(time.Time{})
	out := make([]keysync.Item, len(recs))
	for i, r := range recs {
		out[i] = cloneItem(r.item)
	}
	return out
}

// Get returns a copy of the record with the given ID.
func (c *Connector) Get(id string) (keysync.Item, bool) {
	c.mu.Lock()
	r, ok := c.records[id]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return cloneItem(r.item), true
}

// Stats returns the counters.
func (c *Connector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// FailWrite makes the n-th record written or deleted from now on (counting
// from 1 across calls) fail alone with err ([ErrInjected] when nil); the
// rest of its batch still applies.
func (c *Connector) FailWrite(n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.faults.items == nil {
		c.faults.items = map[int]error{}
	}
	c.faults.items[c.stats.Ops+n] = orInjected(err)
}

// FailAfter lets the next n records be written or deleted and then fails
// every later call of Write and Delete as a whole with err ([ErrInjected]
// when nil), as an expired token would. A batch that crosses the limit
// applies its first records and returns their results with err. Until
// [Connector.ClearFaults].
func (c *Connector) FailAfter(n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.after, c.faults.afterErr = c.stats.Ops+n, orInjected(err)
}

// FailBatch makes the n-th call of Write or Delete from now on (counting
// from 1) fail as a whole with err ([ErrInjected] when nil), applying
// nothing.
func (c *Connector) FailBatch(n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.faults.calls == nil {
		c.faults.calls = map[int]error{}
	}
	c.faults.calls[c.stats.Calls+n] = orInjected(err)
}

// FailList makes every listing yield at most after records and then err
// ([ErrInjected] when nil), until [Connector.ClearFaults].
func (c *Connector) FailList(after int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.listAfter, c.faults.listErr = max(after, 0), orInjected(err)
}

// ClearFaults cancels every injected fault that has not fired yet.
func (c *Connector) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.clear()
}

// OnWrite sets a function that Write calls with each write just before
// applying it (after the context check of the previous one), from the
// goroutine calling Write; nil removes it. It may call the connector, and
// cancelling the Write's context from it stops the batch before that write.
func (c *Connector) OnWrite(fn func(w keysync.Write)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onWrite = fn
}

func orInjected(err error) error {
	if err == nil {
		return ErrInjected
	}
	return err
}

// List yields copies of all records in creation order, as of the call; see
// [keysync.Source]. The sequence may be used more than once, each use
// taking a new snapshot.
func (c *Connector) List(ctx context.Context) iter.Seq2[keysync.Item, error] {
	return c.list(ctx, time.Time{})
}

// ListModifiedSince yields copies of the records whose [UpdatedField] is at
// or after since; see [keysync.IncrementalSource].
func (c *Connector) ListModifiedSince(
	ctx context.Context, since time.Time,
) iter.Seq2[keysync.Item, error] {
	return c.list(ctx, since)
}

func (c *Connector) list(ctx context.Context, since time.Time) iter.Seq2[keysync.Item, error] {
	return func(yield func(keysync.Item, error) bool) {
		c.mu.Lock()
		c.stats.Lists++
		listAfter, listErr := c.faults.listAfter, c.faults.listErr
		c.mu.Unlock()

		recs := c.snapshot(since)
		for i, r := range recs {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if listAfter >= 0 && i >= listAfter {
				yield(nil, listErr)
				return
			}
			if !yield(cloneItem(r.item), nil) {
				return
			}
		}
		switch {
		case ctx.Err() != nil:
			yield(nil, ctx.Err())
		case listAfter >= 0 && len(recs) <= listAfter:
			yield(nil, listErr)
		}
	}
}

// snapshot returns the live records modified at or after since, in order.
func (c *Connector) snapshot(since time.Time) []*record {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*record, 0, len(c.records))
	for _, sl := range c.order {
		r, ok := c.records[sl.id]
		if ok && r.seq == sl.seq && !r.updated.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// MaxBatch returns the batch size set with [WithMaxBatch].
func (c *Connector) MaxBatch() int { return c.maxBatch }

// Write applies creates and updates; see [keysync.Destination]. A create
// stores a copy of the item with a new ID and the current time; an update
// finds the record by the ID in Write.Target and merges the item into it
// (objects are merged key by key, everything else replaced), failing with
// [keysync.ErrNotFound] when it is gone. Results carry copies of the stored
// records. Write checks ctx before each record and returns the results so
// far with ctx.Err() once it is done.
func (c *Connector) Write(
	ctx context.Context, batch []keysync.Write,
) ([]keysync.WriteResult, error) {
	return apply(ctx, c, batch, c.write)
}

// Delete removes records by their ID; see [keysync.Deleter]. Removing a
// record that is gone succeeds; an item without an ID fails with
// [keysync.ErrInvalid].
func (c *Connector) Delete(
	ctx context.Context, batch []keysync.Item,
) ([]keysync.WriteResult, error) {
	return apply(ctx, c, batch, c.delete)
}

// apply runs one Write or Delete call: fault checks, the hook and the
// context check around each operation.
func apply[T any](ctx context.Context, c *Connector, batch []T,
	do func(T, time.Time) keysync.WriteResult,
) ([]keysync.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(batch) > c.maxBatch {
		return nil, fmt.Errorf("memory: batch of %d exceeds MaxBatch %d: %w",
			len(batch), c.maxBatch, keysync.ErrInvalid)
	}
	c.mu.Lock()
	c.stats.Calls++
	err, failed := c.faults.calls[c.stats.Calls]
	delete(c.faults.calls, c.stats.Calls)
	onWrite := c.onWrite
	c.mu.Unlock()
	if failed {
		return nil, err
	}

	results := make([]keysync.WriteResult, 0, len(batch))
	for _, req := range batch {
		if w, ok := any(req).(keysync.Write); ok && onWrite != nil {
			onWrite(w)
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
		res, err := op(c, req, do)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

// op applies one operation under the lock, after the fault checks.
func op[T any](
	c *Connector, req T, do func(T, time.Time) keysync.WriteResult,
) (keysync.WriteResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Ops++
	n := c.stats.Ops
	if c.faults.after >= 0 && n > c.faults.after {
		return keysync.WriteResult{}, c.faults.afterErr
	}
	if err, ok := c.faults.items[n]; ok {
		delete(c.faults.items, n)
		return keysync.WriteResult{Err: err}, nil
	}
	return do(req, c.now()), nil
}

// write applies one create or update; c.mu is held.
func (c *Connector) write(w keysync.Write, now time.Time) keysync.WriteResult {
	var id string
	var item keysync.Item
	switch w.Op {
	case keysync.OpCreate:
		item = cloneItem(w.Item)
		delete(item, c.idField)
	case keysync.OpUpdate:
		id = c.RecordID(w.Target)
		old, ok := c.records[id]
		if !ok {
			err := fmt.Errorf("memory: updating record %q: %w", id, keysync.ErrNotFound)
			return keysync.WriteResult{Err: err}
		}
		item = cloneItem(old.item)
		mergeInto(item, cloneItem(w.Item))
		item[c.idField] = id
	default:
		err := fmt.Errorf("memory: unknown operation %q: %w", w.Op, keysync.ErrInvalid)
		return keysync.WriteResult{Err: err}
	}
	if c.validate != nil {
		if err := c.validate(item); err != nil {
			return keysync.WriteResult{Err: err}
		}
	}

	if id == "" {
		id = c.newID()
		item[c.idField] = id
		c.stats.Created++
	} else {
		c.stats.Updated++
	}
	item[UpdatedField] = formatTime(now)
	c.store(id, &record{item: item, updated: now})
	return keysync.WriteResult{Item: cloneItem(item)}
}

// delete removes one record; c.mu is held.
func (c *Connector) delete(item keysync.Item, _ time.Time) keysync.WriteResult {
	id := c.RecordID(item)
	if id == "" {
		err := fmt.Errorf("memory: deleting a record without %q: %w", c.idField, keysync.ErrInvalid)
		return keysync.WriteResult{Err: err}
	}
	if _, ok := c.records[id]; ok {
		c.remove(id)
		c.stats.Deleted++
	}
	return keysync.WriteResult{}
}

// SearchKey returns copies of the records holding key, compared after the
// normalization given with [WithSearchKey]; see [keysync.KeySearcher]. The
// index never lags.
func (c *Connector) SearchKey(ctx context.Context, key string) ([]keysync.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.searchKeys == nil {
		return nil, ErrNoSearchKey
	}
	if c.searchNorm != nil {
		key = c.searchNorm(key)
	}
	out := []keysync.Item{}
	for _, r := range c.snapshot(time.Time{}) {
		if slices.Contains(c.searchKeys.Strings(r.item, c.searchNorm), key) {
			out = append(out, cloneItem(r.item))
		}
	}
	return out, nil
}

// RecordID returns the ID of item as a string; see [keysync.Identifier].
func (c *Connector) RecordID(item keysync.Item) string {
	return idString(item[c.idField])
}

// ModifiedAt returns the time in the item's [UpdatedField]; see
// [keysync.Identifier].
func (c *Connector) ModifiedAt(item keysync.Item) (time.Time, bool) {
	return parseTime(item[UpdatedField])
}

// newID returns the next free ID; c.mu is held.
func (c *Connector) newID() string {
	for {
		id := strconv.Itoa(c.nextID)
		c.nextID++
		if _, taken := c.records[id]; !taken {
			return id
		}
	}
}

// store saves a record under id: a new record goes to the end of the
// creation order, a replaced one keeps its place. c.mu is held.
func (c *Connector) store(id string, r *record) {
	if old, ok := c.records[id]; ok {
		r.seq = old.seq
		c.records[id] = r
		return
	}
	r.seq = c.nextSeq
	c.nextSeq++
	c.records[id] = r
	c.order = append(c.order, slot{id: id, seq: r.seq})
}

// remove deletes the record with id, compacting the creation order when
// most of it is stale. c.mu is held.
func (c *Connector) remove(id string) {
	delete(c.records, id)
	if len(c.order) > 2*len(c.records)+16 {
		c.order = slices.DeleteFunc(c.order, func(sl slot) bool {
			r, ok := c.records[sl.id]
			return !ok || r.seq != sl.seq
		})
	}
}

// idString returns an ID value as text: a string as it is, a number in
// decimal (every Go integer kind, json.Number and floats), and "" for
// anything else.
func idString(v any) string {
	if s, ok := jsonnum.IntegerText(v); ok {
		return s
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	}
	return ""
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	case time.Time:
		return v, true
	}
	return time.Time{}, false
}

// cloneItem deep-copies an item into the shape of decoded JSON: other
// slice and string-keyed map types become []any and map[string]any.
func cloneItem(item keysync.Item) keysync.Item {
	if item == nil {
		return keysync.Item{}
	}
	out := make(keysync.Item, len(item))
	for k, v := range item {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool, float64, json.Number, int, int64:
		return v
	case map[string]any:
		return cloneItem(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = cloneValue(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		if rv.IsNil() {
			return nil
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = cloneValue(it.Value().Interface())
		}
		return out
	}
	return v
}

// mergeInto merges src into dst: objects key by key, other values replaced.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		sm, ok := v.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if ok && dok {
			mergeInto(dm, sm)
			continue
		}
		dst[k] = v
	}
}
