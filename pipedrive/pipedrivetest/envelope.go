package pipedrivetest

import (
	"encoding/json"
	"net/http"
)

// errorInfo is the error_info text of Pipedrive's error envelopes.
const errorInfo = "Please check developers.pipedrive.com for more information about Pipedrive API."

// unauthorizedBody is Pipedrive's 401 body, byte for byte as observed.
const unauthorizedBody = `{"success":false,"error":"unauthorized access","errorCode":401,` +
	`"error_info":"Please check developers.pipedrive.com"}`

// apiError is an error answered with Pipedrive's JSON error envelope.
type apiError struct {
	status int
	msg    string
	code   string // optional machine code, such as ERR_SCHEMA_VALIDATION_FAILED
}

type errorEnvelope struct {
	Success        bool   `json:"success"`
	Error          string `json:"error"`
	ErrorInfo      string `json:"error_info"`
	Data           any    `json:"data"`
	AdditionalData any    `json:"additional_data"`
	ErrorCode      int    `json:"errorCode"`
	Code           string `json:"code,omitempty"`
}

type envelope struct {
	Success        bool `json:"success"`
	Data           any  `json:"data"`
	AdditionalData any  `json:"additional_data"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, status int, data, additional any) {
	writeJSON(w, status, envelope{Success: true, Data: data, AdditionalData: additional})
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, errorEnvelope{
		Error: e.msg, ErrorInfo: errorInfo, ErrorCode: e.status, Code: e.code,
	})
}

func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(unauthorizedBody))
}

// errorText is the error message the fake uses for an injected status.
func errorText(status int) string {
	switch status {
	case 400:
		return "Bad request"
	case 402:
		return "Company account is not open " +
			"(possible reason: trial expired, payment details not entered)"
	case 403:
		return "You do not have permissions to perform this action"
	case 404:
		return "Not found"
	case 429:
		return "Request over limit"
	case 500:
		return "Internal server error"
	case 503:
		return "Service is temporarily unavailable"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

const badGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n" +
	"</body>\r\n</html>\r\n"

const blockedHTML = `<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1>
<h2>You are unable to access api.pipedrive.com</h2></div></body></html>
`

func writeHTML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
