package connectortest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// memoryConfig is the suite's configuration for the memory connector; wrap
// changes the connector made.
func memoryConfig(batch int, wrap func(*memory.Connector) sync.Connector) Config {
	return Config{
		New: func(testing.TB) sync.Connector {
			c := memory.New(
				memory.WithMaxBatch(batch),
				memory.WithSearchKey("email", sync.NormalizeEmail),
				memory.WithValidator(func(item sync.Item) error {
					if item["email"] == nil {
						return fmt.Errorf("email is required: %w", sync.ErrInvalid)
					}
					return nil
				}),
			)
			if wrap == nil {
				return c
			}
			return wrap(c)
		},
		Record: func(i int) sync.Item {
			return sync.Item{"email": fmt.Sprintf("person%d@example.com", i), "name": "Person", "n": i}
		},
		Key:       "email",
		Normalize: sync.NormalizeEmail,
		Invalid:   sync.Item{"name": "no email"},
		Change:    func(i int) sync.Item { return sync.Item{"name": fmt.Sprint("Renamed ", i)} },
	}
}

func TestRun_Memory(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{1, 2, 3, 100} {
		t.Run(fmt.Sprint("MaxBatch ", batch), func(t *testing.T) {
			t.Parallel()
			Run(t, memoryConfig(batch, nil))
		})
	}
}

// recorder is a tester that records failures instead of failing the test,
// so that the suite can be shown to catch broken connectors.
type recorder struct {
	*testing.T // for Context, Cleanup, Name and the like
	name       string
	mu         *stdsync.Mutex
	failed     *[]string // names of the subtests that failed
	skipped    *[]string
	msgs       *[]string
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{
		T: t, mu: &stdsync.Mutex{},
		failed: &[]string{}, skipped: &[]string{}, msgs: &[]string{},
	}
}

func (r *recorder) run(name string, f func(t tester)) {
	child := *r
	child.name = name
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(&child)
	}()
	<-done
}

func (r *recorder) note(list *[]string, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(*list, r.name) {
		*list = append(*list, r.name)
	}
	if msg != "" {
		*r.msgs = append(*r.msgs, r.name+": "+msg)
	}
}

