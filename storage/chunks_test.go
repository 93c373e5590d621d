package storage

import (
	"errors"
	"strings"
	"testing"
)

func chunkState(t testing.TB, j *Journal, id ChunkID) ChunkState {
	t.Helper()
	c, err := j.Chunk(id)
	must(t, err)
	return c.State
}

func userStates(t testing.TB, j *Journal, id ChunkID) UserCounts {
	t.Helper()
	users, err := j.ChunkUsers(id)
	must(t, err)
	c := make(UserCounts)
	for _, u := range users {
		c[u.State]++
	}
	return c
}

// TestWriteAheadSurvivesACrashBeforeTheJobID walks the crash the journal
// exists for: the process dies after posting a job and before recording its
// id. Closing without further calls is exactly what a crash leaves, since
// every call commits before it returns.
func TestWriteAheadSurvivesACrashBeforeTheJobID(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 10, 10)
	id, err := j.PlanChunk("canary", rowRange(1, 10))
	must(t, err)
	if got := userStates(t, j, id); !got.Equal(UserCounts{UserAssigned: 10}) {
		t.Fatalf("planned chunk's users: %v; planning must not claim anything was sent", got)
	}
	must(t, j.MarkChunkSubmitting(id))
	// POST /api/v2/jobs/users-imports happens here; then the crash.
	j = reopen(t, j)

	if got := chunkState(t, j, id); got != ChunkSubmitting {
		t.Fatalf("after the crash the chunk is %s, want submitting", got)
	}
	if got := userStates(t, j, id); !got.Equal(UserCounts{UserSubmitted: 10}) {
		t.Fatalf("after the crash: %v; every user that may exist at the target must be submitted", got)
	}
	st, err := j.Status(0)
	must(t, err)
	if len(st.InFlight) != 1 || st.InFlight[0].ID != id {
		t.Errorf("in flight = %+v", st.InFlight)
	}

	// Resume: the chunk is ambiguous, resubmitted with upsert, completed.
	must(t, j.MarkChunkAmbiguous(id, "submitting when the run stopped; job id unknown"))
	amb, err := j.AmbiguousChunks()
	must(t, err)
	if len(amb) != 1 || amb[0].ID != id || amb[0].ErrorCode != "AMBIGUOUS" {
		t.Fatalf("ambiguous chunks = %+v", amb)
	}
	must(t, j.MarkChunkSubmitting(id))
	must(t, j.RecordJobID(id, "job_retry"))
	res := append(outcomes(rowRange(1, 8), UserUpdated), outcomes(rowRange(9, 10), UserInserted)...)
	must(t, j.CompleteChunk(id, res))

	c, err := j.Chunk(id)
	must(t, err)
	if c.State != ChunkDone || c.Attempts != 2 || c.JobID != "job_retry" || *c.Result != (ChunkResult{Inserted: 2, Updated: 8}) {
		t.Errorf("chunk = %+v (result %+v)", c, c.Result)
	}
	st, err = j.Status(0)
	must(t, err)
	if len(st.InFlight) != 0 || st.Chunks[ChunkDone] != 1 || len(st.Chunks) != 1 {
		t.Errorf("status chunks = %v, in flight %v", st.Chunks, st.InFlight)
	}
	requireVerified(t, j)
}

