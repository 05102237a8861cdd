package pipedrive

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	keysync "github.com/keysync/sync"
)

// Defaults of [PersonsOptions].
const (
	DefaultMaxBatch          = 50
	DefaultConcurrency       = 4
	DefaultClockSkew         = 5 * time.Minute
	DefaultSearchAttempts    = 2
	DefaultSearchBackoff     = time.Second
	DefaultMaxCreateAttempts = 3
	maxScanPages             = 4
)

// PersonsOptions configures a [Persons] connector. The zero value gives the
// defaults.
type PersonsOptions struct {
	// Legacy makes List, SearchKey and write results yield persons in the
	// v1 shape (email[0].value, phone, owner_id objects, active_flag; see
	// [ToLegacy]) so that n8n key paths work unchanged. Writes accept both
	// shapes either way.
	Legacy bool

	// MaxBatch is how many writes one Write call takes (default 50).
	MaxBatch int

	// Concurrency is how many requests one Write or Delete call runs at
	// once (default 4). All of them wait for the client's rate limiter.
	Concurrency int

	// ClockSkew is how far before a create attempt the connector looks
	// for the person when the attempt's outcome is unknown, to allow for
	// a difference between the local and Pipedrive's clocks (default 5
	// minutes).
	ClockSkew time.Duration

	// SearchAttempts is how many times the email search runs, with
	// SearchBackoff doubling in between, when a create's outcome is
	// unknown and the list of recent changes did not show the person
	// (defaults 2 and 1 s). The search index lags behind writes.
	SearchAttempts int
	SearchBackoff  time.Duration

	// MaxCreateAttempts bounds the creates tried for one write when each
	// fails ambiguously and the person is then not found (default 3).
	MaxCreateAttempts int
}

func (o *PersonsOptions) fill() error {
	switch {
	case o.MaxBatch < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.MaxBatch %d is negative", o.MaxBatch)
	case o.Concurrency < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.Concurrency %d is negative", o.Concurrency)
	case o.ClockSkew < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.ClockSkew %v is negative", o.ClockSkew)
	case o.SearchAttempts < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.SearchAttempts %d is negative",
			o.SearchAttempts)
	case o.SearchBackoff < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.SearchBackoff %v is negative",
			o.SearchBackoff)
	case o.MaxCreateAttempts < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.MaxCreateAttempts %d is negative",
			o.MaxCreateAttempts)
	}
	o.MaxBatch = cmpOr(o.MaxBatch, DefaultMaxBatch)
	o.Concurrency = cmpOr(o.Concurrency, DefaultConcurrency)
	o.ClockSkew = cmpOr(o.ClockSkew, DefaultClockSkew)
	o.SearchAttempts = cmpOr(o.SearchAttempts, DefaultSearchAttempts)
	o.SearchBackoff = cmpOr(o.SearchBackoff, DefaultSearchBackoff)
	o.MaxCreateAttempts = cmpOr(o.MaxCreateAttempts, DefaultMaxCreateAttempts)
	return nil
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Persons is a keysync connector for Pipedrive persons. It implements
// keysync.Connector, Deleter, KeySearcher (the key is an email address),
// IncrementalSource and Identifier. It is safe for concurrent use.
type Persons struct {
	c    *Client
	opts PersonsOptions
}

// Interface checks.
var (
	_ keysync.Connector         = (*Persons)(nil)
	_ keysync.Deleter           = (*Persons)(nil)
	_ keysync.KeySearcher       = (*Persons)(nil)
	_ keysync.IncrementalSource = (*Persons)(nil)
	_ keysync.Identifier        = (*Persons)(nil)
)

