package runmigration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/run"
	"provision/engine/upload"
	"provision/engine/workspace"
	"provision/storage"
	"provision/tui/common"
	"provision/tui/internal/fakerun"
	"provision/tui/internal/tuitest"
)

// fastDeps run the real engine against the built-in sandbox, quickly.
var fastDeps = Deps{
	JobDuration: 20 * time.Millisecond,
	Poll:        upload.PollPolicy{Initial: 2 * time.Millisecond, Min: 2 * time.Millisecond, Max: 20 * time.Millisecond},
}

// driver feeds a page its commands' messages one at a time, as the
// program does, keeping what is left between calls: a command that waits
// for the engine stays queued while the test presses keys.
type driver struct {
	t     *testing.T
	m     *Model
	queue []tea.Cmd
	seen  []tea.Msg
}

func newDriver(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m}
	d.push(m.Init())
	d.until("loaded", func() bool { return m.phase == phaseIdle })
	return d
}

func (d *driver) push(cmd tea.Cmd) {
	if cmd != nil {
		d.queue = append(d.queue, cmd)
	}
}

// key presses k and queues what it starts.
func (d *driver) key(k string) {
	_, cmd := d.m.Update(tuitest.Key(k))
	d.push(cmd)
}

// until runs queued commands until done holds.
func (d *driver) until(what string, done func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !done() {
		if len(d.queue) == 0 {
			d.t.Fatalf("waiting for %s: nothing left to run; the page:\n%s", what, d.m.View())
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("waiting for %s: too long; the page:\n%s", what, d.m.View())
		}
		cmd := d.queue[0]
		d.queue = d.queue[1:]
		msg := cmd()
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.BatchMsg:
			d.queue = append(append([]tea.Cmd{}, msg...), d.queue...)
			continue
		}
		d.seen = append(d.seen, msg)
		_, next := d.m.Update(msg)
		d.push(next)
	}
}

func (d *driver) saw(match func(tea.Msg) bool) bool {
	for _, msg := range d.seen {
		if match(msg) {
			return true
		}
	}
	return false
}

func demoPage(t *testing.T, deps Deps) (*Model, *workspace.Workspace) {
	t.Helper()
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	m := New(tuitest.Common(ws), deps)
	m.SetSize(78, 21)
	t.Cleanup(m.Shutdown)
	return m, ws
}

func waiting(m *Model) func() bool {
	return func() bool { return m.phase == phaseRunning && m.prog.waitingAt() != nil }
}

func idle(m *Model) func() bool { return func() bool { return m.phase == phaseIdle } }

func mustContain(t *testing.T, view string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(view, w) {
			t.Errorf("the page lacks %q:\n%s", w, view)
		}
	}
}

// The demo, for real: the built-in sandbox starts, the canary waits for
// approval, a lets it through, and the rest imports to the end.
func TestDemoRunThroughTheGate(t *testing.T) {
	m, ws := demoPage(t, fastDeps)
	d := newDriver(t, m)
	mustContain(t, m.View(), "Ready: s imports the users of exports/demo-users.csv in 2 stages", "canary", "rest", "built-in sandbox")

	d.key("s")
	d.until("the canary's gate", waiting(m))
	if busy, what := m.Busy(); !busy || what != "the migration" {
		t.Errorf("Busy() = %v, %q while the run waits", busy, what)
	}
	mustContain(t, m.View(), "Stage canary waits for your approval", "a lets it", "25/25", "ETA after approval")
	if w := m.prog.waitingAt(); w.name != "canary" || w.counts[storage.UserInserted] != 25 {
		t.Errorf("waiting at %s with %v", w.name, w.counts)
	}

	d.key("a")
	d.until("the end", idle(m))
	if m.runErr != nil {
		t.Fatal(m.runErr)
	}
	if m.result == nil || m.result.State != run.StateFinished {
		t.Fatalf("result %+v", m.result)
	}
	if c := m.prog.counts; c[storage.UserInserted] != 284 || c[storage.UserQuarantined] != 13 || c[storage.UserSkipped] != 3 {
		t.Errorf("counts %v", c)
	}
	mustContain(t, m.View(), "✓ Finished: 284 inserted, 0 updated, 0 failed; 13 quarantined, 3 skipped", "259/259")
	if !d.saw(func(msg tea.Msg) bool { _, ok := msg.(eventMsg); return ok }) {
		t.Error("no event reached the page")
	}
	for _, p := range []string{ws.JournalPath(), filepath.Join(ws.Dir(), SandboxDir)} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	if busy, _ := m.Busy(); busy {
		t.Error("still busy after the end")
	}
}

