// Package fakerun is a scripted stand-in for the staged executor, for the
// assistant's tests: it emits a fixed story of events, waits at the gates
// the script names until the page approves (or pauses), and ends with the
// journal status the script gives. Screens drawn from it are the same on
// every machine, which a real run's timing and job ids are not.
package fakerun

import (
	"context"
	"sync"

	"provision/engine/run"
	"provision/engine/run/verify"
	"provision/storage"
)

// Step is events to emit, then, when Gate is set, a wait at that stage's
// gate.
type Step struct {
	Events []run.Event
	Gate   string
	// GateReason is what the wait says.
	GateReason string
}

// Script is a whole run.
type Script struct {
	Steps []Step
	// Final is the journal's status at the end of a finished run.
	Final storage.Status
	// Waiting is the status while the run waits at a gate, for a pause there.
	Waiting storage.Status
}

// Engine plays a Script. It satisfies the Run migration page's Engine.
type Engine struct {
	opts   run.Options
	script Script

	mu       sync.Mutex
	approved map[string]bool
	wake     chan struct{}
	paused   bool
}

// New returns an engine that plays script with opts' events channel
// (and opts.Approve taken as approved from the start).
func New(opts run.Options, script Script) *Engine {
	e := &Engine{opts: opts, script: script, approved: map[string]bool{}, wake: make(chan struct{}, 1)}
	if opts.Approve != "" {
		e.approved[opts.Approve] = true
	}
	return e
}

func (e *Engine) emit(ev run.Event) {
	if e.opts.Events != nil {
		e.opts.Events <- ev
	}
}