func (r *recorder) Helper()                   {}
func (r *recorder) Log(...any)                {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Fail()                     { r.note(r.failed, "") }
func (r *recorder) Error(args ...any)         { r.note(r.failed, fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.note(r.failed, fmt.Sprintf(f, a...)) }
func (r *recorder) FailNow()                  { r.Fail(); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)         { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }
func (r *recorder) SkipNow()                  { r.note(r.skipped, ""); runtime.Goexit() }
func (r *recorder) Skip(...any)               { r.SkipNow() }
func (r *recorder) Skipf(string, ...any)      { r.SkipNow() }
func (r *recorder) Failed() bool              { return slices.Contains(*r.failed, r.name) }
func (r *recorder) Skipped() bool             { return slices.Contains(*r.skipped, r.name) }
func (r *recorder) Context() context.Context  { return r.T.Context() }
func (r *recorder) Cleanup(f func())          { r.T.Cleanup(f) }
func (r *recorder) Name() string              { return r.T.Name() + "/" + r.name }
func (r *recorder) Setenv(key, value string)  { r.T.Setenv(key, value) }
func (r *recorder) TempDir() string           { return r.T.TempDir() }
func (r *recorder) Attr(key, value string)    {}
func (r *recorder) Chdir(dir string)          { r.T.Chdir(dir) }

// broken is a memory connector with some methods replaced.
type broken struct {
	*memory.Connector
	list     func(ctx context.Context) iter.Seq2[sync.Item, error]
	write    func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error)
	del      func(ctx context.Context, batch []sync.Item) ([]sync.WriteResult, error)
	search   func(ctx context.Context, key string) ([]sync.Item, error)
	since    func(ctx context.Context, since time.Time) iter.Seq2[sync.Item, error]
	recordID func(item sync.Item) string
}

func (b *broken) List(ctx context.Context) iter.Seq2[sync.Item, error] {
	if b.list != nil {
		return b.list(ctx)
	}
	return b.Connector.List(ctx)
}

func (b *broken) Write(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
	if b.write != nil {
		return b.write(ctx, batch)
	}
	return b.Connector.Write(ctx, batch)
}

func (b *broken) Delete(ctx context.Context, batch []sync.Item) ([]sync.WriteResult, error) {
	if b.del != nil {
		return b.del(ctx, batch)
	}
	return b.Connector.Delete(ctx, batch)
}

func (b *broken) SearchKey(ctx context.Context, key string) ([]sync.Item, error) {
	if b.search != nil {
		return b.search(ctx, key)
	}
	return b.Connector.SearchKey(ctx, key)
}

func (b *broken) ListModifiedSince(ctx context.Context, since time.Time) iter.Seq2[sync.Item, error] {
	if b.since != nil {
		return b.since(ctx, since)
	}
	return b.Connector.ListModifiedSince(ctx, since)
}

func (b *broken) RecordID(item sync.Item) string {
	if b.recordID != nil {
		return b.recordID(item)
	}
	return b.Connector.RecordID(item)
}

// basic has only the methods of sync.Connector.
type basic struct{ c *memory.Connector }

func (b basic) List(ctx context.Context) iter.Seq2[sync.Item, error] { return b.c.List(ctx) }
func (b basic) MaxBatch() int                                        { return b.c.MaxBatch() }
func (b basic) Write(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
	return b.c.Write(ctx, batch)
}

func TestRun_CatchesBrokenConnectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(b *broken)
		want   []string // the subtests that must fail
	}{
		{
			name: "a listing that drops a record",
			break_: func(b *broken) {
				b.list = func(ctx context.Context) iter.Seq2[sync.Item, error] {
					return func(yield func(sync.Item, error) bool) {
						var held sync.Item // yielded one record late; the last never
						for it, err := range b.Connector.List(ctx) {
							if err != nil {
								yield(nil, err)
								return
							}
							if held != nil && !yield(held, nil) {
								return
							}
							held = it
						}
					}
				}
			},
			want: []string{"CreateInBatches", "ListingPages", "Update", "ItemError", "UpdateGone",
				"Deleter", "Identifier"},
		},
		{
			name: "a listing that yields a record twice",
			break_: func(b *broken) {
				b.list = func(ctx context.Context) iter.Seq2[sync.Item, error] {
					return func(yield func(sync.Item, error) bool) {
						first := true
						for it, err := range b.Connector.List(ctx) {
							if !yield(it, err) || err != nil {
								return
							}
							if first && !yield(it, nil) {
								return
							}
							first = false
						}
					}
				}
			},
			want: []string{"CreateInBatches", "ListingPages", "Update", "ItemError", "UpdateGone",
				"Deleter", "Identifier"},
		},
		{
			name: "a listing that ignores the context",
			break_: func(b *broken) {
				b.list = func(context.Context) iter.Seq2[sync.Item, error] {
					return b.Connector.List(context.Background())
				}
			},
			want: []string{"Cancelled", "CancelledMidListing"},
		},
		{
			name: "a listing that checks the context only when it starts",
			break_: func(b *broken) {
				b.list = func(ctx context.Context) iter.Seq2[sync.Item, error] {
					return func(yield func(sync.Item, error) bool) {
						if err := ctx.Err(); err != nil {
							yield(nil, err)
							return
						}
						for it, err := range b.Connector.List(context.Background()) {
							if !yield(it, err) {
								return
							}
						}
					}
				}
			},
			want: []string{"CancelledMidListing"},
		},
		{
			name: "a listing that ends after its first page",
			break_: func(b *broken) {
				b.list = func(ctx context.Context) iter.Seq2[sync.Item, error] {
					return func(yield func(sync.Item, error) bool) {
						n := 0
						for it, err := range b.Connector.List(ctx) {
							if n == 5 || !yield(it, err) {
								return
							}
							n++
						}
					}
				}
			},
			want: []string{"ListingPages"},
		},
		{
			name: "a write that ignores the context",
			break_: func(b *broken) {
				b.write = func(_ context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					return b.Connector.Write(context.Background(), batch)
				}
			},
			want: []string{"Cancelled"},
		},
		{
			name: "a write that fails the whole batch for one record",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					results, err := b.Connector.Write(ctx, batch)
					for _, r := range results {
						if r.Err != nil {
							return nil, r.Err
						}
					}
					return results, err
				}
			},
			want: []string{"ItemError", "UpdateGone"},
		},
		{
			name: "a write that loses fields",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					trimmed := make([]sync.Write, len(batch))
					for i, w := range batch {
						w.Item = sync.Item{"email": w.Item["email"]}
						trimmed[i] = w
					}
					return b.Connector.Write(ctx, trimmed)
				}
			},
			want: []string{"CreateInBatches", "ListingPages", "Update", "ItemError"},
		},
		{
			name: "a write that changes the items it is given",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					for _, w := range batch {
						if w.Op == sync.OpUpdate {
							w.Item["touched"] = true
						}
					}
					return b.Connector.Write(ctx, batch)
				}
			},
			want: []string{"Update", "UpdateGone"},
		},
		{
			name: "an update whose result lacks the record",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					results, err := b.Connector.Write(ctx, batch)
					for i := range results {
						if batch[i].Op == sync.OpUpdate {
							results[i].Item = nil
						}
					}
					return results, err
				}
			},
			want: []string{"Update"},
		},
		{
			name: "an update of a deleted record that succeeds",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					results, err := b.Connector.Write(ctx, batch)
					for i := range results {
						if errors.Is(results[i].Err, sync.ErrNotFound) {
							results[i] = sync.WriteResult{}
						}
					}
					return results, err
				}
			},
			want: []string{"UpdateGone"},
		},
		{
			name: "an update that replaces the record",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					if len(batch) == 1 && batch[0].Op == sync.OpUpdate {
						if _, err := b.Connector.Delete(ctx, []sync.Item{batch[0].Target}); err != nil {
							return nil, err
						}
						item := batch[0].Item
						return b.Connector.Write(ctx, []sync.Write{{Op: sync.OpCreate, Item: item}})
					}
					return b.Connector.Write(ctx, batch)
				}
			},
			want: []string{"Update", "UpdateGone"},
		},
		{
			name: "too few results",
			break_: func(b *broken) {
				b.write = func(ctx context.Context, batch []sync.Write) ([]sync.WriteResult, error) {
					results, err := b.Connector.Write(ctx, batch)
					if len(results) > 1 {
						results = results[:len(results)-1]
					}
					return results, err
				}
			},
			want: []string{"CreateInBatches", "ListingPages", "Update", "ItemError",
				"CancelledMidListing", "UpdateGone", "Deleter", "KeySearcher", "IncrementalSource",
				"Identifier"},
		},
		{
			name: "deleting twice fails",
			break_: func(b *broken) {
				gone := map[string]bool{}
				b.del = func(ctx context.Context, batch []sync.Item) ([]sync.WriteResult, error) {
					results, err := b.Connector.Delete(ctx, batch)
					for i, it := range batch {
						id := b.RecordID(it)
						if gone[id] {
							results[i].Err = fmt.Errorf("no record %s: %w", id, sync.ErrNotFound)
						}
						gone[id] = true
					}
					return results, err
				}
			},
			want: []string{"Deleter"},
		},
		{
			name: "a search that returns nil for no match",
			break_: func(b *broken) {
				b.search = func(ctx context.Context, key string) ([]sync.Item, error) {
					found, err := b.Connector.SearchKey(ctx, key)
					if len(found) == 0 {
						return nil, err
					}
					return found, err
				}
			},
			want: []string{"KeySearcher"},
		},
		{
			name: "a search that finds everything",
			break_: func(b *broken) {
				b.search = func(ctx context.Context, key string) ([]sync.Item, error) {
					return b.Items(), nil
				}
			},
			want: []string{"KeySearcher"},
		},
		{
			name: "an exclusive incremental listing",
			break_: func(b *broken) {
				b.since = func(ctx context.Context, since time.Time) iter.Seq2[sync.Item, error] {
					return b.Connector.ListModifiedSince(ctx, since.Add(time.Nanosecond))
				}
			},
			want: []string{"IncrementalSource"},
		},
		{
			name: "IDs that are not unique",
			break_: func(b *broken) {
				b.recordID = func(sync.Item) string { return "1" }
			},
			want: []string{"Identifier"},
		},
		{
			name: "no IDs",
			break_: func(b *broken) {
				b.recordID = func(sync.Item) string { return "" }
			},
			want: []string{"Update", "Identifier"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			cfg := memoryConfig(2, func(c *memory.Connector) sync.Connector {
				b := &broken{Connector: c}
				tt.break_(b)
				return b
			})

			run(rec, cfg)

			assert.ElementsMatch(t, tt.want, *rec.failed, "failed checks; messages:\n%s",
				strings.Join(*rec.msgs, "\n"))
			assert.Empty(t, *rec.skipped)
		})
	}
}

