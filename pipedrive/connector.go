package pipedrive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	keysync "github.com/keysync/sync"
)

// Defaults of [PersonsOptions].
const (
	DefaultMaxBatch          = 50
	DefaultConcurrency       = 4
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

	// SearchAttempts is how many times the email search runs, with
	// SearchBackoff doubling in between, when a create's outcome is
	// unknown and more persons were added since the attempt than the
	// connector reads from the list (defaults 2 and 1 s). The search
	// index lags behind writes.
	SearchAttempts int
	SearchBackoff  time.Duration

	// MaxCreateAttempts bounds the creates tried for one write when each
	// fails ambiguously and the person is then not found (default 3).
	MaxCreateAttempts int

	// PageSize is how many persons each list request of List and
	// ListModifiedSince asks for, 1 to [MaxPageSize] (the default).
	// Smaller pages cost more requests, each charged in full against the
	// daily budget; they suit tests whose listings must span pages.
	PageSize int
}

func (o *PersonsOptions) fill() error {
	switch {
	case o.MaxBatch < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.MaxBatch %d is negative", o.MaxBatch)
	case o.Concurrency < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.Concurrency %d is negative", o.Concurrency)
	case o.SearchAttempts < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.SearchAttempts %d is negative",
			o.SearchAttempts)
	case o.SearchBackoff < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.SearchBackoff %v is negative",
			o.SearchBackoff)
	case o.MaxCreateAttempts < 0:
		return fmt.Errorf("pipedrive: PersonsOptions.MaxCreateAttempts %d is negative",
			o.MaxCreateAttempts)
	case o.PageSize < 0 || o.PageSize > MaxPageSize:
		return fmt.Errorf("pipedrive: PersonsOptions.PageSize %d is outside 1..%d",
			o.PageSize, MaxPageSize)
	}
	o.MaxBatch = cmpOr(o.MaxBatch, DefaultMaxBatch)
	o.Concurrency = cmpOr(o.Concurrency, DefaultConcurrency)
	o.SearchAttempts = cmpOr(o.SearchAttempts, DefaultSearchAttempts)
	o.SearchBackoff = cmpOr(o.SearchBackoff, DefaultSearchBackoff)
	o.MaxCreateAttempts = cmpOr(o.MaxCreateAttempts, DefaultMaxCreateAttempts)
	o.PageSize = cmpOr(o.PageSize, MaxPageSize)
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

	// newest is the largest person id the connector has seen, 0 after a
	// complete List of an empty company, and -1 before it knows anything.
	// Pipedrive's ids only grow, so a person created after newest was read
	// has a larger id; see Write.
	newest atomic.Int64
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
// reports invalid options: negative ones, and a PageSize above
// [MaxPageSize].
func NewPersons(c *Client, opts PersonsOptions) (*Persons, error) {
	if c == nil {
		return nil, errors.New("pipedrive: NewPersons: client is nil")
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	p := &Persons{c: c, opts: opts}
	p.newest.Store(-1)
	return p, nil
}

// saw records that a person with this id exists.
func (p *Persons) saw(id int64) {
	for {
		cur := p.newest.Load()
		if id <= cur || p.newest.CompareAndSwap(cur, id) {
			return
		}
	}
}

// sawItem records the id of item, if it has one.
func (p *Persons) sawItem(item keysync.Item) {
	if id, ok := idOf(item); ok {
		p.saw(id)
	}
}

// List yields every person that is not deleted, by ascending id, in pages
// of PersonsOptions.PageSize, in the v2 shape or, with
// PersonsOptions.Legacy, the v1 shape. Numbers are
// json.Number. Each person is yielded once, even when Pipedrive's pages
// overlap or come out of order; persons marked "is_deleted": true are
// skipped. When Pipedrive rejects a cursor (400, as when it expired), the
// listing starts over once, skipping the persons already yielded. List
// follows the rules of keysync.Source.List: on failure it yields (nil, err)
// once and stops. The sequence may be ranged over again.
func (p *Persons) List(ctx context.Context) iter.Seq2[keysync.Item, error] {
	return p.list(ctx, ListOptions{}, true)
}

// ListModifiedSince yields the persons whose update_time is at or after
// since, like List. Pipedrive counts whole seconds, so since is rounded
// down.
func (p *Persons) ListModifiedSince(ctx context.Context,
	since time.Time) iter.Seq2[keysync.Item, error] {
	return p.list(ctx, ListOptions{UpdatedSince: since}, false)
}

// list yields the persons of opts once each; full says that opts select
// every person, so that a complete listing tells the newest id.
func (p *Persons) list(ctx context.Context, opts ListOptions,
	full bool) iter.Seq2[keysync.Item, error] {
	opts.Legacy, opts.Limit = p.opts.Legacy, p.opts.PageSize
	return func(yield func(keysync.Item, error) bool) {
		seen := map[int64]bool{}
		for restarts := 0; ; restarts++ {
			stopped, err := p.listOnce(ctx, opts, seen, yield)
			switch {
			case stopped:
				return
			case err == nil:
				if full {
					p.saw(0)
				}
				return
			case restarts == 0 && errors.Is(err, ErrCursorRejected) && ctx.Err() == nil:
				p.c.log.WarnContext(ctx, "pipedrive: cursor rejected, listing persons again",
					"yielded", len(seen))
			default:
				yield(nil, err)
				return
			}
		}
	}
}

// listOnce runs one listing, yielding the persons not in seen and not
// deleted. It reports whether the consumer stopped, or the error that
// ended the listing.
func (p *Persons) listOnce(ctx context.Context, opts ListOptions, seen map[int64]bool,
	yield func(keysync.Item, error) bool) (stopped bool, err error) {
	for item, err := range p.c.Persons(ctx, opts) {
		if err != nil {
			return false, err
		}
		if id, ok := idOf(item); ok {
			p.saw(id)
			if seen[id] {
				continue // a page overlapped the one before
			}
			seen[id] = true
		}
		if isDeleted(item) {
			continue
		}
		if !yield(item, nil) {
			return true, nil
		}
	}
	return false, nil
}

// isDeleted reports a person in either shape marked as deleted.
func isDeleted(p keysync.Item) bool {
	return p["is_deleted"] == true || p["active_flag"] == false
}

// MaxBatch returns PersonsOptions.MaxBatch.
func (p *Persons) MaxBatch() int { return p.opts.MaxBatch }

// Write applies the batch with one request per write (Pipedrive has no
// batch endpoints), PersonsOptions.Concurrency at a time, and returns one
// result per write in order, each holding the person as stored.
//
// Update writes need Write.Target with the person's id and send Write.Item
// as a PATCH. Create writes are made safe to retry: when a create fails
// ambiguously (connection lost after sending, 5xx, timeout, an unreadable
// answer), the connector looks for the person among those added since the
// attempt, that is with a larger id than any it had seen before (Pipedrive's
// ids only grow; no clock is involved). It reads them from the list sorted
// by id, newest first, and when more were added than it reads, from the
// email search on Write.Key (or else the item's primary email). A person
// counts as the one created only if it holds every field the write sent
// (name, addresses, numbers, owner, organization, visibility, labels,
// marketing status and simple custom field values), and no two writes of a
// batch take the same person. If it finds none, it creates again, up to
// PersonsOptions.MaxCreateAttempts times in all. If it cannot tell (a new
// person with the address differs from what was sent, or the search finds
// nothing while the list was too long to read), the result's error
// matches [ErrOutcomeUnknown]. WriteResult.Existed is never set: a person
// found this way is the one this write created.
//
// Before the first create, a connector that has not listed the persons
// yet asks Pipedrive for the newest id (one list request of one person).
//
// Validation failures (400), permission errors (a JSON 403) and missing
// persons (404) are per-item errors. Errors that every further request
// would repeat stop the batch and are returned as the batch error: those
// matching keysync.ErrUnauthorized or keysync.ErrRateLimited, a 402 (the
// company account is closed) and Cloudflare's HTML 403 block page. Writes
// not finished then carry the batch error too. When ctx is done, Write
// returns ctx.Err().
func (p *Persons) Write(ctx context.Context, batch []keysync.Write) ([]keysync.WriteResult, error) {
	if len(batch) > p.opts.MaxBatch {
		return nil, fmt.Errorf("pipedrive: batch of %d writes exceeds MaxBatch %d",
			len(batch), p.opts.MaxBatch)
	}
	rs := newResults(len(batch))
	wb := newWriteBatch(p, batch)
	if err := wb.learnNewest(ctx); err != nil {
		return rs.finish(err, nil)
	}
	err := p.runLimited(ctx, len(batch), func(ctx context.Context, i int) error {
		item, err, pending := wb.first(ctx, i)
		if pending {
			return nil
		}
		return rs.set(i, p.present(item), err)
	})
	if err == nil {
		groups := wb.pendingGroups()
		err = p.runLimited(ctx, len(groups), func(ctx context.Context, g int) error {
			for _, i := range groups[g] {
				item, err := wb.resolve(ctx, i)
				if ferr := rs.set(i, p.present(item), err); ferr != nil {
					return ferr
				}
			}
			return nil
		})
	}
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	return rs.finish(err, wb.unsettled)
}

// Delete marks each person as deleted (Pipedrive keeps it for 30 days).
// Deleting a person that is already gone succeeds. Errors follow Write.
func (p *Persons) Delete(ctx context.Context, batch []keysync.Item) ([]keysync.WriteResult, error) {
	if len(batch) > p.opts.MaxBatch {
		return nil, fmt.Errorf("pipedrive: batch of %d deletions exceeds MaxBatch %d",
			len(batch), p.opts.MaxBatch)
	}
	rs := newResults(len(batch))
	err := p.runLimited(ctx, len(batch), func(ctx context.Context, i int) error {
		id, ok := idOf(batch[i])
		if !ok {
			return rs.set(i, nil, fmt.Errorf("pipedrive: deleting person: record has no id: %w",
				keysync.ErrInvalid))
		}
		err := p.c.Delete(ctx, id)
		if errors.Is(err, keysync.ErrNotFound) {
			err = nil
		}
		return rs.set(i, nil, err)
	})
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	return rs.finish(err, nil)
}

// runLimited runs do for 0..n-1, PersonsOptions.Concurrency at a time. An
// error from do stops the batch: runLimited starts nothing more, cancels
// the context of the tasks still running and returns that error.
func (p *Persons) runLimited(ctx context.Context, n int,
	do func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.Concurrency)
	for i := range n {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			return do(gctx, i)
		})
	}
	return g.Wait()
}