// NewPersons returns a connector for the persons of c's company. It
// reports invalid (negative) options.
func NewPersons(c *Client, opts PersonsOptions) (*Persons, error) {
	if c == nil {
		return nil, errors.New("pipedrive: NewPersons: client is nil")
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	return &Persons{c: c, opts: opts}, nil
}

// List yields every person that is not deleted, by ascending id, in the v2
// shape or, with PersonsOptions.Legacy, the v1 shape. Numbers are
// json.Number. It follows the rules of keysync.Source.List: on failure it
// yields (nil, err) once and stops. The sequence may be ranged over again.
func (p *Persons) List(ctx context.Context) iter.Seq2[keysync.Item, error] {
	return p.list(ctx, ListOptions{})
}

// ListModifiedSince yields the persons whose update_time is at or after
// since, like List. Pipedrive counts whole seconds, so since is rounded
// down.
func (p *Persons) ListModifiedSince(ctx context.Context,
	since time.Time) iter.Seq2[keysync.Item, error] {
	return p.list(ctx, ListOptions{UpdatedSince: since})
}

func (p *Persons) list(ctx context.Context, opts ListOptions) iter.Seq2[keysync.Item, error] {
	opts.Legacy = p.opts.Legacy
	return func(yield func(keysync.Item, error) bool) {
		var last int64
		for item, err := range p.c.Persons(ctx, opts) {
			if err != nil {
				yield(nil, err)
				return
			}
			// Pages continue after the last id, so ids rise strictly; a
			// repeat would be a server-side drift, and is dropped.
			if id, ok := idOf(item); ok {
				if id <= last {
					p.c.log.WarnContext(ctx, "pipedrive: skipping person listed out of order",
						"id", id, "after", last)
					continue
				}
				last = id
			}
			if !yield(item, nil) {
				return
			}
		}
	}
}

// MaxBatch returns PersonsOptions.MaxBatch.
func (p *Persons) MaxBatch() int { return p.opts.MaxBatch }

// Write applies the batch with one request per write (Pipedrive has no
// batch endpoints), PersonsOptions.Concurrency at a time, and returns one
// result per write in order, each holding the person as stored.
//
// Update writes need Write.Target with the person's id and send Write.Item
// as a PATCH. Create writes are made safe to retry: when a create fails
// ambiguously (connection lost after sending, 5xx, timeout), the connector
// looks for the person, by the recent changes list and by the email search
// on Write.Key (or else the item's primary email), and uses it when found
// instead of creating a duplicate. If it cannot tell, the result's error
// matches [ErrOutcomeUnknown].
//
// Validation failures (400) and missing persons (404) are per-item errors.
// An error matching keysync.ErrUnauthorized or keysync.ErrRateLimited stops
// the batch and is returned as the batch error; writes not finished then
// carry it too. When ctx is done, Write returns ctx.Err().
func (p *Persons) Write(ctx context.Context, batch []keysync.Write) ([]keysync.WriteResult, error) {
	if len(batch) > p.opts.MaxBatch {
		return nil, fmt.Errorf("pipedrive: batch of %d writes exceeds MaxBatch %d",
			len(batch), p.opts.MaxBatch)
	}
	return p.fanOut(ctx, len(batch), func(ctx context.Context, i int) (keysync.Item, error) {
		return p.writeOne(ctx, batch[i])
	})
}

// Delete marks each person as deleted (Pipedrive keeps it for 30 days).
// Deleting a person that is already gone succeeds. Errors follow Write.
func (p *Persons) Delete(ctx context.Context, batch []keysync.Item) ([]keysync.WriteResult, error) {
	if len(batch) > p.opts.MaxBatch {
		return nil, fmt.Errorf("pipedrive: batch of %d deletions exceeds MaxBatch %d",
			len(batch), p.opts.MaxBatch)
	}
	return p.fanOut(ctx, len(batch), func(ctx context.Context, i int) (keysync.Item, error) {
		id, ok := idOf(batch[i])
		if !ok {
			return nil, fmt.Errorf("pipedrive: deleting person: record has no id: %w",
				keysync.ErrInvalid)
		}
		err := p.c.Delete(ctx, id)
		if errors.Is(err, keysync.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	})
}

// fanOut runs do for 0..n-1 with bounded concurrency and gathers results.
func (p *Persons) fanOut(ctx context.Context, n int,
	do func(ctx context.Context, i int) (keysync.Item, error)) ([]keysync.WriteResult, error) {
	results := make([]keysync.WriteResult, n)
	done := make([]bool, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for i := range n {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			item, err := do(gctx, i)
			results[i], done[i] = keysync.WriteResult{Item: p.present(item), Err: err}, true
			if batchFatal(err) {
				return err
			}
			return nil
		})
	}
	batchErr := g.Wait()
	if err := ctx.Err(); err != nil {
		batchErr = err
	}
	if batchErr == nil {
		return results, nil
	}
	for i := range results {
		switch {
		case !done[i]:
			results[i].Err = batchErr
		case errors.Is(results[i].Err, context.Canceled) && ctx.Err() == nil:
			// Cut short by the batch error: keep both causes.
			results[i].Err = errors.Join(batchErr, results[i].Err)
		}
	}
	return results, batchErr
}

// batchFatal reports errors that every further request would repeat.
func batchFatal(err error) bool {
	return errors.Is(err, keysync.ErrUnauthorized) || errors.Is(err, keysync.ErrRateLimited)
}

func (p *Persons) present(item keysync.Item) keysync.Item {
	if item == nil || !p.opts.Legacy {
		return item
	}
	return ToLegacy(item)
}

func (p *Persons) writeOne(ctx context.Context, w keysync.Write) (keysync.Item, error) {
	switch w.Op {
	case keysync.OpCreate:
		return p.create(ctx, w)
	case keysync.OpUpdate:
		id, ok := idOf(w.Target)
		if !ok {
			return nil, fmt.Errorf("pipedrive: updating person: target has no id: %w",
				keysync.ErrInvalid)
		}
		return p.c.Update(ctx, id, w.Item)
	}
	return nil, fmt.Errorf("pipedrive: unknown write op %q: %w", w.Op, keysync.ErrInvalid)
}

// create creates a person and settles ambiguous failures without making a
// duplicate; see Write.
func (p *Persons) create(ctx context.Context, w keysync.Write) (keysync.Item, error) {
	body, err := WriteBody(w.Item, true)
	if err != nil {
		return nil, err
	}
	email := strings.TrimSpace(w.Key)
	if !strings.Contains(email, "@") {
		email = primaryEmail(body)
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		created, err := p.c.create(ctx, body)
		if err == nil || !OutcomeUnknown(err) {
			return created, err
		}
		if ctx.Err() != nil || email == "" {
			return nil, unknownOutcome(email, err)
		}
		found, ferr := p.findCreated(ctx, email, start.Add(-p.opts.ClockSkew))
		switch {
		case ferr != nil:
			return nil, unknownOutcome(email, errors.Join(err, ferr))
		case found != nil:
			p.c.log.DebugContext(ctx, "pipedrive: ambiguous create found stored",
				"attempt", attempt)
			return found, nil
		case attempt >= p.opts.MaxCreateAttempts:
			return nil, unknownOutcome(email, err)
		}
	}
}

func unknownOutcome(email string, cause error) error {
	return fmt.Errorf("creating person %q: %w: %w", email, ErrOutcomeUnknown, cause)
}

// findCreated looks for a person with email added at or after since: first
// in the list of persons changed since then (read from the database, so
// without the search index's lag), then with the email search, a few times
// with backoff. It returns nil, nil only when both agree there is none;
// when the recent list was too long to read in full and the search finds
// nothing, it returns an error rather than risk a duplicate.
func (p *Persons) findCreated(ctx context.Context, email string, since time.Time) (
	keysync.Item, error) {
	found, complete, err := p.scanRecent(ctx, email, since)
	if err != nil || found != nil {
		return found, err
	}
	wait := p.opts.SearchBackoff
	for i := range p.opts.SearchAttempts {
		if i > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait *= 2
		}
		hits, err := p.c.SearchByEmail(ctx, email)
		if err != nil {
			return nil, err
		}
		if best := newestAddedSince(hits, since); best != nil {
			return best, nil
		}
	}
	if !complete {
		return nil, errors.New("pipedrive: too many recent changes to rule out the create")
	}
	return nil, nil
}

