// Package runmigration is the "Run migration" page: the staged executor
// (engine/run) driven from the keyboard. It shows every stage with its
// state and a progress bar, rows per second, the jobs in flight, the
// failure rate against the stage's gate, the time left, a throughput
// chart and the latest events; the operator starts, pauses, approves a
// gate, aborts, retries and rolls back a stage. A journal found in the
// workspace is resumed, never started again. Without a tenant in the
// plan, the users go to the built-in sandbox, served in this process on
// loopback.
package runmigration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/plan"
	"provision/engine/run"
	"provision/engine/run/verify"
	"provision/engine/validate"
	"provision/storage"
	"provision/tui/common"
)

// phase is what the page is doing.
type phase int

const (
	phaseLoading     phase = iota // reading the journal and the plan
	phaseIdle                     // nothing runs: ready, paused, stopped or finished
	phaseLaunching                // opening the target, building the engine
	phaseRunning                  // the engine runs (or waits at a gate)
	phaseRollingBack              // deleting a stage's users
)

// actionKind is what a launch or a confirmation is for.
type actionKind int

const (
	actStart    actionKind = iota // start or resume
	actApprove                    // resume, letting a stage through its gate
	actRetry                      // run a gated or rolled-back stage again
	actRollback                   // delete the users a stage inserted
	actAbort                      // stop the run at once
	actImport                     // the first import into a real tenant
)

// action is something the operator asked for, about a stage.
type action struct {
	kind  actionKind
	stage string
}

// Messages of the page's own commands.
type (
	loadedMsg struct {
		journal journalState
		rp      runPlan
		creds   string // the workspace's credentials file, "" if none
		sandbox bool   // the workspace holds a built-in sandbox tenant
	}
	launchedMsg struct {
		act      action
		operator string
		eng      Engine
		events   chan run.Event
		conn     *conn
		tenant   *tenant
		resumed  bool
		err      error
	}
	rollbackReadyMsg struct {
		stage  string
		conn   *conn
		tenant *tenant
		err    error
	}
)

// Model is the Run migration page.
type Model struct {
	c             *common.Common
	deps          Deps
	width, height int
	phase         phase

	journal journalState
	rp      runPlan
	creds   string
	prog    *runState

	conn   *conn
	tenant *tenant

	gen     int
	sess    *session
	eng     Engine
	cancel  context.CancelFunc
	resumed bool
	result  *run.Result
	runErr  error

	pausing  bool
	aborting bool
	stopping bool
	pending  *action // to do once the run has stopped
	confirm  *action // asked, waiting for y or n

	operator   string // who approves, for the audit log
	canaries   bool
	cursor     int
	hasSandbox bool // the workspace holds a built-in sandbox tenant

	flash      string
	flashError bool

	bar progress.Model
}

// New returns the page; Init reads the workspace.
func New(c *common.Common, deps Deps) *Model {
	s := c.Styles
	m := &Model{c: c, deps: deps.withDefaults(), prog: newProgress()}
	m.bar = progress.New(progress.WithSolidFill(s.ProgressFull), progress.WithColorProfile(s.Renderer.ColorProfile()), progress.WithoutPercentage())
	m.bar.EmptyColor = s.ProgressEmpty
	return m
}

// Init reads the journal and the plan.
func (m *Model) Init() tea.Cmd { return m.load() }

// Shown reads them again when nothing runs: another session or command
// may have changed them.
func (m *Model) Shown() tea.Cmd {
	if m.phase == phaseIdle || m.phase == phaseLoading {
		return m.load()
	}
	return nil
}

