package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
)

var leadHeader = []string{"email", "first_name", "last_name", "company", "phone"}

// newLeads returns a connector over a new file in a temporary directory
// holding content, or no file when content is "".
func newLeads(t testing.TB, content string) (*Connector, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leads.csv")
	if content != "" {
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	c, err := New(path, Options{Columns: leadHeader})
	require.NoError(t, err)
	return c, path
}

func TestConnector_Conformance(t *testing.T) {
	connectortest.Run(t, connectortest.Config{
		New: func(t testing.TB) keysync.Connector {
			c, _ := newLeads(t, "")
			return c
		},
		Record: func(i int) keysync.Item {
			return keysync.Item{"email": fmt.Sprintf("lead%d@example.com", i),
				"first_name": "Lead", "last_name": strconv.Itoa(i), "company": "Contoso"}
		},
		Key:       "email",
		Normalize: keysync.NormalizeEmail,
		Invalid:   keysync.Item{"email": "bad@example.com", "no_such_column": "x"},
		Change: func(i int) keysync.Item {
			return keysync.Item{"company": fmt.Sprintf("Fabrikam %d", i)}
		},
	})
}

func list(t *testing.T, c *Connector) []keysync.Item {
	t.Helper()
	var items []keysync.Item
	for item, err := range c.List(t.Context()) {
		require.NoError(t, err)
		items = append(items, item)
	}
	return items
}

func TestConnector_ListReadsSpreadsheetExports(t *testing.T) {
	t.Parallel()
	c, _ := newLeads(t, "\ufeffid,email,company\r\n7,a@example.com,\"Wingtip, Ltd.\"\r\n"+
		"9,\"b@example.com\",\"Say \"\"hi\"\"\"\r\n")
	assert.Equal(t, []keysync.Item{
		{"id": "7", "email": "a@example.com", "company": "Wingtip, Ltd."},
		{"id": "9", "email": "b@example.com", "company": `Say "hi"`},
	}, list(t, c))
}

func TestConnector_WriteAppendsAndUpdatesRows(t *testing.T) {
	t.Parallel()
	c, path := newLeads(t, "id,email,first_name\n7,a@example.com,Ann\nx1,b@example.com,Bob\n")

	res, err := c.Write(t.Context(), []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "c@example.com", "first_name": 3.0}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"first_name": "Robert"},
			Target: keysync.Item{"id": "x1"}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"first_name": "?"},
			Target: keysync.Item{"id": "404"}},
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "d@example.com", "phone": "1"}},
		{Op: keysync.OpCreate, Item: keysync.Item{"email": map[string]any{}}},
		{Op: keysync.OpUpdate, Item: keysync.Item{"id": "8"}, Target: keysync.Item{"id": "7"}},
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "e@example.com", "first_name": nil}},
	})
	require.NoError(t, err)

	require.Len(t, res, 7)
	assert.Equal(t, keysync.Item{"id": "8", "email": "c@example.com", "first_name": "3"}, res[0].Item)
	assert.Equal(t, keysync.Item{"id": "x1", "email": "b@example.com", "first_name": "Robert"},
		res[1].Item)
	assert.ErrorIs(t, res[2].Err, keysync.ErrNotFound)
	assert.ErrorIs(t, res[3].Err, keysync.ErrInvalid, "unknown column")
	assert.ErrorIs(t, res[4].Err, keysync.ErrInvalid, "not a scalar")
	assert.ErrorIs(t, res[5].Err, keysync.ErrInvalid, "id change")
	assert.Equal(t, "9", res[6].Item["id"])

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "id,email,first_name\n7,a@example.com,Ann\nx1,b@example.com,Robert\n"+
		"8,c@example.com,3\n9,e@example.com,\n", string(data))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "permissions kept")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestConnector_WriteCreatesTheFile(t *testing.T) {
	t.Parallel()
	c, path := newLeads(t, "")
	assert.Empty(t, list(t, c))

	_, err := c.Write(t.Context(), []keysync.Write{
		{Op: keysync.OpCreate, Item: keysync.Item{"email": "a@example.com"}},
	})
	require.NoError(t, err)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "id,email,first_name,last_name,company,phone\n1,a@example.com,,,,\n",
		string(data))
}

func TestConnector_WriteFailsWhole(t *testing.T) {
	t.Parallel()
	t.Run("cancelled context writes nothing", func(t *testing.T) {
		t.Parallel()
		c, path := newLeads(t, "id,email\n")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Write(ctx, []keysync.Write{{Op: keysync.OpCreate, Item: keysync.Item{}}})
		assert.ErrorIs(t, err, context.Canceled)
		data, _ := os.ReadFile(path)
		assert.Equal(t, "id,email\n", string(data))
	})
	t.Run("unreadable file", func(t *testing.T) {
		t.Parallel()
		c, _ := newLeads(t, "id,email\n1,a@example.com,extra\n")
		_, err := c.Write(t.Context(), []keysync.Write{{Op: keysync.OpCreate, Item: keysync.Item{}}})
		assert.Error(t, err)
	})
}

func TestNew_NeedsAnIDColumn(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "leads.csv")
	require.NoError(t, os.WriteFile(path, []byte("email\na@example.com\n"), 0o600))
	_, err := New(path, Options{})
	assert.ErrorIs(t, err, ErrNoIDColumn)

	c, err := New(path, Options{IDColumn: "email"})
	require.NoError(t, err)
	assert.Equal(t, "a@example.com", c.RecordID(keysync.Item{"email": "a@example.com"}))
}

func TestConnector_ConcurrentWritesKeepEveryRow(t *testing.T) {
	t.Parallel()
	c, _ := newLeads(t, "")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				email := fmt.Sprintf("g%d-%d@example.com", g, i)
				res, err := c.Write(t.Context(), []keysync.Write{
					{Op: keysync.OpCreate, Item: keysync.Item{"email": email}},
				})
				if err == nil {
					err = res[0].Err
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	require.NoError(t, errors.Join(slicesOf(errs)...))

	items := list(t, c)
	assert.Len(t, items, 40)
	ids := map[string]bool{}
	for _, it := range items {
		ids[c.RecordID(it)] = true
	}
	assert.Len(t, ids, 40, "ids are unique")
}

func slicesOf(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

func TestConnector_Delete(t *testing.T) {
	t.Parallel()
	c, path := newLeads(t, "id,email\n1,a@example.com\n2,b@example.com\n3,c@example.com\n")

	res, err := c.Delete(t.Context(), []keysync.Item{
		{"id": "2"}, {"id": "404"}, {"email": "c@example.com"},
	})
	require.NoError(t, err)

	require.Len(t, res, 3)
	assert.NoError(t, res[0].Err)
	assert.NoError(t, res[1].Err, "already gone")
	assert.ErrorIs(t, res[2].Err, keysync.ErrInvalid)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "id,email\n1,a@example.com\n3,c@example.com\n", string(data))
}
