package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/keysync/sync/internal/jsonnum"
	"golang.org/x/sync/errgroup"
)

// MapFunc maps a record of one system to the write shape of the other, for
// example a Pipedrive person to the properties of a HubSpot contact. It must
// not modify src. Returning an error skips the record (the report keeps the
// error); returning a nil item and a nil error skips it as filtered, which
// is how a mapping leaves records out of a sync. A record skipped either way
// does not hold its key: a later record with the same key is synced in its
// place.
//
// The mapped item should carry the match key, so that the record written
// matches its source on the next run; the orchestrators check the record as
// stored and report [ReasonKeyMismatch] when it will not.
type MapFunc func(src Item) (Item, error)

// DefaultMaxMissingKeys is the guard used when Options.MaxMissingKeys (or
// TwoWayOptions.MaxMissingKeys) is zero: a run refuses to write when more
// than half of the records of a source side have no usable key.
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
	// stores every property as a string), and a number equals a string that
	// holds the same number (1e21 equals "1000000000000000000000"); null, ""
	// and a missing value are equal; arrays compare element by element and
	// must have the same length; fields of target that mapped does not name
	// are ignored. Strings that differ only by Normalize are equal when they
	// are match keys of the target, so a key copied with different case
	// causes no update. See [EqualLeaves].
	//
	// A mapped field that the target's listing leaves out looks different on
	// every run, so its update is sent every time. When no listed target
	// record has a field that updates write, the report says so in
	// Report.Warnings (and in the Detail of those updates) and a Warn record
	// is logged; the updates still go out, since the field may simply be one
	// that no record has yet.
	Equal func(mapped, target Item) bool

	// DryRun plans without writing: the report holds every planned write
	// ([Entry.Planned]) with the mapped item, and the destination's Write is
	// never called. The guard still applies.
	DryRun bool

	// MaxMissingKeys guards against a wrong key path. It is the largest
	// share (0 to 1) of source records that may lack a usable key; when more
	// do, the run writes nothing and returns a [*MissingKeysError] with the
	// report of the plan.
	//
	// Zero means [DefaultMaxMissingKeys], under which a source of fewer than
	// 10 records is refused only when none of them has a key. A share set
	// explicitly applies to listings of any size: a tiny positive value such
	// as 1e-9 requires every source record to have a key. A negative value
	// turns the guard off; a value above 1 is an invalid option.
	//
	// The target is judged apart, since a system may well hold many records
	// without the key (leads with a phone number only), which a sync simply
	// never matches. The guard refuses only when the target has records and
	// none of them has a usable key: the sign of a wrong TargetKey, which
	// would create every source record again. A negative MaxMissingKeys turns
	// that check off too.
	MaxMissingKeys float64

	// SourceName and TargetName name the two systems in the report and logs
	// (Entry.Direction is SourceName→TargetName); the defaults are "source"
	// and "target".
	SourceName, TargetName string

	// Logger receives a Warn record for every skipped or failed record and
	// every [ReasonKeyMismatch] (carrying only its key and position, never
	// its fields), one for mapped fields that no target record lists (see
	// Equal), a Debug record per batch written and an Info summary. Nil logs
	// nothing.
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

	// ErrWritesFailed means some writes of a run failed or were not
	// attempted; the report's Problems say which and why. The error is a
	// [*WriteFailuresError].
	ErrWritesFailed = errors.New("sync: writes failed")
)

// WriteFailuresError is the error of a run in which writes failed or were
// not attempted. It matches [ErrWritesFailed] with [errors.Is], and also
// whatever Stopped and First match, such as [ErrUnauthorized] or
// [context.Canceled].
type WriteFailuresError struct {
	// Failed is how many writes failed or were not attempted, of Writes
	// planned.
	Failed, Writes int

	// First is the error of the first failed write, in report order.
	First error

	// Stopped is the error that ended the run before every write was
	// attempted, or nil when each was.
	Stopped error
}

// Error gives the counts and the error that stopped the run or, when none
// did, the first write's error.
func (e *WriteFailuresError) Error() string {
	if e.Stopped != nil {
		return fmt.Sprintf("sync: %d of %d writes failed or were not attempted: %v",
			e.Failed, e.Writes, e.Stopped)
	}
	return fmt.Sprintf("sync: %d of %d writes failed; the first: %v", e.Failed, e.Writes, e.First)
}

// Is reports whether target is [ErrWritesFailed].
func (e *WriteFailuresError) Is(target error) bool { return target == ErrWritesFailed }

// Unwrap returns Stopped and First, those that are not nil.
func (e *WriteFailuresError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Stopped, e.First} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

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

	// Max is the share that was allowed: 1 for a target, which is refused
	// only when none of its records has a key.
	Max float64
}

