// Package validatedata is the "Validate data" page: choose an export,
// check how its columns map to Auth0's fields, add canary credentials,
// run the validation with live progress, then read the summary and every
// finding, each with its row (secrets masked).
package validatedata

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/filepicker"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"provision/engine/validate"
	"provision/tui/common"
	"provision/tui/components/table"
)

// step is where the page is in its flow.
type step int

const (
	stepFile    step = iota // choose the export
	stepColumns             // check the mapping, add canaries
	stepRunning             // the validation runs
	stepResults             // summary, findings, detail
)

var stepNames = []string{"File", "Columns", "Run", "Results"}

// pane is the focused pane of the column step.
type pane int

const (
	paneColumns pane = iota
	paneCanaries
)

// tab is the shown tab of the results step.
type tab int

const (
	tabFindings tab = iota
	tabCodes
	tabHashes
	tabCanaries
	tabCount
)

// formKind says what the open form is for.
type formKind int

const (
	formNone formKind = iota
	formField
	formCanary
)

// Messages of the page's own commands.
type (
	inspectedMsg struct {
		in  *inspection
		err error
	}
	canariesLoadedMsg struct {
		list []canary
		path string
		err  error
	}
	formDoneMsg   struct{}
	formCancelMsg struct{}
)

// Model is the Validate data page.
type Model struct {
	c             *common.Common
	step          step
	width, height int

	// File step.
	picker     filepicker.Model
	pickerRoot string
	inspecting bool

	// Column step.
	in       *inspection
	cols     []column
	colTable table.Model
	pane     pane
	canaries []canary
	canTable table.Model

	// The open form: a field chooser or a canary entry.
	form      *huh.Form
	formKind  formKind
	formField string
	formEmail string
	formPass  string

	// Run.
	runID    int
	runCh    <-chan tea.Msg
	cancel   context.CancelFunc
	stopping bool
	prog     progressMsg
	bar      progress.Model

	// Results.
	result     *doneMsg
	tab        tab
	findings   table.Model
	shown      []validate.Finding // findings after the filter, in table order
	codes      table.Model
	codeRows   []string
	hashes     table.Model
	canResults table.Model
	filter     textinput.Model
	filtering  bool
	detail     *validate.Finding
	detailView viewport.Model
	detailHead string

	flash      string
	flashError bool
}

// New returns the page on its file step, in the workspace's exports
// directory when there is one.
func New(c *common.Common) *Model {
	m := &Model{c: c}
	s := c.Styles

	m.picker = filepicker.New()
	m.picker.AutoHeight = false
	m.picker.ShowPermissions = false
	m.picker.ShowSize = true
	m.picker.Cursor = "›"
	m.picker.AllowedTypes = []string{".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl"}
	m.picker.Styles = s.FilePicker()
	m.picker.Styles.EmptyDirectory = m.picker.Styles.EmptyDirectory.SetString("No files here. Go up with ← or h.")
	km := filepicker.DefaultKeyMap()
	km.Back = key.NewBinding(key.WithKeys("h", "left", "backspace"), key.WithHelp("←/h", "parent dir"))
	km.Open = key.NewBinding(key.WithKeys("l", "right", "enter"), key.WithHelp("→/l", "open dir"))
	km.Select = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose"))
	m.picker.KeyMap = km
	m.resetPicker()

	m.colTable = table.New(c, []table.Column{
		{Title: "SOURCE COLUMN", Width: 18},
		{Title: "SAMPLE", Width: 12, Flex: true},
		{Title: "AUTH0 FIELD", Width: 20},
		{Title: "HOW", Width: 11},
	})
	m.colTable.CellStyle = m.columnCellStyle
	m.canTable = table.New(c, []table.Column{
		{Title: "CANARY EMAIL", Width: 34},
		{Title: "PASSWORD", Width: 8},
		{Title: "FROM", Width: 20, Flex: true},
	})
	m.canTable.Empty = "None: press d to load the workspace's credentials file, or a to type one"
	m.canTable.Blur()

	m.bar = progress.New(progress.WithSolidFill(s.ProgressFull), progress.WithColorProfile(s.Renderer.ColorProfile()))
	m.bar.EmptyColor = s.ProgressEmpty
	m.bar.PercentageStyle = s.Muted

	m.findings = table.New(c, []table.Column{
		{Title: "LINE", Width: 5, Right: true},
		{Title: " ", Width: 1},
		{Title: "FIELD", Width: 14},
		{Title: "CODE", Width: 24},
		{Title: "MESSAGE", Width: 10, Flex: true},
	})
	m.findings.CellStyle = m.findingCellStyle
	m.findings.Empty = "No findings: every row can be imported as it is."
	m.codes = table.New(c, []table.Column{
		{Title: "CODE", Width: 24},
		{Title: "SEVERITY", Width: 8},
		{Title: "COUNT", Width: 6, Right: true},
		{Title: "", Width: 10, Flex: true},
	})
	m.codes.CellStyle = m.codeCellStyle
	m.codes.Empty = "No findings."
	m.hashes = table.New(c, []table.Column{
		{Title: "HASH ALGORITHM", Width: 18},
		{Title: "USERS", Width: 6, Right: true},
		{Title: "", Width: 10, Flex: true},
	})
	m.hashes.CellStyle = func(_, col int) (lipgloss.Style, bool) {
		return s.Accent, col == 2
	}
	m.canResults = table.New(c, []table.Column{
		{Title: " ", Width: 1},
		{Title: "CANARY EMAIL", Width: 28},
		{Title: "LINE", Width: 4, Right: true},
		{Title: "ALGORITHM", Width: 10},
		{Title: "RESULT", Width: 10, Flex: true},
	})
	m.canResults.CellStyle = m.canaryCellStyle
	m.canResults.Empty = "No canaries were given. Add some on the column step (esc) to prove hashes verify."

	m.filter = textinput.New()
	m.filter.Prompt = "/ "
	m.filter.Placeholder = "finding code, e.g. EMAIL or HASH_INVALID"
	m.filter.PromptStyle = s.FilterLabel
	m.filter.TextStyle = s.Text
	m.filter.PlaceholderStyle = s.Faint
	m.filter.Cursor.Style = s.Cursor
	m.filter.CharLimit = 40

	m.detailView = viewport.New(0, 0)
	return m
}

