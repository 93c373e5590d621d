// Package tui is provision's terminal assistant: a root model with a
// header (workspace, plan and journal state), one page at a time, and a
// footer with the page's keys. Pages live in tui/pages, shared pieces in
// tui/common and tui/components. The engine does the work; this package
// only renders its events and sends it commands.
package tui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"provision/engine/workspace"
	"provision/tui/common"
	"provision/tui/pages/home"
	"provision/tui/pages/planrollout"
	"provision/tui/pages/runmigration"
	"provision/tui/pages/statusreports"
	"provision/tui/pages/validatedata"
)

// Options configure the assistant.
type Options struct {
	// Renderer draws every style; over SSH it is the session's.
	Renderer *lipgloss.Renderer
	// WorkspaceDir is the workspace to open, or to create when it is missing.
	WorkspaceDir string
	// Log receives the assistant's log; nil discards it.
	Log *slog.Logger
	// Now replaces the clock (tests).
	Now func() time.Time
	// Version is provision's version, recorded in a new journal.
	Version string
	// Session is the shared connection the assistant runs on (over SSH):
	// pages act only while it controls the workspace. Nil in a terminal.
	Session common.Session
	// Migration tunes the Run migration page (tests); the zero value is
	// the real engine and the built-in sandbox as the demo runs them.
	Migration runmigration.Deps
}

// Model is the root model: it owns the pages, the header and the footer.
type Model struct {
	c     *common.Common
	pages map[common.PageID]common.Component
	stack []common.PageID

	help    help.Model
	showAll bool

	confirming  bool   // asking before quitting while work runs
	confirmWhat string // what is running
	pausable    bool   // the work pauses safely and resumes later
	stopping    int    // pages still bringing their work to a safe stop
	interrupt   bool   // the quit came from ctrl+c: exit 130
	quitting    bool
	migration   runmigration.Deps

	width, height int
	status        string // the header's workspace line, refreshed on navigation
}

// New returns the assistant, on the home page when the workspace exists
// and on the welcome page (which offers the demo) when it does not.
func New(ctx context.Context, opts Options) *Model {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	var ws *workspace.Workspace
	if workspace.Exists(opts.WorkspaceDir) {
		ws, _ = workspace.Open(opts.WorkspaceDir)
	}
	c := common.New(ctx, r, opts.WorkspaceDir, ws, opts.Log)
	if opts.Now != nil {
		c.Now = opts.Now
	}
	c.Version = opts.Version
	c.Session = opts.Session
	m := &Model{c: c, pages: map[common.PageID]common.Component{}, help: c.Styles.NewHelp(), migration: opts.Migration}
	first := common.PageHome
	if ws == nil {
		first = common.PageWelcome
	}
	m.stack = []common.PageID{first}
	m.page(first)
	m.refreshStatus()
	return m
}

// Common returns the shared context (tests).
func (m *Model) Common() *common.Common { return m.c }

// Interrupted reports whether the operator quit with ctrl+c.
func (m *Model) Interrupted() bool { return m.interrupt }

// Current is the page on screen.
func (m *Model) Current() common.PageID { return m.stack[len(m.stack)-1] }

// Confirming reports whether the quit question is on screen.
func (m *Model) Confirming() bool { return m.confirming }

// newPage builds page id.
func (m *Model) newPage(id common.PageID) common.Component {
	switch id {
	case common.PageWelcome:
		return home.NewWelcome(m.c)
	case common.PagePlan:
		return planrollout.New(m.c)
	case common.PageRun:
		return runmigration.New(m.c, m.migration)
	case common.PageStatus:
		return statusreports.New(m.c)
	case common.PageValidate:
		return validatedata.New(m.c)
	}
	return home.New(m.c)
}

// page returns page id, building it on first use; pages keep their state
// when the operator leaves them (a validation report is still there on
// return).
func (m *Model) page(id common.PageID) (common.Component, tea.Cmd) {
	if p, ok := m.pages[id]; ok {
		if s, ok := p.(common.Shower); ok {
			return p, s.Shown()
		}
		return p, nil
	}
	p := m.newPage(id)
	m.pages[id] = p
	m.resize()
	return p, p.Init()
}

func (m *Model) active() common.Component { return m.pages[m.Current()] }

// Init starts the first page.
func (m *Model) Init() tea.Cmd {
	return m.active().Init()
}