// load reads the journal, the plan and the credentials in a command.
func (m *Model) load() tea.Cmd {
	ws := m.c.Workspace
	if ws == nil {
		m.phase = phaseIdle
		return nil
	}
	if m.phase != phaseIdle {
		m.phase = phaseLoading
	}
	journal, planPath, exports := ws.JournalPath(), ws.PlanPath(), ws.ExportsPath()
	demo, demoCreds, credDir := ws.DemoExportPath(), ws.DemoCredentialsPath(), ws.CredentialsPath()
	dir := ws.Dir()
	return func() tea.Msg {
		msg := loadedMsg{journal: readJournal(journal)}
		msg.rp = readPlan(planPath, exports, demo)
		msg.sandbox = dirExists(filepath.Join(dir, SandboxDir))
		if _, err := os.Stat(demoCreds); err == nil {
			msg.creds = demoCreds
		} else if list, _ := os.ReadDir(credDir); len(list) > 0 {
			msg.creds = filepath.Join(credDir, list[0].Name())
		}
		return msg
	}
}

// readPlan works out what a new run is made of: the plan's source and
// stages, else the workspace's export (the demo's first) and the default
// stages.
func readPlan(planPath, exports, demo string) runPlan {
	rp := runPlan{validate: validate.Options{Username: validate.DefaultUsernamePolicy}}
	if _, err := os.Stat(planPath); err == nil {
		p, err := plan.Load(planPath)
		if err != nil {
			rp.planErr = err
			return rp
		}
		rp.plan = p
		rp.source = p.SourcePath()
		if u := p.Username(); u.Min > 0 && u.Max > 0 {
			rp.validate.Username = validate.UsernamePolicy{Min: u.Min, Max: u.Max}
		}
		rp.validate.HashDefaults = p.Hash.Input()
	}
	if rp.source == "" {
		if _, err := os.Stat(demo); err == nil {
			rp.source = demo
		} else if list, _ := os.ReadDir(exports); len(list) > 0 {
			rp.source = filepath.Join(exports, list[0].Name())
		}
	}
	rp.stages = stagesOf(rp.plan)
	return rp
}

// shared is the workspace's run shared between sessions, or nil when the
// page owns its run.
func (m *Model) shared() *Migration {
	if m.c.Session == nil {
		return nil
	}
	return m.deps.Shared
}

// Busy reports a run or a rollback in progress, so quitting asks first.
// A shared run goes on when the session ends: quitting does not ask.
func (m *Model) Busy() (bool, string) {
	if m.shared() != nil && m.phase == phaseRunning {
		return false, ""
	}
	switch m.phase {
	case phaseRunning, phaseLaunching:
		return true, "the migration"
	case phaseRollingBack:
		return true, "the rollback"
	}
	return false, ""
}

// Stop brings the run to a safe stop before the program ends: it pauses
// (nothing new is sent, a submission on the wire is recorded, jobs in
// flight are left to the journal); a rollback is interrupted between
// deletions. StoppedMsg follows when it has.
func (m *Model) Stop() tea.Cmd {
	if busy, _ := m.Busy(); !busy {
		return func() tea.Msg { return common.StoppedMsg{} }
	}
	m.stopping = true
	m.pending = nil
	switch {
	case m.phase == phaseRunning && m.eng != nil:
		m.pausing = true
		m.eng.Pause()
	case m.cancel != nil:
		m.cancel()
	}
	return nil
}

