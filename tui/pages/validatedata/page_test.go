package validatedata

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/validate"
	"provision/fixtures"
	"provision/tui/common"
	"provision/tui/internal/tuitest"
)

// demoPage returns the page on the demo workspace, on its column step
// with the export inspected (as after choosing it in the file picker).
func demoPage(t *testing.T) *Model {
	t.Helper()
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	m := New(tuitest.Common(ws))
	m.SetSize(78, 20)
	in, err := inspectFile(tuitest.DemoExport())
	if err != nil {
		t.Fatal(err)
	}
	cmd := m.inspectedOK(in)
	// The demo export offers the workspace's canaries at once.
	if cmd == nil {
		t.Fatal("the demo export should load the demo canaries")
	}
	m.Update(cmd())
	if m.step != stepColumns {
		t.Fatalf("step = %d, want columns", m.step)
	}
	return m
}

func (m *Model) inspectedOK(in *inspection) tea.Cmd {
	_, cmd := m.Update(inspectedMsg{in: in})
	return cmd
}

// runToEnd starts the run and feeds its events back until it is done,
// one at a time, as the program would.
func runToEnd(t *testing.T, m *Model, start tea.KeyMsg) {
	t.Helper()
	_, cmd := m.Update(start)
	if m.step != stepRunning {
		t.Fatalf("step = %d after %q, want running (flash: %s)", m.step, start, m.flash)
	}
	if busy, what := m.Busy(); !busy || what != "validating demo-users.csv" {
		t.Errorf("Busy() = %v, %q while running", busy, what)
	}
	for i := 0; cmd != nil && m.step == stepRunning; i++ {
		if i > 100000 {
			t.Fatal("the run does not end")
		}
		_, cmd = m.Update(cmd())
	}
}

func TestDemoRunReachesSummary(t *testing.T) {
	m := demoPage(t)
	if len(m.canaries) != len(tuitest.CheapCanaries) {
		t.Fatalf("canaries = %d, want %d", len(m.canaries), len(tuitest.CheapCanaries))
	}
	runToEnd(t, m, tuitest.Key("r"))
	if m.step != stepResults {
		t.Fatalf("step = %d, want results (flash: %s)", m.step, m.flash)
	}
	r := m.result.report
	if r.Rows != fixtures.DemoUserRows {
		t.Errorf("rows = %d, want %d", r.Rows, fixtures.DemoUserRows)
	}
	if r.Quarantined == 0 || r.Valid+r.Quarantined != r.Rows {
		t.Errorf("valid %d + quarantined %d != rows %d", r.Valid, r.Quarantined, r.Rows)
	}
	if busy, _ := m.Busy(); busy {
		t.Error("still busy after the run")
	}
	view := m.View()
	for _, want := range []string{"300 rows in 1.5 s", "200 rows/s", "valid", "quarantined", "Findings", "By code", "Hashes", "Canaries 3", "2 of 3 canaries verify"} {
		if !strings.Contains(view, want) {
			t.Errorf("summary lacks %q:\n%s", want, view)
		}
	}
	// The summary counts per code and per hash algorithm.
	m.Update(tuitest.Key("tab"))
	if m.tab != tabCodes || len(m.codes.Rows()) != len(r.ByCode) {
		t.Errorf("codes tab: tab %d, %d rows for %d codes", m.tab, len(m.codes.Rows()), len(r.ByCode))
	}
	m.Update(tuitest.Key("tab"))
	if m.tab != tabHashes || len(m.hashes.Rows()) != len(r.HashAlgorithms) {
		t.Errorf("hashes tab: tab %d, %d rows for %d algorithms", m.tab, len(m.hashes.Rows()), len(r.HashAlgorithms))
	}
	m.Update(tuitest.Key("tab"))
	view = m.View()
	if m.tab != tabCanaries || !strings.Contains(view, "✓") || !strings.Contains(view, "✗") || !strings.Contains(view, "verifies") {
		t.Errorf("canaries tab should show which verify:\n%s", view)
	}
	if !strings.Contains(view, "mkowalska@inbox.example") || !strings.Contains(view, "the password does not") {
		t.Errorf("the wrong canary password should be reported:\n%s", view)
	}
	// enter shows a canary's whole result.
	m.canResults.SetCursor(2)
	m.Update(tuitest.Key("enter"))
	if view = m.View(); !strings.Contains(view, "password_algorithm") {
		t.Errorf("the canary detail should give the whole reason:\n%s", view)
	}
}

