// Package planrollout is the "Plan a rollout" page: the advisor's
// questions asked one at a time in huh forms (those that no longer apply
// are skipped), the workspace's export validated meanwhile as the sample,
// then the recommendation with its reasons, the ranked alternatives and
// the risks, and finally the plan and its artifacts written into the
// workspace.
package planrollout

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/sandbox"
	"provision/engine/workspace"
	"provision/tui/common"
)

// step is where the page is in its flow.
type step int

const (
	stepQuestions step = iota // the advisor's questions
	stepAdvice                // the recommendation, before saving
	stepSaved                 // the plan is in the workspace
)

var stepNames = []string{"Questions", "Recommendation", "Saved"}

// formKind says what the open form is for.
type formKind int

const (
	formNone     formKind = iota
	formQuestion          // one of the items
	formStrategy          // another strategy than the recommended one
)

// Messages of the page's own commands.
type (
	formDoneMsg   struct{}
	formCancelMsg struct{}
	savedMsg      struct {
		files  []string
		exists bool // a plan is there: ask before replacing it
		err    error
	}
)

// sampleState is the sample's validation.
type sampleState struct {
	path    string // as found in the workspace
	name    string // relative to the workspace, as the plan names it
	id      int
	ch      <-chan tea.Msg
	cancel  context.CancelFunc
	running bool
	rows    int
	done    bool
	data    advisor.Data
	header  []string
	format  string
	rule    policy.Username
	err     error
}

// Model is the Plan a rollout page.
type Model struct {
	c             *common.Common
	width, height int
	step          step

	items        []item
	values       map[string]string // answers by question key
	current      int               // the item asked
	exports      []string          // the workspace's exports (paths)
	sampleChoice string            // the export chosen as the sample, or noSample
	existing     *plan.Plan        // plan.yaml as found when the page opened
	loading      bool              // reading the workspace

	form      *huh.Form
	formKind  formKind
	formValue string

	sample sampleState

	// The recommendation and the plan made from it.
	override advisor.Strategy
	plan     *plan.Plan
	rec      advisor.Recommendation
	planErr  error
	waiting  bool // the answers are in; the sample is still being validated
	advice   viewport.Model

	confirmReplace bool
	saving         bool
	written        []string

	flash      string
	flashError bool
}

// New returns the page; Init reads the workspace's exports and plan.
func New(c *common.Common) *Model {
	m := &Model{c: c, values: map[string]string{}, advice: viewport.New(0, 0), sampleChoice: noSample, loading: true}
	for _, q := range advisor.Questions() {
		m.items = append(m.items, item{q: q})
	}
	return m
}

// workspaceMsg is what the workspace holds for planning.
type workspaceMsg struct {
	exports  []string
	existing *plan.Plan
}

// Init reads the workspace: its exports (the demo's first) and the plan
// already there, whose answers become the defaults.
func (m *Model) Init() tea.Cmd {
	ws := m.c.Workspace
	if ws == nil {
		return m.start(workspaceMsg{})
	}
	return func() tea.Msg {
		var msg workspaceMsg
		st := ws.Status()
		for _, name := range st.Exports {
			msg.exports = append(msg.exports, filepath.Join(ws.ExportsPath(), name))
		}
		if st.Demo {
			demo := ws.DemoExportPath()
			msg.exports = append([]string{demo}, slices.DeleteFunc(msg.exports, func(p string) bool { return p == demo })...)
		}
		if st.Plan.Exists {
			if p, err := plan.Load(ws.PlanPath()); err == nil {
				msg.existing = p
			}
		}
		return msg
	}
}