// Run plays the script.
func (e *Engine) Run(ctx context.Context) (run.Result, error) {
	for _, st := range e.script.Steps {
		for _, ev := range st.Events {
			e.emit(ev)
		}
		if st.Gate == "" {
			continue
		}
		for {
			e.mu.Lock()
			ok, paused := e.approved[st.Gate], e.paused
			e.mu.Unlock()
			if ok {
				e.emit(run.StageSettled{Stage: st.Gate, State: storage.StageDone, Reason: "approved in the assistant"})
				break
			}
			if paused {
				e.emit(run.Paused{Stage: st.Gate, Reason: "paused by the operator", State: run.StatePaused})
				return run.Result{State: run.StatePaused, Stage: st.Gate, Reason: "paused by the operator", Status: e.script.Waiting}, nil
			}
			e.emit(run.AwaitingApproval{Stage: st.Gate, Reason: st.GateReason})
			select {
			case <-e.wake:
			case <-ctx.Done():
				e.Pause()
			}
		}
	}
	e.emit(run.Finished{Counts: e.script.Final.Users})
	return run.Result{State: run.StateFinished, Status: e.script.Final}, nil
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Pause stops the run at its gate.
func (e *Engine) Pause() {
	e.mu.Lock()
	e.paused = true
	e.mu.Unlock()
	e.poke()
}

// Abort stops it too.
func (e *Engine) Abort() { e.Pause() }

// Approve lets a stage through its gate.
func (e *Engine) Approve(stage, _, _ string) {
	e.mu.Lock()
	e.approved[stage] = true
	e.mu.Unlock()
	e.poke()
}

// Demo is the story of the demo export's run in the stages
// canary:25:approve,rest: 300 rows, 284 to import, the canary waiting for
// approval, the rest in five jobs.
func Demo() Script {
	counts := func(ins int) storage.UserCounts {
		return storage.UserCounts{storage.UserInserted: ins}
	}
	gate := storage.Gate{MaxFailureRate: 0.02}
	canary := storage.StageStatus{Stage: storage.Stage{Position: 1, Name: "canary", Planned: 25, Gate: storage.Gate{MaxFailureRate: 0.02, Approve: true}, State: storage.StageDone}, Users: counts(25)}
	rest := storage.StageStatus{Stage: storage.Stage{Position: 2, Name: "rest", Planned: 259, Gate: gate, State: storage.StageDone}, Users: counts(259)}
	final := storage.Status{
		Stages: []storage.StageStatus{canary, rest},
		Users:  storage.UserCounts{storage.UserInserted: 284, storage.UserQuarantined: 13, storage.UserSkipped: 3},
	}
	waitCanary := canary
	waitCanary.State, waitCanary.GateReason = storage.StageGated, "the plan requires approval"
	waitRest := rest
	waitRest.State, waitRest.Users = storage.StagePending, storage.UserCounts{storage.UserAssigned: 259}
	waiting := storage.Status{
		Stages: []storage.StageStatus{waitCanary, waitRest},
		Users:  storage.UserCounts{storage.UserInserted: 25, storage.UserAssigned: 259, storage.UserQuarantined: 13, storage.UserSkipped: 3},
	}
	settled := func(stage string, users, ins int) run.StageProgress {
		return run.StageProgress{Stage: stage, Users: users, Counts: counts(ins)}
	}
	chunk := func(stage string, id storage.ChunkID, users int, job string) []run.Event {
		return []run.Event{run.ChunkSubmitted{Stage: stage, Chunk: id, Job: job, Users: users, Attempt: 1}}
	}
	done := func(stage string, id storage.ChunkID, users int, job string) run.ChunkFinished {
		return run.ChunkFinished{Stage: stage, Chunk: id, Job: job, Inserted: users}
	}
	var restEvents []run.Event
	restEvents = append(restEvents, run.StageStarted{Stage: "rest", Users: 259, Remaining: 259})
	restEvents = append(restEvents, chunk("rest", 2, 57, "job_demo00000002")...)
	restEvents = append(restEvents, chunk("rest", 3, 59, "job_demo00000003")...)
	restEvents = append(restEvents,
		run.JobProgress{Stage: "rest", Chunk: 2, Job: "job_demo00000002", Percent: 60},
		done("rest", 2, 57, "job_demo00000002"), settled("rest", 259, 57),
		done("rest", 3, 59, "job_demo00000003"), settled("rest", 259, 116))
	restEvents = append(restEvents, chunk("rest", 4, 58, "job_demo00000004")...)
	restEvents = append(restEvents, chunk("rest", 5, 61, "job_demo00000005")...)
	restEvents = append(restEvents,
		done("rest", 4, 58, "job_demo00000004"), settled("rest", 259, 174),
		done("rest", 5, 61, "job_demo00000005"), settled("rest", 259, 235))
	restEvents = append(restEvents, chunk("rest", 6, 24, "job_demo00000006")...)
	restEvents = append(restEvents,
		done("rest", 6, 24, "job_demo00000006"), settled("rest", 259, 259),
		run.Verified{Stage: "rest", Report: verify.Report{Sampled: 10, Found: 10}},
		run.StageSettled{Stage: "rest", State: storage.StageDone})
	return Script{
		Final:   final,
		Waiting: waiting,
		Steps: []Step{
			{Events: []run.Event{
				run.Preparing{Step: "fingerprinting exports/demo-users.csv"},
				run.Registered{Rows: 300, Pending: 284, Quarantined: 13, Skipped: 3, Done: true},
				run.StagesAssigned{Stages: []run.StageSize{{Name: "canary", Users: 25}, {Name: "rest", Users: 259}}},
				run.StageStarted{Stage: "canary", Users: 25, Remaining: 25},
				run.ChunkSubmitted{Stage: "canary", Chunk: 1, Job: "job_demo00000001", Users: 25, Attempt: 1},
				run.JobProgress{Stage: "canary", Chunk: 1, Job: "job_demo00000001", Percent: 40},
				done("canary", 1, 25, "job_demo00000001"),
				settled("canary", 25, 25),
				run.Verified{Stage: "canary", Report: verify.Report{Sampled: 10, Found: 10}},
				run.StageSettled{Stage: "canary", State: storage.StageGated, Reason: "the plan requires approval"},
			}, Gate: "canary", GateReason: "the plan requires approval; check it, then approve it with --approve canary"},
			{Events: restEvents},
		},
	}
}
