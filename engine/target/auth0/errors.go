package auth0

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Kinds of failure a caller can act on; match them with errors.Is. Every
// error the Client returns for an HTTP answer is an *APIError whose text
// also says what to do.
var (
	// ErrBadCredentials: the tenant refused the client id or secret.
	ErrBadCredentials = errors.New("auth0 refused the client credentials")
	// ErrClientNotAuthorized: the credentials are valid but the
	// application may not call the Management API.
	ErrClientNotAuthorized = errors.New("application not authorized for the Management API")
	// ErrInsufficientScope: the token lacks a scope; APIError.Scopes
	// names the ones the endpoint accepts.
	ErrInsufficientScope = errors.New("missing Management API scope")
	// ErrUnknownConnection: the connection id is wrong or not a database
	// connection of this tenant.
	ErrUnknownConnection = errors.New("unknown connection")
	// ErrFileTooLarge: the import file is over the tenant's limit.
	ErrFileTooLarge = errors.New("import file too large")
	// ErrNotFound: the job or user does not exist (jobs are deleted 24 h
	// after they were created).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the tenant kept answering 429 until retries ran out.
	ErrRateLimited = errors.New("rate limited")
	// ErrAmbiguousSubmit: an import request was sent but no clear answer
	// came back, so the job may or may not exist. Never resubmit blindly:
	// resubmit with upsert, or look the chunk's users up first.
	ErrAmbiguousSubmit = errors.New("import submission outcome unknown")
)

// APIError is a refused request.
type APIError struct {
	Op         string // what the client was doing, e.g. "get job job_abc"
	Method     string
	Path       string // without the query, which may hold an email
	StatusCode int
	Code       string   // Auth0's errorCode, or the OAuth error for /oauth/token
	Message    string   // Auth0's message, shortened
	Scopes     []string // for ErrInsufficientScope: the scopes that would do
	Hint       string   // what to do about it
	kind       error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: %d %s", e.Op, e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, ". %s", e.Hint)
	}
	return b.String()
}

// Unwrap gives the error's kind (ErrInsufficientScope, …), if it has one.
func (e *APIError) Unwrap() error { return e.kind }

// AmbiguousSubmitError says which file's submission has an unknown
// outcome and why.
type AmbiguousSubmitError struct {
	File  string
	Cause error
}

func (e *AmbiguousSubmitError) Error() string {
	return fmt.Sprintf("submit %s: the request reached the tenant but no answer came back (%v); the import job may exist. Do not resubmit as is: resubmit with upsert, or confirm the file's users by email first",
		e.File, e.Cause)
}

// Unwrap matches both ErrAmbiguousSubmit and the cause.
func (e *AmbiguousSubmitError) Unwrap() []error { return []error{ErrAmbiguousSubmit, e.Cause} }

const dashboardAPIs = "Auth0 Dashboard > Applications > APIs > Auth0 Management API > Machine To Machine Applications"

// errorBody covers both shapes Auth0 answers with: the Management API's
// {statusCode, error, message, errorCode} and OAuth's {error,
// error_description}.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
	ErrorCode        string `json:"errorCode"`
}

// requestKind says what a request addresses, which decides how a 4xx is
// read: a 404 on a connection means "check --connection", on a job "it
// is gone".
type requestKind int

const (
	kindAPI requestKind = iota
	kindToken
	kindConnection // the URL is a connection's: /api/v2/connections/{id}
	kindNamesConn  // the body names a connection (an export)
	kindSubmit     // the import POST; its form names the connection
)

func newAPIError(op string, req *http.Request, status int, body []byte, kind requestKind) *APIError {
	e := &APIError{Op: op, Method: req.Method, Path: req.URL.Path, StatusCode: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = eb.ErrorCode
		e.Message = eb.Message
		if kind == kindToken || e.Code == "" {
			e.Code = firstNonEmpty(e.Code, eb.Error)
		}
		e.Message = firstNonEmpty(e.Message, eb.ErrorDescription)
	} else if len(body) > 0 && !strings.HasPrefix(strings.TrimSpace(string(body)), "<") {
		e.Message = string(body)
	}
	e.Message = shorten(e.Message, 300)

	switch {
	case kind == kindToken && status == http.StatusUnauthorized:
		e.kind = ErrBadCredentials
		e.Hint = "Check " + EnvClientID + " and " + EnvClientSecret + " (or the credentials file): they must be the Client ID and Client Secret of a Machine to Machine application of this tenant"
	case kind == kindToken && status == http.StatusForbidden:
		e.kind = ErrClientNotAuthorized
		e.Hint = "Authorize the application for the Management API (" + dashboardAPIs + ") and make sure its Grant Types include Client Credentials"
	case status == http.StatusUnauthorized:
		e.kind = ErrBadCredentials
		e.Hint = "The tenant refused a fresh access token; give the tenant's own domain (TENANT.REGION.auth0.com), not a custom domain"
	case status == http.StatusForbidden && (e.Code == "insufficient_scope" || strings.Contains(strings.ToLower(e.Message), "insufficient scope")):
		e.kind = ErrInsufficientScope
		e.Scopes = parseScopes(e.Message)
		scope := "the missing scope"
		if len(e.Scopes) > 0 {
			scope = strings.Join(e.Scopes, " or ")
		}
		e.Hint = "Grant " + scope + " to the application: " + dashboardAPIs + " > (your application) > Permissions, then run again"
	case status == http.StatusRequestEntityTooLarge:
		e.kind = ErrFileTooLarge
		e.Hint = "Use smaller import files (the documented limit is 500 KB)"
	case isConnectionProblem(kind, status, e):
		e.kind = ErrUnknownConnection
		e.Hint = "Check --connection: it must be the id (con_…) of a database connection of this tenant (Auth0 Dashboard > Authentication > Database)"
	case status == http.StatusNotFound:
		e.kind = ErrNotFound
	case status == http.StatusTooManyRequests:
		e.kind = ErrRateLimited
		e.Hint = "The tenant kept refusing requests for exceeding its rate limit or concurrent job limit; wait and run again (the run resumes where it stopped)"
	}
	return e
}

// isConnectionProblem reads a 404 on a connection's own URL, or a 400 or
// 404 that blames the connection, as a wrong connection id. Auth0 does not
// document its exact answer for an unknown connection_id on the import
// endpoint; the sandbox answers 400 inexistent_connection.
func isConnectionProblem(kind requestKind, status int, e *APIError) bool {
	if kind != kindConnection && kind != kindNamesConn && kind != kindSubmit {
		return false
	}
	if kind == kindConnection && status == http.StatusNotFound {
		return true
	}
	msg := strings.ToLower(e.Message + " " + e.Code)
	blamed := strings.Contains(msg, "connection") || strings.Contains(msg, "con_")
	return blamed && (status == http.StatusBadRequest || status == http.StatusNotFound)
}

// parseScopes reads "Insufficient scope, expected any of: create:users,
// update:users" into its scopes.
func parseScopes(msg string) []string {
	_, list, ok := strings.Cut(msg, ":")
	if !ok {
		return nil
	}
	var scopes []string
	for s := range strings.SplitSeq(list, ",") {
		if s = strings.TrimSpace(s); strings.Contains(s, ":") {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
