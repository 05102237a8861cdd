package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// MapFunc maps a record of one system to the write shape of the other, for
// example a Pipedrive person to the properties of a HubSpot contact. It must
// not modify src. Returning an error skips the record (the report keeps the
// error); returning a nil item and a nil error skips it as filtered, which
// is how a mapping leaves records out of a sync.
//
// The mapped item should carry the match key, so that the record written
// matches its source on the next run.
type MapFunc func(src Item) (Item, error)

// DefaultMaxMissingKeys is the guard used when Options.MaxMissingKeys (or
// TwoWayOptions.MaxMissingKeys) is zero: a run refuses to write when more
// than half of a side's records have no usable key.
const DefaultMaxMissingKeys = 0.5

// Options configures [OneWay]. The zero value of every field except Map and
// SourceKey (or SourceKeys) is usable.
type Options struct {
	// SourceKey is the key path of the match key in source records, in
	// lodash get syntax checked by [ParseKeyPath], such as "email[0].value".
	// Set SourceKey or SourceKeys, not both.
	SourceKey string

	// TargetKey is the key path of the match key in target records as the
	// destination lists them, such as "properties.email". When TargetKey and
	// TargetKeys are both unset, the source's key is used for the target too.
	TargetKey string

	// SourceKeys replaces SourceKey when a record has several key values,
	// such as every email of a Pipedrive person: see [EachKey] and [KeysAt].
	SourceKeys KeysFunc

	// TargetKeys replaces TargetKey in the same way.
	TargetKeys KeysFunc

	// Normalize canonicalizes keys of both sides before they are compared.
	// Nil compares keys exactly. Use [NormalizeEmail] for email keys: HubSpot
	// stores emails lower-cased, and without it such contacts would be
	// created again on every run.
	Normalize Normalizer

	// Map turns a source record into the target's write shape. It is
	// required, and called for every record to create and, with Upsert, for
	// every matched record.
	Map MapFunc

	// Upsert also updates matched target records whose mapped fields differ
	// (see Equal). Without it, matched records are left alone.
	Upsert bool

	// Equal reports whether the target record already holds the mapped
	// fields, so that no update is needed. The default compares every leaf
	// of mapped with the value at the same path in target: scalars compare
	// as JavaScript strings, so 42 equals "42" and true equals "true" (HubSpot
	// stores every property as a string); null, "" and a missing value are
	// equal; arrays compare element by element and must have the same length;
	// fields of target that mapped does not name are ignored. Strings that
	// differ only by Normalize are equal when they are match keys of the
	// target, so a key copied with different case causes no update. See
	// [EqualLeaves].
	Equal func(mapped, target Item) bool

	// DryRun plans without writing: the report holds every planned write
	// ([Entry.Planned]) with the mapped item, and the destination's Write is
	// never called. The guard still applies.
	DryRun bool

	// MaxMissingKeys is the largest share (0 to 1) of records of either side
	// that may lack a usable key. When more do (and the side has at least 10
	// records, or all of them lack a key), the run writes nothing and returns
	// a [*MissingKeysError] with the report of the plan: a key path with a
	// typo would otherwise create every record again. Zero means
	// [DefaultMaxMissingKeys]; a negative value turns the guard off.
	MaxMissingKeys float64

	// SourceName and TargetName name the two systems in the report and logs
	// (Entry.Direction is SourceName→TargetName); the defaults are "source"
	// and "target".
	SourceName, TargetName string

	// Logger receives a Warn record for every skipped or failed record
	// (carrying only its key and position, never its fields), a Debug record
	// per batch written and an Info summary. Nil logs nothing.
	Logger *slog.Logger

	// Progress, when set, is called as the run advances; see [Progress]. It
	// is never called concurrently, but may be called from goroutines other
	// than the caller's, and must return quickly.
	Progress func(Progress)
}

// Phase is a stage of a sync run.
type Phase string

// The phases of a run, in order.
const (
	// PhaseListing: both sides are being listed. Progress.Done counts the
	// records listed so far on both sides; Total is -1.
	PhaseListing Phase = "listing"

	// PhasePlanning: deciding what to do with each record of one direction.
	PhasePlanning Phase = "planning"

	// PhaseWriting: writing one direction's changes; Done and Total count
	// writes.
	PhaseWriting Phase = "writing"
)

// Progress reports how far a run has come.
type Progress struct {
	// Phase is the current stage.
	Phase Phase

	// Direction is the direction being planned or written, "" while listing.
	Direction string

	// Done is how much of the phase is done.
	Done int

	// Total is how much there is in all, or -1 when unknown.
	Total int
}

