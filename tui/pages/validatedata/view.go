package validatedata

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"provision/tui/components/table"
)

// View draws the current step.
func (m *Model) View() string {
	parts := []string{m.stepsView(), ""}
	switch {
	case m.form != nil:
		parts = append(parts, m.form.View())
	case m.step == stepFile:
		parts = append(parts, m.fileView())
	case m.step == stepColumns:
		parts = append(parts, m.columnsView())
	case m.step == stepRunning:
		parts = append(parts, m.runningView())
	case m.step == stepResults:
		parts = append(parts, m.resultsView())
	}
	if f := m.flashView(); f != "" {
		parts = append(parts, f)
	}
	return m.c.Clip(strings.Join(parts, "\n"), m.height)
}

// stepsView shows where the operator is: ✓ done, ● current, ○ to come.
func (m *Model) stepsView() string {
	s := m.c.Styles
	out := make([]string, len(stepNames))
	for i, name := range stepNames {
		switch {
		case i < int(m.step):
			out[i] = s.StepDone.Render("✓ " + name)
		case i == int(m.step):
			out[i] = s.StepCurrent.Render("● " + name)
		default:
			out[i] = s.StepTodo.Render("○ " + name)
		}
	}
	return strings.Join(out, s.Faint.Render("  ›  "))
}

func (m *Model) flashView() string {
	if m.flash == "" {
		return ""
	}
	s := m.c.Styles
	if m.flashError {
		return "\n" + s.FlashError.Width(m.width).Render("✗ "+m.flash)
	}
	return "\n" + s.FlashOK.Width(m.width).Render("✓ "+m.flash)
}

func (m *Model) fileView() string {
	s := m.c.Styles
	title := s.Title.Render("Choose the export to validate") + s.Muted.Render("  CSV, JSON array or NDJSON")
	dir := s.Muted.Render(displayPath(m.picker.CurrentDirectory) + "/")
	body := strings.TrimRight(m.picker.View(), "\n")
	if m.inspecting {
		body = s.Muted.Render("Reading the file's columns …")
	}
	out := title + "\n" + dir + "\n" + body
	if ws := m.c.Workspace; ws != nil && m.picker.CurrentDirectory == m.pickerRoot && m.flash == "" {
		out += "\n\n" + s.Muted.Width(m.width).Render("Exports live in "+displayPath(ws.ExportsPath())+"/ · ← and → browse other folders")
	}
	return out
}

func (m *Model) columnsView() string {
	s := m.c.Styles
	in := m.in
	info := s.Bold.Render(base(in.path)) + s.Muted.Render(fmt.Sprintf(" · %s · %s · %d columns: %s",
		strings.ToUpper(string(in.format)), humanBytes(in.size), len(m.cols), mappingSummary(m.cols)))
	return ansi.Truncate(info, m.width, "…") + "\n" +
		m.colTable.View() + "\n\n" +
		m.canTable.View()
}

func (m *Model) runningView() string {
	s := m.c.Styles
	p := m.prog
	var b strings.Builder
	b.WriteString(s.Title.Render("Validating "+displayPath(m.in.path)) + "\n\n")
	b.WriteString(m.bar.ViewAs(p.fraction()) + "\n\n")
	of := ""
	if p.total > 0 {
		of = " of about " + humanize.Comma(int64(p.total))
	}
	b.WriteString(s.Text.Render(humanize.Comma(int64(p.rows))+of+" rows") +
		s.Muted.Render(fmt.Sprintf(" · %s · %s", rate(p.rows, p.elapsed), seconds(p.elapsed))) + "\n")
	b.WriteString(s.Error.Render(fmt.Sprintf("✗ %d quarantined", p.quarantined)) + s.Muted.Render(" so far · ") +
		s.Warn.Render(fmt.Sprintf("! %d warnings", p.warnings)) + "\n\n")
	if m.stopping {
		b.WriteString(s.Muted.Render("Stopping …"))
	} else {
		b.WriteString(s.Muted.Render("Nothing is written while validating. esc stops the run."))
	}
	return b.String()
}

