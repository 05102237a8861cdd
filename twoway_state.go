package sync

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// BUG(keysync): A stateful TwoWay sees deletions only in runs that list both
// sides in full (see IncrementalOptions); an incremental run leaves them for
// the next full run.

// BUG(keysync): In an incremental run, a change that must be written to a
// record the other side did not list waits for the next full run unless
// that side's connector is a KeySearcher, which then finds the record by key
// (one search per such record).

// BUG(keysync): Common fields are text: FieldPaths writes every value as a
// string, so a system that wants numbers or bools needs a FieldSide.Set of
// its own.

// BUG(keysync): When records share keys, a key change that one run writes
// can make a record skipped as a duplicate unique, so that the next run
// creates it: with duplicate keys the sides may need a few runs to settle.

// BUG(keysync): ConflictNewest compares the modification times of whole
// records (Identifier.ModifiedAt), not of the conflicting field, so a
// record edited last in any field wins.

// BUG(keysync): A stateful run holds both listings, every link of the pair
// and a report entry per record and direction in memory.

// PlanTwoWay plans a stateful [TwoWay] run (TwoWayOptions.State must be
// set) without writing anything to either system or to the store: it takes
// the pair's run lock, lists both sides, compares them with the stored
// links and bases, and returns every operation the run would perform. The
// plan can be reviewed (it encodes to JSON), shown with [Plan.Report], and
// carried out with [ApplyPlan], which refuses it once the state changed.
//
// PlanTwoWay returns [ErrLocked] when another run holds the pair, an
// [*OptionsError] for unusable options and a [*MissingKeysError] when the
// guard against wrong key paths trips.
func PlanTwoWay(ctx context.Context, a, b Connector, opts TwoWayOptions) (*Plan, error) {
	r := newRun(opts.Logger, opts.Progress, true)
	cfg, err := opts.stateConfig(a, b)
	if err != nil {
		return nil, err
	}
	if err := cfg.lock(ctx); err != nil {
		return nil, err
	}
	defer cfg.unlock(ctx)
	return newPlanner(cfg, r).run(ctx)
}

// ApplyPlan carries out a plan made by [PlanTwoWay] with the same
// connectors and options: exactly its operations, in its order, with the
// stored state advanced as each batch succeeds.
//
// It is safe to kill at any point. It first commits the plan's link
// changes together with an intent per record to create (a pending link
// holding the match key); after each batch of writes it commits, in one
// transaction, the links of the created records and the new bases of the
// updated ones, and forgets the links of deleted records. A re-run finds a
// record whose create was not confirmed by its key and links it instead of
// creating it again, sees an update whose base was not stored as a field
// both sides changed alike, and finishes a deletion whose link remained. It takes the pair's run
// lock and returns [ErrStalePlan] without writing anything when the pair's
// state revision differs from the plan's, that is when any run or
// ApplyPlan committed since the plan was made. Records may have changed in
// the systems since; the writes then overwrite those changes, so apply
// plans soon after making them.
//
// A plan that does not fit the options (other side names, another pair) or
// holds an operation that lacks what applying it needs (a kind, a side, the
// link state, the record to update or delete, a Deleter for a delete), as
// an edited plan decoded from JSON might, is refused with an
// [*OptionsError] before anything is written.
//
// Writes go out in batches and stop as in [OneWay]: on an error matching
// [ErrUnauthorized], [ErrForbidden] or [ErrRateLimited], at the end of ctx,
// or after three batches in a row failed as a whole, the rest reported as
// [ReasonNotAttempted]. As with [TwoWay], the error is nil only when every
// write and delete succeeded; otherwise it matches [ErrWritesFailed] (a
// [*WriteFailuresError]).
//
// The report holds an entry per operation and note of the plan; a plan
// decoded from JSON has no entries for records it leaves unchanged. Its
// Directions are the plan's two, even when one has no entries.
func ApplyPlan(ctx context.Context, a, b Connector, p *Plan, opts TwoWayOptions) (Report, error) {
	r := newRun(opts.Logger, opts.Progress, false)
	cfg, err := opts.stateConfig(a, b)
	if err != nil {
		return r.finish(ctx, err)
	}
	if p == nil || p.Pair != cfg.pair {
		return r.finish(ctx, optionsError("Pair", "the plan is for another sync pair", nil))
	}
	if err := cfg.checkPlan(p); err != nil {
		return r.finish(ctx, err)
	}
	r.report.directions = p.directions()
	if err := cfg.lock(ctx); err != nil {
		return r.finish(ctx, err)
	}
	defer cfg.unlock(ctx)
	st, err := cfg.store.PairState(ctx, cfg.pair)
	if err != nil {
		return r.finish(ctx, fmt.Errorf("reading sync state: %w", err))
	}
	if st.Revision != p.Revision {
		return r.finish(ctx, fmt.Errorf("%w (plan made at revision %d, state is at %d)",
			ErrStalePlan, p.Revision, st.Revision))
	}
	err = (&applier{cfg: cfg, r: r, plan: p, prev: st}).apply(ctx)
	return r.finish(ctx, err)
}

// checkPlan checks that a plan, perhaps decoded from JSON and edited, fits
// the configuration and holds what applying each operation needs.
func (c *stateConfig) checkPlan(p *Plan) error {
	if p.AName != c.sides[0].name || p.BName != c.sides[1].name {
		return optionsError("Plan", fmt.Sprintf("the plan's sides are %q and %q, not %q and %q",
			p.AName, p.BName, c.sides[0].name, c.sides[1].name), nil)
	}
	for i := range p.Ops {
		if problem := c.checkOp(&p.Ops[i]); problem != "" {
			return optionsError("Plan", fmt.Sprintf("operation %d (%s %s): %s", i, p.Ops[i].Kind,
				p.Ops[i].Link, problem), nil)
		}
	}
	return nil
}

// checkOp returns what is wrong with a planned operation, or "".
func (c *stateConfig) checkOp(op *PlanOp) string {
	if op.Link == "" {
		return "no link ID"
	}
	switch op.Kind {
	case PlanLink, PlanUnlink:
		if op.Kind == PlanLink && (op.State == nil || op.State.ID != op.Link) {
			return "no link state with the operation's link ID"
		}
		return ""
	case PlanCreate, PlanUpdate, PlanDelete:
	default:
		return "unknown kind"
	}
	if op.Side != SideA && op.Side != SideB {
		return fmt.Sprintf("unknown side %q", op.Side)
	}
	switch op.Kind {
	case PlanCreate:
		switch {
		case op.State == nil || op.State.ID != op.Link:
			return "no intent with the operation's link ID"
		case op.State.Pending != op.Side:
			return "the intent is not pending on the side written"
		case op.Write == nil:
			return "nothing to write"
		}
	case PlanUpdate:
		switch {
		case op.State == nil || op.State.ID != op.Link:
			return "no link state with the operation's link ID"
		case op.RecordID == "" || op.Target == nil:
			return "no record to update"
		case op.Write == nil:
			return "nothing to write"
		}
	case PlanDelete:
		switch {
		case op.RecordID == "" || op.Target == nil:
			return "no record to delete"
		case c.side(op.Side).deleter == nil:
			return "the " + c.side(op.Side).name + " connector is not a Deleter"
		}
	}
	return ""
}

// twoWayStateful is TwoWay with TwoWayOptions.State set: plan and apply
// under one run lock.
func twoWayStateful(ctx context.Context, a, b Connector, opts TwoWayOptions) (Report, error) {
	r := newRun(opts.Logger, opts.Progress, opts.DryRun)
	cfg, err := opts.stateConfig(a, b)
	if err != nil {
		return r.finish(ctx, err)
	}
	r.report.directions = cfg.directions()
	if err := cfg.lock(ctx); err != nil {
		return r.finish(ctx, err)
	}
	defer cfg.unlock(ctx)
	pl := newPlanner(cfg, r)
	p, err := pl.run(ctx)
	if err != nil {
		return r.finish(ctx, err)
	}
	if opts.DryRun {
		r.report.Entries = p.entries(true)
		warnSkipped(ctx, r, r.report.Entries, p.Conflicts)
		return r.finish(ctx, nil)
	}
	err = (&applier{cfg: cfg, r: r, plan: p, prev: pl.st}).apply(ctx)
	return r.finish(ctx, err)
}

// warnSkipped logs the skipped entries, as the stateless syncs do. The
// detail of a conflict quotes both values, so its log line names only the
// conflicting fields (taken from conflicts): records are logged by key and
// position, never by their fields.
func warnSkipped(ctx context.Context, r *run, es []Entry, conflicts []Conflict) {
	for i := range es {
		if es[i].Outcome != Skipped {
			continue
		}
		e := &es[i]
		if e.Reason == ReasonConflict {
			c := *e
			c.Detail = conflictLogDetail(e.Key, conflicts)
			e = &c
		}
		r.warn(ctx, "skipped record", e)
	}
}

// conflictLogDetail names the unresolved conflicting fields of the pair
// with key, without their values.
func conflictLogDetail(key string, conflicts []Conflict) string {
	var fields []string
	for _, c := range conflicts {
		if c.Key == key && c.Kept == KeptNone && !slices.Contains(fields, c.Field) {
			fields = append(fields, c.Field)
		}
	}
	if len(fields) == 0 {
		return "unresolved conflict (values only in the report)"
	}
	return "unresolved conflict in " + strings.Join(fields, ", ") + " (values only in the report)"
}

// Report returns the plan as the report of a dry run: an entry per
// operation and note, and, for a plan made in this process, per record left
// unchanged.
func (p *Plan) Report() Report {
	return Report{DryRun: true, Started: p.Made, Finished: time.Now(), Entries: p.entries(true),
		directions: p.directions()}
}

