package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/pgstore"
)

// Two workers share one database; only one of them may run a pair at a time.
// (Not run as a test: it needs a server.)
func Example() {
	ctx := context.Background()
	dsn := os.Getenv("KEYSYNC_TEST_POSTGRES")

	worker1, err := pgstore.Open(ctx, dsn)
	if err != nil {
		panic(err)
	}
	defer worker1.Close()
	worker2, err := pgstore.Open(ctx, dsn)
	if err != nil {
		panic(err)
	}
	defer worker2.Close()

	if err := worker1.Lock(ctx, "persons"); err != nil {
		panic(err)
	}
	err = worker2.Lock(ctx, "persons")
	fmt.Println(errors.Is(err, keysync.ErrLocked))
}
