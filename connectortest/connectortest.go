package connectortest

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync"
)

// Config describes the connector under test and how to make records for it.
type Config struct {
	// New returns a new connector over an empty system, such as a client of
	// a freshly started fake server. Run calls it once per check and never
	// shares a connector between checks; register clean-ups with t.Cleanup.
	// Required.
	New func(t testing.TB) sync.Connector

	// Record returns a valid record in the connector's write shape (what a
	// mapping function would produce) whose key differs for every i ≥ 0.
	// Required.
	Record func(i int) sync.Item

	// Key is the key path, in [sync.ParseKeyPath] syntax, of the match key in
	// records as the connector lists them, such as "properties.email".
	// Required.
	Key string

	// KeyOf returns the normalized key that Record(i) has once stored. The
	// default reads Key in Record(i) itself (normalized with Normalize),
	// which suits connectors whose write and list shapes agree at Key.
	KeyOf func(i int) string

	// Normalize is applied to keys read from listed records (and by the
	// default KeyOf), as a sync would apply it; nil compares exactly.
	Normalize sync.Normalizer

	// Invalid is a record that the system rejects on its own, with an error
	// matching [sync.ErrInvalid] or [sync.ErrConflict] in its result, while
	// the rest of its batch succeeds. Nil skips that check.
	Invalid sync.Item

	// Change returns fields, in the write shape, that change record i when
	// written as an update (at least one value must differ from Record(i)).
	// Nil skips the update check.
	Change func(i int) sync.Item

	// Equal reports whether a listed (or returned) record holds the fields
	// that were written. The default is [sync.EqualLeaves]; systems that
	// rewrite values (lower-casing emails, say) need their own.
	Equal func(written, stored sync.Item) bool

	// Settle, when set, is called after writing and before reading records
	// back through SearchKey or ListModifiedSince, for systems whose search
	// index lags (a fake can advance its clock here).
	Settle func(t testing.TB)

	// Now is the connector's clock, for the ListModifiedSince check; the
	// default is time.Now.
	Now func() time.Time

	// PageSize is how many records the connector's List fetches per page,
	// when it pages and that is not MaxBatch. The paging checks write
	// 2×max(PageSize, MaxBatch)+3 records so that the listing spans at least
	// three pages; keep the page size of a test connector small.
	PageSize int
}

// Run checks that the connector cfg.New makes keeps the contract of
// [sync.Connector] and of each optional interface it implements, in
// subtests named after what they check. Before any subtest it checks the
// configuration itself, failing t for one without New or Record, with an
// invalid Key, or whose Record(0) and Record(1) lack distinct keys.
//
// The subtests run one after the other, each with a connector of its own.
// Every write checks that Write leaves Write.Item as it was.
//
//   - EmptyListing: a new connector lists nothing.
//   - CreateInBatches: MaxBatch+2 records written in batches of MaxBatch all
//     succeed, each result holding the stored record when it has one, and
//     the listing returns every record exactly once with its fields.
//   - ListingPages: the same with enough records for the listing to span
//     several pages (see Config.PageSize).
//   - Update: an update changes the fields it names and leaves the others
//     (and other records) alone, and an [sync.Identifier] returns the
//     updated record with its ID (when cfg.Change is set).
//   - ItemError: an invalid record fails alone in its batch (when
//     cfg.Invalid is set).
//   - Cancelled: with a cancelled context, Write returns an error matching
//     [context.Canceled] and List yields one.
//   - CancelledMidListing: a listing whose context is cancelled after its
//     first record stops with an error matching [context.Canceled].
//   - UpdateGone: an update of a record deleted meanwhile fails alone with
//     an error matching [sync.ErrNotFound] (for a [sync.Deleter] only).
//   - Deleter, KeySearcher, IncrementalSource, Identifier: the optional
//     capabilities, each skipped when not implemented.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	run(stdT{t}, cfg)
}

// tester is a testing.TB that can run subtests; Run adapts *testing.T, and
// the package's own tests use a recorder to check that broken connectors
// fail.
type tester interface {
	testing.TB
	run(name string, f func(t tester))
}

type stdT struct{ *testing.T }

func (s stdT) run(name string, f func(t tester)) {
	s.T.Run(name, func(t *testing.T) { f(stdT{t}) })
}