// stateSide is the validated configuration of one side of a stateful sync.
type stateSide struct {
	side     Side
	name     string
	conn     Connector
	ider     Identifier
	keys     keyer
	fields   FieldSide
	batch    int
	deleter  Deleter           // nil when the connector cannot delete
	inc      IncrementalSource // nil when it cannot list incrementally
	searcher KeySearcher       // nil when it cannot search by key
	onDelete DeleteMode        // what to do when a record of this side is deleted
}

// stateConfig is validated TwoWayOptions for a stateful sync.
type stateConfig struct {
	pair       string
	store      StateStore
	sides      [2]*stateSide
	maxMissing float64
	conflicts  ConflictPolicy
	deletes    DeletePolicy
	inc        IncrementalOptions
	now        func() time.Time
}

func sideIndex(s Side) int {
	if s == SideA {
		return 0
	}
	return 1
}

func (c *stateConfig) side(s Side) *stateSide { return c.sides[sideIndex(s)] }

// directions returns the run's two directions, a→b first, for its report.
func (c *stateConfig) directions() []string {
	return bothDirections(c.sides[0].name, c.sides[1].name)
}

// bothDirections returns the directions between sides named a and b, as
// report entries name them: a→b first.
func bothDirections(a, b string) []string { return []string{a + "→" + b, b + "→" + a} }

func (c *stateConfig) lock(ctx context.Context) error {
	if err := c.store.Lock(ctx, c.pair); err != nil {
		return fmt.Errorf("locking sync pair %q: %w", c.pair, err)
	}
	return nil
}

// unlockTimeout bounds the release of a pair's run lock.
const unlockTimeout = 10 * time.Second

func (c *stateConfig) unlock(ctx context.Context) {
	// Unlock even when ctx is done, but give up after unlockTimeout: a
	// failure only delays the next run (stores release the locks of closed
	// connections).
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
	defer cancel()
	_ = c.store.Unlock(uctx, c.pair)
}

