package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Side names one of the two systems of a two-way sync: [SideA] is the first
// connector given to [TwoWay], [SideB] the second.
type Side string

// The two sides of a two-way sync.
const (
	SideA Side = "A"
	SideB Side = "B"
)

// Other returns the opposite side: SideB for SideA and SideA for SideB.
func (s Side) Other() Side {
	if s == SideA {
		return SideB
	}
	return SideA
}

// Link is the stored state of one record pair of a stateful two-way sync:
// which record in A belongs to which record in B, and the base, the values
// of the mapped fields as they were when the pair was last in step.
//
// A Link is a plain value; stores save and return it as a whole. Nil and
// empty maps and slices are equivalent, and stored times keep their instant
// (compare them with [time.Time.Equal]) but not necessarily their location.
type Link struct {
	// ID identifies the link within its pair. It is chosen by the engine when
	// the link is first made ("A:" or "B:" followed by the record ID of the
	// record first seen) and never changes, even when a record ID or the key
	// does.
	ID string `json:"id"`

	// Key is the normalized match key of the pair as last seen, for example
	// "dana@example.com". A pending create is found again by this key.
	Key string `json:"key,omitempty"`

	// A and B are the record IDs on each side, as [Identifier.RecordID]
	// returns them. The ID of a side with a pending create is empty.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`

	// BaseA and BaseB hold the mapped fields (common field name to value) as
	// each side held them after the last successful sync of the pair. A field
	// that differs from its base has changed on that side since. Keeping one
	// base per side means a value a system rewrites on save (a phone number
	// it formats, say) is not taken for a user's edit.
	BaseA map[string]string `json:"baseA,omitempty"`
	BaseB map[string]string `json:"baseB,omitempty"`

	// Origin is the side where the record existed before keysync created its
	// counterpart on the other side, or "" when both records existed and were
	// matched by key. Deletes restricted to records the sync created use it.
	Origin Side `json:"origin,omitempty"`

	// Pending is the side on which a create was started but not confirmed:
	// the intent written before the create. The next run looks for the
	// created record by Key before creating anything.
	Pending Side `json:"pending,omitempty"`

	// Missing is the side whose record has disappeared from a full listing
	// (deleted or archived there), or "" when both records exist.
	Missing Side `json:"missing,omitempty"`

	// Quarantined is when the deletion of the other side's record was first
	// held back for confirmation, or the zero time when it is not held.
	Quarantined time.Time `json:"quarantined,omitzero"`

	// Conflicts lists the fields whose conflict was left unresolved
	// (report-only): both sides changed them to different values. They are
	// reported again on every run until the values agree or one side changes.
	Conflicts []string `json:"conflicts,omitempty"`

	// ResolvedA and ResolvedB hold, per field, the value a settled conflict
	// gives each side while the write of that value to A (or B) is not yet
	// confirmed. They are stored before the writes, with the bases set to
	// the values the sides held when the conflict was settled, so that a run
	// cut short between the writes to the two sides finishes the resolution
	// instead of taking the side not yet written for an edit.
	ResolvedA map[string]string `json:"resolvedA,omitempty"`
	ResolvedB map[string]string `json:"resolvedB,omitempty"`

	// Synced is when the link was last written by a run.
	Synced time.Time `json:"synced,omitzero"`
}

// Clone returns a deep copy of l.
func (l Link) Clone() Link {
	l.BaseA = maps.Clone(l.BaseA)
	l.BaseB = maps.Clone(l.BaseB)
	l.Conflicts = slices.Clone(l.Conflicts)
	l.ResolvedA = maps.Clone(l.ResolvedA)
	l.ResolvedB = maps.Clone(l.ResolvedB)
	return l
}

