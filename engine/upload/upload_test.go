package upload

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"provision/engine/chunk"
	"provision/engine/importuser"
	"provision/engine/target"
)

// fakeTenant is a Target whose import jobs each run for a fixed time and
// which, like Auth0, refuses a job beyond its concurrent-job limit. Tests
// run it inside a synctest bubble, where time is virtual: a 100-second
// upload takes milliseconds and its timing is exact.
type fakeTenant struct {
	duration time.Duration
	limit    int
	// failUsers makes the job of the given chunk reject that many users.
	failUsers map[int]int
	// submitErr, if set, may fail a submission.
	submitErr func(seq int) error
	// beforeSubmit sees every submission before it is accepted.
	beforeSubmit func(seq int)
	jobErr       error // returned by Job for every poll when set

	mu           sync.Mutex
	jobs         map[string]*fakeJob
	submits      []int
	polls        int
	errorFetches int
	overLimit    int
}

type fakeJob struct {
	seq, users int
	at         time.Time
}

func newFakeTenant(d time.Duration) *fakeTenant {
	return &fakeTenant{duration: d, limit: 2, jobs: map[string]*fakeJob{}, failUsers: map[int]int{}}
}

func (f *fakeTenant) Submit(ctx context.Context, s target.Submission) (target.Job, error) {
	if f.beforeSubmit != nil {
		f.beforeSubmit(s.Seq)
	}
	if f.submitErr != nil {
		if err := f.submitErr(s.Seq); err != nil {
			return target.Job{}, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	running := 0
	for _, j := range f.jobs {
		if time.Since(j.at) < f.duration {
			running++
		}
	}
	if running >= f.limit {
		f.overLimit++
	}
	id := fmt.Sprintf("job_%04d", s.Seq)
	f.jobs[id] = &fakeJob{seq: s.Seq, users: s.Users, at: time.Now()}
	f.submits = append(f.submits, s.Seq)
	return target.Job{ID: id, Status: target.StatusPending}, nil
}

func (f *fakeTenant) Job(ctx context.Context, id string) (target.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	if f.jobErr != nil {
		return target.Job{}, f.jobErr
	}
	j, ok := f.jobs[id]
	if !ok {
		return target.Job{}, fmt.Errorf("job %s: not found", id)
	}
	if time.Since(j.at) < f.duration {
		return target.Job{ID: id, Status: target.StatusProcessing}, nil
	}
	failed := f.failUsers[j.seq]
	return target.Job{ID: id, Status: target.StatusCompleted,
		Summary: target.Summary{Inserted: j.users - failed, Failed: failed, Total: j.users}}, nil
}

func (f *fakeTenant) JobErrors(ctx context.Context, id string) ([]target.JobUserError, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errorFetches++
	var out []target.JobUserError
	for i := range f.failUsers[f.jobs[id].seq] {
		out = append(out, target.JobUserError{User: importuser.User{Email: fmt.Sprintf("u%d@example.com", i)},
			Errors: []target.UserError{{Code: "DUPLICATED_USER"}}})
	}
	return out, nil
}

func (f *fakeTenant) UsersByEmail(context.Context, string) ([]target.User, error) { return nil, nil }
func (f *fakeTenant) DeleteUser(context.Context, string) error                    { return nil }

func chunks(n int) iter.Seq[Work] {
	return func(yield func(Work) bool) {
		for i := 1; i <= n; i++ {
			c := chunk.Chunk{Seq: i, Data: []byte(`[{"email":"a@example.com"}]`), Keys: []string{"a@example.com"}, Lines: []int{i}}
			if !yield(Work{Chunk: c}) {
				return
			}
		}
	}
}

// journal records callbacks the way the executor's journal would, and
// checks that they come in a valid order and never concurrently.
type journal struct {
	t       *testing.T
	state   map[int]string
	inside  bool
	events  []string
	failOn  string // "event:seq" whose callback fails
	lastJob map[int]target.Job
	errs    map[int]int
}

func newJournal(t *testing.T) *journal {
	return &journal{t: t, state: map[int]string{}, lastJob: map[int]target.Job{}, errs: map[int]int{}}
}

func (j *journal) enter(event string, seq int, from ...string) error {
	if j.inside {
		j.t.Errorf("%s for chunk %d while another callback runs", event, seq)
	}
	j.inside = true
	defer func() { j.inside = false }()
	if !slices.Contains(from, j.state[seq]) {
		j.t.Errorf("chunk %d: %s after %q", seq, event, j.state[seq])
	}
	j.state[seq] = event
	j.events = append(j.events, fmt.Sprintf("%s:%d", event, seq))
	if j.failOn == fmt.Sprintf("%s:%d", event, seq) {
		return errors.New("journal is full")
	}
	return nil
}

func (j *journal) callbacks() Callbacks {
	return Callbacks{
		OnSubmitting: func(ctx context.Context, c chunk.Chunk) error { return j.enter("submitting", c.Seq, "") },
		OnSubmitted: func(ctx context.Context, c chunk.Chunk, job target.Job) error {
			return j.enter("submitted", c.Seq, "submitting")
		},
		OnFinished: func(ctx context.Context, c chunk.Chunk, job target.Job, errs []target.JobUserError) error {
			j.lastJob[c.Seq], j.errs[c.Seq] = job, len(errs)
			return j.enter("finished", c.Seq, "submitted", "")
		},
	}
}

func TestKeepsTwoSlotsBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(time.Second)
		j := newJournal(t)
		// Write-ahead: the journal says "submitting" before the tenant
		// sees the chunk.
		tenant.beforeSubmit = func(seq int) {
			if j.state[seq] != "submitting" {
				t.Errorf("chunk %d reached the tenant in state %q", seq, j.state[seq])
			}
		}
		const n = 100
		stats, err := Run(context.Background(), tenant, chunks(n), j.callbacks(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		capacity := time.Duration(n/2) * tenant.duration
		util := float64(capacity) / float64(stats.Elapsed)
		t.Logf("%d chunks of 1 s jobs, 2 slots: %v elapsed (ideal %v), utilisation %.1f%%, %.1f polls per job",
			n, stats.Elapsed, capacity, 100*util, float64(tenant.polls)/n)
		if stats.Elapsed > 55*time.Second {
			t.Errorf("took %v, want <= 55s", stats.Elapsed)
		}
		if tenant.overLimit != 0 {
			t.Errorf("%d submissions went over the tenant's 2 concurrent jobs", tenant.overLimit)
		}
		if stats.Submitted != n || stats.Finished != n || len(j.events) != 3*n {
			t.Errorf("stats %+v, %d events; want %d chunks through all three callbacks", stats, len(j.events), n)
		}
		if !slices.IsSorted(tenant.submits) {
			t.Errorf("chunks submitted out of order: %v", tenant.submits)
		}
		if tenant.errorFetches != 0 {
			t.Errorf("fetched errors %d times for clean jobs", tenant.errorFetches)
		}
		if perJob := float64(tenant.polls) / n; perJob > 6 {
			t.Errorf("%.1f polls per job; the schedule should need few", perJob)
		}
	})
}

// TestScheduleAdaptsToJobLength checks the overhead stays small whatever
// the jobs' length, and the number of polls stays bounded.
func TestScheduleAdaptsToJobLength(t *testing.T) {
	for _, d := range []time.Duration{200 * time.Millisecond, 5 * time.Second, 90 * time.Second} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tenant := newFakeTenant(d)
				const n = 40
				stats, err := Run(context.Background(), tenant, chunks(n), Callbacks{}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				ideal := time.Duration(n/2) * d
				overhead := float64(stats.Elapsed-ideal) / float64(ideal)
				t.Logf("%v jobs: %v elapsed, overhead %.1f%%, %.1f polls per job", d, stats.Elapsed, 100*overhead, float64(tenant.polls)/n)
				limit := 0.10
				if d < time.Second {
					limit = 0.35 // the 50 ms minimum step is a large share of a 200 ms job
				}
				if overhead > limit || float64(tenant.polls)/n > 12 {
					t.Errorf("overhead %.1f%% with %d polls; want <= %.0f%% and few polls", 100*overhead, tenant.polls, 100*limit)
				}
			})
		})
	}
}

