package validatedata

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"provision/engine/validate"
	"provision/tui/components/table"
)

// fillResults loads the report into the results tables.
func (m *Model) fillResults() {
	r := m.result.report
	m.applyFilter()

	sev := severities(r)
	counts := validate.SortedCounts(r.ByCode)
	most := 0
	for _, c := range counts {
		most = max(most, c.N)
	}
	m.codeRows = nil
	rows := make([][]string, 0, len(counts))
	for _, c := range counts {
		m.codeRows = append(m.codeRows, c.Key)
		rows = append(rows, []string{c.Key, string(sev[c.Key]), fmt.Sprint(c.N), bar(c.N, most, 30)})
	}
	m.codes.SetRows(rows)
	m.codes.SetCursor(0)

	hs := validate.SortedCounts(r.HashAlgorithms)
	most = 0
	for _, c := range hs {
		most = max(most, c.N)
	}
	rows = rows[:0:0]
	for _, c := range hs {
		rows = append(rows, []string{c.Key, fmt.Sprint(c.N), bar(c.N, most, 30)})
	}
	m.hashes.SetRows(rows)
	m.hashes.SetCursor(0)

	rows = rows[:0:0]
	for _, c := range r.Canaries {
		mark, result := "✗", c.Problem
		if c.Verified {
			mark, result = "✓", "verifies"
		}
		line := ""
		if c.Line > 0 {
			line = fmt.Sprint(c.Line)
		}
		rows = append(rows, []string{mark, c.Email, line, c.Algorithm, result})
	}
	m.canResults.SetRows(rows)
	m.canResults.SetCursor(0)
	m.focusTab()
}

// applyFilter shows the findings whose code contains the filter text.
func (m *Model) applyFilter() {
	if m.result == nil {
		return
	}
	q := strings.ToUpper(strings.TrimSpace(m.filter.Value()))
	m.shown = m.shown[:0]
	rows := [][]string{}
	for _, f := range m.result.report.Findings {
		if q != "" && !strings.Contains(f.Code, q) {
			continue
		}
		m.shown = append(m.shown, f)
		mark := "✗"
		if f.Severity == validate.SeverityWarning {
			mark = "!"
		}
		rows = append(rows, []string{fmt.Sprint(f.Line), mark, f.Field, f.Code, f.Message})
	}
	m.findings.SetRows(rows)
	if q != "" {
		m.findings.Empty = fmt.Sprintf("No finding code contains %q. Press esc to clear the filter.", q)
	} else {
		m.findings.Empty = "No findings: every row can be imported as it is."
	}
	m.layoutResults()
}

func (m *Model) focusTab() {
	for i, t := range m.tabTables() {
		if tab(i) == m.tab {
			t.Focus()
		} else {
			t.Blur()
		}
	}
}

func (m *Model) tabTables() []*table.Model {
	return []*table.Model{&m.findings, &m.codes, &m.hashes, &m.canResults}
}

func (m *Model) updateResults(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	if m.filtering {
		switch {
		case key.Matches(k, keys.Open):
			m.filtering = false
			m.filter.Blur()
		case key.Matches(k, keys.Back):
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.applyFilter()
		default:
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(k)
			m.applyFilter()
			return cmd
		}
		m.layoutResults()
		return nil
	}
	if m.detail != nil {
		if key.Matches(k, keys.Back) {
			m.detail = nil
			return nil
		}
		var cmd tea.Cmd
		m.detailView, cmd = m.detailView.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, keys.Back):
		if m.filter.Value() != "" {
			m.filter.SetValue("")
			m.applyFilter()
			return nil
		}
		m.step = stepColumns
		return nil
	case key.Matches(k, keys.NextPane):
		m.tab = (m.tab + 1) % tabCount
		m.focusTab()
		return nil
	case key.Matches(k, keys.PrevPane):
		m.tab = (m.tab + tabCount - 1) % tabCount
		m.focusTab()
		return nil
	case key.Matches(k, keys.Filter):
		m.tab = tabFindings
		m.focusTab()
		m.filtering = true
		m.layoutResults()
		return m.filter.Focus()
	case key.Matches(k, keys.Run):
		return m.startRun()
	case key.Matches(k, keys.Open):
		switch m.tab {
		case tabFindings:
			if i := m.findings.Cursor(); i < len(m.shown) {
				m.openDetail(m.shown[i])
			}
		case tabCanaries:
			if i := m.canResults.Cursor(); i < len(m.result.report.Canaries) {
				m.openCanaryDetail(m.result.report.Canaries[i])
			}
		case tabCodes:
			if i := m.codes.Cursor(); i < len(m.codeRows) {
				m.filter.SetValue(m.codeRows[i])
				m.tab = tabFindings
				m.focusTab()
				m.applyFilter()
				m.findings.SetCursor(0)
			}
		}
		return nil
	}
	var cmd tea.Cmd
	t := m.tabTables()[m.tab]
	*t, cmd = t.Update(k)
	return cmd
}