// resetPicker points the file picker at the workspace's exports, or at
// the current directory when there is no workspace.
func (m *Model) resetPicker() {
	dir := "."
	if ws := m.c.Workspace; ws != nil {
		if _, err := os.Stat(ws.ExportsPath()); err == nil {
			dir = ws.ExportsPath()
		}
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	m.picker.CurrentDirectory = dir
	m.pickerRoot = dir
}

// Init lists the starting directory.
func (m *Model) Init() tea.Cmd { return m.picker.Init() }

// Busy reports a running validation, so quitting asks first.
func (m *Model) Busy() (bool, string) {
	if m.step == stepRunning {
		return true, "validating " + filepath.Base(m.in.path)
	}
	return false, ""
}

// Capturing reports whether typed keys belong to the page (a form or
// the filter is open).
func (m *Model) Capturing() bool { return m.form != nil || m.filtering }

// SetSize lays the page out for w×h cells.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.picker.SetHeight(max(h-6, 3))
	// Column step: steps, blank, file line, columns table, canaries.
	canH := min(1+max(len(m.canaries), 1), max(5, (h-4)/3))
	m.canTable.SetSize(w, canH)
	// The columns take what they need, up to what is left.
	m.colTable.SetSize(w, min(len(m.cols)+1, max(h-4-canH-m.flashHeight(), 3)))
	m.bar.Width = min(w, 72)
	m.layoutResults()
	if m.form != nil {
		m.form = m.form.WithWidth(min(w, 72))
	}
}

// layoutResults sizes the results tables: steps, blank, two summary
// lines, blank, tabs, the filter line when there is one, the table.
func (m *Model) layoutResults() {
	h := m.height - 6 - m.flashHeight()
	if m.filtering || m.filter.Value() != "" {
		h--
	}
	h = max(h, 3)
	cols := m.findings.Columns()
	cans := m.canResults.Columns()
	if m.width >= 100 {
		cols[2].Width = 14 // FIELD; narrower screens show it in the detail only
		cans[1].Width = 36 // CANARY EMAIL
	} else {
		cols[2].Width = 0
		cans[1].Width = 28
	}
	for _, t := range []*table.Model{&m.findings, &m.codes, &m.hashes, &m.canResults} {
		t.SetSize(m.width, h)
	}
	m.sizeDetail()
}

func (m *Model) flashHeight() int {
	if m.flash == "" {
		return 0
	}
	return strings.Count(m.flashView(), "\n") + 1
}

func (m *Model) setFlash(msg string, isErr bool) {
	m.flash, m.flashError = msg, isErr
	m.SetSize(m.width, m.height)
}

