package upload

import (
	"sync"
	"time"
)

// PollPolicy shapes job polling. Zero fields take the defaults in
// parentheses.
//
// A job's first poll comes after Initial (100 ms) and the wait grows by
// Multiplier (1.5) up to Max (10 s): short at first, so a quick job is
// seen quickly, then backing off, so a long one costs few requests. Once
// jobs have finished, the pipeline knows roughly how long one takes: the
// first poll then comes just before that, and the job is watched in steps
// of Fraction (5%) of it, at least Min (50 ms), so a finished job waits
// for its slot to be refilled by about one step at most. Should a job
// outlast 1.5 times the estimate, the waits grow again as at first.
type PollPolicy struct {
	Initial    time.Duration
	Min        time.Duration
	Max        time.Duration
	Multiplier float64
	Fraction   float64
}

func (p PollPolicy) withDefaults() PollPolicy {
	if p.Initial <= 0 {
		p.Initial = 100 * time.Millisecond
	}
	if p.Min <= 0 {
		p.Min = 50 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1.5
	}
	if p.Fraction <= 0 {
		p.Fraction = 0.05
	}
	return p
}

// estimate learns how long jobs take, shared by every slot. It averages
// the last time each finished job was seen still running: a lower bound
// of its duration, so the next job's first poll lands a little before
// it is likely done rather than after.
type estimate struct {
	mu  sync.Mutex
	d   time.Duration
	set bool
}

func (e *estimate) observe(runningAt time.Duration) {
	if runningAt <= 0 {
		return // done at the first poll: the job says nothing about its length
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.set {
		e.d, e.set = runningAt, true
		return
	}
	e.d = (e.d + runningAt) / 2 // recent jobs weigh most: sizes and load drift
}

func (e *estimate) get() (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.d, e.set
}

// schedule is one job's polling schedule. It implements backoff.BackOff,
// so backoff.Retry drives the polls.
type schedule struct {
	p        PollPolicy
	expected time.Duration // zero: no estimate yet
	step     time.Duration
	lastSeen time.Duration // when, since following began, the job was last seen running
}

func newSchedule(p PollPolicy, est *estimate) *schedule {
	s := &schedule{p: p.withDefaults()}
	if d, ok := est.get(); ok {
		s.expected = d
	}
	s.Reset()
	return s
}

// first is the wait between the submit and the first poll.
func (s *schedule) first() time.Duration {
	if s.expected > 0 {
		return max(s.expected, s.p.Min)
	}
	return s.p.Initial
}

// sawRunning tells the schedule when (since following began) the job was
// last seen running.
func (s *schedule) sawRunning(at time.Duration) { s.lastSeen = at }

// Reset implements backoff.BackOff.
func (s *schedule) Reset() {
	if s.expected > 0 {
		s.step = max(time.Duration(float64(s.expected)*s.p.Fraction), s.p.Min)
	} else {
		s.step = s.p.Initial
	}
}

// NextBackOff implements backoff.BackOff: the wait before the next poll.
func (s *schedule) NextBackOff() time.Duration {
	next := s.step
	overdue := s.expected == 0 || s.lastSeen > s.expected+s.expected/2
	if overdue {
		s.step = min(time.Duration(float64(s.step)*s.p.Multiplier), s.p.Max)
	}
	return min(next, s.p.Max)
}