// Update routes messages: keys to the page on screen (after the global
// keys), everything else to every open page, since a page's background
// work reports to it even while another page is shown.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.resize()
		return m, nil

	case tea.KeyMsg:
		return m.handleKey(msg)

	case common.NavigateMsg:
		m.refreshStatus()
		return m, m.navigate(msg.To)

	case common.WorkspaceChangedMsg:
		m.refreshStatus()
		return m, m.broadcast(msg)

	case common.BackMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
			m.refreshStatus()
			m.showAll = false
			m.resize()
			if s, ok := m.active().(common.Shower); ok {
				return m, s.Shown()
			}
		}
		return m, nil

	case common.StoppedMsg:
		if m.stopping > 0 {
			if m.stopping--; m.stopping == 0 {
				return m.quit()
			}
		}
		return m, nil

	case common.WorkspaceReadyMsg:
		m.c.Workspace = msg.Workspace
		m.refreshStatus()
		m.stack = []common.PageID{common.PageHome}
		_, cmd := m.page(common.PageHome)
		m.resize()
		return m, tea.Batch(cmd, m.broadcast(msg))
	}
	return m, m.broadcast(msg)
}

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range m.pages {
		_, cmd := p.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *Model) navigate(to common.PageID) tea.Cmd {
	if to == m.Current() {
		return nil
	}
	// The pages are siblings under home: going from one to another (a
	// saved plan to its run) leaves esc leading home, not back through
	// every step of the page before.
	m.stack = []common.PageID{common.PageHome}
	if to != common.PageHome {
		m.stack = append(m.stack, to)
	}
	_, cmd := m.page(to)
	m.showAll = false
	m.resize()
	m.c.Log.Debug("page", "open", to.Title())
	return cmd
}

func (m *Model) handleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
		// Keys typed faster than they are read arrive as one message
		// ("jj"); take them one at a time so each still moves or acts.
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			_, cmd := m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
			cmds = append(cmds, cmd)
			if m.quitting {
				break
			}
		}
		return m, tea.Batch(cmds...)
	}
	keys := m.c.Keys
	if m.stopping > 0 {
		// Waiting for work to stop safely; ctrl+c again quits at once
		// (the journal is crash-safe, and Run pauses what is left).
		if key.Matches(k, keys.Interrupt) {
			m.interrupt = true
			return m.quit()
		}
		return m, nil
	}
	if m.confirming {
		switch {
		case key.Matches(k, keys.Yes), key.Matches(k, keys.Interrupt):
			m.interrupt = m.interrupt || key.Matches(k, keys.Interrupt)
			return m.stopAndQuit()
		case key.Matches(k, keys.No), key.Matches(k, keys.Quit):
			m.confirming, m.interrupt = false, false
			m.resize()
		}
		return m, nil
	}
	if key.Matches(k, keys.Interrupt) {
		m.interrupt = true
		return m.askQuit()
	}
	if c, ok := m.active().(common.Capturer); !ok || !c.Capturing() {
		switch {
		case key.Matches(k, keys.Quit):
			return m.askQuit()
		case key.Matches(k, keys.Help):
			m.showAll = !m.showAll
			m.resize()
			return m, nil
		}
	}
	_, cmd := m.active().Update(k)
	return m, cmd
}

// askQuit quits, or asks first while a page's work runs.
func (m *Model) askQuit() (tea.Model, tea.Cmd) {
	for _, p := range m.pages {
		if b, ok := p.(common.Busy); ok {
			if running, what := b.Busy(); running {
				_, m.pausable = p.(common.Stopper)
				m.confirming, m.confirmWhat = true, what
				m.resize()
				return m, nil
			}
		}
	}
	return m.quit()
}

// stopAndQuit brings busy pages' work to a safe stop, then quits: at
// once when nothing needs stopping.
func (m *Model) stopAndQuit() (tea.Model, tea.Cmd) {
	m.confirming = false
	var cmds []tea.Cmd
	for _, p := range m.pages {
		b, busy := p.(common.Busy)
		s, stops := p.(common.Stopper)
		if !busy || !stops {
			continue
		}
		if running, _ := b.Busy(); running {
			m.stopping++
			cmds = append(cmds, s.Stop())
		}
	}
	if m.stopping == 0 {
		return m.quit()
	}
	m.c.Log.Info("quitting once work has stopped", "pages", m.stopping)
	m.resize()
	return m, tea.Batch(cmds...)
}

func (m *Model) quit() (tea.Model, tea.Cmd) {
	m.quitting = true
	m.c.Log.Info("quit", "interrupted", m.interrupt)
	return m, tea.Quit
}

// Shutdown releases what pages hold beyond the program: a run still
// going (after an interrupt) is paused and waited for, the built-in
// sandbox closed.
func (m *Model) Shutdown() {
	for _, p := range m.pages {
		if s, ok := p.(common.Shutdowner); ok {
			s.Shutdown()
		}
	}
}

