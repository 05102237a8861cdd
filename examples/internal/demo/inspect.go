package demo

import (
	"net/http"
	"slices"
	"strings"

	"github.com/keysync/sync/hubspot/hubspottest"
	"github.com/keysync/sync/pipedrive/pipedrivetest"
)

// HubSpotWrites returns how many requests the fake received on endpoints
// that write (creates, updates, upserts, archives), whatever their outcome.
// Searches and batch reads, though POSTs, do not count.
func HubSpotWrites(hf *hubspottest.Server) int {
	n := 0
	for _, r := range hf.Requests() {
		if r.Method == http.MethodGet || strings.HasSuffix(r.Path, "/search") ||
			strings.HasSuffix(r.Path, "/batch/read") {
			continue
		}
		n++
	}
	return n
}

// PipedriveWrites returns how many requests the fake received on endpoints
// that write, whatever their outcome.
func PipedriveWrites(pf *pipedrivetest.Server) int {
	n := 0
	for _, r := range pf.Requests() {
		if r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// HubSpotEmails returns the emails of the fake's live contacts, sorted.
func HubSpotEmails(hf *hubspottest.Server) []string {
	var out []string
	for _, c := range hf.Contacts() {
		if e := c.Properties["email"]; e != "" && !c.Archived {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// PipedriveEmails returns the emails of the fake's live persons, as
// stored, sorted.
func PipedriveEmails(pf *pipedrivetest.Server) []string {
	var out []string
	for _, p := range pf.Persons() {
		if deleted, _ := p["is_deleted"].(bool); deleted {
			continue
		}
		out = append(out, values(p["emails"])...)
	}
	slices.Sort(out)
	return out
}
