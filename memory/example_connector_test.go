package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
)

// Example_connector seeds a connector, writes to it and lists it.
func Example_connector() {
	ctx := context.Background()
	clock := func() time.Time { return time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) }
	c := memory.New(memory.WithClock(clock), memory.WithSearchKey("email", keysync.NormalizeEmail))
	c.Put(keysync.Item{"email": "ana@example.com", "name": "Ana"})

	results, err := c.Write(ctx, []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "Bo@Example.com", "name": "Bo"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created", results[0].Item["id"], "at", results[0].Item[memory.UpdatedField])

	for item, err := range c.List(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(item["id"], item["email"], item["name"])
	}
	found, _ := c.SearchKey(ctx, "bo@example.com")
	fmt.Println("found", len(found))
	// Output:
	// created 2 at 2026-12-03T09:00:00Z
	// 1 ana@example.com Ana
	// 2 Bo@Example.com Bo
	// found 1
}

// ExampleConnector_FailWrite shows a sync going on past a record that the
// destination rejects.
func ExampleConnector_FailWrite() {
	ctx := context.Background()
	src, dst := memory.New(), memory.New()
	src.Put(keysync.Item{"email": "a@example.com"}, keysync.Item{"email": "b@example.com"},
		keysync.Item{"email": "c@example.com"})
	dst.FailWrite(2, fmt.Errorf("email is blocked: %w", keysync.ErrInvalid))

	report, err := keysync.OneWay(ctx, src, dst, keysync.Options{
		SourceKey: "email",
		Map: func(s keysync.Item) (keysync.Item, error) {
			return keysync.Item{"email": s["email"]}, nil
		},
	})

	fmt.Println(report)
	fmt.Println(errors.Is(err, keysync.ErrWritesFailed), err)
	for _, e := range report.Problems() {
		fmt.Println(e)
	}
	fmt.Println(len(dst.Items()), "stored")
	// Output:
	// created 2, updated 0, unchanged 0, skipped 0, failed 1 (write error 1)
	// true sync: 1 of 3 writes failed; the first: email is blocked: sync: invalid record
	// source→target "b@example.com": failed (write error: email is blocked: sync: invalid record)
	// 2 stored
}

// ExampleConnector_FailAfter shows a sync stopping when the destination
// starts refusing every request, as it would when a token expires.
func ExampleConnector_FailAfter() {
	ctx := context.Background()
	src, dst := memory.New(), memory.New(memory.WithMaxBatch(2))
	for i := range 5 {
		src.Put(keysync.Item{"email": fmt.Sprintf("p%d@example.com", i)})
	}
	dst.FailAfter(2, keysync.ErrUnauthorized)

	report, err := keysync.OneWay(ctx, src, dst, keysync.Options{
		SourceKey: "email",
		Map: func(s keysync.Item) (keysync.Item, error) {
			return keysync.Item{"email": s["email"]}, nil
		},
	})

	fmt.Println(errors.Is(err, keysync.ErrUnauthorized), err)
	fmt.Println(report)
	fmt.Println(dst.Stats().Calls, "calls,", len(dst.Items()), "stored")
	// Output:
	// true sync: 3 of 5 writes failed or were not attempted: writing source→target batch 2 of 3: sync: unauthorized
	// created 2, updated 0, unchanged 0, skipped 0, failed 3 (batch error 2, not attempted 1)
	// 2 calls, 2 stored
}
