package storekit_test

import (
	"context"
	"fmt"
	"strconv"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/internal/storekit"
)

// A store guards each call with Enter and Leave, and its Close with Close.
func ExampleGuard() {
	var g storekit.Guard
	ctx := context.Background()
	if err := g.Enter(ctx, "people"); err == nil {
		fmt.Println("call admitted")
		g.Leave()
	}
	_ = g.Close(func() error {
		fmt.Println("released")
		return nil
	})
	fmt.Println(g.Enter(ctx, "people"))
	// Output:
	// call admitted
	// released
	// sync: state store closed
}

// A store's Links reads its links a page at a time.
func ExamplePagedLinks() {
	stored := []string{"a:1", "a:2", "a:3"}
	page := func(after int) ([]keysync.Link, int, error) {
		end := min(after+2, len(stored))
		var out []keysync.Link
		for _, id := range stored[after:end] {
			out = append(out, keysync.Link{ID: id})
		}
		fmt.Println("read after", strconv.Itoa(after))
		return out, end, nil
	}
	for l, err := range storekit.PagedLinks(2, page) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(l.ID)
	}
	// Output:
	// read after 0
	// a:1
	// a:2
	// read after 2
	// a:3
}