// Shutdown pauses a run the program left behind and waits for it, then
// closes the built-in sandbox.
func (m *Model) Shutdown() {
	if g := m.shared(); g != nil {
		// The run is the workspace's: it goes on, only this page stops
		// following it. A rollback is the page's own.
		if m.sess != nil && m.phase == phaseRunning {
			g.leave(m.sess)
			m.sess = nil
		}
		if m.sess != nil && m.cancel != nil {
			m.cancel()
			m.sess.drain(pauseWait)
			m.sess = nil
		}
		if m.cancel != nil {
			m.cancel()
		}
		return
	}
	if m.sess != nil {
		if m.eng != nil {
			m.eng.Pause()
		}
		if m.cancel != nil && m.phase == phaseRollingBack {
			m.cancel()
		}
		if !m.sess.drain(pauseWait) && m.eng != nil {
			m.eng.Abort()
			m.sess.drain(pauseWait)
		}
		m.sess = nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.tenant.close()
	m.tenant = nil
}

// pauseWait bounds how long Shutdown waits for a run to pause: a
// submission on the wire gets up to 15 seconds to be answered.
const pauseWait = 20 * time.Second

// Capturing reports whether y and n answer a question of the page.
func (m *Model) Capturing() bool { return m.confirm != nil }

// SetSize lays the page out for w×h cells.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

func (m *Model) setFlash(text string, isErr bool) { m.flash, m.flashError = text, isErr }

// Update handles the page's keys and its commands' messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		return m, m.loaded(msg)
	case launchedMsg:
		return m, m.launched(msg)
	case eventMsg:
		if m.sess == nil || msg.gen != m.gen {
			return m, nil
		}
		m.prog.apply(msg.ev, m.c.Now())
		m.eventSideEffects(msg.ev)
		if _, ok := msg.ev.(run.StagesAssigned); ok {
			// The journal exists now: the header shows it.
			return m, tea.Batch(m.sess.next(), changed)
		}
		return m, m.sess.next()
	case runDoneMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		return m, m.runDone(msg)
	case rollbackReadyMsg:
		return m, m.rollbackReady(msg)
	case rollbackDoneMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		return m, m.rollbackDone(msg)
	case common.WorkspaceReadyMsg:
		return m, m.load()
	case common.WorkspaceChangedMsg:
		if m.phase == phaseIdle {
			return m, m.load()
		}
		return m, nil
	case tea.KeyMsg:
		if m.flash != "" && m.confirm == nil {
			m.setFlash("", false)
		}
		if m.confirm != nil {
			return m, m.updateConfirm(msg)
		}
		return m, m.updateKeys(msg)
	}
	return m, nil
}

func (m *Model) loaded(msg loadedMsg) tea.Cmd {
	if m.phase != phaseIdle && m.phase != phaseLoading {
		return nil // a run started meanwhile; it knows better
	}
	m.phase = phaseIdle
	m.journal, m.rp, m.creds, m.hasSandbox = msg.journal, msg.rp, msg.creds, msg.sandbox
	if g := m.shared(); g != nil {
		// Another session's run in progress: follow it.
		if sess, l, snap := g.follow(m.gen + 1); sess != nil {
			m.gen++
			m.phase = phaseRunning
			m.prog, m.eng, m.conn, m.resumed, m.operator = snap, l.eng, l.conn, l.resumed, l.operator
			m.sess = sess
			m.journal.busy = nil
			m.journal.exists = true
			m.result, m.runErr = nil, nil
			m.pausing, m.aborting, m.pending = false, false, nil
			m.clampCursor()
			return m.sess.next()
		}
	}
	if msg.journal.exists {
		m.prog.fromStatus(msg.journal.status)
		if len(m.prog.log) == 0 {
			for _, e := range msg.journal.status.Events {
				m.prog.log = append(m.prog.log, logLine{at: e.Time, text: e.Message})
			}
		}
	} else if m.result == nil {
		// No run yet: the stages it will have. (A run of this session
		// that left no journal keeps its story on screen.)
		m.prog = newProgress()
		m.prog.fromPlan(m.rp.stages)
		m.runErr = nil
	}
	m.clampCursor()
	return nil
}

func (m *Model) clampCursor() {
	m.cursor = max(0, min(m.cursor, len(m.prog.stages)-1))
}

// selected is the stage under the cursor, or nil.
func (m *Model) selected() *stageRow {
	if m.cursor < 0 || m.cursor >= len(m.prog.stages) {
		return nil
	}
	return m.prog.stages[m.cursor]
}

