package hubspottest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error categories used in HubSpot error envelopes.
const (
	catValidation   = "VALIDATION_ERROR"
	catInvalidAuth  = "INVALID_AUTHENTICATION"
	catExpiredAuth  = "EXPIRED_AUTHENTICATION"
	catMissingScope = "MISSING_SCOPES"
	catNotFound     = "OBJECT_NOT_FOUND"
	catConflict     = "CONFLICT"
)

// authMessage is the text HubSpot sends with a 401 for a missing or unknown
// token.
const authMessage = "Authentication credentials not found. This API supports OAuth 2.0 " +
	"authentication and you can find more details at " +
	"https://developers.hubspot.com/docs/methods/auth/oauth-overview"

// apiError is an error response before it is written: the status and the
// fields of HubSpot's error envelope.
type apiError struct {
	status      int
	category    string
	subCategory string
	message     string
	details     []errorDetail
	context     map[string][]string
	links       map[string]string
}

func (e *apiError) Error() string { return e.message }

// errorBody is HubSpot's error envelope.
type errorBody struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category,omitempty"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

// errorDetail is one entry of an envelope's errors array.
type errorDetail struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	In      string              `json:"in,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

// batchError is one entry of a batch response's errors array.
type batchError struct {
	Status      string              `json:"status"`
	Category    string              `json:"category"`
	SubCategory string              `json:"subCategory,omitempty"`
	Message     string              `json:"message"`
	Context     map[string][]string `json:"context"`
	Errors      []errorDetail       `json:"errors"`
}

// rateLimitBody is the body of a 429 response.
type rateLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	RequestID     string `json:"requestId"`
}

func newError(status int, category, format string, args ...any) *apiError {
	return &apiError{status: status, category: category, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, catValidation, format, args...)
}

func notFound(id string) *apiError {
	msg := "resource not found"
	if !isNumeric(id) {
		msg = "Object not found.  objectId are usually numeric."
	}
	e := newError(http.StatusNotFound, catNotFound, "%s", msg)
	e.context = map[string][]string{"id": {id}}
	return e
}

func conflict(existingID string) *apiError {
	return newError(http.StatusConflict, catConflict, "Contact already exists. Existing ID: %s",
		existingID)
}

func unauthorized() *apiError {
	return newError(http.StatusUnauthorized, catInvalidAuth, "%s", authMessage)
}

// body returns the envelope for e with a fresh correlation id.
func (e *apiError) body() errorBody {
	return errorBody{
		Status:        "error",
		Message:       e.message,
		CorrelationID: newUUID(),
		Category:      e.category,
		SubCategory:   e.subCategory,
		Errors:        e.details,
		Context:       e.context,
		Links:         e.links,
	}
}

// batchEntry turns e into a batch response error entry with the given
// context.
func (e *apiError) batchEntry(context map[string][]string) batchError {
	if context == nil {
		context = map[string][]string{}
	}
	for k, v := range e.context {
		if _, ok := context[k]; !ok {
			context[k] = v
		}
	}
	details := e.details
	if details == nil {
		details = []errorDetail{}
	}
	return batchError{
		Status:      "error",
		Category:    e.category,
		SubCategory: e.subCategory,
		Message:     e.message,
		Context:     context,
		Errors:      details,
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body())
}

// writeJSON writes v as JSON the way HubSpot does: no HTML escaping, UTF-8
// content type. A nil v writes no body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "hubspottest: encoding response: "+err.Error(),
			http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// marshalNoEscape is json.Marshal without HTML escaping and without the
// trailing newline.
func marshalNoEscape(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
