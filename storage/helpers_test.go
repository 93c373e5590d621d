package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The lock tests re-run this binary as a second process that holds a
	// journal; see holdJournalProcess.
	if path := os.Getenv(holdJournalEnv); path != "" {
		os.Exit(holdJournalProcess(path))
	}
	code := m.Run()
	removeBenchFixtures()
	os.Exit(code)
}

func testMeta() Meta {
	return Meta{
		ToolVersion: "v0.0.0-test",
		Source:      SourceFingerprint{Path: "users.csv", Size: 1234, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Settings:    RunSettings{Target: "auth0:http://127.0.0.1:8787", ConnectionID: "con_AAAAAAAAAAAAAAAA", StageSpec: "canary,rest"},
	}
}

// newJournal creates a journal in a fresh directory; it is closed when the
// test ends.
func newJournal(t testing.TB, opts ...Options) *Journal {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Create(path, testMeta(), o)
	if err != nil {
		t.Fatalf("create journal: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func reopen(t testing.TB, j *Journal) *Journal {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	j2, err := Open(j.Path(), j.opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { j2.Close() })
	return j2
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func email(row RowID) string { return fmt.Sprintf("user%07d@example.com", row) }

// pendingUsers returns rows from..to (inclusive) as valid source rows.
func pendingUsers(from, to RowID) []NewUser {
	out := make([]NewUser, 0, to-from+1)
	for r := from; r <= to; r++ {
		out = append(out, NewUser{Row: r, Line: int(r) + 1, Email: email(r), State: UserPending})
	}
	return out
}

func rowRange(from, to RowID) []RowID {
	out := make([]RowID, 0, to-from+1)
	for r := from; r <= to; r++ {
		out = append(out, r)
	}
	return out
}

func outcomes(rows []RowID, state UserState) []Outcome {
	out := make([]Outcome, len(rows))
	for i, r := range rows {
		out[i] = Outcome{Row: r, State: state, UserID: fmt.Sprintf("auth0|%d", r)}
		if state == UserFailed {
			out[i].ErrorCode, out[i].ErrorMessage = "PATTERN", "String does not match pattern"
		}
	}
	return out
}

// startedRun defines stages canary (gate: 10% failures) and rest (gate:
// approval), registers rows 1..n and assigns 1..canary to canary and the
// others to rest, and starts canary.
func startedRun(t testing.TB, j *Journal, n, canary RowID) {
	t.Helper()
	must(t, j.DefineStages([]StagePlan{
		{Name: "canary", Planned: int(canary), Gate: Gate{MaxFailureRate: 0.1}},
		{Name: "rest", Planned: int(n - canary), Gate: Gate{MaxFailureRate: 1, Approve: true}},
	}))
	must(t, j.AddUsers(ctx, pendingUsers(1, n)))
	must(t, j.AssignUsers(ctx, "canary", rowRange(1, canary)))
	if n > canary {
		must(t, j.AssignUsers(ctx, "rest", rowRange(canary+1, n)))
	}
	must(t, j.StartStage("canary"))
}

// submitChunk plans rows into a chunk of stage and takes it to submitted.
func submitChunk(t testing.TB, j *Journal, stage string, rows []RowID) ChunkID {
	t.Helper()
	id, err := j.PlanChunk(stage, rows)
	must(t, err)
	must(t, j.MarkChunkSubmitting(id))
	must(t, j.RecordJobID(id, fmt.Sprintf("job_%d", id)))
	return id
}

func requireVerified(t testing.TB, j *Journal) {
	t.Helper()
	r, err := j.Verify(ctx)
	must(t, err)
	if !r.OK() {
		t.Fatalf("verify found problems:\n%v", r.Problems)
	}
}

func within(t testing.TB, limit time.Duration, start time.Time, what string) {
	t.Helper()
	if d := time.Since(start); d > limit {
		t.Errorf("%s took %v; want under %v", what, d, limit)
	}
}
