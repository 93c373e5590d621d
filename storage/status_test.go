package storage

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatus(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j) // canary: 1-3 inserted, 4 failed, 5-7 in flight, 8-9 planned, 10 assigned
	st, err := j.Status(3)
	must(t, err)

	canary, rest := st.Stages[0], st.Stages[1]
	tests := []struct {
		name      string
		got, want UserCounts
	}{
		{"canary", canary.Users, UserCounts{UserInserted: 3, UserFailed: 1, UserSubmitted: 3, UserAssigned: 3}},
		{"rest", rest.Users, UserCounts{UserAssigned: 10}},
		{"unstaged", st.Unstaged, UserCounts{UserPending: 1, UserQuarantined: 1, UserSkipped: 1}},
	}
	for _, tt := range tests {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if st.Users.Total() != 23 {
		t.Errorf("%d users in all, want every registered row (23)", st.Users.Total())
	}
	if canary.FailureRate != 0.25 || rest.FailureRate != 0 || canary.State != StageRunning || canary.Name != "canary" {
		t.Errorf("canary %s %.2f, rest %.2f", canary.State, canary.FailureRate, rest.FailureRate)
	}
	if want := map[ChunkState]int{ChunkDone: 1, ChunkSubmitted: 1, ChunkPlanned: 1}; len(st.Chunks) != 3 ||
		st.Chunks[ChunkDone] != 1 || st.Chunks[ChunkSubmitted] != 1 || st.Chunks[ChunkPlanned] != 1 {
		t.Errorf("chunks %v, want %v", st.Chunks, want)
	}
	if len(st.InFlight) != 1 || st.InFlight[0].ID != 2 || st.InFlight[0].JobID != "job_2" {
		t.Errorf("in flight: %+v", st.InFlight)
	}
	if len(st.Events) != 3 || st.Events[0].Seq >= st.Events[2].Seq || !strings.Contains(st.Events[2].Message, "chunk 3 planned") {
		t.Errorf("latest events, oldest first: %+v", st.Events)
	}

	// `provision status --json` prints this: ids and names must be in it.
	data, err := json.Marshal(st)
	must(t, err)
	for _, want := range []string{`"position":1,"name":"canary"`, `"in_flight":[{"id":2,`, `"job_id":"job_2"`,
		`"users":{"assigned":3,"failed":1,"inserted":3,"submitted":3}`, `"failure_rate":0.25`, `"unstaged":{`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("status JSON lacks %s:\n%s", want, data)
		}
	}
}

func TestEvents(t *testing.T) {
	j := newJournal(t)
	first, err := j.AppendEvent(Event{Message: "operator paused the run"})
	must(t, err)
	for i := 0; i < 4; i++ {
		_, err := j.AppendEvent(Event{Kind: EventStage, Stage: "canary", Message: strings.Repeat("x", 2*maxMessageLen)})
		must(t, err)
	}
	all, err := j.Events(0, 100)
	must(t, err)
	if len(all) != 6 || all[0].Kind != EventJournal || all[1].Seq != first || all[1].Kind != EventNote {
		t.Fatalf("events: %+v", all)
	}
	if len(all[5].Message) > maxMessageLen+len("…") {
		t.Errorf("an event message of %d bytes was kept whole", len(all[5].Message))
	}
	page, err := j.Events(all[2].Seq, 2)
	must(t, err)
	if len(page) != 2 || page[0].Seq != all[3].Seq || page[1].Seq != all[4].Seq {
		t.Errorf("Events(after %d, 2) = %+v", all[2].Seq, page)
	}
	latest, err := j.LatestEvents(10)
	must(t, err)
	if len(latest) != 6 || latest[5].Seq != all[5].Seq {
		t.Errorf("LatestEvents(10) = %d events", len(latest))
	}
	if none, _ := j.LatestEvents(0); len(none) != 0 {
		t.Errorf("LatestEvents(0) = %v", none)
	}
}
