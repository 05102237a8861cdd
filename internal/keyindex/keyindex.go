// Package keyindex maps string keys to the last item that has each key, for
// the key modes of the root package's merge functions (n8n's copyData).
//
// An index lives through these steps, the parallel ones without locks or
// atomic operations:
//
//  1. [New] returns an empty index for n items.
//  2. [Index.Set] records and hashes the key of an item. Several goroutines
//     may record at once, each for its own items.
//  3. [Index.Prepare] sizes the table's partitions, which divide it by the
//     high bits of the hash.
//  4. [Index.BuildPartition] fills one partition, visiting the items in
//     index order, so that a key several items have maps to the last of
//     them. Each partition can be built on its own goroutine.
//  5. [Index.Get] looks keys up, from any number of goroutines.
//  6. [Index.Release] gives the memory back for a later index to reuse.
//
// The table is open addressing with linear probing in flat slices rather
// than Go maps: each slot's hash tag spares most key comparisons, and the
// same memory serves merge after merge.
package keyindex

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// Index is a string-to-item index for n items. Create it with [New].
type Index struct {
	seed   maphash.Seed
	keys   []string // keys[j] is the key of item j; valid where has[j]
	hashes []uint64 // hashes[j] is the hash of keys[j]
	has    []bool

	partBits uint // log2 of the number of partitions
	starts   []int
	// slots hold 0 when empty, else a key's tag (the low tagBits bits of its
	// hash) above j+1 for the item j that has the key. Partition p owns
	// slots[starts[p]:starts[p+1]].
	slots []uint64
}

const (
	indexBits = 40 // room for j+1: far more items than memory can hold
	tagBits   = 64 - indexBits
	indexMask = 1<<indexBits - 1
	tagMask   = 1<<tagBits - 1
)

// maxPartBits bounds the partitions at 64: more would only make each
// partition's goroutine read the hashes of all the others for nothing.
const maxPartBits = 6

// pool holds the memory of released indexes. An index for 200,000 items
// takes about 7.5 MB; taking fresh memory from the operating system for
// every merge costs more than filling it, since each page faults when first
// written. Indexes for more than maxPooled items are not kept, so that one
// huge merge does not pin its memory for the small ones that follow.
var pool sync.Pool

// maxPooled is the most items a pooled index may have room for: about 37 MB.
const maxPooled = 1 << 20

// New returns an empty index for items 0 to n-1 whose build uses at most
// parts goroutines (rounded down to a power of two, at most 64; fewer than
// one counts as one). It reuses the memory of an index given to
// [Index.Release] when it can.
func New(n, parts int) *Index {
	x, _ := pool.Get().(*Index)
	if x == nil {
		x = &Index{}
	}
	x.reset(n, parts)
	return x
}

// reset empties x for n items and parts goroutines, keeping its memory
// where it is large enough.
func (x *Index) reset(n, parts int) {
	x.seed = maphash.MakeSeed()
	x.keys = grow(x.keys, n) // stale keys are never read, and Release clears them
	x.hashes = grow(x.hashes, n)
	x.has = grow(x.has, n)
	clear(x.has)
	x.partBits = min(uint(bits.Len(uint(max(parts, 1))))-1, maxPartBits)
	x.starts, x.slots = x.starts[:0], x.slots[:0]
}

// Release gives the index's memory back for reuse by a later [New]. The
// index must not be used afterwards. It drops the keys first, so that a
// released index keeps no caller's strings alive.
func (x *Index) Release() {
	clear(x.keys)
	if cap(x.keys) <= maxPooled {
		pool.Put(x)
	}
}

// grow returns s resliced to length n, reallocated if it is too short. The
// elements it keeps are not cleared.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Hash returns the hash of key that [Index.Get] takes. Hashes are valid
// for this index only: each [New] draws a new seed.
func (x *Index) Hash(key string) uint64 {
	return maphash.String(x.seed, key)
}

// Set records that item j has key. It may be called for different items
// on different goroutines at once, but not twice for one item.
func (x *Index) Set(j int, key string) {
	x.keys[j] = key
	x.hashes[j] = x.Hash(key)
	x.has[j] = true
}

// Partitions returns how many partitions [Index.BuildPartition] fills: one
// goroutine per partition can build the index.
func (x *Index) Partitions() int { return 1 << x.partBits }

// Prepare sizes the partitions once every key is recorded. It must be
// called once, after every [Index.Set] has returned (on goroutines the
// caller has waited for) and before any [Index.BuildPartition].
func (x *Index) Prepare() {
	counts := make([]int, x.Partitions())
	for j, ok := range x.has {
		if ok {
			counts[x.part(x.hashes[j])]++
		}
	}

	x.starts = grow(x.starts, len(counts)+1)
	x.starts[0] = 0
	for p, n := range counts {
		// At most two thirds full, so that probe sequences stay short.
		x.starts[p+1] = x.starts[p] + n + n/2 + 1
	}

	x.slots = grow(x.slots, x.starts[len(counts)])
	clear(x.slots)
}

// BuildPartition adds the keys of partition p to the table. Each partition
// must be built once, by one goroutine; different partitions may be built
// on different goroutines at once. Lookups must wait until every partition
// is built.
func (x *Index) BuildPartition(p int) {
	for j, ok := range x.has {
		if ok && x.part(x.hashes[j]) == p {
			x.add(p, j)
		}
	}
}

// add records item j in partition p, replacing an earlier item with the
// same key.
func (x *Index) add(p, j int) {
	key, h := x.keys[j], x.hashes[j]
	tag := h & tagMask
	entry := tag<<indexBits | uint64(j+1)
	lo, hi := x.starts[p], x.starts[p+1]
	for i := x.home(h, lo, hi); ; i = next(i, lo, hi) {
		s := x.slots[i]
		if s == 0 || s>>indexBits == tag && x.keys[int(s&indexMask)-1] == key {
			x.slots[i] = entry
			return
		}
	}
}

// Get returns the last item with key, whose hash is h, or -1 and false
// when no item has key.
func (x *Index) Get(key string, h uint64) (int, bool) {
	p := x.part(h)
	lo, hi := x.starts[p], x.starts[p+1]
	tag := h & tagMask
	for i := x.home(h, lo, hi); ; i = next(i, lo, hi) {
		s := x.slots[i]
		if s == 0 {
			return -1, false
		}
		if s>>indexBits == tag {
			if j := int(s&indexMask) - 1; x.keys[j] == key {
				return j, true
			}
		}
	}
}

// part returns the partition of hash h: its high bits.
func (x *Index) part(h uint64) int {
	if x.partBits == 0 {
		return 0
	}
	return int(h >> (64 - x.partBits))
}

// home returns the first slot to probe for hash h in the partition
// slots[lo:hi], from the hash bits below the partition's.
func (x *Index) home(h uint64, lo, hi int) int {
	off, _ := bits.Mul64(h<<x.partBits, uint64(hi-lo))
	return lo + int(off)
}

// next returns the slot after slot i in the partition slots[lo:hi].
func next(i, lo, hi int) int {
	if i++; i == hi {
		return lo
	}
	return i
}