// Errors returned by [OneWay] and [TwoWay] (besides those of connectors).
var (
	// ErrInvalidOptions means the options cannot work; nothing was listed or
	// written. The error is an [*OptionsError] naming the field.
	ErrInvalidOptions = errors.New("sync: invalid options")

	// ErrKeyPathSuspect means the guard refused to write because too many
	// records lack a usable key, which usually means a wrong key path. The
	// error is a [*MissingKeysError] with the counts.
	ErrKeyPathSuspect = errors.New("sync: too many records without a usable key")
)

// OptionsError describes options that cannot work. It matches
// [ErrInvalidOptions] with [errors.Is], and unwraps to the cause, if any
// (such as a [*KeyPathError]).
type OptionsError struct {
	// Field names the option or argument at fault, such as "SourceKey".
	Field string

	// Problem says what is wrong with it.
	Problem string

	// Err is the underlying error, or nil.
	Err error
}

func optionsError(field, problem string, err error) *OptionsError {
	return &OptionsError{Field: field, Problem: problem, Err: err}
}

// Error returns "sync: invalid options: Field: problem: cause".
func (e *OptionsError) Error() string {
	msg := "sync: invalid options: " + e.Field + ": " + e.Problem
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *OptionsError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidOptions].
func (e *OptionsError) Is(target error) bool { return target == ErrInvalidOptions }

// MissingKeysError is the guard's refusal to write: too large a share of one
// side's records has no usable key. It matches [ErrKeyPathSuspect].
type MissingKeysError struct {
	// Side names the side ("source", "target", or the configured name).
	Side string

	// Key is how that side's key was given: the quoted key path, or the
	// option name for a key function.
	Key string

	// Missing is how many of Total listed records have no usable key.
	Missing, Total int

	// Max is the share that was allowed.
	Max float64
}

// Error names the side, key path and counts.
func (e *MissingKeysError) Error() string {
	return fmt.Sprintf("sync: %d of %d %s records (%.0f%%) have no usable key at %s "+
		"(more than %.0f%% allowed); check the key path or MaxMissingKeys",
		e.Missing, e.Total, e.Side, 100*float64(e.Missing)/float64(e.Total), e.Key, 100*e.Max)
}

// Is reports whether target is [ErrKeyPathSuspect].
func (e *MissingKeysError) Is(target error) bool { return target == ErrKeyPathSuspect }

// OneWay makes dst hold every record of src: it lists both sides at the same
// time (dst is a [Connector] because it is listed to find the records it
// already holds), matches records on their normalized keys, creates in dst
// what has no match and, with Options.Upsert, updates matched records whose
// mapped fields differ. It returns a [Report] with one entry per source
// record.
//
// Records are never created when they could not be matched again: a record
// without a usable key, whose keys match two or more target records, or
// that shares a key with (or matches the same target record as) an earlier
// source record is skipped with a reason. Before writing, a guard refuses a
// run whose key path looks wrong (see Options.MaxMissingKeys).
//
// Writes go out in batches of dst.MaxBatch(), one batch at a time. A record
// the destination rejects is reported as failed and the others still go
// out; a batch failing as a whole is reported and the run goes on, except
// that an error matching [ErrUnauthorized], [ErrForbidden] or
// [ErrRateLimited], or the end of ctx, stops the run: OneWay then returns the
// error with the report so far, the rest marked [ReasonNotAttempted].
//
// Options are checked before any I/O; problems are reported as an
// [*OptionsError]. A failed listing returns its error before any write.
// Both listings are held in memory for the length of the run.
func OneWay(ctx context.Context, src Source, dst Connector, opts Options) (Report, error) {
	r := newRun(opts.Logger, opts.Progress, opts.DryRun)
	cfg, err := opts.config(src, dst)
	if err != nil {
		return r.finish(ctx), err
	}

	s, t := newListing(cfg.srcName, cfg.srcKeys), newListing(cfg.dstName, cfg.dstKeys)
	if err := r.listBoth(ctx, src, s, dst, t); err != nil {
		return r.finish(ctx), err
	}

	ops := r.planWrites(ctx, direction{
		name: s.name + "→" + t.name, src: s, dst: t,
		mapFn: opts.Map, upsert: opts.Upsert, equal: opts.Equal,
	})
	if err := r.guard(cfg.maxMissing, s, t); err != nil {
		return r.finish(ctx), err
	}
	if opts.DryRun {
		return r.finish(ctx), nil
	}

	err = applyBatches(ctx, r, s.name+"→"+t.name, cfg.batch, ops, dst.Write)
	return r.finish(ctx), err
}

// oneWayConfig is validated Options.
type oneWayConfig struct {
	srcName, dstName string
	srcKeys, dstKeys keyer
	batch            int
	maxMissing       float64
}

