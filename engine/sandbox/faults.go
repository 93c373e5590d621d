package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// FaultKind is a way a Management API request can go wrong.
type FaultKind int

const (
	// FaultInternalError answers 500 Internal Server Error.
	FaultInternalError FaultKind = iota + 1
	// FaultUnavailable answers 503 Service Unavailable.
	FaultUnavailable
	// FaultHang never answers: the request is held until the client gives
	// up (or the sandbox shuts down), as a stalled upstream would.
	FaultHang
)

func (k FaultKind) valid() bool { return k >= FaultInternalError && k <= FaultHang }

func (k FaultKind) String() string {
	switch k {
	case FaultInternalError:
		return "500"
	case FaultUnavailable:
		return "503"
	case FaultHang:
		return "hang"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKinds reads a comma-separated list such as "500,503,hang".
func ParseFaultKinds(s string) ([]FaultKind, error) {
	var kinds []FaultKind
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "500":
			kinds = append(kinds, FaultInternalError)
		case "503":
			kinds = append(kinds, FaultUnavailable)
		case "hang":
			kinds = append(kinds, FaultHang)
		case "":
		default:
			return nil, fmt.Errorf("fault kind %q: want 500, 503 or hang", f)
		}
	}
	return kinds, nil
}

// Faults is the sandbox's fault injector. Rates apply at random; the
// scripted methods (FailNext, RateLimitNext, ...) hit the next requests
// deterministically, which is what tests of retry and resume logic need.
// All methods are safe for concurrent use and take effect immediately.
type Faults struct {
	mu  sync.Mutex
	rng *rand.Rand

	failRate  float64
	failKinds []FaultKind
	next      []FaultKind // scripted faults for the next API requests

	rateLimitNext  int
	importsFailing int // import POSTs that create the job, then answer 500

	jobFailRate  float64
	jobsFailing  int
	jobDuration  time.Duration
	tokenTTL     time.Duration
	defaultKinds []FaultKind
}

func newFaults(cfg Config, seed uint64) *Faults {
	return &Faults{
		rng:          rand.New(rand.NewPCG(seed, seed^0x5eed)),
		failRate:     cfg.FailRate,
		failKinds:    cfg.FailKinds,
		defaultKinds: cfg.FailKinds,
		jobFailRate:  cfg.JobFailRate,
		jobDuration:  cfg.JobDuration,
		tokenTTL:     cfg.TokenLifetime,
	}
}

// SetFailRate makes a fraction of Management API requests fail with one of
// kinds (all kinds when none are given).
func (f *Faults) SetFailRate(fraction float64, kinds ...FaultKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRate = fraction
	f.failKinds = kinds
	if len(kinds) == 0 {
		f.failKinds = f.defaultKinds
	}
}

// FailNext makes the next n Management API requests fail with kind,
// before they have any effect.
func (f *Faults) FailNext(n int, kind FaultKind) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.next = append(f.next, kind)
	}
}

// RateLimitNext answers the next n Management API requests with 429 and an
// empty bucket, as in a burst of traffic from other clients of the tenant.
func (f *Faults) RateLimitNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rateLimitNext += n
}

// FailImportsAfterCreate makes the next n import POSTs create their job
// and then answer 500: the submission that the client cannot tell apart
// from one that never arrived.
func (f *Faults) FailImportsAfterCreate(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.importsFailing += n
}

// SetJobFailRate makes a fraction of new import jobs end failed.
func (f *Faults) SetJobFailRate(fraction float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobFailRate = fraction
}

// FailNextJobs makes the next n import jobs end failed, importing nobody.
func (f *Faults) FailNextJobs(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobsFailing += n
}

// SetJobDuration changes how long jobs created from now on take.
func (f *Faults) SetJobDuration(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobDuration = d
}

// SetTokenLifetime changes the lifetime of tokens issued from now on, so a
// test can make a client's token expire in the middle of a run.
func (f *Faults) SetTokenLifetime(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenTTL = d
}

// Reset clears every scripted fault and sets the rates to zero.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRate, f.jobFailRate = 0, 0
	f.next, f.rateLimitNext, f.importsFailing, f.jobsFailing = nil, 0, 0, 0
}

// requestFault decides the fate of one API request: a fault kind, or 0.
func (f *Faults) requestFault() FaultKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.next) > 0 {
		k := f.next[0]
		f.next = f.next[1:]
		return k
	}
	if f.failRate > 0 && f.rng.Float64() < f.failRate {
		return f.failKinds[f.rng.IntN(len(f.failKinds))]
	}
	return 0
}

func (f *Faults) takeRateLimited() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rateLimitNext > 0 {
		f.rateLimitNext--
		return true
	}
	return false
}

func (f *Faults) takeImportFailure() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.importsFailing > 0 {
		f.importsFailing--
		return true
	}
	return false
}

// newJob returns the duration of a job created now and whether it must
// end failed.
func (f *Faults) newJob() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fail := false
	if f.jobsFailing > 0 {
		f.jobsFailing--
		fail = true
	} else if f.jobFailRate > 0 && f.rng.Float64() < f.jobFailRate {
		fail = true
	}
	return f.jobDuration, fail
}

// exportDuration is how long an export job created now takes. Export jobs
// take the job duration but never fail on purpose.
func (f *Faults) exportDuration() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobDuration
}

func (f *Faults) tokenLifetime() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenTTL
}