// suite holds the checked configuration.
type suite struct {
	Config
	keys sync.KeysFunc
}

func run(t tester, cfg Config) {
	t.Helper()
	s := newSuite(t, cfg)
	checks := []struct {
		name  string
		check func(t tester)
	}{
		{"EmptyListing", s.emptyListing},
		{"CreateInBatches", s.createInBatches},
		{"ListingPages", s.listingPages},
		{"Update", s.update},
		{"ItemError", s.itemError},
		{"Cancelled", s.cancelled},
		{"CancelledMidListing", s.cancelledMidListing},
		{"UpdateGone", s.updateGone},
		{"Deleter", s.deleter},
		{"KeySearcher", s.keySearcher},
		{"IncrementalSource", s.incrementalSource},
		{"Identifier", s.identifier},
	}
	for _, c := range checks {
		t.run(c.name, c.check)
	}
}

// newSuite checks cfg on the parent test, before any subtest runs: a
// subtest must not fail its parent.
func newSuite(t tester, cfg Config) *suite {
	t.Helper()
	require.NotNil(t, cfg.New, "connectortest: Config.New is required")
	require.NotNil(t, cfg.Record, "connectortest: Config.Record is required")
	require.GreaterOrEqual(t, cfg.PageSize, 0, "connectortest: Config.PageSize")
	keys, err := sync.KeysAt(cfg.Key)
	require.NoError(t, err, "connectortest: Config.Key")
	s := &suite{Config: cfg, keys: keys}
	if s.KeyOf == nil {
		s.KeyOf = func(i int) string { return s.keyOf(cfg.Record(i)) }
	}
	if s.Equal == nil {
		s.Equal = sync.EqualLeaves
	}
	if s.Now == nil {
		s.Now = time.Now
	}

	k0, k1 := s.KeyOf(0), s.KeyOf(1)
	require.NotEmpty(t, k0, "connectortest: Record(0) has no key at %q; set KeyOf", cfg.Key)
	require.NotEmpty(t, k1, "connectortest: Record(1) has no key at %q; set KeyOf", cfg.Key)
	require.NotEqual(t, k0, k1, "connectortest: Record(0) and Record(1) share the key %q", k0)
	if cfg.Change != nil {
		require.NotEmpty(t, cfg.Change(0), "connectortest: Config.Change(0) names no field")
	}
	return s
}

func (s *suite) emptyListing(t tester) {
	c := s.New(t)

	items := s.list(t, c)

	assert.Empty(t, items, "a new connector lists nothing")
}

func (s *suite) createInBatches(t tester) {
	c := s.New(t)
	size := c.MaxBatch()
	require.GreaterOrEqual(t, size, 1, "MaxBatch")
	assert.Equal(t, size, c.MaxBatch(), "MaxBatch is constant")
	n := size + 2

	results := s.create(t, c, n)

	_, identifies := c.(sync.Identifier)
	for i, res := range results {
		if res.Item == nil {
			assert.False(t, identifies, "result %d: an Identifier must return the stored record", i)
			continue
		}
		assert.Equal(t, s.KeyOf(i), s.keyOf(res.Item), "result %d: key of the stored record", i)
		assert.True(t, s.Equal(s.Record(i), res.Item),
			"result %d: stored record %v lacks fields of %v", i, res.Item, s.Record(i))
	}
	s.assertListing(t, c, n, nil)
}

func (s *suite) update(t tester) {
	if s.Change == nil {
		t.Skip("Config.Change not set")
	}
	c := s.New(t)
	s.create(t, c, 2)
	before := s.byKey(t, s.list(t, c))
	target := before[s.KeyOf(0)]
	require.NotNil(t, target, "record 0 listed")
	change := s.Change(0)
	require.False(t, s.Equal(change, target), "Config.Change(0) must change record 0")

	results, err := s.write(t, c, []sync.Write{
		{Op: sync.OpUpdate, Key: s.KeyOf(0), Item: change, Target: target},
	})

	require.NoError(t, err, "Write")
	require.Len(t, results, 1, "one result per write")
	require.NoError(t, results[0].Err, "update result")
	if idr, ok := c.(sync.Identifier); ok {
		require.NotNil(t, results[0].Item, "an Identifier must return the updated record")
		id := idr.RecordID(results[0].Item)
		assert.NotEmpty(t, id, "RecordID of the updated record")
		assert.Equal(t, idr.RecordID(target), id, "the update keeps the record's ID")
	}
	if results[0].Item != nil {
		assert.True(t, s.Equal(change, results[0].Item),
			"result holds the change: %v", results[0].Item)
	}
	want := mergeItems(s.Record(0), change)
	s.assertListing(t, c, 2, map[int]sync.Item{0: want})
}

