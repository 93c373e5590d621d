package sshserve

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Role is what a session may do with the workspace.
type Role int

const (
	// Watching sessions see the workspace and its run live, and change
	// nothing.
	Watching Role = iota
	// Controlling is the one session that may start, pause, approve or
	// abort work.
	Controlling
)

func (r Role) String() string {
	if r == Controlling {
		return "controlling"
	}
	return "watching"
}

// Want is the role a session asks for when it joins.
type Want int

const (
	// WantAuto controls when nobody does, and watches otherwise (plain
	// `ssh -t HOST`).
	WantAuto Want = iota
	// WantControl takes control, from whoever has it (`ssh -t HOST
	// control`): an operator whose laptop slept can take the workspace
	// back from the session the dead connection left behind.
	WantControl
	// WantWatch only watches, even when nobody controls (`ssh -t HOST
	// watch`).
	WantWatch
)

func (w Want) String() string {
	switch w {
	case WantControl:
		return "control"
	case WantWatch:
		return "watch"
	}
	return "auto"
}

// Who identifies the person behind a session.
type Who struct {
	// Name is what other sessions are shown: the authorized key's
	// comment (alice@laptop), else the SSH user name; printable text only.
	Name string
	// Fingerprint is the SHA256 fingerprint of the key the session
	// proved.
	Fingerprint string
}

// Hub is what every session on one workspace shares: who controls the
// workspace, and the work that must outlive any session (the staged
// migration). Work started through Go runs under the hub's context, which
// only Close cancels, so a dropped connection never stops it.
//
// The hub never hands control to a session that did not ask for it: when
// the controlling session ends, nobody controls until a session joins with
// WantAuto or WantControl. Work in progress goes on meanwhile.
type Hub struct {
	ctx    context.Context
	cancel context.CancelFunc
	now    func() time.Time

	mu         sync.Mutex
	nextID     int
	seats      []*Seat // in joining order
	controller *Seat
	jobs       []*Job
	closed     bool
	work       sync.WaitGroup
}

// NewHub returns the hub of one workspace.
func NewHub() *Hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{ctx: ctx, cancel: cancel, now: time.Now}
}

// Join seats a new session, controlling or watching as want and the
// current controller decide. The caller must Leave when the session ends.
func (h *Hub) Join(who Who, want Want) *Seat {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextID++
	s := &Seat{hub: h, id: h.nextID, who: who, joined: h.now(), changed: make(chan struct{}, 1)}
	h.seats = append(h.seats, s)
	switch {
	case want == WantControl:
		if prev := h.controller; prev != nil {
			prev.takenBy = who.Name
		}
		h.controller = s
	case want == WantAuto && h.controller == nil:
		h.controller = s
	}
	h.notifyLocked()
	return s
}

// Seats describes every session on the workspace, in joining order.
func (h *Hub) Seats() []SeatInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]SeatInfo, 0, len(h.seats))
	for _, s := range h.seats {
		out = append(out, s.infoLocked())
	}
	return out
}

// Jobs describes the work running now, oldest first.
func (h *Hub) Jobs() []JobInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.jobsLocked()
}

func (h *Hub) jobsLocked() []JobInfo {
	out := make([]JobInfo, 0, len(h.jobs))
	for _, j := range h.jobs {
		out = append(out, JobInfo{What: j.what, By: j.by, Started: j.started})
	}
	return out
}

// ErrNotControlling is returned when a watching session tries to start
// work.
var ErrNotControlling = errors.New("this session is watching: only the controlling session can start work (reconnect with the control command to take over)")

// ErrClosed is returned when work is started on a hub that is shutting
// down.
var ErrClosed = errors.New("the server is shutting down")

// Go runs fn in the background on behalf of the workspace. fn's context
// is the hub's, not the session's: it is cancelled only by Close (server
// shutdown), and fn should then stop at a safe point, as the migration
// engine pauses. Only the controlling seat may start work.
func (h *Hub) Go(seat *Seat, what string, fn func(ctx context.Context) error) (*Job, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if seat == nil || seat.hub != h || h.controller != seat {
		return nil, ErrNotControlling
	}
	j := &Job{what: what, by: seat.who.Name, started: h.now(), done: make(chan struct{})}
	h.jobs = append(h.jobs, j)
	h.work.Add(1)
	h.notifyLocked()
	go func() {
		defer h.work.Done()
		err := runJob(h.ctx, fn)
		h.mu.Lock()
		j.err = err
		for i, x := range h.jobs {
			if x == j {
				h.jobs = append(h.jobs[:i], h.jobs[i+1:]...)
				break
			}
		}
		h.notifyLocked()
		h.mu.Unlock()
		close(j.done)
	}()
	return j, nil
}

