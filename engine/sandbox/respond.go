package sandbox

import (
	"encoding/json"
	"net/http"
)

// apiError is the Management API's error body.
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

// oauthError is the Authentication API's error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client hung up; nothing left to tell it
}

func writeAPIError(w http.ResponseWriter, status int, message, errorCode string) {
	writeJSON(w, status, apiError{StatusCode: status, Error: http.StatusText(status), Message: message, ErrorCode: errorCode})
}

// badRequest reports a request that failed validation, in the words Auth0
// uses: "Payload validation error: '<what>' on property <where>".
func badRequest(w http.ResponseWriter, what, property string) {
	msg := "Payload validation error: '" + what + "'"
	if property != "" {
		msg += " on property " + property
	}
	writeAPIError(w, http.StatusBadRequest, msg, "invalid_body")
}

func badQuery(w http.ResponseWriter, what, property string) {
	msg := "Query validation error: '" + what + "'"
	if property != "" {
		msg += " on property " + property
	}
	writeAPIError(w, http.StatusBadRequest, msg, "invalid_query_string")
}

func internalError(w http.ResponseWriter) {
	writeAPIError(w, http.StatusInternalServerError, "Internal Server Error", "")
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, oauthError{Error: code, Description: description})
}