func (m *Model) resultsView() string {
	s := m.c.Styles
	res := m.result
	r := res.report
	line1 := s.Bold.Render(base(m.in.path)) + s.Muted.Render(fmt.Sprintf(" · %s rows in %s · %s",
		humanize.Comma(int64(r.Rows)), seconds(res.elapsed), rate(r.Rows, res.elapsed)))
	dup := ""
	switch {
	case r.Duplicates == 1:
		dup = " (1 duplicate)"
	case r.Duplicates > 1:
		dup = fmt.Sprintf(" (%d duplicates)", r.Duplicates)
	}
	parts := []string{
		s.OK.Render(fmt.Sprintf("✓ %s valid", humanize.Comma(int64(r.Valid)))),
		s.Error.Render(fmt.Sprintf("✗ %s quarantined%s", humanize.Comma(int64(r.Quarantined)), dup)),
		s.Warn.Render(fmt.Sprintf("! %s warnings", humanize.Comma(int64(r.Warnings)))),
	}
	if n := len(r.Canaries); n > 0 {
		ok := 0
		for _, c := range r.Canaries {
			if c.Verified {
				ok++
			}
		}
		st := s.OK
		if ok < n {
			st = s.Warn
		}
		line1 += s.Muted.Render(" · ") + st.Render(fmt.Sprintf("%d of %d canaries verify", ok, n))
	}
	line2 := strings.Join(parts, "   ")
	out := []string{ansi.Truncate(line1, m.width, "…"), ansi.Truncate(line2, m.width, "…"), ""}
	if m.detail != nil {
		out = append(out, m.detailHead+m.detailView.View())
		return strings.Join(out, "\n")
	}
	out = append(out, m.tabsView())
	if m.filtering || m.filter.Value() != "" {
		fl := m.filter.View()
		if !m.filtering {
			fl = s.FilterLabel.Render("/ ") + s.Text.Render(m.filter.Value())
		}
		out = append(out, fl+s.Muted.Render(fmt.Sprintf("   %d of %d findings", len(m.shown), len(r.Findings))))
	}
	out = append(out, strings.TrimRight(m.tabTables()[m.tab].View(), "\n"))
	return strings.Join(out, "\n")
}

// tabsView is the tab bar of the results, with counts.
func (m *Model) tabsView() string {
	s := m.c.Styles
	r := m.result.report
	findings := fmt.Sprint(len(r.Findings))
	if r.FindingsOmitted > 0 {
		findings = fmt.Sprintf("%d of %d", len(r.Findings), len(r.Findings)+r.FindingsOmitted)
	}
	names := []string{
		"Findings " + findings,
		fmt.Sprintf("By code %d", len(r.ByCode)),
		fmt.Sprintf("Hashes %d", len(r.HashAlgorithms)),
		fmt.Sprintf("Canaries %d", len(r.Canaries)),
	}
	out := make([]string, len(names))
	for i, n := range names {
		// The marker tells the tabs apart without colour.
		if tab(i) == m.tab {
			out[i] = s.TabActive.Render("● " + n)
		} else {
			out[i] = s.TabInactive.Render("○ " + n)
		}
	}
	return strings.Join(out, s.TabSep.Render(" │ "))
}

func humanBytes(n int64) string {
	return strings.ReplaceAll(humanize.Bytes(uint64(max(n, 0))), " ", "")
}

func seconds(d time.Duration) string {
	if d < 100*time.Millisecond {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func rate(rows int, d time.Duration) string {
	if d <= 0 {
		return "— rows/s"
	}
	r := float64(rows) / d.Seconds()
	if r < 10 {
		return fmt.Sprintf("%.1f rows/s", r)
	}
	return humanize.Comma(int64(r)) + " rows/s"
}

// fitTo cuts s to w cells, padding shorter text.
func fitTo(s string, w int) string { return table.Fit(s, w) }