// Error names the side, key path and counts.
func (e *MissingKeysError) Error() string {
	if e.Missing == e.Total {
		return fmt.Sprintf("sync: all %d %s records have no usable key at %s; "+
			"check the key path", e.Total, e.Side, e.Key)
	}
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
// source record is skipped with a reason. The first record of a key holds
// it, unless Options.Map filters it out or fails on it: then the next record
// with that key is synced instead. Before writing, a guard refuses a run
// whose key path looks wrong (see Options.MaxMissingKeys).
//
// After each write OneWay checks that the record as the destination
// returned it still holds the source's key (read with TargetKey and
// Normalize). When it does not, for instance because the destination
// lower-cases emails and Normalize is nil, the next run would create the
// record again: the entry keeps its outcome but gets [ReasonKeyMismatch],
// is listed by Report.Problems and is logged at Warn level. Planning flags
// the same way a record to create whose key differs from a target record's
// only by case or white space.
//
// Writes go out in batches of dst.MaxBatch(), one batch at a time. A record
// the destination rejects is reported as failed and the others still go
// out; a batch failing as a whole is reported and the run goes on, except
// that an error matching [ErrUnauthorized], [ErrForbidden] or
// [ErrRateLimited], the end of ctx, or three batches in a row failing as a
// whole (the destination is down) stops the run, the rest marked
// [ReasonNotAttempted]. A destination whose result carries Existed for a
// create is reported as [Updated], with a Detail saying so.
//
// OneWay returns a nil error only when every write that was due succeeded.
// When any failed or was not attempted, the error matches [ErrWritesFailed]
// (a [*WriteFailuresError] that also matches the error that stopped the
// run, if any), and the report says which records failed and why.
//
// Options are checked before any I/O; problems are reported as an
// [*OptionsError]. A failed listing returns its error before any write; a
// panic in a listing goroutine (in a connector's List or in a KeysFunc,
// Normalizer or Progress function) is returned as an error too. Planning
// stops with ctx.Err() when ctx ends. Both listings are held in memory for
// the length of the run.
func OneWay(ctx context.Context, src Source, dst Connector, opts Options) (Report, error) {
	r := newRun(opts.Logger, opts.Progress, opts.DryRun)
	cfg, err := opts.config(src, dst)
	if err != nil {
		return r.finish(ctx, err)
	}
	dir := cfg.srcName + "→" + cfg.dstName
	r.report.directions = []string{dir}

	s, t := newListing(cfg.srcName, cfg.srcKeys), newListing(cfg.dstName, cfg.dstKeys)
	if err := r.listBoth(ctx, src, s, dst, t); err != nil {
		return r.finish(ctx, err)
	}

	ops, err := r.planWrites(ctx, direction{
		name: dir, src: s, dst: t, mapFn: opts.Map, upsert: opts.Upsert, equal: opts.Equal,
	})
	if err != nil {
		return r.finish(ctx, err)
	}
	err = errors.Join(r.guard(cfg.maxMissing, s), r.guardTarget(cfg.maxMissing, t))
	if err != nil {
		return r.finish(ctx, err)
	}
	if opts.DryRun {
		return r.finish(ctx, nil)
	}

	err = applyBatches(ctx, r, dir, cfg.batch, ops, dst.Write, r.verifyKeys(t))
	return r.finish(ctx, r.writeErr(err))
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

// maxMissing checks a MaxMissingKeys option and returns it for the guard:
// zero for the default, negative for off.
func maxMissing(v float64) (float64, error) {
	switch {
	case math.IsNaN(v):
		return 0, optionsError("MaxMissingKeys", "is NaN", nil)
	case v > 1:
		return 0, optionsError("MaxMissingKeys",
			fmt.Sprintf("is %g, a share above 1 (use a negative value to turn the guard off)",
				v), nil)
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

// TwoWayOptions configures [TwoWay]. Without State, the zero value of every
// field except the keys and the two mapping functions is usable, and the
// fields that only a stateful sync reads (Pair, Fields, Conflicts, Deletes,
// Incremental) must be left zero. With State set, Pair and Fields are
// required, AToB and BToA are not used, and the zero value of every other
// field is usable: conflicts are reported only, deletions ignored, and both
// sides listed in full on every run.
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

	// MaxMissingKeys guards against a wrong key path on either side. Both
	// sides are sources in a two-way sync, so the share of
	// Options.MaxMissingKeys applies to each: a side that rightly holds many
	// records without the key needs a higher value.
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
// writes as [ReasonNotAttempted]. As with OneWay, the error is nil only when
// every write succeeded, and matches [ErrWritesFailed] otherwise.
//
// TwoWay without stored state cannot tell edits or deletions apart from
// records the other side lacks: it never updates or deletes. Nor can it
// remember what it created: when a system stores a key differently from how
// it was written (HubSpot lower-cases emails) and Normalize does not make
// the two forms equal, every run creates the record again in one direction
// or the other. TwoWay cannot prevent that; it reports each such create
// with [ReasonKeyMismatch], whose Detail names the fix (usually
// [NormalizeEmail]), at planning time when the other side already holds
// the key in another case and after the write when the stored key differs.
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
		return r.finish(ctx, err)
	}

	ab, ba := cfg.aName+"→"+cfg.bName, cfg.bName+"→"+cfg.aName
	r.report.directions = []string{ab, ba}
	la, lb := newListing(cfg.aName, cfg.aKeys), newListing(cfg.bName, cfg.bKeys)
	if err := r.listBoth(ctx, a, la, b, lb); err != nil {
		return r.finish(ctx, err)
	}

	toB, err := r.planWrites(ctx, direction{name: ab, src: la, dst: lb, mapFn: opts.AToB})
	if err != nil {
		return r.finish(ctx, err)
	}
	toA, err := r.planWrites(ctx, direction{name: ba, src: lb, dst: la, mapFn: opts.BToA})
	if err != nil {
		return r.finish(ctx, err)
	}
	if err := r.guard(cfg.maxMissing, la, lb); err != nil {
		return r.finish(ctx, err)
	}
	if opts.DryRun {
		return r.finish(ctx, nil)
	}

	if err := applyBatches(ctx, r, ab, cfg.batchB, toB, b.Write, r.verifyKeys(lb)); err != nil {
		notAttempted(r, toA, err)
		return r.finish(ctx, r.writeErr(err))
	}
	err = applyBatches(ctx, r, ba, cfg.batchA, toA, a.Write, r.verifyKeys(la))
	return r.finish(ctx, r.writeErr(err))
}

// statefulOnly returns the name of an option set that only a stateful sync
// uses, or "".
func (o TwoWayOptions) statefulOnly() string {
	d := o.Deletes
	switch {
	case o.Pair != "":
		return "Pair"
	case o.Fields.A.Get != nil || o.Fields.A.Set != nil ||
		o.Fields.B.Get != nil || o.Fields.B.Set != nil:
		return "Fields"
	case o.Conflicts.Mode != "" || o.Conflicts.Resolve != nil:
		return "Conflicts"
	case d.InA != "" || d.InB != "" || d.Confirm != nil || d.Max != 0 || d.MaxShare != 0 ||
		d.OnlyCreated:
		return "Deletes"
	case o.Incremental != (IncrementalOptions{}):
		return "Incremental"
	}
	return ""
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
	if f := o.statefulOnly(); f != "" {
		return c, optionsError(f, "is used only by a stateful sync: set State, or leave it zero",
			nil)
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
// "true"), except that integers keep every digit; when either side is a
// number rather than a string, a string holding the same number equals it
// too (1e21 equals "1000000000000000000000", 7 equals "7.0"). Null, "" and a
// missing value are equal; arrays compare element by element and must have
// the same length; objects compare key by key, and keys of target that
// mapped lacks are ignored. It is the default of Options.Equal, without the
// allowance for normalized keys.
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
	if (isNumber(m) || isNumber(t)) && numbersEqual(ms, ts) {
		return true
	}
	if normalize == nil || len(keys) == 0 {
		return false
	}
	n := normalize(ms)
	return n != "" && n == normalize(ts) && slices.Contains(keys, n)
}

// scalarText is a scalar as JavaScript's String would print it, with null
// as "" and integers with every digit (see exactText).
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
	return exactText(v)
}

// isNumber reports whether v is a Go number or a json.Number, not a string.
func isNumber(v any) bool {
	switch v.(type) {
	case float64, float32, json.Number, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, uintptr:
		return true
	}
	return false
}

// numbersEqual reports whether two texts hold the same number: integers
// compare exactly, anything else as float64.
func numbersEqual(a, b string) bool {
	if !numeric(a) || !numeric(b) {
		return false
	}
	ai, aok := jsonnum.Canonical(a)
	bi, bok := jsonnum.Canonical(b)
	if aok && bok {
		return ai == bi
	}
	fa, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return false
	}
	fb, err := strconv.ParseFloat(b, 64)
	return err == nil && fa == fb
}

// numeric reports whether s looks like a decimal number: digits, a sign, a
// point and an exponent, nothing else (no hexadecimal, no white space).
func numeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && !strings.ContainsRune("+-.eE", c) {
			return false
		}
	}
	return true
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
//	r := newRun(...)                            // the report, logger and progress
//	r.listBoth(ctx, a, la, b, lb)               // list both sides into listings
//	ops, err := r.planWrites(ctx, direction{…}) // entries + the writes due
//	r.guard(max, la, lb)                        // refuse suspect key paths
//	err = applyBatches(ctx, r, dir, n, ops, dst.Write, r.verifyKeys(lb))
//	return r.finish(ctx, r.writeErr(err))
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