func (s *suite) listingPages(t tester) {
	c := s.New(t)
	n := 2*max(s.PageSize, c.MaxBatch()) + 3

	s.create(t, c, n)

	s.assertListing(t, c, n, nil)
}

func (s *suite) cancelledMidListing(t tester) {
	c := s.New(t)
	n := 2*max(s.PageSize, c.MaxBatch()) + 3
	s.create(t, c, n)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	var items, afterErr int
	var listErr error
	for _, err := range c.List(ctx) {
		switch {
		case listErr != nil:
			afterErr++
		case err != nil:
			listErr = err
		default:
			items++
			cancel()
		}
	}

	require.Positive(t, items, "records listed before the cancellation")
	assert.ErrorIs(t, listErr, context.Canceled,
		"a listing cancelled after its first record (of %d) must end with ctx.Err(); "+
			"it yielded %d records and then %v", n, items, listErr)
	assert.Zero(t, afterErr, "nothing is yielded after the error")
}

func (s *suite) updateGone(t tester) {
	c := s.New(t)
	d, ok := c.(sync.Deleter)
	if !ok {
		t.Skip("the connector is no sync.Deleter")
	}
	s.create(t, c, 2)
	victim := s.byKey(t, s.list(t, c))[s.KeyOf(0)]
	require.NotNil(t, victim, "record 0 listed")
	res, err := d.Delete(t.Context(), []sync.Item{victim})
	require.NoError(t, err, "deleting record 0")
	require.Len(t, res, 1, "one result per record")
	require.NoError(t, res[0].Err, "deleting record 0")
	change := s.Record(0)
	if s.Change != nil {
		change = s.Change(0)
	}

	results, err := s.write(t, c, []sync.Write{
		{Op: sync.OpUpdate, Key: s.KeyOf(0), Item: change, Target: victim},
	})

	require.NoError(t, err, "a record that is gone must not fail the whole batch")
	require.Len(t, results, 1, "one result per write")
	assert.ErrorIs(t, results[0].Err, sync.ErrNotFound,
		"updating a deleted record fails alone with an error matching sync.ErrNotFound")
	assert.Len(t, s.list(t, c), 1, "the update does not bring the record back")
}

func (s *suite) itemError(t tester) {
	if s.Invalid == nil {
		t.Skip("Config.Invalid not set")
	}
	c := s.New(t)
	batch := []sync.Write{
		{Op: sync.OpCreate, Key: s.KeyOf(0), Item: s.Record(0)},
		{Op: sync.OpCreate, Item: s.Invalid},
		{Op: sync.OpCreate, Key: s.KeyOf(1), Item: s.Record(1)},
	}
	invalidAt, valid := 1, 2
	switch c.MaxBatch() {
	case 1:
		batch, invalidAt, valid = batch[1:2], 0, 0
	case 2:
		batch, valid = batch[:2], 1
	}

	results, err := s.write(t, c, batch)

	require.NoError(t, err, "an invalid record must not fail the whole batch")
	require.Len(t, results, len(batch), "one result per write")
	for i := range batch {
		if i != invalidAt {
			assert.NoError(t, results[i].Err, "result %d", i)
			continue
		}
		e := results[i].Err
		assert.Error(t, e, "result of the invalid record")
		assert.True(t, errors.Is(e, sync.ErrInvalid) || errors.Is(e, sync.ErrConflict),
			"the invalid record's error %v should match sync.ErrInvalid or sync.ErrConflict", e)
	}
	s.assertListing(t, c, valid, nil)
}

