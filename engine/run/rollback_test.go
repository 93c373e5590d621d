package run

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target"
	"provision/storage"
)

// failingDeletes is a target whose deletions fail after the first n.
type failingDeletes struct {
	target.Target
	n atomic.Int32
}

func (f *failingDeletes) DeleteUser(ctx context.Context, id string) error {
	if f.n.Add(-1) < 0 {
		return errors.New("connection reset")
	}
	return f.Target.DeleteUser(ctx, id)
}

func TestRollbackDeletesInsertedUsersAndKeepsUpdatedOnes(t *testing.T) {
	clock := sandboxtest.NewClock()
	f := newFixture(t, 40, sandbox.Config{Now: clock.Now})
	before := preexist(t, f, clock, 6)
	o := f.opts("first:15,rest")
	o.Settings.Upsert = true
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("run ended %s: %s", res.State, res.Reason)
	}
	j := f.openJournal()
	stageUsers, err := j.CollectUsers(context.Background(), storage.UserFilter{Stage: "first"})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()

	// The first attempt dies after 4 deletions; the second finishes.
	flaky := &failingDeletes{Target: f.client}
	flaky.n.Store(4)
	ro := RollbackOptions{Journal: f.journal(), Target: flaky, Stage: "first", Connection: f.srv.ConnectionName(), Workers: 1}
	if _, err := Rollback(context.Background(), ro); err == nil || !strings.Contains(err.Error(), "run the rollback again") {
		t.Fatalf("interrupted rollback: %v", err)
	}
	ro.Target = f.client
	res, err := Rollback(context.Background(), ro)
	if err != nil {
		t.Fatal(err)
	}

	wantUpdated := 0
	for _, u := range stageUsers {
		_, present, err := f.srv.UserByEmail(u.Email)
		if err != nil {
			t.Fatal(err)
		}
		if before[u.Email] {
			wantUpdated++
			if !present {
				t.Errorf("<%s> existed before the run and was deleted by the rollback", u.Email)
			}
		} else if present {
			t.Errorf("<%s> was inserted by the stage and is still there", u.Email)
		}
	}
	if len(res.Updated) != wantUpdated || res.RolledBack != 15-wantUpdated {
		t.Errorf("rollback: %d updated listed (want %d), %d rolled back (want %d)", len(res.Updated), wantUpdated, res.RolledBack, 15-wantUpdated)
	}
	// The other stage is untouched.
	users, _ := f.srv.Users()
	if len(users) != 40-(15-wantUpdated) {
		t.Errorf("the tenant holds %d users after the rollback, want %d", len(users), 40-(15-wantUpdated))
	}
	// A rolled-back stage stops the run until it is retried; retrying
	// brings everyone back.
	o = f.opts("")
	o.Settings.Upsert = true
	if res := f.run(o); res.State != StateStopped {
		t.Errorf("run after rollback ended %s, want stopped", res.State)
	}
	o.Retry = "first"
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("retry ended %s: %s", res.State, res.Reason)
	}
	users, _ = f.srv.Users()
	if len(users) != 40 {
		t.Errorf("the tenant holds %d users after the retry, want 40", len(users))
	}
}

func TestRollbackRefusesAStageWithJobsInFlight(t *testing.T) {
	f := newFixture(t, 10, sandbox.Config{JobDuration: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	o := f.opts("rest")
	ch := make(chan Event, 16)
	o.Events = ch
	go func() {
		for ev := range ch {
			if _, ok := ev.(ChunkSubmitted); ok {
				cancel()
			}
		}
	}()
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(ctx)
	close(ch)
	if err != nil || res.State != StatePaused || len(res.Status.InFlight) != 1 {
		t.Fatalf("run: %v, %s with %d jobs in flight; want paused with 1", err, res.State, len(res.Status.InFlight))
	}
	_, err = Rollback(context.Background(), RollbackOptions{Journal: f.journal(), Target: f.client, Stage: "rest"})
	if err == nil || !strings.Contains(err.Error(), "in flight") {
		t.Errorf("rollback with a job in flight: %v, want a refusal", err)
	}
	if _, err := Rollback(context.Background(), RollbackOptions{Journal: f.journal(), Target: f.client, Stage: "nope"}); err == nil {
		t.Error("rolling back an unknown stage was accepted")
	}
}