// finish stamps the report's end time, logs its summary (at Warn with the
// error when the run failed) and returns the report and err.
func (r *run) finish(ctx context.Context, err error) (Report, error) {
	r.report.Finished = time.Now()
	summary := slog.String("summary", r.report.String())
	if err != nil {
		// The error's text may quote a record (a vendor's "Email address …
		// is invalid"), so only its class and counts are logged.
		attrs := []slog.Attr{slog.Bool("dry_run", r.report.DryRun), summary}
		cause := err
		var wf *WriteFailuresError
		if errors.As(err, &wf) {
			attrs = append(attrs, slog.Int("failed", wf.Failed), slog.Int("writes", wf.Writes),
				slog.Bool("stopped", wf.Stopped != nil))
			cause = wf.Stopped
		}
		attrs = append(attrs, slog.String("cause", failureClass(cause)))
		r.logger.LogAttrs(ctx, slog.LevelWarn, "sync failed", attrs...)
		return r.report, err
	}
	if r.logger.Enabled(ctx, slog.LevelInfo) {
		r.logger.InfoContext(ctx, "sync finished", slog.Bool("dry_run", r.report.DryRun), summary)
	}
	return r.report, nil
}

// failureClass names the class of an error that ended a run, for logs: a
// sentinel's name, never the error's text. A nil err (writes failed but
// the run went on) is "writes failed".
func failureClass(err error) string {
	classes := []struct {
		target error
		name   string
	}{
		{ErrUnauthorized, "unauthorized"}, {ErrForbidden, "forbidden"},
		{ErrRateLimited, "rate limited"}, {context.Canceled, "canceled"},
		{context.DeadlineExceeded, "timed out"}, {ErrInvalidOptions, "invalid options"},
		{ErrKeyPathSuspect, "key path suspect"}, {ErrLocked, "locked"},
		{ErrStalePlan, "stale plan"}, {ErrStateInvalid, "invalid state"},
		{ErrStateClosed, "state store closed"}, {ErrWritesFailed, "writes failed"},
	}
	if err == nil {
		return "writes failed"
	}
	for _, c := range classes {
		if errors.Is(err, c.target) {
			return c.name
		}
	}
	return "other"
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
// fails (or panics), the other is cancelled and the first error returned;
// no goroutine outlives the call.
func (r *run) listBoth(ctx context.Context, src Source, ls *listing, dst Source,
	ld *listing,
) error {
	r.notify(Progress{Phase: PhaseListing, Total: -1})
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return listSafely("listing "+ls.name, func() error { return r.list(gctx, src, ls) })
	})
	g.Go(func() error {
		return listSafely("listing "+ld.name, func() error { return r.list(gctx, dst, ld) })
	})
	if err := g.Wait(); err != nil {
		return err
	}
	r.notify(Progress{Phase: PhaseListing, Done: len(ls.items) + len(ld.items), Total: -1})
	return nil
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

