package storekit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/internal/storekit"
)

// pages serves the links l0, l1, … ln-1 in pages of size, by index cursor,
// failing the read after fail pages when fail > 0, and records the cursors
// asked for.
type pages struct {
	n, size, fail int
	asked         []int
}

var errRead = errors.New("read failed")

func (p *pages) page(after int) ([]keysync.Link, int, error) {
	p.asked = append(p.asked, after)
	if p.fail > 0 && len(p.asked) > p.fail {
		return nil, 0, errRead
	}
	var out []keysync.Link
	for i := after; i < p.n && len(out) < p.size; i++ {
		out = append(out, keysync.Link{ID: fmt.Sprint("l", i)})
	}
	return out, after + len(out), nil
}

func TestPagedLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		n, fail   int
		stopAfter int // stop ranging after this many links; 0 ranges over all
		wantLinks int
		wantAsked []int
		wantErr   error
	}{
		{name: "no links take one read", n: 0, wantAsked: []int{0}},
		{name: "a short page is the last", n: 5, wantLinks: 5, wantAsked: []int{0, 3}},
		{name: "a full last page takes one more read", n: 6, wantLinks: 6,
			wantAsked: []int{0, 3, 6}},
		{name: "a failed read ends the iteration with its error", n: 9, fail: 1,
			wantLinks: 3, wantAsked: []int{0, 3}, wantErr: errRead},
		{name: "stopping reads no more pages", n: 9, stopAfter: 2, wantLinks: 2,
			wantAsked: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &pages{n: tt.n, size: 3, fail: tt.fail}
			var got []string
			var gotErr error

			for l, err := range storekit.PagedLinks(3, p.page) {
				if err != nil {
					gotErr = err
					continue
				}
				got = append(got, l.ID)
				if len(got) == tt.stopAfter {
					break
				}
			}

			require.ErrorIs(t, gotErr, tt.wantErr)
			assert.Len(t, got, tt.wantLinks)
			for i, id := range got {
				assert.Equal(t, fmt.Sprint("l", i), id, "in order, each once")
			}
			assert.Equal(t, tt.wantAsked, p.asked)
		})
	}
}
