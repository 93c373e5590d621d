package sshserve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func who(name string) Who { return Who{Name: name, Fingerprint: "SHA256:" + name} }

// pending reports whether the seat has a change signal waiting, and
// consumes it.
func pending(s *Seat) bool {
	select {
	case <-s.Changed():
		return true
	default:
		return false
	}
}

func TestHubRoles(t *testing.T) {
	h := NewHub()
	alice := h.Join(who("alice"), WantAuto)
	bob := h.Join(who("bob"), WantAuto)
	if !alice.Controlling() || bob.Controlling() {
		t.Fatalf("first session should control, the second watch")
	}
	if v := bob.View(); v.Role != Watching || v.Controller.Name != "alice" || v.Sessions != 2 || v.Watchers() != 0 {
		t.Errorf("bob's view: %+v (watchers %d)", v, v.Watchers())
	}
	if v := alice.View(); v.Watchers() != 1 {
		t.Errorf("alice sees %d watchers, want 1", v.Watchers())
	}

	pending(alice)
	carol := h.Join(who("carol"), WantControl)
	if !carol.Controlling() || alice.Controlling() {
		t.Fatal("control was not taken over")
	}
	if !pending(alice) {
		t.Error("alice was not told she lost control")
	}
	if v := alice.View(); v.TakenBy != "carol" || v.Controller.Name != "carol" {
		t.Errorf("alice's view after the take-over: %+v", v)
	}

	dave := h.Join(who("dave"), WantWatch)
	carol.Leave()
	carol.Leave() // twice is harmless
	for _, s := range []*Seat{alice, bob, dave} {
		if s.Controlling() {
			t.Errorf("%s was handed control without asking", s.Who().Name)
		}
		if v := s.View(); v.Controlled() || v.Watchers() != 2 {
			t.Errorf("%s's view with nobody in control: %+v (watchers %d)", s.Who().Name, v, v.Watchers())
		}
	}
	watcher := h.Join(who("erin"), WantWatch)
	if watcher.Controlling() {
		t.Error("a watch session took control")
	}
	bob.TakeControl()
	if !bob.Controlling() || bob.View().TakenBy != "" {
		t.Errorf("bob could not take control: %+v", bob.View())
	}
	auto := h.Join(who("frank"), WantAuto)
	if auto.Controlling() {
		t.Error("a plain session took control from bob")
	}
	var names []string
	for _, s := range h.Seats() {
		names = append(names, s.Who.Name+":"+s.Role.String())
	}
	if got := strings.Join(names, " "); got != "alice:watching bob:controlling dave:watching erin:watching frank:watching" {
		t.Errorf("seats: %s", got)
	}
	if got := SessionsLine(h.Seats()); got != "SSH sessions: bob controls, 4 watching" {
		t.Errorf("sessions line: %q", got)
	}
	if got := SessionsLine(nil); got != "SSH sessions: none connected" {
		t.Errorf("sessions line: %q", got)
	}
}

func TestHubWork(t *testing.T) {
	h := NewHub()
	alice := h.Join(who("alice"), WantAuto)
	bob := h.Join(who("bob"), WantAuto)

	if _, err := h.Go(bob, "migration", func(context.Context) error { return nil }); !errors.Is(err, ErrNotControlling) {
		t.Errorf("a watcher started work: %v", err)
	}
	release := make(chan struct{})
	var jobCtx context.Context
	started := make(chan struct{})
	job, err := h.Go(alice, "migration", func(ctx context.Context) error {
		jobCtx = ctx
		close(started)
		<-release
		return errors.New("stage canary gated")
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	alice.Leave()
	if jobCtx.Err() != nil {
		t.Fatal("the work's context ended with the session that started it")
	}
	if jobs := bob.View().Jobs; len(jobs) != 1 || jobs[0].What != "migration" || jobs[0].By != "alice" {
		t.Errorf("bob sees jobs %+v", jobs)
	}
	pending(bob)
	close(release)
	if err := job.Err(); err == nil || err.Error() != "stage canary gated" {
		t.Errorf("job error: %v", err)
	}
	<-bob.Changed() // told the work ended
	if jobs := h.Jobs(); len(jobs) != 0 {
		t.Errorf("finished work still listed: %+v", jobs)
	}

	// A panicking job is an error, not a crashed server.
	bob.TakeControl()
	job, _ = h.Go(bob, "boom", func(context.Context) error { panic("nil map") })
	if err := job.Err(); err == nil || !strings.Contains(err.Error(), "panic: nil map") {
		t.Errorf("panicking job: %v", err)
	}
}

func TestHubCloseCancelsWorkAndWaits(t *testing.T) {
	h := NewHub()
	s := h.Join(who("alice"), WantAuto)
	paused := make(chan struct{})
	job, err := h.Go(s, "migration", func(ctx context.Context) error {
		<-ctx.Done()
		close(paused) // the engine pauses at a safe point
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-paused:
	default:
		t.Fatal("Close returned before the work stopped")
	}
	if !errors.Is(job.Err(), context.Canceled) {
		t.Errorf("job: %v", job.Err())
	}
	if _, err := h.Go(s, "again", func(context.Context) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("work started on a closed hub: %v", err)
	}
}

func TestHubCloseGivesUpAfterGrace(t *testing.T) {
	h := NewHub()
	s := h.Join(who("alice"), WantAuto)
	stuck := make(chan struct{})
	defer close(stuck)
	if _, err := h.Go(s, "migration", func(context.Context) error { <-stuck; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Close(ctx); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Close with stuck work: %v", err)
	}
}