// config validates the options and arguments of OneWay without I/O.
func (o Options) config(src Source, dst Connector) (oneWayConfig, error) {
	c := oneWayConfig{
		srcName: nameOr(o.SourceName, "source"),
		dstName: nameOr(o.TargetName, "target"),
	}
	switch {
	case src == nil:
		return c, optionsError("src", "the Source is nil", nil)
	case dst == nil:
		return c, optionsError("dst", "the Connector is nil", nil)
	case o.Map == nil:
		return c, optionsError("Map", "a mapping function is required", nil)
	case c.srcName == c.dstName:
		return c, optionsError("TargetName", "must differ from SourceName", nil)
	}

	var err error
	if c.srcKeys, err = newKeyer(o.SourceKey, o.SourceKeys, "SourceKey", o.Normalize); err != nil {
		return c, err
	}
	c.dstKeys = c.srcKeys
	if o.TargetKey != "" || o.TargetKeys != nil {
		c.dstKeys, err = newKeyer(o.TargetKey, o.TargetKeys, "TargetKey", o.Normalize)
		if err != nil {
			return c, err
		}
	}
	if c.maxMissing, err = maxMissing(o.MaxMissingKeys); err != nil {
		return c, err
	}
	c.batch, err = maxBatch(dst, "dst")
	return c, err
}

func nameOr(name, def string) string {
	if name == "" {
		return def
	}
	return name
}

// maxMissing returns the effective guard share; negative means off.
func maxMissing(v float64) (float64, error) {
	switch {
	case math.IsNaN(v):
		return 0, optionsError("MaxMissingKeys", "is NaN", nil)
	case v == 0:
		return DefaultMaxMissingKeys, nil
	}
	return v, nil
}

// maxBatch returns dst.MaxBatch() or an error when it is below 1.
func maxBatch(dst Destination, arg string) (int, error) {
	n := dst.MaxBatch()
	if n < 1 {
		return 0, optionsError(arg, fmt.Sprintf("MaxBatch() returned %d, want at least 1", n), nil)
	}
	return n, nil
}

// TwoWayOptions configures [TwoWay]. The zero value of every field except
// the keys and the two mapping functions is usable.
type TwoWayOptions struct {
	// AKey and BKey are the key paths of the match key in records of A and
	// B as their connectors list them (see Options.SourceKey). BKey defaults
	// to AKey when BKey and BKeys are both unset.
	AKey, BKey string

	// AKeys and BKeys replace AKey and BKey for records with several key
	// values (see [EachKey]).
	AKeys, BKeys KeysFunc

	// Normalize canonicalizes the keys of both sides before they are
	// compared; see Options.Normalize.
	Normalize Normalizer

	// AToB maps a record of A to B's write shape, and BToA a record of B to
	// A's. Both are required. Each must carry the match key over, so that
	// the copy matches its original on the next run.
	AToB, BToA MapFunc

	// DryRun plans without writing; see Options.DryRun.
	DryRun bool

	// MaxMissingKeys guards against a wrong key path on either side; see
	// Options.MaxMissingKeys.
	MaxMissingKeys float64

	// AName and BName name the two systems in the report and logs; the
	// defaults are "a" and "b", giving the directions "a→b" and "b→a".
	AName, BName string

	// Logger receives what Options.Logger does. Nil logs nothing.
	Logger *slog.Logger

	// Progress is called as the run advances; see Options.Progress.
	Progress func(Progress)

	// State turns on stateful sync (see [TwoWay]): the store keeping the
	// links between records and their bases. With State set, Pair and
	// Fields are required, AToB and BToA are not used, and both connectors
	// must be [Identifier]s.
	State StateStore

	// Pair names this sync pair in State, such as "persons:contacts". Each
	// pair has its own links, run lock and bookkeeping.
	Pair string

	// Fields says how records of each side hold the common fields that a
	// stateful sync compares and writes (see [FieldPaths]).
	Fields FieldMapping

	// Conflicts settles fields changed on both sides (stateful sync only).
	Conflicts ConflictPolicy

	// Deletes says whether and how deletions propagate (stateful sync only);
	// by default they are ignored.
	Deletes DeletePolicy

	// Incremental configures incremental listing (stateful sync only); by
	// default every run lists both sides in full.
	Incremental IncrementalOptions

	// Clock returns the current time for the stored state (stateful sync
	// only); nil means time.Now.
	Clock func() time.Time
}

