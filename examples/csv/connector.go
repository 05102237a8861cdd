package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	keysync "github.com/keysync/sync"
)

// Connector is a keysync connector for a CSV file, such as a spreadsheet
// export of leads: the first row names the columns, every other row is one
// record. Records are items mapping each column name to the cell's text.
//
// It implements keysync.Connector (List, MaxBatch, Write), keysync.Deleter
// and keysync.Identifier: the IDColumn holds each row's id, which the
// connector assigns to the rows it creates. Writes rewrite the whole file
// atomically (a temporary file renamed over the old one), so a reader, a
// crash or a full disk never sees a half-written file.
//
// It is safe for concurrent use within one process: writes are serialized
// and a listing reads the file as it was when the listing began. It does not
// lock the file against other programs: a spreadsheet saved while a sync
// writes loses one of the two changes.
type Connector struct {
	path    string
	idCol   string
	columns []string

	mu sync.Mutex // serializes Write: load, change, save
}

// Options configures a [Connector].
type Options struct {
	// IDColumn names the column of row ids; the default is "id".
	IDColumn string

	// Columns are the columns of a file that does not exist yet, which the
	// first write creates; the id column is added in front when missing.
	// An existing file's own header row wins.
	Columns []string
}

// MaxBatch is how many writes one Write call takes: each call rewrites the
// file once.
const MaxBatch = 500

// ErrNoIDColumn means the file's header has no id column.
var ErrNoIDColumn = errors.New("csv: the header has no id column")

// New returns a connector for the CSV file at path. The file need not exist
// yet; when it does, its header must name the id column.
func New(path string, opts Options) (*Connector, error) {
	c := &Connector{path: path, idCol: opts.IDColumn}
	if c.idCol == "" {
		c.idCol = "id"
	}
	c.columns = slices.Clone(opts.Columns)
	if !slices.Contains(c.columns, c.idCol) {
		c.columns = append([]string{c.idCol}, c.columns...)
	}
	header, err := c.header()
	if err != nil {
		return nil, err
	}
	if header != nil && !slices.Contains(header, c.idCol) {
		return nil, fmt.Errorf("%w %q in %s", ErrNoIDColumn, c.idCol, path)
	}
	return c, nil
}

// header returns the header row of the file, or nil when there is no file.
func (c *Connector) header() ([]string, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	header, err := readHeader(csv.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("reading the header of %s: %w", c.path, err)
	}
	return header, nil
}

// readHeader reads the header row, dropping the byte order mark that
// spreadsheets put in front of UTF-8 files. An empty file has no columns.
func readHeader(r *csv.Reader) ([]string, error) {
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	return header, nil
}

// List yields every row of the file, in file order, reading it as it is
// when the listing starts. A missing file has no rows. The sequence may be
// used more than once; each use reads the file afresh.
func (c *Connector) List(ctx context.Context) iter.Seq2[keysync.Item, error] {
	return func(yield func(keysync.Item, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		f, err := os.Open(c.path)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		r := csv.NewReader(f)
		header, err := readHeader(r)
		if err != nil {
			yield(nil, fmt.Errorf("reading %s: %w", c.path, err))
			return
		}
		if header == nil {
			return // an empty file
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			row, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("reading %s: %w", c.path, err))
				return
			}
			if !yield(rowItem(header, row), nil) {
				return
			}
		}
	}
}

func rowItem(header, row []string) keysync.Item {
	item := make(keysync.Item, len(header))
	for i, col := range header {
		item[col] = row[i]
	}
	return item
}

// MaxBatch returns [MaxBatch].
func (c *Connector) MaxBatch() int { return MaxBatch }

