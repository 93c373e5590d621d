package sandbox_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"provision/engine/importuser"
	"provision/engine/sandbox"
)

// sha256Custom is Auth0's custom_password_hash for sha256(salt+password).
func sha256Custom(salt, password string) *importuser.CustomPasswordHash {
	sum := sha256.Sum256([]byte(salt + password))
	return &importuser.CustomPasswordHash{
		Algorithm: "sha256",
		Hash:      importuser.HashValue{Value: hex.EncodeToString(sum[:]), Encoding: "hex"},
		Salt:      &importuser.Salt{Value: salt, Position: "prefix"},
	}
}

type oauthReply struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func TestPasswordRealmLogin(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	yes := true
	_, errs, err := tn.srv.Import(false,
		importuser.User{Email: "bcrypt@example.com", Username: "bee", PasswordHash: bcryptOf(t, "hunter2")},
		importuser.User{Email: "custom@example.com", CustomPasswordHash: sha256Custom("NaCl", "s3same")},
		importuser.User{Email: "blocked@example.com", Blocked: &yes, PasswordHash: bcryptOf(t, "hunter2")},
		importuser.User{Email: "nopassword@example.com"},
	)
	if err != nil || errs != nil {
		t.Fatalf("seed: %v %+v", err, errs)
	}
	tests := []struct {
		name, username, password string
		wantStatus               int
		wantError, wantDesc      string
	}{
		{"bcrypt password_hash", "bcrypt@example.com", "hunter2", 200, "", ""},
		{"email in another case", "BCrypt@Example.com", "hunter2", 200, "", ""},
		{"by username", "bee", "hunter2", 200, "", ""},
		{"custom_password_hash", "custom@example.com", "s3same", 200, "", ""},
		{"wrong password", "bcrypt@example.com", "hunter3", 403, "invalid_grant", "Wrong email or password."},
		{"wrong custom password", "custom@example.com", "s3same!", 403, "invalid_grant", "Wrong email or password."},
		{"unknown user", "nobody@example.com", "hunter2", 403, "invalid_grant", "Wrong email or password."},
		{"user without password", "nopassword@example.com", "", 400, "invalid_request", "Missing required parameter: password"},
		{"user without a hash", "nopassword@example.com", "anything", 403, "invalid_grant", "Wrong email or password."},
		{"blocked user", "blocked@example.com", "hunter2", 401, "unauthorized", "user is blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tn.login(tt.username, tt.password)
			var reply oauthReply
			r.json(t, &reply)
			if r.status != tt.wantStatus || reply.Error != tt.wantError || (tt.wantDesc != "" && reply.Description != tt.wantDesc) {
				t.Fatalf("login = %d %+v, want %d %s %q", r.status, reply, tt.wantStatus, tt.wantError, tt.wantDesc)
			}
			if tt.wantStatus != 200 {
				return
			}
			if reply.AccessToken == "" || reply.TokenType != "Bearer" || reply.IDToken == "" {
				t.Errorf("tokens = %+v", reply)
			}
			want := strings.ToLower(tt.username)
			if want == "bee" {
				want = "bcrypt@example.com"
			}
			if claims := decodeJWT(t, reply.IDToken); claims["email"] != want || !strings.HasPrefix(claims["sub"].(string), "auth0|") {
				t.Errorf("id_token claims = %v, want email %s", claims, want)
			}
		})
	}
	if u := mustUser(t, tn.srv, "bcrypt@example.com"); u.LoginsCount != 3 || u.LastLogin == nil || u.LastIP == "" {
		t.Errorf("after three logins: logins_count %d, last_login %v, last_ip %q", u.LoginsCount, u.LastLogin, u.LastIP)
	}
}

// A user migrated with a custom hash is moved to the tenant's own bcrypt on
// first login; the old hash no longer counts and an upsert can no longer
// replace the credentials.
func TestCustomHashIsReplacedAfterFirstLogin(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importuser.User{Email: "c@example.com", CustomPasswordHash: sha256Custom("s", "first")})

	// Before any login, an upsert may replace the custom hash.
	tn.srv.Import(true, importuser.User{Email: "c@example.com", CustomPasswordHash: sha256Custom("s", "second")})
	if r := tn.login("c@example.com", "first"); r.status != http.StatusForbidden {
		t.Fatalf("old password after upsert = %d", r.status)
	}
	if r := tn.login("c@example.com", "second"); r.status != http.StatusOK {
		t.Fatalf("new password after upsert = %d %s", r.status, r.body)
	}
	// After it, the upsert's hash is ignored.
	tn.srv.Import(true, importuser.User{Email: "c@example.com", CustomPasswordHash: sha256Custom("s", "third")})
	if r := tn.login("c@example.com", "third"); r.status != http.StatusForbidden {
		t.Errorf("upserted hash after a login = %d, want 403", r.status)
	}
	if r := tn.login("c@example.com", "second"); r.status != http.StatusOK {
		t.Errorf("password after rehash = %d %s", r.status, r.body)
	}
}

