package storage

import (
	"errors"
	"strings"
	"testing"
)

func TestGate(t *testing.T) {
	tests := []struct {
		name     string
		gate     Gate
		failed   int // of 10 users
		want     StageState
		whyGated string
	}{
		{"clean run passes", Gate{MaxFailureRate: 0}, 0, StageDone, ""},
		{"zero tolerance gates on one failure", Gate{MaxFailureRate: 0}, 1, StageGated, "failure rate 10.0% (1 of 10) is above the gate's 0.0%"},
		{"at the limit passes", Gate{MaxFailureRate: 0.2}, 2, StageDone, ""},
		{"above the limit gates", Gate{MaxFailureRate: 0.2}, 3, StageGated, "failure rate 30.0% (3 of 10) is above the gate's 20.0%"},
		{"approval always gates", Gate{MaxFailureRate: 1, Approve: true}, 0, StageGated, "the plan requires approval"},
		{"failures reported before approval", Gate{MaxFailureRate: 0.1, Approve: true}, 5, StageGated, "failure rate 50.0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJournal(t)
			must(t, j.DefineStages([]StagePlan{{Name: "only", Planned: 10, Gate: tt.gate}}))
			must(t, j.AddUsers(ctx, pendingUsers(1, 10)))
			must(t, j.AssignUsers(ctx, "only", rowRange(1, 10)))
			must(t, j.StartStage("only"))
			id := submitChunk(t, j, "only", rowRange(1, 10))
			ok := RowID(10 - tt.failed)
			res := outcomes(rowRange(1, ok), UserInserted)
			if tt.failed > 0 {
				res = append(res, outcomes(rowRange(ok+1, 10), UserFailed)...)
			}
			must(t, j.CompleteChunk(id, res))

			got, err := j.FinishStage("only")
			must(t, err)
			s, _ := j.Stage("only")
			if got != tt.want || s.State != tt.want || !strings.HasPrefix(s.GateReason, tt.whyGated) {
				t.Errorf("finish = %s (%q), want %s (%q)", got, s.GateReason, tt.want, tt.whyGated)
			}
			if s.Finished.IsZero() {
				t.Error("a settled stage records when it finished")
			}
		})
	}
}

func TestStageOrderAndSettling(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 10, 5) // canary running, rest pending (approval gate)

	if err := j.StartStage("rest"); err == nil || !strings.Contains(err.Error(), `the earlier stage "canary" is running, not done`) {
		t.Fatalf("starting rest early: %v", err)
	}
	id := submitChunk(t, j, "canary", rowRange(1, 4))
	if _, err := j.FinishStage("canary"); err == nil || !strings.Contains(err.Error(), "1 users wait for a chunk and 4 for an outcome") {
		t.Fatalf("finishing an unsettled stage: %v", err)
	}
	must(t, j.CompleteChunk(id, outcomes(rowRange(1, 4), UserInserted)))
	last := submitChunk(t, j, "canary", []RowID{5})
	must(t, j.CompleteChunk(last, outcomes([]RowID{5}, UserInserted)))
	if s, err := j.FinishStage("canary"); err != nil || s != StageDone {
		t.Fatalf("finish canary = %v, %v", s, err)
	}
	if err := j.AssignUsers(ctx, "canary", nil); err != nil {
		t.Errorf("an empty assignment is a no-op even for a done stage: %v", err)
	}
	must(t, j.AddUsers(ctx, pendingUsers(11, 11)))
	if err := j.AssignUsers(ctx, "canary", []RowID{11}); err == nil || !strings.Contains(err.Error(), "is done") {
		t.Errorf("assigning to a done stage: %v", err)
	}

	must(t, j.StartStage("rest"))
	rest := submitChunk(t, j, "rest", rowRange(6, 10))
	must(t, j.CompleteChunk(rest, outcomes(rowRange(6, 10), UserUpdated)))
	if s, _ := j.FinishStage("rest"); s != StageGated {
		t.Fatalf("rest needs approval, got %s", s)
	}
	if err := j.ApproveStage("canary", "ops", ""); err == nil {
		t.Error("approving a stage that is not gated must fail")
	}
	must(t, j.ApproveStage("rest", "alice", "checked 5 logins"))
	s, _ := j.Stage("rest")
	if s.State != StageDone || s.Approval == nil || s.Approval.By != "alice" || s.Approval.Note != "checked 5 logins" {
		t.Errorf("approved stage = %+v", s)
	}
	events, _ := j.LatestEvents(1)
	if !strings.Contains(events[0].Message, "approved by alice: checked 5 logins") {
		t.Errorf("approval event = %q", events[0].Message)
	}
	requireVerified(t, j)
}