// PairState is the bookkeeping of one sync pair kept next to its links.
type PairState struct {
	// Revision counts the commits made to the pair. Stores increment it on
	// every [StateStore.Commit] and ignore the value given to them; a plan
	// records it so that applying a stale plan is refused.
	Revision int64 `json:"revision"`

	// Runs counts the completed runs of the pair.
	Runs int64 `json:"runs,omitempty"`

	// LastFull is the number of the last completed run that listed both sides
	// in full (Runs counts from 1), or 0 when there was none.
	LastFull int64 `json:"lastFull,omitempty"`

	// ListedA and ListedB are when the last completed run started listing
	// each side, by the engine's clock; a run with failed or deferred writes
	// keeps the earlier times, so that the next run lists those records
	// again. An incremental run lists the records modified since then, less
	// an overlap.
	ListedA time.Time `json:"listedA,omitzero"`
	ListedB time.Time `json:"listedB,omitzero"`

	// UnlinkedA and UnlinkedB are the normalized keys of the records of that
	// side that the last run listed but left unlinked (ambiguous, duplicate,
	// filtered or failed). An incremental run, which does not see unchanged
	// records, never creates a record under one of these keys on the other
	// side; the next full run settles them.
	UnlinkedA []string `json:"unlinkedA,omitempty"`
	UnlinkedB []string `json:"unlinkedB,omitempty"`
}

// StateChange is one atomic change to the state of a pair: every part of it
// is stored, or none is.
type StateChange struct {
	// Put stores each link, replacing any stored link with the same ID.
	Put []Link

	// Delete removes the links with these IDs; unknown IDs are ignored. An ID
	// both put and deleted is deleted.
	Delete []string

	// State, when not nil, replaces the pair's [PairState] (except Revision,
	// which the store maintains).
	State *PairState
}

// StateStore keeps the links and bookkeeping of stateful two-way syncs,
// separately for each sync pair, a name the caller chooses (such as
// "pipedrive-persons:hubspot-contacts"). Implementations are in packages
// state/boltstore (embedded, the default), state/pgstore (PostgreSQL, for
// several workers) and memory (for tests); state/statetest checks a store
// against this contract.
//
// All methods are safe for concurrent use. [TwoWay] calls Lock once at the
// start of a run, then PairState and Links, then Commit any number of
// times, and Unlock at the end, all from one goroutine. A store never keeps
// a reference to a [Link] it was given or returned, so callers may modify
// them freely. When ctx is done, methods return an error wrapping ctx.Err()
// and a Commit then has either been applied in full or not at all.
type StateStore interface {
	// Lock takes the run lock of pair, so that no other run of the same pair
	// (in this process or, for shared stores, anywhere) works at the same
	// time. It does not wait: when another holder has it, it returns
	// [ErrLocked]. Locking a pair this store already holds also returns
	// ErrLocked.
	Lock(ctx context.Context, pair string) error

	// Unlock releases the run lock of pair. Releasing a lock that is not
	// held does nothing.
	Unlock(ctx context.Context, pair string) error

	// PairState returns the bookkeeping of pair, the zero value for a pair
	// that has none.
	PairState(ctx context.Context, pair string) (PairState, error)

	// Links yields every link of pair in ascending order of ID. The sequence
	// may be used more than once and reads the store anew each time; it
	// yields (Link{}, err) once and stops on failure. It does not hold the
	// store while the caller's loop body runs, so the body may Commit;
	// links committed during the iteration may or may not be yielded.
	Links(ctx context.Context, pair string) iter.Seq2[Link, error]

	// Commit applies change atomically and durably (for stores that persist)
	// and increments the pair's revision. Links with an empty ID and an
	// empty pair name are refused with an error matching [ErrStateInvalid],
	// and nothing is stored. (Every method refuses an empty pair name.)
	Commit(ctx context.Context, pair string, change StateChange) error

	// Close releases the store's resources, including any run locks it
	// holds. Afterwards every other method returns an error matching
	// [ErrStateClosed]; closing again returns nil.
	Close() error
}

// LockChecker is an optional interface of a [StateStore] whose run locks
// can be lost while held, such as a lock tied to a database session.
// [TwoWay] and [ApplyPlan] call Held before each batch of writes and stop,
// writing nothing more, when it returns an error.
type LockChecker interface {
	// Held returns nil when this store still holds the run lock of pair,
	// else an error saying why not.
	Held(ctx context.Context, pair string) error
}

// Errors of state stores and stateful syncs.
var (
	// ErrLocked means another run holds the run lock of the sync pair.
	ErrLocked = errors.New("sync: sync pair is locked by another run")

	// ErrStateInvalid means a state store was asked to store something it
	// must refuse, such as a link without an ID.
	ErrStateInvalid = errors.New("sync: invalid state")

	// ErrStateClosed means the state store has been closed.
	ErrStateClosed = errors.New("sync: state store closed")
)