// results gathers the results of a batch. Each index is set by one
// goroutine; runLimited's Wait orders the writes before finish.
type results struct {
	res  []keysync.WriteResult
	done []bool
}

func newResults(n int) *results {
	return &results{res: make([]keysync.WriteResult, n), done: make([]bool, n)}
}

// set stores the result of write i and returns err when it stops the
// batch.
func (r *results) set(i int, item keysync.Item, err error) error {
	r.res[i], r.done[i] = keysync.WriteResult{Item: item, Err: err}, true
	if batchFatal(err) {
		return err
	}
	return nil
}

// finish returns the results, with batchErr for the writes without one.
// unsettled, if not nil, gives the error of a write whose create may have
// been stored but was not settled before the batch stopped.
func (r *results) finish(batchErr error, unsettled func(i int, batchErr error) error) (
	[]keysync.WriteResult, error) {
	if batchErr == nil {
		return r.res, nil
	}
	for i := range r.res {
		switch {
		case !r.done[i] && unsettled != nil:
			if err := unsettled(i, batchErr); err != nil {
				r.res[i].Err = err
				continue
			}
			r.res[i].Err = batchErr
		case !r.done[i]:
			r.res[i].Err = batchErr
		case errors.Is(r.res[i].Err, context.Canceled) && !isContextError(batchErr):
			// Cut short by the batch error: keep both causes.
			r.res[i].Err = errors.Join(batchErr, r.res[i].Err)
		}
	}
	return r.res, batchErr
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// batchFatal reports errors that every further request would repeat:
// unauthorized, rate limited beyond the client's patience, the company
// account closed (402), and Cloudflare's HTML block page (403) that
// Pipedrive serves to API tokens that kept sending after 429s.
func batchFatal(err error) bool {
	if errors.Is(err, keysync.ErrUnauthorized) || errors.Is(err, keysync.ErrRateLimited) {
		return true
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusPaymentRequired ||
		(ae.StatusCode == http.StatusForbidden && isHTML(ae.Body))
}

// isHTML reports whether an error body is an HTML page rather than
// Pipedrive's JSON envelope.
func isHTML(body []byte) bool {
	b := bytes.ToLower(bytes.TrimSpace(body))
	return !bytes.HasPrefix(b, []byte("{")) && bytes.Contains(b, []byte("<html"))
}

func (p *Persons) present(item keysync.Item) keysync.Item {
	if item == nil || !p.opts.Legacy {
		return item
	}
	return ToLegacy(item)
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
// compared case-insensitively) that are not deleted, in the List shape. It
// uses Pipedrive's search index, which may lag a few seconds behind
// writes: a person created moments ago may be missing. It may be called
// concurrently.
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
		p.sawItem(h)
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
