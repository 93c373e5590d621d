package storage

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Gate decides whether a settled stage may let the next one start.
type Gate struct {
	// MaxFailureRate is the highest share of failed users (0..1) with
	// which the stage passes on its own. The zero value tolerates no
	// failure at all; 1 tolerates any.
	MaxFailureRate float64 `json:"max_failure_rate"`
	// Approve makes the stage wait for an operator even when it passes.
	Approve bool `json:"approve"`
}

// StagePlan is one stage as the plan defines it.
type StagePlan struct {
	Name    string
	Planned int // users the plan puts in this stage
	Gate    Gate
}

// Stage is one stage as the journal records it.
type Stage struct {
	Position   int        `json:"position"` // 1-based order in the plan
	Name       string     `json:"name"`
	Planned    int        `json:"planned"`
	Gate       Gate       `json:"gate"`
	State      StageState `json:"state"`
	Started    time.Time  `json:"started,omitzero"`
	Finished   time.Time  `json:"finished,omitzero"`
	GateReason string     `json:"gate_reason,omitempty"` // why it stopped at its gate
	Approval   *Approval  `json:"approval,omitempty"`
}

// Approval records who let a gated stage through, and why.
type Approval struct {
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// stageTable is the plan's stages, loaded once per transaction: there are
// a handful, and users refer to them by position.
type stageTable struct {
	stages []Stage // index = position-1
}

func loadStages(tx *bolt.Tx) (stageTable, error) {
	var t stageTable
	err := tx.Bucket(bucketStages).ForEach(func(k, v []byte) error {
		var s Stage
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("stage %d: %w", keyU64(k), err)
		}
		s.Position = int(keyU64(k))
		if s.Position != len(t.stages)+1 {
			return fmt.Errorf("stage positions are not contiguous at %q", s.Name)
		}
		t.stages = append(t.stages, s)
		return nil
	})
	return t, err
}

func (t stageTable) byName(name string) (Stage, error) {
	for _, s := range t.stages {
		if s.Name == name {
			return s, nil
		}
	}
	if len(t.stages) == 0 {
		return Stage{}, fmt.Errorf("stage %q: %w: the journal has no stages yet (define them first)", name, ErrNotFound)
	}
	return Stage{}, fmt.Errorf("stage %q: %w (the plan has %s)", name, ErrNotFound, strings.Join(t.names(), ", "))
}

// at returns the stage at pos; ok is false for position 0 (no stage) or
// one past the plan.
func (t stageTable) at(pos uint32) (s Stage, ok bool) {
	if pos == 0 || int(pos) > len(t.stages) {
		return Stage{}, false
	}
	return t.stages[pos-1], true
}

// name returns the name of the stage at pos, "" for position 0 (no stage).
func (t stageTable) name(pos uint32) string {
	s, _ := t.at(pos)
	return s.Name
}

func (t stageTable) names() []string {
	out := make([]string, len(t.stages))
	for i, s := range t.stages {
		out[i] = s.Name
	}
	return out
}

func putStage(tx *bolt.Tx, s Stage) error {
	return putJSON(tx.Bucket(bucketStages), u64key(uint64(s.Position)), s)
}

// DefineStages records the plan's stages, in order. A run's stages are
// fixed once defined: calling again with the same plan does nothing (so a
// resumed run may repeat it), a different plan is refused.
func (j *Journal) DefineStages(plans []StagePlan) error {
	if err := validateStagePlans(plans); err != nil {
		return err
	}
	return j.update(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		if len(t.stages) > 0 {
			if samePlan(t.stages, plans) {
				return nil
			}
			return fmt.Errorf("the journal already has stages %s and a run's stages cannot change; start a new journal for a new plan",
				strings.Join(t.names(), ", "))
		}
		for i, p := range plans {
			s := Stage{Position: i + 1, Name: p.Name, Planned: p.Planned, Gate: p.Gate, State: StagePending}
			if err := putStage(tx, s); err != nil {
				return err
			}
		}
		names := make([]string, len(plans))
		for i, p := range plans {
			names[i] = fmt.Sprintf("%s (%d)", p.Name, p.Planned)
		}
		return appendEvent(tx, Event{Kind: EventStage, Message: "stages defined: " + strings.Join(names, ", ")})
	})
}