// CheckPair returns an error matching [ErrStateInvalid] when pair is empty.
// Store implementations call it at the start of each method that takes a
// pair.
func CheckPair(pair string) error {
	if pair == "" {
		return fmt.Errorf("%w: empty pair name", ErrStateInvalid)
	}
	return nil
}

// CheckStateChange returns an error matching [ErrStateInvalid] when pair
// is empty or a link of change has an empty ID. Store implementations call
// it at the start of Commit.
func CheckStateChange(pair string, change StateChange) error {
	if err := CheckPair(pair); err != nil {
		return err
	}
	for i, l := range change.Put {
		if l.ID == "" {
			return fmt.Errorf("%w: link %d has an empty ID", ErrStateInvalid, i)
		}
	}
	return nil
}

// FieldSide tells a stateful [TwoWay] how the records of one side hold the
// common fields, the fields both systems share under names of the user's
// choosing (such as "email", "first", "last", "phone"). [FieldPaths] builds
// one from key paths.
type FieldSide struct {
	// Get returns the common fields of a record as text, field name to
	// value; a missing field and "" are the same. Values are compared as
	// they are, so Get should return them in a canonical form (an email
	// lower-cased, say) when the systems may spell one value differently.
	// It must not modify item and may be called concurrently.
	Get func(item Item) map[string]string

	// Set returns the write shape that gives a record the fields: all common
	// fields of the source record for a create (existing is nil), only the
	// changed ones for an update (existing is the record as listed, which
	// Set must not modify). Returning nil skips the record as filtered. A
	// created record must carry the match key, so that a re-run after a
	// crash finds it.
	Set func(fields map[string]string, existing Item) Item
}

// FieldMapping pairs the [FieldSide] of A with that of B.
type FieldMapping struct {
	A, B FieldSide
}

// FieldPaths returns a [FieldSide] for records whose common fields sit at
// key paths, such as {"email": "emails[0].value", "first": "first_name"}
// for a Pipedrive person or {"email": "properties.email"} for a HubSpot
// contact. Each path is checked with [ParseKeyPath].
//
// Get reads each path with [KeyPath.Lookup]: strings are taken as they are,
// numbers as JavaScript prints them, bools as "true" or "false", objects and
// arrays as compact JSON, and null or a missing value as "". Set builds an
// item holding each given field at its path, creating objects and arrays
// on the way. Objects hold only the paths written, so that updating
// "properties.phone" sends no other property; an array on a path is copied
// whole from the existing record, so that writing "emails[0].value" keeps
// the person's other emails. A field given as "" is written as "".
func FieldPaths(paths map[string]string) (FieldSide, error) {
	parsed := make(map[string]KeyPath, len(paths))
	for f, p := range paths {
		kp, err := ParseKeyPath(p)
		if err != nil {
			return FieldSide{}, fmt.Errorf("field %q: %w", f, err)
		}
		parsed[f] = kp
	}
	return FieldSide{
		Get: func(item Item) map[string]string { return getPaths(parsed, item) },
		Set: func(fields map[string]string, existing Item) Item {
			return setPaths(parsed, fields, existing)
		},
	}, nil
}

// ConflictMode says how a stateful [TwoWay] settles a field that both sides
// changed to different values since the last sync.
type ConflictMode string

// The conflict modes.
const (
	// ConflictReportOnly (the default) writes neither value: both stay, the
	// conflict is reported on every run until the values agree or one side
	// changes again, which settles it.
	ConflictReportOnly ConflictMode = "report-only"

	// ConflictPreferA keeps A's value and writes it to B.
	ConflictPreferA ConflictMode = "prefer-a"

	// ConflictPreferB keeps B's value and writes it to A.
	ConflictPreferB ConflictMode = "prefer-b"

	// ConflictNewest keeps the value of the record modified last, by each
	// side's [Identifier.ModifiedAt]. When either time is unknown or they
	// are equal, the conflict is left as with ConflictReportOnly. The times
	// are those of whole records, not of fields: a record edited last in
	// another field wins a conflict on a field it changed earlier.
	ConflictNewest ConflictMode = "newest"

	// ConflictCustom asks ConflictPolicy.Resolve.
	ConflictCustom ConflictMode = "custom"
)

