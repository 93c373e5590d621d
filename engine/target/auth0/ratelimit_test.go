package auth0

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

func rateHeader(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

// waitTimes reports when each of n sequential Waits returned, relative to
// the start. Inside a synctest bubble time is virtual, so the numbers are
// exact.
func waitTimes(t *testing.T, h *headerLimiter, n int) []time.Duration {
	t.Helper()
	start := time.Now()
	out := make([]time.Duration, n)
	for i := range out {
		if err := h.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		out[i] = time.Since(start)
	}
	return out
}

func TestLimiterFollowsHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header func(now time.Time) http.Header
		n      int
		want   []time.Duration
	}{
		{"unpaced before any answer", nil, 3, []time.Duration{0, 0, 0}},
		// A bucket of 2 refilled every second: two at once, then one per half second.
		{"bucket of 2 per second", func(now time.Time) http.Header { return rateHeader(2, 2, now.Add(time.Second)) }, 4,
			[]time.Duration{0, 0, 500 * time.Millisecond, time.Second}},
		// Other clients spent most of the bucket: only what is left goes at once.
		{"shared bucket", func(now time.Time) http.Header { return rateHeader(10, 1, now.Add(time.Second)) }, 3,
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}},
		// Fewer than the mirror would hold: the tenant's count wins.
		{"tenant refilled faster", func(now time.Time) http.Header { return rateHeader(4, 4, now.Add(time.Second)) }, 5,
			[]time.Duration{0, 0, 0, 0, 250 * time.Millisecond}},
		// Nothing left: wait for the reset, then pace.
		{"empty bucket", func(now time.Time) http.Header { return rateHeader(10, 0, now.Add(3*time.Second)) }, 2,
			[]time.Duration{3 * time.Second, 3 * time.Second}},
		// A tenant clock far ahead must not stall the client for long.
		{"skewed reset", func(now time.Time) http.Header { return rateHeader(10, 0, now.Add(24*time.Hour)) }, 1,
			[]time.Duration{time.Minute}},
		{"garbage headers are ignored", func(time.Time) http.Header {
			h := http.Header{}
			h.Set("X-RateLimit-Limit", "lots")
			return h
		}, 2, []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// Start on a whole second, as x-ratelimit-reset counts in seconds.
				time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
				h := newHeaderLimiter(time.Minute)
				if tt.header != nil {
					h.Observe(tt.header(time.Now()), true)
				}
				got := waitTimes(t, h, tt.n)
				for i := range got {
					if d := got[i] - tt.want[i]; d < -time.Millisecond || d > time.Millisecond {
						t.Fatalf("waits returned at %v, want %v", got, tt.want)
					}
				}
			})
		})
	}
}

func TestLimiterResyncsAndStopsWhenTenantStopsReporting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHeaderLimiter(time.Minute)
		h.Observe(rateHeader(2, 0, time.Now().Add(time.Second)), false)
		h.Observe(rateHeader(2, 2, time.Now()), true) // refilled meanwhile: no wait left but the pause
		if got := waitTimes(t, h, 2); got[0] != time.Second || got[1] != time.Second {
			t.Fatalf("waits returned at %v, want both at the reset", got)
		}
		h.Observe(http.Header{}, false) // a failure without headers changes nothing
		if h.lim == nil {
			t.Fatal("a failed answer without headers must not stop pacing")
		}
		h.Observe(http.Header{}, true)
		if h.lim != nil {
			t.Fatal("a tenant that answers without headers is not paced")
		}
	})
}

func TestPauseHoldsEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHeaderLimiter(time.Minute)
		h.Pause(2 * time.Second)
		h.Pause(time.Second) // a shorter pause does not shorten the longer one
		got := waitTimes(t, h, 2)
		if got[0] != 2*time.Second || got[1] != 2*time.Second {
			t.Fatalf("waits returned at %v, want both at 2s", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		h.Pause(time.Minute)
		if err := h.Wait(ctx); err == nil {
			t.Fatal("a cancelled wait must return the context's error")
		}
	})
}

func TestRateLimitWait(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	lo, hi := time.Second, 10*time.Second
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		said   bool
	}{
		{"retry-after seconds", map[string]string{"Retry-After": "4"}, 4 * time.Second, true},
		{"retry-after date", map[string]string{"Retry-After": now.Add(6 * time.Second).UTC().Format(http.TimeFormat)}, 6 * time.Second, true},
		{"retry-after wins over reset", map[string]string{"Retry-After": "2", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+8, 10)}, 2 * time.Second, true},
		{"reset", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+3, 10)}, 3 * time.Second, true},
		{"clamped up", map[string]string{"Retry-After": "0"}, lo, true},
		{"clamped down", map[string]string{"Retry-After": "3600"}, hi, true},
		{"nothing said", nil, lo, false},
		{"tokens left: not the rate", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+3, 10)}, lo, false},
		{"reset in the past", map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()-30, 10)}, lo, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got, said := rateLimitWait(h, now, lo, hi); got != tt.want || said != tt.said {
				t.Errorf("wait = %v (said %v), want %v (%v)", got, said, tt.want, tt.said)
			}
		})
	}
}