// planCheckEvery is how many records planning handles between checks of
// its context.
const planCheckEvery = 1024

// planWrites decides, for every record of d.src in order, what to do in
// d.dst. It adds one entry per record to the report (planned writes carry
// Planned) and returns the writes due, in order. It applies the matching
// rules: no usable key, ambiguous match and duplicates are skipped; each
// target record and each key gets at most one write. It returns ctx.Err()
// (wrapped) when ctx ends while it plans.
//
// The first record of a key owns it, unless the mapping filters it out or
// fails on it: such a record claims nothing, and the next record with the
// key gets its chance. Records skipped as ambiguous or duplicate do claim
// their keys, so that records overlapping them are skipped too rather than
// created.
func (r *run) planWrites(ctx context.Context, d direction) ([]op[Write], error) {
	n := len(d.src.items)
	r.notify(Progress{Phase: PhasePlanning, Direction: d.name, Total: n})
	r.report.Entries = slices.Grow(r.report.Entries, n)
	p := &dirPlan{
		r: r, d: d,
		byKey:    make(map[string]int, n),
		byTarget: make(map[int]int, n/2),
	}
	for i := range n {
		if i%planCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("planning %s: %w", d.name, err)
			}
		}
		p.plan(ctx, i)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("planning %s: %w", d.name, err)
	}
	p.reportUnlisted(ctx)
	r.notify(Progress{Phase: PhasePlanning, Direction: d.name, Done: n, Total: n})
	return p.ops, nil
}

// dirPlan is the state of planWrites.
type dirPlan struct {
	r *run
	d direction

	byKey    map[string]int // key → the source record that owns it
	byTarget map[int]int    // target record → the source record matched to it
	ops      []op[Write]
	found    []int

	// folded maps the target's keys, case-folded and trimmed, to the first
	// record holding them; built for the first create.
	folded map[string]int

	// unlisted holds, per planned update, the mapped fields its target
	// record lacks; see reportUnlisted.
	unlisted []unlistedFields
}