// openDetail shows finding f: what is wrong and how to fix it, fixed at
// the top, and its row below, scrolling.
func (m *Model) openDetail(f validate.Finding) {
	m.detail = &f
	m.detailHead = m.detailHeadView(f)
	m.detailView.SetContent(m.detailRowView(f))
	m.sizeDetail()
	m.detailView.GotoTop()
}

// openCanaryDetail shows one canary's whole result.
func (m *Model) openCanaryDetail(c validate.CanaryResult) {
	s := m.c.Styles
	w := max(m.width, 20)
	m.detail = &validate.Finding{}
	var b strings.Builder
	if c.Verified {
		b.WriteString(s.OK.Render("✓ verifies"))
	} else {
		b.WriteString(s.Error.Render("✗ does not verify"))
	}
	b.WriteString(s.Muted.Render("  canary ") + s.Text.Render(c.Email))
	if c.Line > 0 {
		b.WriteString(s.Muted.Render(fmt.Sprintf(" · line %d", c.Line)))
	}
	b.WriteString(s.Muted.Render(" · algorithm ") + s.Code.Render(c.Algorithm) + "\n")
	switch {
	case c.Verified:
		b.WriteString(s.Text.Width(w).Render("The known password verifies against the hash exactly as it will be sent to Auth0, so this user can log in with their current password after the import.") + "\n")
	case c.Problem != "":
		b.WriteString(s.Text.Width(w).Render(c.Problem) + "\n")
	}
	m.detailHead = b.String() + "\n"
	m.detailView.SetContent(s.Muted.Width(w).Render("The password itself is never shown, stored or logged."))
	m.sizeDetail()
	m.detailView.GotoTop()
}

func (m *Model) sizeDetail() {
	h := m.height - 5 - m.flashHeight() // steps, blank, two summary lines, blank
	if m.detail != nil {
		h -= strings.Count(m.detailHead, "\n") + 1
	}
	m.detailView.Width, m.detailView.Height = max(m.width, 10), max(h, 2)
}

// detailHeadView says what is wrong with the finding and how to fix it.
func (m *Model) detailHeadView(f validate.Finding) string {
	s := m.c.Styles
	w := max(m.width, 20)
	var b strings.Builder
	mark := s.Error.Render("✗ error")
	if f.Severity == validate.SeverityWarning {
		mark = s.Warn.Render("! warning")
	}
	b.WriteString(mark + s.Muted.Render(fmt.Sprintf("  line %d · field ", f.Line)) + s.Code.Render(f.Field) +
		s.Muted.Render(" · ") + s.Code.Render(f.Code) + "\n")
	b.WriteString(s.Text.Width(w).Render(f.Message) + "\n")
	if f.Hint != "" {
		b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, s.OK.Render("Fix: "), s.Text.Width(w-5).Render(f.Hint)) + "\n")
	}
	return b.String() + "\n"
}