// stateConfig validates the options of a stateful sync without I/O.
func (o TwoWayOptions) stateConfig(a, b Connector) (*stateConfig, error) {
	c := &stateConfig{
		pair: o.Pair, store: o.State, conflicts: o.Conflicts, deletes: o.Deletes,
		inc: o.Incremental, now: o.Clock,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if err := o.checkStateful(a, b); err != nil {
		return nil, err
	}
	var err error
	if c.maxMissing, err = maxMissing(o.MaxMissingKeys); err != nil {
		return nil, err
	}
	ka, err := newKeyer(o.AKey, o.AKeys, "AKey", o.Normalize)
	if err != nil {
		return nil, err
	}
	kb := ka
	if o.BKey != "" || o.BKeys != nil {
		if kb, err = newKeyer(o.BKey, o.BKeys, "BKey", o.Normalize); err != nil {
			return nil, err
		}
	}
	c.sides[0], err = newStateSide(SideA, nameOr(o.AName, "a"), a, ka, o.Fields.A)
	if err != nil {
		return nil, err
	}
	c.sides[1], err = newStateSide(SideB, nameOr(o.BName, "b"), b, kb, o.Fields.B)
	if err != nil {
		return nil, err
	}
	c.sides[0].onDelete = orMode(o.Deletes.InA)
	c.sides[1].onDelete = orMode(o.Deletes.InB)
	for _, s := range c.sides {
		if s.onDelete != DeleteIgnore && c.side(s.side.Other()).deleter == nil {
			return nil, optionsError("Deletes.In"+string(s.side),
				fmt.Sprintf("%s deletions need the %s connector to be a Deleter", s.onDelete,
					c.side(s.side.Other()).name), nil)
		}
	}
	if c.sides[0].name == c.sides[1].name {
		return nil, optionsError("BName", "must differ from AName", nil)
	}
	return c, nil
}

// checkStateful checks the options that need no construction.
func (o TwoWayOptions) checkStateful(a, b Connector) error {
	switch {
	case o.State == nil:
		return optionsError("State", "a StateStore is required", nil)
	case a == nil:
		return optionsError("a", "the Connector is nil", nil)
	case b == nil:
		return optionsError("b", "the Connector is nil", nil)
	case o.Pair == "":
		return optionsError("Pair", "a sync pair name is required with State", nil)
	case o.Fields.A.Get == nil || o.Fields.A.Set == nil:
		return optionsError("Fields.A", "Get and Set are required with State", nil)
	case o.Fields.B.Get == nil || o.Fields.B.Set == nil:
		return optionsError("Fields.B", "Get and Set are required with State", nil)
	case o.Deletes.Max < 0:
		return optionsError("Deletes.Max", "is negative", nil)
	case math.IsNaN(o.Deletes.MaxShare) || o.Deletes.MaxShare > 1:
		return optionsError("Deletes.MaxShare", "must be at most 1 (or negative)", nil)
	case o.Incremental.FullEvery < 0:
		return optionsError("Incremental.FullEvery", "is negative", nil)
	case o.Incremental.Overlap < 0:
		return optionsError("Incremental.Overlap", "is negative", nil)
	}
	switch o.Conflicts.Mode {
	case "", ConflictReportOnly, ConflictPreferA, ConflictPreferB, ConflictNewest:
	case ConflictCustom:
		if o.Conflicts.Resolve == nil {
			return optionsError("Conflicts.Resolve", "is required for ConflictCustom", nil)
		}
	default:
		return optionsError("Conflicts.Mode", fmt.Sprintf("unknown mode %q", o.Conflicts.Mode), nil)
	}
	modes := map[string]DeleteMode{"Deletes.InA": o.Deletes.InA, "Deletes.InB": o.Deletes.InB}
	for field, m := range modes {
		switch m {
		case "", DeleteIgnore, DeletePropagate, DeleteQuarantine:
		default:
			return optionsError(field, fmt.Sprintf("unknown mode %q", m), nil)
		}
	}
	return nil
}

func orMode(m DeleteMode) DeleteMode {
	if m == "" {
		return DeleteIgnore
	}
	return m
}

func newStateSide(s Side, name string, conn Connector, k keyer, f FieldSide) (*stateSide, error) {
	ss := &stateSide{side: s, name: name, conn: conn, keys: k, fields: f}
	var ok bool
	if ss.ider, ok = conn.(Identifier); !ok {
		return nil, optionsError(strings.ToLower(string(s)),
			"a stateful sync needs connectors that implement Identifier", nil)
	}
	ss.deleter, _ = conn.(Deleter)
	ss.inc, _ = conn.(IncrementalSource)
	ss.searcher, _ = conn.(KeySearcher)
	var err error
	ss.batch, err = maxBatch(conn, strings.ToLower(string(s)))
	return ss, err
}

// sideRun is one side during planning: its listing and indexes.
type sideRun struct {
	*stateSide
	l      *listing
	full   bool      // listed in full, so absent records are gone
	listed time.Time // when its listing started
	byID   map[string]int
	linked map[string]int // record ID → index in planner.links
	taken  []bool         // listing index → paired or planned in this run
	cache  []map[string]string
}

// recID returns the ID of listed record i.
func (s *sideRun) recID(i int) string { return s.ider.RecordID(s.l.items[i]) }

// get returns the common fields of listed record i, computed once.
func (s *sideRun) get(i int) map[string]string {
	if s.cache[i] == nil {
		s.cache[i] = cleanFields(s.fields.Get(s.l.items[i]))
	}
	return s.cache[i]
}

// cleanFields returns fs without empty values and with invalid UTF-8
// replaced, so that values survive every store unchanged.
func cleanFields(fs map[string]string) map[string]string {
	clean := true
	for f, v := range fs {
		if v == "" || !utf8.ValidString(v) || !utf8.ValidString(f) {
			clean = false
			break
		}
	}
	if clean && fs != nil {
		return fs
	}
	out := make(map[string]string, len(fs))
	for f, v := range fs {
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		if !utf8.ValidString(f) {
			f = strings.ToValidUTF8(f, "\uFFFD")
		}
		out[f] = v
	}
	return out
}

// planner makes a Plan.
type planner struct {
	cfg   *stateConfig
	r     *run
	plan  *Plan
	st    PairState
	links []Link
	s     [2]*sideRun
	full  bool
	now   time.Time

	linkOps, unlinkOps     []PlanOp
	creates, updates, dels [2][]PlanOp // by side written
	// unlinked collects, per side, the keys of listed records left unlinked.
	unlinked [2]map[string]bool
	// linkedKeys collects, per side, keys of records linked in this run, to
	// take off the unlinked keys carried over from an incremental run.
	linkedKeys [2]map[string]bool
	// gone lists the links whose record on one side has disappeared;
	// goneSide maps their indexes to that side, and relinked marks those
	// taken over by a new record with the same key.
	gone     []goneLink
	goneSide map[int]Side
	relinked map[int]bool
	// retried maps, per side, the ID of a record whose create an earlier run
	// left unconfirmed (and whose created record is not found) to the ID of
	// its pending link, which the record's new link or intent takes over.
	retried [2]map[string]string
	// byKey maps stored link keys to link indexes, built on first use.
	byKey map[string]int
}

// goneLink is a link with a record that has disappeared.
type goneLink struct {
	view *pairView
	side Side
	link int
}

func newPlanner(cfg *stateConfig, r *run) *planner {
	p := &planner{cfg: cfg, r: r, goneSide: map[int]Side{}, relinked: map[int]bool{}}
	for i, ss := range cfg.sides {
		p.s[i] = &sideRun{stateSide: ss, l: newListing(ss.name, ss.keys)}
		p.unlinked[i] = map[string]bool{}
		p.linkedKeys[i] = map[string]bool{}
		p.retried[i] = map[string]string{}
	}
	return p
}

func (p *planner) side(s Side) *sideRun { return p.s[sideIndex(s)] }

// run lists both sides and plans the run.
func (p *planner) run(ctx context.Context) (*Plan, error) {
	if err := p.load(ctx); err != nil {
		return nil, err
	}
	p.decideFull()
	if err := p.listBoth(ctx); err != nil {
		return nil, err
	}
	if err := p.r.guard(p.cfg.maxMissing, p.s[0].l, p.s[1].l); err != nil {
		return nil, err
	}
	both := p.s[0].name + "↔" + p.s[1].name
	p.r.notify(Progress{Phase: PhasePlanning, Direction: both, Total: -1})
	p.index()
	for i := range p.links {
		if err := p.planLink(ctx, i); err != nil {
			return nil, err
		}
	}
	for _, s := range []Side{SideA, SideB} {
		if err := p.newRecords(ctx, s); err != nil {
			return nil, err
		}
	}
	for _, g := range p.gone {
		if !p.relinked[g.link] {
			p.deletion(g.view, g.side)
		}
	}
	p.guardDeletes(ctx)
	p.finishPlan()
	p.r.notify(Progress{Phase: PhasePlanning, Direction: both,
		Done: len(p.plan.Ops), Total: len(p.plan.Ops)})
	return p.plan, nil
}

// load reads the pair's state and links.
func (p *planner) load(ctx context.Context) error {
	st, err := p.cfg.store.PairState(ctx, p.cfg.pair)
	if err != nil {
		return fmt.Errorf("reading sync state: %w", err)
	}
	p.st = st
	for l, err := range p.cfg.store.Links(ctx, p.cfg.pair) {
		if err != nil {
			return fmt.Errorf("reading sync links: %w", err)
		}
		p.links = append(p.links, l)
	}
	p.now = p.cfg.now().UTC()
	p.plan = &Plan{
		Pair: p.cfg.pair, Revision: st.Revision, Made: p.now,
		AName: p.s[0].name, BName: p.s[1].name, Ops: []PlanOp{},
	}
	return nil
}

// decideFull decides whether this run lists in full: always on the first
// run, when asked, every FullEvery runs, and when a create of an earlier
// run is pending (only a full listing is sure to show the created record
// or its source).
func (p *planner) decideFull() {
	inc := p.cfg.inc
	full := inc.Full || inc.FullEvery <= 1 || p.st.Runs == 0 ||
		p.st.Runs+1-p.st.LastFull >= int64(inc.FullEvery)
	for i := range p.links {
		if p.links[i].Pending != "" {
			full = true
		}
	}
	p.full = full
	listed := [2]time.Time{p.st.ListedA, p.st.ListedB}
	for i, s := range p.s {
		s.full = full || s.inc == nil || listed[i].IsZero()
	}
	p.plan.Full = p.s[0].full && p.s[1].full
	p.full = p.plan.Full
}

// listBoth lists both sides at the same time.
func (p *planner) listBoth(ctx context.Context) error {
	p.r.notify(Progress{Phase: PhaseListing, Total: -1})
	overlap := p.cfg.inc.Overlap
	if overlap == 0 {
		overlap = DefaultOverlap
	}
	listed := [2]time.Time{p.st.ListedA, p.st.ListedB}
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range p.s {
		since := listed[i].Add(-overlap)
		g.Go(func() error {
			return listSafely("listing "+s.name, func() error { return p.list(gctx, s, since) })
		})
	}
	err := g.Wait()
	n := len(p.s[0].l.items) + len(p.s[1].l.items)
	p.r.notify(Progress{Phase: PhaseListing, Done: n, Total: -1})
	return err
}

// list lists one side, in full or since a time, skipping records whose ID
// was already yielded (pages that shift while being read repeat records).
func (p *planner) list(ctx context.Context, s *sideRun, since time.Time) error {
	s.listed = p.cfg.now().UTC()
	var seq iter.Seq2[Item, error]
	if s.full {
		seq = s.conn.List(ctx)
	} else {
		seq = s.inc.ListModifiedSince(ctx, since)
	}
	seen := map[string]bool{}
	for item, err := range seq {
		if err != nil {
			return fmt.Errorf("listing %s: %w", s.name, err)
		}
		if id := s.ider.RecordID(item); id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		s.l.add(item)
		p.r.countListed()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("listing %s: %w", s.name, err)
	}
	return nil
}

// index builds the ID indexes of both listings and of the links.
func (p *planner) index() {
	for _, s := range p.s {
		n := len(s.l.items)
		s.byID = make(map[string]int, n)
		s.linked = make(map[string]int, len(p.links))
		s.taken = make([]bool, n)
		s.cache = make([]map[string]string, n)
		for i := range s.l.items {
			if id := s.recID(i); id != "" {
				s.byID[id] = i
			}
		}
	}
	p.plan.unchanged = make([]Entry, 0, 2*len(p.links))
	for i, l := range p.links {
		if l.A != "" {
			p.s[0].linked[l.A] = i
		}
		if l.B != "" {
			p.s[1].linked[l.B] = i
		}
	}
}

// pairView is a link being planned: the link as it will be stored, the
// records on each side (nil when not listed) and their common fields.
type pairView struct {
	l      Link  // the link as it will be stored
	stored *Link // the link as stored, nil for a new one
	idx    [2]int
	item   [2]Item
	fields [2]map[string]string
	why    []string // what changed in the link itself, for the link op
	owned  bool     // l's maps are l's own, not the stored link's
}

// planLink plans the stored link i.
func (p *planner) planLink(ctx context.Context, i int) error {
	stored := &p.links[i]
	// v.l shares the stored link's maps until setBase copies them.
	v := &pairView{l: *stored, stored: stored, idx: [2]int{-1, -1}}
	if v.l.Pending != "" && !p.resolvePending(v) {
		return nil
	}
	for k, s := range p.s {
		id := v.l.A
		if k == 1 {
			id = v.l.B
		}
		if j, ok := s.byID[id]; ok && id != "" {
			v.idx[k], v.item[k] = j, s.l.items[j]
			s.taken[j] = true
		}
	}
	goneA := v.idx[0] < 0 && p.full
	goneB := v.idx[1] < 0 && p.full
	switch {
	case goneA && goneB:
		p.unlinkOps = append(p.unlinkOps, PlanOp{Kind: PlanUnlink, Link: v.l.ID, Key: v.l.Key,
			Why: "both records are gone", Index: -1})
		return nil
	case goneA || goneB:
		// Planned after the new records, one of which may take the gone
		// record's place.
		gone := SideA
		if goneB {
			gone = SideB
		}
		p.gone = append(p.gone, goneLink{view: v, side: gone, link: i})
		p.goneSide[i] = gone
		return nil
	}
	if m := v.l.Missing; m != "" {
		if v.idx[sideIndex(m)] < 0 {
			// One side is still gone (incremental run: unknown); a held
			// deletion stays on the report.
			if !v.l.Quarantined.IsZero() {
				p.note(v, m, Held, "", fmt.Sprintf("deleted in %s; deleting the %s record "+
					"waits for confirmation (held since %s; confirmed only by a full run)",
					p.side(m).name, p.side(m.Other()).name,
					v.l.Quarantined.Format(time.RFC3339)))
			}
			return nil
		}
		v.l.Missing, v.l.Quarantined = "", time.Time{}
		v.why = append(v.why, "reappeared in "+p.side(m).name)
		p.note(v, m.Other(), Unchanged, "",
			"counterpart reappeared in "+p.side(m).name+"; link restored")
	}
	return p.planPair(ctx, v)
}

// resolvePending settles a link whose create was started by an earlier run
// that did not confirm it: the created record is looked for by key among
// the unlinked records of the target side. It reports whether planning the
// link goes on (the create happened); otherwise it has planned what to do.
func (p *planner) resolvePending(v *pairView) bool {
	t := p.side(v.l.Pending)
	src := p.side(v.l.Pending.Other())
	found, _ := t.l.match([]string{v.l.Key}, nil)
	found = slices.DeleteFunc(found, func(j int) bool {
		_, linked := t.linked[t.recID(j)]
		return linked || t.taken[j] || t.recID(j) == ""
	})
	srcID := v.l.A
	if v.l.Pending == SideA {
		srcID = v.l.B
	}
	switch len(found) {
	case 1:
		id := t.recID(found[0])
		base := p.pendingBase(v, t, found[0])
		if v.l.Pending == SideA {
			v.l.A, v.l.BaseA = id, base
		} else {
			v.l.B, v.l.BaseB = id, base
		}
		v.why = append(v.why, "found the record created by an interrupted run")
		v.l.Pending = ""
		return true
	case 0:
		if _, ok := src.byID[srcID]; !ok {
			p.unlinkOps = append(p.unlinkOps, PlanOp{Kind: PlanUnlink, Link: v.l.ID, Key: v.l.Key,
				Why: "pending create whose source record is gone", Index: -1})
			return false
		}
		// Nothing holds the key the create would have given: the source
		// record is planned as a new record (newRecords), matched by the
		// keys it holds now, and its new link or intent replaces this one.
		delete(src.linked, srcID)
		p.retried[sideIndex(src.side)][srcID] = v.l.ID
		return false
	}
	if j, ok := src.byID[srcID]; ok {
		src.taken[j] = true
		p.noteRecord(src, j, v.l.ID, v.l.Key, Skipped, ReasonPending,
			fmt.Sprintf("%d %s records hold the key of its unconfirmed create (%s)",
				len(found), t.name, t.l.describe(found)))
	}
	return false
}

// pendingRewriteWindow is how long after its intent was recorded a record
// found for a pending create counts as saved by the create alone: a value
// that differs from what the create sent is then taken for the target
// system's rewrite, not for a user's edit. It allows for the create's
// retries and for the target system's clock running ahead of ours.
const pendingRewriteWindow = time.Minute

// pendingBase returns the base of the target side t for the record j found
// for v's pending create, field by field. A value equal to what the create
// sent is its own base. A value that differs is the target system's rewrite
// (its own base, so it is not echoed back) when the record was last modified
// within [pendingRewriteWindow] of the intent; when it was modified later, or
// when either time is unknown, it may be a user's edit since the create, so
// the base is the value sent and the difference is synced (or reported as a
// conflict if the source changed too) rather than left silent.
func (p *planner) pendingBase(v *pairView, t *sideRun, j int) map[string]string {
	cur := t.get(j)
	sent := baseOf(&v.l, t.side)
	rewrite := false
	if at, ok := t.ider.ModifiedAt(t.l.items[j]); ok && !v.l.Synced.IsZero() {
		rewrite = !at.After(v.l.Synced.Add(pendingRewriteWindow))
	}
	if rewrite || maps.Equal(cur, sent) {
		return maps.Clone(cur)
	}
	return maps.Clone(sent)
}

// deletion plans a link whose record on side gone has disappeared.
func (p *planner) deletion(v *pairView, gone Side) {
	keep := p.side(gone.Other())
	k := sideIndex(gone.Other())
	mode := p.side(gone).onDelete
	v.l.Missing = gone
	changed := v.stored.Missing != gone
	what := "deleted in " + p.side(gone).name
	if mode != DeleteIgnore && p.cfg.deletes.OnlyCreated && v.l.Origin != gone {
		p.linkOp(v, changed, what)
		p.note(v, gone, Skipped, ReasonNotCreated, what+"; the "+keep.name+
			" record was not created by this sync, so it is kept")
		return
	}
	if mode != DeleteIgnore && !maps.Equal(keep.get(v.idx[k]), baseOf(&v.l, keep.side)) {
		p.editedDeleted(v, gone, changed, what)
		return
	}
	switch mode {
	case DeleteIgnore:
		p.linkOp(v, changed, what)
		if changed {
			p.note(v, gone, Unchanged, "",
				what+"; the "+keep.name+" record is kept (deletes ignored)")
		}
	case DeletePropagate:
		p.linkOp(v, changed, what)
		p.planDelete(v, keep, k, what+" (propagate)")
	case DeleteQuarantine:
		if v.l.Quarantined.IsZero() {
			v.l.Quarantined = p.now
			changed = true
		}
		p.linkOp(v, changed, what+"; deletion held")
		held := HeldDelete{Link: v.l.ID, Key: v.l.Key, Deleted: gone, Record: v.item[k],
			Since: v.l.Quarantined}
		if p.cfg.deletes.Confirm != nil && p.cfg.deletes.Confirm(held) {
			p.planDelete(v, keep, k, what+" (quarantine, confirmed)")
			return
		}
		p.note(v, gone, Held, "", fmt.Sprintf("%s; deleting the %s record waits for confirmation "+
			"(held since %s)", what, keep.name, v.l.Quarantined.Format(time.RFC3339)))
	}
}

// editedDeleted plans a pair whose record on side gone was deleted while
// the other was edited since the last sync: the edit wins, so the kept
// record is never deleted. It is created again on side gone, under the same
// link; when it has no key to find the created record by, it is only kept,
// and the link records the deletion (changed tells whether that is new).
func (p *planner) editedDeleted(v *pairView, gone Side, changed bool, what string) {
	keep, dst := p.side(gone.Other()), p.side(gone)
	i := v.idx[sideIndex(keep.side)]
	keys := keep.l.keys(i)
	if len(keys) == 0 {
		p.linkOp(v, changed, what+"; the edited "+keep.name+" record is kept")
		p.note(v, gone, Skipped, ReasonEditedDeleted, fmt.Sprintf("%s; %s record kept: edited "+
			"since the last sync; cannot be re-created in %s without a key",
			what, keep.name, dst.name))
		return
	}
	p.note(v, gone, Skipped, ReasonEditedDeleted, fmt.Sprintf("%s, but the %s record was edited "+
		"since the last sync: it is kept and created again in %s", what, keep.name, dst.name))
	p.planCreate(keep, dst, i, keys, v.l.ID, "re-creating a record deleted in "+dst.name+
		" whose counterpart was edited since")
}

// linkOp plans storing v's link (without writes) when changed.
func (p *planner) linkOp(v *pairView, changed bool, why string) {
	if !changed {
		return
	}
	l := v.l.Clone()
	l.Synced = p.now
	p.linkOps = append(p.linkOps, PlanOp{Kind: PlanLink, Link: l.ID, Key: l.Key, Why: why,
		State: &l, Index: -1})
}

func (p *planner) planDelete(v *pairView, keep *sideRun, k int, why string) {
	p.dels[k] = append(p.dels[k], PlanOp{
		Kind: PlanDelete, Side: keep.side, Link: v.l.ID, Key: v.l.Key,
		RecordID: keep.recID(v.idx[k]), Why: why, Target: v.item[k], Index: -1,
	})
}

// note adds a note about the pair v in the direction from side from.
func (p *planner) note(v *pairView, from Side, o Outcome, reason Reason, detail string) {
	k := sideIndex(from)
	n := PlanNote{
		Side: from, Link: v.l.ID, Key: v.l.Key, Outcome: o, Reason: reason, Detail: detail,
		Index: v.idx[k], Source: v.item[k], Target: v.item[1-k],
	}
	if v.idx[k] >= 0 {
		n.RecordID = p.s[k].recID(v.idx[k])
	}
	p.plan.Notes = append(p.plan.Notes, n)
}

// noteRecord adds a note about listed record i of side s, left unlinked.
func (p *planner) noteRecord(s *sideRun, i int, link, key string, o Outcome, reason Reason,
	detail string,
) {
	p.plan.Notes = append(p.plan.Notes, PlanNote{
		Side: s.side, Link: link, Key: key, RecordID: s.recID(i), Outcome: o, Reason: reason,
		Detail: detail, Index: i, Source: s.l.items[i],
	})
	if o == Skipped {
		for _, k := range s.l.keys(i) {
			p.unlinked[sideIndex(s.side)][k] = true
		}
	}
}

// planPair compares the two records of a pair field by field with the base
// and plans the writes.
func (p *planner) planPair(ctx context.Context, v *pairView) error {
	if err := p.fetchUnlisted(ctx, v); err != nil {
		return err
	}
	if v.idx[0] < 0 && v.idx[1] < 0 && v.item[0] == nil && v.item[1] == nil {
		// Neither record changed since the last run; conflicts left
		// unresolved stay on the report, with the values last seen.
		if len(v.l.Conflicts) > 0 {
			parts := make([]string, 0, len(v.l.Conflicts))
			for _, f := range v.l.Conflicts {
				parts = append(parts, fmt.Sprintf("%s: %s %q, %s %q", f, p.s[0].name,
					v.l.BaseA[f], p.s[1].name, v.l.BaseB[f]))
			}
			detail := strings.Join(parts, "; ")
			p.note(v, SideA, Skipped, ReasonConflict, detail)
			p.note(v, SideB, Skipped, ReasonConflict, detail)
		}
		return nil
	}
	for k, s := range p.s {
		switch {
		case v.idx[k] >= 0:
			v.fields[k] = s.get(v.idx[k])
		case v.item[k] != nil:
			v.fields[k] = cleanFields(s.fields.Get(v.item[k]))
		default:
			v.fields[k] = baseOf(&v.l, s.side)
		}
	}
	if v.item[0] == nil || v.item[1] == nil {
		if p.deferUnlisted(v) {
			return nil
		}
	}
	changes, conflicts := p.compare(v)
	p.updateKey(v, changes)
	p.emitPair(v, changes, conflicts)
	return nil
}

// updateKey sets the link's key to the one both records will hold after the
// run: that of a listed record the run does not write to, else that of the
// first listed record, when it no longer holds the stored key.
func (p *planner) updateKey(v *pairView, changes [2][]FieldChange) {
	for pass := range 2 {
		for k := range p.s {
			if v.idx[k] < 0 || (pass == 0 && len(changes[k]) > 0) {
				continue
			}
			keys := p.s[k].l.keys(v.idx[k])
			if len(keys) == 0 {
				continue
			}
			if !slices.Contains(keys, v.l.Key) {
				v.why = append(v.why, "key changed in "+p.s[k].name)
				v.l.Key = keys[0]
			}
			return
		}
	}
}

// fetchUnlisted finds, in an incremental run, the record of a side that was
// not listed when the other side's record changed, through the connector's
// KeySearcher.
func (p *planner) fetchUnlisted(ctx context.Context, v *pairView) error {
	for k, s := range p.s {
		other := 1 - k
		if v.idx[k] >= 0 || v.idx[other] < 0 || s.searcher == nil {
			continue
		}
		if maps.Equal(p.s[other].get(v.idx[other]), baseOf(&v.l, p.s[other].side)) &&
			len(resolvedOf(&v.l, s.side)) == 0 {
			continue // the listed record holds its base: nothing to write
		}
		id := v.l.A
		if k == 1 {
			id = v.l.B
		}
		keys := append([]string{v.l.Key}, p.s[other].l.keys(v.idx[other])...)
		for _, key := range slices.Compact(keys) {
			item, err := p.searchID(ctx, s, key, id)
			if err != nil {
				return err
			}
			if item != nil {
				v.item[k] = item
				break
			}
		}
	}
	return nil
}

// searchID returns the record with the given ID among those s's connector
// finds by key, or nil.
func (p *planner) searchID(ctx context.Context, s *sideRun, key, id string) (Item, error) {
	found, err := s.searcher.SearchKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("searching %s for %q: %w", s.name, key, err)
	}
	for _, item := range found {
		if s.ider.RecordID(item) == id {
			return item, nil
		}
	}
	return nil, nil
}

