package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	keysync "github.com/keysync/sync"
	"github.com/keysync/sync/examples/internal/demo"
	"github.com/keysync/sync/hubspot/hubspottest"
)

// sampleFile writes the sample leads to a temporary file.
func sampleFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leads.csv")
	require.NoError(t, os.WriteFile(path, []byte(sampleLeads), 0o600))
	return path
}

// hubspotFake starts a HubSpot fake holding the sample's HubSpot leads.
func hubspotFake(t *testing.T) (*hubspottest.Server, demo.Env) {
	t.Helper()
	hf := hubspottest.NewTestServer(t)
	hf.SeedProperties(leadsInHubSpot()...)
	return hf, demo.Env{HubSpotToken: hf.Token, HubSpotURL: hf.URL}
}

func TestSyncLeads_SampleTwice(t *testing.T) {
	t.Parallel()
	hf, env := hubspotFake(t)
	leads, err := New(sampleFile(t), Options{})
	require.NoError(t, err)
	contacts, err := demo.ConnectHubSpot(env, demo.ConnectOptions{},
		"email", "firstname", "lastname", "company", "phone")
	require.NoError(t, err)

	rep, err := syncLeads(t.Context(), leads, contacts, false, nil, nil)
	require.NoError(t, err)

	var created []string
	for _, e := range rep.Entries {
		if e.Outcome == keysync.Created {
			created = append(created, e.Key)
		}
	}
	assert.Equal(t, []string{
		"hugo.lefevre@litware.example", "amara.diallo@woodgrove.example",
		"kenji.watanabe@proseware.example", "sara.lindgren@fourthcoffee.example",
		"lucia.romero@adventure-works.example", "owen.price@wingtip.example",
		"ines.costa@adatum.example",
	}, created)
	assert.Equal(t, "created 7, updated 0, unchanged 3, skipped 2 (missing key 1, duplicate 1), "+
		"failed 0", rep.String())
	for _, e := range rep.Problems() {
		switch e.Reason {
		case keysync.ReasonMissingKey:
			assert.Equal(t, "6", e.Source["id"])
		case keysync.ReasonDuplicate:
			assert.Equal(t, "10", e.Source["id"])
		default:
			t.Errorf("unexpected problem %v", e)
		}
	}
	var owen map[string]string
	for _, c := range hf.Contacts() {
		if c.Properties["email"] == "owen.price@wingtip.example" {
			owen = c.Properties
		}
	}
	require.NotNil(t, owen)
	assert.Equal(t, "Wingtip Toys, Ltd.", owen["company"])
	assert.Equal(t, "+1 206 555 0207", owen["phone"])
	assert.Equal(t, "Owen", owen["firstname"])

	writes := demo.HubSpotWrites(hf)
	rep2, err := syncLeads(t.Context(), leads, contacts, false, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "created 0, updated 0, unchanged 10, skipped 2 (missing key 1, duplicate 1), "+
		"failed 0", rep2.String())
	assert.Equal(t, writes, demo.HubSpotWrites(hf), "the second run wrote")
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		apply       bool
		wantOutput  string
		wantWritten bool
	}{
		{"real HubSpot without -apply is a dry run", false,
			"Would create (dry run) 7 contacts in HubSpot:", false},
		{"real HubSpot with -apply", true, "Created 7 contacts in HubSpot:", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hf, env := hubspotFake(t)
			path := sampleFile(t)
			var stdout bytes.Buffer

			err := run(t.Context(), flags{file: path, apply: tc.apply}, env, &stdout, io.Discard)
			require.NoError(t, err)

			assert.Contains(t, stdout.String(), tc.wantOutput)
			assert.Equal(t, tc.wantWritten, demo.HubSpotWrites(hf) > 0)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, sampleLeads, string(data), "the source file is only read")
		})
	}
}

func TestCommand_Main(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer

	code := command().Main(t.Context(), t.Context(), nil, func(string) string { return "" },
		&stdout, &stderr)

	require.Equal(t, 0, code, stderr.String())
	// One of the fake's 4 contacts is not in the sample: 3 leads are
	// already in HubSpot.
	assert.Contains(t, stdout.String(),
		"HubSpot: a built-in fake holding 4 contacts, 3 of them leads in this file\n")
	assert.Contains(t, stdout.String(), "Already in HubSpot: 3 leads")
	assert.Contains(t, stdout.String(),
		"Summary: created 7, updated 0, unchanged 3, skipped 2 (missing key 1, duplicate 1)")
}

func TestCommand_Main_CountsTheFakesContactsInTheFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rows, want string
	}{
		{"none", "1,dana@example.com\n", "none of them leads in this file"},
		{"one, differently cased", "1,Jonas.Berg@FourthCoffee.example\n2,dana@example.com\n",
			"1 of them leads in this file"},
		{"all, one twice", "1,ava.nguyen@northwind.example\n2,priya.sharma@contoso.example\n" +
			"3,tom.baker@tailspin.example\n4,jonas.berg@fourthcoffee.example\n" +
			"5,AVA.NGUYEN@northwind.example\n", "all of them leads in this file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "leads.csv")
			require.NoError(t, os.WriteFile(path, []byte("id,email\n"+tc.rows), 0o600))
			var stdout, stderr bytes.Buffer

			code := command().Main(t.Context(), t.Context(), []string{"-file", path},
				func(string) string { return "" }, &stdout, &stderr)

			require.Equal(t, 0, code, stderr.String())
			assert.Contains(t, stdout.String(),
				"HubSpot: a built-in fake holding 4 contacts, "+tc.want+"\n")
		})
	}
}

func TestLeadToContact(t *testing.T) {
	t.Parallel()
	got, err := leadToContact(keysync.Item{"id": "5", "email": " Kenji@Proseware.example ",
		"first_name": "Kenji", "last_name": "", "company": "Proseware", "phone": ""})
	require.NoError(t, err)
	assert.Equal(t, keysync.Item{"properties": map[string]any{
		"email": "kenji@proseware.example", "firstname": "Kenji", "company": "Proseware",
	}}, got)
	assert.Equal(t, []string{"company", "email", "first_name", "last_name", "phone"},
		slices.Sorted(maps.Keys(leadColumns())))
}

func TestRun_MissingFile(t *testing.T) {
	t.Parallel()
	_, env := hubspotFake(t)
	err := run(t.Context(), flags{file: filepath.Join(t.TempDir(), "nope.csv")}, env,
		io.Discard, io.Discard)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestCommand_Main_NamesItselfOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "leads.csv")
	require.NoError(t, os.WriteFile(path, []byte("email\na@example.com\n"), 0o600))
	var stdout, stderr bytes.Buffer

	code := command().Main(t.Context(), t.Context(), []string{"-file", path},
		func(string) string { return "" }, &stdout, &stderr)

	assert.Equal(t, 1, code)
	assert.Equal(t, fmt.Sprintf("csv: the header has no id column %q in %s\n", "id", path),
		stderr.String())
}
