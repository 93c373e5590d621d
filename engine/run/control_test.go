package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/storage"
)

// In the TUI the run waits at a gate for the operator's Approve instead of
// returning.
func TestWaitForApproval(t *testing.T) {
	f := newFixture(t, 20, sandbox.Config{})
	o := f.opts("canary:3:approve,rest")
	o.WaitForApproval = true
	ch := make(chan Event, 64)
	o.Events = ch
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range ch {
			if a, ok := ev.(AwaitingApproval); ok {
				e.Approve(a.Stage, "ops", "looked fine")
			}
		}
	}()
	res, err := e.Run(context.Background())
	close(ch)
	if err != nil || res.State != StateFinished {
		t.Fatalf("run: %v, %s %s", err, res.State, res.Reason)
	}
	if st := res.Status.Stages[0]; st.Approval == nil || st.Approval.By != "ops" || st.Approval.Note != "looked fine" {
		t.Errorf("canary approval = %+v", st.Approval)
	}
	f.checkExactlyOnce()
}

// A run waiting at a gate stops when paused.
func TestPauseWhileWaitingAtAGate(t *testing.T) {
	f := newFixture(t, 10, sandbox.Config{})
	o := f.opts("canary:3:approve,rest")
	o.WaitForApproval = true
	ch := make(chan Event, 64)
	o.Events = ch
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range ch {
			if _, ok := ev.(AwaitingApproval); ok {
				e.Pause()
			}
		}
	}()
	res, err := e.Run(context.Background())
	close(ch)
	if err != nil || res.State != StatePaused {
		t.Fatalf("run: %v, %s, want paused", err, res.State)
	}
}

// Abort stops at once; the journal stays consistent and a resume finishes
// the run without duplicates.
func TestAbortAndResume(t *testing.T) {
	f := newFixture(t, 40, sandbox.Config{JobDuration: 50 * time.Millisecond})
	o := f.opts("rest")
	ch := make(chan Event, 64)
	o.Events = ch
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range ch {
			if _, ok := ev.(ChunkSubmitted); ok {
				e.Abort()
			}
		}
	}()
	res, err := e.Run(context.Background())
	close(ch)
	if err != nil || res.State != StatePaused || !strings.Contains(res.Reason, "aborted") {
		t.Fatalf("run: %v, %s %q; want paused by the abort", err, res.State, res.Reason)
	}
	j, err := storage.Open(f.journal(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := j.Verify(context.Background())
	j.Close()
	if err != nil || !v.OK() {
		t.Fatalf("journal after abort: %v %v", err, v.Problems)
	}
	if res := f.run(f.opts("")); res.State != StateFinished {
		t.Fatalf("resume ended %s: %s", res.State, res.Reason)
	}
	f.checkExactlyOnce()
}

// While a run holds the journal, its status is published beside it; the
// snapshot goes when the run ends.
func TestSnapshotWhileRunning(t *testing.T) {
	f := newFixture(t, 10, sandbox.Config{JobDuration: time.Hour})
	o := f.opts("rest")
	ch := make(chan Event, 64)
	o.Events = ch
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var snap *Snapshot
	var snapErr error
	go func() {
		for ev := range ch {
			if _, ok := ev.(ChunkSubmitted); ok {
				snap, snapErr = ReadSnapshot(f.journal())
				e.Pause()
			}
		}
	}()
	if _, err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(ch)
	if snapErr != nil || snap.PID != os.Getpid() || snap.Status.Users.Total() != f.rows {
		t.Fatalf("snapshot during the run: %+v, %v", snap, snapErr)
	}
	if _, err := ReadSnapshot(f.journal()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the snapshot outlived the run: %v", err)
	}
}

func TestStopperDefersAPauseUntilTheSubmissionIsAnswered(t *testing.T) {
	s := newStopper()
	ctx, cancel := context.WithCancelCause(context.Background())
	s.attach(cancel)
	if !s.beginSubmit() {
		t.Fatal("a fresh stopper refused a submission")
	}
	s.request(stopPause, "paused")
	if ctx.Err() != nil {
		t.Fatal("the pause cut a submission on the wire")
	}
	if s.beginSubmit() {
		t.Error("a paused stopper allowed another submission")
	}
	s.endSubmit()
	if !errors.Is(context.Cause(ctx), errStopped) {
		t.Errorf("the answered submission did not let the pause through: %v", context.Cause(ctx))
	}
	s.detach()

	// Abort does not wait.
	s = newStopper()
	ctx, cancel = context.WithCancelCause(context.Background())
	s.attach(cancel)
	s.beginSubmit()
	s.request(stopAbort, "aborted")
	if ctx.Err() == nil {
		t.Error("abort waited for the submission")
	}
	// A milder request after a stronger one changes nothing.
	s.request(stopDrain, "drain")
	if m, reason := s.state(); m != stopAbort || reason != "aborted" {
		t.Errorf("state %v %q after a milder request", m, reason)
	}
}

func TestSpoolRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	path := spoolPath(filepath.Join(dir, "journal.db"), strings.Repeat("ab", 32))
	w, err := createSpool(path, "sha", "opts")
	if err != nil {
		t.Fatal(err)
	}
	want := []spoolRecord{
		{Row: 1, Line: 2, Email: "a@example.com", JSON: []byte(`{"email":"a@example.com"}`)},
		{Row: 900000, Line: 12, Email: "b@example.com", UserID: "42", JSON: []byte(`{"email":"b@example.com","user_id":"42"}`)},
	}
	for _, r := range want {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if spoolValid(path, "sha", "opts") {
		t.Fatal("a spool was valid before it was committed")
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("spool mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	if !spoolValid(path, "sha", "opts") || spoolValid(path, "other", "opts") || spoolValid(path, "sha", "other") {
		t.Error("spoolValid does not tell the source and options apart")
	}
	var got []spoolRecord
	err = readSpool(path, func(r *spoolRecord) error {
		c := *r
		c.JSON = append([]byte(nil), r.JSON...)
		got = append(got, c)
		return nil
	})
	if err != nil || len(got) != 2 || got[1].Row != 900000 || got[1].UserID != "42" || string(got[1].JSON) != string(want[1].JSON) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// Cut short: reported as damaged, not read as fewer users.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := readSpool(path, func(*spoolRecord) error { return nil }); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a truncated spool read as %v", err)
	}
}