// TwoWay makes each of a and b hold the records only the other one has: it
// lists both sides once, at the same time, creates in b (mapped with AToB)
// the records of a that have no match in b, and then in a (mapped with
// BToA) those of b that have no match in a. Matched records are left alone;
// running TwoWay again right away writes nothing.
//
// The rules of [OneWay] apply in each direction: records without a usable
// key, with ambiguous matches or duplicate keys are skipped, the guard looks
// at both sides, and writes go out in batches. The report holds one entry
// per record and direction (Entry.Direction "a→b" or "b→a"). A run that
// stops while writing a→b (see OneWay) does not write b→a, reporting those
// writes as [ReasonNotAttempted].
//
// TwoWay without stored state cannot tell edits or deletions apart from
// records the other side lacks: it never updates or deletes.
//
// # Stateful sync
//
// With TwoWayOptions.State set, TwoWay keeps the two systems in step for
// good: it stores a link per record pair and the base, the common fields
// (TwoWayOptions.Fields) as last synced, and each run compares both sides
// with the base field by field. A field changed on one side is written to
// the other; fields changed on different sides both survive; the same
// field changed on both sides is a [Conflict], settled by
// TwoWayOptions.Conflicts. What TwoWay writes becomes the new base, so the
// next run writes nothing. Links survive key changes, new records on either
// side are created on the other and linked (with the matching rules above),
// and deletions propagate only as TwoWayOptions.Deletes allows. A run is
// planned in full before anything is written ([PlanTwoWay] returns that
// plan, [ApplyPlan] carries it out) and is safe to re-run after a crash;
// see [StateStore] and the package documentation of state/boltstore.
func TwoWay(ctx context.Context, a, b Connector, opts TwoWayOptions) (Report, error) {
	if opts.State != nil {
		return twoWayStateful(ctx, a, b, opts)
	}
	r := newRun(opts.Logger, opts.Progress, opts.DryRun)
	cfg, err := opts.config(a, b)
	if err != nil {
		return r.finish(ctx), err
	}

	la, lb := newListing(cfg.aName, cfg.aKeys), newListing(cfg.bName, cfg.bKeys)
	if err := r.listBoth(ctx, a, la, b, lb); err != nil {
		return r.finish(ctx), err
	}

	ab, ba := la.name+"→"+lb.name, lb.name+"→"+la.name
	toB := r.planWrites(ctx, direction{name: ab, src: la, dst: lb, mapFn: opts.AToB})
	toA := r.planWrites(ctx, direction{name: ba, src: lb, dst: la, mapFn: opts.BToA})
	if err := r.guard(cfg.maxMissing, la, lb); err != nil {
		return r.finish(ctx), err
	}
	if opts.DryRun {
		return r.finish(ctx), nil
	}

	if err := applyBatches(ctx, r, ab, cfg.batchB, toB, b.Write); err != nil {
		notAttempted(r, toA, err)
		return r.finish(ctx), err
	}
	err = applyBatches(ctx, r, ba, cfg.batchA, toA, a.Write)
	return r.finish(ctx), err
}

// twoWayConfig is validated TwoWayOptions.
type twoWayConfig struct {
	aName, bName   string
	aKeys, bKeys   keyer
	batchA, batchB int
	maxMissing     float64
}

// config validates the options and arguments of TwoWay without I/O.
func (o TwoWayOptions) config(a, b Connector) (twoWayConfig, error) {
	c := twoWayConfig{aName: nameOr(o.AName, "a"), bName: nameOr(o.BName, "b")}
	switch {
	case a == nil:
		return c, optionsError("a", "the Connector is nil", nil)
	case b == nil:
		return c, optionsError("b", "the Connector is nil", nil)
	case o.AToB == nil:
		return c, optionsError("AToB", "a mapping function is required", nil)
	case o.BToA == nil:
		return c, optionsError("BToA", "a mapping function is required", nil)
	case c.aName == c.bName:
		return c, optionsError("BName", "must differ from AName", nil)
	}

	var err error
	if c.aKeys, err = newKeyer(o.AKey, o.AKeys, "AKey", o.Normalize); err != nil {
		return c, err
	}
	c.bKeys = c.aKeys
	if o.BKey != "" || o.BKeys != nil {
		if c.bKeys, err = newKeyer(o.BKey, o.BKeys, "BKey", o.Normalize); err != nil {
			return c, err
		}
	}
	if c.maxMissing, err = maxMissing(o.MaxMissingKeys); err != nil {
		return c, err
	}
	if c.batchA, err = maxBatch(a, "a"); err != nil {
		return c, err
	}
	c.batchB, err = maxBatch(b, "b")
	return c, err
}

// EqualLeaves reports whether target already holds what mapped would write:
// whether every leaf value of mapped equals the value at the same path in
// target. Scalars compare as JavaScript strings (42 equals "42", true equals
// "true"); null, "" and a missing value are equal; arrays compare element by
// element and must have the same length; objects compare key by key, and
// keys of target that mapped lacks are ignored. It is the default of
// Options.Equal, without the allowance for normalized keys.
func EqualLeaves(mapped, target Item) bool {
	return leavesEqual(mapped, target, nil, nil)
}