// Update handles the page's keys and its commands' messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case common.WorkspaceReadyMsg:
		if m.step == stepFile {
			m.resetPicker()
			return m, m.picker.Init()
		}
		return m, nil
	case inspectedMsg:
		return m, m.inspected(msg)
	case canariesLoadedMsg:
		return m, m.canariesLoaded(msg)
	case progressMsg:
		if msg.id != m.runID || m.runCh == nil {
			return m, nil
		}
		m.prog = msg
		return m, waitForRun(m.runCh)
	case doneMsg:
		if msg.id != m.runID {
			return m, nil
		}
		return m, m.finished(msg)
	case formDoneMsg:
		return m, m.formDone()
	case formCancelMsg:
		m.closeForm()
		return m, nil
	case tea.KeyMsg:
		if m.flash != "" && m.form == nil {
			m.setFlash("", false)
		}
		if m.form != nil {
			return m, m.updateForm(msg)
		}
		switch m.step {
		case stepFile:
			return m, m.updateFile(msg)
		case stepColumns:
			return m, m.updateColumns(msg)
		case stepRunning:
			return m, m.updateRunning(msg)
		case stepResults:
			return m, m.updateResults(msg)
		}
		return m, nil
	}
	// Anything else (directory listings, cursor blinks, form internals)
	// goes to whichever part is live.
	var cmds []tea.Cmd
	if m.form != nil {
		cmds = append(cmds, m.updateForm(msg))
	}
	var cmd tea.Cmd
	m.picker, cmd = m.picker.Update(msg)
	cmds = append(cmds, cmd)
	if m.filtering {
		m.filter, cmd = m.filter.Update(msg)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// ---- file step ----

func (m *Model) updateFile(k tea.KeyMsg) tea.Cmd {
	if m.inspecting {
		return nil
	}
	if key.Matches(k, m.c.Keys.Back) {
		return common.Back
	}
	var cmd tea.Cmd
	m.picker, cmd = m.picker.Update(k)
	if ok, path := m.picker.DidSelectFile(k); ok {
		m.inspecting = true
		return tea.Batch(cmd, func() tea.Msg {
			in, err := inspectFile(path)
			return inspectedMsg{in, err}
		})
	}
	if ok, path := m.picker.DidSelectDisabledFile(k); ok {
		m.setFlash(fmt.Sprintf("%s is not an export this page reads: choose a .csv, .tsv, .json or .ndjson file", filepath.Base(path)), true)
	}
	return cmd
}

func (m *Model) inspected(msg inspectedMsg) tea.Cmd {
	m.inspecting = false
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
		return nil
	}
	m.in = msg.in
	m.cols = guessColumns(msg.in.columns)
	m.refreshColumns()
	m.SetSize(m.width, m.height)
	m.colTable.SetCursor(0)
	m.step = stepColumns
	m.pane = paneColumns
	m.colTable.Focus()
	m.canTable.Blur()
	m.result = nil
	m.c.Log.Info("export chosen", "file", m.in.path, "format", m.in.format, "columns", len(m.cols))
	if len(m.canaries) == 0 && m.demoCredentials() != "" && m.c.Workspace != nil && m.c.Workspace.Status().Demo &&
		filepath.Base(m.in.path) == filepath.Base(m.c.Workspace.DemoExportPath()) {
		// The demo's own export: offer its canaries without a keypress.
		return m.loadCanaries()
	}
	return nil
}

// ---- column step ----

func (m *Model) refreshColumns() {
	rows := make([][]string, len(m.cols))
	for i, c := range m.cols {
		rows[i] = []string{c.Name, sampleOf(c), fieldLabel(c), c.How.String()}
	}
	m.colTable.SetRows(rows)
}

func (m *Model) refreshCanaries() {
	rows := make([][]string, len(m.canaries))
	for i, c := range m.canaries {
		rows[i] = []string{c.Email, mask, c.From}
	}
	m.canTable.SetRows(rows)
	m.SetSize(m.width, m.height)
}

