package sandbox

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.handleToken)

	mux.Handle("POST /api/v2/jobs/users-imports", s.api(s.handleImport, ScopeCreateUsers))
	mux.Handle("POST /api/v2/jobs/users-exports", s.api(s.handleExport, ScopeReadUsers))
	mux.Handle("GET /api/v2/jobs/{id}", s.api(s.handleGetJob, ScopeCreateUsers, ScopeReadUsers))
	mux.Handle("GET /api/v2/jobs/{id}/errors", s.api(s.handleJobErrors, ScopeCreateUsers, ScopeReadUsers))

	mux.Handle("GET /api/v2/users-by-email", s.api(s.handleUsersByEmail, ScopeReadUsers))
	mux.Handle("GET /api/v2/users", s.api(s.handleListUsers, ScopeReadUsers))
	mux.Handle("GET /api/v2/users/{id}", s.api(s.handleGetUser, ScopeReadUsers))
	mux.Handle("DELETE /api/v2/users/{id}", s.api(s.handleDeleteUser, ScopeDeleteUsers))

	mux.Handle("GET /api/v2/connections", s.api(s.handleListConnections, ScopeReadConnections))
	mux.Handle("GET /api/v2/connections/{id}", s.api(s.handleGetConnection, ScopeReadConnections))
	mux.Handle("PATCH /api/v2/connections/{id}", s.api(s.handlePatchConnection, ScopeUpdateConnections))

	mux.HandleFunc("GET /exports/{id}/{file}", s.handleDownload)

	mux.HandleFunc("/api/v2/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "Not Found", "")
	})
	return s.logRequests(mux)
}

type claimsKey struct{}

// api wraps a Management API endpoint in what every such request goes
// through on Auth0, in order: the rate limit, (injected) upstream
// failures, the bearer token and its scopes. Jobs are brought up to date
// first, so a response always reflects the tenant's clock.
func (s *Server) api(h http.HandlerFunc, anyOfScopes ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.advance(); err != nil {
			s.log.Error("advance jobs", "err", err)
			internalError(w)
			return
		}
		if !s.rateLimit(w) {
			return
		}
		if kind := s.faults.requestFault(); kind != 0 {
			s.fail(w, r, kind)
			return
		}
		c, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if !c.hasAnyScope(anyOfScopes...) {
			writeAPIError(w, http.StatusForbidden,
				"Insufficient scope, expected any of: "+strings.Join(anyOfScopes, ","), "insufficient_scope")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// rateLimit takes a token from the tenant's bucket and reports the bucket
// in Auth0's x-ratelimit-* headers. It answers 429 and returns false when
// the bucket is empty (or a 429 storm is injected).
func (s *Server) rateLimit(w http.ResponseWriter) bool {
	now := s.now()
	storm := s.faults.takeRateLimited()
	if s.limiter == nil && !storm {
		return true
	}
	limit, remaining, reset := 1, 0, now.Add(time.Second)
	allowed := false
	if s.limiter != nil {
		s.limiterMu.Lock()
		if !storm {
			allowed = s.limiter.AllowN(now, 1)
		}
		tokens := s.limiter.TokensAt(now)
		s.limiterMu.Unlock()
		limit = s.limiter.Burst()
		if !storm {
			remaining = max(0, int(math.Floor(tokens)))
		}
		missing := float64(limit) - max(0, tokens)
		reset = now.Add(time.Duration(missing / float64(s.limiter.Limit()) * float64(time.Second)))
	}
	h := w.Header()
	h.Set("x-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	// Auth0 gives the reset as UNIX seconds; round up so that a client
	// waiting until then finds a token.
	h.Set("x-ratelimit-reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10))
	if allowed {
		return true
	}
	writeAPIError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
	return false
}

// fail answers a request with an injected fault.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, kind FaultKind) {
	s.log.Info("fault injected", "kind", kind.String(), "method", r.Method, "path", r.URL.Path)
	switch kind {
	case FaultInternalError:
		internalError(w)
	case FaultUnavailable:
		writeAPIError(w, http.StatusServiceUnavailable, "Service Unavailable", "")
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.stopping:
		}
		// Drop the connection without a response: the client sees a
		// timeout or a reset, never a status.
		panic(http.ErrAbortHandler)
	}
}

// authenticate checks the bearer token.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (claims, bool) {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		writeAPIError(w, http.StatusUnauthorized, "Missing authentication", "")
		return claims{}, false
	}
	c, err := parseToken(s.signingKey, strings.TrimSpace(token), s.now(), s.tokenGeneration())
	if err == nil && (!isManagementAudience(c.Audience) || c.GrantType != grantTypeClientCredentials) {
		// A user's login token never opens the Management API, whatever
		// audience and scopes the login asked for.
		err = errTokenInvalid
	}
	if err != nil {
		writeAPIError(w, http.StatusUnauthorized, err.Error(), "")
		return claims{}, false
	}
	return c, true
}

// logRequests writes one debug line per request: method, path, status and
// time. Query strings are left out (users-by-email carries an address in
// it) and bodies are never logged.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			p := recover()
			var status any = rec.status
			if p != nil {
				status = "aborted" // a hung request dropped without an answer
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status,
				"duration", time.Since(start).Round(time.Microsecond))
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// baseURL is the address the client used to reach the tenant, so links the
// tenant hands out (export locations, token issuer) work from the client.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
