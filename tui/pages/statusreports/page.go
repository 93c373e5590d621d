// Package statusreports is the "Status & reports" page: the
// reconciliation of the workspace's run (every source row in exactly one
// bucket: inserted, updated, failed, quarantined, skipped, and while a
// run is unfinished or after a rollback, not migrated yet or rolled back),
// the stages, the failed and quarantined users by code, and the report
// exported into the workspace as Markdown, JSON or CSV.
package statusreports

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"provision/engine/run"
	"provision/engine/run/reconcile"
	"provision/storage"
	"provision/tui/common"
	"provision/tui/components/table"
)

// ReportsDir is where exported reports go inside the workspace.
const ReportsDir = "reports"

// tab is the shown tab.
type tab int

const (
	tabStages tab = iota
	tabFailedCodes
	tabQuarantinedCodes
	tabFailedUsers
	tabCount
)

// loaded is what the journal says.
type loaded struct {
	exists bool
	report *reconcile.Report // nil while another process holds the journal
	// live is the published status of a run that holds the journal.
	live    *storage.Status
	holder  *storage.LockHolder
	asOf    time.Time
	meta    storage.Meta
	err     error
	journal string
}

// Messages of the page's own commands.
type (
	loadedMsg   struct{ l loaded }
	exportedMsg struct {
		paths []string
		err   error
	}
	formDoneMsg   struct{}
	formCancelMsg struct{}
)

// Model is the Status & reports page.
type Model struct {
	c             *common.Common
	width, height int
	loading       bool
	data          loaded
	tab           tab
	tables        [tabCount]table.Model

	form       *huh.Form
	formFormat string
	exporting  bool

	flash      string
	flashError bool
}

// Formats the report is exported in.
var formats = []struct{ value, label string }{
	{"md", "Markdown: the reconciliation for the hand-over document"},
	{"json", "JSON: the same, for scripts"},
	{"csv", "CSV: one line per source row, for a spreadsheet"},
	{"all", "All three"},
}

// New returns the page; Init reads the journal.
func New(c *common.Common) *Model {
	m := &Model{c: c}
	m.tables[tabStages] = table.New(c, []table.Column{
		{Title: "STAGE", Width: 10},
		{Title: "STATE", Width: 12},
		{Title: "INSERTED", Width: 8, Right: true},
		{Title: "UPDATED", Width: 7, Right: true},
		{Title: "FAILED", Width: 6, Right: true},
		{Title: "WAITING", Width: 7, Right: true},
		{Title: "ROLLED BACK", Width: 11, Right: true},
	})
	m.tables[tabFailedCodes] = table.New(c, []table.Column{
		{Title: "ERROR CODE", Width: 26},
		{Title: "USERS", Width: 6, Right: true},
		{Title: "", Width: 10, Flex: true},
	})
	m.tables[tabFailedCodes].Empty = "No user failed at the target."
	m.tables[tabQuarantinedCodes] = table.New(c, []table.Column{
		{Title: "FINDING CODE", Width: 26},
		{Title: "ROWS", Width: 6, Right: true},
		{Title: "", Width: 10, Flex: true},
	})
	m.tables[tabQuarantinedCodes].Empty = "No row was quarantined."
	m.tables[tabFailedUsers] = table.New(c, []table.Column{
		{Title: "LINE", Width: 5, Right: true},
		{Title: "EMAIL", Width: 28},
		{Title: "STAGE", Width: 8},
		{Title: "CODE", Width: 18},
		{Title: "MESSAGE", Width: 10, Flex: true},
	})
	m.tables[tabFailedUsers].Empty = "No user failed at the target."
	m.focusTab()
	return m
}

// Init reads the journal.
func (m *Model) Init() tea.Cmd { return m.load() }

// Shown reads it again: a run may have moved on since.
func (m *Model) Shown() tea.Cmd { return m.load() }

// Capturing reports whether the export form takes the keys.
func (m *Model) Capturing() bool { return m.form != nil }

func (m *Model) load() tea.Cmd {
	ws := m.c.Workspace
	if ws == nil {
		return nil
	}
	m.loading = true
	path, ctx := ws.JournalPath(), m.c.Ctx
	return func() tea.Msg { return loadedMsg{readReport(ctx, path)} }
}

// readReport builds the reconciliation, or reads the status a running
// migration publishes while it holds the journal.
func readReport(ctx context.Context, path string) loaded {
	l := loaded{journal: path}
	if !run.Exists(path) {
		return l
	}
	l.exists = true
	j, err := storage.Open(path, storage.Options{LockTimeout: 300 * time.Millisecond})
	var inUse *storage.InUseError
	if errors.As(err, &inUse) {
		l.holder = inUse.Holder
		snap, serr := run.ReadSnapshot(path)
		if serr != nil {
			l.err = fmt.Errorf("%w; its status is not published yet", err)
			return l
		}
		l.live, l.asOf = &snap.Status, snap.Written
		if rec, err := run.Inspect(path); err == nil {
			l.meta = rec.Meta
		}
		return l
	}
	if err != nil {
		l.err = err
		return l
	}
	defer j.Close()
	rows, err := run.SourceRows(j)
	if err != nil {
		l.err = err
		return l
	}
	if l.report, l.err = reconcile.Build(ctx, j, rows); l.err != nil {
		return l
	}
	l.meta, l.err = j.Meta()
	return l
}