// ConflictPolicy configures how conflicts are settled.
type ConflictPolicy struct {
	// Mode is the policy; the zero value means [ConflictReportOnly].
	Mode ConflictMode

	// Resolve decides a conflict for [ConflictCustom]: it returns the value
	// both sides should hold (which may be A's, B's or a new one), or false
	// to leave the conflict unresolved. It is called during planning, from
	// one goroutine.
	Resolve func(c Conflict) (value string, ok bool)
}

// Conflict is one field that both sides changed to different values since
// the last sync, or that differs between two records linked for the first
// time while neither is empty.
type Conflict struct {
	// Link is the ID of the link of the two records, and Key its match key.
	Link string `json:"link"`
	Key  string `json:"key,omitempty"`

	// Field is the common field's name.
	Field string `json:"field"`

	// A and B are the values each side holds now; BaseA and BaseB those it
	// held after the last sync ("" for records linked for the first time).
	A     string `json:"a"`
	B     string `json:"b"`
	BaseA string `json:"baseA,omitempty"`
	BaseB string `json:"baseB,omitempty"`

	// ModifiedA and ModifiedB are the records' modification times, when
	// their connectors tell.
	ModifiedA time.Time `json:"modifiedA,omitzero"`
	ModifiedB time.Time `json:"modifiedB,omitzero"`

	// Kept says how the conflict was settled: [KeptA] or [KeptB] when that
	// side's value won, [KeptValue] when Resolve chose another value (in
	// Value), and [KeptNone] when it was left unresolved.
	Kept Kept `json:"kept,omitempty"`

	// Value is the value both sides get, when the conflict was settled.
	Value string `json:"value,omitempty"`
}

// Kept says how a [Conflict] was settled.
type Kept string

// The ways a conflict is settled.
const (
	// KeptNone: the conflict was left unresolved.
	KeptNone Kept = ""
	// KeptA: A's value won and is written to B.
	KeptA Kept = "A"
	// KeptB: B's value won and is written to A.
	KeptB Kept = "B"
	// KeptValue: ConflictPolicy.Resolve chose a new value, written to both.
	KeptValue Kept = "value"
)

// DeleteMode says what a stateful [TwoWay] does when a linked record has
// disappeared from one side (deleted or archived there).
type DeleteMode string

// The delete modes.
const (
	// DeleteIgnore (the default) leaves the other record alone and never
	// re-creates the deleted one. The link remembers the deletion; if the
	// record reappears (restored, or a new record with the same key), the
	// pair is linked again.
	DeleteIgnore DeleteMode = "ignore"

	// DeletePropagate deletes the other record through its connector's
	// [Deleter], within the guards of DeletePolicy.
	DeletePropagate DeleteMode = "propagate"

	// DeleteQuarantine holds the deletion of the other record as pending: it
	// is reported on every run, released if the deleted record reappears,
	// and applied (within the guards) once DeletePolicy.Confirm says so.
	DeleteQuarantine DeleteMode = "quarantine"
)

// DeletePolicy configures how deletions propagate. Deletions are seen only
// by runs that list both sides in full (see IncrementalOptions).
type DeletePolicy struct {
	// InA is what to do when a linked record is deleted in A, and InB when
	// one is deleted in B. The zero value means [DeleteIgnore].
	InA, InB DeleteMode

	// Confirm decides whether a quarantined deletion may now be applied. It
	// is called during planning, once per held deletion and run. Nil
	// confirms nothing, so quarantined deletions wait.
	Confirm func(d HeldDelete) bool

	// Max is the largest number of records a run may delete; when more are
	// due, the run deletes none and reports why. Zero means no limit by
	// count.
	Max int

	// MaxShare is the largest share (0 to 1) of the linked pairs a run may
	// delete, though a run may always delete [MinDeleteAllowance] records,
	// so that small pairs stay usable. When more are due, the run deletes
	// none and reports why. Zero means [DefaultMaxDeleteShare]; a negative
	// value turns the check off; a value over 1 is refused.
	MaxShare float64

	// OnlyCreated restricts deletes to records that this sync created (the
	// counterpart of a record that existed first on the other side); other
	// deletions are treated as DeleteIgnore and reported.
	OnlyCreated bool
}