// eventSideEffects moves the cursor to where the run is.
func (m *Model) eventSideEffects(ev run.Event) {
	var stage string
	switch e := ev.(type) {
	case run.StageStarted:
		stage = e.Stage
	case run.AwaitingApproval:
		stage = e.Stage
		m.c.Log.Info("run waits at a gate", "stage", e.Stage)
	case run.Finished:
		m.c.Log.Info("run finished", "inserted", e.Counts[storage.UserInserted], "failed", e.Counts[storage.UserFailed])
	}
	if stage == "" {
		return
	}
	for i, s := range m.prog.stages {
		if s.name == stage {
			m.cursor = i
		}
	}
}

// ---- keys ----

func (m *Model) updateKeys(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Back):
		return common.Back
	case key.Matches(k, keys.Up):
		m.cursor--
		m.clampCursor()
		return nil
	case key.Matches(k, keys.Down):
		m.cursor++
		m.clampCursor()
		return nil
	}
	if m.c.Workspace == nil || m.journal.busy != nil || m.c.Watching() {
		return nil
	}
	sel := m.selected()
	switch m.phase {
	case phaseIdle:
		switch {
		case key.Matches(k, keys.Open) && m.prog.finished:
			return common.Navigate(common.PageStatus)
		case key.Matches(k, keys.Start):
			return m.begin(action{kind: actStart})
		case key.Matches(k, keys.Approve) && sel != nil && sel.state == storage.StageGated:
			return m.begin(action{kind: actApprove, stage: sel.name})
		case key.Matches(k, keys.Retry) && sel != nil && (sel.state == storage.StageGated || sel.state == storage.StageRolledBack):
			return m.begin(action{kind: actRetry, stage: sel.name})
		case key.Matches(k, keys.Rollback) && sel != nil:
			return m.askRollback(sel)
		case key.Matches(k, keys.CanaryLogins) && m.creds != "":
			m.canaries = !m.canaries
			return nil
		}
	case phaseRunning:
		switch {
		case key.Matches(k, keys.Pause) && !m.pausing:
			m.pausing = true
			m.eng.Pause()
			m.c.Log.Info("run pause asked")
		case key.Matches(k, keys.Abort) && !m.aborting:
			m.confirm = &action{kind: actAbort}
		case key.Matches(k, keys.Approve):
			if w := m.prog.waitingAt(); w != nil {
				m.eng.Approve(w.name, m.approver(), "approved in the assistant")
				w.waiting = false
				m.c.Log.Info("stage approved", "stage", w.name)
			}
		case key.Matches(k, keys.Retry) && sel != nil && sel.waiting:
			m.pending = &action{kind: actRetry, stage: sel.name}
			m.pausing = true
			m.eng.Pause()
		case key.Matches(k, keys.Rollback) && sel != nil:
			return m.askRollback(sel)
		}
	}
	return nil
}

// askRollback asks before deleting a stage's users.
func (m *Model) askRollback(s *stageRow) tea.Cmd {
	if s.counts[storage.UserInserted] == 0 && s.state != storage.StageRollingBack {
		m.setFlash(fmt.Sprintf("Stage %s inserted nobody: there is nothing to roll back.", s.name), true)
		return nil
	}
	if m.phase == phaseRunning && !s.waiting && s.state == storage.StageRunning {
		m.setFlash(fmt.Sprintf("Stage %s is importing: pause first (p), then roll it back.", s.name), true)
		return nil
	}
	m.confirm = &action{kind: actRollback, stage: s.name}
	return nil
}

func (m *Model) updateConfirm(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	a := *m.confirm
	if m.c.Watching() {
		// Control went to another session while the question was up.
		m.confirm = nil
		return nil
	}
	switch {
	case key.Matches(k, keys.Yes):
		m.confirm = nil
		switch a.kind {
		case actAbort:
			if m.phase == phaseRunning {
				m.aborting = true
				m.eng.Abort()
				m.c.Log.Info("run abort asked")
			}
		case actRollback:
			if m.phase == phaseRunning {
				m.pending = &a
				m.pausing = true
				m.eng.Pause()
				return nil
			}
			return m.rollback(a.stage)
		case actImport:
			return m.launch(action{kind: actStart})
		}
	case key.Matches(k, keys.No), key.Matches(k, keys.Quit):
		m.confirm = nil
	}
	return nil
}

