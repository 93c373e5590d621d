package run

import (
	"fmt"
	"strings"

	"provision/engine/run/verify"
	"provision/storage"
)

// Event is one step of a run, as the engine reports it on Options.Events.
// The TUI turns each into a tea.Msg; headless runs print String, one line
// per event. Events carry counts, stage and chunk names, job ids and
// emails, never passwords or hashes.
type Event interface {
	fmt.Stringer
	event()
}

// Preparing says what the engine is doing before the first stage.
type Preparing struct{ Step string }

// Registered reports registration progress: every source row read so
// far is in the journal. Done marks the last report.
type Registered struct {
	Rows, Pending, Quarantined, Skipped int
	Done                                bool
}

// SourceAccepted reports a changed source that the operator accepted:
// only its new rows were added.
type SourceAccepted struct {
	Was, Now storage.SourceFingerprint
	Added    int
}

// StagesAssigned reports how many users each stage holds.
type StagesAssigned struct{ Stages []StageSize }

// StageSize is one stage's share of the users.
type StageSize struct {
	Name  string
	Users int
}

// StageStarted reports a stage being worked on (again); Remaining users
// still need a job.
type StageStarted struct {
	Stage            string
	Users, Remaining int
}

// ChunkSubmitted reports an import job created for a chunk.
type ChunkSubmitted struct {
	Stage   string
	Chunk   storage.ChunkID
	Job     string
	Users   int
	Attempt int
}

// JobProgress reports a job still running at the target.
type JobProgress struct {
	Stage   string
	Chunk   storage.ChunkID
	Job     string
	Percent int
}

// ChunkFinished reports the recorded outcome of a chunk's job.
type ChunkFinished struct {
	Stage                     string
	Chunk                     storage.ChunkID
	Job                       string
	Inserted, Updated, Failed int
	Lookups                   int
}

// ChunkUnsettled reports a chunk whose job failed as a whole, or whose
// fate is unknown: it will be sent again.
type ChunkUnsettled struct {
	Stage  string
	Chunk  storage.ChunkID
	State  storage.ChunkState
	Reason string
}

// StageProgress reports a stage's users by state after a chunk settled.
type StageProgress struct {
	Stage  string
	Users  int
	Counts storage.UserCounts
}

// Verified reports the checks after a stage settled.
type Verified struct {
	Stage  string
	Report verify.Report
}

// StageSettled reports a stage through (done) or stopped at (gated) its
// gate.
type StageSettled struct {
	Stage       string
	State       storage.StageState
	FailureRate float64
	Reason      string
}

// AwaitingApproval reports a run waiting for the operator at a gate.
type AwaitingApproval struct {
	Stage, Reason string
}

// Paused reports the run stopping before its end, in State; Reason says
// why and what to do.
type Paused struct {
	Stage, Reason string
	State         State
}

// Finished reports every stage done.
type Finished struct{ Counts storage.UserCounts }

// Note is anything else worth telling the operator.
type Note struct {
	Stage, Text string
}

// RolledBack reports rollback progress: users deleted so far.
type RolledBack struct {
	Stage            string
	Deleted, Total   int
	AlreadyGone      int
	UpdatedNotUndone int
	Done             bool
}

func (Preparing) event()        {}
func (Registered) event()       {}
func (SourceAccepted) event()   {}
func (StagesAssigned) event()   {}
func (StageStarted) event()     {}
func (ChunkSubmitted) event()   {}
func (JobProgress) event()      {}
func (ChunkFinished) event()    {}
func (ChunkUnsettled) event()   {}
func (StageProgress) event()    {}
func (Verified) event()         {}
func (StageSettled) event()     {}
func (AwaitingApproval) event() {}
func (Paused) event()           {}
func (Finished) event()         {}
func (Note) event()             {}
func (RolledBack) event()       {}

func (e Preparing) String() string { return e.Step }

func (e Registered) String() string {
	verb := "registered"
	if !e.Done {
		verb = "registering:"
	}
	return fmt.Sprintf("%s %d rows (%d to import, %d quarantined, %d duplicates skipped)", verb, e.Rows, e.Pending, e.Quarantined, e.Skipped)
}

