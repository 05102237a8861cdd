package keyindex

import (
	"fmt"
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
		{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 4}, {64, 64}, {65, 64}, {1000, 64},
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
// of the table, so that probe sequences run off its end.
func TestIndex_probesWrapAround(t *testing.T) {
	t.Parallel()
	x := New(6, 1)
	last := ^uint64(0)
	keys := []string{"a", "b", "c", "a", "d", "b"}
	for j, k := range keys {
		setHash(x, j, k, last-uint64(k[0])) // distinct tags, same home
	}
	build(x)
	require.Len(t, x.slots, 10)
	require.Equal(t, len(x.slots)-1, x.home(last, 0, len(x.slots)))

	for _, tt := range []struct {
		key    string
		want   int
		wantOK bool
	}{{"a", 3, true}, {"b", 5, true}, {"c", 2, true}, {"d", 4, true}, {"e", -1, false}} {
		j, ok := x.Get(tt.key, last-uint64(tt.key[0]))
		assert.Equal(t, tt.wantOK, ok, tt.key)
		assert.Equal(t, tt.want, j, tt.key)
	}
	occupied := 0
	for _, s := range x.slots {
		if s != 0 {
			occupied++
		}
	}
	assert.Equal(t, 4, occupied, "one slot per distinct key")
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
// that later ones reuse the memory of earlier ones, and checks that nothing
// of an earlier index shows through.
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
		for j, k := range x.keys {
			require.Empty(t, k, "key of item %d kept after Release", j)
		}
	}
}
