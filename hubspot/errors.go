package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/keysync/sync"
)

// Rate-limit policies that HubSpot names in the policyName field of a 429
// response.
const (
	// PolicyDaily is the per-account daily request budget. It resets at
	// midnight in the account's time zone; retrying sooner cannot help.
	PolicyDaily = "DAILY"
	// PolicyTenSecondly is the per-app burst limit over a rolling 10-second
	// window.
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	// PolicySecondly is the legacy per-second limit, still named by some
	// responses (search among them).
	PolicySecondly = "SECONDLY"
)

// ErrSearchCeiling is returned by [Client.Search] when a search matches more
// results than HubSpot lets one search page through (10,000). Narrow the
// filters (for example by modification date, as [Contacts] does for
// incremental reads) and search again.
var ErrSearchCeiling = errors.New("hubspot: search reached the 10,000-result ceiling")

// RateLimitError is the error for a 429 response that the client did not
// retry: a DAILY limit, or a burst limit whose wait exceeds the client's
// maximum retry wait (see [WithMaxRetryWait]) or outlasted its retries. It
// matches [sync.ErrRateLimited] with [errors.Is] and unwraps to the
// [*APIError] of the response.
type RateLimitError struct {
	// Policy is the policyName HubSpot gave, such as [PolicyDaily] or
	// [PolicyTenSecondly]; "" when the response named none.
	Policy string
	// RetryAfter is how long HubSpot asked the client to wait, or zero.
	RetryAfter time.Duration
	// Err is the response's error.
	Err *APIError
}

// Error returns a one-line description naming the policy.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("hubspot: rate limited")
	if e.Policy != "" {
		b.WriteString(" (" + e.Policy + " policy)")
	}
	if e.Policy == PolicyDaily {
		b.WriteString("; the daily budget resets at midnight in the account's time zone")
	} else if e.RetryAfter > 0 {
		b.WriteString("; asked to wait " + e.RetryAfter.String())
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the response's error.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Is reports whether target is [sync.ErrRateLimited].
func (e *RateLimitError) Is(target error) bool { return target == sync.ErrRateLimited }

// Daily reports whether the error is for the daily budget.
func (e *RateLimitError) Daily() bool { return e.Policy == PolicyDaily }

// ItemError is the failure of one input of a batch call: an entry of the
// "errors" array of a multi-status (207) response, or the error of a whole
// batch that was narrowed down to one input. It matches [sync.ErrInvalid],
// [sync.ErrConflict] or [sync.ErrNotFound] with [errors.Is], according to
// its category.
type ItemError struct {
	// Category is HubSpot's error category, such as "VALIDATION_ERROR",
	// "CONFLICT" or "OBJECT_NOT_FOUND".
	Category string
	// Message is HubSpot's description. It may quote the record's data
	// (an invalid email address, say) but never credentials.
	Message string
	// ExistingID is the id of the contact that already holds the email,
	// parsed from a conflict message ("Contact already exists. Existing ID:
	// 5101"); "" otherwise.
	ExistingID string
	// StatusCode is the HTTP status when the whole request failed for this
	// input alone; 0 for an entry of a multi-status response.
	StatusCode int
}

// Error returns "hubspot: CATEGORY: message".
func (e *ItemError) Error() string {
	cat := e.Category
	if cat == "" {
		cat = "ERROR"
	}
	return "hubspot: " + cat + ": " + e.Message
}

// Is maps the category onto the sync sentinels.
func (e *ItemError) Is(target error) bool {
	return target != nil && categorySentinel(e.Category, e.StatusCode) == target
}

// categorySentinel returns the sync sentinel for a HubSpot error category
// or, when the category is unknown, for an HTTP status.
func categorySentinel(category string, status int) error {
	switch category {
	case "VALIDATION_ERROR", "INVALID_EMAIL", "PROPERTY_DOESNT_EXIST", "INVALID_PARAMS":
		return sync.ErrInvalid
	case "CONFLICT", "OBJECT_ALREADY_EXISTS":
		return sync.ErrConflict
	case "OBJECT_NOT_FOUND":
		return sync.ErrNotFound
	case "INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION":
		return sync.ErrUnauthorized
	case "MISSING_SCOPES":
		return sync.ErrForbidden
	case "RATE_LIMIT", "RATE_LIMITS":
		return sync.ErrRateLimited
	}
	switch status {
	case 400, 422:
		return sync.ErrInvalid
	case 401:
		return sync.ErrUnauthorized
	case 403:
		return sync.ErrForbidden
	case 404:
		return sync.ErrNotFound
	case 409:
		return sync.ErrConflict
	case 429:
		return sync.ErrRateLimited
	}
	return nil
}

// existingIDPattern finds the id in HubSpot's conflict message.
var existingIDPattern = regexp.MustCompile(`Existing ID: ?(\d+)`)

// ExistingID returns the id of the contact that already holds an email,
// parsed from a HubSpot conflict message such as "Contact already exists.
// Existing ID: 5101".
func ExistingID(message string) (string, bool) {
	m := existingIDPattern.FindStringSubmatch(message)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// envelope is HubSpot's error body. Every field is optional.
type envelope struct {
	Status        string          `json:"status"`
	Message       string          `json:"message"`
	Category      string          `json:"category"`
	SubCategory   string          `json:"subCategory"`
	CorrelationID string          `json:"correlationId"`
	PolicyName    string          `json:"policyName"`
	ErrorType     string          `json:"errorType"`
	Context       envelopeContext `json:"context"`
	Errors        []errorDetail   `json:"errors"`
}

type envelopeContext struct {
	IDs                stringList `json:"ids"`
	ObjectWriteTraceID stringList `json:"objectWriteTraceId"`
	PropertyName       stringList `json:"propertyName"`
}

// stringList decodes a JSON array of strings, or a single string, as
// HubSpot's error contexts use both.
type stringList []string

// UnmarshalJSON accepts a string, an array of strings or null; anything
// else decodes as an empty list rather than failing the whole body.
func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if json.Unmarshal(b, &many) == nil {
		*l = many
		return nil
	}
	*l = nil
	return nil
}

type errorDetail struct {
	Message string          `json:"message"`
	In      string          `json:"in"`
	Code    string          `json:"code"`
	Context envelopeContext `json:"context"`
}

// parseEnvelope decodes an error body; a body that is not HubSpot's JSON
// (an HTML page from the edge, say) gives a zero envelope.
func parseEnvelope(body []byte) envelope {
	var e envelope
	if json.Unmarshal(body, &e) != nil {
		return envelope{}
	}
	return e
}

// invalidEmailPattern finds the address in HubSpot's validation message
// `Email address dana@ is invalid`.
var invalidEmailPattern = regexp.MustCompile(`Email address (\S+) is invalid`)

// invalidEmails returns the addresses that an error message calls invalid,
// lower-cased.
func invalidEmails(message string) []string {
	var out []string
	for _, m := range invalidEmailPattern.FindAllStringSubmatch(message, -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	return out
}

// invalidf returns an error matching [sync.ErrInvalid] for a record the
// client refuses before sending.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("hubspot: %s: %w", fmt.Sprintf(format, args...), sync.ErrInvalid)
}
