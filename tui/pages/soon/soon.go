// Package soon is the page for a part of the assistant that this version
// does not have yet: it says what the page will do, plainly, and shows no
// invented data.
package soon

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"provision/tui/common"
)

// Model is a page that is not available in this version.
type Model struct {
	c      *common.Common
	page   common.PageID
	will   []string
	width  int
	height int
}

// What each page will do, as promised to the operator.
var plans = map[common.PageID][]string{
	common.PagePlan: {
		"Ask about your users and your legacy system: how many, where they log in, which password hashes you hold, whether the old store can stay online.",
		"Recommend a strategy (self sign-up, identity-store proxy, automatic migration, bulk import, or a combination) with the reasons, measured against your data.",
		"Write the plan to plan.yaml in the workspace, with stages, gates and hash settings, and a report to hand over.",
	},
	common.PageRun: {
		"Import the validated users in stages, in files of at most 500 KB and no more than two jobs at a time, as Auth0 allows.",
		"Record every step in the workspace's journal before it happens, so a crash or a dropped connection never loses or duplicates a user.",
		"Stop at each gate (error rate, your approval), pause and resume, and retry failed users.",
	},
	common.PageStatus: {
		"Show where every source user stands: imported, updated, failed, quarantined or skipped, with the reason.",
		"Reconcile the journal with the target, so every source row is accounted for exactly once.",
		"Write the reconciliation and audit reports, with password hashes never shown.",
	},
}

// New returns the page for id.
func New(c *common.Common, id common.PageID) *Model {
	return &Model{c: c, page: id, will: plans[id]}
}

// Init does nothing.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize is called with the body's size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// Update returns to the previous page on esc.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && (key.Matches(k, m.c.Keys.Back) || key.Matches(k, m.c.Keys.Open)) {
		return m, common.Back
	}
	return m, nil
}

// View says what the page will do and that it is not here yet.
func (m *Model) View() string {
	s := m.c.Styles
	w := min(m.width, 76)
	var b strings.Builder
	b.WriteString(s.Title.Render(m.page.Title()) + "\n\n")
	b.WriteString(s.Warn.Width(w).Render("Not available in this version.") + "\n\n")
	b.WriteString(s.Text.Render("When it is, this page will:") + "\n\n")
	for _, line := range m.will {
		b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, s.Accent.Render("• "), s.Text.Width(w-2).Render(line)) + "\n")
	}
	b.WriteString("\n" + s.Muted.Width(w).Render("Validate data works today, here and as `provision validate`."))
	return m.c.Clip(b.String(), m.height)
}

// ShortHelp lists the page's keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	return []key.Binding{k.Back, k.Help, k.Quit}
}

// FullHelp lists every key of the page.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Back}, {k.Help, k.Quit}}
}
