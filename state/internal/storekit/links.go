package storekit

import (
	"iter"

	keysync "github.com/keysync/sync"
)

// PagedLinks returns the iterator of keysync.StateStore.Links over pages
// that page reads: page reads up to size links after the cursor it is
// given, the zero C for the first page, and returns them with the cursor of
// the last one. A page of fewer than size links is the last. When page
// fails, the iterator yields (keysync.Link{}, err) once and stops. Each
// page is read before any of its links is yielded, so a page that holds a
// read transaction or a query releases it before the caller's loop body
// runs. The iterator may be ranged over again, which reads afresh.
func PagedLinks[C any](size int, page func(after C) ([]keysync.Link, C, error),
) iter.Seq2[keysync.Link, error] {
	return func(yield func(keysync.Link, error) bool) {
		var after C
		for {
			links, last, err := page(after)
			if err != nil {
				yield(keysync.Link{}, err)
				return
			}
			for _, l := range links {
				if !yield(l, nil) {
					return
				}
			}
			if len(links) < size {
				return
			}
			after = last
		}
	}
}
