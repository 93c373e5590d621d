package sandbox

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"provision/engine/hashes"
	"provision/engine/sandbox/store"
)

const (
	grantPasswordRealm = "http://auth0.com/oauth/grant-type/password-realm"
	// grantTypeClientCredentials is the gty claim of Management API tokens.
	grantTypeClientCredentials = "client-credentials"
)

// handleToken is POST /oauth/token: the client-credentials grant for
// Management API tokens and the resource-owner password grant (with realm)
// that proves imported passwords work.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	params, ok := readTokenParams(w, r)
	if !ok {
		return
	}
	switch gt := params.Get("grant_type"); gt {
	case "client_credentials":
		s.clientCredentials(w, r, params)
	case grantPasswordRealm:
		s.passwordRealm(w, r, params)
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type")
	default:
		writeOAuthError(w, http.StatusForbidden, "unsupported_grant_type", "Unsupported grant type: "+gt)
	}
}

// readTokenParams accepts a form or a JSON body, as Auth0 does, and
// client_secret_basic authentication.
func readTokenParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	params := url.Values{}
	if mediaType == "application/json" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid JSON")
			return nil, false
		}
		for k, v := range body {
			if s, ok := v.(string); ok {
				params.Set(k, s)
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read")
			return nil, false
		}
		params = r.PostForm
	}
	if id, secret, ok := r.BasicAuth(); ok {
		params.Set("client_id", id)
		params.Set("client_secret", secret)
	}
	return params, true
}

func (s *Server) clientMatches(id, secret string) bool {
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.ClientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.clientSecret)) == 1
	return idOK && secretOK
}

// isManagementAudience accepts the Management API's audience on any host:
// the sandbox cannot know which name the client used to reach it. The path
// must be exactly /api/v2/, trailing slash included, as on Auth0.
func isManagementAudience(aud string) bool {
	u, err := url.Parse(aud)
	return err == nil && u.Host != "" && u.Path == "/api/v2/"
}

