package sync

import (
	"sync/atomic"

	"github.com/keysync/sync/internal/keypath"
)

// ResolveKeys reads path on every item exactly as the key modes of the merge
// functions do (same parallel chunks, same blocks of items) and does nothing
// else; it returns how many items have the path. The merge benchmarks use it
// to measure the part of the work no implementation can skip.
func ResolveKeys(items []Item, path string) int {
	p := keypath.Compile(path)
	s := defaultKeySplit()
	var found atomic.Int64
	_ = s.run(s.chunks(len(items)), func(c int) error {
		var b keyBlockState
		n := 0
		lo, hi := s.bounds(c, len(items))
		for blo := lo; blo < hi; blo += keyBlock {
			block := items[blo:min(blo+keyBlock, hi)]
			p.GetEach(block, b.vals[:], b.found[:])
			for _, ok := range b.found[:len(block)] {
				if ok {
					n++
				}
			}
		}
		found.Add(int64(n))
		return nil
	})
	return int(found.Load())
}