func (s *suite) cancelled(t tester) {
	c := s.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := c.Write(ctx, []sync.Write{{Op: sync.OpCreate, Key: s.KeyOf(0), Item: s.Record(0)}})
	assert.ErrorIs(t, err, context.Canceled, "Write with a cancelled context")

	var listErr error
	for _, err := range c.List(ctx) {
		if err != nil {
			listErr = err
			break
		}
	}
	assert.ErrorIs(t, listErr, context.Canceled, "List with a cancelled context yields ctx.Err()")

	if d, ok := c.(sync.Deleter); ok {
		_, err := d.Delete(ctx, []sync.Item{{}})
		assert.ErrorIs(t, err, context.Canceled, "Delete with a cancelled context")
	}
}

func (s *suite) deleter(t tester) {
	c := s.New(t)
	d, ok := c.(sync.Deleter)
	if !ok {
		t.Skip("the connector is no sync.Deleter")
	}
	s.create(t, c, 3)
	victim := s.byKey(t, s.list(t, c))[s.KeyOf(1)]
	require.NotNil(t, victim, "record 1 listed")

	for round, what := range []string{"deleting", "deleting again"} {
		results, err := d.Delete(t.Context(), []sync.Item{victim})
		require.NoError(t, err, what)
		require.Len(t, results, 1, "%s: one result per record", what)
		assert.NoError(t, results[0].Err, "%s (round %d) succeeds", what, round+1)
	}
	left := s.byKey(t, s.list(t, c))
	assert.NotContains(t, left, s.KeyOf(1), "the deleted record is gone from the listing")
	assert.Len(t, left, 2, "the other records stay")
}

func (s *suite) keySearcher(t tester) {
	c := s.New(t)
	ks, ok := c.(sync.KeySearcher)
	if !ok {
		t.Skip("the connector is no sync.KeySearcher")
	}
	s.create(t, c, 2)
	s.settle(t)

	found, err := ks.SearchKey(t.Context(), s.KeyOf(0))
	require.NoError(t, err, "SearchKey")
	if assert.Len(t, found, 1, "records with key %q", s.KeyOf(0)) {
		assert.Equal(t, s.KeyOf(0), s.keyOf(found[0]))
	}

	none, err := ks.SearchKey(t.Context(), "connectortest-no-such-key@example.invalid")
	require.NoError(t, err, "SearchKey for an unknown key is no error")
	assert.NotNil(t, none, "an empty slice, not nil")
	assert.Empty(t, none)
}

func (s *suite) incrementalSource(t tester) {
	c := s.New(t)
	inc, ok := c.(sync.IncrementalSource)
	if !ok {
		t.Skip("the connector is no sync.IncrementalSource")
	}
	s.create(t, c, 2)
	s.settle(t)
	now := s.Now()

	recent := s.byKey(t, s.collect(t, inc.ListModifiedSince(t.Context(), now.Add(-time.Hour))))
	future := s.collect(t, inc.ListModifiedSince(t.Context(), now.Add(24*time.Hour)))

	assert.Contains(t, recent, s.KeyOf(0), "modified in the last hour")
	assert.Contains(t, recent, s.KeyOf(1), "modified in the last hour")
	assert.Empty(t, future, "nothing is modified after tomorrow")

	idr, ok := c.(sync.Identifier)
	if !ok {
		return
	}
	for key, item := range recent {
		at, ok := idr.ModifiedAt(item)
		if !assert.True(t, ok, "ModifiedAt of %q", key) {
			continue
		}
		since := s.byKey(t, s.collect(t, inc.ListModifiedSince(t.Context(), at)))
		assert.Contains(t, since, key, "since is inclusive: modified at %v", at)
	}
}

func (s *suite) identifier(t tester) {
	c := s.New(t)
	idr, ok := c.(sync.Identifier)
	if !ok {
		t.Skip("the connector is no sync.Identifier")
	}

	results := s.create(t, c, 3)

	listed := s.byKey(t, s.list(t, c))
	seen := map[string]int{}
	for i, res := range results {
		require.NotNil(t, res.Item, "result %d holds the stored record", i)
		id := idr.RecordID(res.Item)
		assert.NotEmpty(t, id, "result %d: RecordID", i)
		if j, dup := seen[id]; dup {
			assert.Failf(t, "IDs are not unique", "records %d and %d share ID %q", j, i, id)
		}
		seen[id] = i
		if item, ok := listed[s.KeyOf(i)]; assert.True(t, ok, "record %d listed", i) {
			assert.Equal(t, id, idr.RecordID(item),
				"record %d: ID in the listing and the result", i)
		}
	}
}