// leavesEqual compares m (from a mapped item) with t (from a target record).
// Strings that differ only by normalize are equal when their normalized form
// is one of keys, the target's match keys.
func leavesEqual(m, t any, keys []string, normalize Normalizer) bool {
	if mm, ok := asMap(m); ok {
		tm, ok := asMap(t)
		if !ok && !isEmptyValue(t) {
			return false
		}
		for k, v := range mm {
			if !leavesEqual(v, tm[k], keys, normalize) {
				return false
			}
		}
		return true
	}
	if ms, ok := asSlice(m); ok {
		ts, ok := asSlice(t)
		if !ok {
			return len(ms) == 0 && isEmptyValue(t)
		}
		if len(ms) != len(ts) {
			return false
		}
		for i := range ms {
			if !leavesEqual(ms[i], ts[i], keys, normalize) {
				return false
			}
		}
		return true
	}
	return scalarsEqual(m, t, keys, normalize)
}

func scalarsEqual(m, t any, keys []string, normalize Normalizer) bool {
	ms, ok := scalarText(m)
	if !ok {
		return false
	}
	ts, ok := scalarText(t)
	if !ok {
		return ms == "" && isEmptyValue(t)
	}
	if ms == ts {
		return true
	}
	if normalize == nil || len(keys) == 0 {
		return false
	}
	n := normalize(ms)
	return n != "" && n == normalize(ts) && slices.Contains(keys, n)
}

// scalarText is a scalar as JavaScript's String would print it, with null
// as "".
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case map[string]any, []any:
		return "", false
	}
	return jsString(v)
}

// isEmptyValue reports whether v is null, "", an empty array or object.
func isEmptyValue(v any) bool {
	if v == nil || v == "" {
		return true
	}
	if s, ok := asSlice(v); ok {
		return len(s) == 0
	}
	if m, ok := asMap(v); ok {
		return len(m) == 0
	}
	return false
}

// The helpers below are shared by every sync mode: a mode validates its
// options, then
//
//	r := newRun(...)                       // the report, logger and progress
//	r.listBoth(ctx, a, la, b, lb)          // list both sides into listings
//	ops := r.planWrites(ctx, direction{…}) // entries + the writes due
//	r.guard(max, la, lb)                   // refuse suspect key paths
//	applyBatches(ctx, r, dir, n, ops, dst.Write)
//	return r.finish(ctx), err
//
// A mode may add its own entries with r.add and its own operations (such as
// deletions) as op values for applyBatches.

// run is the state of one sync call: the report being built, the logger and
// the progress callback. It is used by one goroutine, except for the
// listing counters and progress calls, which mu guards.
type run struct {
	report   Report
	logger   *slog.Logger
	progress func(Progress)

	mu     stdsync.Mutex // guards listed and progress calls
	listed int
}

// listProgressEvery is how many records are listed between listing progress
// reports.
const listProgressEvery = 1000

func newRun(logger *slog.Logger, progress func(Progress), dryRun bool) *run {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &run{
		report:   Report{DryRun: dryRun, Started: time.Now()},
		logger:   logger,
		progress: progress,
	}
}

// finish stamps the report's end time, logs its summary and returns it.
func (r *run) finish(ctx context.Context) Report {
	r.report.Finished = time.Now()
	if r.logger.Enabled(ctx, slog.LevelInfo) {
		r.logger.InfoContext(ctx, "sync finished",
			slog.Bool("dry_run", r.report.DryRun), slog.String("summary", r.report.String()))
	}
	return r.report
}

// notify calls the progress callback, never concurrently.
func (r *run) notify(p Progress) {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress(p)
}

// add appends an entry to the report and returns its index.
func (r *run) add(e Entry) int {
	r.report.Entries = append(r.report.Entries, e)
	return len(r.report.Entries) - 1
}

// skip adds e as skipped for reason and logs it.
func (r *run) skip(ctx context.Context, e Entry, reason Reason, detail string, err error) {
	e.Outcome, e.Reason, e.Detail, e.Err = Skipped, reason, detail, err
	r.add(e)
	r.warn(ctx, "skipped record", &e)
}

