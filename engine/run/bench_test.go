package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"provision/engine/importuser"
	"provision/engine/target"
	"provision/engine/target/file"
	"provision/engine/validate"
	"provision/storage"
)

// nullTarget accepts every file at once, as a tenant with infinite
// capacity would: what is left to measure is the engine and the journal.
type nullTarget struct{}

func (nullTarget) Submit(_ context.Context, s target.Submission) (target.Job, error) {
	return target.Job{ID: fmt.Sprintf("job_%d", s.Seq), Status: target.StatusCompleted, CreatedAt: time.Now(),
		Summary: target.Summary{Inserted: s.Users, Total: s.Users}}, nil
}
func (nullTarget) Job(_ context.Context, id string) (target.Job, error) {
	return target.Job{ID: id, Status: target.StatusCompleted}, nil
}
func (nullTarget) JobErrors(context.Context, string) ([]target.JobUserError, error) { return nil, nil }
func (nullTarget) UsersByEmail(context.Context, string) ([]target.User, error) {
	return nil, target.ErrUnsupported
}
func (nullTarget) DeleteUser(context.Context, string) error { return target.ErrUnsupported }

// benchSource writes n users shaped like a real export (names, metadata
// and a bcrypt hash) and returns its path.
func benchSource(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "users.csv")
	var sb strings.Builder
	sb.WriteString("email,given_name,family_name,user_id,user_metadata,password_hash\n")
	for i := range n {
		fmt.Fprintf(&sb, "user%07d@example.com,Given%d,Family%d,%d,\"{\"\"plan\"\":\"\"basic\"\",\"\"seats\"\":%d}\",$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n", i, i, i, i, i%7)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchUsers is the size of the benchmark runs: 100,000 users, or
// PROVISION_BENCH_USERS (bench/migrate.sh runs them at 1,000,000).
func benchUsers(b *testing.B) int {
	if v := os.Getenv("PROVISION_BENCH_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("PROVISION_BENCH_USERS=%q: want a number of users", v)
		}
		return n
	}
	return 100_000
}

func benchRun(b *testing.B, tgt func(dir string) target.Target) {
	n := benchUsers(b)
	src := benchSource(b, n)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		t := tgt(dir)
		e, err := New(Options{
			Journal: filepath.Join(dir, "journal.db"), Source: src, Target: t,
			Validate: validate.Options{Username: validate.DefaultUsernamePolicy},
			Settings: storage.RunSettings{Target: "bench", StageSpec: "canary:50,wave:10%,rest"},
			Verify:   VerifyOptions{Disabled: true},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := e.Run(context.Background())
		if err != nil || res.State != StateFinished {
			b.Fatalf("run: %v %s %s", err, res.State, res.Reason)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkRunNullTarget measures the engine and its journal: validation,
// registration, assignment, packing, and five journal writes per user.
func BenchmarkRunNullTarget(b *testing.B) {
	benchRun(b, func(string) target.Target { return nullTarget{} })
}

// BenchmarkRunFileTarget adds the file target, which checks every file
// against Auth0's schema and fsyncs it with its manifest.
func BenchmarkRunFileTarget(b *testing.B) {
	benchRun(b, func(dir string) target.Target {
		t, err := file.Open(filepath.Join(dir, "out"))
		if err != nil {
			b.Fatal(err)
		}
		return t
	})
}

// BenchmarkRecordOutcomes measures how fast the engine records what jobs
// did: for every chunk of 1,000 submitted users, decide each user's
// outcome from the job's error list (1% failed) and complete the chunk in
// the journal, fsynced, as OnFinished does. The journal is prepared
// outside the timer.
func BenchmarkRecordOutcomes(b *testing.B) {
	n := benchUsers(b)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		j, err := storage.Create(filepath.Join(dir, "journal.db"), storage.Meta{Source: storage.SourceFingerprint{SHA256: "bench"}}, storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		users := make([]storage.NewUser, n)
		rows := make([]storage.RowID, n)
		for i := range users {
			rows[i] = storage.RowID(i + 1)
			users[i] = storage.NewUser{Row: rows[i], Line: i + 2, Email: fmt.Sprintf("user%07d@example.com", i), State: storage.UserPending}
		}
		must := func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(j.AddUsers(ctx, users))
		must(j.DefineStages([]storage.StagePlan{{Name: "all", Planned: n, Gate: storage.Gate{MaxFailureRate: 1}}}))
		must(j.AssignUsers(ctx, "all", rows))
		must(j.StartStage("all"))
		e := &Engine{opts: Options{Journal: j.Path(), Target: nullTarget{}}}
		must(e.opts.withDefaults())
		s := &session{e: e, j: j, stop: newStopper(), chunks: map[storage.ChunkID]*chunkInfo{}, tries: map[storage.ChunkID]int{}}
		// Chunk by chunk, as a run goes: at most one job in flight.
		for lo := 0; lo < n; lo += 1000 {
			members := rows[lo:min(lo+1000, n)]
			id, err := j.PlanChunk("all", members)
			must(err)
			must(j.MarkChunkSubmitting(id))
			must(j.RecordJobID(id, fmt.Sprintf("job_%d", id)))
			info := &chunkInfo{stage: "all", members: members, emails: make([]string, len(members)), userIDs: make([]string, len(members)), planned: time.Now()}
			var errs []target.JobUserError
			for k, r := range members {
				info.emails[k] = users[r-1].Email
				if k%100 == 0 {
					errs = append(errs, target.JobUserError{User: importuser.User{Email: info.emails[k]}, Errors: []target.UserError{{Code: "PASSWORD_STRENGTH", Message: "weak"}}})
				}
			}
			s.chunks[id] = info
			job := target.Job{ID: fmt.Sprintf("job_%d", id), Status: target.StatusCompleted, CreatedAt: time.Now(),
				Summary: target.Summary{Inserted: len(members) - len(errs), Failed: len(errs), Total: len(members)}}
			b.StartTimer()
			must(e.finished(ctx, s, id, job, errs))
			b.StopTimer()
		}
		j.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "outcomes/s")
}
