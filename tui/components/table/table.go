// Package table is a keyboard-driven table: fixed and flexible columns, a
// cursor marked with "›" (readable without colour), scrolling, and a
// message for when it is empty.
package table

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"provision/tui/common"
)

// Column is one column. Width is in cells; a Flex column takes the width
// left over by the others (at least its Width).
type Column struct {
	Title string
	Width int
	Flex  bool
	Right bool // align right (numbers)
}

// hidden reports whether column c is left out: a fixed column of width 0
// (a layout drops a column on narrow screens by zeroing its width).
func hidden(c Column) bool { return c.Width <= 0 && !c.Flex }

// Model is a table.
type Model struct {
	c       *common.Common
	cols    []Column
	rows    [][]string
	cursor  int
	offset  int
	width   int
	height  int
	focused bool

	// Empty is shown instead of rows when there are none.
	Empty string
	// CellStyle, if set, styles the cells of rows other than the
	// selected one; ok false means the default style.
	CellStyle func(row, col int) (st lipgloss.Style, ok bool)
}

const (
	gap       = 2 // spaces between columns
	cursorW   = 2 // "› "
	ellipsis  = "…"
	minHeight = 2
)

// New returns an empty, focused table.
func New(c *common.Common, cols []Column) Model {
	return Model{c: c, cols: cols, focused: true, height: minHeight}
}

// SetRows replaces the rows, keeping the cursor in range.
func (m *Model) SetRows(rows [][]string) {
	m.rows = rows
	m.clamp()
}

// SetColumns replaces the columns; rows keep their cells, matched by
// position.
func (m *Model) SetColumns(cols []Column) { m.cols = cols }

// Columns returns the columns.
func (m Model) Columns() []Column { return m.cols }

// Rows returns the rows.
func (m Model) Rows() [][]string { return m.rows }

// SetSize sets the table's width and height (header included).
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, max(h, minHeight)
	m.clamp()
}

// Focus and Blur say whether the table takes keys and shows its cursor.
func (m *Model) Focus() { m.focused = true }

// Blur hides the cursor.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the table has the focus.
func (m Model) Focused() bool { return m.focused }

// Cursor is the index of the selected row.
func (m Model) Cursor() int { return m.cursor }

// SetCursor selects row i.
func (m *Model) SetCursor(i int) {
	m.cursor = i
	m.clamp()
}

// Selected returns the selected row, or nil when there are none.
func (m Model) Selected() []string {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return nil
	}
	return m.rows[m.cursor]
}

func (m *Model) visible() int { return max(1, m.height-1) }

func (m *Model) clamp() {
	m.cursor = max(0, min(m.cursor, len(m.rows)-1))
	v := m.visible()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+v {
		m.offset = m.cursor - v + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-v))
}

// Update moves the cursor on the common keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	if !m.focused {
		return m, nil
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Up):
		m.cursor--
	case key.Matches(k, keys.Down):
		m.cursor++
	case key.Matches(k, keys.PageUp):
		m.cursor -= m.visible()
	case key.Matches(k, keys.PageDown):
		m.cursor += m.visible()
	case key.Matches(k, keys.Top):
		m.cursor = 0
	case key.Matches(k, keys.Bottom):
		m.cursor = len(m.rows) - 1
	}
	m.clamp()
	return m, nil
}

// widths resolves the column widths for the table's width.
func (m Model) widths() []int {
	w := make([]int, len(m.cols))
	used, flex := cursorW, -1
	first := true
	for i, c := range m.cols {
		if hidden(c) {
			continue
		}
		w[i] = c.Width
		used += c.Width
		if !first {
			used += gap
		}
		first = false
		if c.Flex && flex < 0 {
			flex = i
		}
	}
	if flex >= 0 && m.width > used {
		w[flex] += m.width - used
	}
	return w
}

// View draws the header and the visible rows, padded to the height.
func (m Model) View() string {
	s := m.c.Styles
	w := m.widths()
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", cursorW))
	b.WriteString(m.line(w, func(i int) string { return m.cols[i].Title }, func(int) lipgloss.Style { return s.TableHeader }))
	lines := 1
	if len(m.rows) == 0 {
		if m.Empty != "" {
			b.WriteString("\n" + strings.Repeat(" ", cursorW) + s.Muted.Render(fit(m.Empty, m.width-cursorW, false)))
			lines++
		}
	}
	end := min(len(m.rows), m.offset+m.visible())
	for r := m.offset; r < end; r++ {
		b.WriteByte('\n')
		lines++
		row := m.rows[r]
		selected := m.focused && r == m.cursor
		if selected {
			b.WriteString(s.Cursor.Render("›") + " ")
		} else {
			b.WriteString("  ")
		}
		b.WriteString(m.line(w, func(i int) string {
			if i < len(row) {
				return row[i]
			}
			return ""
		}, func(i int) lipgloss.Style {
			if selected {
				return s.TableSelected
			}
			if m.CellStyle != nil {
				if st, ok := m.CellStyle(r, i); ok {
					return st
				}
			}
			return s.TableCell
		}))
	}
	for ; lines < m.height; lines++ {
		b.WriteByte('\n')
	}
	return b.String()
}

func (m Model) line(w []int, cell func(int) string, style func(int) lipgloss.Style) string {
	var b strings.Builder
	first := true
	for i, c := range m.cols {
		if hidden(c) {
			continue
		}
		if !first {
			b.WriteString(strings.Repeat(" ", gap))
		}
		first = false
		b.WriteString(style(i).Render(fit(cell(i), w[i], c.Right)))
	}
	return b.String()
}

// fit truncates or pads text to exactly width cells.
func fit(text string, width int, right bool) string {
	if width <= 0 {
		return ""
	}
	text = strings.ReplaceAll(text, "\n", " ")
	if Width(text) > width {
		rs := []rune(text)
		for len(rs) > 0 && Width(string(rs))+1 > width {
			rs = rs[:len(rs)-1]
		}
		text = string(rs) + ellipsis
	}
	pad := strings.Repeat(" ", max(0, width-Width(text)))
	if right {
		return pad + text
	}
	return text + pad
}

// Width is the number of cells text may take on screen, erring wide.
// Terminals disagree on spacing combining marks (the vowel signs of
// Devanagari, Bengali, Thai...): some give them a cell, some none.
// Counting them keeps a row from wrapping on the former, at the cost of a
// cell or two of padding on the latter.
func Width(text string) int {
	n := ansi.StringWidth(text)
	for _, r := range text {
		if unicode.Is(unicode.Mc, r) {
			n++
		}
	}
	return n
}

// Fit pads or cuts plain text to exactly width cells, for callers that
// lay out their own columns.
func Fit(text string, width int) string { return fit(text, width, false) }