// unlistedFields are the paths of non-empty mapped fields that the target
// record of an update lacks.
type unlistedFields struct {
	entry int
	paths [][]string
}

// plan plans record i of the source.
func (p *dirPlan) plan(ctx context.Context, i int) {
	d, r := p.d, p.r
	e := Entry{Direction: d.name, Index: i, Source: d.src.items[i]}
	keys := d.src.keys(i)
	if len(keys) == 0 {
		r.skip(ctx, e, ReasonMissingKey, d.src.problems[i], nil)
		return
	}
	e.Key = keys[0]
	if j, k, dup := heldKey(p.byKey, keys); dup {
		claimKeys(p.byKey, keys, i)
		e.Key = k
		r.skip(ctx, e, ReasonDuplicate,
			fmt.Sprintf("key already held by %s record #%d", d.src.name, j), nil)
		return
	}

	var via string
	p.found, via = d.dst.match(keys, p.found[:0])
	switch {
	case len(p.found) > 1:
		claimKeys(p.byKey, keys, i)
		r.skip(ctx, e, ReasonAmbiguous, fmt.Sprintf("matches %d %s records (%s)",
			len(p.found), d.dst.name, d.dst.describe(p.found)), nil)
	case len(p.found) == 0:
		if p.planCreate(ctx, e, keys) {
			claimKeys(p.byKey, keys, i)
		}
	default:
		t := p.found[0]
		e.Key = via
		if j, ok := p.byTarget[t]; ok {
			claimKeys(p.byKey, keys, i)
			r.skip(ctx, e, ReasonDuplicate, fmt.Sprintf(
				"matches the same %s record (%s) as %s record #%d",
				d.dst.name, d.dst.describe(p.found), d.src.name, j), nil)
			return
		}
		if p.planUpdate(ctx, e, t, keys) {
			p.byTarget[t] = i
			claimKeys(p.byKey, keys, i)
		}
	}
}

