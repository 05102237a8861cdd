package sync

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keysync/sync/internal/keypath"
)

// FuzzLookup checks, for any path and small JSON document, that Lookup does
// not panic, that it agrees with a walk over the keys split in advance and
// across number decodings, and that for every path ParseKeyPath accepts,
// KeyPath.Lookup returns exactly what Lookup returns and the strict grammar
// reads the keys as lodash does. Invalid JSON is used as a top-level string.
func FuzzLookup(f *testing.F) {
	for _, vec := range readLodashVectors(f) {
		f.Add(vec.Path, []byte(vec.Data))
	}
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		data, plain := fuzzData(doc)

		got, found := Lookup(data, path)

		if !found {
			assert.Nil(t, got)
		}
		if keypath.IsDeep(path) && data != nil {
			if _, own := keypath.OwnKey(data, path); !own {
				got2, found2 := keypath.Walk(data, path, keypath.Split(path), true)
				assert.Equal(t, found, found2, "streamed and split walks agree")
				assert.Equal(t, got, got2, "streamed and split walks agree")
			}
		}
		gotPlain, foundPlain := Lookup(plain, path)
		assert.Equal(t, found, foundPlain, "json.Number and float64 data agree")
		if found && foundPlain {
			assert.Equal(t, normalize(t, got), normalize(t, gotPlain))
		}

		p, err := ParseKeyPath(path)
		if err != nil {
			var kerr *KeyPathError
			require.True(t, errors.As(err, &kerr))
			assert.Equal(t, path, kerr.Path)
			assert.True(t, 0 <= kerr.Offset && kerr.Offset <= len(path), "offset %d", kerr.Offset)
			return
		}
		assert.Equal(t, path, p.String())
		pgot, pfound := p.Lookup(data)
		assert.Equal(t, found, pfound, "KeyPath.Lookup agrees with Lookup")
		assert.Equal(t, got, pgot, "KeyPath.Lookup agrees with Lookup")
		strict, perr := keypath.Parse(path)
		require.Nil(t, perr)
		assert.Equal(t, p.keys, strict, "the strict grammar reads the path as lodash does")
	})
}

// fuzzData decodes doc twice, with json.Number and with float64 numbers. A
// doc that is not one JSON value becomes a string.
func fuzzData(doc []byte) (withNumber, plain any) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if dec.Decode(&withNumber) != nil || dec.More() {
		return string(doc), string(doc)
	}
	if json.Unmarshal(doc, &plain) != nil {
		// json.Number accepted a number float64 cannot hold.
		return withNumber, withNumber
	}
	return withNumber, plain
}
