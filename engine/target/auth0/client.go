// Package auth0 is a small Auth0 Management API client, written over
// net/http for exactly what a migration needs: bulk import jobs, job
// status and errors, user lookup and deletion, user listing and export,
// and reading or patching a connection. It implements target.Target.
//
// The client is careful with the tenant: it paces requests by the
// tenant's x-ratelimit-* headers, waits out 429s (Retry-After, else the
// reset time), retries 5xx and network errors only where repeating a
// request is harmless, and refuses to guess after an import POST whose
// outcome it cannot know (ErrAmbiguousSubmit). Errors name what failed and
// what to do; secrets and tokens never reach an error or a log line.
//
// Any base URL works, so the local sandbox is just another tenant:
// auth0:http://127.0.0.1:8787.
package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"provision/engine/target"
)

// Client talks to one tenant's Management API. It is safe for concurrent
// use.
type Client struct {
	cfg     Config
	http    *http.Client
	log     *slog.Logger
	retry   RetryPolicy
	limiter *headerLimiter
	tokens  *tokenSource
	now     func() time.Time
}

var _ target.Target = (*Client)(nil)

// New checks cfg and returns a client. It makes no request: a bad secret
// shows on the first call, as ErrBadCredentials.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Endpoint.BaseURL == nil:
		return nil, errors.New("auth0 client: no tenant; give a target such as auth0:TENANT.auth0.com")
	case cfg.Credentials.ClientID == "" || cfg.Credentials.ClientSecret == "":
		return nil, fmt.Errorf("auth0 client: no client credentials; set %s and %s or give a credentials file", EnvClientID, EnvClientSecret)
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, retry: cfg.Retry.withDefaults(), now: time.Now}
	c.limiter = newHeaderLimiter(c.retry.MaxRateLimitWait)
	if c.http == nil {
		// The timeout bounds one attempt; the context bounds the call.
		c.http = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.cfg.UserAgent == "" {
		c.cfg.UserAgent = "provision"
	}
	c.tokens = &tokenSource{c: c}
	return c, nil
}

// Config returns the client's configuration (its String hides the secret).
func (c *Client) Config() Config { return c.cfg }

// body is one attempt's request body; call.body makes a fresh one per
// attempt because a reader cannot be replayed.
type body struct {
	reader      io.Reader
	contentType string
}

// call describes one API request.
type call struct {
	op     string // for errors: "get job job_abc"
	method string
	path   string // unescaped, e.g. /api/v2/users/auth0|123
	// rawPath is path with each id segment escaped; empty if path needs
	// no escaping.
	rawPath string
	query   url.Values
	kind    requestKind
	body    func() (body, error)
	file    string // the import file's name, for ErrAmbiguousSubmit
}

// retryWait carries a refusal together with how long to wait before the
// next attempt (backoff.RetryAfterError), so that when retries run out
// the refusal, not the wait, is what the caller sees.
type retryWait struct {
	err  error
	wait backoff.RetryAfterError
}

func (r *retryWait) Error() string   { return r.err.Error() }
func (r *retryWait) Unwrap() []error { return []error{r.err, &r.wait} }

// do sends cl, retrying as the policy and the request's kind allow, and
// decodes a 2xx JSON answer into out (unless out is nil or the answer is
// 204 No Content).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval = c.retry.InitialBackoff
	eb.MaxInterval = c.retry.MaxBackoff
	var st attemptState
	operation := func() (struct{}, error) {
		st.n++
		return struct{}{}, c.attempt(ctx, cl, out, &st)
	}
	limits := []backoff.RetryOption{backoff.WithMaxTries(uint(c.retry.MaxAttempts)), backoff.WithMaxElapsedTime(c.retry.MaxElapsed)}
	if cl.kind == kindSubmit {
		// An import POST is retried only when the tenant surely did not
		// take it: after a 429, for as long as MaxSubmitWait allows, since
		// import slots free up slowly; when the tenant cannot be reached,
		// MaxAttempts times (counted in attempt).
		limits = []backoff.RetryOption{backoff.WithMaxElapsedTime(c.retry.MaxSubmitWait)}
	}
	_, err := backoff.Retry(ctx, operation, append(limits, backoff.WithBackOff(eb))...)
	if rw, ok := errors.AsType[*retryWait](err); ok {
		err = rw.err
	}
	return err
}

// attemptState is what one request's attempts know of each other.
type attemptState struct {
	n          int  // this attempt's number, from 1
	refreshed  bool // the token was renewed after a 401
	unanswered int  // import POSTs that never reached the tenant
}

