package keyindex

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	stdsync "sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// build prepares x and builds every partition, each on its own goroutine.
func build(x *Index) {
	x.Prepare()
	var wg stdsync.WaitGroup
	for p := range x.Partitions() {
		wg.Go(func() { x.BuildPartition(p) })
	}
	wg.Wait()
}

// setHash records key for item j with a hash chosen by the test.
func setHash(x *Index, j int, key string, h uint64) {
	x.keys[j], x.hashes[j], x.has[j] = key, h, true
}

func TestIndex_lastItemWins(t *testing.T) {
	t.Parallel()
	keys := []string{"a", "", "b", "a", "c", "b", "a"}
	want := map[string]int{"a": 6, "b": 5, "c": 4}
	for _, parts := range []int{0, 1, 2, 3, 8, 100} {
		t.Run(fmt.Sprint(parts, " partitions"), func(t *testing.T) {
			t.Parallel()
			x := New(len(keys)+1, parts) // the last item has no key
			for j, k := range keys {
				if k != "" {
					x.Set(j, k)
				}
			}
			build(x)

			for k, j := range want {
				got, ok := x.Get(k, x.Hash(k))
				assert.True(t, ok, k)
				assert.Equal(t, j, got, k)
			}
			for _, k := range []string{"", "d", "A"} {
				got, ok := x.Get(k, x.Hash(k))
				assert.False(t, ok, "%q", k)
				assert.Equal(t, -1, got, "%q", k)
			}
		})
	}
}

func TestIndex_partitions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ parts, want int }{
		{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 2}, {4, 4}, {7, 4}, {64, 64}, {65, 64},
		{1000, 64},
	} {
		assert.Equal(t, tt.want, New(10, tt.parts).Partitions(), "New(10, %d)", tt.parts)
	}
}

func TestIndex_empty(t *testing.T) {
	t.Parallel()
	for _, parts := range []int{1, 4} {
		x := New(0, parts)
		build(x)
		_, ok := x.Get("a", x.Hash("a"))
		assert.False(t, ok)
	}
}

// TestIndex_probesWrapAround gives every key the same home, the last slot
// of its partition, so that probe sequences run off the partition's end
// and must wrap to its start, not to the table's.
func TestIndex_probesWrapAround(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		parts, part int
	}{
		{"one partition", 1, 0},
		{"third of four partitions", 4, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := New(6, tt.parts)
			partBits := uint(bits.Len(uint(tt.parts))) - 1
			// The partition's bits on top, then all ones (the last home),
			// then a distinct tag per key.
			top := uint64(tt.part)<<(64-partBits) | (^uint64(0) >> partBits)
			hash := func(k string) uint64 { return top - uint64(k[0]) }
			keys := []string{"a", "b", "c", "a", "d", "b"}
			for j, k := range keys {
				setHash(x, j, k, hash(k))
			}
			build(x)
			lo, hi := x.starts[tt.part], x.starts[tt.part+1]
			require.Equal(t, hi-1, x.home(hash("a"), lo, hi), "home is the last slot")

			for _, want := range []struct {
				key    string
				j      int
				wantOK bool
			}{{"a", 3, true}, {"b", 5, true}, {"c", 2, true}, {"d", 4, true}, {"e", -1, false}} {
				j, ok := x.Get(want.key, hash(want.key))
				assert.Equal(t, want.wantOK, ok, want.key)
				assert.Equal(t, want.j, j, want.key)
			}
			for i, s := range x.slots {
				if i < lo || i >= hi {
					assert.Zero(t, s, "slot %d outside partition %d", i, tt.part)
				}
			}
			assert.Equal(t, 4, occupied(x.slots[lo:hi]), "one slot per distinct key")
		})
	}
}

// occupied returns how many of slots hold a key.
func occupied(slots []uint64) int {
	n := 0
	for _, s := range slots {
		if s != 0 {
			n++
		}
	}
	return n
}

// TestIndex_equalHashes checks that keys whose hashes are equal, tag
// included, are still told apart.
func TestIndex_equalHashes(t *testing.T) {
	t.Parallel()
	x := New(4, 2)
	const h = 12345
	for j, k := range []string{"x", "y", "y", "x"} {
		setHash(x, j, k, h)
	}
	build(x)

	jx, okx := x.Get("x", h)
	jy, oky := x.Get("y", h)
	_, okz := x.Get("z", h)

	assert.True(t, okx)
	assert.Equal(t, 3, jx)
	assert.True(t, oky)
	assert.Equal(t, 2, jy)
	assert.False(t, okz)
}