// scanRecent reads persons updated since since, newest id first, for at
// most maxScanPages pages. complete reports whether it saw them all.
func (p *Persons) scanRecent(ctx context.Context, email string, since time.Time) (
	found keysync.Item, complete bool, err error) {
	opts := ListOptions{UpdatedSince: since, SortDesc: true}
	cursor := ""
	for range maxScanPages {
		items, next, err := p.c.PersonsPage(ctx, opts, cursor)
		if err != nil {
			return nil, false, err
		}
		var match []keysync.Item
		for _, it := range items {
			if hasEmail(it, email) {
				match = append(match, it)
			}
		}
		if best := newestAddedSince(match, since); best != nil {
			return best, false, nil
		}
		if next == "" || next == cursor {
			return nil, true, nil
		}
		cursor = next
	}
	return nil, false, nil
}

// newestAddedSince returns the person with the highest id among those added
// at or after since (or without a readable add_time).
func newestAddedSince(items []keysync.Item, since time.Time) keysync.Item {
	var best keysync.Item
	var bestID int64
	for _, it := range items {
		if t, ok := parseTime(it["add_time"]); ok && t.Before(since.Truncate(time.Second)) {
			continue
		}
		if id, ok := idOf(it); ok && (best == nil || id > bestID) {
			best, bestID = it, id
		}
	}
	return best
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SearchKey returns the persons holding the email address key (trimmed,
// compared case-insensitively), in the List shape. It uses Pipedrive's
// search index, which may lag a few seconds behind writes: a person
// created moments ago may be missing. It may be called concurrently.
func (p *Persons) SearchKey(ctx context.Context, key string) ([]keysync.Item, error) {
	if strings.TrimSpace(key) == "" {
		return []keysync.Item{}, nil // no person has an empty address
	}
	hits, err := p.c.SearchByEmail(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]keysync.Item, 0, len(hits))
	for _, h := range hits {
		out = append(out, p.present(h))
	}
	return out, nil
}

// RecordID returns the person's id as a decimal string, or "".
func (p *Persons) RecordID(item keysync.Item) string {
	if id, ok := idOf(item); ok {
		return strconv.FormatInt(id, 10)
	}
	return ""
}

// ModifiedAt returns the person's update_time, read in the v2 (RFC 3339)
// or v1 ("YYYY-MM-DD HH:MM:SS" UTC) format.
func (p *Persons) ModifiedAt(item keysync.Item) (time.Time, bool) {
	return parseTime(item["update_time"])
}

func parseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation(legacyTime, s, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}