// detailRowView is the finding's row, secrets masked, the field at fault
// highlighted.
func (m *Model) detailRowView(f validate.Finding) string {
	s := m.c.Styles
	w := max(m.width, 20)
	row, ok := m.result.rows[f.Line]
	switch {
	case f.Code == validate.CodeUnknownColumn:
		return s.Muted.Width(w).Render("This finding is about a column, not a row: map the column on the column step (esc), or leave it out.")
	case !ok:
		return s.Muted.Width(w).Render(fmt.Sprintf("The row on line %d was not kept: rows are kept for the first %d findings only.", f.Line, maxFindings))
	}
	var b strings.Builder
	b.WriteString(s.PanelTitle.Render(fmt.Sprintf("Row on line %d", row.Line)) + s.Muted.Render("  hashes and salts show as "+mask) + "\n")
	if row.Broken != "" {
		b.WriteString(s.Error.Width(w).Render(row.Broken) + "\n")
	}
	// Columns named after their field (the demo, Auth0 exports) show
	// name and value; other sources also show the field each maps to.
	colW, fieldW, mapped := 8, 0, false
	for _, c := range row.Cells {
		colW = max(colW, table.Width(c.Column))
		if c.Field != "" && c.Field != "-" && c.Field != c.Column {
			mapped = true
		}
	}
	colW = min(colW, 22)
	if mapped {
		fieldW = 20
	}
	for _, c := range row.Cells {
		st := s.Muted
		if c.Field == f.Field {
			st = s.Code
		}
		val, vst := c.Value, s.Text
		switch val {
		case mask:
			vst = s.Masked
		case "":
			val, vst = "(empty)", s.Faint
		}
		line := st.Render(fitTo(c.Column, colW)) + "  "
		if mapped {
			line += s.Faint.Render(fitTo(fieldLabel(column{Field: c.Field}), fieldW)) + "  "
		}
		b.WriteString(line + vst.Render(fitTo(val, max(w-colW-fieldW-4, 8))) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// severities gives each code's severity, from the findings listed.
func severities(r *validate.Report) map[string]validate.Severity {
	out := map[string]validate.Severity{}
	for _, f := range r.Findings {
		if _, ok := out[f.Code]; !ok {
			out[f.Code] = f.Severity
		}
	}
	return out
}

// bar is a proportional bar of at most width cells.
func bar(n, most, width int) string {
	if most == 0 || n == 0 {
		return ""
	}
	return strings.Repeat("▇", max(1, n*width/most))
}

// Cell styles of the tables.

func (m *Model) columnCellStyle(row, col int) (lipgloss.Style, bool) {
	s := m.c.Styles
	if row >= len(m.cols) {
		return lipgloss.Style{}, false
	}
	c := m.cols[row]
	switch col {
	case 1:
		if sampleOf(c) == mask {
			return s.Masked, true
		}
		return s.Muted, true
	case 2:
		switch c.Field {
		case "":
			return s.Warn, true
		case "-":
			return s.Faint, true
		}
		return s.Code, true
	case 3:
		return s.Faint, true
	}
	return lipgloss.Style{}, false
}

func (m *Model) findingCellStyle(row, col int) (lipgloss.Style, bool) {
	s := m.c.Styles
	if row >= len(m.shown) {
		return lipgloss.Style{}, false
	}
	warn := m.shown[row].Severity == validate.SeverityWarning
	switch col {
	case 0:
		return s.Muted, true
	case 1:
		if warn {
			return s.Warn, true
		}
		return s.Error, true
	case 3:
		return s.Code, true
	}
	return lipgloss.Style{}, false
}

func (m *Model) codeCellStyle(row, col int) (lipgloss.Style, bool) {
	s := m.c.Styles
	switch col {
	case 0:
		return s.Code, true
	case 1:
		if rows := m.codes.Rows(); row < len(rows) && rows[row][1] == string(validate.SeverityWarning) {
			return s.Warn, true
		}
		return s.Error, true
	case 3:
		return s.Accent, true
	}
	return lipgloss.Style{}, false
}

func (m *Model) canaryCellStyle(row, col int) (lipgloss.Style, bool) {
	s := m.c.Styles
	rows := m.canResults.Rows()
	if row >= len(rows) {
		return lipgloss.Style{}, false
	}
	ok := rows[row][0] == "✓"
	switch col {
	case 0, 4:
		if ok {
			return s.OK, true
		}
		return s.Error, true
	case 2, 3:
		return s.Muted, true
	}
	return lipgloss.Style{}, false
}