// TestIndex_matchesAGoMap records random keys from several goroutines and
// compares every lookup with a Go map filled in item order.
func TestIndex_matchesAGoMap(t *testing.T) {
	t.Parallel()
	const n, workers = 20_000, 4
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, n)
	want := map[string]int{}
	for j := range keys {
		if rng.IntN(10) == 0 {
			continue // no key
		}
		keys[j] = fmt.Sprint("k", rng.IntN(n/2))
		want[keys[j]] = j
	}

	x := New(n, workers)
	var wg stdsync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := w; j < n; j += workers {
				if keys[j] != "" {
					x.Set(j, keys[j])
				}
			}
		})
	}
	wg.Wait()
	build(x)

	for k := range n / 2 {
		key := fmt.Sprint("k", k)
		j, ok := x.Get(key, x.Hash(key))
		wantJ, wantOK := want[key]
		require.Equal(t, wantOK, ok, key)
		if ok {
			require.Equal(t, wantJ, j, key)
		}
	}
}

// TestIndex_reuse builds indexes of different sizes one after another, so
// that later ones may reuse the memory of earlier ones through the pool,
// and checks that nothing of an earlier index shows through. It is not
// parallel, so that the index New returns is most likely the one released
// just before; TestIndex_resetDirty covers reuse without the pool's luck.
func TestIndex_reuse(t *testing.T) {
	for _, tt := range []struct {
		n     int
		parts int
		keys  map[int]string
	}{
		{n: 100, parts: 4, keys: map[int]string{0: "a", 50: "b", 99: "c"}},
		{n: 10, parts: 1, keys: map[int]string{9: "d"}},
		{n: 100, parts: 2, keys: map[int]string{1: "a"}},
		{n: 1000, parts: 8, keys: map[int]string{999: "e", 3: "e"}},
	} {
		x := New(tt.n, tt.parts)
		for j, k := range tt.keys {
			x.Set(j, k)
		}
		build(x)

		want := map[string]int{}
		for j, k := range tt.keys {
			want[k] = max(want[k], j)
		}
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			j, ok := x.Get(k, x.Hash(k))
			wantJ, wantOK := want[k]
			assert.Equal(t, wantOK, ok, "n=%d key %q", tt.n, k)
			if wantOK {
				assert.Equal(t, wantJ, j, "n=%d key %q", tt.n, k)
			}
		}

		x.Release()
		// Reading a released index is for this test only.
		for j, k := range x.keys {
			require.Empty(t, k, "key of item %d kept after Release", j)
		}
	}
}

// TestIndex_resetDirty empties an index that was used, as New does with a
// pooled one, and checks that it starts afresh.
func TestIndex_resetDirty(t *testing.T) {
	t.Parallel()
	x := New(8, 4)
	for j := range 8 {
		x.Set(j, fmt.Sprint("k", j%3))
	}
	build(x)
	seed := x.seed

	x.reset(6, 2)

	assert.Len(t, x.keys, 6)
	assert.NotContains(t, x.has, true, "items recorded before the reset")
	assert.Equal(t, 2, x.Partitions())
	assert.NotEqual(t, seed, x.seed, "a fresh seed")
	x.Set(5, "k1")
	build(x)
	assert.Equal(t, 1, occupied(x.slots), "only the key recorded after the reset")
	j, ok := x.Get("k1", x.Hash("k1"))
	assert.True(t, ok)
	assert.Equal(t, 5, j)
	_, ok = x.Get("k0", x.Hash("k0"))
	assert.False(t, ok)
}

// TestIndex_partitionsShareTheKeys checks that keys are spread over every
// partition and each lands in its own partition's slots.
func TestIndex_partitionsShareTheKeys(t *testing.T) {
	t.Parallel()
	const n = 4000
	x := New(n, 8)
	for j := range n {
		x.Set(j, fmt.Sprint("key-", j))
	}
	build(x)

	for p := range x.Partitions() {
		lo, hi := x.starts[p], x.starts[p+1]
		keys := occupied(x.slots[lo:hi])
		assert.Greater(t, keys, n/x.Partitions()/2, "partition %d", p)
		assert.Less(t, keys, hi-lo, "partition %d has an empty slot", p)
		for _, s := range x.slots[lo:hi] {
			if s != 0 {
				j := int(s&indexMask) - 1
				assert.Equal(t, p, x.part(x.hashes[j]), "item %d in partition %d", j, p)
			}
		}
	}
}