// Quitting pauses the run safely; the next session finds the journal,
// says so, and resumes it (approving the gate it stopped at).
func TestQuitPausesAndTheNextSessionResumes(t *testing.T) {
	m, ws := demoPage(t, fastDeps)
	d := newDriver(t, m)
	d.key("s")
	d.until("the canary's gate", waiting(m))

	d.push(m.Stop())
	d.until("the pause", idle(m))
	if !d.saw(func(msg tea.Msg) bool { _, ok := msg.(common.StoppedMsg); return ok }) {
		// StoppedMsg goes to the root model: it is in the queue.
		d.until("the stop", func() bool {
			return d.saw(func(msg tea.Msg) bool { _, ok := msg.(common.StoppedMsg); return ok })
		})
	}
	if m.result == nil || m.result.State != run.StatePaused {
		t.Fatalf("result %+v, err %v", m.result, m.runErr)
	}
	m.Shutdown()

	// The next session.
	m2 := New(tuitest.Common(ws), fastDeps)
	m2.SetSize(78, 21)
	t.Cleanup(m2.Shutdown)
	d2 := newDriver(t, m2)
	mustContain(t, m2.View(), "The run stopped at the gate of stage canary", "a approves it", "! approval")
	d2.key("a")
	d2.until("the end", idle(m2))
	if !m2.resumed {
		t.Error("the second run should be a resume")
	}
	if m2.runErr != nil || m2.result == nil || m2.result.State != run.StateFinished {
		t.Fatalf("result %+v, err %v", m2.result, m2.runErr)
	}
}

// b asks before rolling a stage back; y deletes its users.
func TestRollbackAsksFirst(t *testing.T) {
	m, _ := demoPage(t, fastDeps)
	d := newDriver(t, m)
	d.key("s")
	d.until("the canary's gate", waiting(m))

	d.key("b")
	if m.confirm == nil || m.confirm.kind != actRollback || !m.Capturing() {
		t.Fatal("b should ask before rolling back")
	}
	mustContain(t, m.View(), "Roll back stage canary?", "25 users it inserted")
	d.key("n")
	if m.confirm != nil || m.phase != phaseRunning {
		t.Fatal("n should keep the run going")
	}

	d.key("b")
	d.key("y")
	d.until("the rollback", func() bool { return m.phase == phaseIdle && m.flash != "" })
	if m.runErr != nil {
		t.Fatal(m.runErr)
	}
	mustContain(t, m.View(), "Stage canary rolled back: 25 users deleted")
	d.until("the reload", func() bool { return m.prog.stage("canary").state == storage.StageRolledBack })
	mustContain(t, m.View(), "↺ rolled back", "t runs it again")
}

// scripted plays the demo's story without a tenant.
func scripted() Deps {
	return Deps{NewEngine: func(o run.Options) (Engine, error) { return fakerun.New(o, fakerun.Demo()), nil }}
}

func TestPauseAndAbortKeys(t *testing.T) {
	m, _ := demoPage(t, scripted())
	d := newDriver(t, m)
	d.key("s")
	d.until("the gate", waiting(m))
	d.key("x")
	if m.confirm == nil || m.confirm.kind != actAbort {
		t.Fatal("x should ask before aborting")
	}
	mustContain(t, m.View(), "Abort the run now?")
	d.key("n")
	d.key("p")
	if !m.pausing {
		t.Fatal("p should pause")
	}
	mustContain(t, m.View(), "Pausing at the next safe point")
	d.until("the pause", idle(m))
	if m.result == nil || m.result.State != run.StatePaused {
		t.Fatalf("result %+v", m.result)
	}
	mustContain(t, m.View(), "Paused at stage canary: paused by the operator", "a approves it")
}

func TestApproveWhileWaiting(t *testing.T) {
	m, _ := demoPage(t, scripted())
	d := newDriver(t, m)
	d.key("s")
	d.until("the gate", waiting(m))
	mustContain(t, m.View(), "The plan requires approval; checked: 10 of 10 sampled users found. a lets it")
	d.key("a")
	d.until("the end", idle(m))
	if !m.prog.finished {
		t.Fatalf("not finished:\n%s", m.View())
	}
}

func TestCanaryLoginsToggle(t *testing.T) {
	m, _ := demoPage(t, scripted())
	newDriver(t, m)
	if m.creds == "" {
		t.Fatal("the demo's credentials were not found")
	}
	mustContain(t, m.View(), "canary logins off")
	m.Update(tuitest.Key("c"))
	mustContain(t, m.View(), "canary logins on")
}

func TestWithoutWorkspace(t *testing.T) {
	tuitest.Chdir(t)
	m := New(tuitest.Common(nil), scripted())
	m.SetSize(78, 21)
	m.Init()
	mustContain(t, m.View(), "there is none")
	if _, cmd := m.Update(tuitest.Key("s")); cmd != nil {
		t.Error("s without a workspace should do nothing")
	}
}

