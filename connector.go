package sync

import (
	"context"
	"errors"
	"iter"
	"time"
)

// Item is one record as decoded JSON: a map whose values are strings,
// float64, json.Number, Go integer kinds, bool, nil, []any and map[string]any,
// nested to any depth. Every function in this module accepts all of them.
type Item = map[string]any

// Source is the read side of a [Connector]: it lists every record of one
// system, such as all persons of a Pipedrive company.
type Source interface {
	// List returns every record, streamed page by page so that a large system
	// never has to sit in memory twice.
	//
	// The orchestrators call List once per run and side, from one goroutine,
	// possibly at the same time as the other side's List. The sequence may be
	// single-use. It yields each record with a nil error; on failure it yields
	// (nil, err) once and stops. When ctx is done it stops and yields
	// ctx.Err(). Errors that match [ErrUnauthorized] or [ErrRateLimited] tell
	// the caller that retrying now is pointless. The yielded items belong to
	// the caller, which may keep but never mutates them.
	List(ctx context.Context) iter.Seq2[Item, error]
}

// Op is the kind of change a [Write] asks for.
type Op string

// The operations a [Destination] applies.
const (
	// OpCreate creates a new record from Write.Item.
	OpCreate Op = "create"
	// OpUpdate changes the record Write.Target so that it holds the fields
	// of Write.Item; fields Write.Item does not name are left alone.
	OpUpdate Op = "update"
)

// Write is one change for a [Destination] to apply.
type Write struct {
	// Op says whether to create or update.
	Op Op

	// Key is the normalized match key the orchestrator matched on (for
	// example "dana@example.com"). Connectors use it to make creates safe to
	// retry, for instance by searching for the key before creating again
	// after an ambiguous failure.
	Key string

	// Item holds the fields to write, in the destination's write shape: the
	// output of the user's mapping function. The destination must not
	// mutate it.
	Item Item

	// Target is the destination's record as its List yielded it, present for
	// OpUpdate so the connector can find the record's own ID. It is nil for
	// OpCreate.
	Target Item
}

// WriteResult is the outcome of one [Write] or one deletion.
type WriteResult struct {
	// Item is the record as the destination stored it, in the shape its List
	// yields, or nil when the system does not return it. Connectors that
	// implement [Identifier] must return it for creates and updates, because
	// stateful syncs link records by the ID it carries.
	Item Item

	// Err is nil on success, otherwise what went wrong with this item alone.
	Err error

	// Existed is set when an OpCreate found the record already in the
	// system and updated it instead, as an upsert by email does. The
	// orchestrators then report the record as updated, not created: it
	// usually means the listing missed the record or the keys of the two
	// sides are normalized differently.
	Existed bool
}

// Destination is the write side of a [Connector].
type Destination interface {
	// MaxBatch returns how many writes one call to Write accepts at most; it
	// is at least 1 and constant for the life of the value. The orchestrators
	// call it once per run.
	MaxBatch() int

	// Write applies a batch of at most MaxBatch writes and returns exactly
	// one result per write, in the same order. A destination without batch
	// endpoints may fan the batch out over concurrent requests.
	//
	// The orchestrators call Write from one goroutine, one batch at a time,
	// after both sides have been listed. A failure of a single item goes in
	// that item's result and the others still apply. A non-nil error means
	// the batch as a whole could not be applied (for example
	// [ErrUnauthorized]); results may then be nil, and every item without a
	// result counts as failed with that error. When ctx is done, Write
	// returns promptly with ctx.Err(); writes already sent may or may not
	// have taken effect, and a connector must make the next run's retry safe
	// (see Write.Key).
	Write(ctx context.Context, batch []Write) ([]WriteResult, error)
}

// Connector is both ends of one system: what [OneWay] and [TwoWay] sync.
// Optional capabilities are separate interfaces ([Deleter], [KeySearcher],
// [IncrementalSource], [Identifier]) that the orchestrators find by type
// assertion.
type Connector interface {
	Source
	Destination
}

// Deleter is an optional capability of a [Destination]: removing records
// (deleting or archiving them, as the system does).
type Deleter interface {
	// Delete removes a batch of at most MaxBatch records, each given as its
	// List yielded it, and returns one result per record in order. Deleting
	// a record that is already gone succeeds. The calling rules and the
	// meaning of the error are those of Destination.Write.
	Delete(ctx context.Context, batch []Item) ([]WriteResult, error)
}

// KeySearcher is an optional capability: finding records by match key
// without listing everything.
type KeySearcher interface {
	// SearchKey returns the records whose key equals key exactly after the
	// connector's own normalization (for an email: trimmed, case-folded). It
	// returns an empty slice, not an error, when there is none. It may be
	// called concurrently. Systems whose search index lags behind writes may
	// miss a record written moments ago; the connector documents this.
	SearchKey(ctx context.Context, key string) ([]Item, error)
}

// IncrementalSource is an optional capability of a [Source]: listing only
// the records changed since a point in time.
type IncrementalSource interface {
	// ListModifiedSince yields the records modified at or after since
	// (inclusive), with the same rules as Source.List. Callers pass a since
	// slightly earlier than their last run to cover clock skew and equal
	// timestamps, so a record may be yielded again.
	ListModifiedSince(ctx context.Context, since time.Time) iter.Seq2[Item, error]
}

// Identifier is an optional capability: reading a record's own ID and
// modification time. Stateful syncs need it to link records across systems.
type Identifier interface {
	// RecordID returns the record's ID in its system, or "" when the item
	// carries none. It must not block and may be called concurrently.
	RecordID(item Item) string

	// ModifiedAt returns when the record was last modified, if the item says.
	ModifiedAt(item Item) (time.Time, bool)
}

// Errors that connectors return (wrapped or through an Is method) so that
// the orchestrators and users can tell causes apart with [errors.Is].
var (
	// ErrUnauthorized means the credentials were missing, wrong or expired.
	// A sync stops at once: every further request would fail the same way.
	ErrUnauthorized = errors.New("sync: unauthorized")

	// ErrForbidden means the credentials are valid but lack a permission.
	ErrForbidden = errors.New("sync: forbidden")

	// ErrRateLimited means the system refused the request for exceeding a
	// rate limit and the wait it asked for was longer than the client is
	// willing to sleep, or it was a daily budget that retrying cannot help.
	ErrRateLimited = errors.New("sync: rate limited")

	// ErrNotFound means the record does not exist (or is deleted).
	ErrNotFound = errors.New("sync: not found")

	// ErrConflict means the write clashes with an existing record, such as a
	// second contact with an email that must be unique.
	ErrConflict = errors.New("sync: conflict")

	// ErrInvalid means the system rejected the record's content (a
	// validation error); retrying the same write cannot succeed.
	ErrInvalid = errors.New("sync: invalid record")
)