// attempt makes one try and classifies its outcome for backoff.Retry: nil,
// a permanent error, a *retryWait (wait exactly so long) or any other
// error (back off exponentially).
func (c *Client) attempt(ctx context.Context, cl call, out any, st *attemptState) error {
	n := st.n
	if err := c.limiter.Wait(ctx); err != nil {
		return backoff.Permanent(err)
	}
	var token string
	if cl.kind != kindToken {
		t, err := c.tokens.Token(ctx)
		if err != nil {
			return backoff.Permanent(err) // already retried on its own
		}
		token = t
	}
	b := body{}
	if cl.body != nil {
		var err error
		if b, err = cl.body(); err != nil {
			return backoff.Permanent(err)
		}
	}

	// wrote records whether the request left this process, which decides
	// whether a failed import POST may have created a job.
	var wrote atomic.Bool
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	u := *c.cfg.Endpoint.BaseURL
	u.Path, u.RawPath, u.RawQuery = cl.path, cl.rawPath, cl.query.Encode()
	req, err := http.NewRequestWithContext(traced, cl.method, u.String(), b.reader)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("%s: %w", cl.op, err))
	}
	if b.contentType != "" {
		req.Header.Set("Content-Type", b.contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		// net/http names the whole URL, whose query may hold an email.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = fmt.Errorf("%s %s: %w", cl.method, cl.path, ue.Err)
		}
		c.log.DebugContext(ctx, "auth0 request failed", "op", cl.op, "method", cl.method, "path", cl.path, "attempt", n, "error", err)
		if cl.kind == kindSubmit && wrote.Load() {
			return backoff.Permanent(&AmbiguousSubmitError{File: cl.file, Cause: err})
		}
		if ctx.Err() != nil {
			return backoff.Permanent(context.Cause(ctx))
		}
		err = fmt.Errorf("%s: %w", cl.op, err)
		// An import POST waits long for a free slot, but a tenant that
		// cannot be reached gets no more attempts than any request.
		if st.unanswered++; cl.kind == kindSubmit && st.unanswered >= c.retry.MaxAttempts {
			return backoff.Permanent(err)
		}
		return err
	}
	defer func() {
		// Drain a little so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
	}()
	if cl.kind != kindToken { // the token endpoint has limits of its own
		c.limiter.Observe(resp.Header, resp.StatusCode < 300)
	}
	c.log.DebugContext(ctx, "auth0 request", "op", cl.op, "method", cl.method, "path", cl.path,
		"status", resp.StatusCode, "attempt", n, "took", c.now().Sub(start))

	switch status := resp.StatusCode; {
	case status >= 200 && status < 300:
		if out == nil || status == http.StatusNoContent {
			return nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(out); err != nil {
			unreadable := &APIError{Op: cl.op, Method: cl.method, Path: cl.path, StatusCode: status,
				Message: "unreadable answer: " + err.Error(), Hint: "Check that the target is an Auth0 tenant"}
			if cl.kind == kindSubmit {
				return backoff.Permanent(&AmbiguousSubmitError{File: cl.file, Cause: unreadable})
			}
			return backoff.Permanent(unreadable)
		}
		return nil

	case status == http.StatusUnauthorized && cl.kind != kindToken && !st.refreshed:
		// The token may have been revoked or expired early: get a new one
		// and try once more, at once.
		st.refreshed = true
		c.tokens.Invalidate(token)
		return &retryWait{err: c.apiError(cl, req, resp), wait: backoff.RetryAfterError{}}

	case status == http.StatusTooManyRequests:
		// Refused before any work was done, so safe to repeat for every
		// request, the import POST included (Auth0 answers 429 when the
		// tenant already runs its maximum of import jobs).
		apiErr := c.apiError(cl, req, resp)
		wait, said := rateLimitWait(resp.Header, c.now(), c.retry.MinRateLimitWait, c.retry.MaxRateLimitWait)
		if !said {
			// Not the request rate (tokens are left): most likely the
			// import job limit. Back off exponentially; jobs take minutes.
			return apiErr
		}
		c.limiter.Pause(wait)
		return &retryWait{err: apiErr, wait: backoff.RetryAfterError{Duration: wait}}

	case status >= 500:
		apiErr := c.apiError(cl, req, resp)
		if cl.kind == kindSubmit {
			return backoff.Permanent(&AmbiguousSubmitError{File: cl.file, Cause: apiErr})
		}
		return apiErr

	default:
		return backoff.Permanent(c.apiError(cl, req, resp))
	}
}

// maxAnswerBytes bounds a JSON answer; the largest we expect, the errors
// of a 500 KB import, is well under it.
const maxAnswerBytes = 64 << 20

func (c *Client) apiError(cl call, req *http.Request, resp *http.Response) *APIError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return newAPIError(cl.op, req, resp.StatusCode, b, cl.kind)
}

// apiPath joins the API prefix and segments, returning the path and its
// escaped form: user ids hold characters such as | that must be escaped.
func apiPath(segments ...string) (path, rawPath string) {
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	return "/api/v2/" + strings.Join(segments, "/"), "/api/v2/" + strings.Join(escaped, "/")
}