func TestRun_SkipsWhatIsNotImplemented(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	cfg := memoryConfig(5, func(c *memory.Connector) sync.Connector { return basic{c} })
	cfg.Change, cfg.Invalid = nil, nil

	run(rec, cfg)

	assert.Empty(t, *rec.failed, strings.Join(*rec.msgs, "\n"))
	assert.ElementsMatch(t, []string{"Update", "ItemError", "UpdateGone", "Deleter",
		"KeySearcher", "IncrementalSource", "Identifier"}, *rec.skipped)
}

func TestRun_RejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{name: "no New", change: func(c *Config) { c.New = nil }},
		{name: "no Record", change: func(c *Config) { c.Record = nil }},
		{name: "bad Key", change: func(c *Config) { c.Key = "email[" }},
		{name: "no key in Record", change: func(c *Config) { c.Key = "mail" }},
		{
			name: "no key in a later Record",
			change: func(c *Config) {
				record := c.Record
				c.Record = func(i int) sync.Item {
					if i == 1 {
						return sync.Item{"name": "no email"}
					}
					return record(i)
				}
			},
		},
		{
			name: "the same key in Record(0) and Record(1)",
			change: func(c *Config) {
				c.Record = func(int) sync.Item { return sync.Item{"email": "same@example.com"} }
			},
		},
		{
			name:   "a Change without fields",
			change: func(c *Config) { c.Change = func(int) sync.Item { return sync.Item{} } },
		},
		{name: "a negative PageSize", change: func(c *Config) { c.PageSize = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t)
			cfg := memoryConfig(2, nil)
			tt.change(&cfg)
			var made atomic.Int32
			if newConn := cfg.New; newConn != nil {
				cfg.New = func(t testing.TB) sync.Connector {
					made.Add(1)
					return newConn(t)
				}
			}

			rec.run("suite", func(t tester) { run(t, cfg) })

			assert.Equal(t, []string{"suite"}, *rec.failed,
				"the configuration fails the parent test, before any subtest")
			assert.Zero(t, made.Load(), "no subtest ran")
		})
	}
}

func TestRun_KeyOfFailuresStayInTheirSubtest(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	cfg := memoryConfig(2, nil)
	record := cfg.Record
	cfg.Record = func(i int) sync.Item {
		if i >= 2 { // only the checks that write three or more records see it
			return sync.Item{"name": "no email"}
		}
		return record(i)
	}

	rec.run("suite", func(t tester) { run(t, cfg) })

	assert.NotContains(t, *rec.failed, "suite", "the parent test is not failed by a subtest")
	assert.Contains(t, *rec.failed, "CreateInBatches")
	assert.NotContains(t, *rec.failed, "Update", "checks with two records pass")
}
