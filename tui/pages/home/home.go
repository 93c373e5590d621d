// Package home is the assistant's first page: the four things it does,
// and, before a workspace exists, the offer to set up the bundled demo.
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

// entry is one destination of the home menu.
type entry struct {
	page common.PageID
	desc string
}

// entries are the home menu, in the order and words the assistant uses
// everywhere.
var entries = []entry{
	{common.PagePlan, "Answer a few questions, get a provisioning strategy with reasons and a plan"},
	{common.PageValidate, "Check an export against Auth0's import rules and prove hashes verify"},
	{common.PageRun, "Import in stages with a crash-safe journal: gates, pause, resume"},
	{common.PageStatus, "Where every user stands, reconciliation and reports"},
}

// Model is the home page.
type Model struct {
	c      *common.Common
	menu   menu.Model
	width  int
	height int
}

// New returns the home page with the next step selected: Validate data
// in a fresh workspace, Status & reports once a run is in the journal.
func New(c *common.Common) *Model {
	items := make([]menu.Item, len(entries))
	for i, e := range entries {
		items[i] = menu.Item{Title: e.page.Title(), Desc: e.desc}
	}
	m := &Model{c: c, menu: menu.New(c, items)}
	m.menu.SetCursor(1)
	if ws := c.Workspace; ws != nil && ws.Status().Journal.Exists {
		m.menu.SetCursor(3)
	}
	return m
}

// Init does nothing: the page has no I/O of its own.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize is called by the root model with the body's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.menu.SetWidth(w)
}

// Selected is the page the cursor is on.
func (m *Model) Selected() common.PageID { return entries[m.menu.Cursor()].page }

// Update handles the menu keys and enter.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, m.c.Keys.Open):
			return m, common.Navigate(m.Selected())
		case key.Matches(k, m.c.Keys.Workspace) && m.c.Workspace == nil:
			return m, common.Navigate(common.PageWelcome)
		}
	}
	var cmd tea.Cmd
	m.menu, cmd = m.menu.Update(msg)
	return m, cmd
}

// View draws the menu and, when there is room, what the workspace holds.
func (m *Model) View() string {
	s := m.c.Styles
	var b strings.Builder
	b.WriteString(s.Title.Render("What would you like to do?") + "\n\n")
	b.WriteString(m.menu.View())
	if ws := m.workspaceView(); ws != "" && m.height >= m.menu.Height()+2+2+lines(ws) {
		b.WriteString("\n\n" + ws)
	}
	return b.String()
}

func lines(s string) int { return strings.Count(s, "\n") + 1 }

// workspaceView lists what the workspace holds, so the operator sees
// which exports and credentials the pages will offer.
func (m *Model) workspaceView() string {
	s := m.c.Styles
	w := m.c.Workspace
	if w == nil {
		return s.Muted.Render(fmt.Sprintf("No workspace at %s: nothing is kept between sessions.", m.c.WorkspaceDir)) + "\n" +
			s.Muted.Render("Press ") + s.Key.Render("w") + s.Muted.Render(" to set one up, with or without the demo.")
	}
	st := w.Status()
	row := func(label string, names []string, dir string) string {
		v := s.Faint.Render("none")
		if len(names) > 0 {
			v = s.Text.Render(strings.Join(names, ", "))
		}
		return s.Muted.Render(fmt.Sprintf("%-12s", label)) + v + s.Faint.Render("  "+dir)
	}
	return strings.Join([]string{
		row("Exports", st.Exports, workspace.ExportsDir+"/"),
		row("Credentials", st.Credentials, workspace.CredentialsDir+"/"),
	}, "\n")
}

// ShortHelp lists the page's main keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	if m.c.Workspace == nil {
		return []key.Binding{k.Up, k.Down, k.Open, k.Workspace, k.Help, k.Quit}
	}
	return []key.Binding{k.Up, k.Down, k.Open, k.Help, k.Quit}
}

// FullHelp lists every key of the page.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Open, k.Help, k.Quit}}
}