// ---- running ----

// begin starts (or resumes) the run, asking first before the first
// import into a real tenant.
func (m *Model) begin(a action) tea.Cmd {
	switch {
	case m.rp.planErr != nil:
		m.setFlash(m.rp.planErr.Error(), true)
		return nil
	case !m.journal.exists && m.rp.source == "":
		m.setFlash("There is no export to migrate: copy one into exports/, or plan a rollout first.", true)
		return nil
	}
	if !m.journal.exists && m.rp.plan != nil && m.rp.plan.Target.Spec != "" && a.kind == actStart && loopbackAddr(m.rp.plan.Target.Spec) == "" {
		m.confirm = &action{kind: actImport}
		return nil
	}
	return m.launch(a)
}

// target is the tenant a run goes to: the journal's, else the plan's,
// else the built-in sandbox.
func (m *Model) targetSpec() (spec, connection string, builtin bool) {
	if m.journal.exists {
		s := m.journal.meta.Settings
		builtin = loopbackAddr(s.Target) != "" && (m.tenant != nil || m.hasSandbox)
		return s.Target, s.ConnectionID, builtin
	}
	if p := m.rp.plan; p != nil && p.Target.Spec != "" {
		return p.Target.Spec, p.Target.Connection, false
	}
	return "", "", true
}

func dirExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// launch opens the target when needed and builds the engine, in a
// command; launched starts it.
func (m *Model) launch(a action) tea.Cmd {
	ws := m.c.Workspace
	m.phase = phaseLaunching
	m.result, m.runErr = nil, nil
	m.pausing, m.aborting, m.pending = false, false, nil
	spec, connection, builtin := m.targetSpec()
	existing, tenantUp := m.conn, m.tenant
	deps, rp, canaries, creds := m.deps, m.rp, m.canaries, m.creds
	sandboxDir := filepath.Join(ws.Dir(), SandboxDir)
	journal := ws.JournalPath()
	ctx := m.c.Ctx
	log := m.c.Log
	version := m.c.Version
	if g := m.shared(); g != nil && existing == nil && tenantUp == nil {
		tenantUp = g.sandbox()
	}
	who := ""
	if s := m.c.Session; s != nil {
		who = s.Controller()
	}
	m.c.Log.Info("run launching", "action", a.kind, "stage", a.stage, "builtin", builtin)
	return func() tea.Msg {
		msg := launchedMsg{act: a, conn: existing, tenant: tenantUp}
		resumed := run.Exists(journal)
		msg.resumed = resumed
		var rec run.Recorded
		if resumed {
			var err error
			if rec, err = run.Inspect(journal); err != nil {
				msg.err = err
				return msg
			}
		}
		if msg.conn == nil {
			if builtin {
				if msg.tenant == nil {
					t, err := startSandbox(ctx, sandboxDir, loopbackAddr(spec), !resumed, deps.JobDuration, log)
					if err != nil {
						msg.err = err
						return msg
					}
					msg.tenant = t
				}
				c, err := sandboxConn(msg.tenant)
				if err != nil {
					msg.err = err
					return msg
				}
				msg.conn = c
			} else {
				c, err := openTarget(ctx, spec, connection)
				if err != nil {
					msg.err = err
					return msg
				}
				msg.conn = c
			}
		}
		msg.operator = run.LocalOperator()
		if who != "" {
			msg.operator = who
		}
		o := run.Options{
			Journal: journal, Target: msg.conn.target, Validate: rp.validate,
			WaitForApproval: true, Operator: msg.operator, ToolVersion: version,
			Logger: log, Poll: deps.Poll,
			Verify: run.VerifyOptions{Connection: msg.conn.connNm, Login: msg.conn.login},
		}
		if rp.plan != nil {
			o.SourceOptions = rp.plan.SourceOptions()
		}
		if msg.conn.builtin {
			o.MaxFileBytes = deps.SandboxFileBytes
		}
		if canaries && creds != "" {
			c, err := verify.ReadCanaries(creds)
			if err != nil {
				msg.err = err
				return msg
			}
			o.Verify.Canaries = c
		}
		if resumed {
			o.Settings = rec.Settings
			if ss := rec.SourceSettings; ss != nil {
				// Read the source exactly as the run started reading it,
				// whatever the plan says now; the salt is not recorded.
				o.SourceOptions = ss.Source()
				o.Validate = ss.Validate(rp.validate.HashDefaults.Salt)
				o.MaxFileBytes = ss.MaxFileBytes
			}
			if msg.conn.builtin && o.Settings.Target != msg.conn.spec {
				// The built-in sandbox came back on another port: the
				// tenant is the same (its data is in the workspace).
				o.Settings.Target = ""
			}
		} else {
			o.Source = rp.source
			o.Stages = rp.stages
			o.Settings = storage.RunSettings{Target: msg.conn.spec, ConnectionID: msg.conn.connID, StageSpec: plan.FormatStages(rp.stages)}
			if rp.plan != nil {
				o.Settings.Upsert = rp.plan.Upsert
			}
		}
		switch a.kind {
		case actApprove:
			o.Approve = a.stage
		case actRetry:
			o.Retry = a.stage
		}
		msg.events = make(chan run.Event, 256)
		o.Events = msg.events
		msg.eng, msg.err = deps.NewEngine(o)
		return msg
	}
}