func TestRollback(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 6, 6)
	a := submitChunk(t, j, "canary", rowRange(1, 4))
	b := submitChunk(t, j, "canary", rowRange(5, 6))
	must(t, j.CompleteChunk(a, append(outcomes(rowRange(1, 2), UserInserted), append(outcomes([]RowID{3}, UserUpdated), outcomes([]RowID{4}, UserFailed)...)...)))

	if err := j.BeginRollback("canary"); err == nil || !strings.Contains(err.Error(), "2 of its users are in jobs without an outcome") {
		t.Fatalf("rollback with a job in flight: %v", err)
	}
	must(t, j.CompleteChunk(b, outcomes(rowRange(5, 6), UserInserted)))
	if s, _ := j.FinishStage("canary"); s != StageGated {
		t.Fatalf("25%% failures must gate, got %s", s)
	}
	must(t, j.BeginRollback("canary"))
	must(t, j.MarkRolledBack(ctx, []RowID{1, 2}))
	if err := j.FinishRollback("canary"); err == nil || !strings.Contains(err.Error(), "2 users it inserted are not recorded as deleted") {
		t.Fatalf("finishing a partial rollback: %v", err)
	}
	// Crash and resume in the middle of the rollback: repeating is safe.
	j = reopen(t, j)
	must(t, j.MarkRolledBack(ctx, []RowID{1, 2, 5, 6}))
	must(t, j.FinishRollback("canary"))

	st, err := j.Status(0)
	must(t, err)
	want := UserCounts{UserRolledBack: 4, UserUpdated: 1, UserFailed: 1}
	if got := st.Stages[0].Users; !got.Equal(want) || st.Stages[0].State != StageRolledBack {
		t.Errorf("after rollback: %s %v, want rolled_back %v", st.Stages[0].State, got, want)
	}

	// Run it again: rolled-back and failed users are retried.
	must(t, j.StartStage("canary"))
	must(t, j.RetryUsers(ctx, []RowID{1, 2, 4, 5, 6}))
	again := submitChunk(t, j, "canary", []RowID{1, 2, 4, 5, 6})
	must(t, j.CompleteChunk(again, outcomes([]RowID{1, 2, 4, 5, 6}, UserInserted)))
	if s, _ := j.FinishStage("canary"); s != StageDone {
		t.Errorf("re-run stage = %s, want done", s)
	}
	requireVerified(t, j)
}

func TestDefineStages(t *testing.T) {
	plan := []StagePlan{{Name: "a", Planned: 1}, {Name: "b", Planned: 2, Gate: Gate{MaxFailureRate: 0.5, Approve: true}}}
	tests := []struct {
		name string
		plan []StagePlan
		want string
	}{
		{"no stages", nil, "has no stages"},
		{"unnamed", []StagePlan{{Name: " "}}, "stage 1 has no name"},
		{"duplicate names", []StagePlan{{Name: "a"}, {Name: "a"}}, `two stages are named "a"`},
		{"negative count", []StagePlan{{Name: "a", Planned: -1}}, "plans -1 users"},
		{"rate above one", []StagePlan{{Name: "a", Gate: Gate{MaxFailureRate: 5}}}, "want a fraction from 0 to 1"},
	}
	for _, tt := range tests {
		j := newJournal(t)
		if err := j.DefineStages(tt.plan); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}

	j := newJournal(t)
	if err := j.StartStage("a"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no stages yet") {
		t.Errorf("starting before stages exist: %v", err)
	}
	must(t, j.DefineStages(plan))
	must(t, j.DefineStages(plan)) // a resumed run repeats it
	changed := []StagePlan{{Name: "a", Planned: 1}, {Name: "b", Planned: 3}}
	if err := j.DefineStages(changed); err == nil || !strings.Contains(err.Error(), "already has stages a, b") {
		t.Errorf("changing the plan: %v", err)
	}
	stages, err := j.Stages()
	must(t, err)
	if len(stages) != 2 || stages[1].Position != 2 || stages[1].Gate != plan[1].Gate || stages[1].State != StagePending {
		t.Errorf("stages = %+v", stages)
	}
}