func validateStagePlans(plans []StagePlan) error {
	if len(plans) == 0 {
		return fmt.Errorf("define stages: the plan has no stages")
	}
	seen := make(map[string]bool, len(plans))
	for i, p := range plans {
		switch {
		case strings.TrimSpace(p.Name) == "":
			return fmt.Errorf("define stages: stage %d has no name", i+1)
		case seen[p.Name]:
			return fmt.Errorf("define stages: two stages are named %q; stage names must be unique", p.Name)
		case p.Planned < 0:
			return fmt.Errorf("define stages: stage %q plans %d users; want 0 or more", p.Name, p.Planned)
		case math.IsNaN(p.Gate.MaxFailureRate) || p.Gate.MaxFailureRate < 0 || p.Gate.MaxFailureRate > 1:
			return fmt.Errorf("define stages: stage %q has max failure rate %v; want a fraction from 0 to 1", p.Name, p.Gate.MaxFailureRate)
		}
		seen[p.Name] = true
	}
	return nil
}

func samePlan(stages []Stage, plans []StagePlan) bool {
	return slices.EqualFunc(stages, plans, func(s Stage, p StagePlan) bool {
		return s.Name == p.Name && s.Planned == p.Planned && s.Gate == p.Gate
	})
}

// Stages returns the plan's stages in order.
func (j *Journal) Stages() ([]Stage, error) {
	var t stageTable
	err := j.view(func(tx *bolt.Tx) error {
		var err error
		t, err = loadStages(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read stages: %w", err)
	}
	return t.stages, nil
}

// Stage returns one stage by name.
func (j *Journal) Stage(name string) (Stage, error) {
	var s Stage
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		s, err = t.byName(name)
		return err
	})
	return s, err
}

// StartStage moves a stage to running: the first time, to re-run a gated
// stage (to retry its failures), or to run a rolled-back stage again.
// Every earlier stage must be done.
func (j *Journal) StartStage(name string) error {
	return j.changeStage(name, StageRunning, func(tx *bolt.Tx, t stageTable, s *Stage) error {
		for _, earlier := range t.stages[:s.Position-1] {
			if earlier.State != StageDone {
				return fmt.Errorf("stage %q cannot start: the earlier stage %q is %s, not done", s.Name, earlier.Name, earlier.State)
			}
		}
		if s.Started.IsZero() {
			s.Started = time.Now().UTC()
		}
		s.Finished, s.GateReason = time.Time{}, ""
		return nil
	}, "")
}

// FinishStage settles a running stage whose users all have outcomes and
// applies its gate: the stage becomes done if its failure rate is within
// the gate and no approval is required, gated otherwise. It returns the
// state reached.
func (j *Journal) FinishStage(name string) (StageState, error) {
	var reached StageState
	err := j.update(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		s, err := t.byName(name)
		if err != nil {
			return err
		}
		counts := stageCounts(tx, uint32(s.Position))
		if err := requireSettled(s, counts); err != nil {
			return err
		}
		rate := counts.FailureRate()
		reached = StageDone
		switch {
		case rate > s.Gate.MaxFailureRate:
			reached = StageGated
			s.GateReason = fmt.Sprintf("failure rate %.1f%% (%d of %d) is above the gate's %.1f%%",
				100*rate, counts[UserFailed], counts.WithOutcome(), 100*s.Gate.MaxFailureRate)
		case s.Gate.Approve:
			reached = StageGated
			s.GateReason = "the plan requires approval"
		}
		return setStageState(tx, &s, reached, fmt.Sprintf("failure rate %.1f%%; %s", 100*rate, orString(s.GateReason, "gate passed")))
	})
	if err != nil {
		return 0, err
	}
	return reached, nil
}