func (m *Model) launched(msg launchedMsg) tea.Cmd {
	if msg.conn != nil {
		m.conn = msg.conn
	}
	if msg.tenant != nil {
		m.tenant = msg.tenant
		if g := m.shared(); g != nil {
			g.setSandbox(msg.tenant)
		}
	}
	if msg.err != nil {
		m.phase = phaseIdle
		m.runErr = msg.err
		m.c.Log.Warn("run not started", "err", msg.err)
		if m.stopping {
			return func() tea.Msg { return common.StoppedMsg{} }
		}
		return nil
	}
	if m.stopping {
		m.phase = phaseIdle
		return func() tea.Msg { return common.StoppedMsg{} }
	}
	m.gen++
	m.phase = phaseRunning
	m.resumed = msg.resumed
	m.operator = msg.operator
	m.eng = msg.eng
	ctx, cancel := context.WithCancel(m.c.Ctx)
	m.cancel = cancel
	m.prog.started = m.c.Now()
	m.prog.rateFrom = m.prog.started
	m.prog.points = nil
	if msg.act.kind == actApprove {
		if s := m.prog.stage(msg.act.stage); s != nil {
			s.waiting = false
		}
	}
	if g := m.shared(); g != nil {
		// The run is the workspace's, under the server's lifetime.
		sess, err := g.start(m.c.Session.Go, m.gen, m.eng, msg.events, m.conn, m.tenant, msg.resumed, msg.operator, m.prog)
		if err != nil {
			m.phase, m.eng, m.runErr = phaseIdle, nil, err
			m.c.Log.Warn("run not started", "err", err)
			return nil
		}
		m.sess = sess
		m.c.Log.Info("run started", "resumed", msg.resumed, "target", m.conn.spec, "shared", true)
		return tea.Batch(m.sess.next(), changed)
	}
	m.sess = startRun(ctx, m.gen, m.eng, msg.events)
	m.c.Log.Info("run started", "resumed", msg.resumed, "target", m.conn.spec)
	return tea.Batch(m.sess.next(), changed)
}

func changed() tea.Msg { return common.WorkspaceChangedMsg{} }