// start takes what the workspace holds, validates the sample and asks
// the first question.
func (m *Model) start(msg workspaceMsg) tea.Cmd {
	m.loading = false
	m.exports, m.existing = msg.exports, msg.existing
	m.items = m.items[:0]
	if len(m.exports) > 1 {
		m.items = append(m.items, item{sample: true})
	}
	for _, q := range advisor.Questions() {
		m.items = append(m.items, item{q: q})
	}
	m.sampleChoice = noSample
	if len(m.exports) > 0 {
		m.sampleChoice = m.exports[0]
	}
	if p := m.existing; p != nil {
		for _, it := range m.items {
			if !it.sample {
				m.values[it.q.Key] = it.q.Get(p.Answers)
			}
		}
		if p.Source.Path != "" {
			if src := p.SourcePath(); slices.Contains(m.exports, src) {
				m.sampleChoice = src
			}
		}
	}
	return tea.Batch(m.validateSample(), m.ask(0))
}

// Busy is false: validating a sample writes nothing, and stopping it
// loses nothing.
func (m *Model) Busy() (bool, string) { return false, "" }

// Capturing reports whether typed keys belong to a form or a question.
func (m *Model) Capturing() bool { return m.form != nil || m.confirmReplace }

// SetSize lays the page out for w×h cells.
func (m *Model) SetSize(w, h int) {
	resized := w != m.width || h != m.height
	m.width, m.height = w, h
	if m.form != nil && resized {
		// Built again rather than resized (see newForm); the value is kept.
		switch m.formKind {
		case formQuestion:
			v := m.formValue
			m.newForm(m.field(m.current))
			m.formValue = v
		case formStrategy:
			m.openStrategyForm()
		}
	}
	m.layoutAdvice()
}

func (m *Model) formWidth() int { return min(m.width, 76) }

// Shutdown stops the sample's validation.
func (m *Model) Shutdown() {
	if m.sample.cancel != nil {
		m.sample.cancel()
	}
}

// validateSample starts validating the chosen export under the username
// rule answered so far.
func (m *Model) validateSample() tea.Cmd {
	if m.sample.cancel != nil {
		m.sample.cancel()
	}
	path := m.sampleChoice
	m.sample = sampleState{id: m.sample.id + 1}
	if path == noSample || m.c.Workspace == nil {
		return nil
	}
	rule, err := m.answers().Username()
	if err != nil {
		rule = policy.DefaultUsername
	}
	name := path
	if rel, err := filepath.Rel(m.c.Workspace.Dir(), path); err == nil {
		name = filepath.ToSlash(rel)
	}
	ctx, cancel := context.WithCancel(m.c.Ctx)
	m.sample.path, m.sample.name, m.sample.rule = path, name, rule
	m.sample.cancel, m.sample.running = cancel, true
	m.sample.ch = startSample(ctx, m.sample.id, path, name, rule)
	m.c.Log.Info("plan sample validating", "file", name, "username", rule.String())
	return waitFor(m.sample.ch)
}

// Update handles the page's keys and its commands' messages.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case sampleProgressMsg:
		if msg.id != m.sample.id {
			return m, nil
		}
		m.sample.rows = msg.rows
		return m, waitFor(m.sample.ch)
	case sampleDoneMsg:
		if msg.id != m.sample.id {
			return m, nil
		}
		return m, m.sampleDone(msg)
	case formDoneMsg:
		return m, m.formDone()
	case formCancelMsg:
		return m, m.formCancel()
	case savedMsg:
		return m, m.saved(msg)
	case workspaceMsg:
		return m, m.start(msg)
	case common.WorkspaceReadyMsg:
		if m.step == stepQuestions && len(m.exports) == 0 {
			fresh := New(m.c)
			fresh.SetSize(m.width, m.height)
			*m = *fresh
			return m, m.Init()
		}
		return m, nil
	case tea.KeyMsg:
		if m.flash != "" && m.form == nil {
			m.setFlash("", false)
		}
		if m.confirmReplace {
			return m, m.updateConfirm(msg)
		}
		if m.form != nil {
			return m, m.updateForm(msg)
		}
		switch m.step {
		case stepQuestions:
			if key.Matches(msg, m.c.Keys.Back) {
				return m, common.Back
			}
		case stepAdvice:
			return m, m.updateAdvice(msg)
		case stepSaved:
			return m, m.updateSaved(msg)
		}
		return m, nil
	}
	if m.form != nil {
		return m, m.updateForm(msg)
	}
	return m, nil
}