func (m *Model) updateColumns(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Back):
		m.step = stepFile
		return nil
	case key.Matches(k, keys.NextPane), key.Matches(k, keys.PrevPane):
		if m.pane == paneColumns {
			m.pane = paneCanaries
			m.colTable.Blur()
			m.canTable.Focus()
		} else {
			m.pane = paneColumns
			m.canTable.Blur()
			m.colTable.Focus()
		}
		return nil
	case key.Matches(k, keys.Run):
		return m.startRun()
	case key.Matches(k, keys.AddCanary):
		return m.openCanaryForm()
	case key.Matches(k, keys.LoadCanaries):
		return m.loadCanaries()
	case key.Matches(k, keys.ClearCanary):
		m.canaries = nil
		m.refreshCanaries()
		m.setFlash("Canaries cleared.", false)
		return nil
	}
	if m.pane == paneCanaries {
		if key.Matches(k, keys.Ignore) && len(m.canaries) > 0 {
			i := m.canTable.Cursor()
			m.canaries = append(m.canaries[:i:i], m.canaries[i+1:]...)
			m.refreshCanaries()
			return nil
		}
		var cmd tea.Cmd
		m.canTable, cmd = m.canTable.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, keys.Open):
		return m.openFieldForm()
	case key.Matches(k, keys.Ignore):
		i := m.colTable.Cursor()
		if m.cols[i].Field == "-" {
			m.cols[i].Field, m.cols[i].How = "", howNone
			guess := guessColumns([]sourceColumn{m.cols[i].sourceColumn})[0]
			if guess.Field != "" {
				setField(m.cols, i, guess.Field)
			}
		} else {
			setField(m.cols, i, "-")
		}
		m.refreshColumns()
		return nil
	}
	var cmd tea.Cmd
	m.colTable, cmd = m.colTable.Update(k)
	return cmd
}

// demoCredentials is the workspace's first credentials file, or "".
func (m *Model) demoCredentials() string {
	ws := m.c.Workspace
	if ws == nil {
		return ""
	}
	if _, err := os.Stat(ws.DemoCredentialsPath()); err == nil {
		return ws.DemoCredentialsPath()
	}
	for _, name := range ws.Status().Credentials {
		return filepath.Join(ws.CredentialsPath(), name)
	}
	return ""
}

func (m *Model) loadCanaries() tea.Cmd {
	path := m.demoCredentials()
	if path == "" {
		m.setFlash("No credentials file in the workspace's credentials/ directory: press a to type a canary.", true)
		return nil
	}
	return func() tea.Msg {
		list, err := loadCanaryFile(path)
		return canariesLoadedMsg{list, path, err}
	}
}

func (m *Model) canariesLoaded(msg canariesLoadedMsg) tea.Cmd {
	if msg.err != nil {
		m.setFlash(msg.err.Error(), true)
		return nil
	}
	var replaced int
	m.canaries, replaced = addCanaries(m.canaries, msg.list)
	m.refreshCanaries()
	text := fmt.Sprintf("Loaded %d canaries from %s (kept in memory only).", len(msg.list), displayPath(msg.path))
	if replaced > 0 {
		text = fmt.Sprintf("Loaded %d canaries from %s; %d replaced ones you had.", len(msg.list), displayPath(msg.path), replaced)
	}
	m.setFlash(text, false)
	return nil
}

// ---- forms ----

func (m *Model) newForm(fields ...huh.Field) tea.Cmd {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	m.form = huh.NewForm(huh.NewGroup(fields...)).
		WithTheme(m.c.Styles.HuhTheme()).
		WithKeyMap(km).
		WithShowHelp(false).
		WithWidth(min(m.width, 72))
	m.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	m.form.CancelCmd = func() tea.Msg { return formCancelMsg{} }
	return m.form.Init()
}

func (m *Model) openFieldForm() tea.Cmd {
	c := m.cols[m.colTable.Cursor()]
	opts := []huh.Option[string]{}
	for _, f := range fieldChoices() {
		label := f
		if f == "-" {
			label = "— ignore this column"
		}
		opts = append(opts, huh.NewOption(label, f))
	}
	m.formField = c.Field
	if m.formField == "" {
		m.formField = "-"
	}
	m.formKind = formField
	sample := ""
	if s := sampleOf(c); s != "" {
		sample = fmt.Sprintf("Sample: %s", s)
	}
	return m.newForm(huh.NewSelect[string]().
		Title(fmt.Sprintf("Auth0 field for column %q", c.Name)).
		Description(sample).
		Options(opts...).
		Height(min(12, max(m.height-6, 4))).
		Value(&m.formField))
}

func (m *Model) openCanaryForm() tea.Cmd {
	m.formKind = formCanary
	m.formEmail, m.formPass = "", ""
	return m.newForm(
		huh.NewInput().Title("Canary email").
			Description("A user of this export whose password you know").
			Placeholder("user@example.com").
			Value(&m.formEmail).
			Validate(func(s string) error {
				if !strings.Contains(s, "@") {
					return fmt.Errorf("an email address has an @")
				}
				return nil
			}),
		huh.NewInput().Title("Password").
			Description("Kept in memory for this session only; never stored or logged").
			EchoMode(huh.EchoModePassword).
			Value(&m.formPass).
			Validate(func(s string) error {
				if s == "" {
					return fmt.Errorf("type the user's password")
				}
				return nil
			}),
	)
}

