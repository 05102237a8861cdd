package sync_test

import (
	"fmt"
	"testing"

	"github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// owBenchPeople returns n people with keys user{from}…user{from+n-1}.
func owBenchPeople(from, n int) []sync.Item {
	out := make([]sync.Item, n)
	for i := range out {
		out[i] = sync.Item{
			"email": fmt.Sprintf("User%d@Example.com", from+i),
			"name":  fmt.Sprint("User ", from+i),
			"phone": fmt.Sprint("555-", from+i),
		}
	}
	return out
}

// BenchmarkOneWay syncs 100,000 source records into 100,000 target records,
// half of which match (and are equal), with upsert on: each run lists both
// memory connectors, plans 50,000 unchanged records and 50,000 creates, and
// (unless dry) writes the creates in batches of 100. The memory connector's
// copying is part of the measurement.
func BenchmarkOneWay(b *testing.B) {
	const n = 100_000
	src := memory.New()
	src.Put(owBenchPeople(0, n)...)
	targets := owBenchPeople(n/2, n)
	opts := sync.Options{
		SourceKey: "email",
		Normalize: sync.NormalizeEmail,
		Upsert:    true,
		Map: func(s sync.Item) (sync.Item, error) {
			return sync.Item{"email": s["email"], "name": s["name"], "phone": s["phone"]}, nil
		},
	}
	for _, dry := range []bool{true, false} {
		name := "write"
		if dry {
			name = "dry-run"
		}
		b.Run(name, func(b *testing.B) {
			opts := opts
			opts.DryRun = dry
			dst := memory.New()
			dst.Put(targets...)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if !dry {
					b.StopTimer()
					dst = memory.New()
					dst.Put(targets...)
					b.StartTimer()
				}
				report, err := sync.OneWay(b.Context(), src, dst, opts)
				if err != nil {
					b.Fatal(err)
				}
				if got := report.Count(sync.Created); got != n/2 {
					b.Fatalf("created %d, want %d", got, n/2)
				}
			}
		})
	}
}