// DefaultMaxDeleteShare is the share of linked pairs a run may delete when
// DeletePolicy.MaxShare is zero.
const DefaultMaxDeleteShare = 0.1

// MinDeleteAllowance is how many deletions a run may make whatever
// DeletePolicy.MaxShare says (DeletePolicy.Max still applies).
const MinDeleteAllowance = 2

// HeldDelete is a quarantined deletion, as DeletePolicy.Confirm sees it.
type HeldDelete struct {
	// Link is the ID of the link, and Key its match key.
	Link string
	Key  string

	// Deleted is the side whose record disappeared; the record to delete is
	// on the other side.
	Deleted Side

	// Record is the record to delete, as its side listed it.
	Record Item

	// Since is when the deletion was first held.
	Since time.Time
}

// IncrementalOptions configures incremental listing. A side whose connector
// is an [IncrementalSource] can be listed incrementally: only the records
// modified since the last run started, less Overlap. Deletions cannot be
// seen that way, so they are detected only by full runs.
type IncrementalOptions struct {
	// FullEvery makes every FullEvery-th run list both sides in full and the
	// runs in between incremental. Zero or one lists in full every time.
	FullEvery int

	// Full forces this run to list in full.
	Full bool

	// Overlap is how far before the last run's start an incremental listing
	// begins, to cover clock skew between this machine and the systems and
	// records modified at the same instant. Zero means [DefaultOverlap].
	Overlap time.Duration
}

// DefaultOverlap is IncrementalOptions.Overlap when zero.
const DefaultOverlap = time.Minute

// PlanOpKind is the kind of a [PlanOp].
type PlanOpKind string

// The kinds of planned operations.
const (
	// PlanCreate creates a record on Side from the record of the other side.
	PlanCreate PlanOpKind = "create"

	// PlanUpdate writes changed fields to the record RecordID on Side.
	PlanUpdate PlanOpKind = "update"

	// PlanDelete deletes the record RecordID on Side.
	PlanDelete PlanOpKind = "delete"

	// PlanLink stores a link without writing to either system: a new pair
	// already in step, a new base for fields both sides changed alike, a
	// resolved pending create, a deletion noticed or held.
	PlanLink PlanOpKind = "link"

	// PlanUnlink forgets a link whose records are both gone.
	PlanUnlink PlanOpKind = "unlink"
)

// FieldChange is one field a [PlanOp] writes.
type FieldChange struct {
	// Field is the common field's name.
	Field string `json:"field"`

	// Before is the value the written record holds, After the value written.
	Before string `json:"before"`
	After  string `json:"after"`

	// Why says what made the change due, such as "changed in a" or
	// "conflict, kept a (prefer-a)".
	Why string `json:"why"`

	// OtherBase, when set, is the value the other side holds for the field;
	// it becomes that side's base when the write succeeds.
	OtherBase *string `json:"otherBase,omitempty"`
}

// PlanOp is one planned operation of a [Plan].
type PlanOp struct {
	// Kind is what the operation does.
	Kind PlanOpKind `json:"kind"`

	// Side is the side written to (create, update, delete).
	Side Side `json:"side,omitempty"`

	// Link is the ID of the link the operation belongs to, and Key its
	// match key.
	Link string `json:"link"`
	Key  string `json:"key,omitempty"`

	// RecordID is the ID of the record updated or deleted, and SourceID
	// that of the record on the other side it comes from, if any.
	RecordID string `json:"recordId,omitempty"`
	SourceID string `json:"sourceId,omitempty"`

	// Why explains link, unlink and delete operations.
	Why string `json:"why,omitempty"`

	// Changes lists the fields written (every field for a create).
	Changes []FieldChange `json:"changes,omitempty"`

	// Write is the item sent to the connector (create, update).
	Write Item `json:"write,omitempty"`

	// Target is the record updated or deleted, as its side listed it.
	Target Item `json:"target,omitempty"`

	// State is the link as stored before the write: for a link operation
	// the link to store, for a create the intent stored before creating,
	// for an update the link whose bases the write advances.
	State *Link `json:"state,omitempty"`

	// Index is the position of the source record in its side's listing, or
	// -1. Source is that record; it only feeds the report and is not kept in
	// JSON.
	Index  int  `json:"index"`
	Source Item `json:"-"`
}