// warn logs an entry at Warn level with its key attributes only.
func (r *run) warn(ctx context.Context, msg string, e *Entry) {
	if !r.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	attrs := []slog.Attr{
		slog.String("direction", e.Direction),
		slog.Int("index", e.Index),
		slog.String("key", e.Key),
		slog.String("reason", string(e.Reason)),
	}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", e.Detail))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	r.logger.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// listing is one side of a run: its records in listing order, their
// normalized keys, and an index from key to the records that hold it.
type listing struct {
	name  string
	keyer keyer
	id    func(Item) string // the connector's RecordID, or nil

	items    []Item
	keyBuf   []string       // the keys of every record, one record after another
	keyEnd   []int          // the keys of items[i] end at keyBuf[keyEnd[i]]
	problems map[int]string // why items[i] has no usable key
	first    map[string]int // key → the first record holding it
	shared   map[string][]int
	// shared maps each key held by two or more records to all of them.
}

func newListing(name string, k keyer) *listing {
	return &listing{
		name: name, keyer: k,
		problems: map[int]string{},
		first:    map[string]int{},
		shared:   map[string][]int{},
	}
}

// add appends a listed record and indexes its keys.
func (l *listing) add(item Item) {
	i := len(l.items)
	l.items = append(l.items, item)
	start := len(l.keyBuf)
	var problem string
	l.keyBuf, problem = l.keyer.appendKeys(l.keyBuf, item)
	l.keyEnd = append(l.keyEnd, len(l.keyBuf))
	if problem != "" {
		l.problems[i] = problem
		return
	}
	for _, k := range l.keyBuf[start:] {
		j, ok := l.first[k]
		if !ok {
			l.first[k] = i
			continue
		}
		if s, ok := l.shared[k]; ok {
			l.shared[k] = append(s, i)
		} else {
			l.shared[k] = []int{j, i}
		}
	}
}

// keys returns the normalized keys of record i (empty when it has none).
func (l *listing) keys(i int) []string {
	start := 0
	if i > 0 {
		start = l.keyEnd[i-1]
	}
	return l.keyBuf[start:l.keyEnd[i]:l.keyEnd[i]]
}

// missing returns how many records have no usable key.
func (l *listing) missing() int { return len(l.problems) }

// match appends to dst the distinct records holding any of keys, and
// returns the key through which the first of them matched.
func (l *listing) match(keys []string, dst []int) ([]int, string) {
	if len(keys) == 1 { // the common case needs no de-duplication
		if s, ok := l.shared[keys[0]]; ok {
			return append(dst, s...), keys[0]
		}
		if i, ok := l.first[keys[0]]; ok {
			return append(dst, i), keys[0]
		}
		return dst, ""
	}
	var via string
	for _, k := range keys {
		if s, ok := l.shared[k]; ok {
			for _, i := range s {
				if !slices.Contains(dst, i) {
					dst = append(dst, i)
				}
			}
		} else if i, ok := l.first[k]; ok && !slices.Contains(dst, i) {
			dst = append(dst, i)
		} else if !ok {
			continue
		}
		if via == "" {
			via = k
		}
	}
	return dst, via
}

// describe names records of the listing for messages: by ID when the
// connector is an [Identifier], else by position.
func (l *listing) describe(idx []int) string {
	parts := make([]string, 0, min(len(idx), 4))
	for n, i := range idx {
		if n == 3 {
			parts = append(parts, "…")
			break
		}
		if id := l.recordID(i); id != "" {
			parts = append(parts, "id "+id)
		} else {
			parts = append(parts, fmt.Sprintf("#%d", i))
		}
	}
	return strings.Join(parts, ", ")
}

func (l *listing) recordID(i int) string {
	if l.id == nil {
		return ""
	}
	return l.id(l.items[i])
}

// listBoth lists src into ls and dst into ld at the same time. When either
// fails, the other is cancelled and the first error returned; no goroutine
// outlives the call.
func (r *run) listBoth(ctx context.Context, src Source, ls *listing, dst Source,
	ld *listing,
) error {
	r.notify(Progress{Phase: PhaseListing, Total: -1})
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.list(gctx, src, ls) })
	g.Go(func() error { return r.list(gctx, dst, ld) })
	err := g.Wait()
	r.notify(Progress{Phase: PhaseListing, Done: len(ls.items) + len(ld.items), Total: -1})
	return err
}

// list streams one side into l.
func (r *run) list(ctx context.Context, src Source, l *listing) error {
	if idr, ok := src.(Identifier); ok {
		l.id = idr.RecordID
	}
	for item, err := range src.List(ctx) {
		if err != nil {
			return fmt.Errorf("listing %s: %w", l.name, err)
		}
		l.add(item)
		r.countListed()
	}
	// A listing that ends early because ctx ended is incomplete, whether or
	// not the source said so; writing from it would duplicate records.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listing %s: %w", l.name, err)
	}
	return nil
}

func (r *run) countListed() {
	if r.progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listed++
	if r.listed%listProgressEvery == 0 {
		r.progress(Progress{Phase: PhaseListing, Done: r.listed, Total: -1})
	}
}

