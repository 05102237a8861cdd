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
	// default reads Key in Record(i) itself, which suits connectors whose
	// write and list shapes agree at Key.
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
}

// Run checks that the connector cfg.New makes keeps the contract of
// [sync.Connector] and of each optional interface it implements, in
// subtests named after what they check. It fails t for a configuration
// without New, Record or a valid Key.
//
// The subtests run one after the other, each with a connector of its own:
//
//   - EmptyListing: a new connector lists nothing.
//   - CreateInBatches: MaxBatch+2 records written in batches of MaxBatch all
//     succeed, each result holding the stored record when it has one, and
//     the listing returns every record exactly once with its fields.
//   - Update: an update changes the fields it names and leaves the others
//     (and other records) alone (when cfg.Change is set).
//   - ItemError: an invalid record fails alone in its batch (when
//     cfg.Invalid is set).
//   - Cancelled: with a cancelled context, Write returns an error matching
//     [context.Canceled] and List yields one.
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
	require.NotNil(t, cfg.New, "connectortest: Config.New is required")
	require.NotNil(t, cfg.Record, "connectortest: Config.Record is required")
	keys, err := sync.KeysAt(cfg.Key)
	require.NoError(t, err, "connectortest: Config.Key")
	s := &suite{Config: cfg, keys: keys}
	if s.KeyOf == nil {
		s.KeyOf = func(i int) string {
			ks := keys.Strings(cfg.Record(i), cfg.Normalize)
			require.NotEmpty(t, ks, "connectortest: Record(%d) has no key at %q; set KeyOf",
				i, cfg.Key)
			return ks[0]
		}
	}
	if s.Equal == nil {
		s.Equal = sync.EqualLeaves
	}
	if s.Now == nil {
		s.Now = time.Now
	}

	checks := []struct {
		name  string
		check func(t tester)
	}{
		{"EmptyListing", s.emptyListing},
		{"CreateInBatches", s.createInBatches},
		{"Update", s.update},
		{"ItemError", s.itemError},
		{"Cancelled", s.cancelled},
		{"Deleter", s.deleter},
		{"KeySearcher", s.keySearcher},
		{"IncrementalSource", s.incrementalSource},
		{"Identifier", s.identifier},
	}
	for _, c := range checks {
		t.run(c.name, c.check)
	}
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

	results, err := c.Write(t.Context(), []sync.Write{
		{Op: sync.OpUpdate, Key: s.KeyOf(0), Item: change, Target: target},
	})

	require.NoError(t, err, "Write")
	require.Len(t, results, 1, "one result per write")
	require.NoError(t, results[0].Err, "update result")
	if results[0].Item != nil {
		assert.True(t, s.Equal(change, results[0].Item),
			"result holds the change: %v", results[0].Item)
	}
	want := mergeItems(s.Record(0), change)
	s.assertListing(t, c, 2, map[int]sync.Item{0: want})
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

	results, err := c.Write(t.Context(), batch)

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
			batch = append(batch, sync.Write{Op: sync.OpCreate, Key: s.KeyOf(i), Item: s.Record(i)})
		}
		results, err := c.Write(t.Context(), batch)
		require.NoError(t, err, "writing records %d to %d", lo, hi-1)
		require.Len(t, results, len(batch), "one result per write")
		for i, r := range results {
			require.NoError(t, r.Err, "creating record %d", lo+i)
		}
		out = append(out, results...)
	}
	return out
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
