package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target/auth0"
)

// tenant starts a sandbox holding ann (password "correct horse") and
// returns a client and a login for it.
func tenant(t *testing.T) (*auth0.Client, *PasswordRealm, *sandbox.Server) {
	t.Helper()
	base, srv := sandboxtest.Start(t, sandbox.Config{})
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, errs, err := srv.Import(false, importuser.User{Email: "ann@example.com", PasswordHash: string(hash)}); err != nil || len(errs) > 0 {
		t.Fatalf("seed the tenant: %v %v", err, errs)
	}
	ep, err := auth0.ParseTargetSpec("auth0:" + base)
	if err != nil {
		t.Fatal(err)
	}
	creds := auth0.Credentials{ClientID: srv.ClientID(), ClientSecret: auth0.Secret(srv.ClientSecret())}
	c, err := auth0.New(auth0.Config{Endpoint: ep, Credentials: creds, ConnectionID: srv.ConnectionID()})
	if err != nil {
		t.Fatal(err)
	}
	return c, &PasswordRealm{Endpoint: ep, Credentials: creds, Realm: srv.ConnectionName()}, srv
}

func writeCanaries(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "canaries.csv")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckFindsUsersAndLogsCanariesIn(t *testing.T) {
	client, login, srv := tenant(t)
	canaries, err := ReadCanaries(writeCanaries(t, "email,password\nAnn@Example.com,correct horse\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Checker{Target: client, Connection: srv.ConnectionName(), Login: login, Canaries: canaries}
	sample := []User{{Row: 1, Email: "ann@example.com"}, {Row: 2, Email: "ghost@example.com"}}
	r, err := c.Check(context.Background(), sample, []User{{Row: 1, Email: "ann@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sampled != 2 || r.Found != 1 || !slices.Equal(r.Missing, []string{"ghost@example.com"}) {
		t.Errorf("sample: %+v", r)
	}
	if id := r.UserIDs[1]; !strings.HasPrefix(id, "auth0|") {
		t.Errorf("ann's user_id %q was not learned", id)
	}
	if r.Logins != 1 || r.LoginsOK != 1 {
		t.Errorf("logins %d ok %d, want 1 of 1: %v", r.Logins, r.LoginsOK, r.Notes)
	}
	if r.OK() {
		t.Error("a missing user did not make the report fail")
	}
}

func TestCheckReportsAWrongPasswordWithoutRevealingIt(t *testing.T) {
	client, login, srv := tenant(t)
	canaries, err := ReadCanaries(writeCanaries(t, "email,password\nann@example.com,Tr0ub4dor&3\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Checker{Target: client, Connection: srv.ConnectionName(), Login: login, Canaries: canaries}
	r, err := c.Check(context.Background(), nil, []User{{Row: 1, Email: "ann@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || len(r.LoginFailures) != 1 {
		t.Fatalf("a refused password passed: %+v", r)
	}
	all := fmt.Sprintf("%v %v %+v %#v", r, r.Problems(), canaries, canaries)
	if strings.Contains(all, "Tr0ub4dor") {
		t.Errorf("the password leaked: %s", all)
	}
}

func TestLoginUnavailableIsSkippedNotFailed(t *testing.T) {
	if err := classifyLoginError(403, "unauthorized_client", "Grant type 'http://auth0.com/oauth/grant-type/password-realm' not allowed for the client."); err == nil || !strings.Contains(err.Error(), ErrLoginUnavailable.Error()) {
		t.Errorf("unauthorized_client = %v, want ErrLoginUnavailable", err)
	}
	if err := classifyLoginError(403, "mfa_required", "Multifactor authentication required"); err != nil {
		t.Errorf("mfa_required = %v, want success: the password was accepted", err)
	}
	if err := classifyLoginError(403, "invalid_grant", "Wrong email or password."); err != ErrWrongPassword {
		t.Errorf("invalid_grant = %v, want ErrWrongPassword", err)
	}
}

func TestReadCanariesRefusesUnsafeOrBrokenFiles(t *testing.T) {
	path := writeCanaries(t, "email,password\na@example.com,s3cret\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCanaries(path); err == nil {
		t.Error("a world-readable credentials file was accepted")
	}
	for _, body := range []string{"mail,pw\na,b\n", "email,password\na@example.com,s3cret,extra\n", "email,password\na@example.com,\n"} {
		_, err := ReadCanaries(writeCanaries(t, body))
		if err == nil {
			t.Errorf("%q was accepted", body)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error quotes the password: %v", err)
		}
	}
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		total, n int
		want     []int
	}{
		{0, 5, nil},
		{3, 5, []int{0, 1, 2}},
		{10, 5, []int{0, 2, 4, 6, 8}},
		{1000, 4, []int{0, 250, 500, 750}},
	} {
		if got := Spread(tc.total, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("Spread(%d, %d) = %v, want %v", tc.total, tc.n, got, tc.want)
		}
	}
}