func TestFilterByCode(t *testing.T) {
	m := demoPage(t)
	m.Update(tuitest.Key("c")) // no canaries: faster
	runToEnd(t, m, tuitest.Key("r"))
	all := len(m.shown)
	m.Update(tuitest.Key("/"))
	if !m.Capturing() {
		t.Fatal("/ should open the filter and capture typing")
	}
	for _, r := range "email_" {
		m.Update(tuitest.Key(string(r)))
	}
	m.Update(tuitest.Key("enter"))
	if m.Capturing() {
		t.Error("enter should close the filter input")
	}
	if len(m.shown) == 0 || len(m.shown) >= all {
		t.Fatalf("filter kept %d of %d findings", len(m.shown), all)
	}
	for _, f := range m.shown {
		if !strings.Contains(f.Code, "EMAIL_") {
			t.Errorf("finding %s passed the filter EMAIL_", f.Code)
		}
	}
	if v := m.View(); !strings.Contains(v, "of "+itoa(all)+" findings") {
		t.Errorf("filter line missing:\n%s", v)
	}
	// esc clears the filter before it leaves the results.
	m.Update(tuitest.Key("esc"))
	if len(m.shown) != all || m.step != stepResults {
		t.Errorf("esc: %d shown, step %d", len(m.shown), m.step)
	}
	// Choosing a code on the codes tab filters the findings by it.
	m.Update(tuitest.Key("tab"))
	code := m.codeRows[0]
	m.Update(tuitest.Key("enter"))
	if m.tab != tabFindings || m.filter.Value() != code {
		t.Errorf("enter on code %s: tab %d, filter %q", code, m.tab, m.filter.Value())
	}
	m.Update(tuitest.Key("esc"))
	m.Update(tuitest.Key("esc"))
	if m.step != stepColumns {
		t.Errorf("esc without filter should go back to the columns, step %d", m.step)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFindingDetailMasksHashes(t *testing.T) {
	m := demoPage(t)
	m.Update(tuitest.Key("c"))
	runToEnd(t, m, tuitest.Key("r"))
	// A finding about a password hash, on a row that has one.
	idx := -1
	for i, f := range m.shown {
		if f.Field == "password_hash" && f.Code == validate.CodePasswordNotImported {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("the demo has no finding about an unimportable hash")
	}
	m.findings.SetCursor(idx)
	m.Update(tuitest.Key("enter"))
	if m.detail == nil {
		t.Fatal("enter did not open the finding")
	}
	f := *m.detail
	m.detailView.Height = 100 // the whole row at once
	view := m.View()
	hash := demoHash(t, f.Line)
	if hash == "" {
		t.Fatalf("no hash on line %d of the demo", f.Line)
	}
	if strings.Contains(view, hash) {
		t.Errorf("the detail shows the password hash %q:\n%s", hash, view)
	}
	for _, want := range []string{"Row on line " + itoa(f.Line), "password_hash", "*****", f.Code, "Fix:"} {
		if !strings.Contains(view, want) {
			t.Errorf("detail lacks %q:\n%s", want, view)
		}
	}
	m.Update(tuitest.Key("esc"))
	if m.detail != nil || m.step != stepResults {
		t.Error("esc should close the detail and stay on the results")
	}
}

// demoHash is the password_hash of the record starting on line in the
// demo export.
func demoHash(t *testing.T, line int) string {
	cr := csv.NewReader(strings.NewReader(string(fixtures.DemoUsers)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range header {
		if h == "password_hash" {
			col = i
		}
	}
	for {
		rec, err := cr.Read()
		if err != nil && len(rec) == 0 {
			return ""
		}
		if l, _ := cr.FieldPos(0); l == line && col < len(rec) {
			return rec[col]
		}
	}
}

func TestColumnStepEditsMapping(t *testing.T) {
	m := demoPage(t)
	// signup_source maps to nothing; x ignores it, x again restores it.
	last := len(m.cols) - 1
	if m.cols[last].Name != "signup_source" || m.cols[last].Field != "" {
		t.Fatalf("last column = %+v", m.cols[last])
	}
	m.colTable.SetCursor(last)
	m.Update(tuitest.Key("x"))
	if m.cols[last].Field != "-" || mappingOf(m.cols)["signup_source"] != "-" {
		t.Errorf("x should ignore the column: %+v", m.cols[last])
	}
	m.Update(tuitest.Key("x"))
	if m.cols[last].Field != "" {
		t.Errorf("x again should restore the guess: %+v", m.cols[last])
	}
	// enter opens the field chooser; the form takes every key.
	m.colTable.SetCursor(0)
	m.Update(tuitest.Key("enter"))
	if m.form == nil || m.formKind != formField || !m.Capturing() {
		t.Fatal("enter should open the field chooser")
	}
	m.Update(formCancelMsg{})
	if m.form != nil {
		t.Error("cancel should close the form")
	}
	// Mapping email elsewhere leaves no email column: the run refuses.
	m.formField = "username"
	m.formKind = formField
	m.Update(formDoneMsg{})
	m.Update(tuitest.Key("r"))
	if m.step != stepColumns || !strings.Contains(m.flash, "email") {
		t.Errorf("a mapping without email should not run: step %d, flash %q", m.step, m.flash)
	}
}

func TestCanaryPasswordNeverShown(t *testing.T) {
	m := demoPage(t)
	m.Update(tuitest.Key("tab"))
	if m.pane != paneCanaries {
		t.Fatal("tab should focus the canaries")
	}
	m.Update(tuitest.Key("a"))
	if m.form == nil || m.formKind != formCanary {
		t.Fatal("a should open the canary form")
	}
	m.formEmail, m.formPass = "Someone@Example.com", "hunter2-secret"
	m.Update(formDoneMsg{})
	if m.formPass != "" {
		t.Error("the form's password should be dropped once taken")
	}
	found := false
	for _, c := range m.canaries {
		if c.Email == "someone@example.com" && c.Password == "hunter2-secret" && c.From == "typed" {
			found = true
		}
	}
	if !found {
		t.Errorf("typed canary missing: %+v", m.canaries)
	}
	if strings.Contains(m.View(), "hunter2") {
		t.Error("the canary password is on screen")
	}
	// x removes the selected canary.
	n := len(m.canaries)
	m.Update(tuitest.Key("x"))
	if len(m.canaries) != n-1 {
		t.Errorf("x should remove a canary: %d -> %d", n, len(m.canaries))
	}
}

func TestEscStopsRun(t *testing.T) {
	m := demoPage(t)
	_, cmd := m.Update(tuitest.Key("r"))
	m.Update(tuitest.Key("esc"))
	for i := 0; cmd != nil && m.step == stepRunning; i++ {
		if i > 100000 {
			t.Fatal("the run does not stop")
		}
		_, cmd = m.Update(cmd())
	}
	// It may have finished before the stop took effect; either way it
	// must leave the running step.
	if m.step != stepColumns && m.step != stepResults {
		t.Errorf("step = %d", m.step)
	}
}

func TestBackFromFileStep(t *testing.T) {
	tuitest.Chdir(t)
	m := New(tuitest.Common(tuitest.DemoWorkspace(t)))
	m.SetSize(78, 20)
	_, cmd := m.Update(tuitest.Key("esc"))
	if cmd == nil {
		t.Fatal("esc on the file step should go back")
	}
	if _, ok := cmd().(common.BackMsg); !ok {
		t.Error("esc on the file step should send BackMsg")
	}
}

func TestEveryStepDrawsAtAnySize(t *testing.T) {
	m := demoPage(t)
	m.Update(tuitest.Key("c"))
	sizes := [][2]int{{118, 37}, {78, 20}, {40, 8}, {10, 3}}
	draw := func(when string) {
		for _, sz := range sizes {
			m.SetSize(sz[0], sz[1])
			if n := strings.Count(m.View(), "\n") + 1; n > max(sz[1], 1) {
				t.Errorf("%s at %dx%d: %d lines", when, sz[0], sz[1], n)
			}
		}
		m.SetSize(78, 20)
	}
	draw("columns")
	runToEnd(t, m, tuitest.Key("r"))
	draw("results")
	m.Update(tuitest.Key("enter"))
	draw("detail")
}
