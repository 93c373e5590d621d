package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"provision/storage"
)

// State is where a run stands when Run returns.
type State string

const (
	// StateFinished: every stage is done.
	StateFinished State = "finished"
	// StateAwaitingApproval: a stage passed its checks and its plan asks
	// for an operator's approval (Approve, or --approve STAGE).
	StateAwaitingApproval State = "awaiting_approval"
	// StateGated: a stage's failure rate is above its gate, or its
	// verification found problems; approve it anyway, retry it, or roll
	// it back.
	StateGated State = "gated"
	// StatePaused: stopped on request (Pause, Ctrl-C) or by a problem that
	// a later resume may not have (the target unreachable). Running again
	// resumes.
	StatePaused State = "paused"
	// StateStopped: the run cannot go on without the operator: a stage
	// was rolled back, or a chunk keeps failing.
	StateStopped State = "stopped"
)

// Result is how a run ended.
type Result struct {
	State  State
	Stage  string // the stage concerned, for every state but finished
	Reason string // why, and what the operator can do
	// Status is the journal's state at the end.
	Status storage.Status
	// Source and Settings are what the run was started with.
	Source   storage.SourceFingerprint
	Settings storage.RunSettings
}

// Engine drives one journal's run: the staged executor. Headless commands
// and the TUI drive it the same way: Run starts (or resumes) the run and
// returns when it is finished, paused or stopped at a gate; Pause, Abort
// and Approve are the commands; progress arrives on Options.Events.
// Running it again resumes from the journal.
type Engine struct {
	opts Options
	// maxFileBytesSet: the caller chose the file size, rather than a
	// resume taking the journal's.
	maxFileBytesSet bool

	mu        sync.Mutex
	running   bool
	stop      *stopper
	approvals map[string]approval
	approved  chan struct{} // wakes a run waiting at a gate
}

type approval struct{ by, note string }

// New checks opts and returns an engine. It touches nothing: the journal
// is opened by Run.
func New(opts Options) (*Engine, error) {
	maxFileBytesSet := opts.MaxFileBytes != 0
	if err := opts.withDefaults(); err != nil {
		return nil, err
	}
	if _, err := opts.stagePlans(); err != nil {
		return nil, err
	}
	return &Engine{opts: opts, maxFileBytesSet: maxFileBytesSet, approvals: map[string]approval{}, approved: make(chan struct{}, 1)}, nil
}

// ErrRunning is returned by Run while another Run of the engine is active.
var ErrRunning = errors.New("the run is already running")

// Run starts or resumes the run and drives it until every stage is done,
// a gate stops it, or it is paused. Cancelling ctx pauses it the way Pause
// does (Ctrl-C): no new job is submitted, a submission already on the
// wire is given a few seconds to be answered so its job id is recorded,
// and jobs in flight are left to run, recorded in the journal for the next
// run to follow. The error is for failures that pausing cannot explain
// (a journal that cannot be written, refused credentials, a changed
// source); after any of them, running again is safe.
func (e *Engine) Run(ctx context.Context) (Result, error) {
	stop, err := e.begin()
	if err != nil {
		return Result{}, err
	}
	defer e.end()
	unwatch := context.AfterFunc(ctx, func() { stop.request(stopPause, "interrupted") })
	defer unwatch()

	s := &session{e: e, stop: stop, chunks: map[storage.ChunkID]*chunkInfo{}, tries: map[storage.ChunkID]int{}}
	defer s.close()
	if err := e.prepare(ctx, s); err != nil {
		if ctx.Err() != nil && s.j != nil {
			return e.finish(s, Result{State: StatePaused, Reason: "interrupted while preparing the run; run it again to continue"}), nil
		}
		return Result{}, err
	}
	// Stage work must outlive ctx: a pause lets the submission on the
	// wire finish, and the stopper decides when to cut the rest.
	res, err := e.runStages(context.WithoutCancel(ctx), s)
	if err != nil {
		return Result{}, err
	}
	return e.finish(s, res), nil
}

// finish reads the final status, announces the end and cleans up.
func (e *Engine) finish(s *session, res Result) Result {
	if st, err := s.j.Status(20); err == nil {
		res.Status = st
	}
	res.Source, res.Settings = s.meta.Source, s.meta.Settings
	switch res.State {
	case StateFinished:
		e.emit(Finished{Counts: res.Status.Users})
		// The spool holds password hashes; a finished run needs it no more.
		if s.spool != "" {
			_ = os.Remove(s.spool)
		}
	case StateAwaitingApproval:
		e.emit(AwaitingApproval{Stage: res.Stage, Reason: res.Reason})
	default:
		e.emit(Paused{Stage: res.Stage, Reason: res.Reason, State: res.State})
	}
	if res.State != StateFinished {
		_, _ = s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Stage: res.Stage, Message: fmt.Sprintf("run %s: %s", res.State, res.Reason)})
	}
	return res
}

