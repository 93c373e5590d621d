package run

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/storage"
)

func TestRunMigratesEveryUserExactlyOnce(t *testing.T) {
	f := newFixture(t, 60, sandbox.Config{})
	res := f.run(f.opts("canary:5,wave:20%,rest"))
	if res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
	c := res.Status.Users
	if c[storage.UserInserted] != 60 || c[storage.UserQuarantined] != 1 || c[storage.UserSkipped] != 1 || c.Total() != f.rows {
		t.Errorf("journal counts %v, want 60 inserted, 1 quarantined, 1 skipped of %d rows", c, f.rows)
	}
	for _, st := range res.Status.Stages {
		if st.State != storage.StageDone {
			t.Errorf("stage %s is %s, want done", st.Name, st.State)
		}
	}
	if got := []int{res.Status.Stages[0].Users.Total(), res.Status.Stages[1].Users.Total(), res.Status.Stages[2].Users.Total()}; got[0] != 5 || got[1] != 12 || got[2] != 43 {
		t.Errorf("stage sizes %v, want [5 12 43]", got)
	}
	for _, ev := range f.events {
		t.Log(ev)
	}
}

func TestApprovalGateStopsUntilApproved(t *testing.T) {
	f := newFixture(t, 20, sandbox.Config{})
	res := f.run(f.opts("canary:3:approve,rest"))
	if res.State != StateAwaitingApproval || res.Stage != "canary" {
		t.Fatalf("run ended %s at %q (%s), want awaiting approval at canary", res.State, res.Stage, res.Reason)
	}
	if n := res.Status.Users[storage.UserInserted]; n != 3 {
		t.Errorf("%d users inserted before approval, want the canary's 3", n)
	}
	// Running again without approval changes nothing.
	if res := f.run(f.opts("")); res.State != StateAwaitingApproval {
		t.Fatalf("second run ended %s, want still awaiting approval", res.State)
	}
	o := f.opts("")
	o.Approve = "canary"
	o.Operator = "ops@example.com"
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("approved run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
	st, err := f.openJournal().Stage("canary")
	if err != nil {
		t.Fatal(err)
	}
	if st.Approval == nil || st.Approval.By != "ops@example.com" {
		t.Errorf("canary approval = %+v, want by ops@example.com", st.Approval)
	}
}

// A submission whose answer is lost (the job was created, the client saw
// a 500) is resolved without importing anyone twice: the chunk is sent
// again without upsert and its DUPLICATED_USER errors are confirmed by
// email as the lost job's own inserts.
func TestAmbiguousSubmitIsResolvedWithoutDuplicates(t *testing.T) {
	f := newFixture(t, 30, sandbox.Config{})
	f.srv.Faults().FailImportsAfterCreate(2)
	res := f.run(f.opts("rest"))
	if res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
	if n := res.Status.Users[storage.UserInserted]; n != 30 {
		t.Errorf("%d users recorded inserted, want 30 (failures: %d)", n, res.Status.Users[storage.UserFailed])
	}
	ambiguous := 0
	for _, ev := range f.events {
		if u, ok := ev.(ChunkUnsettled); ok && u.State == storage.ChunkAmbiguous {
			ambiguous++
		}
	}
	if ambiguous != 2 {
		t.Errorf("%d chunks reported ambiguous, want 2", ambiguous)
	}
	confirmed := 0
	for _, ev := range f.events {
		if c, ok := ev.(ChunkFinished); ok {
			confirmed += c.Lookups
		}
	}
	if confirmed == 0 {
		t.Error("no user was confirmed by email: the lost jobs' inserts were not seen as duplicates")
	}
}

// A job that fails as a whole is sent again.
func TestFailedJobIsSentAgain(t *testing.T) {
	f := newFixture(t, 30, sandbox.Config{})
	f.srv.Faults().FailNextJobs(1)
	res := f.run(f.opts("rest"))
	if res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
}

// preexist imports some of the fixture's users before the run, an hour
// before the run's jobs on the tenant's clock.
func preexist(t *testing.T, f *fixture, clock *sandboxtest.Clock, n int) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var users []importuser.User
	for _, email := range f.valid[:n] {
		users = append(users, importuser.User{Email: email, GivenName: "Before"})
		out[email] = true
	}
	if _, errs, err := f.srv.Import(false, users...); err != nil || len(errs) > 0 {
		t.Fatalf("seed the tenant: %v %v", err, errs)
	}
	clock.Advance(time.Hour)
	return out
}

// With upsert, users who were already in the tenant are recorded as
// updated, the others as inserted, although Auth0 reports only totals.
func TestUpsertTellsInsertedFromUpdated(t *testing.T) {
	clock := sandboxtest.NewClock()
	f := newFixture(t, 40, sandbox.Config{Now: clock.Now})
	before := preexist(t, f, clock, 5)
	o := f.opts("rest")
	o.Settings.Upsert = true
	res := f.run(o)
	if res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
	j := f.openJournal()
	for i, email := range f.valid {
		u, err := j.UserByEmail(email)
		if err != nil {
			t.Fatal(err)
		}
		want := storage.UserInserted
		if before[email] {
			want = storage.UserUpdated
		}
		if u.State != want {
			t.Errorf("user %d <%s> is %s, want %s", i, email, u.State, want)
		}
	}
}

