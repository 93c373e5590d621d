package runmigration

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"provision/engine/run"
	"provision/storage"
	"provision/tui/common"
	"provision/tui/components/sparkline"
)

// View draws the run.
func (m *Model) View() string {
	s := m.c.Styles
	if m.c.Workspace == nil {
		return s.Title.Render("Run migration") + "\n\n" +
			s.Muted.Width(min(m.width, 76)).Render("A migration keeps its journal in a workspace, and there is none: go back and set one up from the home page (w), with or without the demo.")
	}
	top := []string{m.headline()}
	top = append(top, m.detailLines()...)
	top = append(top, common.Cut(m.routeLine(), m.width), "")
	top = append(top, m.stagesView()...)
	if stats := m.statsLines(); len(stats) > 0 {
		top = append(top, "")
		top = append(top, stats...)
	}
	bottom := m.bottomLines()
	// The latest events take the room that is left.
	room := m.height - len(top) - len(bottom) - 2
	if room >= 2 {
		top = append(top, "", s.Subtitle.Render("Latest events"))
		top = append(top, m.eventLines(room-1)...)
	}
	if len(bottom) > 0 {
		for len(top) < m.height-len(bottom) {
			top = append(top, "")
		}
		top = append(top, bottom...)
	}
	return m.c.Clip(strings.Join(top, "\n"), m.height)
}

// headline says where the run stands, with its marker.
func (m *Model) headline() string {
	s := m.c.Styles
	line := func(st lipgloss.Style, text string) string { return common.Cut(st.Render(text), m.width) }
	if b := m.journal.busy; b != nil {
		who := "another process"
		if h := b.Holder; h != nil {
			who = fmt.Sprintf("PID %d on %s", h.PID, h.Host)
		}
		return line(s.Warn, fmt.Sprintf("! Another provision (%s) is running this migration; its status as of %s:", who, m.journal.asOf.Local().Format("15:04:05")))
	}
	resumed := ""
	if m.resumed {
		resumed = " · resumed from the journal"
	}
	switch m.phase {
	case phaseLoading:
		return line(s.Muted, "Reading the journal …")
	case phaseLaunching:
		what := "the target"
		if _, _, builtin := m.targetSpec(); builtin {
			what = "the built-in sandbox"
		}
		return line(s.Accent, "● Connecting to "+what+" …")
	case phaseRollingBack:
		return line(s.Warn, "↺ Rolling back "+m.rollbackProgress())
	case phaseRunning:
		switch {
		case m.aborting:
			return line(s.Error, "✗ Aborting …")
		case m.pausing:
			return line(s.Warn, "‖ Pausing at the next safe point …")
		}
		if w := m.prog.waitingAt(); w != nil {
			if w.rate > w.gate.MaxFailureRate {
				return line(s.Warn, fmt.Sprintf("! Stage %s stopped at its gate: %s of its users failed (gate ≤%s)", w.name, common.Percent(w.rate), common.Percent(w.gate.MaxFailureRate)))
			}
			return line(s.Warn, fmt.Sprintf("! Stage %s waits for your approval", w.name))
		}
		if m.prog.step != "" {
			return line(s.Accent, "● Preparing: "+m.prog.step+resumed)
		}
		if cur := m.prog.current(); cur != nil {
			return line(s.Accent, "● Importing stage "+cur.name+resumed)
		}
		return line(s.Accent, "● Running"+resumed)
	}
	// Idle.
	if m.prog.finished {
		c := m.prog.counts
		return line(s.OK, fmt.Sprintf("✓ Finished: %s inserted, %s updated, %s failed; %s quarantined, %s skipped",
			common.Count(c[storage.UserInserted]), common.Count(c[storage.UserUpdated]), common.Count(c[storage.UserFailed]),
			common.Count(c[storage.UserQuarantined]), common.Count(c[storage.UserSkipped])))
	}
	if r := m.result; r != nil {
		switch r.State {
		case run.StatePaused:
			return line(s.Warn, "‖ Paused"+atStage(r.Stage)+": "+shortReason(r.Reason))
		case run.StateGated, run.StateAwaitingApproval:
			return line(s.Warn, "! Stopped at the gate of stage "+r.Stage)
		case run.StateStopped:
			return line(s.Warn, "! Stopped"+atStage(r.Stage)+": "+shortReason(r.Reason))
		}
	}
	if !m.journal.exists {
		n := len(m.prog.stages)
		if m.c.Watching() {
			return line(s.Text, fmt.Sprintf("○ Ready to import the users of %s in %d %s", m.sourceName(), n, plural(n, "stage", "stages")))
		}
		return line(s.Text, fmt.Sprintf("○ Ready: s imports the users of %s in %d %s", m.sourceName(), n, plural(n, "stage", "stages")))
	}
	for _, st := range m.prog.stages {
		switch st.state {
		case storage.StageGated:
			return line(s.Warn, "! The run stopped at the gate of stage "+st.name)
		case storage.StageRolledBack, storage.StageRollingBack:
			return line(s.Warn, "↺ Stage "+st.name+" was rolled back")
		}
	}
	started := ""
	if c := m.journal.meta.Created; !c.IsZero() {
		started = " (started " + c.Local().Format("2 Jan 15:04") + ")"
	}
	if m.c.Watching() {
		return line(s.Warn, "‖ A run is in the journal"+started+", not finished")
	}
	return line(s.Warn, "‖ A run is in the journal"+started+", not finished: s resumes it")
}

