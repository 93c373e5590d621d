package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// Tokens are JWTs signed with HS256 under a key the tenant keeps, so they
// look like Auth0's to a client that decodes them and survive a restart
// with --data. Clients must treat them as opaque, as with Auth0.

type claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	Scope     string `json:"scope,omitempty"`
	GrantType string `json:"gty,omitempty"`
	Party     string `json:"azp,omitempty"`
	// Generation lets the tenant expire every token it issued so far
	// (Server.ExpireTokens) without waiting for exp.
	Generation uint64 `json:"sandbox_gen"`

	// ID token profile claims.
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	Nickname      string `json:"nickname,omitempty"`
}

func (c claims) scopes() []string { return strings.Fields(c.Scope) }

func (c claims) hasAnyScope(want ...string) bool {
	have := c.scopes()
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func signToken(key []byte, c claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac(key, unsigned)), nil
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

var (
	errTokenInvalid = errors.New("Invalid token")
	// Auth0's words for an expired Management API token.
	errTokenExpired = errors.New("Expired token received for JSON Web Token validation")
)

// parseToken checks a token's signature, expiry and generation.
func parseToken(key []byte, token string, now time.Time, generation uint64) (claims, error) {
	var c claims
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return c, errTokenInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac(key, parts[0]+"."+parts[1])) {
		return c, errTokenInvalid
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, errTokenInvalid
	}
	if !now.Before(time.Unix(c.ExpiresAt, 0)) || c.Generation < generation {
		return c, errTokenExpired
	}
	return c, nil
}