// SetSize lays the page out for w×h cells.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.layout()
}

func (m *Model) layout() {
	// Headline, route, blank, the buckets, blank, tabs, the table.
	h := m.height - 3 - len(m.bucketLines()) - 2 - m.flashHeight()
	for i := range m.tables {
		m.tables[i].SetSize(m.width, max(h, 3))
	}
	cols := m.tables[tabFailedUsers].Columns()
	if m.width >= 100 {
		cols[1].Width, cols[3].Width = 34, 22
	} else {
		cols[1].Width, cols[3].Width = 26, 16
	}
	if m.form != nil {
		m.form = m.form.WithWidth(min(m.width, 76))
	}
}

func (m *Model) flashHeight() int {
	if m.flash == "" {
		return 0
	}
	return 1 + strings.Count(m.c.Styles.Flash(m.flash, m.flashError, m.width), "\n") + 1
}

func (m *Model) setFlash(text string, isErr bool) {
	m.flash, m.flashError = text, isErr
	m.layout()
}

// Update handles the page's keys and its commands' messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		m.loading = false
		m.data = msg.l
		m.fill()
		return m, nil
	case exportedMsg:
		m.exporting = false
		if msg.err != nil {
			m.setFlash("The report was not written: "+msg.err.Error(), true)
			return m, nil
		}
		names := make([]string, len(msg.paths))
		for i, p := range msg.paths {
			names[i] = filepath.Base(p)
		}
		m.setFlash(fmt.Sprintf("Wrote %s into %s/ (readable only by you: it lists users).", strings.Join(names, ", "), common.DisplayPath(m.reportsDir())), false)
		m.c.Log.Info("report exported", "files", len(msg.paths))
		return m, nil
	case formDoneMsg:
		m.form = nil
		return m, m.export(m.formFormat)
	case formCancelMsg:
		m.form = nil
		return m, nil
	case common.WorkspaceReadyMsg, common.WorkspaceChangedMsg:
		return m, m.load()
	case tea.KeyMsg:
		if m.form != nil {
			return m, m.updateForm(msg)
		}
		if m.flash != "" {
			m.setFlash("", false)
		}
		return m, m.updateKeys(msg)
	}
	if m.form != nil {
		return m, m.updateForm(msg)
	}
	return m, nil
}

func (m *Model) updateKeys(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Back):
		return common.Back
	case key.Matches(k, keys.Refresh):
		return m.load()
	case key.Matches(k, keys.NextPane):
		m.tab = (m.tab + 1) % tabCount
		m.focusTab()
		return nil
	case key.Matches(k, keys.PrevPane):
		m.tab = (m.tab + tabCount - 1) % tabCount
		m.focusTab()
		return nil
	case key.Matches(k, keys.Export):
		return m.openExport()
	}
	var cmd tea.Cmd
	m.tables[m.tab], cmd = m.tables[m.tab].Update(k)
	return cmd
}

func (m *Model) focusTab() {
	for i := range m.tables {
		if tab(i) == m.tab {
			m.tables[i].Focus()
		} else {
			m.tables[i].Blur()
		}
	}
}

// fill loads the report into the tables.
func (m *Model) fill() {
	r := m.data.report
	var stages [][]string
	switch {
	case r != nil:
		for _, st := range r.Stages {
			b := st.Buckets
			stages = append(stages, []string{st.Name, st.State.String(), fmt.Sprint(b[reconcile.Inserted]), fmt.Sprint(b[reconcile.Updated]),
				fmt.Sprint(b[reconcile.Failed]), fmt.Sprint(b[reconcile.NotMigrated]), fmt.Sprint(b[reconcile.RolledBack])})
		}
	case m.data.live != nil:
		for _, st := range m.data.live.Stages {
			u := st.Users
			stages = append(stages, []string{st.Name, st.State.String(), fmt.Sprint(u[storage.UserInserted]), fmt.Sprint(u[storage.UserUpdated]),
				fmt.Sprint(u[storage.UserFailed]), fmt.Sprint(u[storage.UserAssigned] + u[storage.UserSubmitted]), fmt.Sprint(u[storage.UserRolledBack])})
		}
	}
	m.tables[tabStages].SetRows(stages)
	m.tables[tabStages].Empty = "No stages yet."
	if r == nil {
		msg := "Available when the run has stopped."
		for _, t := range []tab{tabFailedCodes, tabQuarantinedCodes, tabFailedUsers} {
			m.tables[t].SetRows(nil)
			m.tables[t].Empty = msg
		}
		m.layout()
		return
	}
	m.tables[tabFailedCodes].Empty = "No user failed at the target."
	m.tables[tabQuarantinedCodes].Empty = "No row was quarantined."
	m.tables[tabFailedUsers].Empty = "No user failed at the target."
	m.tables[tabFailedCodes].SetRows(codeRows(r.FailedByCode))
	m.tables[tabQuarantinedCodes].SetRows(codeRows(r.QuarantinedByCode))
	var failed [][]string
	for _, row := range r.Failed {
		failed = append(failed, []string{fmt.Sprint(row.Line), row.Email, row.Stage, row.Code, row.Message})
	}
	m.tables[tabFailedUsers].SetRows(failed)
	m.layout()
}

