package storage

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Benchmarks of the journal's hot paths on journals of realistic size.
// The 1M ones take tens of seconds each, including setup:
//
//	go test -run '^$' -bench 1M -benchtime 1x ./storage/

const benchChunkSize = 1000 // users per chunk: about what fits Auth0's 500 KB file limit

// buildSubmitted creates a journal at path with n users in one running
// stage, planned into chunks and submitted, and returns the chunk ids.
// The fixture is built without fsync: building it is not what is measured.
func buildSubmitted(tb testing.TB, path string, n int) []ChunkID {
	tb.Helper()
	j, err := Create(path, testMeta(), Options{noSync: true})
	must(tb, err)
	defer j.Close()
	must(tb, j.DefineStages([]StagePlan{{Name: "all", Planned: n, Gate: Gate{MaxFailureRate: 1}}}))
	must(tb, j.AddUsers(ctx, pendingUsers(1, RowID(n))))
	must(tb, j.AssignUsers(ctx, "all", rowRange(1, RowID(n))))
	must(tb, j.StartStage("all"))
	var ids []ChunkID
	for start := 1; start <= n; start += benchChunkSize {
		ids = append(ids, submitChunk(tb, j, "all", rowRange(RowID(start), RowID(min(start+benchChunkSize-1, n)))))
	}
	return ids
}

// chunkOutcomes is what a finished import job reports for a chunk: 1% of
// users failed, the rest inserted.
func chunkOutcomes(j *Journal, id ChunkID, tb testing.TB) []Outcome {
	users, err := j.ChunkUsers(id)
	must(tb, err)
	out := make([]Outcome, len(users))
	for i, u := range users {
		out[i] = Outcome{Row: u.Row, State: UserInserted, UserID: "auth0|" + u.Email[:11]}
		if i%100 == 0 {
			out[i] = Outcome{Row: u.Row, State: UserFailed, ErrorCode: "PASSWORD_HASH", ErrorMessage: "invalid bcrypt hash"}
		}
	}
	return out
}

// BenchmarkRecordOutcomes1M records outcomes for 1,000,000 submitted
// users on a durable journal (fsync per transaction) with RecordOutcomes,
// in calls of 10,000 (one transaction each). The journal (1M users
// registered, assigned, chunked and submitted) is rebuilt for every
// iteration, outside the timer.
func BenchmarkRecordOutcomes1M(b *testing.B) {
	const n = 1_000_000
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "journal.db")
		buildSubmitted(b, path, n)
		j, err := Open(path, Options{}) // durable from here on
		must(b, err)
		all := outcomes(rowRange(1, n), UserInserted)
		b.StartTimer()
		start := time.Now()
		for lo := 0; lo < n; lo += maxRecordsPerTx {
			if err := j.RecordOutcomes(ctx, all[lo:lo+maxRecordsPerTx]); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
		b.StopTimer()
		requireSettledBench(b, j, n)
		must(b, j.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "outcomes/s")
}

// BenchmarkCompleteChunks1M records the same outcomes the way the executor
// does: one CompleteChunk (one transaction, so one fsync) per 1,000-user
// chunk. It is bound by fsync latency.
func BenchmarkCompleteChunks1M(b *testing.B) { benchmarkCompleteChunks(b, 1_000_000) }

// BenchmarkCompleteChunks100K is the same on a tenth of the users.
func BenchmarkCompleteChunks100K(b *testing.B) { benchmarkCompleteChunks(b, 100_000) }

func benchmarkCompleteChunks(b *testing.B, n int) {
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "journal.db")
		ids := buildSubmitted(b, path, n)
		j, err := Open(path, Options{})
		must(b, err)
		// The outcomes are prepared as the executor would before each
		// call; preparing them is not journal work.
		work := make([][]Outcome, len(ids))
		for k, id := range ids {
			work[k] = chunkOutcomes(j, id, b)
		}
		b.StartTimer()
		start := time.Now()
		for k, id := range ids {
			if err := j.CompleteChunk(id, work[k]); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
		b.StopTimer()
		requireSettledBench(b, j, n)
		if st, _ := j.Status(0); st.Chunks[ChunkDone] != len(ids) {
			b.Fatalf("chunks %v", st.Chunks)
		}
		if info, err := os.Stat(path); err == nil {
			b.ReportMetric(float64(info.Size())/(1<<20), "MB")
		}
		must(b, j.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "outcomes/s")
}