// detailLines say why the run stopped and what the operator can do.
func (m *Model) detailLines() []string {
	s := m.c.Styles
	wrap := func(text string) []string {
		return strings.Split(s.Muted.Width(m.width).Render(text), "\n")
	}
	if m.journal.busy != nil || m.phase == phaseLoading || m.phase == phaseLaunching {
		return nil
	}
	if m.phase == phaseRunning && !m.pausing && !m.aborting {
		w := m.prog.waitingAt()
		if w == nil {
			return nil
		}
		text := shortReason(w.reason)
		if v := m.prog.verified[w.name]; v != "" && !strings.Contains(text, v) {
			text = strings.TrimSuffix(text, ".") + "; checked: " + v
		}
		if w.rate > w.gate.MaxFailureRate {
			return wrap(capital(text) + ". a approves it anyway, t retries its failed users, b rolls it back.")
		}
		return wrap(capital(text) + ". a lets it through, b rolls it back.")
	}
	if m.phase != phaseIdle || m.prog.finished {
		if m.prog.finished && m.phase == phaseIdle {
			return wrap("Every source row is accounted for in Status & reports, with the reconciliation and the reports to export.")
		}
		return nil
	}
	for _, st := range m.prog.stages {
		switch st.state {
		case storage.StageGated:
			reason := shortReason(st.reason)
			if reason == "" {
				reason = "its gate holds it"
			}
			what := "a approves it, b rolls it back"
			if st.rate > st.gate.MaxFailureRate {
				what = "a approves it anyway, t retries its failed users, b rolls it back"
			}
			return wrap(capital(reason) + ". " + what + ".")
		case storage.StageRolledBack:
			return wrap("t runs it again (its users are imported anew); the stages after it wait.")
		case storage.StageRollingBack:
			return wrap("The rollback was interrupted: b finishes it.")
		}
	}
	if r := m.result; r != nil && r.State == run.StatePaused {
		return wrap("Jobs in flight are recorded in the journal and followed when the run resumes: s resumes it.")
	}
	if p := m.rp.plan; !m.journal.exists && p != nil && !p.Strategy.Imports() {
		return wrap(fmt.Sprintf("The plan's strategy, %s, imports nobody in bulk: a run here imports the export anyway, in the default stages, as a rehearsal.", p.Strategy.Title()))
	}
	if !m.journal.exists && m.rp.planErr == nil {
		what := "the stages of the workspace's plan"
		if m.rp.plan == nil || len(m.rp.plan.Stages) == 0 {
			what = "the default stages (no plan saved: Plan a rollout makes one)"
		}
		return wrap("Every row is checked and written to the journal first; then " + what + ", each stopping at its gate.")
	}
	return nil
}