// deferUnlisted reports whether a pair with one side unlisted would have to
// write to that side, in which case the pair waits for a full run (noted).
func (p *planner) deferUnlisted(v *pairView) bool {
	for k, s := range p.s {
		other := 1 - k
		if v.item[k] != nil || v.item[other] == nil {
			continue
		}
		if maps.Equal(v.fields[other], baseOf(&v.l, p.s[other].side)) &&
			len(resolvedOf(&v.l, s.side)) == 0 {
			continue
		}
		p.note(v, p.s[other].side, Skipped, ReasonDeferred, fmt.Sprintf(
			"the %s record was not listed by this incremental run; the next full run writes it",
			s.name))
		return true
	}
	return false
}

func baseOf(l *Link, s Side) map[string]string {
	if s == SideA {
		return l.BaseA
	}
	return l.BaseB
}

// setBase sets a base value of the pair's link, copying the maps it shares
// with the stored link first.
func (v *pairView) setBase(s Side, f, val string) {
	if baseOf(&v.l, s)[f] == val {
		return
	}
	v.own()
	setBase(&v.l, s, f, val)
}

// own copies the maps v.l shares with the stored link.
func (v *pairView) own() {
	if !v.owned {
		v.l.BaseA, v.l.BaseB = maps.Clone(v.l.BaseA), maps.Clone(v.l.BaseB)
		v.l.ResolvedA, v.l.ResolvedB = maps.Clone(v.l.ResolvedA), maps.Clone(v.l.ResolvedB)
		v.owned = true
	}
}

