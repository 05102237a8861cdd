package hubspot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// plausibleEmail reports whether HubSpot could accept email as a contact's
// address. It rejects only addresses that are certainly invalid: no "@" or
// more than one, an empty or over-long part, whitespace or one of the
// characters ,;<>()[]\" (special in addresses and never accepted
// unquoted), dots at the ends of the local part or doubled, a domain
// without a dot, with an empty label or a label that starts or ends with
// a hyphen, or a one-letter top-level label. So it never refuses what
// HubSpot would store; the batch methods still isolate any input that
// HubSpot rejects on its own terms.
func plausibleEmail(email string) bool {
	if email == "" || len(email) > 254 || !utf8.ValidString(email) {
		return false
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if strings.ContainsAny(email, ",;<>()[]\\\"") || strings.Contains(email, "..") ||
		strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		return false
	}
	for _, r := range email {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	return utf8.RuneCountInString(labels[len(labels)-1]) >= 2
}
