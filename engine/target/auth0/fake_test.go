package auth0

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID = "client-abc"
	testSecret   = "s3cr3t-value-never-printed"
	testConn     = "con_AAAAAAAAAAAAAAAA"
)

// fakeTenant mimics the parts of Auth0 the client uses, with the answers
// Auth0 documents (docs/auth0.md §2, §3, §7). Faults queue canned answers per
// "METHOD path" that are served before the normal handler.
type fakeTenant struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	tokenIssued int
	validToken  string
	expiresIn   int
	calls       map[string]int     // "METHOD path" -> count
	faults      map[string][]fault // served first, in order
	handlers    map[string]http.HandlerFunc
	lastForm    map[string]string   // import form fields
	lastFile    []byte              // import users part
	lastFileHdr map[string][]string // users part headers
	rateHeaders func(http.Header)   // adds x-ratelimit-* to every answer
}

type fault struct {
	status int
	header map[string]string
	body   string
	hangUp bool // read the request, then close the connection unanswered
}

func newFakeTenant(t *testing.T) *fakeTenant {
	f := &fakeTenant{t: t, expiresIn: 86400, calls: map[string]int{}, faults: map[string][]fault{}, handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTenant) client(t *testing.T, mod ...func(*Config)) *Client {
	t.Helper()
	ep, err := ParseTargetSpec("auth0:" + f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Endpoint:     ep,
		Credentials:  Credentials{ClientID: testClientID, ClientSecret: testSecret},
		ConnectionID: testConn,
		Retry: RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			MinRateLimitWait: time.Millisecond, MaxRateLimitWait: 50 * time.Millisecond,
			PollInitial: time.Millisecond, PollMax: 5 * time.Millisecond},
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeTenant) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[route] = h
}

func (f *fakeTenant) fail(route string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[route] = append(f.faults[route], faults...)
}

func (f *fakeTenant) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[route]
}

func (f *fakeTenant) revokeToken() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.validToken = "revoked"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeTenant) serve(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.calls[route]++
	var ft *fault
	if q := f.faults[route]; len(q) > 0 {
		ft, f.faults[route] = &q[0], q[1:]
	}
	h := f.handlers[route]
	valid := f.validToken
	rh := f.rateHeaders
	f.mu.Unlock()
	if rh != nil {
		rh(w.Header())
	}

	if ft != nil {
		io.Copy(io.Discard, r.Body)
		if ft.hangUp {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				f.t.Error(err)
				return
			}
			conn.Close()
			return
		}
		for k, v := range ft.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ft.status)
		io.WriteString(w, ft.body)
		return
	}

	if r.URL.Path == "/oauth/token" {
		f.token(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+valid {
		writeJSON(w, 401, map[string]any{"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	if route == "POST /api/v2/jobs/users-imports" {
		f.importJob(w, r)
		return
	}
	writeJSON(w, 404, map[string]any{"statusCode": 404, "error": "Not Found", "message": "Not found"})
}

func (f *fakeTenant) token(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("token request content type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Error(err)
	}
	want := map[string]string{"grant_type": "client_credentials", "audience": f.srv.URL + "/api/v2/"}
	for k, v := range want {
		if got := r.PostForm.Get(k); got != v {
			f.t.Errorf("token request %s = %q, want %q", k, got, v)
		}
	}
	if r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testSecret {
		writeJSON(w, 401, map[string]string{"error": "access_denied", "error_description": "Unauthorized"})
		return
	}
	f.mu.Lock()
	f.tokenIssued++
	f.validToken = fmt.Sprintf("token-%d", f.tokenIssued)
	tok, exp := f.validToken, f.expiresIn
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": tok, "expires_in": exp, "scope": "create:users read:users", "token_type": "Bearer"})
}

func (f *fakeTenant) importJob(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		f.t.Errorf("import content type %q", r.Header.Get("Content-Type"))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		f.t.Error(err)
		return
	}
	form := map[string]string{}
	var file []byte
	var fileHdr map[string][]string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.t.Error(err)
			return
		}
		b, _ := io.ReadAll(p)
		if p.FormName() == "users" {
			file, fileHdr = b, p.Header
			continue
		}
		form[p.FormName()] = string(b)
	}
	f.mu.Lock()
	f.lastForm, f.lastFile, f.lastFileHdr = form, file, fileHdr
	f.mu.Unlock()
	writeJSON(w, 201, map[string]any{"status": "pending", "type": "users_import", "created_at": "2026-03-01T10:00:00.000Z",
		"id": "job_0123456789abcdef", "connection_id": form["connection_id"], "external_id": form["external_id"]})
}
