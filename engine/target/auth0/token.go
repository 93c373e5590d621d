package auth0

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tokenSource gets Management API tokens with the client-credentials
// grant and keeps one until shortly before it expires. Callers share the
// token; a fetch holds the lock, so many requests starting together cause
// one token request, not many.
type tokenSource struct {
	c *Client

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// Token returns a valid access token, fetching one if needed.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token != "" && ts.c.now().Before(ts.renewAt) {
		return ts.token, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {ts.c.cfg.Credentials.ClientID},
		"client_secret": {ts.c.cfg.Credentials.ClientSecret.Reveal()},
		"audience":      {ts.c.cfg.Endpoint.Audience()},
	}
	encoded := form.Encode()
	var reply tokenReply
	fetched := ts.c.now()
	err := ts.c.do(ctx, call{
		op:     "get a Management API token",
		method: "POST",
		path:   "/oauth/token",
		kind:   kindToken,
		body: func() (body, error) {
			return body{reader: strings.NewReader(encoded), contentType: "application/x-www-form-urlencoded"}, nil
		},
	}, &reply)
	if err != nil {
		return "", err
	}
	if reply.AccessToken == "" {
		return "", &APIError{Op: "get a Management API token", Method: "POST", Path: "/oauth/token", StatusCode: 200,
			Message: "the answer held no access_token", Hint: "Check that the target is an Auth0 tenant"}
	}
	lifetime := time.Duration(reply.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = time.Hour // Auth0 always says; be careful if it does not
	}
	// Renew a little early so a token never expires between our check
	// and the tenant's: five minutes, or half the lifetime if shorter.
	ts.token = reply.AccessToken
	ts.renewAt = fetched.Add(lifetime - min(5*time.Minute, lifetime/2))
	return ts.token, nil
}

// Invalidate drops token if it is still the cached one, so that after a
// 401 only the first request to notice fetches a new token.
func (ts *tokenSource) Invalidate(token string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.token == token {
		ts.token = ""
	}
}
