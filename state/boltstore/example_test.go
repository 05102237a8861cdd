package boltstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/boltstore"
)

// Open a state file, store a link and read it back after reopening.
func Example() {
	dir, err := os.MkdirTemp("", "keysync")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "state.db")
	ctx := context.Background()

	s, err := boltstore.Open(path)
	if err != nil {
		panic(err)
	}
	err = s.Commit(ctx, "persons", keysync.StateChange{Put: []keysync.Link{{
		ID: "A:1", Key: "dana@example.com", A: "1", B: "901",
		BaseA: map[string]string{"email": "dana@example.com"},
	}}})
	if err != nil {
		panic(err)
	}
	s.Close()

	s, err = boltstore.Open(path)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for l, err := range s.Links(ctx, "persons") {
		if err != nil {
			panic(err)
		}
		fmt.Println(l.ID, l.A, "<->", l.B, l.BaseA["email"])
	}
	// Output: A:1 1 <-> 901 dana@example.com
}