func (m *Model) sampleDone(msg sampleDoneMsg) tea.Cmd {
	m.sample.running = false
	m.sample.ch = nil
	if m.sample.cancel != nil {
		m.sample.cancel()
		m.sample.cancel = nil
	}
	if errors.Is(msg.err, context.Canceled) {
		return nil
	}
	m.sample.done = true
	m.sample.err = msg.err
	m.sample.data, m.sample.header, m.sample.format = msg.data, msg.header, msg.format
	if msg.err == nil {
		m.sample.rows = msg.data.Rows
		m.c.Log.Info("plan sample validated", "file", m.sample.name, "rows", msg.data.Rows, "valid", msg.data.Valid)
	} else {
		m.c.Log.Warn("plan sample failed", "file", m.sample.name, "err", msg.err)
	}
	if m.waiting {
		return m.advise()
	}
	return nil
}

// ---- questions ----

// ask opens the form for item i.
func (m *Model) ask(i int) tea.Cmd {
	m.step = stepQuestions
	m.current = i
	m.formValue = m.valueOf(i)
	m.formKind = formQuestion
	return m.newForm(m.field(i))
}

func (m *Model) newForm(f huh.Field) tea.Cmd {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	// One question per form: tab and shift+tab would only leave it.
	km.Select.Next = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose"))
	km.Select.Filter.SetEnabled(false)
	km.Input.Next = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next"))
	km.Select.Submit = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer"))
	km.Input.Submit = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer"))
	km.Input.Prev.SetEnabled(false)
	km.Select.Prev.SetEnabled(false)
	// The width goes first: huh sizes a group to its fields when the
	// theme is set, and a field measured unwrapped would come out short.
	m.form = huh.NewForm(huh.NewGroup(f)).
		WithWidth(m.formWidth()).
		WithTheme(m.c.Styles.HuhTheme()).
		WithKeyMap(km).
		WithShowHelp(false)
	m.form.SubmitCmd = func() tea.Msg { return formDoneMsg{} }
	m.form.CancelCmd = func() tea.Msg { return formCancelMsg{} }
	if sel, ok := f.(*huh.Select[string]); ok {
		// Bound only now: huh scrolls a select's list to its selected
		// option whenever it is sized, which would hide the options above
		// it; binding the value after sizing moves the cursor alone.
		sel.Value(&m.formValue)
	}
	// huh measures the group before the field is wrapped at its width and
	// would cut the last line: give it the field's real height (and a line
	// for an input's error).
	h := lipgloss.Height(f.View())
	if _, ok := f.(*huh.Input); ok {
		h++
	}
	m.form = m.form.WithHeight(h)
	return m.form.Init()
}

func (m *Model) updateForm(msg tea.Msg) tea.Cmd {
	f, cmd := m.form.Update(msg)
	if f, ok := f.(*huh.Form); ok {
		m.form = f
	}
	return cmd
}

func (m *Model) closeForm() {
	m.form, m.formKind = nil, formNone
}

func (m *Model) formDone() tea.Cmd {
	kind := m.formKind
	m.closeForm()
	switch kind {
	case formQuestion:
		return m.answered(m.formValue)
	case formStrategy:
		s := advisor.Strategy(m.formValue)
		if s == m.rec.Strategy {
			s = ""
		}
		m.override = s
		return m.advise()
	}
	return nil
}

func (m *Model) formCancel() tea.Cmd {
	kind := m.formKind
	m.closeForm()
	if kind == formStrategy {
		return nil
	}
	// esc on a question goes back to the one before, or leaves the page.
	if p := m.prev(); p >= 0 {
		return m.ask(p)
	}
	m.current = 0
	return tea.Batch(m.ask(0), common.Back)
}

