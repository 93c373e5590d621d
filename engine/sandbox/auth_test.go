package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
)

func TestClientCredentialsGrant(t *testing.T) {
	base, srv := sandboxtest.Start(t, sandbox.Config{ClientSecret: "s3cret", Scopes: []string{"read:users", "create:users"}})
	good := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ClientID()},
			"client_secret": {"s3cret"}, "audience": {base + "/api/v2/"}}
	}
	with := func(k, v string) url.Values {
		f := good()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		json       bool
		wantStatus int
		wantError  string
		wantScope  string
	}{
		{"form body", good(), false, 200, "", "read:users create:users"},
		{"json body", good(), true, 200, "", "read:users create:users"},
		{"subset of scopes", with("scope", "read:users"), false, 200, "", "read:users"},
		{"scope not granted", with("scope", "read:users delete:users"), false, 403, "access_denied", ""},
		{"wrong secret", with("client_secret", "nope"), false, 401, "access_denied", ""},
		{"unknown client", with("client_id", "someone-else"), false, 401, "access_denied", ""},
		{"no audience", with("audience", ""), false, 403, "access_denied", ""},
		{"audience of another API", with("audience", base+"/userinfo"), false, 403, "access_denied", ""},
		{"audience without trailing slash", with("audience", base+"/api/v2"), false, 403, "access_denied", ""},
		{"unknown grant", with("grant_type", "implicit"), false, 403, "unsupported_grant_type", ""},
		{"no grant", with("grant_type", ""), false, 400, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if tt.json {
				body := map[string]string{}
				for k := range tt.form {
					body[k] = tt.form.Get(k)
				}
				b, _ := json.Marshal(body)
				resp, err = http.Post(base+"/oauth/token", "application/json", strings.NewReader(string(b)))
			} else {
				resp, err = http.PostForm(base+"/oauth/token", tt.form)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.wantStatus || body.Error != tt.wantError {
				t.Fatalf("status %d error %q (%s), want %d %q", resp.StatusCode, body.Error, body.Description, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus != 200 {
				if body.Description == "" {
					t.Error("error without error_description")
				}
				return
			}
			if body.TokenType != "Bearer" || body.ExpiresIn != 86400 || body.Scope != tt.wantScope || body.AccessToken == "" {
				t.Errorf("token response = %+v", body)
			}
		})
	}
}

func TestClientCredentialsWithBasicAuth(t *testing.T) {
	base, srv := sandboxtest.Start(t, sandbox.Config{})
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {base + "/api/v2/"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(srv.ClientID(), srv.ClientSecret())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if !srv.SecretGenerated() || len(srv.ClientSecret()) < 32 {
		t.Errorf("generated secret = %d chars (generated=%v), want a long random one", len(srv.ClientSecret()), srv.SecretGenerated())
	}
}

func TestBearerTokenAndScopes(t *testing.T) {
	tn := newTenant(t, sandbox.Config{TokenLifetime: time.Hour})
	readOnly := sandboxtest.Token(t, tn.base, tn.srv, "read:users")

	tests := []struct {
		name        string
		token       string
		method      string
		path        string
		wantStatus  int
		wantMessage string
		wantCode    string
	}{
		{"no token", "", "GET", "/api/v2/users", 401, "Missing authentication", ""},
		{"not a token", "garbage", "GET", "/api/v2/users", 401, "Invalid token", ""},
		{"tampered token", tn.token[:len(tn.token)-2] + "xx", "GET", "/api/v2/users", 401, "Invalid token", ""},
		{"scope allows", readOnly, "GET", "/api/v2/users", 200, "", ""},
		{"scope missing", readOnly, "DELETE", "/api/v2/users/auth0%7Cx", 403, "Insufficient scope, expected any of: delete:users", "insufficient_scope"},
		{"any of two scopes", readOnly, "GET", "/api/v2/jobs/job_none", 404, "The job does not exist.", "inexistent_job"},
		{"connections need their scope", readOnly, "GET", "/api/v2/connections/" + tn.srv.ConnectionID(), 403, "Insufficient scope, expected any of: read:connections", "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn.token = tt.token
			r := tn.do(tt.method, tt.path, "", nil)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantMessage == "" {
				return
			}
			_, msg, code := r.apiError(t)
			if msg != tt.wantMessage || code != tt.wantCode {
				t.Errorf("error = %q/%q, want %q/%q", msg, code, tt.wantMessage, tt.wantCode)
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	tn := newTenant(t, sandbox.Config{TokenLifetime: time.Hour})
	expectStatus := func(want int, wantMessage string) {
		t.Helper()
		r := tn.get("/api/v2/users")
		if r.status != want {
			t.Fatalf("status = %d %s, want %d", r.status, r.body, want)
		}
		if wantMessage != "" {
			if _, msg, _ := r.apiError(t); msg != wantMessage {
				t.Errorf("message = %q, want %q", msg, wantMessage)
			}
		}
	}
	expectStatus(200, "")
	tn.clock.Advance(time.Hour)
	expectStatus(401, "Expired token received for JSON Web Token validation")

	tn.srv.Faults().SetTokenLifetime(10 * time.Second)
	tn.token = sandboxtest.Token(t, tn.base, tn.srv)
	expectStatus(200, "")
	tn.clock.Advance(10 * time.Second)
	expectStatus(401, "Expired token received for JSON Web Token validation")

	tn.srv.Faults().SetTokenLifetime(time.Hour)
	tn.token = sandboxtest.Token(t, tn.base, tn.srv)
	if err := tn.srv.ExpireTokens(); err != nil {
		t.Fatal(err)
	}
	expectStatus(401, "Expired token received for JSON Web Token validation")
	tn.token = sandboxtest.Token(t, tn.base, tn.srv)
	expectStatus(200, "")
}

func TestUnknownAPIPathIsJSON404(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	r := tn.get("/api/v2/no-such-thing")
	if r.status != http.StatusNotFound || !strings.Contains(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", r.status, r.header.Get("Content-Type"))
	}
}