// runJob runs fn, turning a panic into an error: one job's bug must not
// take the server, and every other session's work, down with it.
func runJob(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx)
}

// Close cancels the hub's work and waits until it has stopped, or until
// ctx is done. Seats stay valid; new work is refused.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	stopped := make(chan struct{})
	go func() {
		h.work.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("work still running after the shutdown grace period: %w", ctx.Err())
	}
}

// notifyLocked tells every seat that something it shows changed. h.mu is
// held.
func (h *Hub) notifyLocked() {
	for _, s := range h.seats {
		select {
		case s.changed <- struct{}{}:
		default: // a signal is already pending; the seat reads the latest view
		}
	}
}

// Seat is one session's place on the workspace.
type Seat struct {
	hub     *Hub
	id      int
	who     Who
	joined  time.Time
	changed chan struct{}

	// Guarded by hub.mu.
	takenBy string // who took control from this seat, if anyone did
	left    bool
}

// ID numbers the seat among the hub's sessions (for logs).
func (s *Seat) ID() int { return s.id }

// Who is the person behind the seat.
func (s *Seat) Who() Who { return s.who }

// Hub is the workspace the seat is on.
func (s *Seat) Hub() *Hub { return s.hub }

// Changed receives a value whenever the seat's View may have changed:
// its role, who controls, the sessions and the work running.
func (s *Seat) Changed() <-chan struct{} { return s.changed }

// Controlling reports whether the seat controls the workspace now.
func (s *Seat) Controlling() bool {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.hub.controller == s
}

// Go starts work for the workspace on behalf of this seat: Hub.Go.
func (s *Seat) Go(what string, fn func(ctx context.Context) error) (*Job, error) {
	return s.hub.Go(s, what, fn)
}

// TakeControl makes the seat the controlling one, as joining with
// WantControl does.
func (s *Seat) TakeControl() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.left || h.controller == s {
		return
	}
	if prev := h.controller; prev != nil {
		prev.takenBy = s.who.Name
	}
	h.controller = s
	s.takenBy = ""
	h.notifyLocked()
}

// Leave removes the seat; if it controlled the workspace, nobody does
// until a session takes control. Work it started goes on.
func (s *Seat) Leave() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.left {
		return
	}
	s.left = true
	for i, x := range h.seats {
		if x == s {
			h.seats = append(h.seats[:i], h.seats[i+1:]...)
			break
		}
	}
	if h.controller == s {
		h.controller = nil
	}
	h.notifyLocked()
}

// View is what a session shows about the workspace's sessions.
type View struct {
	Role Role
	// Controller is the controlling session's person; zero when nobody
	// controls. It is this seat's own when Role is Controlling.
	Controller Who
	// TakenBy names who took control from this seat, when that is why it
	// watches.
	TakenBy string
	// Sessions counts every session on the workspace, this one included.
	Sessions int
	// Jobs is the work running for the workspace.
	Jobs []JobInfo
}

// Controlled reports whether some session controls the workspace.
func (v View) Controlled() bool { return v.Controller.Fingerprint != "" }

// Watchers counts the other sessions that watch.
func (v View) Watchers() int {
	if v.Controlled() && v.Role == Watching {
		return v.Sessions - 2
	}
	return v.Sessions - 1
}

// View reports the seat's role and what it shows about the others.
func (s *Seat) View() View {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	v := View{Role: Watching, Sessions: len(h.seats), Jobs: h.jobsLocked()}
	if h.controller != nil {
		v.Controller = h.controller.who
	}
	if h.controller == s {
		v.Role = Controlling
	} else {
		v.TakenBy = s.takenBy
	}
	return v
}

// SeatInfo describes one session for status output.
type SeatInfo struct {
	ID     int
	Who    Who
	Role   Role
	Joined time.Time
}

func (s *Seat) infoLocked() SeatInfo {
	r := Watching
	if s.hub.controller == s {
		r = Controlling
	}
	return SeatInfo{ID: s.id, Who: s.who, Role: r, Joined: s.joined}
}

// Job is work started through Hub.Go.
type Job struct {
	what, by string
	started  time.Time
	done     chan struct{}
	err      error // set before done is closed
}

// Done is closed when the work has returned.
func (j *Job) Done() <-chan struct{} { return j.done }

// Err is what the work returned; valid once Done is closed.
func (j *Job) Err() error {
	<-j.done
	return j.err
}

// JobInfo describes running work.
type JobInfo struct {
	What    string // "migration"
	By      string // who started it
	Started time.Time
}