// routeLine says where the users come from and go to.
func (m *Model) routeLine() string {
	s := m.c.Styles
	to := "the built-in sandbox"
	spec, conn, builtin := m.targetSpec()
	switch {
	case m.conn != nil && m.conn.builtin:
	case m.conn != nil:
		to = m.conn.label
		if m.conn.connID != "" {
			to += " · " + m.conn.connID
		}
	case !builtin:
		to = spec
		if conn != "" {
			to += " · " + conn
		}
	}
	line := s.Text.Render(m.sourceName()) + s.Muted.Render(" → ") + s.Text.Render(to)
	if m.creds != "" && !m.prog.finished {
		state := "off"
		if m.canaries {
			state = "on"
		}
		line += s.Muted.Render(" · canary logins " + state)
	}
	return line
}

// sourceName is the export, named inside the workspace when it is there.
func (m *Model) sourceName() string {
	path := m.rp.source
	if m.journal.exists && m.journal.meta.Source.Path != "" {
		path = m.journal.meta.Source.Path
	}
	if path == "" {
		return "no export"
	}
	if ws := m.c.Workspace; ws != nil {
		if abs, err := filepath.Abs(ws.Dir()); err == nil {
			if rel := relTo(abs, path); rel != path {
				return rel
			}
			if p, err := filepath.Abs(path); err == nil {
				if rel := relTo(abs, p); rel != p {
					return rel
				}
			}
		}
	}
	return common.DisplayPath(path)
}

// columns of the stage table.
type columns struct {
	name, state, bar, pct, users, failed, gate int
}

func (m *Model) columns() columns {
	c := columns{name: 6, state: 14, pct: 4, users: 5, failed: 6}
	for _, s := range m.prog.stages {
		c.name = max(c.name, min(ansi.StringWidth(s.name), 12))
		c.users = max(c.users, len(usersCell(s)))
	}
	if m.width >= 100 {
		c.gate = 18
	}
	used := 2 + c.name + 2 + c.state + 2 + 1 + c.pct + 2 + c.users + 2 + c.failed
	if c.gate > 0 {
		used += 2 + c.gate
	}
	c.bar = max(min(m.width-used, 40), 6)
	return c
}

func usersCell(s *stageRow) string {
	if s.users == 0 {
		if s.size == "rest" {
			return "rest"
		}
		return s.size
	}
	return fmt.Sprintf("%d/%d", s.settled(), s.users)
}

func (m *Model) stagesView() []string {
	s := m.c.Styles
	c := m.columns()
	pad := func(text string, w int, right bool) string {
		gap := strings.Repeat(" ", max(w-ansi.StringWidth(text), 0))
		if right {
			return gap + text
		}
		return text + gap
	}
	head := "  " + pad("STAGE", c.name, false) + "  " + pad("STATE", c.state, false) + "  " + pad("PROGRESS", c.bar+1+c.pct, false) +
		"  " + pad("USERS", c.users, true) + "  " + pad("FAILED", c.failed, true)
	if c.gate > 0 {
		head += "  " + pad("GATE", c.gate, false)
	}
	lines := []string{s.TableHeader.Render(head)}
	for i, st := range m.prog.stages {
		cursor := "  "
		nameSt := s.TableCell
		if i == m.cursor {
			cursor = s.Cursor.Render("›") + " "
			nameSt = s.TableSelected
		}
		label, stateSt := m.stateLabel(st)
		frac := m.prog.fraction(st)
		if st.state == storage.StageRolledBack {
			frac = 0
		}
		m.bar.Width = c.bar
		pct := fmt.Sprintf("%d%%", int(frac*100))
		failed := "—"
		if st.settled() > 0 {
			failed = common.Percent(st.rate)
		}
		failSt := s.TableCell
		if st.rate > st.gate.MaxFailureRate && st.settled() > 0 {
			failSt = s.Error
		}
		line := cursor + nameSt.Render(pad(common.Cut(st.name, c.name), c.name, false)) + "  " +
			stateSt.Render(pad(label, c.state, false)) + "  " + m.bar.ViewAs(frac) + " " + s.Muted.Render(pad(pct, c.pct, true)) +
			"  " + s.TableCell.Render(pad(usersCell(st), c.users, true)) + "  " + failSt.Render(pad(failed, c.failed, true))
		if c.gate > 0 {
			line += "  " + s.Muted.Render(gateText(st.gate))
		}
		lines = append(lines, line)
	}
	return lines
}