func (m *Model) runDone(msg runDoneMsg) tea.Cmd {
	m.sess, m.eng = nil, nil
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.phase = phaseIdle
	m.pausing, m.aborting = false, false
	if msg.err != nil {
		m.runErr = msg.err
		m.c.Log.Warn("run failed", "err", msg.err)
	} else {
		r := msg.res
		m.result = &r
		m.journal.exists = true
		m.journal.meta.Settings = r.Settings
		m.journal.meta.Source = r.Source
		m.journal.status = r.Status
		m.prog.fromStatus(r.Status)
		m.c.Log.Info("run ended", "state", r.State, "stage", r.Stage)
	}
	for _, s := range m.prog.stages {
		s.waiting = false
	}
	if m.stopping {
		return tea.Batch(changed, func() tea.Msg { return common.StoppedMsg{} })
	}
	if p := m.pending; p != nil {
		m.pending = nil
		switch p.kind {
		case actRollback:
			return tea.Batch(changed, m.rollback(p.stage))
		case actRetry:
			return tea.Batch(changed, m.launch(*p))
		}
	}
	return changed
}

// ---- rolling back ----

// rollback connects when needed, then deletes the stage's users.
func (m *Model) rollback(stage string) tea.Cmd {
	ws := m.c.Workspace
	m.phase = phaseRollingBack
	m.result, m.runErr = nil, nil
	spec, connection, builtin := m.targetSpec()
	existing, tenantUp := m.conn, m.tenant
	if g := m.shared(); g != nil && existing == nil && tenantUp == nil {
		tenantUp = g.sandbox()
	}
	deps := m.deps
	sandboxDir := filepath.Join(ws.Dir(), SandboxDir)
	ctx, log := m.c.Ctx, m.c.Log
	return func() tea.Msg {
		msg := rollbackReadyMsg{stage: stage, conn: existing, tenant: tenantUp}
		if msg.conn != nil {
			return msg
		}
		if builtin {
			if msg.tenant == nil {
				t, err := startSandbox(ctx, sandboxDir, loopbackAddr(spec), false, deps.JobDuration, log)
				if err != nil {
					msg.err = err
					return msg
				}
				msg.tenant = t
			}
			msg.conn, msg.err = sandboxConn(msg.tenant)
			return msg
		}
		msg.conn, msg.err = openTarget(ctx, spec, connection)
		return msg
	}
}

func (m *Model) rollbackReady(msg rollbackReadyMsg) tea.Cmd {
	if msg.conn != nil {
		m.conn = msg.conn
	}
	if msg.tenant != nil {
		m.tenant = msg.tenant
		if g := m.shared(); g != nil {
			g.setSandbox(msg.tenant)
		}
	}
	if msg.err != nil || m.stopping {
		m.phase = phaseIdle
		m.runErr = msg.err
		if m.stopping {
			return func() tea.Msg { return common.StoppedMsg{} }
		}
		return nil
	}
	m.gen++
	ctx, cancel := context.WithCancel(m.c.Ctx)
	m.cancel = cancel
	m.c.Log.Info("rollback started", "stage", msg.stage)
	m.sess = startRollback(ctx, m.gen, m.deps.Rollback, run.RollbackOptions{
		Journal: m.c.Workspace.JournalPath(), Target: m.conn.target, Stage: msg.stage, Connection: m.conn.connNm,
	})
	return m.sess.next()
}

func (m *Model) rollbackDone(msg rollbackDoneMsg) tea.Cmd {
	m.sess = nil
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.phase = phaseIdle
	if msg.err != nil {
		m.runErr = fmt.Errorf("rolling back stage %s: %w", msg.stage, msg.err)
		m.c.Log.Warn("rollback failed", "stage", msg.stage, "err", msg.err)
	} else {
		text := fmt.Sprintf("Stage %s rolled back: %d users deleted", msg.stage, msg.res.Deleted)
		if msg.res.AlreadyGone > 0 {
			text += fmt.Sprintf(" (%d were already gone)", msg.res.AlreadyGone)
		}
		if n := len(msg.res.Updated); n > 0 {
			text += fmt.Sprintf("; %d updated users are left as they are", n)
		}
		m.setFlash(text+". t runs the stage again.", false)
		m.c.Log.Info("rollback done", "stage", msg.stage, "deleted", msg.res.Deleted)
	}
	if m.stopping {
		return func() tea.Msg { return common.StoppedMsg{} }
	}
	return tea.Batch(m.load(), changed)
}