// heldKey reports the first of keys that an earlier record owns, and that
// record.
func heldKey(byKey map[string]int, keys []string) (j int, key string, held bool) {
	for _, k := range keys {
		if first, ok := byKey[k]; ok {
			return first, k, true
		}
	}
	return 0, "", false
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

// planCreate maps the record of e and adds a planned create. It reports
// whether the record claims its keys: false when the mapping filtered it
// out or failed.
func (p *dirPlan) planCreate(ctx context.Context, e Entry, keys []string) bool {
	mapped, ok := p.r.mapRecord(ctx, &e, p.d.mapFn)
	if !ok {
		return false
	}
	e.Outcome, e.Planned, e.Written = Created, true, mapped
	if j, key, near := p.nearMatch(keys); near {
		e.Reason = ReasonKeyMismatch
		e.Detail = fmt.Sprintf("%s record %s has the key %q, which differs only in case or "+
			"white space: without a Normalize that makes them equal, every run creates "+
			"this record again", p.d.dst.name, p.d.dst.describe([]int{j}), key)
		p.r.warn(ctx, "record to create nearly matches a target record", &e)
	}
	w := Write{Op: OpCreate, Key: e.Key, Item: mapped}
	p.ops = append(p.ops, op[Write]{entry: p.r.add(e), req: w, keys: keys})
	return true
}

// nearMatch looks for a target record holding one of keys up to case and
// white space, and returns it with its key.
func (p *dirPlan) nearMatch(keys []string) (int, string, bool) {
	dst := p.d.dst
	if p.folded == nil {
		p.folded = make(map[string]int, len(dst.first))
		for j := range dst.items {
			for _, k := range dst.keys(j) {
				if f := foldKey(k); p.folded[f] == 0 {
					p.folded[f] = j + 1 // 0 means absent
				}
			}
		}
	}
	for _, k := range keys {
		if j := p.folded[foldKey(k)]; j > 0 {
			for _, tk := range dst.keys(j - 1) {
				if foldKey(tk) == foldKey(k) {
					return j - 1, tk, true
				}
			}
		}
	}
	return 0, "", false
}

// foldKey is a key with white space trimmed and case folded.
func foldKey(s string) string { return strings.ToLower(NormalizeTrim(s)) }

// planUpdate decides about a record matched to target record t: unchanged,
// or (with upsert and differing fields) a planned update. It reports
// whether the record claims its keys and t: false when the mapping filtered
// it out or failed.
func (p *dirPlan) planUpdate(ctx context.Context, e Entry, t int, keys []string) bool {
	d, r := p.d, p.r
	e.Target = d.dst.items[t]
	if !d.upsert {
		e.Outcome = Unchanged
		r.add(e)
		return true
	}
	mapped, ok := r.mapRecord(ctx, &e, d.mapFn)
	if !ok {
		return false
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
		return true
	}
	e.Outcome, e.Planned, e.Written = Updated, true, mapped
	w := Write{Op: OpUpdate, Key: e.Key, Item: mapped, Target: e.Target}
	idx := r.add(e)
	p.ops = append(p.ops, op[Write]{entry: idx, req: w, keys: keys})
	if paths := absentLeaves(nil, nil, mapped, e.Target); len(paths) > 0 {
		p.unlisted = append(p.unlisted, unlistedFields{entry: idx, paths: paths})
	}
	return true
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

// reportUnlisted finds the mapped fields that updates write but that no
// listed target record has. Such a field is most likely one the target's
// listing leaves out, so the update looks due on every run; it may also be
// a field no record has yet, so the updates still go out. It adds one
// warning to the report and notes the field on each update concerned.
func (p *dirPlan) reportUnlisted(ctx context.Context) {
	if len(p.unlisted) == 0 {
		return
	}
	candidates := map[string][]string{}
	for _, u := range p.unlisted {
		for _, path := range u.paths {
			candidates[pathKey(path)] = path
		}
	}
	unlisted := map[string]bool{}
	var names []string
	for k, path := range candidates {
		if !p.anyTargetHas(path) {
			unlisted[k] = true
			names = append(names, strings.Join(path, "."))
		}
	}
	if len(names) == 0 {
		return
	}
	slices.Sort(names)

	n := 0
	for _, u := range p.unlisted {
		var mine []string
		for _, path := range u.paths {
			if unlisted[pathKey(path)] {
				mine = append(mine, strings.Join(path, "."))
			}
		}
		if len(mine) == 0 {
			continue
		}
		n++
		slices.Sort(mine)
		e := &p.r.report.Entries[u.entry]
		e.Detail = joinDetail(e.Detail, fmt.Sprintf("writes %s, which no listed %s record "+
			"has", strings.Join(mine, ", "), p.d.dst.name))
	}
	msg := fmt.Sprintf("%s: no listed %s record has the mapped field(s) %s, so %d update(s) "+
		"writing them will be sent again on every run; make the %s listing include them "+
		"or leave them out of the mapping", p.d.name, p.d.dst.name, strings.Join(names, ", "),
		n, p.d.dst.name)
	p.r.report.Warnings = append(p.r.report.Warnings, msg)
	p.r.logger.LogAttrs(ctx, slog.LevelWarn, "mapped fields missing from every target record",
		slog.String("direction", p.d.name), slog.String("fields", strings.Join(names, ", ")),
		slog.Int("updates", n))
}

// anyTargetHas reports whether a record of the target listing has a value
// (null included) at path.
func (p *dirPlan) anyTargetHas(path []string) bool {
	for _, item := range p.d.dst.items {
		if hasPath(item, path) {
			return true
		}
	}
	return false
}

// absentLeaves appends to dst the paths (below prefix) of the non-empty
// leaves of m that t lacks. Arrays count as leaves.
func absentLeaves(dst [][]string, prefix []string, m map[string]any, t any) [][]string {
	tm, _ := asMap(t)
	for k, v := range m {
		path := append(slices.Clip(prefix), k)
		tv, ok := tm[k]
		if sub, isMap := asMap(v); isMap {
			dst = absentLeaves(dst, path, sub, tv)
			continue
		}
		if !ok && !isEmptyValue(v) {
			dst = append(dst, path)
		}
	}
	return dst
}

// hasPath reports whether item has a value, null included, at path.
func hasPath(item Item, path []string) bool {
	m := item
	for i, k := range path {
		v, ok := m[k]
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		if m, ok = asMap(v); !ok {
			return false
		}
	}
	return false
}

// pathKey is a map key for a path of object keys.
func pathKey(path []string) string { return strings.Join(path, "\x00") }

// joinDetail appends more to an entry's detail.
func joinDetail(detail, more string) string {
	if detail == "" {
		return more
	}
	return detail + "; " + more
}

// guard refuses to write when too many records of a side lack a usable key
// (see Options.MaxMissingKeys): max is the allowed share, zero for the
// default (which spares listings under 10 records unless none has a key),
// and below zero turns the guard off.
func (r *run) guard(max float64, sides ...*listing) error {
	if max < 0 {
		return nil
	}
	share := max
	if share == 0 {
		share = DefaultMaxMissingKeys
	}
	var errs []error
	for _, l := range sides {
		m, n := l.missing(), len(l.items)
		if m == 0 || float64(m) <= share*float64(n) || (max == 0 && n < 10 && m < n) {
			continue
		}
		errs = append(errs, &MissingKeysError{
			Side: l.name, Key: l.keyer.name, Missing: m, Total: n, Max: share,
		})
	}
	return errors.Join(errs...)
}

// guardTarget refuses to write when a target that has records has none with
// a usable key, the sign of a wrong target key path; max below zero turns
// it off. Unlike a source, a target may hold many records without the key
// (leads with a phone number only), which a sync just never matches.
func (r *run) guardTarget(max float64, l *listing) error {
	m, n := l.missing(), len(l.items)
	if max < 0 || n == 0 || m < n {
		return nil
	}
	return &MissingKeysError{Side: l.name, Key: l.keyer.name, Missing: m, Total: n, Max: 1}
}

// op is one operation for applyBatches: the request to send and the report
// entry it settles. A planned entry becomes done (Planned false) when the
// operation succeeds and Failed otherwise.
type op[T any] struct {
	entry int // index in run.report.Entries
	req   T
	keys  []string // the source record's keys, for checking the stored record
}

// maxFailedBatches is how many batches in a row may fail as a whole before
// a run stops: the destination is down, and going on would only fail the
// rest slowly.
const maxFailedBatches = 3

// applyBatches sends ops in batches of at most size, one batch at a time,
// and settles their entries from the results; verify, when not nil, then
// checks each entry of the batch with the keys of its op. A failed item or
// batch is reported and the rest goes on; an error that makes going on
// pointless (see stopsRun), or maxFailedBatches batches in a row failing as
// a whole, ends it: the remaining ops are marked not attempted and the
// error is returned. send is Destination.Write, Deleter.Delete or the like.
func applyBatches[T any](ctx context.Context, r *run, dir string, size int, ops []op[T],
	send func(context.Context, []T) ([]WriteResult, error),
	verify func(context.Context, *Entry, []string),
) error {
	total := len(ops)
	batches := (total + size - 1) / size
	r.notify(Progress{Phase: PhaseWriting, Direction: dir, Total: total})
	loop := batchLoop{r: r, dir: dir, batches: batches}
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
		if verify != nil {
			for _, o := range ops[lo:hi] {
				verify(ctx, &r.report.Entries[o.entry], o.keys)
			}
		}
		if stop := loop.done(ctx, b, hi-lo, failed, hi < total, results, err); stop != nil {
			notAttempted(r, ops[hi:], stop)
			return stop
		}
		r.notify(Progress{Phase: PhaseWriting, Direction: dir, Done: hi, Total: total})
	}
	return nil
}

// batchLoop is what the write loops of both TwoWay engines (applyBatches
// and the stateful applier) decide after each batch.
type batchLoop struct {
	r       *run
	dir     string
	batches int
	inRow   int // batches in a row that failed as a whole
}

// done logs batch b (size writes, failed of them failed, with the results
// and error send returned) and returns the error that ends the loop, or nil
// to go on: an error that makes going on pointless (see stopsRun), or
// maxFailedBatches batches in a row failing as a whole while more remain.
func (l *batchLoop) done(ctx context.Context, b, size, failed int, more bool,
	results []WriteResult, err error,
) error {
	l.r.logger.DebugContext(ctx, "batch written", slog.String("direction", l.dir),
		slog.Int("batch", b), slog.Int("of", l.batches), slog.Int("size", size),
		slog.Int("failed", failed))

	if err != nil && stopsRun(ctx, err) {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = ctx.Err()
		}
		return fmt.Errorf("writing %s batch %d of %d: %w", l.dir, b, l.batches, err)
	}
	if failed == size && failedAsWhole(results, err) {
		l.inRow++
	} else {
		l.inRow = 0
	}
	if l.inRow >= maxFailedBatches && more {
		return fmt.Errorf("writing %s: stopped after %d batches in a row failed as a "+
			"whole (the last, %d of %d: %w)", l.dir, l.inRow, b, l.batches,
			batchCause(results, err))
	}
	return nil
}