// answered records the current item's answer and moves on.
func (m *Model) answered(v string) tea.Cmd {
	it := m.items[m.current]
	if !it.sample && strings.TrimSpace(v) == "" {
		v = it.q.Get(advisor.Answers{})
	}
	var cmds []tea.Cmd
	if it.sample {
		if v != m.sampleChoice || (!m.sample.running && !m.sample.done && v != noSample) {
			m.sampleChoice = v
			cmds = append(cmds, m.validateSample())
		}
	} else {
		m.values[it.q.Key] = v
	}
	if n := m.next(); n >= 0 {
		return tea.Batch(append(cmds, m.ask(n))...)
	}
	return tea.Batch(append(cmds, m.advise())...)
}

// ---- recommendation ----

// advise makes the plan from the answers and the sample, once the sample
// is validated under the username rule answered.
func (m *Model) advise() tea.Cmd {
	m.step = stepAdvice
	a := m.answers()
	rule, _ := a.Username()
	if m.sampleChoice != noSample && m.c.Workspace != nil {
		if m.sample.done && m.sample.err == nil && m.sample.rule != rule {
			// The counts depend on the username rule: measure again.
			m.waiting = true
			return m.validateSample()
		}
		if m.sample.running {
			m.waiting = true
			return nil
		}
	}
	m.waiting = false
	in := plan.Inputs{Answers: a, Strategy: m.override}
	if m.sample.done && m.sample.err == nil {
		in.Data = m.sample.data
		in.Header = m.sample.header
		in.Source = plan.Source{Path: m.sample.name, Format: m.sample.format}
	}
	if ws := m.c.Workspace; ws != nil && ws.Status().Demo {
		// The demo imports into the built-in sandbox's connection; a plan
		// for a real tenant names its own.
		in.Target = plan.Target{Connection: sandbox.DefaultConnectionID}
	}
	m.plan, m.rec, m.planErr = plan.New(in)
	if m.planErr != nil {
		m.c.Log.Warn("plan not made", "err", m.planErr)
	} else {
		m.c.Log.Info("plan recommended", "strategy", m.rec.Strategy, "rule", m.rec.Rule, "planned", m.plan.Strategy)
	}
	m.fillAdvice()
	m.advice.GotoTop()
	return nil
}

func (m *Model) updateAdvice(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Back):
		m.override = ""
		last := m.applicable()
		return m.ask(last[len(last)-1])
	case m.waiting:
		return nil
	case key.Matches(k, keys.Save):
		return m.save(false)
	case key.Matches(k, keys.OtherStrategy):
		return m.openStrategyForm()
	case key.Matches(k, keys.Up):
		m.advice.ScrollUp(1)
	case key.Matches(k, keys.Down):
		m.advice.ScrollDown(1)
	case key.Matches(k, keys.PageUp):
		m.advice.PageUp()
	case key.Matches(k, keys.PageDown):
		m.advice.PageDown()
	case key.Matches(k, keys.Top):
		m.advice.GotoTop()
	case key.Matches(k, keys.Bottom):
		m.advice.GotoBottom()
	}
	return nil
}

// openStrategyForm offers every strategy, the recommended one first, then
// the alternatives in their rank, each saying whether it can work here.
func (m *Model) openStrategyForm() tea.Cmd {
	if m.plan == nil && m.planErr != nil {
		return nil
	}
	opts := []huh.Option[string]{huh.NewOption(m.rec.Strategy.Title()+" (recommended)", string(m.rec.Strategy))}
	for _, alt := range m.rec.Alternatives {
		label := alt.Strategy.Title()
		if !alt.Viable {
			label += " (cannot work here)"
		}
		opts = append(opts, huh.NewOption(label, string(alt.Strategy)))
	}
	if m.formKind != formStrategy {
		m.formValue = string(m.plan.Strategy)
	}
	m.formKind = formStrategy
	return m.newForm(huh.NewSelect[string]().
		Title("Plan with which strategy?").
		Description("The report keeps the recommendation and says the plan departs from it.").
		Options(opts...))
}

// ---- saving ----