// setResolved records (val != "") or forgets the value a settled conflict
// gives field f on side s.
func (v *pairView) setResolved(s Side, f, val string) {
	v.own()
	m := &v.l.ResolvedA
	if s == SideB {
		m = &v.l.ResolvedB
	}
	if val == "" {
		delete(*m, f)
		return
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[f] = val
}

func resolvedOf(l *Link, s Side) map[string]string {
	if s == SideA {
		return l.ResolvedA
	}
	return l.ResolvedB
}

// resumeResolved handles field f of a pair with a conflict resolution an
// earlier run recorded but did not finish writing. A side that holds the
// resolved value, or whose write of it was confirmed, is settled; a side
// that still holds the value it had when the conflict was settled (its
// base) gets the resolved value written. When a side changed since, that
// edit is newer than the resolution, which is dropped and the field
// compared as usual. It reports whether it planned the field.
func (p *planner) resumeResolved(v *pairView, f string, changes *[2][]FieldChange) bool {
	var pending [2]bool
	var r [2]string
	for k, s := range p.s {
		val, ok := resolvedOf(&v.l, s.side)[f]
		r[k] = val
		switch {
		case !ok:
		case v.fields[k][f] == val:
			v.setBase(s.side, f, val)
			v.setResolved(s.side, f, "")
		default:
			pending[k] = true
		}
	}
	if !pending[0] && !pending[1] {
		return false
	}
	for k, s := range p.s {
		if v.fields[k][f] != baseOf(&v.l, s.side)[f] {
			// Edited since the resolution (or since its confirmed write).
			v.setResolved(SideA, f, "")
			v.setResolved(SideB, f, "")
			return false
		}
	}
	for k := range p.s {
		if !pending[k] {
			continue
		}
		fc := FieldChange{Field: f, Before: v.fields[k][f], After: r[k],
			Why: "finishing a conflict resolution an interrupted run left unwritten"}
		if !pending[1-k] {
			fc.OtherBase = strPtr(v.fields[1-k][f])
		}
		changes[k] = append(changes[k], fc)
	}
	return true
}

func setBase(l *Link, s Side, f, v string) {
	m := &l.BaseA
	if s == SideB {
		m = &l.BaseB
	}
	if v == "" {
		delete(*m, f)
		return
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[f] = v
}

// compare is the three-way merge of one pair: it advances v.l's bases for
// fields that need no write and returns, per side, the fields to write and
// the conflicts found.
func (p *planner) compare(v *pairView) ([2][]FieldChange, []Conflict) {
	var changes [2][]FieldChange
	var conflicts []Conflict
	if len(v.l.Conflicts) == 0 && len(v.l.ResolvedA) == 0 && len(v.l.ResolvedB) == 0 &&
		maps.Equal(v.fields[0], v.fields[1]) &&
		maps.Equal(v.fields[0], v.l.BaseA) && maps.Equal(v.fields[1], v.l.BaseB) {
		return changes, nil // in step, as most pairs are
	}
	names := fieldNames(v.fields[0], v.fields[1], v.l.BaseA, v.l.BaseB)
	if len(v.l.ResolvedA) > 0 || len(v.l.ResolvedB) > 0 {
		v.own()
	}
	was := v.l.Conflicts
	v.l.Conflicts = nil
	an, bn := p.s[0].name, p.s[1].name
	for _, f := range names {
		if p.resumeResolved(v, f, &changes) {
			continue
		}
		va, vb := v.fields[0][f], v.fields[1][f]
		ba, bb := v.l.BaseA[f], v.l.BaseB[f]
		switch {
		case va == vb:
			v.setBase(SideA, f, va)
			v.setBase(SideB, f, vb)
		case va == ba && vb == bb:
			if slices.Contains(was, f) {
				c := p.conflict(v, f, va, vb, ba, bb)
				conflicts = append(conflicts, c)
				v.l.Conflicts = append(v.l.Conflicts, f)
			}
		case vb == bb:
			changes[1] = append(changes[1], FieldChange{Field: f, Before: vb, After: va,
				Why: "changed in " + an, OtherBase: strPtr(va)})
		case va == ba:
			changes[0] = append(changes[0], FieldChange{Field: f, Before: va, After: vb,
				Why: "changed in " + bn, OtherBase: strPtr(vb)})
		default:
			c := p.conflict(v, f, va, vb, ba, bb)
			c = p.resolve(v, c)
			conflicts = append(conflicts, c)
			why := "conflict, "
			switch c.Kept {
			case KeptA:
				why += "kept " + an + " (" + p.modeName() + ")"
			case KeptB:
				why += "kept " + bn + " (" + p.modeName() + ")"
			case KeptValue:
				why += "resolved to a new value (" + p.modeName() + ")"
			default:
				v.setBase(SideA, f, va)
				v.setBase(SideB, f, vb)
				v.l.Conflicts = append(v.l.Conflicts, f)
				continue
			}
			writeA, writeB := va != c.Value, vb != c.Value
			if writeA && writeB {
				// Both sides get a new value, in separate batches: record the
				// resolution, with the bases at the values held now, so that
				// a run cut short between them finishes it (resumeResolved).
				v.setBase(SideA, f, va)
				v.setBase(SideB, f, vb)
				v.setResolved(SideA, f, c.Value)
				v.setResolved(SideB, f, c.Value)
			}
			if writeA {
				fc := FieldChange{Field: f, Before: va, After: c.Value, Why: why}
				if !writeB {
					fc.OtherBase = strPtr(vb)
				}
				changes[0] = append(changes[0], fc)
			}
			if writeB {
				fc := FieldChange{Field: f, Before: vb, After: c.Value, Why: why}
				if !writeA {
					fc.OtherBase = strPtr(va)
				}
				changes[1] = append(changes[1], fc)
			}
		}
	}
	return changes, conflicts
}

func strPtr(s string) *string { return &s }

func (p *planner) modeName() string {
	if p.cfg.conflicts.Mode == "" {
		return string(ConflictReportOnly)
	}
	return string(p.cfg.conflicts.Mode)
}

// fieldNames returns the sorted union of the keys of maps.
func fieldNames(ms ...map[string]string) []string {
	n := 0
	for _, m := range ms {
		n = max(n, len(m))
	}
	names := make([]string, 0, n)
	for _, m := range ms {
		for f := range m {
			names = append(names, f)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (p *planner) conflict(v *pairView, f, va, vb, ba, bb string) Conflict {
	c := Conflict{Link: v.l.ID, Key: v.l.Key, Field: f, A: va, B: vb, BaseA: ba, BaseB: bb}
	for k, s := range p.s {
		if v.item[k] == nil {
			continue
		}
		if t, ok := s.ider.ModifiedAt(v.item[k]); ok {
			if k == 0 {
				c.ModifiedA = t.UTC()
			} else {
				c.ModifiedB = t.UTC()
			}
		}
	}
	return c
}

// resolve settles c by the conflict policy.
func (p *planner) resolve(_ *pairView, c Conflict) Conflict {
	switch p.cfg.conflicts.Mode {
	case ConflictPreferA:
		c.Kept, c.Value = KeptA, c.A
	case ConflictPreferB:
		c.Kept, c.Value = KeptB, c.B
	case ConflictNewest:
		switch {
		case c.ModifiedA.IsZero() || c.ModifiedB.IsZero() || c.ModifiedA.Equal(c.ModifiedB):
		case c.ModifiedA.After(c.ModifiedB):
			c.Kept, c.Value = KeptA, c.A
		default:
			c.Kept, c.Value = KeptB, c.B
		}
	case ConflictCustom:
		if val, ok := p.cfg.conflicts.Resolve(c); ok {
			switch val {
			case c.A:
				c.Kept, c.Value = KeptA, val
			case c.B:
				c.Kept, c.Value = KeptB, val
			default:
				c.Kept, c.Value = KeptValue, val
			}
		}
	}
	return c
}

// emitPair plans the operations, notes and entries of a compared pair.
func (p *planner) emitPair(v *pairView, changes [2][]FieldChange, conflicts []Conflict) {
	p.plan.Conflicts = append(p.plan.Conflicts, conflicts...)
	var unresolved []string
	for _, c := range conflicts {
		if c.Kept == KeptNone {
			unresolved = append(unresolved, fmt.Sprintf("%s: %s %q, %s %q", c.Field,
				p.s[0].name, c.A, p.s[1].name, c.B))
		}
	}
	linkChanged := v.stored == nil || !linkEqual(v.stored, &v.l)
	if !linkChanged && len(changes[0]) == 0 && len(changes[1]) == 0 {
		p.unchangedOrConflict(v, SideA, unresolved)
		p.unchangedOrConflict(v, SideB, unresolved)
		return
	}
	// The operations share state, which nothing modifies once planned.
	state := v.l.Clone()
	if linkChanged {
		state.Synced = p.now
		why := strings.Join(v.why, "; ")
		if why == "" {
			why = "new base"
			if v.stored == nil {
				why = "linked by key"
			}
		}
		p.linkOps = append(p.linkOps, PlanOp{Kind: PlanLink, Link: state.ID, Key: state.Key,
			Why: why, State: &state, Index: -1})
	}
	for k := range p.s {
		from, to := p.s[1-k], p.s[k]
		if len(changes[k]) == 0 {
			p.unchangedOrConflict(v, from.side, unresolved)
			continue
		}
		fields := make(map[string]string, len(changes[k]))
		for _, c := range changes[k] {
			fields[c.Field] = c.After
		}
		w := to.fields.Set(fields, v.item[k])
		if w == nil {
			p.note(v, from.side, Skipped, ReasonFiltered, "the field mapping returned no item")
			continue
		}
		st := &state
		op := PlanOp{
			Kind: PlanUpdate, Side: to.side, Link: v.l.ID, Key: v.l.Key,
			RecordID: to.ider.RecordID(v.item[k]), Changes: changes[k], Write: w,
			Target: v.item[k], State: st, Index: v.idx[1-k], Source: v.item[1-k],
		}
		if v.item[1-k] != nil {
			op.SourceID = from.ider.RecordID(v.item[1-k])
		}
		if len(unresolved) > 0 {
			op.Why = "unresolved conflict: " + strings.Join(unresolved, "; ")
		}
		p.updates[k] = append(p.updates[k], op)
	}
}

// unchangedOrConflict records the direction from side from of a pair that
// writes nothing that way.
func (p *planner) unchangedOrConflict(v *pairView, from Side, unresolved []string) {
	k := sideIndex(from)
	if v.idx[k] < 0 {
		return
	}
	if len(unresolved) > 0 {
		p.note(v, from, Skipped, ReasonConflict, strings.Join(unresolved, "; "))
		return
	}
	p.plan.unchanged = append(p.plan.unchanged, Entry{
		Direction: p.s[k].name + "→" + p.s[1-k].name, Index: v.idx[k], Key: v.l.Key,
		Outcome: Unchanged, Source: v.item[k], Target: v.item[1-k],
	})
}

// linkEqual compares links, ignoring Synced.
func linkEqual(x, y *Link) bool {
	return x.ID == y.ID && x.Key == y.Key && x.A == y.A && x.B == y.B &&
		maps.Equal(x.BaseA, y.BaseA) && maps.Equal(x.BaseB, y.BaseB) &&
		x.Origin == y.Origin && x.Pending == y.Pending && x.Missing == y.Missing &&
		x.Quarantined.Equal(y.Quarantined) && slices.Equal(x.Conflicts, y.Conflicts) &&
		maps.Equal(x.ResolvedA, y.ResolvedA) && maps.Equal(x.ResolvedB, y.ResolvedB)
}

// newRecords plans the listed records of side s that no link holds: link
// them to their match on the other side, or create them there.
func (p *planner) newRecords(ctx context.Context, s Side) error {
	src, dst := p.side(s), p.side(s.Other())
	byKey := map[string]int{}
	var found []int
	for i := range src.l.items {
		if src.taken[i] {
			continue
		}
		id := src.recID(i)
		if id == "" {
			p.noteRecord(src, i, "", "", Skipped, ReasonNoRecordID,
				"the connector gave no record ID")
			continue
		}
		if _, linked := src.linked[id]; linked {
			continue
		}
		keys := src.l.keys(i)
		if len(keys) == 0 {
			p.noteRecord(src, i, "", "", Skipped, ReasonMissingKey, src.l.problems[i])
			continue
		}
		if j, k, dup := claimKeys(byKey, keys, i); dup {
			p.noteRecord(src, i, "", k, Skipped, ReasonDuplicate,
				fmt.Sprintf("key already held by %s record %s", src.name, src.l.describe([]int{j})))
			continue
		}
		var via string
		found, via = dst.l.match(keys, found[:0])
		switch {
		case len(found) > 1:
			p.noteRecord(src, i, "", keys[0], Skipped, ReasonAmbiguous, fmt.Sprintf(
				"matches %d %s records (%s)", len(found), dst.name, dst.l.describe(found)))
		case len(found) == 1:
			if err := p.matchListed(ctx, src, dst, i, found[0], via); err != nil {
				return err
			}
		case !p.full:
			if err := p.matchUnlisted(ctx, src, dst, i, keys); err != nil {
				return err
			}
		default:
			src.taken[i] = true
			p.planCreate(src, dst, i, keys, "", "")
		}
	}
	return nil
}

// matchListed pairs new record i of src with listed record j of dst.
func (p *planner) matchListed(ctx context.Context, src, dst *sideRun, i, j int, via string) error {
	tid := dst.recID(j)
	var stored *Link
	li, linked := dst.linked[tid]
	if linked {
		stored = &p.links[li]
	}
	switch {
	case tid == "":
		p.noteRecord(src, i, "", via, Skipped, ReasonAmbiguous,
			fmt.Sprintf("matches a %s record without an ID", dst.name))
		return nil
	case linked && !p.relinked[li] && p.srcGone(li, src):
		p.relinked[li] = true
	case dst.taken[j] || linked:
		p.noteRecord(src, i, "", via, Skipped, ReasonDuplicate, fmt.Sprintf(
			"matches %s record %s, which is paired with another %s record",
			dst.name, tid, src.name))
		return nil
	}
	src.taken[i], dst.taken[j] = true, true
	v := &pairView{idx: [2]int{-1, -1}, owned: true}
	if stored != nil {
		// The link's src record is gone and this record has its key: pair
		// them, as records that match, from scratch.
		v.stored = stored
		v.l = *stored
		v.l.Missing, v.l.Quarantined = "", time.Time{}
		v.l.BaseA, v.l.BaseB, v.l.Conflicts = nil, nil, nil
		v.l.ResolvedA, v.l.ResolvedB = nil, nil
		// Neither record was created by this sync.
		v.l.Origin = ""
		v.why = append(v.why, "relinked to a new "+src.name+" record with its key")
	} else {
		v.l = Link{ID: p.newLinkID(src, i)}
	}
	v.l.Key = via
	v.l.Pending = ""
	ks, kd := sideIndex(src.side), sideIndex(dst.side)
	v.idx[ks], v.item[ks] = i, src.l.items[i]
	v.idx[kd], v.item[kd] = j, dst.l.items[j]
	if src.side == SideA {
		v.l.A, v.l.B = src.recID(i), tid
	} else {
		v.l.A, v.l.B = tid, src.recID(i)
	}
	p.linkedKeys[ks][via] = true
	p.linkedKeys[kd][via] = true
	return p.planPair(ctx, v)
}

// newLinkID returns the ID of the link of new record i of src: that of its
// pending link when an earlier run left its create unconfirmed, else one
// made from its record ID.
func (p *planner) newLinkID(src *sideRun, i int) string {
	id := src.recID(i)
	if l, ok := p.retried[sideIndex(src.side)][id]; ok {
		return l
	}
	return string(src.side) + ":" + id
}

// srcGone reports whether the record on side src of link li has
// disappeared: in this full run, or before (and it is not listed now).
func (p *planner) srcGone(li int, src *sideRun) bool {
	if p.goneSide[li] == src.side {
		return true
	}
	l := &p.links[li]
	id := l.A
	if src.side == SideB {
		id = l.B
	}
	_, listed := src.byID[id]
	return l.Missing == src.side && !listed
}

// matchUnlisted handles, in an incremental run, a new record with no match
// among the listed records of dst: it may match a record dst did not list.
func (p *planner) matchUnlisted(ctx context.Context, src, dst *sideRun, i int,
	keys []string,
) error {
	prev := p.st.UnlinkedA
	if dst.side == SideB {
		prev = p.st.UnlinkedB
	}
	for _, k := range keys {
		if slices.Contains(prev, k) {
			p.noteRecord(src, i, "", k, Skipped, ReasonDeferred, fmt.Sprintf(
				"an unlinked %s record holds the key; the next full run settles it", dst.name))
			return nil
		}
	}
	if dst.searcher == nil {
		if li, ok := p.linkWithKey(keys); ok {
			p.noteRecord(src, i, "", p.links[li].Key, Skipped, ReasonDuplicate, fmt.Sprintf(
				"key held by the pair %s; the next full run settles it", p.links[li].ID))
			return nil
		}
		src.taken[i] = true
		p.planCreate(src, dst, i, keys, "", "")
		return nil
	}
	var hits []Item
	for _, k := range keys {
		found, err := dst.searcher.SearchKey(ctx, k)
		if err != nil {
			return fmt.Errorf("searching %s for %q: %w", dst.name, k, err)
		}
		for _, item := range found {
			id := dst.ider.RecordID(item)
			if !slices.ContainsFunc(hits, func(h Item) bool { return dst.ider.RecordID(h) == id }) {
				hits = append(hits, item)
			}
		}
	}
	switch len(hits) {
	case 0:
		src.taken[i] = true
		p.planCreate(src, dst, i, keys, "", "")
		return nil
	case 1:
		// Add the record to dst's listing so it can be paired like a listed one.
		j := len(dst.l.items)
		dst.l.add(hits[0])
		dst.taken = append(dst.taken, false)
		dst.cache = append(dst.cache, nil)
		id := dst.recID(j)
		if id != "" {
			if _, dup := dst.byID[id]; dup {
				j = dst.byID[id]
			} else {
				dst.byID[id] = j
			}
		}
		return p.matchListed(ctx, src, dst, i, j, keys[0])
	}
	p.noteRecord(src, i, "", keys[0], Skipped, ReasonAmbiguous,
		fmt.Sprintf("matches %d %s records found by key", len(hits), dst.name))
	return nil
}

// linkWithKey returns a link whose stored key is one of keys (the first
// such link when several hold a key).
func (p *planner) linkWithKey(keys []string) (int, bool) {
	if p.byKey == nil {
		p.byKey = make(map[string]int, len(p.links))
		for i := len(p.links) - 1; i >= 0; i-- {
			p.byKey[p.links[i].Key] = i
		}
	}
	best, found := 0, false
	for _, k := range keys {
		if i, ok := p.byKey[k]; ok && (!found || i < best) {
			best, found = i, true
		}
	}
	return best, found
}

// planCreate plans creating record i of src in dst, with an intent link.
// The intent's ID is linkID, or a new one when linkID is "".
func (p *planner) planCreate(src, dst *sideRun, i int, keys []string, linkID, why string) {
	fs := src.get(i)
	w := dst.fields.Set(maps.Clone(fs), nil)
	if w == nil {
		p.noteRecord(src, i, "", keys[0], Skipped, ReasonFiltered,
			"the field mapping returned no item")
		return
	}
	id := src.recID(i)
	if linkID == "" {
		linkID = p.newLinkID(src, i)
		if _, retry := p.retried[sideIndex(src.side)][id]; retry && why == "" {
			why = "retrying a create an interrupted run left unconfirmed"
		}
	}
	intent := Link{
		ID: linkID, Key: keys[0], Origin: src.side, Pending: dst.side,
		Synced: p.now,
	}
	if src.side == SideA {
		intent.A, intent.BaseA, intent.BaseB = id, maps.Clone(fs), maps.Clone(fs)
	} else {
		intent.B, intent.BaseA, intent.BaseB = id, maps.Clone(fs), maps.Clone(fs)
	}
	changes := make([]FieldChange, 0, len(fs))
	for _, f := range slices.Sorted(maps.Keys(fs)) {
		changes = append(changes, FieldChange{Field: f, After: fs[f], Why: "new in " + src.name})
	}
	k := sideIndex(dst.side)
	p.creates[k] = append(p.creates[k], PlanOp{
		Kind: PlanCreate, Side: dst.side, Link: intent.ID, Key: intent.Key, SourceID: id,
		Why: why, Changes: changes, Write: w, State: &intent, Index: i, Source: src.l.items[i],
	})
	for _, key := range keys {
		p.linkedKeys[sideIndex(src.side)][key] = true
	}
}

// guardDeletes withholds every delete when more are due than the policy
// allows.
func (p *planner) guardDeletes(ctx context.Context) {
	n := len(p.dels[0]) + len(p.dels[1])
	if n == 0 {
		return
	}
	d := p.cfg.deletes
	share := d.MaxShare
	if share == 0 {
		share = DefaultMaxDeleteShare
	}
	pairs := len(p.links)
	allowed := max(int(share*float64(pairs)), MinDeleteAllowance)
	var why string
	switch {
	case d.Max > 0 && n > d.Max:
		why = fmt.Sprintf("%d deletions are due, more than Deletes.Max (%d)", n, d.Max)
	case share >= 0 && n > allowed:
		why = fmt.Sprintf("%d deletions are due, %.0f%% of %d linked pairs, more than "+
			"Deletes.MaxShare (%.0f%%)", n, 100*float64(n)/float64(max(pairs, 1)), pairs, 100*share)
	default:
		return
	}
	p.plan.DeleteGuard = why + "; nothing was deleted"
	for k := range p.dels {
		for _, op := range p.dels[k] {
			from := op.Side.Other()
			p.plan.Notes = append(p.plan.Notes, PlanNote{
				Side: from, Link: op.Link, Key: op.Key, RecordID: op.RecordID, Outcome: Skipped,
				Reason: ReasonDeleteGuard, Detail: op.Why + "; " + why, Index: -1,
				Target: op.Target,
			})
		}
		p.dels[k] = nil
	}
	p.r.logger.WarnContext(ctx, "deletions withheld by the delete guard",
		"pair", p.cfg.pair, "reason", why)
}

// finishPlan orders the operations and sets the next pair state.
func (p *planner) finishPlan() {
	ops := make([]PlanOp, 0, len(p.linkOps)+len(p.unlinkOps))
	ops = append(append(ops, p.linkOps...), p.unlinkOps...)
	for _, group := range [][2][]PlanOp{p.creates, p.updates, p.dels} {
		ops = append(ops, group[1]...)
		ops = append(ops, group[0]...)
	}
	p.plan.Ops = ops
	next := PairState{
		Runs: p.st.Runs + 1, LastFull: p.st.LastFull,
		ListedA: p.s[0].listed, ListedB: p.s[1].listed,
	}
	if p.full {
		next.LastFull = next.Runs
	}
	deferred := func(n PlanNote) bool { return n.Reason == ReasonDeferred }
	if slices.ContainsFunc(p.plan.Notes, deferred) {
		// Keep listing the deferred records until a full run writes them.
		next.ListedA, next.ListedB = p.st.ListedA, p.st.ListedB
	}
	prev := [2][]string{p.st.UnlinkedA, p.st.UnlinkedB}
	var unlinked [2][]string
	for k := range p.s {
		keys := p.unlinked[k]
		if !p.full {
			for _, key := range prev[k] {
				if !p.linkedKeys[k][key] {
					keys[key] = true
				}
			}
		}
		unlinked[k] = slices.Sorted(maps.Keys(keys))
	}
	next.UnlinkedA, next.UnlinkedB = unlinked[0], unlinked[1]
	p.plan.Next = next
}

// entries returns the report entries of the plan: one per write operation
// and note, and the unchanged records, those of direction a→b first.
func (p *Plan) entries(planned bool) []Entry {
	out := make([]Entry, 0, len(p.Ops)+len(p.Notes)+len(p.unchanged))
	for i := range p.Ops {
		if e, ok := p.opEntry(&p.Ops[i], planned); ok {
			out = append(out, e)
		}
	}
	for _, n := range p.Notes {
		out = append(out, p.noteEntry(n))
	}
	out = append(out, p.unchanged...)
	sortEntries(out, p.direction(SideB))
	return out
}

// sortEntries puts the entries of direction first before the others,
// keeping their order otherwise.
func sortEntries(es []Entry, first string) {
	slices.SortStableFunc(es, func(x, y Entry) int {
		switch {
		case x.Direction == y.Direction:
			return 0
		case x.Direction == first:
			return -1
		case y.Direction == first:
			return 1
		}
		return 0
	})
}

func (p *Plan) sideName(s Side) string {
	if s == SideA {
		return nameOr(p.AName, "a")
	}
	return nameOr(p.BName, "b")
}

func (p *Plan) direction(to Side) string {
	return p.sideName(to.Other()) + "→" + p.sideName(to)
}

// directions returns the plan's two directions, a→b first.
func (p *Plan) directions() []string { return bothDirections(p.sideName(SideA), p.sideName(SideB)) }

// opEntry is the report entry of a write operation.
func (p *Plan) opEntry(op *PlanOp, planned bool) (Entry, bool) {
	e := Entry{
		Direction: p.direction(op.Side), Index: op.Index, Key: op.Key, Planned: planned,
		Source: op.Source, Target: op.Target, Written: op.Write,
	}
	switch op.Kind {
	case PlanCreate:
		e.Outcome, e.Detail = Created, op.Why
	case PlanUpdate:
		e.Outcome = Updated
		parts := make([]string, 0, len(op.Changes)+1)
		for _, c := range op.Changes {
			parts = append(parts, c.Field+" ("+c.Why+")")
		}
		if op.Why != "" {
			parts = append(parts, op.Why)
		}
		e.Detail = strings.Join(parts, "; ")
	case PlanDelete:
		e.Outcome, e.Detail, e.Written = Deleted, op.Why, nil
	default:
		return Entry{}, false
	}
	return e, true
}

func (p *Plan) noteEntry(n PlanNote) Entry {
	return Entry{
		Direction: p.direction(n.Side.Other()), Index: n.Index, Key: n.Key, Outcome: n.Outcome,
		Reason: n.Reason, Detail: n.Detail, Source: n.Source, Target: n.Target,
	}
}

// applier carries out a plan.
type applier struct {
	cfg  *stateConfig
	r    *run
	plan *Plan
	prev PairState
	cur  map[string]*Link // links as last committed in this run, by ID
	// failed is set when a write failed, so that the next incremental run
	// lists the records again.
	failed bool
}

// apply commits the link operations and intents, then writes batch by
// batch, committing each batch's links, and finally the pair state. When a
// write or delete failed or was not attempted, the error is a
// [*WriteFailuresError] (joined with the error of the final commit, if
// any); otherwise it is the error that ended the run, or nil.
func (ap *applier) apply(ctx context.Context) error {
	n := len(ap.r.report.Entries)
	entryOf := ap.addEntries()
	warnSkipped(ctx, ap.r, ap.r.report.Entries[n:], ap.plan.Conflicts)
	if err := ap.write(ctx, entryOf); err != nil {
		return ap.writeErr(entryOf, err)
	}

	next := ap.plan.Next
	if ap.failed {
		next.ListedA, next.ListedB = ap.prev.ListedA, ap.prev.ListedB
	}
	werr := ap.writeErr(entryOf, nil)
	if err := ap.commit(ctx, StateChange{State: &next}); err != nil {
		return errors.Join(werr, err)
	}
	return werr
}

// write commits the link operations and intents, then writes batch by
// batch. It returns the error that ended it early, the operations left
// marked as not attempted.
func (ap *applier) write(ctx context.Context, entryOf []int) error {
	p := ap.plan
	ap.cur = map[string]*Link{}
	var first StateChange
	now := ap.cfg.now().UTC()
	for i := range p.Ops {
		op := &p.Ops[i]
		switch op.Kind {
		case PlanLink:
			l := op.State.Clone()
			ap.cur[l.ID] = &l
			first.Put = append(first.Put, l)
		case PlanUnlink:
			first.Delete = append(first.Delete, op.Link)
		case PlanCreate:
			first.Put = append(first.Put, ap.intent(op, now))
		}
	}
	if len(first.Put) > 0 || len(first.Delete) > 0 {
		if err := ap.commit(ctx, first); err != nil {
			ap.notAttempted(entryOf, 0, err)
			return err
		}
	}

	for start := 0; start < len(p.Ops); {
		op := p.Ops[start]
		end := start + 1
		for end < len(p.Ops) && p.Ops[end].Kind == op.Kind && p.Ops[end].Side == op.Side {
			end++
		}
		if op.Kind == PlanCreate || op.Kind == PlanUpdate || op.Kind == PlanDelete {
			if err := ap.writeGroup(ctx, entryOf, start, end); err != nil {
				ap.notAttempted(entryOf, start, err)
				return err
			}
		}
		start = end
	}
	return nil
}

// writeErr is the error of an applied plan: [writeFailures] over the
// operations' entries, which include deletes (run.writeErr counts entries
// with a Written item, and a delete writes none).
func (ap *applier) writeErr(entryOf []int, stop error) error {
	idx := slices.DeleteFunc(slices.Clone(entryOf), func(i int) bool { return i < 0 })
	slices.Sort(idx) // report order, for First
	return writeFailures(ap.r.report.Entries, idx, stop)
}

// addEntries adds the plan's entries to the report, a→b first, and returns
// the index of each operation's entry (-1 for link operations).
func (ap *applier) addEntries() []int {
	p := ap.plan
	entryOf := make([]int, len(p.Ops))
	ab := p.direction(SideB)
	ap.r.report.Entries = slices.Grow(ap.r.report.Entries, len(p.Ops)+len(p.Notes)+len(p.unchanged))
	for pass := range 2 {
		for i := range p.Ops {
			e, ok := p.opEntry(&p.Ops[i], true)
			if pass == 0 {
				entryOf[i] = -1
			}
			if ok && (e.Direction == ab) == (pass == 0) {
				entryOf[i] = ap.r.add(e)
			}
		}
		for _, n := range p.Notes {
			if e := p.noteEntry(n); (e.Direction == ab) == (pass == 0) {
				ap.r.add(e)
			}
		}
		for _, e := range p.unchanged {
			if (e.Direction == ab) == (pass == 0) {
				ap.r.add(e)
			}
		}
	}
	return entryOf
}

func (ap *applier) commit(ctx context.Context, c StateChange) error {
	if err := ap.cfg.store.Commit(ctx, ap.cfg.pair, c); err != nil {
		return fmt.Errorf("storing sync state: %w", err)
	}
	return nil
}

// notAttempted marks the write entries of the operations from start on as
// not attempted.
func (ap *applier) notAttempted(entryOf []int, start int, err error) {
	for i := start; i < len(entryOf); i++ {
		if entryOf[i] < 0 {
			continue
		}
		e := &ap.r.report.Entries[entryOf[i]]
		if e.Planned {
			e.Outcome, e.Planned, e.Reason, e.Err = Failed, false, ReasonNotAttempted, err
		}
	}
}

// writeGroup applies the operations start..end, all of one kind and side,
// in batches, committing the links of each batch after it. Like
// applyBatches, it goes on past failed records and batches until
// batchLoop.done says to stop.
func (ap *applier) writeGroup(ctx context.Context, entryOf []int, start, end int) error {
	first := ap.plan.Ops[start]
	side := ap.cfg.side(first.Side)
	dir := ap.plan.direction(first.Side)
	total := end - start
	batches := (total + side.batch - 1) / side.batch
	ap.r.notify(Progress{Phase: PhaseWriting, Direction: dir, Total: total})
	loop := batchLoop{r: ap.r, dir: dir, batches: batches}
	for b, lo := 1, start; lo < end; b, lo = b+1, lo+side.batch {
		hi := min(lo+side.batch, end)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if lc, ok := ap.cfg.store.(LockChecker); ok {
			if err := lc.Held(ctx, ap.cfg.pair); err != nil {
				return fmt.Errorf("writing %s: checking the run lock: %w", dir, err)
			}
		}
		results, err := ap.send(ctx, side, lo, hi)
		ops := make([]op[int], hi-lo)
		for i := range ops {
			ops[i] = op[int]{entry: entryOf[lo+i], req: lo + i}
		}
		failed := settle(ctx, ap.r, ops, results, err)
		change := ap.settleState(side, lo, hi, results)
		if err == nil || !stopsRun(ctx, err) {
			change.Put = append(change.Put, ap.nextIntents(hi)...)
		}
		if cerr := ap.commit(ctx, change); cerr != nil {
			return cerr
		}
		if stop := loop.done(ctx, b, hi-lo, failed, hi < end, results, err); stop != nil {
			return stop
		}
		ap.r.notify(Progress{Phase: PhaseWriting, Direction: dir, Done: hi - start, Total: total})
	}
	return nil
}

// intent returns the intent link of the create op, stamped with now: when
// the create was about to be sent.
func (ap *applier) intent(op *PlanOp, now time.Time) Link {
	l := op.State.Clone()
	l.Synced = now
	return l
}

// nextIntents returns the intents of the batch of creates that starts at
// operation i, if one does, stamped with the time now: stored with the
// batch before, they record when its creates start, for resolvePending to
// tell the target system's rewrites from later edits.
func (ap *applier) nextIntents(i int) []Link {
	ops := ap.plan.Ops
	if i >= len(ops) || ops[i].Kind != PlanCreate {
		return nil
	}
	side := ap.cfg.side(ops[i].Side)
	now := ap.cfg.now().UTC()
	var ls []Link
	for j := i; j < len(ops) && j < i+side.batch; j++ {
		if ops[j].Kind != PlanCreate || ops[j].Side != ops[i].Side {
			break
		}
		ls = append(ls, ap.intent(&ops[j], now))
	}
	return ls
}

// send sends the operations lo..hi to the side's connector.
func (ap *applier) send(ctx context.Context, side *stateSide, lo, hi int) ([]WriteResult, error) {
	ops := ap.plan.Ops[lo:hi]
	if ops[0].Kind == PlanDelete {
		batch := make([]Item, len(ops))
		for i, op := range ops {
			batch[i] = op.Target
		}
		return side.deleter.Delete(ctx, batch)
	}
	batch := make([]Write, len(ops))
	for i, op := range ops {
		w := Write{Op: OpUpdate, Key: op.Key, Item: op.Write, Target: op.Target}
		if op.Kind == PlanCreate {
			w = Write{Op: OpCreate, Key: op.Key, Item: op.Write}
		}
		batch[i] = w
	}
	return side.conn.Write(ctx, batch)
}

// settleState returns the state change that records the results of the
// operations lo..hi: links of created records, advanced bases, forgotten
// links of deleted records, and dropped intents of failed creates.
func (ap *applier) settleState(side *stateSide, lo, hi int, results []WriteResult) StateChange {
	var c StateChange
	now := ap.cfg.now().UTC()
	for i := lo; i < hi; i++ {
		op := &ap.plan.Ops[i]
		var res *WriteResult
		if i-lo < len(results) {
			res = &results[i-lo]
		}
		switch {
		case res == nil:
			ap.failed = true
			continue // the outcome is unknown: keep what is stored
		case res.Err != nil:
			ap.failed = true
			if op.Kind == PlanCreate {
				c.Delete = append(c.Delete, op.Link) // the create was refused
			}
			continue
		}
		switch op.Kind {
		case PlanCreate:
			l, ok := ap.created(side, op, res.Item, now)
			if ok {
				c.Put = append(c.Put, l)
			}
		case PlanUpdate:
			c.Put = append(c.Put, ap.updated(side, op, res.Item, now))
		case PlanDelete:
			delete(ap.cur, op.Link)
			c.Delete = append(c.Delete, op.Link)
		}
	}
	return c
}

// created returns the link of a created record, or false when the result
// has no ID (the intent then stays, for the next run to resolve by key).
func (ap *applier) created(side *stateSide, op *PlanOp, item Item, now time.Time) (Link, bool) {
	id := ""
	if item != nil {
		id = side.ider.RecordID(item)
	}
	if id == "" {
		return Link{}, false
	}
	l := op.State.Clone()
	l.Pending, l.Synced = "", now
	if side.side == SideA {
		l.A = id
		l.BaseA = cleanFields(side.fields.Get(item))
	} else {
		l.B = id
		l.BaseB = cleanFields(side.fields.Get(item))
	}
	ap.cur[l.ID] = &l
	return l.Clone(), true
}

// updated returns the link of an updated record with the written fields'
// bases advanced: the written side's from the record the connector
// returned (so a value the system rewrote is not taken for an edit), the
// other side's to the value it holds.
func (ap *applier) updated(side *stateSide, op *PlanOp, item Item, now time.Time) Link {
	l := ap.cur[op.Link]
	if l == nil {
		c := op.State.Clone()
		l = &c
		ap.cur[op.Link] = l
	}
	var got map[string]string
	if item != nil {
		got = cleanFields(side.fields.Get(item))
	}
	for _, fc := range op.Changes {
		v := fc.After
		if got != nil {
			v = got[fc.Field]
		}
		setBase(l, side.side, fc.Field, v)
		if m := resolvedOf(l, side.side); m != nil {
			delete(m, fc.Field) // written: the resolution is done on this side
		}
		if fc.OtherBase != nil {
			setBase(l, side.side.Other(), fc.Field, *fc.OtherBase)
		}
		l.Conflicts = slices.DeleteFunc(l.Conflicts, func(f string) bool { return f == fc.Field })
	}
	l.Synced = now
	return l.Clone()
}