// ApproveStage lets a gated stage through: by names the operator, note
// says why (both go to the audit log).
func (j *Journal) ApproveStage(name, by, note string) error {
	return j.changeStage(name, StageDone, func(tx *bolt.Tx, _ stageTable, s *Stage) error {
		if s.State != StageGated {
			return &TransitionError{Subject: fmt.Sprintf("stage %q", s.Name), From: s.State.String(), To: "approved",
				Reason: "only a stage stopped at its gate can be approved"}
		}
		if err := requireSettled(*s, stageCounts(tx, uint32(s.Position))); err != nil {
			return err
		}
		s.Approval = &Approval{By: by, Note: note, At: time.Now().UTC()}
		return nil
	}, approvalNote(by, note))
}

func approvalNote(by, note string) string {
	s := "approved by " + orString(by, "operator")
	if note != "" {
		s += ": " + note
	}
	return s
}

// BeginRollback marks a stage as rolling back, before the first of its
// users is deleted from the target. None of its users may be in a job
// that is still running.
func (j *Journal) BeginRollback(name string) error {
	return j.changeStage(name, StageRollingBack, func(tx *bolt.Tx, _ stageTable, s *Stage) error {
		counts := stageCounts(tx, uint32(s.Position))
		if n := counts[UserSubmitted]; n > 0 {
			return fmt.Errorf("stage %q cannot roll back: %d of its users are in jobs without an outcome; complete or fail those chunks first", s.Name, n)
		}
		return nil
	}, "")
}

// FinishRollback marks a stage rolled back once every user it inserted has
// been deleted and recorded with MarkRolledBack. Users it updated are not
// undone: they existed before the stage.
func (j *Journal) FinishRollback(name string) error {
	return j.changeStage(name, StageRolledBack, func(tx *bolt.Tx, _ stageTable, s *Stage) error {
		counts := stageCounts(tx, uint32(s.Position))
		if n := counts[UserInserted]; n > 0 {
			return fmt.Errorf("stage %q cannot finish rolling back: %d users it inserted are not recorded as deleted", s.Name, n)
		}
		s.Finished = time.Now().UTC()
		return nil
	}, "")
}

// changeStage loads a stage, runs check (which may refuse or edit it),
// and moves it to `to`, all in one transaction.
func (j *Journal) changeStage(name string, to StageState, check func(*bolt.Tx, stageTable, *Stage) error, note string) error {
	return j.update(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		s, err := t.byName(name)
		if err != nil {
			return err
		}
		if !s.State.CanBecome(to) {
			return &TransitionError{Subject: fmt.Sprintf("stage %q", s.Name), From: s.State.String(), To: to.String()}
		}
		if err := check(tx, t, &s); err != nil {
			return err
		}
		return setStageState(tx, &s, to, note)
	})
}

func setStageState(tx *bolt.Tx, s *Stage, to StageState, note string) error {
	if !s.State.CanBecome(to) {
		return &TransitionError{Subject: fmt.Sprintf("stage %q", s.Name), From: s.State.String(), To: to.String()}
	}
	from := s.State
	s.State = to
	if to == StageDone || to == StageGated {
		s.Finished = time.Now().UTC()
	}
	if err := putStage(tx, *s); err != nil {
		return err
	}
	msg := fmt.Sprintf("stage %s: %s -> %s", s.Name, from, to)
	if note != "" {
		msg += " (" + note + ")"
	}
	return appendEvent(tx, Event{Kind: EventStage, Stage: s.Name, Message: msg})
}

// requireSettled refuses to close a stage while any of its users still
// waits for a chunk or an outcome.
func requireSettled(s Stage, counts UserCounts) error {
	if a, sub := counts[UserAssigned], counts[UserSubmitted]; a+sub > 0 {
		return fmt.Errorf("stage %q is not settled: %d users wait for a chunk and %d for an outcome; finish its chunks first", s.Name, a, sub)
	}
	return nil
}

func orString(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
