package storage

import "fmt"

// The numeric values of every state below are written to disk (in user
// records and index keys). Never renumber or reuse one; add new states at
// the end and bump the schema version if older builds must refuse them.

// UserState is where one source row stands in the migration.
type UserState uint8

const (
	UserPending     UserState = iota + 1 // valid, not yet in a stage
	UserQuarantined                      // invalid at validation; never sent
	UserSkipped                          // duplicate of another row; never sent
	UserAssigned                         // in a stage, waiting for (or planned into) a chunk
	UserSubmitted                        // its chunk may have reached the target
	UserInserted                         // created in the target
	UserUpdated                          // existed in the target and was updated (upsert)
	UserFailed                           // the target rejected it
	UserRolledBack                       // was inserted, then deleted by a rollback

	numUserStates = int(UserRolledBack)
)

var userStateNames = [...]string{
	UserPending:     "pending",
	UserQuarantined: "quarantined",
	UserSkipped:     "skipped",
	UserAssigned:    "assigned",
	UserSubmitted:   "submitted",
	UserInserted:    "inserted",
	UserUpdated:     "updated",
	UserFailed:      "failed",
	UserRolledBack:  "rolled_back",
}

// UserStates lists every user state in lifecycle order.
func UserStates() []UserState {
	states := make([]UserState, 0, numUserStates)
	for s := UserState(1); int(s) <= numUserStates; s++ {
		states = append(states, s)
	}
	return states
}

func (s UserState) valid() bool { return s >= 1 && int(s) <= numUserStates }

func (s UserState) String() string {
	if s.valid() {
		return userStateNames[s]
	}
	return fmt.Sprintf("user-state(%d)", uint8(s))
}

// IsOutcome reports whether s is a result the target gave: inserted, updated or failed.
func (s UserState) IsOutcome() bool {
	return s == UserInserted || s == UserUpdated || s == UserFailed
}