// approver names who approves now, for the audit log: over SSH, the
// controlling session's person.
func (m *Model) approver() string {
	if s := m.c.Session; s != nil && s.Controller() != "" {
		return s.Controller()
	}
	return m.operator
}

// ---- help ----

// ShortHelp lists the keys that do something now.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	if m.confirm != nil {
		yes := "yes"
		switch m.confirm.kind {
		case actAbort:
			yes = "abort"
		case actRollback:
			yes = "roll back"
		case actImport:
			yes = "import"
		}
		return []key.Binding{common.WithHelp(k.Yes, yes), common.WithHelp(k.No, "keep going")}
	}
	back := common.WithHelp(k.Back, "back")
	if m.c.Workspace == nil || m.journal.busy != nil {
		return []key.Binding{back, k.Quit}
	}
	if m.c.Watching() {
		if len(m.prog.stages) > 1 {
			return []key.Binding{common.WithHelp(k.Down, "stage"), back, k.Help}
		}
		return []key.Binding{back, k.Help}
	}
	sel := m.selected()
	var out []key.Binding
	switch m.phase {
	case phaseIdle:
		start := common.WithHelp(k.Start, "start")
		if m.journal.exists {
			start = common.WithHelp(k.Start, "resume")
		}
		if !m.prog.finished {
			out = append(out, start)
		} else {
			out = append(out, common.WithHelp(k.Open, "status & reports"))
		}
		if sel != nil && sel.state == storage.StageGated {
			out = append(out, common.WithHelp(k.Approve, "approve "+sel.name))
		}
		if sel != nil && (sel.state == storage.StageGated || sel.state == storage.StageRolledBack) {
			out = append(out, common.WithHelp(k.Retry, "retry "+sel.name))
		}
		if sel != nil && sel.counts[storage.UserInserted] > 0 {
			out = append(out, common.WithHelp(k.Rollback, "roll back "+sel.name))
		}
		if m.creds != "" && !m.prog.finished {
			out = append(out, k.CanaryLogins)
		}
	case phaseRunning:
		w := m.prog.waitingAt()
		if w != nil {
			out = append(out, common.WithHelp(k.Approve, "approve"))
			if w.rate > w.gate.MaxFailureRate {
				out = append(out, common.WithHelp(k.Retry, "retry"))
			}
			out = append(out, common.WithHelp(k.Rollback, "roll back"))
		}
		if !m.pausing {
			out = append(out, k.Pause)
		}
		if !m.aborting {
			out = append(out, k.Abort)
		}
	}
	if len(m.prog.stages) > 1 && m.phase != phaseRunning {
		out = append(out, common.WithHelp(k.Down, "stage"))
	}
	return append(out, back, k.Help)
}

// FullHelp lists every key of the page.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{
		{k.Up, k.Down},
		{common.WithHelp(k.Start, "start or resume"), k.Pause, common.WithHelp(k.Approve, "approve the gate"), k.Abort},
		{k.Rollback, k.Retry, k.CanaryLogins},
		{k.Back, k.Help, k.Quit},
	}
}

// errText is an error as the operator reads it.
func errText(err error) string {
	var changedSrc *run.ChangedSourceError
	var inUse *storage.InUseError
	switch {
	case errors.As(err, &changedSrc):
		return "The export changed since this run started, so its rows no longer match the journal's: restore the file, or start a new workspace for the new export."
	case errors.As(err, &inUse):
		return inUse.Error() + ": another provision is running this migration."
	}
	return err.Error()
}