func requireSettledBench(b *testing.B, j *Journal, n int) {
	st, err := j.Status(0)
	must(b, err)
	if st.Users.WithOutcome() != n || st.Users[UserSubmitted] != 0 {
		b.Fatalf("after recording: %v", st.Users)
	}
}

// BenchmarkRegisterAndAssign1M registers 1,000,000 rows and assigns them
// to a stage, durably: the setup of a run.
func BenchmarkRegisterAndAssign1M(b *testing.B) {
	const n = 1_000_000
	var register, assign time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		j, err := Create(filepath.Join(b.TempDir(), "journal.db"), testMeta(), Options{})
		must(b, err)
		must(b, j.DefineStages([]StagePlan{{Name: "all", Planned: n, Gate: Gate{MaxFailureRate: 1}}}))
		users, rows := pendingUsers(1, n), rowRange(1, n)
		b.StartTimer()
		start := time.Now()
		must(b, j.AddUsers(ctx, users))
		register += time.Since(start)
		start = time.Now()
		must(b, j.AssignUsers(ctx, "all", rows))
		assign += time.Since(start)
		b.StopTimer()
		must(b, j.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/register.Seconds(), "registered/s")
	b.ReportMetric(float64(n*b.N)/assign.Seconds(), "assigned/s")
}

// settledFixture is a 1,000,000-user journal in which every chunk is done,
// shared by the read benchmarks (which do not change it) and deleted by
// TestMain.
var settledFixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func settled1M(b *testing.B) string {
	b.Helper()
	settledFixture.once.Do(func() {
		settledFixture.dir, settledFixture.err = os.MkdirTemp("", "storage-bench-")
		if settledFixture.err != nil {
			return
		}
		path := filepath.Join(settledFixture.dir, "journal.db")
		ids := buildSubmitted(b, path, 1_000_000)
		j, err := Open(path, Options{noSync: true})
		if err != nil {
			settledFixture.err = err
			return
		}
		defer j.Close()
		for _, id := range ids {
			if err := j.CompleteChunk(id, chunkOutcomes(j, id, b)); err != nil {
				settledFixture.err = err
				return
			}
		}
		settledFixture.path = path
	})
	if settledFixture.err != nil {
		b.Fatal(settledFixture.err)
	}
	return settledFixture.path
}

func removeBenchFixtures() {
	if settledFixture.dir != "" {
		os.RemoveAll(settledFixture.dir)
	}
}

func openSettled1M(b *testing.B) *Journal {
	path := settled1M(b)
	j, err := Open(path, Options{})
	must(b, err)
	b.Cleanup(func() { j.Close() })
	return j
}

// BenchmarkStatus1M reads the status of a 1,000,000-user journal.
func BenchmarkStatus1M(b *testing.B) {
	j := openSettled1M(b)
	for b.Loop() {
		st, err := j.Status(20)
		if err != nil {
			b.Fatal(err)
		}
		if st.Users.Total() != 1_000_000 || len(st.Events) != 20 {
			b.Fatalf("status: %v users, %d events", st.Users.Total(), len(st.Events))
		}
	}
}

// BenchmarkOpenAndStatus1M measures what `provision status` does: open a
// 1,000,000-user journal cold, read its status, close it.
func BenchmarkOpenAndStatus1M(b *testing.B) {
	path := settled1M(b)
	for b.Loop() {
		j, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.Status(20); err != nil {
			b.Fatal(err)
		}
		must(b, j.Close())
	}
}

// BenchmarkScanFailedUsers1M finds the 1% failed users among 1,000,000: a
// report or retry scan.
func BenchmarkScanFailedUsers1M(b *testing.B) {
	j := openSettled1M(b)
	for b.Loop() {
		n := 0
		for _, err := range j.Users(ctx, UserFilter{States: []UserState{UserFailed}}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10_000 {
			b.Fatalf("found %d failed users, want 10,000", n)
		}
	}
}

// BenchmarkVerify1M cross-checks a 1,000,000-user journal.
func BenchmarkVerify1M(b *testing.B) {
	j := openSettled1M(b)
	for b.Loop() {
		r, err := j.Verify(ctx)
		if err != nil || !r.OK() {
			b.Fatalf("verify: %v %v", err, r.Problems)
		}
	}
}