// MarshalText makes states readable in JSON, including as map keys.
func (s UserState) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("invalid user state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts the names MarshalText writes.
func (s *UserState) UnmarshalText(b []byte) error {
	v, err := ParseUserState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseUserState turns a state name ("inserted") back into a UserState.
func ParseUserState(name string) (UserState, error) {
	for s := UserState(1); int(s) <= numUserStates; s++ {
		if userStateNames[s] == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown user state %q (want one of %v)", name, UserStates())
}

// userTransitions is the whole user lifecycle. Registration (AddUsers)
// creates rows directly in pending, quarantined or skipped; quarantined and
// skipped rows never move. failed and rolled_back users may be retried, which
// puts them back in assigned for a new chunk.
var userTransitions = map[UserState][]UserState{
	UserPending:    {UserAssigned},
	UserAssigned:   {UserSubmitted},
	UserSubmitted:  {UserInserted, UserUpdated, UserFailed},
	UserFailed:     {UserAssigned},
	UserInserted:   {UserRolledBack},
	UserRolledBack: {UserAssigned},
}

// userCan is userTransitions as a lookup table: the check runs once per user
// on the hot path.
var userCan = func() (t [numUserStates + 1][numUserStates + 1]bool) {
	for from, tos := range userTransitions {
		for _, to := range tos {
			t[from][to] = true
		}
	}
	return t
}()

// CanBecome reports whether a user may move from s to next.
func (s UserState) CanBecome(next UserState) bool {
	return s.valid() && next.valid() && userCan[s][next]
}

// ChunkState is where one chunk (one import job's worth of users) stands.
type ChunkState uint8

const (
	ChunkPlanned    ChunkState = iota + 1 // users chosen; nothing sent
	ChunkSubmitting                       // about to POST, or POSTing: the job may or may not exist
	ChunkSubmitted                        // the job exists and its id is recorded
	ChunkDone                             // every user of the chunk has an outcome
	ChunkFailed                           // the job (or its POST) failed as a whole
	ChunkAmbiguous                        // a crash left it unknown whether the job exists

	numChunkStates = int(ChunkAmbiguous)
)

var chunkStateNames = [...]string{
	ChunkPlanned:    "planned",
	ChunkSubmitting: "submitting",
	ChunkSubmitted:  "submitted",
	ChunkDone:       "done",
	ChunkFailed:     "failed",
	ChunkAmbiguous:  "ambiguous",
}

// ChunkStates lists every chunk state in lifecycle order.
func ChunkStates() []ChunkState {
	states := make([]ChunkState, 0, numChunkStates)
	for s := ChunkState(1); int(s) <= numChunkStates; s++ {
		states = append(states, s)
	}
	return states
}

func (s ChunkState) valid() bool { return s >= 1 && int(s) <= numChunkStates }

func (s ChunkState) String() string {
	if s.valid() {
		return chunkStateNames[s]
	}
	return fmt.Sprintf("chunk-state(%d)", uint8(s))
}

// InFlight reports whether a chunk in state s may have a job running at the target.
func (s ChunkState) InFlight() bool { return s == ChunkSubmitting || s == ChunkSubmitted }

// MarshalText makes states readable in JSON, including as map keys.
func (s ChunkState) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("invalid chunk state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts the names MarshalText writes.
func (s *ChunkState) UnmarshalText(b []byte) error {
	for v := ChunkState(1); int(v) <= numChunkStates; v++ {
		if chunkStateNames[v] == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown chunk state %q (want one of %v)", b, ChunkStates())
}

// chunkTransitions: an ambiguous or failed chunk is either resubmitted
// (-> submitting, same chunk and users) or resolved user by user (-> done).
var chunkTransitions = map[ChunkState][]ChunkState{
	ChunkPlanned:    {ChunkSubmitting},
	ChunkSubmitting: {ChunkSubmitted, ChunkAmbiguous, ChunkFailed},
	ChunkSubmitted:  {ChunkDone, ChunkFailed, ChunkAmbiguous},
	ChunkAmbiguous:  {ChunkSubmitting, ChunkDone},
	ChunkFailed:     {ChunkSubmitting, ChunkDone},
}

// CanBecome reports whether a chunk may move from s to next.
func (s ChunkState) CanBecome(next ChunkState) bool { return allowed(chunkTransitions, s, next) }

// StageState is where one stage of the plan stands.
type StageState uint8

const (
	StagePending     StageState = iota + 1 // not started
	StageRunning                           // users are being chunked and submitted
	StageGated                             // settled, but its gate holds it: approval needed or too many failures
	StageDone                              // settled and through its gate; the next stage may start
	StageRollingBack                       // deleting the users it inserted
	StageRolledBack                        // every user it inserted is deleted

	numStageStates = int(StageRolledBack)
)

var stageStateNames = [...]string{
	StagePending:     "pending",
	StageRunning:     "running",
	StageGated:       "gated",
	StageDone:        "done",
	StageRollingBack: "rolling_back",
	StageRolledBack:  "rolled_back",
}

// StageStates lists every stage state in lifecycle order.
func StageStates() []StageState {
	states := make([]StageState, 0, numStageStates)
	for s := StageState(1); int(s) <= numStageStates; s++ {
		states = append(states, s)
	}
	return states
}

func (s StageState) valid() bool { return s >= 1 && int(s) <= numStageStates }

func (s StageState) String() string {
	if s.valid() {
		return stageStateNames[s]
	}
	return fmt.Sprintf("stage-state(%d)", uint8(s))
}

// MarshalText makes states readable in JSON.
func (s StageState) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("invalid stage state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText accepts the names MarshalText writes.
func (s *StageState) UnmarshalText(b []byte) error {
	for v := StageState(1); int(v) <= numStageStates; v++ {
		if stageStateNames[v] == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("unknown stage state %q (want one of %v)", b, StageStates())
}

// stageTransitions: a gated stage may be re-run (retrying its failures),
// approved (-> done) or rolled back; a rolled-back stage may be re-run.
var stageTransitions = map[StageState][]StageState{
	StagePending:     {StageRunning},
	StageRunning:     {StageGated, StageDone, StageRollingBack},
	StageGated:       {StageRunning, StageDone, StageRollingBack},
	StageDone:        {StageRollingBack},
	StageRollingBack: {StageRolledBack},
	StageRolledBack:  {StageRunning},
}

// CanBecome reports whether a stage may move from s to next.
func (s StageState) CanBecome(next StageState) bool { return allowed(stageTransitions, s, next) }

func allowed[S comparable](table map[S][]S, from, to S) bool {
	for _, s := range table[from] {
		if s == to {
			return true
		}
	}
	return false
}

// TransitionError is a state change the lifecycle forbids. The journal
// refuses it rather than record a history that reconciliation could not
// explain.
type TransitionError struct {
	Subject string // what refused to move: `user row 12 <bob@example.com>`, `chunk 7`, `stage "canary"`
	From    string
	To      string
	Reason  string // optional: why, and what to do instead
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("%s cannot go from %s to %s", e.Subject, e.From, e.To)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}