// Write applies the batch to the file: a create appends a row with the next
// free id (one more than the largest numeric id), an update changes the
// cells that Write.Item names in the row whose id Write.Target holds. The
// file is then rewritten once, atomically. Each result holds the row as
// stored.
//
// A write naming a column the file lacks, or holding a value that is not a
// scalar, fails alone with keysync.ErrInvalid; an update of a row that is
// gone fails with keysync.ErrNotFound. When the file cannot be read or
// saved, or ctx is done before saving, nothing is written and Write returns
// the error.
func (c *Connector) Write(ctx context.Context, batch []keysync.Write) (
	[]keysync.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.load()
	if err != nil {
		return nil, err
	}

	results := make([]keysync.WriteResult, len(batch))
	for i, w := range batch {
		results[i] = t.apply(w)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.save(t); err != nil {
		return nil, err
	}
	return results, nil
}

// Delete removes the rows whose ids the given records (as List yielded them)
// hold, rewriting the file once. Removing a row that is already gone
// succeeds; a record without an id fails alone with keysync.ErrInvalid.
// Errors of the whole call are those of Write.
//
// Ids are not remembered once their rows are gone: deleting the row with
// the largest id lets the next create reuse that id, which would confuse a
// sync that stored it (a stateful two-way sync). Delete rows only in
// one-way setups or keep a larger id in the file.
func (c *Connector) Delete(ctx context.Context, batch []keysync.Item) (
	[]keysync.WriteResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.load()
	if err != nil {
		return nil, err
	}

	results := make([]keysync.WriteResult, len(batch))
	gone := map[int]bool{}
	for i, item := range batch {
		id := c.RecordID(item)
		if id == "" {
			results[i].Err = fmt.Errorf("deleting a row without an id: %w", keysync.ErrInvalid)
		} else if j, ok := t.byID[id]; ok {
			gone[j] = true
		}
	}
	rows := t.rows[:0]
	for j, row := range t.rows {
		if !gone[j] {
			rows = append(rows, row)
		}
	}
	t.rows = rows
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.save(t); err != nil {
		return nil, err
	}
	return results, nil
}

// RecordID returns the row's id.
func (c *Connector) RecordID(item keysync.Item) string {
	s, _ := item[c.idCol].(string)
	return s
}

// ModifiedAt reports false: a CSV file does not say when a row changed.
func (c *Connector) ModifiedAt(keysync.Item) (time.Time, bool) { return time.Time{}, false }

// table is the whole file in memory.
type table struct {
	header []string
	idCol  int
	rows   [][]string
	byID   map[string]int // id → index in rows
	nextID int
}

// load reads the file, or starts an empty table with the configured columns
// when there is none.
func (c *Connector) load() (*table, error) {
	t := &table{byID: map[string]int{}, nextID: 1}
	f, err := os.Open(c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.header = c.columns
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		r := csv.NewReader(f)
		if t.header, err = readHeader(r); err == nil {
			t.rows, err = r.ReadAll()
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", c.path, err)
		}
		if t.header == nil {
			t.header = c.columns
		}
	}

	t.idCol = slices.Index(t.header, c.idCol)
	if t.idCol < 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrNoIDColumn, c.idCol, c.path)
	}
	for i, row := range t.rows {
		t.index(i, row[t.idCol])
	}
	return t, nil
}

func (t *table) index(i int, id string) {
	t.byID[id] = i
	if n, err := strconv.Atoi(id); err == nil && n >= t.nextID {
		t.nextID = n + 1
	}
}

// apply carries out one write on the table.
func (t *table) apply(w keysync.Write) keysync.WriteResult {
	var row []string
	switch w.Op {
	case keysync.OpCreate:
		row = make([]string, len(t.header))
		row[t.idCol] = strconv.Itoa(t.nextID)
	case keysync.OpUpdate:
		id, _ := w.Target[t.header[t.idCol]].(string)
		i, ok := t.byID[id]
		if !ok || id == "" {
			err := fmt.Errorf("updating row %q: %w", id, keysync.ErrNotFound)
			return keysync.WriteResult{Err: err}
		}
		row = slices.Clone(t.rows[i])
	default:
		return keysync.WriteResult{Err: fmt.Errorf("op %q: %w", w.Op, keysync.ErrInvalid)}
	}

	if err := t.set(row, w.Item); err != nil {
		return keysync.WriteResult{Err: err}
	}
	if w.Op == keysync.OpCreate {
		t.rows = append(t.rows, row)
		t.index(len(t.rows)-1, row[t.idCol])
	} else {
		t.rows[t.byID[row[t.idCol]]] = row
	}
	return keysync.WriteResult{Item: rowItem(t.header, row)}
}

// set copies the fields of item into row. The id column cannot be changed.
func (t *table) set(row []string, item keysync.Item) error {
	for col, v := range item {
		i := slices.Index(t.header, col)
		if i < 0 {
			return fmt.Errorf("column %q: not in the file: %w", col, keysync.ErrInvalid)
		}
		s, err := cell(v)
		if err != nil {
			return fmt.Errorf("column %q: %w", col, err)
		}
		if i == t.idCol {
			if s != "" && s != row[i] {
				return fmt.Errorf("column %q: ids are assigned by the file: %w",
					col, keysync.ErrInvalid)
			}
			continue
		}
		row[i] = s
	}
	return nil
}

// cell turns a scalar into the text of a cell; null is an empty cell.
func cell(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), nil
	case json.Number:
		return v.String(), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("a %T is not a cell value: %w", v, keysync.ErrInvalid)
}

// save writes the table to a temporary file next to the file and renames it
// over the file, keeping the file's permissions.
func (c *Connector) save(t *table) (err error) {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(c.path); err == nil {
		mode = st.Mode().Perm()
	}
	dir, base := filepath.Split(c.path)
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving %s: %w", c.path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("saving %s: %w", c.path, err)
		}
	}()

	w := csv.NewWriter(tmp)
	w.Write(t.header)
	w.WriteAll(t.rows) // flushes
	if err := w.Error(); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.path)
}