func TestUserErrorsReachOnFinished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(time.Second)
		tenant.failUsers[2] = 3
		j := newJournal(t)
		if _, err := Run(context.Background(), tenant, chunks(3), j.callbacks(), Options{}); err != nil {
			t.Fatal(err)
		}
		if j.errs[2] != 3 || j.errs[1] != 0 || j.lastJob[2].Summary.Failed != 3 {
			t.Errorf("errors per chunk %v, job 2 %+v", j.errs, j.lastJob[2])
		}
		if tenant.errorFetches != 1 {
			t.Errorf("fetched errors %d times, want only for the job that had failures", tenant.errorFetches)
		}
	})
}

func TestCallbackFailureStops(t *testing.T) {
	for _, failOn := range []string{"submitting:5", "submitted:5", "finished:5"} {
		t.Run(failOn, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tenant := newFakeTenant(time.Second)
				j := newJournal(t)
				j.failOn = failOn
				_, err := Run(context.Background(), tenant, chunks(20), j.callbacks(), Options{})
				if err == nil || !strings.Contains(err.Error(), "journal is full") || !strings.Contains(err.Error(), "chunk 5") {
					t.Fatalf("err = %v, want the callback's error for chunk 5", err)
				}
				if max := slices.Max(tenant.submits); max > 7 {
					t.Errorf("went on to submit chunk %d after the failure", max)
				}
				if failOn == "submitting:5" && slices.Contains(tenant.submits, 5) {
					t.Error("chunk 5 was submitted although recording it failed")
				}
			})
		})
	}
}