// create writes records 0…n-1 in batches of MaxBatch and requires success.
func (s *suite) create(t tester, c sync.Connector, n int) []sync.WriteResult {
	t.Helper()
	size := c.MaxBatch()
	var out []sync.WriteResult
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		batch := make([]sync.Write, 0, hi-lo)
		for i := lo; i < hi; i++ {
			key := s.KeyOf(i)
			require.NotEmpty(t, key, "Record(%d) has no key at %q; set KeyOf", i, s.Key)
			batch = append(batch, sync.Write{Op: sync.OpCreate, Key: key, Item: s.Record(i)})
		}
		results, err := s.write(t, c, batch)
		require.NoError(t, err, "writing records %d to %d", lo, hi-1)
		require.Len(t, results, len(batch), "one result per write")
		for i, r := range results {
			require.NoError(t, r.Err, "creating record %d", lo+i)
		}
		out = append(out, results...)
	}
	return out
}

// write calls c.Write and checks that it left the items of batch alone.
func (s *suite) write(t tester, c sync.Destination, batch []sync.Write) ([]sync.WriteResult,
	error,
) {
	t.Helper()
	before := make([]any, len(batch))
	for i, w := range batch {
		before[i] = cloneValue(w.Item)
	}
	results, err := c.Write(t.Context(), batch)
	for i, w := range batch {
		assert.Equal(t, before[i], cloneValue(w.Item),
			"Write must not modify Write.Item (write %d)", i)
	}
	return results, err
}

// list returns the whole listing and requires it to succeed.
func (s *suite) list(t tester, c sync.Source) []sync.Item {
	t.Helper()
	return s.collect(t, c.List(t.Context()))
}

func (s *suite) collect(t tester, seq func(func(sync.Item, error) bool)) []sync.Item {
	t.Helper()
	var items []sync.Item
	for item, err := range seq {
		require.NoError(t, err, "listing")
		items = append(items, item)
	}
	return items
}

// byKey indexes listed records by key, failing on records listed twice.
func (s *suite) byKey(t tester, items []sync.Item) map[string]sync.Item {
	t.Helper()
	out := make(map[string]sync.Item, len(items))
	for _, it := range items {
		k := s.keyOf(it)
		assert.NotEmpty(t, k, "listed record %v has no key at %q", it, s.Key)
		if _, dup := out[k]; dup {
			assert.Failf(t, "record listed twice", "key %q", k)
		}
		out[k] = it
	}
	return out
}

// assertListing checks that the listing holds records 0…n-1 once each,
// each holding Record(i) or, when given, want[i].
func (s *suite) assertListing(t tester, c sync.Source, n int, want map[int]sync.Item) {
	t.Helper()
	items := s.list(t, c)
	assert.Len(t, items, n, "records listed")
	listed := s.byKey(t, items)
	for i := range n {
		item, ok := listed[s.KeyOf(i)]
		if !assert.True(t, ok, "record %d (key %q) listed", i, s.KeyOf(i)) {
			continue
		}
		w, ok := want[i]
		if !ok {
			w = s.Record(i)
		}
		assert.True(t, s.Equal(w, item), "record %d: listed %v lacks fields of %v", i, item, w)
	}
}

func (s *suite) keyOf(item sync.Item) string {
	ks := s.keys.Strings(item, s.Normalize)
	if len(ks) == 0 {
		return ""
	}
	return ks[0]
}

func (s *suite) settle(t tester) {
	if s.Settle != nil {
		s.Settle(t)
	}
}

// cloneValue deep-copies maps and slices of decoded JSON.
func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// mergeItems returns base with change merged in, objects key by key, as an
// update leaves the fields it does not name.
func mergeItems(base, change sync.Item) sync.Item {
	out := maps.Clone(base)
	for k, v := range change {
		bm, ok1 := out[k].(map[string]any)
		cm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = mergeItems(bm, cm)
			continue
		}
		out[k] = v
	}
	return out
}