// direction is what planWrites needs to plan one direction of a sync.
type direction struct {
	// name is "from→to", for entries and logs.
	name string
	// src holds the records to sync, dst those to match them with.
	src, dst *listing
	// mapFn maps a src record to dst's write shape.
	mapFn MapFunc
	// upsert updates matched records whose mapped fields differ.
	upsert bool
	// equal compares mapped and target records; nil means leavesEqual with
	// the target's keys.
	equal func(mapped, target Item) bool
}

// planWrites decides, for every record of d.src in order, what to do in
// d.dst. It adds one entry per record to the report (planned writes carry
// Planned) and returns the writes due, in order. It applies the matching
// rules: no usable key, ambiguous match and duplicates are skipped; each
// target record and each key gets at most one write.
func (r *run) planWrites(ctx context.Context, d direction) []op[Write] {
	n := len(d.src.items)
	r.notify(Progress{Phase: PhasePlanning, Direction: d.name, Total: n})
	r.report.Entries = slices.Grow(r.report.Entries, n)
	byKey := make(map[string]int, n)   // key → first source record holding it
	byTarget := make(map[int]int, n/2) // target record → the source record matched to it
	var ops []op[Write]
	var found []int
	for i, item := range d.src.items {
		e := Entry{Direction: d.name, Index: i, Source: item}
		keys := d.src.keys(i)
		if len(keys) == 0 {
			r.skip(ctx, e, ReasonMissingKey, d.src.problems[i], nil)
			continue
		}
		e.Key = keys[0]
		if j, k, dup := claimKeys(byKey, keys, i); dup {
			e.Key = k
			r.skip(ctx, e, ReasonDuplicate,
				fmt.Sprintf("key already held by %s record #%d", d.src.name, j), nil)
			continue
		}

		var via string
		found, via = d.dst.match(keys, found[:0])
		switch {
		case len(found) > 1:
			r.skip(ctx, e, ReasonAmbiguous, fmt.Sprintf("matches %d %s records (%s)",
				len(found), d.dst.name, d.dst.describe(found)), nil)
		case len(found) == 0:
			if o, ok := r.planCreate(ctx, e, d.mapFn); ok {
				ops = append(ops, o)
			}
		default:
			t := found[0]
			e.Key = via
			if j, ok := byTarget[t]; ok {
				r.skip(ctx, e, ReasonDuplicate, fmt.Sprintf(
					"matches the same %s record (%s) as %s record #%d",
					d.dst.name, d.dst.describe(found), d.src.name, j), nil)
				continue
			}
			byTarget[t] = i
			if o, ok := r.planUpdate(ctx, e, d, t); ok {
				ops = append(ops, o)
			}
		}
	}
	r.notify(Progress{Phase: PhasePlanning, Direction: d.name, Done: n, Total: n})
	return ops
}

// claimKeys records keys as held by source record i. When an earlier record
// already holds one of them, it reports that record and key; i's other keys
// are then claimed all the same, so that records overlapping i are skipped
// too rather than created.
func claimKeys(byKey map[string]int, keys []string, i int) (j int, key string, dup bool) {
	for _, k := range keys {
		if first, ok := byKey[k]; ok {
			if !dup {
				j, key, dup = first, k, true
			}
			continue
		}
		byKey[k] = i
	}
	return j, key, dup
}

// planCreate maps the record of e and adds a planned create.
func (r *run) planCreate(ctx context.Context, e Entry, mapFn MapFunc) (op[Write], bool) {
	mapped, ok := r.mapRecord(ctx, &e, mapFn)
	if !ok {
		return op[Write]{}, false
	}
	e.Outcome, e.Planned, e.Written = Created, true, mapped
	w := Write{Op: OpCreate, Key: e.Key, Item: mapped}
	return op[Write]{entry: r.add(e), req: w}, true
}

// planUpdate decides about a record matched to target record t: unchanged,
// or (with upsert and differing fields) a planned update.
func (r *run) planUpdate(ctx context.Context, e Entry, d direction, t int) (op[Write], bool) {
	e.Target = d.dst.items[t]
	if !d.upsert {
		e.Outcome = Unchanged
		r.add(e)
		return op[Write]{}, false
	}
	mapped, ok := r.mapRecord(ctx, &e, d.mapFn)
	if !ok {
		return op[Write]{}, false
	}
	var same bool
	if d.equal != nil {
		same = d.equal(mapped, e.Target)
	} else {
		same = leavesEqual(mapped, e.Target, d.dst.keys(t), d.dst.keyer.normalize)
	}
	if same {
		e.Outcome = Unchanged
		r.add(e)
		return op[Write]{}, false
	}
	e.Outcome, e.Planned, e.Written = Updated, true, mapped
	w := Write{Op: OpUpdate, Key: e.Key, Item: mapped, Target: e.Target}
	return op[Write]{entry: r.add(e), req: w}, true
}

