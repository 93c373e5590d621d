package runmigration

import (
	"fmt"
	"strings"
	"time"

	"provision/engine/plan"
	"provision/engine/run"
	"provision/storage"
)

// stageRow is one stage as the page shows it.
type stageRow struct {
	name    string
	state   storage.StageState
	size    string // as planned ("25", "10%", "rest") until the users are counted
	users   int    // users in the stage; 0 until assigned
	counts  storage.UserCounts
	gate    storage.Gate
	rate    float64 // failed over users with an outcome
	reason  string  // why it stopped at its gate
	waiting bool    // the run waits at this stage's gate
}

// settled is how many of the stage's users have an outcome.
func (s *stageRow) settled() int { return s.counts.WithOutcome() }

// flight is a chunk whose job may be running at the target.
type flight struct {
	stage   string
	users   int
	percent int
}

// point is users settled at an instant, for the rate and the chart.
type point struct {
	at time.Time
	n  int
}

// logLine is one line of the latest events.
type logLine struct {
	at   time.Time
	text string
}

// maxLog is how many events the page keeps.
const maxLog = 200

// progress is the run as the page knows it: the journal's state when the
// page opened, then every event of the runs since.
type runState struct {
	stages   []*stageRow
	flights  map[storage.ChunkID]flight
	points   []point
	log      []logLine
	reg      *run.Registered
	step     string // what the engine prepares
	counts   storage.UserCounts
	started  time.Time // first event of the current run
	rateFrom time.Time // the rate counts from here: the stage's start
	lastRate float64   // the rate when the last chunk settled
	lastRun  time.Time // last settled chunk
	finished bool
	verified map[string]string // stage -> the verification's summary
}

func newProgress() *runState {
	return &runState{flights: map[storage.ChunkID]flight{}, verified: map[string]string{}}
}

// fromPlan lists the stages a new run will have.
func (p *runState) fromPlan(stages []plan.StagePlan) {
	p.stages = nil
	for _, st := range stages {
		p.stages = append(p.stages, &stageRow{
			name: st.Name, state: storage.StagePending, size: st.Size(),
			gate: storage.Gate{MaxFailureRate: st.MaxFailureRate, Approve: st.Approve},
		})
	}
}

// fromStatus takes the journal's state.
func (p *runState) fromStatus(st storage.Status) {
	p.stages = nil
	for _, s := range st.Stages {
		p.stages = append(p.stages, &stageRow{
			name: s.Name, state: s.State, size: fmt.Sprint(s.Planned), users: s.Users.Total(),
			counts: s.Users, gate: s.Gate, rate: s.FailureRate, reason: s.GateReason,
		})
	}
	p.flights = map[storage.ChunkID]flight{}
	for _, c := range st.InFlight {
		p.flights[c.ID] = flight{stage: c.Stage, users: c.Users}
	}
	p.counts = st.Users
	p.finished = len(st.Stages) > 0
	for _, s := range st.Stages {
		if s.State != storage.StageDone {
			p.finished = false
		}
	}
}

func (p *runState) stage(name string) *stageRow {
	for _, s := range p.stages {
		if s.name == name {
			return s
		}
	}
	s := &stageRow{name: name, state: storage.StagePending}
	p.stages = append(p.stages, s)
	return s
}

func (p *runState) note(at time.Time, text string) {
	p.log = append(p.log, logLine{at: at, text: text})
	if len(p.log) > maxLog {
		p.log = p.log[len(p.log)-maxLog:]
	}
}

