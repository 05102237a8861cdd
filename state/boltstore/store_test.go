package boltstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/state/boltstore"
	"github.com/keysync/sync/state/statetest"
)

func open(t *testing.T, path string, opts ...boltstore.Option) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	statetest.Run(t, func(t *testing.T) keysync.StateStore {
		return open(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func TestStore_Reopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	want := keysync.Link{
		ID: "A:1", Key: "dana@example.com", A: "1", B: "901",
		BaseA: map[string]string{"email": "dana@example.com"},
	}

	s := open(t, path)
	require.NoError(t, s.Lock(ctx, "p"))
	require.NoError(t, s.Commit(ctx, "p", keysync.StateChange{
		Put:   []keysync.Link{want},
		State: &keysync.PairState{Runs: 3},
	}))
	require.NoError(t, s.Close())

	s = open(t, path)
	assert.Equal(t, path, s.Path())
	var got []keysync.Link
	for l, err := range s.Links(ctx, "p") {
		require.NoError(t, err)
		got = append(got, l)
	}
	assert.Equal(t, []keysync.Link{want}, got)
	ps, err := s.PairState(ctx, "p")
	require.NoError(t, err)
	assert.Equal(t, keysync.PairState{Revision: 1, Runs: 3}, ps)
	assert.NoError(t, s.Lock(ctx, "p"), "run locks do not outlive the process")
}

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		opts    []boltstore.Option
		wantErr error
	}{
		{
			name:  "creates a missing file",
			setup: func(*testing.T, string) {},
		},
		{
			name:    "fails when another store has the file",
			setup:   func(t *testing.T, path string) { open(t, path) },
			opts:    []boltstore.Option{boltstore.WithTimeout(0)},
			wantErr: boltstore.ErrFileLocked,
		},
		{
			name:    "waits at most the timeout",
			setup:   func(t *testing.T, path string) { open(t, path) },
			opts:    []boltstore.Option{boltstore.WithTimeout(30 * time.Millisecond)},
			wantErr: boltstore.ErrFileLocked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "state.db")
			tt.setup(t, path)
			s, err := boltstore.Open(path, tt.opts...)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, s)
				return
			}
			require.NoError(t, err)
			assert.NoError(t, s.Close())
		})
	}

	t.Run("refuses a negative timeout", func(t *testing.T) {
		t.Parallel()
		_, err := boltstore.Open(filepath.Join(t.TempDir(), "x.db"), boltstore.WithTimeout(-1))
		assert.Error(t, err)
	})
	t.Run("refuses a file that is not a database", func(t *testing.T) {
		t.Parallel()
		_, err := boltstore.Open(t.TempDir())
		assert.Error(t, err)
	})
}

func TestStore_CorruptRecord(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	require.NoError(t, s.Commit(ctx, "p", keysync.StateChange{Put: []keysync.Link{{ID: "A:1"}}}))
	require.NoError(t, s.Close())

	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		pb := tx.Bucket([]byte("keysync.pairs")).Bucket([]byte("p"))
		if err := pb.Bucket([]byte("links")).Put([]byte("A:1"), []byte("{not json")); err != nil {
			return err
		}
		return pb.Put([]byte("state"), []byte("[]"))
	}))
	require.NoError(t, db.Close())

	s = open(t, path)
	var errs []error
	for _, err := range s.Links(ctx, "p") {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], `decoding link "A:1"`)
	_, err = s.PairState(ctx, "p")
	assert.ErrorContains(t, err, "decoding pair state")
	assert.Error(t, s.Commit(ctx, "p", keysync.StateChange{}), "a commit never overwrites what it cannot read")
}
