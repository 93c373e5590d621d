package auth0

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// headerLimiter paces requests by what the tenant says about its token
// bucket in every answer (docs/auth0.md §3):
//
//	x-ratelimit-limit      bucket size
//	x-ratelimit-remaining  tokens left
//	x-ratelimit-reset      UNIX second when the bucket is full again
//
// It mirrors the bucket in a rate.Limiter holding exactly the tokens the
// tenant last reported. Between answers the mirror refills a whole bucket
// per second: Auth0 documents its limits as a burst with a refill of at
// most that per second (2 and 2/s, 50 and 16/s, 10 and 2/s), and the reset
// time, in whole seconds, is too coarse to measure the refill. Where that
// is optimistic the next answer corrects it, and when the tenant says no
// token is left, or answers 429, every request waits for the reset
// instead of spending attempts on refusals. A tenant that reports no
// bucket is not paced.
type headerLimiter struct {
	now func() time.Time
	// maxPause bounds a wait for the reset: the reset is the tenant's
	// clock, and a skewed clock must not stall the client.
	maxPause time.Duration

	mu          sync.Mutex
	lim         *rate.Limiter // nil while the tenant reports no bucket
	pausedUntil time.Time
}

func newHeaderLimiter(maxPause time.Duration) *headerLimiter {
	return &headerLimiter{now: time.Now, maxPause: maxPause}
}

// Wait blocks until a request may be sent.
func (h *headerLimiter) Wait(ctx context.Context) error {
	h.mu.Lock()
	until, lim := h.pausedUntil, h.lim
	h.mu.Unlock()
	if d := until.Sub(h.now()); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	if lim == nil {
		return nil
	}
	return lim.Wait(ctx)
}

// Observe adapts the limiter to an answer's rate-limit headers. A
// successful answer without them means the tenant does not limit: pacing
// stops.
func (h *headerLimiter) Observe(hdr http.Header, success bool) {
	limit, remaining, reset, ok := rateHeaders(hdr)
	if !ok || limit <= 0 {
		if success {
			h.mu.Lock()
			h.lim = nil
			h.mu.Unlock()
		}
		return
	}
	now := h.now()
	// A fresh limiter starts full; spending what the tenant says is gone
	// leaves exactly "remaining" (other clients of the tenant share it).
	// maxPause bounds the wait for one token too.
	refill := max(rate.Limit(limit), rate.Every(h.maxPause))
	lim := rate.NewLimiter(refill, limit)
	if spent := min(limit-remaining, limit); spent > 0 {
		lim.ReserveN(now, spent)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	h.lim = lim
	until := reset
	if latest := now.Add(h.maxPause); until.After(latest) {
		until = latest
	}
	if remaining <= 0 && until.After(h.pausedUntil) {
		h.pausedUntil = until
	}
}

// Pause holds every request back until now+d, after a 429.
func (h *headerLimiter) Pause(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if until := h.now().Add(d); until.After(h.pausedUntil) {
		h.pausedUntil = until
	}
}

func rateHeaders(hdr http.Header) (limit, remaining int, reset time.Time, ok bool) {
	l, err1 := strconv.Atoi(hdr.Get("X-RateLimit-Limit"))
	r, err2 := strconv.Atoi(hdr.Get("X-RateLimit-Remaining"))
	s, err3 := strconv.ParseInt(hdr.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, time.Time{}, false
	}
	return l, r, time.Unix(s, 0), true
}

// rateLimitWait is how long to wait after a 429, clamped to [lo, hi]:
// Retry-After (seconds or an HTTP date) if given, else until
// x-ratelimit-reset when the bucket is empty. said is false when the
// tenant names no wait, or tokens are left so the 429 is not about the
// request rate.
func rateLimitWait(hdr http.Header, now time.Time, lo, hi time.Duration) (wait time.Duration, said bool) {
	if ra := hdr.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(ra); err == nil {
			wait, said = time.Duration(secs)*time.Second, true
		} else if at, err := http.ParseTime(ra); err == nil {
			wait, said = at.Sub(now), true
		}
	}
	if _, remaining, reset, ok := rateHeaders(hdr); !said && ok && remaining <= 0 {
		wait, said = reset.Sub(now), true
	}
	return min(max(wait, lo), hi), said
}
