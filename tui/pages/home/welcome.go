package home

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/workspace"
	"provision/tui/common"
	"provision/tui/components/menu"
)

// Welcome is shown when there is no workspace yet: it offers the bundled
// demo, an empty workspace, or going on without one.
type Welcome struct {
	c       *common.Common
	menu    menu.Model
	width   int
	height  int
	working bool
	err     error
}

// The welcome choices, in menu order.
const (
	choiceDemo = iota
	choiceEmpty
	choiceSkip
)

// NewWelcome returns the welcome page.
func NewWelcome(c *common.Common) *Welcome {
	return &Welcome{c: c, menu: menu.New(c, []menu.Item{
		{Title: "Set up the demo workspace", Desc: "An example legacy export, its canary credentials, and the built-in sandbox"},
		{Title: "Create an empty workspace", Desc: "Bring your own export: copy it into " + workspace.ExportsDir + "/ afterwards"},
		{Title: "Continue without a workspace", Desc: "Validate files where they are; nothing is kept"},
	})}
}

// setupDoneMsg reports the outcome of creating the workspace.
type setupDoneMsg struct {
	ws  *workspace.Workspace
	err error
}

// Init does nothing.
func (m *Welcome) Init() tea.Cmd { return nil }

// SetSize is called with the body's size.
func (m *Welcome) SetSize(w, h int) {
	m.width, m.height = w, h
	m.menu.SetWidth(w)
}

// Update handles the choice.
func (m *Welcome) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case setupDoneMsg:
		m.working = false
		if msg.err != nil {
			m.err = msg.err
			return m, nil
		}
		m.c.Log.Info("workspace ready", "dir", msg.ws.Dir(), "demo", msg.ws.Status().Demo)
		return m, func() tea.Msg { return common.WorkspaceReadyMsg{Workspace: msg.ws} }
	case tea.KeyMsg:
		if m.working {
			return m, nil
		}
		if key.Matches(msg, m.c.Keys.Open) {
			m.err = nil
			dir := m.c.WorkspaceDir
			switch m.menu.Cursor() {
			case choiceDemo:
				m.working = true
				return m, func() tea.Msg {
					ws, err := workspace.InitDemo(dir)
					return setupDoneMsg{ws, err}
				}
			case choiceEmpty:
				m.working = true
				return m, func() tea.Msg {
					ws, err := workspace.Create(dir)
					return setupDoneMsg{ws, err}
				}
			case choiceSkip:
				return m, common.Navigate(common.PageHome)
			}
		}
		if key.Matches(msg, m.c.Keys.Back) {
			return m, common.Back
		}
	}
	var cmd tea.Cmd
	m.menu, cmd = m.menu.Update(msg)
	return m, cmd
}

// View explains what a workspace is and offers the choices.
func (m *Welcome) View() string {
	s := m.c.Styles
	var b strings.Builder
	b.WriteString(s.Title.Render("Welcome to provision") + "\n\n")
	intro := fmt.Sprintf("There is no workspace at %s yet. A workspace keeps the plan, the run journal, "+
		"exports, canary credentials, quarantine files and logs of one migration, readable only by you. "+
		"The demo has everything to try each step on this machine: nothing is sent anywhere.", m.c.WorkspaceDir)
	b.WriteString(s.Text.Width(min(m.width, 76)).Render(intro) + "\n\n")
	b.WriteString(m.menu.View())
	switch {
	case m.working:
		b.WriteString("\n\n" + s.Muted.Render("Setting up "+m.c.WorkspaceDir+" …"))
	case m.err != nil:
		b.WriteString("\n\n" + s.Error.Width(min(m.width, 76)).Render("✗ "+m.err.Error()))
	}
	return m.c.Clip(b.String(), m.height)
}

// ShortHelp lists the page's keys.
func (m *Welcome) ShortHelp() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Up, k.Down, common.WithHelp(k.Open, "choose"), k.Quit}
}

// FullHelp lists every key of the page.
func (m *Welcome) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down}, {common.WithHelp(k.Open, "choose"), k.Help, k.Quit}}
}