// apply takes one event of a run at instant now.
func (p *runState) apply(ev run.Event, now time.Time) {
	if p.started.IsZero() {
		p.started = now
	}
	if _, ok := ev.(run.JobProgress); !ok {
		p.note(now, eventText(ev))
	}
	switch ev.(type) {
	case run.Preparing, run.Registered, run.Note, run.SourceAccepted:
	default:
		p.step = "" // preparation is over once anything else happens
	}
	switch e := ev.(type) {
	case run.Preparing:
		p.step = e.Step
	case run.Registered:
		r := e
		p.reg = &r
	case run.StagesAssigned:
		for _, sz := range e.Stages {
			s := p.stage(sz.Name)
			s.users = sz.Users
			s.size = fmt.Sprint(sz.Users)
		}
	case run.StageStarted:
		p.rateFrom = now
		s := p.stage(e.Stage)
		s.state, s.users, s.waiting, s.reason = storage.StageRunning, e.Users, false, ""
	case run.ChunkSubmitted:
		p.flights[e.Chunk] = flight{stage: e.Stage, users: e.Users}
	case run.JobProgress:
		if f, ok := p.flights[e.Chunk]; ok {
			f.percent = e.Percent
			p.flights[e.Chunk] = f
		}
	case run.ChunkFinished:
		delete(p.flights, e.Chunk)
		n := e.Inserted + e.Updated + e.Failed
		p.points = append(p.points, point{at: now, n: n})
		p.lastRun = now
		p.lastRate = p.rate(now)
	case run.ChunkUnsettled:
		delete(p.flights, e.Chunk)
	case run.StageProgress:
		s := p.stage(e.Stage)
		s.users, s.counts = e.Users, e.Counts
		s.rate = e.Counts.FailureRate()
	case run.Verified:
		p.verified[e.Stage] = strings.TrimPrefix(e.String(), "stage "+e.Stage+" verified: ")
	case run.StageSettled:
		s := p.stage(e.Stage)
		s.state, s.rate = e.State, e.FailureRate
		s.reason = e.Reason
		if e.State == storage.StageDone {
			s.waiting = false
		}
	case run.AwaitingApproval:
		s := p.stage(e.Stage)
		s.waiting, s.state = true, storage.StageGated
		if s.reason == "" {
			s.reason = e.Reason
		}
	case run.Finished:
		p.counts = e.Counts
		p.finished = true
		p.flights = map[storage.ChunkID]flight{}
	case run.RolledBack:
		s := p.stage(e.Stage)
		s.state = storage.StageRollingBack
		if e.Done {
			s.state = storage.StageRolledBack
		}
	}
}

// waitingAt is the stage the run waits at, or nil.
func (p *runState) waitingAt() *stageRow {
	for _, s := range p.stages {
		if s.waiting {
			return s
		}
	}
	return nil
}

// current is the stage being worked on: the first that is not done.
func (p *runState) current() *stageRow {
	for _, s := range p.stages {
		if s.state != storage.StageDone {
			return s
		}
	}
	return nil
}

// fraction is how far a stage is, counting jobs in flight by their
// progress at the target.
func (p *runState) fraction(s *stageRow) float64 {
	if s.state == storage.StageDone {
		return 1
	}
	if s.users == 0 {
		return 0
	}
	done := float64(s.settled())
	for _, f := range p.flights {
		if f.stage == s.name {
			done += float64(f.users) * float64(f.percent) / 100
		}
	}
	return min(done/float64(s.users), 1)
}

// rateWindow is the span rows/s is measured over.
const rateWindow = 10 * time.Second

// rate is users settled per second over the last rateWindow of work.
func (p *runState) rate(now time.Time) float64 {
	if len(p.points) == 0 {
		return 0
	}
	// Time waiting at a gate is not work: count from the stage's start.
	from := now.Add(-rateWindow)
	if p.rateFrom.After(from) {
		from = p.rateFrom
	}
	n := 0
	for _, pt := range p.points {
		if !pt.at.Before(from) {
			n += pt.n
		}
	}
	if n == 0 {
		// A stage that has settled nothing yet goes about as fast as the
		// work before it.
		return p.lastRate
	}
	span := now.Sub(from)
	if span < time.Second {
		span = time.Second
	}
	return float64(n) / span.Seconds()
}

// remaining is how many users of unfinished stages still need an outcome.
func (p *runState) remaining() int {
	n := 0
	for _, s := range p.stages {
		if s.state == storage.StageDone || s.state == storage.StageRolledBack {
			continue
		}
		n += max(s.users-s.settled(), 0)
	}
	return n
}

// inFlight counts the jobs that may be running at the target.
func (p *runState) inFlight() int { return len(p.flights) }

// buckets are users settled per bar, from the run's start up to now,
// at most width bars: a second a bar while that fits, else as many
// seconds a bar as it takes. It returns the bars and the seconds per bar.
func (p *runState) buckets(now time.Time, width int) ([]float64, int) {
	if width <= 0 || p.started.IsZero() {
		return nil, 1
	}
	start := p.started.Truncate(time.Second)
	secs := int(now.Sub(start)/time.Second) + 1
	per := max(1, (secs+width-1)/width)
	n := (secs + per - 1) / per
	out := make([]float64, n)
	for _, pt := range p.points {
		i := int(pt.at.Sub(start)/time.Second) / per
		if i >= 0 && i < n {
			out[i] += float64(pt.n)
		}
	}
	return out, per
}

// eventText is an event as the latest events show it: as the engine says
// it, less the command-line advice the page's keys replace.
func eventText(ev run.Event) string {
	switch e := ev.(type) {
	case run.AwaitingApproval:
		return fmt.Sprintf("stage %s waits for approval: %s", e.Stage, shortReason(e.Reason))
	case run.Paused:
		e.Reason = shortReason(e.Reason)
		return e.String()
	}
	return ev.String()
}