// PlanNote is a record or pair a [Plan] does not write, with the reason.
type PlanNote struct {
	// Side is the side of the record the note is about.
	Side Side `json:"side"`

	// Link is the ID of the pair's link, if it has one; Key the match key.
	Link string `json:"link,omitempty"`
	Key  string `json:"key,omitempty"`

	// RecordID is the ID of the record.
	RecordID string `json:"recordId,omitempty"`

	// Outcome is [Skipped], [Held] or [Unchanged]; Reason and Detail say
	// why, as in an [Entry].
	Outcome Outcome `json:"outcome"`
	Reason  Reason  `json:"reason,omitempty"`
	Detail  string  `json:"detail,omitempty"`

	// Index is the record's position in its side's listing, or -1. Source
	// is the record and Target its counterpart, if any; they only feed the
	// report and are not kept in JSON.
	Index  int  `json:"index"`
	Source Item `json:"-"`
	Target Item `json:"-"`
}

// Plan is what a stateful [TwoWay] will do: every create, update (with each
// field's before, after and why), delete and conflict. [PlanTwoWay] makes
// it without writing anything, it encodes to JSON and back for review, and
// [ApplyPlan] carries it out exactly, refusing with [ErrStalePlan] when the
// pair's state has changed since.
type Plan struct {
	// Pair is the sync pair, and Revision the revision of its state the plan
	// was made from.
	Pair     string `json:"pair"`
	Revision int64  `json:"revision"`

	// Made is when the plan was made.
	Made time.Time `json:"made"`

	// Full tells whether both sides were listed in full (so that deletions
	// could be seen).
	Full bool `json:"full"`

	// Ops are the operations, in the order they are applied: link and
	// unlink operations first, then creates, updates and deletes.
	Ops []PlanOp `json:"ops"`

	// Conflicts lists every conflict and how it was settled.
	Conflicts []Conflict `json:"conflicts,omitempty"`

	// Notes lists records skipped, deletions held or withheld, and other
	// things worth knowing that need no write.
	Notes []PlanNote `json:"notes,omitempty"`

	// DeleteGuard explains why the plan deletes nothing although deletions
	// were due, or is empty.
	DeleteGuard string `json:"deleteGuard,omitempty"`

	// Next is the pair state to store once the plan is applied.
	Next PairState `json:"next"`

	// AName and BName name the sides in reports.
	AName string `json:"aName"`
	BName string `json:"bName"`

	// unchanged holds the entries of records left alone; kept only in
	// memory, for the report of the run that made the plan.
	unchanged []Entry
}

// Count returns how many operations of kind k the plan holds.
func (p *Plan) Count(k PlanOpKind) int {
	n := 0
	for i := range p.Ops {
		if p.Ops[i].Kind == k {
			n++
		}
	}
	return n
}

// Writes returns how many records the plan writes or deletes.
func (p *Plan) Writes() int {
	return p.Count(PlanCreate) + p.Count(PlanUpdate) + p.Count(PlanDelete)
}