// Without upsert, users already in the tenant fail as duplicates; more
// failures than the gate allows stop the stage until the operator decides.
func TestFailureRateGateStopsTheRun(t *testing.T) {
	clock := sandboxtest.NewClock()
	f := newFixture(t, 40, sandbox.Config{Now: clock.Now})
	preexist(t, f, clock, 4) // 10% failures against a 2% gate
	res := f.run(f.opts("first:20,rest"))
	if res.State != StateGated || res.Stage != "first" {
		t.Fatalf("run ended %s at %q (%s), want gated at first", res.State, res.Stage, res.Reason)
	}
	if !strings.Contains(res.Reason, "failure rate") {
		t.Errorf("reason %q does not say why", res.Reason)
	}
	if n := res.Status.Users[storage.UserInserted] + res.Status.Users[storage.UserFailed]; n != 20 {
		t.Errorf("%d users have an outcome, want only the first stage's 20", n)
	}
	o := f.opts("")
	o.Approve = "first"
	res = f.run(o)
	if res.Status.Stages[0].State != storage.StageDone {
		t.Fatalf("approving first left it %s", res.Status.Stages[0].State)
	}
	if res.State == StateGated {
		o.Approve = res.Stage // the rest stage drew some of the duplicates too
		res = f.run(o)
	}
	if res.State != StateFinished {
		t.Fatalf("approved run ended %s: %s", res.State, res.Reason)
	}
	if n := res.Status.Users[storage.UserFailed]; n != 4 {
		t.Errorf("%d users failed, want the 4 duplicates", n)
	}
}

// Pausing (Ctrl-C) stops cleanly; running again finishes with nobody
// lost or imported twice.
func TestPauseAndResume(t *testing.T) {
	f := newFixture(t, 80, sandbox.Config{JobDuration: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	o := f.opts("rest")
	var once sync.Once
	ch := make(chan Event, 64)
	o.Events = ch
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range ch {
			if _, ok := ev.(ChunkFinished); ok {
				once.Do(cancel)
			}
		}
	}()
	res, err := e.Run(ctx)
	close(ch)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StatePaused {
		t.Fatalf("run ended %s, want paused", res.State)
	}
	done := res.Status.Users[storage.UserInserted]
	if done == 0 || done == 80 {
		t.Fatalf("%d users inserted at the pause, want some but not all", done)
	}
	if res := f.run(f.opts("")); res.State != StateFinished {
		t.Fatalf("resumed run ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
}

func TestChangedSourceIsRefusedUnlessAccepted(t *testing.T) {
	f := newFixture(t, 20, sandbox.Config{})
	if res := f.run(f.opts("canary:5:approve,rest")); res.State != StateAwaitingApproval {
		t.Fatalf("run ended %s", res.State)
	}
	// The export is re-made with two more users.
	data, err := os.ReadFile(f.source)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "late1@example.com,Late,\nlate2@example.com,Late,\n"...)
	if err := os.WriteFile(f.source, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var changed *ChangedSourceError
	if _, err := f.tryRun(context.Background(), f.opts("")); !errors.As(err, &changed) {
		t.Fatalf("resume against a changed source: %v, want a ChangedSourceError", err)
	}
	o := f.opts("")
	o.AcceptChangedSource = true
	o.Approve = "canary"
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	f.valid = append(f.valid, "late1@example.com", "late2@example.com")
	f.checkExactlyOnce()
	// The acceptance is remembered.
	if _, err := f.tryRun(context.Background(), f.opts("")); err != nil {
		t.Errorf("a second resume needs --accept-changed-source again: %v", err)
	}
}

// A resume needs only the journal and the target: the source, its options,
// the stages and the settings come from the journal.
func TestResumeNeedsOnlyTheWorkspace(t *testing.T) {
	f := newFixture(t, 30, sandbox.Config{})
	o := f.opts("canary:4:approve,rest")
	o.Settings.Upsert = true
	o.MaxFileBytes = 1500
	if res := f.run(o); res.State != StateAwaitingApproval {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	res := f.run(Options{Journal: f.journal(), Target: f.client, Approve: "canary"})
	if res.State != StateFinished {
		t.Fatalf("resume ended %s: %s", res.State, res.Reason)
	}
	if !res.Settings.Upsert || res.Status.Chunks[storage.ChunkDone] < 3 {
		t.Errorf("the resume did not keep the run's settings: upsert %t, %d chunks", res.Settings.Upsert, res.Status.Chunks[storage.ChunkDone])
	}
	f.checkExactlyOnce()
	// A resume that contradicts the journal is refused.
	o = f.opts("")
	o.MaxFileBytes = 3000
	if _, err := f.tryRun(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--max-file-size") {
		t.Errorf("a resume with another file size: %v, want a refusal naming --max-file-size", err)
	}
}
