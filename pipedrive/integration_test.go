package pipedrive_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/memory"
	"github.com/keysync/sync/pipedrive"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// TestOneWay_intoPipedrive runs the orchestrator against the fake with the
// n8n (legacy) key path: a second run must find every person it created.
func TestOneWay_intoPipedrive(t *testing.T) {
	t.Parallel()
	s := pipedrivetest.NewTestServer(t)
	s.Seed(pipedrivetest.Person{Name: "Ann Lee",
		Emails: []pipedrivetest.Contact{{Value: "Ann@Example.com"}}})
	c, err := pipedrive.NewClient(s.Token, pipedrive.WithBaseURL(s.URL),
		pipedrive.WithoutRateLimit())
	require.NoError(t, err)
	dst, err := pipedrive.NewPersons(c, pipedrive.PersonsOptions{Legacy: true})
	require.NoError(t, err)

	src := memory.New()
	src.Put(
		keysync.Item{"email": "ann@example.com", "name": "Ann Lee"},
		keysync.Item{"email": "bo@example.com", "name": "Bo Chan"},
		keysync.Item{"email": "cy@example.com", "name": "Cy Diaz"},
	)
	opts := keysync.Options{
		SourceKey: "email",
		TargetKey: "email[0].value",
		Normalize: keysync.NormalizeEmail,
		Map: func(it keysync.Item) (keysync.Item, error) {
			return keysync.Item{"name": it["name"], "email": it["email"]}, nil
		},
	}
	s.DropAfterCommitNext(1)
	report, err := keysync.OneWay(t.Context(), src, dst, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, report.Count(keysync.Created), report.String())
	assert.Len(t, s.Persons(), 3, "the dropped create was not repeated")
	assert.Equal(t, 2, s.Count(http.MethodPost, "/api/v2/persons"))

	report, err = keysync.OneWay(t.Context(), src, dst, opts)
	require.NoError(t, err)
	assert.Zero(t, report.Count(keysync.Created), report.String())
	assert.Len(t, s.Persons(), 3)
}