// More outcomes and reasons of stateful two-way syncs.
const (
	// Deleted means the record's counterpart was deleted because the record
	// itself was deleted on its side (Entry.Source is nil, Entry.Target the
	// deleted record).
	Deleted Outcome = "deleted"

	// Held means a deletion is quarantined, waiting for confirmation.
	Held Outcome = "held"

	// ReasonConflict: the field values of the pair conflict and the conflict
	// was left unresolved; Entry.Detail names the fields.
	ReasonConflict Reason = "conflict"

	// ReasonDeleteGuard: a deletion was withheld because the run would have
	// deleted more than DeletePolicy allows.
	ReasonDeleteGuard Reason = "delete guard"

	// ReasonEditedDeleted: a record was deleted on one side while its
	// counterpart was edited since the last sync. The edit wins: the
	// counterpart is kept (not deleted, whatever the DeletePolicy) and
	// created again on the side where it was deleted, or, when it has no
	// usable key to be created under, kept and reported on every run until
	// it has one.
	ReasonEditedDeleted Reason = "edited and deleted"

	// ReasonNotCreated: a deletion was not propagated because the record to
	// delete was not created by this sync (DeletePolicy.OnlyCreated).
	ReasonNotCreated Reason = "not created by sync"

	// ReasonDeferred: the change waits for a full run: an incremental run
	// could not see the record it would write, or the key is held by a
	// record it cannot see.
	ReasonDeferred Reason = "deferred"

	// ReasonNoRecordID: the connector gave the record no ID, so it cannot be
	// linked.
	ReasonNoRecordID Reason = "no record id"

	// ReasonPending: a create started by an earlier run that was cut short
	// cannot be told apart from other records with its key.
	ReasonPending Reason = "pending create"
)

// ErrStalePlan means [ApplyPlan] refused a plan because the state of its
// pair changed after the plan was made; make a new plan.
var ErrStalePlan = errors.New("sync: plan is stale: the sync state changed since it was made")

// getPaths reads the fields at their key paths as text (see [FieldPaths]).
func getPaths(paths map[string]KeyPath, item Item) map[string]string {
	out := make(map[string]string, len(paths))
	for f, kp := range paths {
		v, ok := kp.Lookup(item)
		if !ok || v == nil {
			continue
		}
		if s := fieldText(v); s != "" {
			out[f] = s
		}
	}
	return out
}

// fieldText turns a field value into its text form (see [FieldPaths]).
func fieldText(v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case map[string]any, []any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	if s, ok := jsString(v); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// setPaths builds the write shape holding fields at their key paths (see
// [FieldPaths]): objects hold only the paths written, so that an update of
// properties.phone sends no other property, while an array a path goes
// through is copied whole from existing, as APIs replace arrays whole.
func setPaths(paths map[string]KeyPath, fields map[string]string, existing Item) Item {
	out := Item{}
	names := slices.Sorted(maps.Keys(fields))
	for _, f := range names {
		kp, ok := paths[f]
		if !ok || len(kp.keys) == 0 {
			continue
		}
		top := kp.keys[0]
		out[top] = setSparse(out[top], existing[top], kp.keys[1:], fields[f])
	}
	return out
}

// setSparse returns v with value stored at the path keys inside it,
// creating objects that hold only that path; where the path meets an array
// of was (the existing value at v's place), v starts as a copy of it.
func setSparse(v, was any, keys []string, value string) any {
	if len(keys) == 0 {
		return value
	}
	if _, ok := v.([]any); ok {
		return setAt(v, keys, value)
	}
	if arr, ok := was.([]any); ok && v == nil {
		if _, isIndex := arrayIndex(keys[0]); isIndex {
			return setAt(cloneJSON(arr), keys, value)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		if _, isIndex := arrayIndex(keys[0]); isIndex {
			return setAt(v, keys, value)
		}
		m = map[string]any{}
	}
	var child any
	if wm, ok := was.(map[string]any); ok {
		child = wm[keys[0]]
	}
	m[keys[0]] = setSparse(m[keys[0]], child, keys[1:], value)
	return m
}

// setAt returns v with value stored at the path keys inside it, creating
// objects (or arrays, for index keys) where v holds nothing usable.
func setAt(v any, keys []string, value string) any {
	if len(keys) == 0 {
		return value
	}
	k := keys[0]
	if arr, ok := v.([]any); ok {
		if i, ok := arrayIndex(k); ok && int(i) < len(arr)+1024 {
			for len(arr) <= int(i) {
				arr = append(arr, nil)
			}
			arr[i] = setAt(arr[i], keys[1:], value)
			return arr
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		if i, isIndex := arrayIndex(k); isIndex && i < 1024 {
			arr := make([]any, i+1)
			arr[i] = setAt(nil, keys[1:], value)
			return arr
		}
		m = map[string]any{}
	}
	m[k] = setAt(m[k], keys[1:], value)
	return m
}

// cloneJSON deep-copies objects and arrays of decoded JSON.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = cloneJSON(e)
		}
		return s
	}
	return v
}