func TestSubmitFailures(t *testing.T) {
	errAmbiguous := errors.New("no answer: the job may exist")
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(time.Second)
		tenant.submitErr = func(seq int) error {
			if seq == 3 {
				return errAmbiguous
			}
			return nil
		}
		j := newJournal(t)
		cb := j.callbacks()
		var failed []int
		cb.OnSubmitFailed = func(ctx context.Context, c chunk.Chunk, err error) error {
			if !errors.Is(err, errAmbiguous) {
				t.Errorf("OnSubmitFailed got %v", err)
			}
			failed = append(failed, c.Seq)
			return nil
		}
		stats, err := Run(context.Background(), tenant, chunks(6), cb, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(failed, []int{3}) || stats.Finished != 5 || j.state[3] != "submitting" {
			t.Errorf("failed %v, finished %d, chunk 3 %q; want 3 left submitting and the rest finished", failed, stats.Finished, j.state[3])
		}

		// Without OnSubmitFailed the pipeline stops.
		tenant = newFakeTenant(time.Second)
		tenant.submitErr = func(seq int) error {
			if seq == 3 {
				return errAmbiguous
			}
			return nil
		}
		if _, err := Run(context.Background(), tenant, chunks(6), Callbacks{}, Options{}); !errors.Is(err, errAmbiguous) {
			t.Fatalf("err = %v, want the submit error", err)
		}
	})
}

func TestResumedJobsAreFollowedNotResubmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(time.Second)
		tenant.jobs["job_old"] = &fakeJob{seq: 1, users: 1, at: time.Now()}
		j := newJournal(t)
		works := func(yield func(Work) bool) {
			c := chunk.Chunk{Seq: 1, Keys: []string{"a"}}
			if !yield(Work{Chunk: c, JobID: "job_old"}) {
				return
			}
			yield(Work{Chunk: chunk.Chunk{Seq: 2, Data: []byte(`[]`), Keys: []string{"b"}}, Upsert: true})
		}
		stats, err := Run(context.Background(), tenant, works, j.callbacks(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tenant.submits, []int{2}) || stats.Finished != 2 || j.lastJob[1].ID != "job_old" {
			t.Errorf("submits %v, stats %+v, job %+v", tenant.submits, stats, j.lastJob[1])
		}
	})
}

func TestPollErrorAndCancellationStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(time.Second)
		tenant.jobErr = errors.New("403 insufficient scope read:users")
		_, err := Run(context.Background(), tenant, chunks(5), Callbacks{}, Options{})
		if err == nil || !strings.Contains(err.Error(), "read:users") || !strings.Contains(err.Error(), "follow job") {
			t.Fatalf("err = %v, want the poll error", err)
		}

		tenant = newFakeTenant(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = Run(ctx, tenant, chunks(5), Callbacks{}, Options{})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 11*time.Second {
			t.Fatalf("err = %v after %v, want the deadline promptly", err, time.Since(start))
		}
	})
}

func TestJobThatNeverEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tenant := newFakeTenant(3 * time.Hour)
		_, err := Run(context.Background(), tenant, chunks(1), Callbacks{}, Options{})
		if err == nil || !strings.Contains(err.Error(), "still processing") {
			t.Fatalf("err = %v, want a job that is still processing", err)
		}
	})
}

func TestScheduleSteps(t *testing.T) {
	p := PollPolicy{}.withDefaults()
	cold := newSchedule(p, &estimate{})
	var got []time.Duration
	for range 6 {
		got = append(got, cold.NextBackOff())
	}
	if cold.first() != 100*time.Millisecond || got[0] != 100*time.Millisecond || got[1] != 150*time.Millisecond || got[5] > p.Max {
		t.Errorf("cold schedule: first %v then %v", cold.first(), got)
	}

	est := &estimate{}
	est.observe(2 * time.Second)
	est.observe(4 * time.Second)
	warm := newSchedule(p, est)
	if warm.first() != 3*time.Second {
		t.Errorf("first = %v, want the 3s average", warm.first())
	}
	warm.sawRunning(3 * time.Second)
	a, b := warm.NextBackOff(), warm.NextBackOff()
	if a != 150*time.Millisecond || b != 150*time.Millisecond {
		t.Errorf("steps near the estimate = %v, %v; want 5%% of it, steady", a, b)
	}
	warm.sawRunning(5 * time.Second) // well past the estimate: back off again
	warm.NextBackOff()
	if c := warm.NextBackOff(); c <= 150*time.Millisecond {
		t.Errorf("overdue step = %v, want growing", c)
	}
}

// BenchmarkPipeline measures the pipeline's own cost per chunk with jobs
// that finish at once.
func BenchmarkPipeline(b *testing.B) {
	tenant := newFakeTenant(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), tenant, chunks(100), Callbacks{}, Options{Poll: PollPolicy{Initial: time.Nanosecond, Min: time.Nanosecond}}); err != nil {
			b.Fatal(err)
		}
	}
}