// failedAsWhole reports whether a batch whose every item failed failed as a
// whole: the destination said so, or no item failed for a reason of its own
// (such as [ErrInvalid]) in a batch of several. A lone item that fails is
// not taken as the destination being down.
func failedAsWhole(results []WriteResult, err error) bool {
	if err != nil {
		return true
	}
	if len(results) < 2 {
		return false
	}
	for _, res := range results {
		if res.Err == nil || recordError(res.Err) {
			return false
		}
	}
	return true
}

// recordError reports whether err is about the record rather than the
// destination.
func recordError(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrConflict) ||
		errors.Is(err, ErrNotFound)
}

// batchCause is the error behind a batch that failed as a whole.
func batchCause(results []WriteResult, err error) error {
	if err != nil || len(results) == 0 {
		return err
	}
	return results[0].Err
}

// stopsRun reports whether a batch error makes the rest of a run pointless:
// ctx is done, or the credentials or the rate budget will fail every
// further request.
func stopsRun(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, ErrUnauthorized) ||
		errors.Is(err, ErrForbidden) || errors.Is(err, ErrRateLimited)
}

// existedDetail explains a create that found the record already there.
const existedDetail = "the destination already held a record with this key and updated " +
	"it: its listing missed the record, or the two sides normalize keys differently"