// Layout: the header, a blank line, the body, the footer.
func (m *Model) innerWidth() int { return max(m.width-2, 10) }

func (m *Model) headerHeight() int { return lipgloss.Height(m.headerView()) + 1 }

func (m *Model) footerHeight() int { return lipgloss.Height(m.footerView()) }

func (m *Model) bodyHeight() int {
	return max(m.height-m.headerHeight()-m.footerHeight(), 3)
}

func (m *Model) resize() {
	if m.width == 0 {
		return
	}
	m.help.Width = m.innerWidth()
	h := m.bodyHeight()
	for _, p := range m.pages {
		p.SetSize(m.innerWidth(), h)
	}
}

// View draws the frame around the page.
func (m *Model) View() string {
	if m.quitting || m.width == 0 {
		return ""
	}
	h := m.bodyHeight()
	body := strings.Split(common.ClipLines(m.active().View(), h), "\n")
	for len(body) < h {
		body = append(body, "")
	}
	lines := strings.Split(m.headerView(), "\n")
	lines = append(lines, "")
	lines = append(lines, body...)
	lines = append(lines, strings.Split(m.footerView(), "\n")...)
	// Indent by hand rather than through a lipgloss style, which would pad
	// every line to the widest by its own width measure (see common.Clip).
	w := m.innerWidth()
	for i, l := range lines {
		if l != "" {
			lines[i] = " " + ansi.Truncate(l, w, "")
		}
	}
	return strings.Join(lines, "\n")
}

// headerView is one line when it fits, two when it does not: the brand
// and where the operator is, then the workspace, plan and journal state.
func (m *Model) headerView() string {
	s := m.c.Styles
	left := s.Brand.Render("provision")
	for _, id := range m.stack {
		if id == common.PageHome {
			continue
		}
		left += s.CrumbSep.Render(" › ") + s.Crumb.Render(id.Title())
	}
	right := m.status
	w := m.innerWidth()
	if gap := w - ansi.StringWidth(left) - ansi.StringWidth(right); gap >= 2 {
		return left + strings.Repeat(" ", gap) + right
	}
	return left + "\n" + ansi.Truncate(right, w, "…")
}

// refreshStatus rereads the workspace for the header. It runs on
// navigation and when a page reports a change, not on every frame.
func (m *Model) refreshStatus() { m.status = m.statusLine() }

// statusLine says which workspace is open and what it holds.
func (m *Model) statusLine() string {
	s := m.c.Styles
	item := func(k, v string) string { return s.StatusKey.Render(k+" ") + s.StatusVal.Render(v) }
	sep := s.StatusSep.Render(" · ")
	ws := m.c.Workspace
	if ws == nil {
		return s.StatusVal.Render(m.c.WorkspaceDir) + s.StatusKey.Render(" (not set up)") + sep + item("plan", "none") + sep + item("journal", "none")
	}
	st := ws.Status()
	dir := s.StatusVal.Render(st.Dir)
	if st.Demo {
		dir += s.StatusKey.Render(" (demo)")
	}
	plan, journal := "none", "none"
	if st.Plan.Exists {
		plan = "saved"
	}
	if st.Journal.Exists {
		journal = strings.ReplaceAll(humanize.Bytes(uint64(st.Journal.Size)), " ", "")
	}
	return dir + sep + item("plan", plan) + sep + item("journal", journal)
}

// footerView is the quit question, or the page's keys.
func (m *Model) footerView() string {
	s := m.c.Styles
	if m.stopping > 0 {
		return s.Prompt.Render(fmt.Sprintf("Pausing %s safely before quitting …", m.confirmWhat)) +
			"  " + s.Key.Render("ctrl+c") + s.Muted.Render(" quit now")
	}
	if m.confirming {
		question := fmt.Sprintf("Stop %s and quit?", m.confirmWhat)
		if m.pausable {
			question = fmt.Sprintf("Pause %s and quit? (it resumes later)", m.confirmWhat)
		}
		return s.Prompt.Render(question) +
			"  " + s.Key.Render("y") + s.Muted.Render(" quit · ") + s.Key.Render("n") + s.Muted.Render(" keep going")
	}
	m.help.ShowAll = m.showAll
	return m.help.View(m.active())
}

// Run runs the assistant on in and out until the operator quits. It
// reports whether they quit with ctrl+c (or the context was cancelled),
// which callers turn into exit status 130.
func Run(ctx context.Context, in io.Reader, out io.Writer, opts Options) (interrupted bool, err error) {
	m := New(ctx, opts)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
	_, err = p.Run()
	m.Shutdown()
	if err == tea.ErrProgramKilled || err == tea.ErrInterrupted {
		return true, nil
	}
	return m.Interrupted(), err
}