func TestChunkLifecycleErrors(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 20, 10) // 1-10 canary, 11-20 rest (not started)
	planned, err := j.PlanChunk("canary", rowRange(1, 3))
	must(t, err)
	submitted := submitChunk(t, j, "canary", rowRange(4, 6))

	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"plan an empty chunk", func() error { _, err := j.PlanChunk("canary", nil); return err }, "a chunk holds 1 to"},
		{"plan users of a stage not running", func() error { _, err := j.PlanChunk("rest", rowRange(11, 12)); return err }, `stage "rest" is pending, not running`},
		{"plan users of another stage", func() error { _, err := j.PlanChunk("canary", []RowID{7, 11}); return err }, `user row 11 (line 12) <` + email(11) + `> is not in stage "canary"`},
		{"plan a user twice", func() error { _, err := j.PlanChunk("canary", []RowID{3}); return err }, "is already in chunk 1"},
		{"plan the same user twice in one chunk", func() error { _, err := j.PlanChunk("canary", []RowID{7, 7}); return err }, "is already in chunk"},
		{"plan a submitted user", func() error { _, err := j.PlanChunk("canary", []RowID{4}); return err }, "is submitted; only assigned users"},
		{"job id before submitting", func() error { return j.RecordJobID(planned, "job_x") }, "chunk 1 cannot go from planned to submitted"},
		{"empty job id", func() error { return j.RecordJobID(submitted, "") }, "the id is empty"},
		{"complete a planned chunk", func() error { return j.CompleteChunk(planned, nil) }, "cannot go from planned to done"},
		{"complete without every outcome", func() error { return j.CompleteChunk(submitted, outcomes([]RowID{4}, UserInserted)) }, "users without an outcome (rows 5, 6)"},
		{"outcome for a user of another chunk", func() error { return j.CompleteChunk(submitted, outcomes([]RowID{1}, UserInserted)) }, "is not in chunk 2 (it is in chunk 1)"},
		{"unknown chunk", func() error { return j.MarkChunkSubmitting(99) }, "chunk 99: not found"},
		{"submit twice", func() error { return j.MarkChunkSubmitting(submitted) }, "cannot go from submitted to submitting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := takeSnapshot(t, j)
			err := tt.op()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			requireSameSnapshot(t, takeSnapshot(t, j), before)
		})
	}
	if err := j.MarkChunkSubmitting(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown chunk: %v, want ErrNotFound", err)
	}
	requireVerified(t, j)
}

func TestFailedJobIsResubmittedOrResolved(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 6, 6)
	a := submitChunk(t, j, "canary", rowRange(1, 3))
	b := submitChunk(t, j, "canary", rowRange(4, 6))
	must(t, j.FailChunk(a, "JOB_FAILED", "job timed out after 2 h"))
	must(t, j.FailChunk(a, "JOB_FAILED", "job timed out after 2 h")) // repeated: no-op
	must(t, j.FailChunk(b, "HTTP_400", "file too large"))

	// A failed job may have imported some users: they stay submitted.
	if got := userStates(t, j, a); !got.Equal(UserCounts{UserSubmitted: 3}) {
		t.Fatalf("users of a failed chunk: %v", got)
	}
	c, _ := j.Chunk(a)
	if c.ErrorCode != "JOB_FAILED" || c.ErrorMessage != "job timed out after 2 h" {
		t.Errorf("failed chunk = %+v", c)
	}

	// a: submitted again, as the same chunk.
	must(t, j.MarkChunkSubmitting(a))
	must(t, j.RecordJobID(a, "job_again"))
	must(t, j.CompleteChunk(a, outcomes(rowRange(1, 3), UserInserted)))
	// b: never reached the target; resolved without resubmitting.
	must(t, j.CompleteChunk(b, outcomes(rowRange(4, 6), UserFailed)))

	// A failed user may be retried in a new chunk; its old chunk keeps its record.
	must(t, j.RetryUsers(ctx, []RowID{5}))
	u, _ := j.User(5)
	if u.State != UserAssigned || u.Chunk != 0 || u.ErrorCode != "" {
		t.Errorf("retried user = %+v", u)
	}
	c2 := submitChunk(t, j, "canary", []RowID{5})
	must(t, j.CompleteChunk(c2, outcomes([]RowID{5}, UserInserted)))
	users, _ := j.ChunkUsers(b)
	if len(users) != 2 {
		t.Errorf("chunk %d still lists %d users, want the 2 not retried", b, len(users))
	}
	requireVerified(t, j)
}

