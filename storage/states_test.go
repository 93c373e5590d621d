package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The legal transitions, written out independently of the tables in
// states.go: every pair not listed here must be refused.
var (
	legalUser = set(
		"pending->assigned",
		"assigned->submitted",
		"submitted->inserted", "submitted->updated", "submitted->failed",
		"failed->assigned",
		"inserted->rolled_back",
		"rolled_back->assigned",
	)
	legalChunk = set(
		"planned->submitting",
		"submitting->submitted", "submitting->ambiguous", "submitting->failed",
		"submitted->done", "submitted->failed", "submitted->ambiguous",
		"ambiguous->submitting", "ambiguous->done",
		"failed->submitting", "failed->done",
	)
	legalStage = set(
		"pending->running",
		"running->gated", "running->done", "running->rolling_back",
		"gated->running", "gated->done", "gated->rolling_back",
		"done->rolling_back",
		"rolling_back->rolled_back",
		"rolled_back->running",
	)
)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

func TestUserTransitions(t *testing.T) {
	checked := 0
	for _, from := range append(UserStates(), 0) {
		for _, to := range append(UserStates(), 0) {
			pair := fmt.Sprintf("%s->%s", from, to)
			if got, want := from.CanBecome(to), legalUser[pair]; got != want {
				t.Errorf("user %s allowed = %v, want %v", pair, got, want)
			}
			checked++
		}
	}
	if checked != (numUserStates+1)*(numUserStates+1) {
		t.Fatalf("checked %d pairs", checked)
	}
	for _, terminal := range []UserState{UserQuarantined, UserSkipped, UserUpdated} {
		for _, to := range UserStates() {
			if terminal.CanBecome(to) {
				t.Errorf("%s is final but may become %s", terminal, to)
			}
		}
	}
}

func TestChunkTransitions(t *testing.T) {
	for _, from := range ChunkStates() {
		for _, to := range ChunkStates() {
			pair := fmt.Sprintf("%s->%s", from, to)
			if got, want := from.CanBecome(to), legalChunk[pair]; got != want {
				t.Errorf("chunk %s allowed = %v, want %v", pair, got, want)
			}
		}
	}
}

func TestStageTransitions(t *testing.T) {
	for _, from := range StageStates() {
		for _, to := range StageStates() {
			pair := fmt.Sprintf("%s->%s", from, to)
			if got, want := from.CanBecome(to), legalStage[pair]; got != want {
				t.Errorf("stage %s allowed = %v, want %v", pair, got, want)
			}
		}
	}
}

func TestStateNamesRoundTrip(t *testing.T) {
	for _, s := range UserStates() {
		got, err := ParseUserState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseUserState(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseUserState("done"); err == nil || !strings.Contains(err.Error(), "inserted") {
		t.Errorf("unknown state error should list the states, got %v", err)
	}
	// States are map keys in Status; they must read as names in JSON.
	data, err := json.Marshal(map[string]any{
		"users":  UserCounts{UserInserted: 2},
		"chunks": map[ChunkState]int{ChunkAmbiguous: 1},
		"stage":  StageRollingBack,
	})
	must(t, err)
	if want := `{"chunks":{"ambiguous":1},"stage":"rolling_back","users":{"inserted":2}}`; string(data) != want {
		t.Errorf("JSON = %s, want %s", data, want)
	}
	var back struct {
		Users  UserCounts
		Chunks map[ChunkState]int
		Stage  StageState
	}
	must(t, json.Unmarshal(data, &back))
	if back.Users[UserInserted] != 2 || back.Chunks[ChunkAmbiguous] != 1 || back.Stage != StageRollingBack {
		t.Errorf("round trip = %+v", back)
	}
	if _, err := json.Marshal(UserState(0)); err == nil {
		t.Error("the zero state must not marshal")
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	err := error(&TransitionError{Subject: "user row 7 (line 8) <a@b.c>", From: "inserted", To: "failed", Reason: "outcomes are recorded for submitted users"})
	want := "user row 7 (line 8) <a@b.c> cannot go from inserted to failed: outcomes are recorded for submitted users"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	var te *TransitionError
	if !errors.As(fmt.Errorf("wrapped: %w", err), &te) || te.From != "inserted" {
		t.Error("TransitionError must survive wrapping")
	}
}