// save writes the plan and its artifacts into the workspace, asking first
// when a plan is there already.
func (m *Model) save(replace bool) tea.Cmd {
	ws := m.c.Workspace
	switch {
	case m.plan == nil:
		return nil
	case ws == nil:
		m.setFlash("There is no workspace to save the plan in: set one up from the home page (w).", true)
		return nil
	case m.saving:
		return nil
	}
	m.saving = true
	p, dir, path := m.plan, ws.Dir(), ws.PlanPath()
	return func() tea.Msg {
		if _, err := os.Stat(path); err == nil && !replace {
			return savedMsg{exists: true}
		}
		files, err := plan.WriteWorkspace(dir, p, plan.WorkspaceOptions{Force: true})
		return savedMsg{files: files, err: err}
	}
}

func (m *Model) updateConfirm(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Yes):
		m.confirmReplace = false
		m.layoutAdvice()
		return m.save(true)
	case key.Matches(k, keys.No), key.Matches(k, keys.Quit):
		m.confirmReplace = false
		m.layoutAdvice()
	}
	return nil
}

func (m *Model) saved(msg savedMsg) tea.Cmd {
	m.saving = false
	if msg.exists {
		m.confirmReplace = true
		m.layoutAdvice()
		return nil
	}
	if msg.err != nil {
		m.setFlash("The plan was not saved: "+msg.err.Error(), true)
		m.c.Log.Warn("plan not saved", "err", msg.err)
		return nil
	}
	m.written = msg.files
	m.step = stepSaved
	m.existing = m.plan
	m.c.Log.Info("plan saved", "strategy", m.plan.Strategy, "files", len(msg.files))
	return func() tea.Msg { return common.WorkspaceChangedMsg{} }
}

func (m *Model) updateSaved(k tea.KeyMsg) tea.Cmd {
	keys := m.c.Keys
	switch {
	case key.Matches(k, keys.Open) && m.plan.Strategy.Imports():
		return common.Navigate(common.PageRun)
	case key.Matches(k, keys.Back):
		m.step = stepAdvice
	}
	return nil
}

func (m *Model) setFlash(text string, isErr bool) {
	m.flash, m.flashError = text, isErr
	m.layoutAdvice()
}

// ---- help ----

// ShortHelp lists the keys of the current step.
func (m *Model) ShortHelp() []key.Binding {
	k := m.c.Keys
	if m.confirmReplace {
		return []key.Binding{common.WithHelp(k.Yes, "replace"), common.WithHelp(k.No, "keep it")}
	}
	if m.form != nil {
		back := common.WithHelp(k.Back, "previous question")
		if m.formKind == formStrategy || m.prev() < 0 {
			back = common.WithHelp(k.Back, "back")
		}
		return append(m.form.KeyBinds(), back)
	}
	switch m.step {
	case stepAdvice:
		if m.waiting {
			return []key.Binding{common.WithHelp(k.Back, "change answers"), k.Quit}
		}
		return []key.Binding{k.Save, k.OtherStrategy, common.WithHelp(k.Down, "scroll"), common.WithHelp(k.Back, "change answers"), k.Help, k.Quit}
	case stepSaved:
		if m.plan != nil && m.plan.Strategy.Imports() {
			return []key.Binding{common.WithHelp(k.Open, "run migration"), common.WithHelp(k.Back, "recommendation"), k.Help, k.Quit}
		}
		return []key.Binding{common.WithHelp(k.Back, "recommendation"), k.Help, k.Quit}
	}
	return []key.Binding{common.WithHelp(k.Back, "back"), k.Help, k.Quit}
}

// FullHelp lists every key of the current step.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.c.Keys
	if m.step == stepAdvice && m.form == nil && !m.confirmReplace && !m.waiting {
		return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Save, k.OtherStrategy}, {common.WithHelp(k.Back, "change answers"), k.Help, k.Quit}}
	}
	return [][]key.Binding{m.ShortHelp()}
}

// planLabel names a workspace plan for the operator.
func planLabel(p *plan.Plan) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("%s (%s)", workspace.PlanFile, p.Strategy.Title())
}