func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	f, cmd := m.form.Update(msg)
	if f, ok := f.(*huh.Form); ok {
		m.form = f
	}
	return cmd
}

func (m *Model) formDone() tea.Cmd {
	switch m.formKind {
	case formField:
		i := m.colTable.Cursor()
		if took := setField(m.cols, i, m.formField); took != "" {
			m.setFlash(fmt.Sprintf("%s now comes from %q; %q maps to nothing.", m.formField, m.cols[i].Name, took), false)
		}
		m.refreshColumns()
	case formCanary:
		list, replaced := addCanaries(m.canaries, []canary{{Email: m.formEmail, Password: m.formPass, From: "typed"}})
		m.canaries = list
		m.refreshCanaries()
		if replaced > 0 {
			m.setFlash("Replaced the canary for "+strings.ToLower(strings.TrimSpace(m.formEmail))+".", false)
		}
	}
	m.closeForm()
	return nil
}

func (m *Model) closeForm() {
	m.form, m.formKind = nil, formNone
	m.formEmail, m.formPass = "", ""
}

// fieldChoices are the choices of the field form: ignore, then every field.
func fieldChoices() []string {
	return append([]string{"-"}, fieldNames()...)
}

// ---- help ----

// ShortHelp lists the keys of the current step and pane.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	if m.form != nil {
		return append(m.form.KeyBinds(), common.WithHelp(k.Back, "cancel"))
	}
	switch m.step {
	case stepFile:
		return []key.Binding{m.picker.KeyMap.Select, m.picker.KeyMap.Back, m.picker.KeyMap.Open, k.Back, k.Help, k.Quit}
	case stepColumns:
		if m.pane == paneCanaries {
			return []key.Binding{k.Run, k.AddCanary, k.LoadCanaries, common.WithHelp(k.Ignore, "remove"), k.ClearCanary, common.WithHelp(k.NextPane, "columns"), k.Back}
		}
		return []key.Binding{k.Run, common.WithHelp(k.Open, "change field"), k.Ignore, common.WithHelp(k.NextPane, "canaries"), k.Back, k.Help}
	case stepRunning:
		return []key.Binding{common.WithHelp(k.Back, "stop"), k.Quit}
	case stepResults:
		if m.filtering {
			return []key.Binding{common.WithHelp(k.Open, "keep filter"), common.WithHelp(k.Back, "clear filter")}
		}
		if m.detail != nil {
			return []key.Binding{k.Up, k.Down, common.WithHelp(k.Back, "close"), k.Quit}
		}
		open := common.WithHelp(k.Open, "open")
		switch m.tab {
		case tabCodes:
			open = common.WithHelp(k.Open, "show findings")
		case tabHashes:
			open = key.Binding{}
		}
		back := common.WithHelp(k.Back, "columns")
		if m.filter.Value() != "" {
			back = common.WithHelp(k.Back, "clear filter")
		}
		return []key.Binding{open, k.Filter, common.WithHelp(k.NextPane, "next tab"), common.WithHelp(k.Run, "run again"), back, k.Help}
	}
	return nil
}

// FullHelp lists every key of the current step.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	short := m.ShortHelp()
	switch m.step {
	case stepFile:
		return [][]key.Binding{{k.Up, k.Down, m.picker.KeyMap.GoToTop, m.picker.KeyMap.GoToLast}, short[:3], {k.Back, k.Help, k.Quit}}
	case stepColumns:
		return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {common.WithHelp(k.Open, "change field"), k.Ignore, k.NextPane}, {k.AddCanary, k.LoadCanaries, k.ClearCanary}, {k.Run, k.Back, k.Help, k.Quit}}
	case stepResults:
		return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {common.WithHelp(k.Open, "open"), k.Filter, k.NextPane, k.PrevPane}, {common.WithHelp(k.Run, "run again"), k.Back, k.Help, k.Quit}}
	}
	return [][]key.Binding{short}
}

// displayPath shows path relative to the current directory when it is
// below it, so screens stay short and free of home directory names.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(abs, home+string(filepath.Separator)) {
		return "~" + abs[len(home):]
	}
	return abs
}