func TestRateAndChart(t *testing.T) {
	p := newProgress()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p.apply(run.StagesAssigned{Stages: []run.StageSize{{Name: "a", Users: 100}}}, t0)
	p.apply(run.StageStarted{Stage: "a", Users: 100, Remaining: 100}, t0)
	p.apply(run.ChunkSubmitted{Stage: "a", Chunk: 1, Users: 40}, t0)
	p.apply(run.ChunkSubmitted{Stage: "a", Chunk: 2, Users: 60}, t0)
	p.apply(run.JobProgress{Stage: "a", Chunk: 2, Percent: 50}, t0.Add(time.Second))
	if got := p.fraction(p.stage("a")); got != 0.3 {
		t.Errorf("fraction with a job half done = %v, want 0.3", got)
	}
	if p.inFlight() != 2 {
		t.Errorf("in flight %d", p.inFlight())
	}
	p.apply(run.ChunkFinished{Stage: "a", Chunk: 1, Inserted: 40}, t0.Add(2*time.Second))
	p.apply(run.StageProgress{Stage: "a", Users: 100, Counts: storage.UserCounts{storage.UserInserted: 40}}, t0.Add(2*time.Second))
	if r := p.rate(t0.Add(4 * time.Second)); r != 10 {
		t.Errorf("rate = %v, want 40 users over 4 s", r)
	}
	if p.remaining() != 60 {
		t.Errorf("remaining %d", p.remaining())
	}
	bars, per := p.buckets(t0.Add(4*time.Second), 60)
	if per != 1 || len(bars) != 5 || bars[2] != 40 {
		t.Errorf("buckets %v per %d", bars, per)
	}
	bars, per = p.buckets(t0.Add(100*time.Second), 10)
	if per != 11 || len(bars) != 10 || bars[0] != 40 {
		t.Errorf("long run: buckets %v per %d", bars, per)
	}
}

func TestShortReason(t *testing.T) {
	for in, want := range map[string]string{
		"the plan requires approval; check it, then approve it with --approve canary (or roll it back with provision rollback --stage canary)": "the plan requires approval",
		"paused by the operator; run again to resume: jobs in flight are recorded and will be followed":                                        "paused by the operator",
		"stage canary was rolled back: run it again with --retry canary":                                                                       "stage canary was rolled back",
		"nothing to cut": "nothing to cut",
	} {
		if got := shortReason(in); got != want {
			t.Errorf("shortReason(%q) = %q, want %q", in, got, want)
		}
	}
}

// seat is a shared session whose control the test hands out.
type seat struct {
	controlling bool
	controller  string
}

func (s *seat) Controlling() bool  { return s.controlling }
func (s *seat) Controller() string { return s.controller }
func (s *seat) Go(what string, fn func(context.Context) error) error {
	go fn(context.Background())
	return nil
}

// A watching session sees the page and cannot act on the run; once it
// controls, its keys work again.
func TestWatchingSessionIsReadOnly(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	c := tuitest.Common(ws)
	s := &seat{controller: "alice@laptop"}
	c.Session = s
	m := New(c, fastDeps)
	m.SetSize(78, 21)
	t.Cleanup(m.Shutdown)
	d := newDriver(t, m)

	mustContain(t, m.View(), "Watching: alice@laptop controls this workspace")
	for _, b := range m.ShortHelp() {
		if b.Help().Key == "s" {
			t.Errorf("a watcher is offered %q", b.Help().Desc)
		}
	}
	d.key("s")
	if m.phase != phaseIdle || len(d.queue) != 0 {
		t.Fatalf("a watcher started the run: phase %d", m.phase)
	}

	s.controller = ""
	mustContain(t, m.View(), "nobody controls this workspace")

	s.controlling, s.controller = true, "bob@desk"
	if strings.Contains(m.View(), "Watching") {
		t.Errorf("the controlling session shows the watching note:\n%s", m.View())
	}
	d.key("s")
	d.until("the canary's gate", waiting(m))
}

// Over SSH the run is the workspace's: it goes on when the page that
// started it ends, another session's page follows it live, and takes it
// over once it controls.
func TestSharedRunOutlivesItsPage(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	shared := NewMigration()
	t.Cleanup(shared.Close)
	deps := fastDeps
	deps.Shared = shared
	page := func(s *seat) *Model {
		c := tuitest.Common(ws)
		c.Session = s
		m := New(c, deps)
		m.SetSize(78, 21)
		return m
	}
	alice := &seat{controlling: true, controller: "alice@laptop"}
	a := page(alice)
	da := newDriver(t, a)
	da.key("s")
	da.until("the canary's gate", waiting(a))
	if busy, _ := a.Busy(); busy {
		t.Error("quitting asks to pause a shared run")
	}
	a.Shutdown() // alice's session ends

	bob := &seat{controller: "alice@laptop"}
	b := page(bob)
	db := &driver{t: t, m: b}
	db.push(b.Init())
	db.until("bob follows the run", waiting(b))
	mustContain(t, b.View(), "waits for your approval", "Watching: alice@laptop controls")
	db.key("a")
	if w := b.prog.waitingAt(); w == nil {
		t.Fatal("bob, watching, approved the gate")
	}

	bob.controlling, bob.controller = true, "bob@desk"
	db.key("a")
	db.until("the run's end", idle(b))
	mustContain(t, b.View(), "Finished: 284 inserted")
	b.Shutdown()
}
