package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"provision/engine/target/auth0"
)

// grantPasswordRealm is Auth0's resource-owner password grant with a
// realm: the connection to log in to.
const grantPasswordRealm = "http://auth0.com/oauth/grant-type/password-realm"

// PasswordRealm logs users in through POST /oauth/token with the
// password-realm grant. Real tenants allow it only for applications with
// the Password grant type enabled and the connection enabled for them;
// otherwise every login reports ErrLoginUnavailable and verification
// skips logins with a note. Each login counts as a real login of that
// user (last_login, logins_count, and the rehash Auth0 does on a first
// login with a custom_password_hash).
type PasswordRealm struct {
	Endpoint    auth0.Endpoint
	Credentials auth0.Credentials
	Realm       string // the database connection's name
	HTTPClient  *http.Client
}

// Login implements Logger.
func (p *PasswordRealm) Login(ctx context.Context, email, password string) error {
	form := url.Values{
		"grant_type":    {grantPasswordRealm},
		"client_id":     {p.Credentials.ClientID},
		"client_secret": {p.Credentials.ClientSecret.Reveal()},
		"username":      {email},
		"password":      {password},
		"realm":         {p.Realm},
		"scope":         {"openid"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint.BaseURL.JoinPath("oauth", "token").String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := p.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// url.Error quotes the URL only, never the form.
		return fmt.Errorf("log in <%s>: %w", email, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	var answer struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer)
	return classifyLoginError(resp.StatusCode, answer.Error, answer.Description)
}

// classifyLoginError reads Auth0's OAuth error answers.
func classifyLoginError(status int, code, description string) error {
	switch {
	case code == "mfa_required":
		return nil // the password was right; the tenant asks for a second factor
	case code == "invalid_grant" && strings.Contains(strings.ToLower(description), "wrong"):
		return ErrWrongPassword
	case code == "unauthorized_client", code == "unsupported_grant_type",
		code == "invalid_request" && strings.Contains(description, "realm"),
		code == "access_denied" && strings.Contains(strings.ToLower(description), "grant"):
		return fmt.Errorf("%w (%s: %s)", ErrLoginUnavailable, code, description)
	}
	if description == "" {
		description = http.StatusText(status)
	}
	return fmt.Errorf("login answered %d %s: %s", status, code, description)
}