func gateText(g storage.Gate) string {
	t := "≤" + common.Percent(g.MaxFailureRate)
	if g.Approve {
		t += " + approval"
	}
	return t
}

// stateLabel is a stage's state in words, with a marker that reads
// without colour.
func (m *Model) stateLabel(st *stageRow) (string, lipgloss.Style) {
	s := m.c.Styles
	switch st.state {
	case storage.StageDone:
		return "✓ done", s.OK
	case storage.StageRunning:
		if m.phase == phaseRunning && !m.pausing {
			return "● importing", s.Accent
		}
		return "‖ paused", s.Warn
	case storage.StageGated:
		switch {
		case st.rate > st.gate.MaxFailureRate && st.settled() > 0:
			return "! over its gate", s.Error
		case st.waiting || m.phase == phaseIdle:
			return "! approval", s.Warn
		}
		return "! gated", s.Warn
	case storage.StageRollingBack:
		return "↺ rolling back", s.Warn
	case storage.StageRolledBack:
		return "↺ rolled back", s.Warn
	}
	return "○ pending", s.Muted
}

// statsLines are the rate, the jobs in flight, the failure rate against
// the gate, the time left and the throughput chart.
func (m *Model) statsLines() []string {
	s := m.c.Styles
	p := m.prog
	if m.phase == phaseRunning && p.step != "" && p.reg != nil {
		r := p.reg
		return []string{common.Cut(s.Muted.Render(fmt.Sprintf("%s rows read: %s to import, %s quarantined, %s duplicates skipped",
			common.Count(r.Rows), common.Count(r.Pending), common.Count(r.Quarantined), common.Count(r.Skipped))), m.width)}
	}
	if len(p.points) == 0 && m.phase != phaseRunning {
		return nil
	}
	now := m.now()
	rate := p.rate(now)
	parts := []string{s.Text.Render(rateText(rate))}
	jobs := p.inFlight()
	parts = append(parts, s.Text.Render(fmt.Sprintf("%d %s in flight", jobs, plural(jobs, "job", "jobs"))))
	if cur := p.current(); cur != nil && cur.settled() > 0 {
		st := s.Text
		if cur.rate > cur.gate.MaxFailureRate {
			st = s.Error
		}
		parts = append(parts, st.Render(fmt.Sprintf("%s failed (gate ≤%s)", common.Percent(cur.rate), common.Percent(cur.gate.MaxFailureRate))))
	}
	switch left := p.remaining(); {
	case m.phase != phaseRunning:
	case p.waitingAt() != nil:
		parts = append(parts, s.Warn.Render("ETA after approval"))
	case left == 0:
	case rate > 0:
		parts = append(parts, s.Text.Render("ETA "+common.Seconds(time.Duration(float64(left)/rate*float64(time.Second)))))
	default:
		parts = append(parts, s.Muted.Render("ETA —"))
	}
	stats := common.Cut(strings.Join(parts, s.Faint.Render(" · ")), m.width)
	w := max(min(m.width-30, 60), 10)
	bars, per := p.buckets(now, w)
	label := "  users settled, a bar a second"
	if per > 1 {
		label = fmt.Sprintf("  users settled, a bar per %d s", per)
	}
	chart := sparkline.Render(bars, s.Faint, s.Accent)
	return []string{stats, common.Cut(chart+s.Muted.Render(label), m.width)}
}