// codeRows are codes with their counts, most first, and a bar.
func codeRows(counts map[string]int) [][]string {
	codes := slices.Sorted(maps.Keys(counts))
	slices.SortStableFunc(codes, func(a, b string) int { return counts[b] - counts[a] })
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	rows := make([][]string, len(codes))
	for i, c := range codes {
		rows[i] = []string{c, fmt.Sprint(counts[c]), bar(counts[c], most, 30)}
	}
	return rows
}

func bar(n, most, width int) string {
	if most == 0 || n == 0 {
		return ""
	}
	return strings.Repeat("█", max(1, n*width/most))
}

// ---- export ----

func (m *Model) openExport() tea.Cmd {
	switch {
	case m.data.report == nil && m.data.live != nil:
		m.setFlash("The run holds the journal: export the report when it has stopped.", true)
		return nil
	case m.data.report == nil:
		return nil
	}
	opts := make([]huh.Option[string], len(formats))
	for i, f := range formats {
		opts[i] = huh.NewOption(f.label, f.value)
	}
	m.formFormat = formats[0].value
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	km.Select.Filter.SetEnabled(false)
	km.Select.Submit = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "export"))
	sel := huh.NewSelect[string]().
		Title("Export the reconciliation").
		Description(fmt.Sprintf("Into %s/, readable only by you (it lists users by email).", common.DisplayPath(m.reportsDir()))).
		Options(opts...)
	m.form = huh.NewForm(huh.NewGroup(sel)).
		WithWidth(min(m.width, 76)).
		WithTheme(m.c.Styles.HuhTheme()).
		WithKeyMap(km).
		WithShowHelp(false)
	sel.Value(&m.formFormat)
	m.form = m.form.WithHeight(lipgloss.Height(sel.View()))
	m.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	m.form.CancelCmd = func() tea.Msg { return formCancelMsg{} }
	return m.form.Init()
}

func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	f, cmd := m.form.Update(msg)
	if f, ok := f.(*huh.Form); ok {
		m.form = f
	}
	return cmd
}

func (m *Model) reportsDir() string {
	return filepath.Join(m.c.Workspace.Dir(), ReportsDir)
}

// export writes the report in the chosen formats.
func (m *Model) export(format string) tea.Cmd {
	if m.exporting || m.data.report == nil {
		return nil
	}
	m.exporting = true
	dir, journal, r, ctx := m.reportsDir(), m.data.journal, m.data.report, m.c.Ctx
	want := []string{format}
	if format == "all" {
		want = []string{"md", "json", "csv"}
	}
	return func() tea.Msg {
		paths, err := writeReports(ctx, dir, journal, r, want)
		return exportedMsg{paths, err}
	}
}

// writeReports writes reconciliation.FORMAT for each format into dir
// (0700; files 0600: the report names users).
func writeReports(ctx context.Context, dir, journal string, r *reconcile.Report, formats []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var j *storage.Journal
	defer func() {
		if j != nil {
			j.Close()
		}
	}()
	var paths []string
	for _, f := range formats {
		path := filepath.Join(dir, "reconciliation."+f)
		tmp, err := os.CreateTemp(dir, ".reconciliation-*")
		if err != nil {
			return paths, err
		}
		switch f {
		case "md":
			err = r.WriteMarkdown(tmp)
		case "json":
			err = r.WriteJSON(tmp)
		case "csv":
			if j == nil {
				if j, err = storage.Open(journal, storage.Options{LockTimeout: 500 * time.Millisecond}); err != nil {
					break
				}
			}
			err = reconcile.WriteCSV(ctx, j, tmp)
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o600)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return paths, fmt.Errorf("%s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// ---- help ----

// ShortHelp lists the page's keys.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	if m.form != nil {
		return append(m.form.KeyBinds(), common.WithHelp(k.Back, "cancel"))
	}
	if m.data.report == nil && m.data.live == nil {
		return []key.Binding{k.Refresh, k.Back, k.Help, k.Quit}
	}
	out := []key.Binding{common.WithHelp(k.NextPane, "next tab")}
	if m.data.report != nil {
		out = append(out, k.Export)
	}
	return append(out, k.Refresh, k.Back, k.Help, k.Quit)
}

// FullHelp lists every key of the page.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.NextPane, k.PrevPane}, {k.Export, k.Refresh}, {k.Back, k.Help, k.Quit}}
}