// mapRecord maps e.Source; on an error or a nil item it adds e as skipped.
func (r *run) mapRecord(ctx context.Context, e *Entry, mapFn MapFunc) (Item, bool) {
	mapped, err := mapFn(e.Source)
	switch {
	case err != nil:
		r.skip(ctx, *e, ReasonMapError, "", err)
		return nil, false
	case mapped == nil:
		r.skip(ctx, *e, ReasonFiltered, "the mapping returned no item", nil)
		return nil, false
	}
	return mapped, true
}

// guard refuses to write when too many records of a side lack a usable key
// (see Options.MaxMissingKeys); max below zero turns it off.
func (r *run) guard(max float64, sides ...*listing) error {
	if max < 0 {
		return nil
	}
	var errs []error
	for _, l := range sides {
		m, n := l.missing(), len(l.items)
		if m == 0 || float64(m) <= max*float64(n) || (n < 10 && m < n) {
			continue
		}
		errs = append(errs, &MissingKeysError{
			Side: l.name, Key: l.keyer.name, Missing: m, Total: n, Max: max,
		})
	}
	return errors.Join(errs...)
}

// op is one operation for applyBatches: the request to send and the report
// entry it settles. A planned entry becomes done (Planned false) when the
// operation succeeds and Failed otherwise.
type op[T any] struct {
	entry int // index in run.report.Entries
	req   T
}

// applyBatches sends ops in batches of at most size, one batch at a time,
// and settles their entries from the results. A failed item or batch is
// reported and the rest goes on; an error that makes going on pointless
// (see stopsRun) ends it: the remaining ops are marked not attempted and the
// error is returned. send is Destination.Write, Deleter.Delete or the like.
func applyBatches[T any](ctx context.Context, r *run, dir string, size int, ops []op[T],
	send func(context.Context, []T) ([]WriteResult, error),
) error {
	total := len(ops)
	batches := (total + size - 1) / size
	r.notify(Progress{Phase: PhaseWriting, Direction: dir, Total: total})
	for b, lo := 1, 0; lo < total; b, lo = b+1, lo+size {
		hi := min(lo+size, total)
		if err := ctx.Err(); err != nil {
			err = fmt.Errorf("writing %s: %w", dir, err)
			notAttempted(r, ops[lo:], err)
			return err
		}

		batch := make([]T, hi-lo)
		for i, o := range ops[lo:hi] {
			batch[i] = o.req
		}
		results, err := send(ctx, batch)
		failed := settle(ctx, r, ops[lo:hi], results, err)
		r.logger.DebugContext(ctx, "batch written", slog.String("direction", dir),
			slog.Int("batch", b), slog.Int("of", batches), slog.Int("size", hi-lo),
			slog.Int("failed", failed))

		if err != nil && stopsRun(ctx, err) {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = ctx.Err()
			}
			err = fmt.Errorf("writing %s batch %d of %d: %w", dir, b, batches, err)
			notAttempted(r, ops[hi:], err)
			return err
		}
		r.notify(Progress{Phase: PhaseWriting, Direction: dir, Done: hi, Total: total})
	}
	return nil
}

// stopsRun reports whether a batch error makes the rest of a run pointless:
// ctx is done, or the credentials or the rate budget will fail every
// further request.
func stopsRun(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrUnauthorized) ||
		errors.Is(err, ErrForbidden) || errors.Is(err, ErrRateLimited)
}

// settle applies one batch's results to its entries and returns how many
// failed. Items without a result fail with the batch error.
func settle[T any](ctx context.Context, r *run, ops []op[T], results []WriteResult,
	batchErr error,
) int {
	failed := 0
	for i, o := range ops {
		e := &r.report.Entries[o.entry]
		e.Planned = false
		switch {
		case i < len(results) && results[i].Err == nil:
			e.Result = results[i].Item
			continue
		case i < len(results):
			e.Outcome, e.Reason, e.Err = Failed, ReasonWriteError, results[i].Err
		case batchErr != nil:
			e.Outcome, e.Reason, e.Err = Failed, ReasonBatchError, batchErr
		default:
			e.Outcome, e.Reason = Failed, ReasonBatchError
			e.Err = fmt.Errorf("sync: destination returned %d results for a batch of %d",
				len(results), len(ops))
		}
		failed++
		r.warn(ctx, "write failed", e)
	}
	return failed
}

// notAttempted marks the entries of ops as failed without an attempt,
// because the run stopped with err.
func notAttempted[T any](r *run, ops []op[T], err error) {
	for _, o := range ops {
		e := &r.report.Entries[o.entry]
		e.Outcome, e.Planned, e.Reason, e.Err = Failed, false, ReasonNotAttempted, err
	}
}