func TestPasswordHashIsOnlyTakenOnFirstImport(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importuser.User{Email: "p@example.com", PasswordHash: bcryptOf(t, "original")})
	summary, errs, _ := tn.srv.Import(true, importuser.User{Email: "p@example.com", PasswordHash: bcryptOf(t, "changed")})
	if summary.Updated != 1 || errs != nil {
		t.Fatalf("upsert = %+v %+v", summary, errs)
	}
	if r := tn.login("p@example.com", "original"); r.status != http.StatusOK {
		t.Errorf("original password = %d", r.status)
	}
	if r := tn.login("p@example.com", "changed"); r.status != http.StatusForbidden {
		t.Errorf("upserted password_hash = %d, want 403", r.status)
	}
}

func TestBruteForceProtection(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importuser.User{Email: "v@example.com", PasswordHash: bcryptOf(t, "right")})

	for i := 1; i <= sandbox.DefaultBruteForceThreshold; i++ {
		if r := tn.login("v@example.com", "wrong"); r.status != http.StatusForbidden {
			t.Fatalf("failure %d = %d, want 403", i, r.status)
		}
	}
	r := tn.login("v@example.com", "right")
	var reply oauthReply
	r.json(t, &reply)
	if r.status != http.StatusTooManyRequests || reply.Error != "too_many_attempts" {
		t.Fatalf("after %d failures, the right password = %d %+v, want 429 too_many_attempts", sandbox.DefaultBruteForceThreshold, r.status, reply)
	}
	// Other accounts from the same address are not blocked.
	if r := tn.login("other@example.com", "x"); r.status != http.StatusForbidden {
		t.Errorf("another account = %d, want 403", r.status)
	}
	tn.srv.UnblockLogins()
	if r := tn.login("v@example.com", "right"); r.status != http.StatusOK {
		t.Errorf("after unblock = %d", r.status)
	}
}

func TestBruteForceCountsOnlyConsecutiveFailures(t *testing.T) {
	tn := newTenant(t, sandbox.Config{BruteForceThreshold: 3})
	tn.srv.Import(false, importuser.User{Email: "v@example.com", PasswordHash: bcryptOf(t, "right")})
	for _, pw := range []string{"wrong", "wrong", "right", "wrong", "wrong", "right"} {
		r := tn.login("v@example.com", pw)
		if want := map[bool]int{true: 200, false: 403}[pw == "right"]; r.status != want {
			t.Fatalf("%s = %d, want %d", pw, r.status, want)
		}
	}
}

func TestBruteForceProtectionCanBeTurnedOff(t *testing.T) {
	tn := newTenant(t, sandbox.Config{BruteForceThreshold: 2})
	tn.sendJSON(http.MethodPatch, "/api/v2/connections/"+tn.srv.ConnectionID(),
		map[string]any{"options": map[string]any{"brute_force_protection": false}})
	for range 4 {
		if r := tn.login("v@example.com", "wrong"); r.status != http.StatusForbidden {
			t.Fatalf("with protection off = %d, want 403", r.status)
		}
	}
}

func TestLoginRequestErrors(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	r := tn.login("a@example.com", "x")
	if r.status != http.StatusForbidden {
		t.Fatalf("baseline = %d", r.status)
	}
	form := map[string][]string{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "client_id": {tn.srv.ClientID()},
		"username": {"a@example.com"}, "password": {"x"}, "realm": {"No-Such-Connection"},
	}
	resp, err := http.PostForm(tn.base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown realm = %d, want 400", resp.StatusCode)
	}
	form["realm"] = []string{tn.srv.ConnectionName()}
	form["client_secret"] = []string{"wrong"}
	resp, _ = http.PostForm(tn.base+"/oauth/token", form)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong client secret = %d, want 401", resp.StatusCode)
	}
}

func decodeJWT(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestUserTokenDoesNotOpenTheManagementAPI(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Import(false, importuser.User{Email: "u@example.com", PasswordHash: bcryptOf(t, "pw")})
	form := map[string][]string{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"}, "client_id": {tn.srv.ClientID()},
		"username": {"u@example.com"}, "password": {"pw"}, "realm": {tn.srv.ConnectionName()},
		"audience": {tn.base + "/api/v2/"}, "scope": {"read:users delete:users"},
	}
	resp, err := http.PostForm(tn.base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var reply oauthReply
	json.NewDecoder(resp.Body).Decode(&reply)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login = %d %+v", resp.StatusCode, reply)
	}
	tn.token = reply.AccessToken
	if r := tn.get("/api/v2/users"); r.status != http.StatusUnauthorized {
		t.Errorf("Management API with a user's token = %d, want 401", r.status)
	}
}