// now is the instant of the latest news: the chart and the rate stand
// still while nothing happens.
func (m *Model) now() time.Time {
	p := m.prog
	t := p.started
	if len(p.log) > 0 && p.log[len(p.log)-1].at.After(t) {
		t = p.log[len(p.log)-1].at
	}
	if p.lastRun.After(t) {
		t = p.lastRun
	}
	return t
}

func rateText(r float64) string {
	switch {
	case r <= 0:
		return "— rows/s"
	case r < 10:
		return fmt.Sprintf("%.1f rows/s", r)
	}
	return common.Count(int(r+0.5)) + " rows/s"
}

func (m *Model) eventLines(n int) []string {
	s := m.c.Styles
	log := m.prog.log
	if len(log) == 0 {
		return []string{s.Faint.Render("None yet.")}
	}
	if len(log) > n {
		log = log[len(log)-n:]
	}
	out := make([]string, len(log))
	for i, l := range log {
		out[i] = common.Cut(s.Faint.Render(l.at.Local().Format("15:04:05"))+"  "+s.Text.Render(l.text), m.width)
	}
	return out
}

// bottomLines are a question, an error or news, under everything.
func (m *Model) bottomLines() []string {
	s := m.c.Styles
	if a := m.confirm; a != nil {
		var q string
		switch a.kind {
		case actAbort:
			q = "Abort the run now? A submission on the wire is cut short; jobs already at the target finish there and the next run follows them."
		case actRollback:
			st := m.prog.stage(a.stage)
			to := "the target"
			if _, _, builtin := m.targetSpec(); builtin || (m.conn != nil && m.conn.builtin) {
				to = "the built-in sandbox"
			} else if m.conn != nil {
				to = m.conn.label
			}
			q = fmt.Sprintf("Roll back stage %s? The %s users it inserted are deleted from %s; users it updated stay.", a.stage, common.Count(st.counts[storage.UserInserted]), to)
			if m.phase == phaseRunning {
				q = "The run pauses first. " + q
			}
		case actImport:
			spec, conn, _ := m.targetSpec()
			q = fmt.Sprintf("Import the users of %s into %s (connection %s)?", m.sourceName(), spec, conn)
		}
		return strings.Split(s.Prompt.Width(m.width).Render(q), "\n")
	}
	var out []string
	if m.c.Workspace != nil && m.c.Watching() {
		out = append(out, common.Cut(s.Warn.Render(m.c.WatchingNote()), m.width))
	}
	if m.runErr != nil {
		out = append(out, strings.Split(s.Flash(errText(m.runErr), true, m.width), "\n")...)
	} else if m.rp.planErr != nil && m.phase == phaseIdle && !m.journal.exists {
		out = append(out, strings.Split(s.Flash(m.rp.planErr.Error(), true, m.width), "\n")...)
	}
	if m.flash != "" {
		out = append(out, strings.Split(s.Flash(m.flash, m.flashError, m.width), "\n")...)
	}
	return out
}

func (m *Model) rollbackProgress() string {
	for i := len(m.prog.log) - 1; i >= 0; i-- {
		if strings.Contains(m.prog.log[i].text, "rolling back") {
			return strings.TrimPrefix(m.prog.log[i].text, "stage ")
		}
	}
	return "…"
}

// engineHints are where the engine's reasons turn to the command line's
// flags; the page says what its own keys do instead.
var engineHints = []string{
	"; check it, then approve", "; see the failures with", "; investigate, then approve",
	"; run again to resume", "; run it again", ": run it again with", ": finish it with",
}

// shortReason is an engine's reason without its command-line advice.
func shortReason(r string) string {
	for _, h := range engineHints {
		if i := strings.Index(r, h); i >= 0 {
			r = r[:i]
		}
	}
	return strings.TrimSpace(r)
}

func atStage(stage string) string {
	if stage == "" {
		return ""
	}
	return " at stage " + stage
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