// settle applies one batch's results to its entries and returns how many
// failed. Items without a result, and items whose result holds the batch
// error itself, fail with [ReasonBatchError]. A create whose result says
// the record existed becomes an update.
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
			if results[i].Existed && e.Outcome == Created {
				e.Outcome = Updated
				e.Detail = joinDetail(e.Detail, existedDetail)
			}
			continue
		case i < len(results):
			e.Outcome, e.Reason, e.Err = Failed, ReasonWriteError, results[i].Err
			if batchErr != nil && errors.Is(results[i].Err, batchErr) {
				e.Reason = ReasonBatchError
			}
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

// verifyKeys returns the check that a record written to l's side matches
// its source on the next run: that the stored record (WriteResult.Item)
// holds one of the source record's keys, read with l's key path and
// Normalize. A record that will not match gets [ReasonKeyMismatch]. An
// update whose result holds no key at all is taken as a partial response
// and not judged.
func (r *run) verifyKeys(l *listing) func(context.Context, *Entry, []string) {
	return func(ctx context.Context, e *Entry, srcKeys []string) {
		if e.Planned || e.Result == nil || (e.Outcome != Created && e.Outcome != Updated) {
			return
		}
		stored, problem := l.keyer.appendKeys(nil, e.Result)
		if len(stored) == 0 && e.Target != nil {
			return
		}
		for _, k := range stored {
			if slices.Contains(srcKeys, k) {
				return
			}
		}
		e.Reason = ReasonKeyMismatch
		e.Detail = joinDetail(e.Detail, mismatchDetail(l.name, stored, problem, srcKeys))
		r.warn(ctx, "written record will not match its source", e)
	}
}

// mismatchDetail explains why a stored record will not match its source.
func mismatchDetail(side string, stored []string, problem string, srcKeys []string) string {
	switch {
	case len(stored) == 0:
		return fmt.Sprintf("%s stored the record without a usable key (%s): the next run "+
			"cannot match it and will create it again; the mapping must carry the key over",
			side, problem)
	case foldKey(stored[0]) == foldKey(srcKeys[0]):
		return fmt.Sprintf("%s stored the key as %q, not %q: the next run will not match it "+
			"and will create it again; set Normalize (such as NormalizeEmail) so that both "+
			"sides compare keys alike", side, stored[0], srcKeys[0])
	}
	return fmt.Sprintf("%s stored the key as %q, not %q: the next run will not match it and "+
		"will create it again; the mapping must carry the key over unchanged (or Normalize "+
		"must make both equal)", side, stored[0], srcKeys[0])
}

// writeErr is the error of a run that wrote: stop (the error that ended the
// run early, or nil) when no write failed, else a [*WriteFailuresError].
func (r *run) writeErr(stop error) error {
	var written []int
	for i, e := range r.report.Entries {
		if e.Written != nil && !e.Planned {
			written = append(written, i)
		}
	}
	return writeFailures(r.report.Entries, written, stop)
}

// writeFailures is the error of a run whose writes are the entries at idx,
// in report order: stop (the error that ended the run early, or nil) when
// none of them failed, else a [*WriteFailuresError] counting them.
func writeFailures(entries []Entry, idx []int, stop error) error {
	var failed int
	var first error
	for _, i := range idx {
		if e := &entries[i]; e.Outcome == Failed {
			failed++
			if first == nil {
				first = e.Err
			}
		}
	}
	if failed == 0 {
		return stop
	}
	return &WriteFailuresError{Failed: failed, Writes: len(idx), First: first, Stopped: stop}
}

// listSafely runs a listing goroutine's f, turning a panic in it (in a
// connector's List or in a user's KeysFunc, Normalizer or Progress) into an
// error: errgroup would let it crash the program.
func listSafely(what string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{what: what, value: v, stack: shortStack()}
		}
	}()
	return f()
}

// panicError is a panic recovered in a goroutine of a run.
type panicError struct {
	what  string
	value any
	stack string
}

func (e *panicError) Error() string {
	return fmt.Sprintf("%s: panic: %v\n%s", e.what, e.value, e.stack)
}

// Unwrap returns the panic value when it is an error.
func (e *panicError) Unwrap() error {
	err, _ := e.value.(error)
	return err
}

// shortStack describes the innermost frames of a panicking goroutine, from
// a deferred function, without the runtime's own.
func shortStack() string {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var b strings.Builder
	for kept := 0; kept < 8; {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
			kept++
		}
		if !more {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
