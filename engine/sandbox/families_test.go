package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/source"
	"provision/engine/validate"
	"provision/fixtures"
)

// TestEveryHashFamilyLogsInAfterImport is the end-to-end proof the product
// promises: a legacy export, converted by validate, imported into the
// tenant, lets each user log in with the password they always had, for every
// importable hash family in the demo export.
func TestEveryHashFamilyLogsInAfterImport(t *testing.T) {
	base, srv := sandboxtest.Start(t, sandbox.Config{})
	r, err := source.NewReader(bytes.NewReader(fixtures.DemoUsers), fixtures.DemoUsersFile, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var users []importuser.User
	if _, err := validate.Run(context.Background(), r, validate.RunOptions{File: fixtures.DemoUsersFile,
		OnResult: func(res *validate.Result) error {
			if !res.Quarantined {
				users = append(users, res.User)
			}
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	sum, jobErrs, err := srv.Import(false, users...)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 || sum.Inserted != len(users) {
		t.Fatalf("import summary %+v, errors %+v: every user validate accepts must import", sum, jobErrs)
	}

	families := map[string]bool{}
	for _, c := range fixtures.DemoCanaries {
		password := canaryPassword(t, c.Email)
		status := login(t, base, srv.ClientID(), srv.ConnectionName(), c.Email, password)
		switch {
		case c.Importable && !c.WrongPassword:
			families[c.Family] = true
			if status != http.StatusOK {
				t.Errorf("%s (%s): login answered %d, want 200", c.Email, c.Family, status)
			}
		default:
			if status == http.StatusOK {
				t.Errorf("%s (%s): login succeeded, but its password is wrong or was not imported", c.Email, c.Family)
			}
		}
	}
	if len(families) < 14 {
		t.Errorf("only %d hash families exercised: %v", len(families), families)
	}
}

func canaryPassword(t *testing.T, email string) string {
	t.Helper()
	for _, line := range strings.Split(string(fixtures.DemoCredentials), "\n")[1:] {
		e, p, ok := strings.Cut(strings.TrimRight(line, "\r"), ",")
		if ok && strings.EqualFold(e, email) {
			return p
		}
	}
	t.Fatalf("no canary password for %s", email)
	return ""
}

// login tries the resource-owner password grant, as an app would.
func login(t *testing.T, base, clientID, realm, username, password string) int {
	t.Helper()
	form := url.Values{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"},
		"realm":      {realm},
		"username":   {username},
		"password":   {password},
		"client_id":  {clientID},
	}
	resp, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == http.StatusOK && body["access_token"] == nil {
		t.Errorf("login for %s: 200 without an access token", username)
	}
	return resp.StatusCode
}
