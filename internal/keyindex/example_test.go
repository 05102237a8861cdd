package keyindex_test

import (
	"fmt"

	"github.com/keysync/sync/internal/keyindex"
)

func Example() {
	emails := []string{"ann@example.com", "bob@example.com", "ann@example.com"}

	x := keyindex.New(len(emails), 1)
	defer x.Release()
	for j, e := range emails {
		x.Set(j, e)
	}
	x.Prepare()
	for p := range x.Partitions() {
		x.BuildPartition(p)
	}

	for _, e := range []string{"ann@example.com", "eve@example.com"} {
		j, ok := x.Get(e, x.Hash(e))
		fmt.Println(e, j, ok)
	}
	// Output:
	// ann@example.com 2 true
	// eve@example.com -1 false
}