func (e SourceAccepted) String() string {
	return fmt.Sprintf("source changed (sha256 %.12s… → %.12s…), accepted: %d new rows added", e.Was.SHA256, e.Now.SHA256, e.Added)
}

func (e StagesAssigned) String() string {
	parts := make([]string, len(e.Stages))
	for i, s := range e.Stages {
		parts[i] = fmt.Sprintf("%s %d", s.Name, s.Users)
	}
	return "stages: " + strings.Join(parts, ", ")
}

func (e StageStarted) String() string {
	return fmt.Sprintf("stage %s: %d users, %d to send", e.Stage, e.Users, e.Remaining)
}

func (e ChunkSubmitted) String() string {
	s := fmt.Sprintf("stage %s: chunk %d (%d users) submitted as %s", e.Stage, e.Chunk, e.Users, e.Job)
	if e.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d)", e.Attempt)
	}
	return s
}

func (e JobProgress) String() string {
	return fmt.Sprintf("stage %s: chunk %d: job %s %d%% done", e.Stage, e.Chunk, e.Job, e.Percent)
}

func (e ChunkFinished) String() string {
	s := fmt.Sprintf("stage %s: chunk %d done: %d inserted, %d updated, %d failed", e.Stage, e.Chunk, e.Inserted, e.Updated, e.Failed)
	if e.Lookups > 0 {
		s += fmt.Sprintf(" (%d users confirmed by email)", e.Lookups)
	}
	return s
}

func (e ChunkUnsettled) String() string {
	return fmt.Sprintf("stage %s: chunk %d %s: %s; it will be sent again", e.Stage, e.Chunk, e.State, e.Reason)
}

func (e StageProgress) String() string {
	c := e.Counts
	return fmt.Sprintf("stage %s: %d/%d users settled (%d inserted, %d updated, %d failed)",
		e.Stage, c.WithOutcome(), e.Users, c[storage.UserInserted], c[storage.UserUpdated], c[storage.UserFailed])
}

func (e Verified) String() string {
	r := e.Report
	var parts []string
	if r.Sampled > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d sampled users found", r.Found, r.Sampled))
	}
	if r.Logins > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d canaries logged in", r.LoginsOK, r.Logins))
	}
	parts = append(parts, r.Notes...)
	if len(parts) == 0 {
		parts = append(parts, "nothing to check")
	}
	return fmt.Sprintf("stage %s verified: %s", e.Stage, strings.Join(parts, "; "))
}

func (e StageSettled) String() string {
	s := fmt.Sprintf("stage %s %s (failure rate %.1f%%)", e.Stage, e.State, 100*e.FailureRate)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

func (e AwaitingApproval) String() string {
	return fmt.Sprintf("stage %s waits for approval: %s", e.Stage, e.Reason)
}

func (e Paused) String() string {
	if e.State == StatePaused || e.Stage == "" {
		return "paused: " + e.Reason
	}
	return fmt.Sprintf("stopped at stage %s: %s", e.Stage, e.Reason)
}

func (e Finished) String() string {
	c := e.Counts
	return fmt.Sprintf("finished: %d inserted, %d updated, %d failed, %d quarantined, %d skipped",
		c[storage.UserInserted], c[storage.UserUpdated], c[storage.UserFailed], c[storage.UserQuarantined], c[storage.UserSkipped])
}

func (e Note) String() string {
	if e.Stage != "" {
		return "stage " + e.Stage + ": " + e.Text
	}
	return e.Text
}

func (e RolledBack) String() string {
	if e.Done {
		return fmt.Sprintf("stage %s rolled back: %d users deleted (%d were already gone); %d updated users left as they are",
			e.Stage, e.Deleted, e.AlreadyGone, e.UpdatedNotUndone)
	}
	return fmt.Sprintf("stage %s: rolling back, %d of %d users deleted", e.Stage, e.Deleted, e.Total)
}
