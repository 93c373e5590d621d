// Package sandboxtest starts sandbox tenants for tests: a real HTTP server
// on loopback, closed when the test ends, plus a clock the test drives so
// that job progress, token expiry and rate limits need no sleeping.
//
//	clock := sandboxtest.NewClock()
//	baseURL, srv := sandboxtest.Start(t, sandbox.Config{Now: clock.Now})
//	token := sandboxtest.Token(t, baseURL, srv)
//	srv.Faults().FailImportsAfterCreate(1)
package sandboxtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/engine/sandbox"
)

// Start runs a tenant for cfg behind an httptest server and returns its
// base URL (http://127.0.0.1:PORT) and the tenant, for introspection and
// fault injection. Both are closed when the test ends.
func Start(t testing.TB, cfg sandbox.Config) (string, *sandbox.Server) {
	t.Helper()
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	// Cleanups run last-registered first: the tenant releases hung
	// requests before the HTTP server waits for them to end.
	t.Cleanup(ts.Close)
	t.Cleanup(func() { srv.Close() })
	return ts.URL, srv
}

// Token fetches a Management API token from the tenant with the client
// credentials grant, for the given scopes (all granted ones when none).
func Token(t testing.TB, baseURL string, srv *sandbox.Server, scopes ...string) string {
	t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {srv.ClientID()},
		"client_secret": {srv.ClientSecret()},
		"audience":      {baseURL + "/api/v2/"},
	}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	resp, err := http.PostForm(baseURL+"/oauth/token", form)
	if err != nil {
		t.Fatalf("get sandbox token: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("get sandbox token: status %d, decode error %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// Clock is a settable clock for Config.Now. It starts at a fixed instant
// so that tests are reproducible.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to 2026-03-01 09:00:00 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
