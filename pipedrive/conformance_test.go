package pipedrive_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/connectortest"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// conformancePageSize is the connector's page size in the conformance
// suite: small, so that its paging checks list several pages.
const conformancePageSize = 3

func conformanceConnector(t testing.TB, legacy bool) keysync.Connector {
	s := pipedrivetest.NewTestServer(t)
	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL),
		pipedrive.WithoutRateLimit(), pipedrive.WithRetry(2, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	p, err := pipedrive.NewPersons(c, pipedrive.PersonsOptions{Legacy: legacy, MaxBatch: 5,
		PageSize: conformancePageSize})
	require.NoError(t, err)
	return p
}

func TestPersons_conformance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		legacy bool
		list   string // the email list's field name in the shape
	}{
		{"v2 shape", false, "emails"},
		{"legacy shape", true, "email"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			email := func(i int) []any {
				return []any{map[string]any{"value": fmt.Sprintf("person%d@example.com", i),
					"primary": true, "label": "work"}}
			}
			connectortest.Run(t, connectortest.Config{
				New: func(t testing.TB) keysync.Connector {
					return conformanceConnector(t, tt.legacy)
				},
				Record: func(i int) keysync.Item {
					return keysync.Item{"name": fmt.Sprintf("Person %d", i), tt.list: email(i)}
				},
				Key:       tt.list + "[0].value",
				Normalize: keysync.NormalizeEmail,
				Invalid:   keysync.Item{tt.list: email(999)}, // no name: 400
				Change: func(i int) keysync.Item {
					return keysync.Item{"name": fmt.Sprintf("Renamed %d", i)}
				},
				PageSize: conformancePageSize,
			})
		})
	}
}
