// Package menu is a short vertical menu of titled entries with one-line
// descriptions, the selected one marked with a bar (readable without
// colour). It suits the handful of choices on the home and welcome pages;
// long lists use the table.
package menu

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"provision/tui/common"
)

// Item is one entry.
type Item struct {
	Title string
	Desc  string
	Note  string // shown after the title, faint ("not in this version")
}

// Model is a menu.
type Model struct {
	c      *common.Common
	Items  []Item
	cursor int
	width  int
}

// New returns a menu of items.
func New(c *common.Common, items []Item) Model { return Model{c: c, Items: items} }

// SetWidth sets the width entries are cut to.
func (m *Model) SetWidth(w int) { m.width = w }

// Cursor is the index of the selected entry.
func (m Model) Cursor() int { return m.cursor }

// SetCursor selects entry i.
func (m *Model) SetCursor(i int) { m.cursor = max(0, min(i, len(m.Items)-1)) }

// Update moves the selection on ↑/↓, j/k, home/end and the digits 1–9.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Up):
		m.cursor = (m.cursor - 1 + len(m.Items)) % len(m.Items)
	case key.Matches(k, keys.Down):
		m.cursor = (m.cursor + 1) % len(m.Items)
	case key.Matches(k, keys.Top):
		m.cursor = 0
	case key.Matches(k, keys.Bottom):
		m.cursor = len(m.Items) - 1
	default:
		if s := k.String(); len(s) == 1 && s[0] >= '1' && s[0] <= '9' && int(s[0]-'1') < len(m.Items) {
			m.cursor = int(s[0] - '1')
		}
	}
	return m, nil
}

// Height is the number of lines View draws.
func (m Model) Height() int { return len(m.Items)*3 - 1 }

// View draws the entries, two lines each with a blank line between.
func (m Model) View() string {
	s := m.c.Styles
	var b strings.Builder
	for i, it := range m.Items {
		if i > 0 {
			b.WriteString("\n\n")
		}
		title, desc, bar := s.ItemTitle, s.ItemDesc, "  "
		if i == m.cursor {
			title, desc, bar = s.ItemTitleActive, s.ItemDescActive, s.ItemBar.Render("┃")+" "
		}
		t := title.Render(it.Title)
		if it.Note != "" {
			t += "  " + s.ItemDisabledNote.Render(it.Note)
		}
		b.WriteString(bar + cut(t, m.width-2) + "\n")
		b.WriteString(bar + desc.Render(cut(it.Desc, m.width-2)))
	}
	return b.String()
}

func cut(s string, w int) string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}