func TestChunksListing(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j) // chunk 1 done, 2 submitted, 3 planned
	tests := []struct {
		states []ChunkState
		want   []ChunkID
	}{
		{nil, []ChunkID{3, 2, 1}}, // grouped by state, in lifecycle order
		{[]ChunkState{ChunkDone}, []ChunkID{1}},
		{[]ChunkState{ChunkSubmitted, ChunkPlanned}, []ChunkID{2, 3}},
		{[]ChunkState{ChunkAmbiguous}, nil},
	}
	for _, tt := range tests {
		chunks, err := j.Chunks(tt.states...)
		must(t, err)
		var got []ChunkID
		for _, c := range chunks {
			got = append(got, c.ID)
		}
		if len(got) != len(tt.want) {
			t.Errorf("Chunks(%v) = %v, want %v", tt.states, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Chunks(%v) = %v, want %v", tt.states, got, tt.want)
			}
		}
	}
	c, err := j.Chunk(2)
	must(t, err)
	if c.Stage != "canary" || c.Users != 3 || c.JobID != "job_2" || c.Attempts != 1 || c.Created.IsZero() {
		t.Errorf("chunk 2 = %+v", c)
	}
}

// TestChunksInBatches takes fresh chunks and one sent again through
// StartChunks and CompleteChunks, two transactions for the whole batch.
func TestChunksInBatches(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 100, 100)
	again, err := j.PlanChunk("canary", rowRange(1, 10))
	must(t, err)
	must(t, j.MarkChunkSubmitting(again))
	must(t, j.MarkChunkAmbiguous(again, "lost answer"))

	ids, err := j.StartChunks("canary", [][]RowID{rowRange(11, 50), rowRange(51, 100)}, []ChunkID{again})
	must(t, err)
	if len(ids) != 2 || ids[0] == again || ids[1] == ids[0] {
		t.Fatalf("fresh chunk ids = %v", ids)
	}
	for _, id := range append(ids, again) {
		c, err := j.Chunk(id)
		must(t, err)
		if c.State != ChunkSubmitting {
			t.Errorf("chunk %d is %s, want submitting", id, c.State)
		}
	}
	st, err := j.Status(0)
	must(t, err)
	if got := st.Stages[0].Users[UserSubmitted]; got != 100 {
		t.Errorf("%d users submitted, want 100", got)
	}
	requireVerified(t, j)

	failed := outcomes(rowRange(51, 100), UserInserted)
	failed[0] = Outcome{Row: 51, State: UserFailed, ErrorCode: "INVALID_BODY", ErrorMessage: "bad"}
	must(t, j.CompleteChunks([]ChunkCompletion{
		{ID: again, JobID: "file-1", Outcomes: outcomes(rowRange(1, 10), UserInserted)},
		{ID: ids[0], JobID: "file-2", Outcomes: outcomes(rowRange(11, 50), UserInserted)},
		{ID: ids[1], JobID: "file-3", Outcomes: failed},
	}))
	c, err := j.Chunk(ids[1])
	must(t, err)
	if c.State != ChunkDone || c.JobID != "file-3" || c.Result == nil || c.Result.Failed != 1 || c.Result.Inserted != 49 {
		t.Errorf("completed chunk = %+v", c)
	}
	requireVerified(t, j)

	// Replaying the batch after a crash is harmless; a different outcome is not.
	must(t, j.CompleteChunks([]ChunkCompletion{{ID: ids[0], JobID: "file-2", Outcomes: outcomes(rowRange(11, 50), UserInserted)}}))
	if err := j.CompleteChunks([]ChunkCompletion{{ID: ids[0], JobID: "file-2", Outcomes: outcomes(rowRange(11, 50), UserUpdated)}}); err == nil {
		t.Error("a replay with other outcomes was accepted")
	}
	// A chunk of another stage is refused, and nothing of the batch is kept.
	if _, err := j.StartChunks("rest", [][]RowID{rowRange(1, 2)}, nil); err == nil {
		t.Error("chunks of a stage that is not running were started")
	}
}