func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, p url.Values) {
	if !s.clientMatches(p.Get("client_id"), p.Get("client_secret")) {
		writeOAuthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	aud := p.Get("audience")
	if aud == "" {
		writeOAuthError(w, http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured")
		return
	}
	if !isManagementAudience(aud) {
		writeOAuthError(w, http.StatusForbidden, "access_denied", "Service not enabled within domain: "+aud)
		return
	}
	scopes := s.cfg.Scopes
	if asked := strings.Fields(p.Get("scope")); len(asked) > 0 {
		var missing []string
		for _, a := range asked {
			if !slices.Contains(s.cfg.Scopes, a) {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			writeOAuthError(w, http.StatusForbidden, "access_denied", "Client has not been granted scopes: "+strings.Join(missing, " "))
			return
		}
		scopes = asked
	}
	now, ttl := s.now(), s.faults.tokenLifetime()
	token, err := signToken(s.signingKey, claims{
		Issuer: baseURL(r) + "/", Subject: s.cfg.ClientID + "@clients", Audience: aud,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(ttl).Unix(),
		Scope: strings.Join(scopes, " "), GrantType: grantTypeClientCredentials, Party: s.cfg.ClientID,
		Generation: s.tokenGeneration(),
	})
	if err != nil {
		s.log.Error("sign token", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Could not issue a token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"scope":        strings.Join(scopes, " "),
		"expires_in":   int(ttl.Seconds()),
		"token_type":   "Bearer",
	})
}

// passwordRealm logs a user in with a password, verifying it against the
// imported password_hash or custom_password_hash exactly as Auth0 would.
// After the first successful login with a custom_password_hash, the user's
// credentials become a bcrypt hash of the password, as Auth0 rehashes on
// first login; from then on an upsert no longer replaces them.
func (s *Server) passwordRealm(w http.ResponseWriter, r *http.Request, p url.Values) {
	if p.Get("client_id") != s.cfg.ClientID ||
		(p.Get("client_secret") != "" && !s.clientMatches(p.Get("client_id"), p.Get("client_secret"))) {
		writeOAuthError(w, http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	username, password, realm := strings.ToLower(strings.TrimSpace(p.Get("username"))), p.Get("password"), p.Get("realm")
	for _, req := range []struct{ name, v string }{{"username", username}, {"password", password}, {"realm", realm}} {
		if req.v == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: "+req.name)
			return
		}
	}
	if err := s.advance(); err != nil {
		s.log.Error("advance jobs", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Internal error")
		return
	}
	var conn *connectionRecord
	var user *userRecord
	err := s.store.View(func(tx store.Tx) (err error) {
		st := state{tx}
		if conn, err = st.connectionByName(realm); err != nil || conn == nil {
			return err
		}
		if user, err = st.userBy(bucketByEmail, conn.ID, username); err != nil || user != nil {
			return err
		}
		user, err = st.userBy(bucketByUsername, conn.ID, username)
		return err
	})
	if err != nil {
		s.log.Error("read user for login", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Internal error")
		return
	}
	if conn == nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unknown realm: "+realm)
		return
	}

	now := s.now()
	attemptKey := clientIP(r) + "\x00" + username
	guarded := conn.options().bruteForceProtection()
	if guarded && s.logins.blocked(attemptKey, now) {
		writeOAuthError(w, http.StatusTooManyRequests, "too_many_attempts",
			"Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.")
		return
	}
	if !s.verifyPassword(user, password) {
		if guarded {
			s.logins.fail(attemptKey, now, s.cfg.BruteForceThreshold)
		}
		writeOAuthError(w, http.StatusForbidden, "invalid_grant", "Wrong email or password.")
		return
	}
	if user.Blocked {
		writeOAuthError(w, http.StatusUnauthorized, "unauthorized", "user is blocked")
		return
	}
	s.logins.reset(attemptKey)
	if err := s.recordLogin(user.UserID, password, clientIP(r), now); err != nil {
		s.log.Error("record login", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Internal error")
		return
	}
	s.issueUserTokens(w, r, user, p, now)
}

// verifyPassword never says why a password did not verify, to the client
// or in the log beyond the hash's kind: the log must not help guess it.
func (s *Server) verifyPassword(u *userRecord, password string) bool {
	if u == nil || !u.hasPassword() {
		return false
	}
	ok, err := hashes.Verify(u.PasswordHash, u.CustomPasswordHash, password)
	if err != nil {
		kind := "password_hash"
		if u.CustomPasswordHash != nil {
			kind = "custom_password_hash (" + u.CustomPasswordHash.Algorithm + ")"
		}
		s.log.Warn("stored hash could not be checked; login refused", "user_id", u.UserID, "hash", kind, "err", err)
		return false
	}
	return ok
}

func (s *Server) recordLogin(userID, password, ip string, now time.Time) error {
	var rehash string
	err := s.store.View(func(tx store.Tx) error {
		u, err := state{tx}.user(userID)
		if err == nil && u != nil && u.CustomPasswordHash != nil {
			rehash = "needed"
		}
		return err
	})
	if err != nil {
		return err
	}
	if rehash != "" {
		// bcrypt is slow on purpose: hash outside the transaction.
		b, err := bcrypt.GenerateFromPassword([]byte(password), 10)
		if err != nil {
			return err
		}
		rehash = string(b)
	}
	return s.store.Update(func(tx store.Tx) error {
		st := state{tx}
		u, err := st.user(userID)
		if err != nil || u == nil {
			return err // deleted meanwhile: nothing to record
		}
		if rehash != "" && u.CustomPasswordHash != nil {
			u.PasswordHash, u.CustomPasswordHash = rehash, nil
		}
		u.LoginsCount++
		u.LastLogin = &Timestamp{now}
		u.LastIP = ip
		return st.putUser(u)
	})
}

func (s *Server) issueUserTokens(w http.ResponseWriter, r *http.Request, u *userRecord, p url.Values, now time.Time) {
	base := baseURL(r)
	scope := p.Get("scope")
	aud := cmp.Or(p.Get("audience"), base+"/userinfo")
	ttl := s.faults.tokenLifetime()
	access, err := signToken(s.signingKey, claims{
		Issuer: base + "/", Subject: u.UserID, Audience: aud, IssuedAt: now.Unix(), ExpiresAt: now.Add(ttl).Unix(),
		Scope: scope, GrantType: "password", Party: s.cfg.ClientID, Generation: s.tokenGeneration(),
	})
	resp := map[string]any{"access_token": access, "expires_in": int(ttl.Seconds()), "token_type": "Bearer"}
	if scope != "" {
		resp["scope"] = scope
	}
	if err == nil && slices.Contains(strings.Fields(scope), "openid") {
		verified := u.EmailVerified
		resp["id_token"], err = signToken(s.signingKey, claims{
			Issuer: base + "/", Subject: u.UserID, Audience: s.cfg.ClientID, IssuedAt: now.Unix(),
			ExpiresAt: now.Add(10 * time.Hour).Unix(), Generation: s.tokenGeneration(),
			Email: u.Email, EmailVerified: &verified, Name: u.Name, Nickname: u.Nickname,
		})
	}
	if err != nil {
		s.log.Error("sign token", "err", err)
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "Could not issue a token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// clientIP is the peer address; the sandbox sits on loopback, not behind
// a proxy, so forwarded headers are not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bruteForce counts consecutive failed logins per IP address and account,
// like Auth0's brute-force protection (docs/auth0.md §5): at the threshold the
// pair is blocked for 30 days or until an administrator unblocks it. The
// counters live in memory only.
type bruteForce struct {
	mu sync.Mutex
	m  map[string]*loginAttempts
}

type loginAttempts struct {
	failures     int
	blockedUntil time.Time
}

const bruteForceBlock = 30 * 24 * time.Hour

func newBruteForce() *bruteForce { return &bruteForce{m: map[string]*loginAttempts{}} }

func (b *bruteForce) blocked(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.m[key]
	if a == nil || a.blockedUntil.IsZero() {
		return false
	}
	if !now.Before(a.blockedUntil) {
		delete(b.m, key)
		return false
	}
	return true
}

func (b *bruteForce) fail(key string, now time.Time, threshold int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.m[key]
	if a == nil {
		a = &loginAttempts{}
		b.m[key] = a
	}
	a.failures++
	if a.failures >= threshold {
		a.blockedUntil = now.Add(bruteForceBlock)
	}
}

func (b *bruteForce) reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}

func (b *bruteForce) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.m)
}