func (e *Engine) begin() (*stopper, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running {
		return nil, ErrRunning
	}
	e.running = true
	e.stop = newStopper()
	return e.stop, nil
}

func (e *Engine) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
}

// Pause stops the run at the next safe point: nothing new is submitted,
// a submission on the wire is answered and recorded, jobs in flight are
// left to run. Run then returns StatePaused.
func (e *Engine) Pause() { e.request(stopPause, "paused by the operator") }

// Abort stops the run at once, even in the middle of a submission (whose
// chunk the next run then treats as ambiguous). The journal stays
// consistent either way.
func (e *Engine) Abort() { e.request(stopAbort, "aborted by the operator") }

func (e *Engine) request(m stopMode, reason string) {
	e.mu.Lock()
	st := e.stop
	e.mu.Unlock()
	if st != nil {
		st.request(m, reason)
	}
}

// Approve lets a stage through its gate: at once if the run waits there,
// else when the run reaches it. by and note go to the audit log.
func (e *Engine) Approve(stage, by, note string) {
	e.mu.Lock()
	e.approvals[stage] = approval{by: by, note: note}
	e.mu.Unlock()
	select {
	case e.approved <- struct{}{}:
	default:
	}
}

// approvalFor reports whether the operator approved stage, through Approve
// or Options.Approve.
func (e *Engine) approvalFor(stage string) (approval, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.approvals[stage]; ok {
		return a, true
	}
	if e.opts.Approve == stage {
		return approval{by: e.opts.Operator, note: "approved with --approve " + stage}, true
	}
	return approval{}, false
}

// emit sends ev to the caller, who must keep reading until Run returns.
func (e *Engine) emit(ev Event) {
	e.opts.Logger.Debug(ev.String())
	if e.opts.Events != nil {
		e.opts.Events <- ev
	}
}

// session is one Run's state.
type session struct {
	e       *Engine
	j       *storage.Journal
	meta    storage.Meta
	fp      storage.SourceFingerprint
	changed bool // the source is not the one the journal was started with
	notes   journalNotes
	spool   string    // the spool's file
	mem     *memSpool // the spool, when it is kept in memory (memspool.go)
	// optionsKey is the canonical text of the source options (spool.go).
	optionsKey string
	stop       *stopper
	snap       *snapshotter

	mu     sync.Mutex
	chunks map[storage.ChunkID]*chunkInfo
	tries  map[storage.ChunkID]int // submissions in this run
	held   map[int]bool            // chunk sequences the stopper kept from being sent
}

func (s *session) close() {
	if s.snap != nil {
		s.snap.remove()
	}
	s.mem.release()
	if s.j != nil {
		_ = s.j.Close()
	}
}

// stopMode orders the ways a run stops, mildest first.
type stopMode int

const (
	stopNone  stopMode = iota
	stopDrain          // submit nothing new; let jobs in flight finish and record them
	stopPause          // submit nothing new; finish the submission on the wire; leave jobs running
	stopAbort          // cut everything now
)

// errStopped is the cause of a pipeline the stopper cancelled.
var errStopped = errors.New("run stopped")

// pauseGrace bounds how long a pause waits for a submission on the wire.
const pauseGrace = 15 * time.Second

// stopper carries stop requests to the pipeline running now.
type stopper struct {
	mu         sync.Mutex
	mode       stopMode
	reason     string
	submitting bool
	cancel     context.CancelCauseFunc
	timer      *time.Timer
	paused     chan struct{} // closed once mode reaches stopPause
}

func newStopper() *stopper { return &stopper{paused: make(chan struct{})} }

func (s *stopper) request(m stopMode, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m <= s.mode {
		return
	}
	if m >= stopPause && s.mode < stopPause {
		close(s.paused)
	}
	s.mode, s.reason = m, reason
	s.apply()
}

// apply cancels the pipeline as the mode allows; s.mu is held.
func (s *stopper) apply() {
	if s.cancel == nil {
		return
	}
	switch {
	case s.mode == stopAbort, s.mode == stopPause && !s.submitting:
		s.cancel(errStopped)
	case s.mode == stopPause && s.timer == nil:
		cancel := s.cancel
		s.timer = time.AfterFunc(pauseGrace, func() { cancel(errStopped) })
	}
}

func (s *stopper) attach(cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel, s.submitting = cancel, false
	s.apply()
}

func (s *stopper) detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
}

// beginSubmit reports whether a chunk may be sent now, and if so marks a
// submission on the wire.
func (s *stopper) beginSubmit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode != stopNone {
		return false
	}
	s.submitting = true
	return true
}

func (s *stopper) endSubmit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.submitting = false
	s.apply()
}

func (s *stopper) state() (stopMode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode, s.reason
}
