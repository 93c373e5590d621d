package planrollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/workspace"
	"provision/tui/common"
	"provision/tui/internal/tuitest"
)

// open returns the page on the demo workspace, on its first question,
// with the sample validated.
func open(t *testing.T) (*Model, *workspace.Workspace) {
	t.Helper()
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	return openOn(t, ws), ws
}

func openOn(t *testing.T, ws *workspace.Workspace) *Model {
	t.Helper()
	m := New(tuitest.Common(ws))
	m.SetSize(78, 21)
	msg := m.Init()()
	m.loading = false
	m.exports, m.existing = msg.(workspaceMsg).exports, msg.(workspaceMsg).existing
	m.start(msg.(workspaceMsg))
	finishSample(t, m, m.validateSample())
	return m
}

// finishSample feeds a sample validation's messages back until it ends.
func finishSample(t *testing.T, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	for i := 0; cmd != nil; i++ {
		if i > 10000 {
			t.Fatal("the sample's validation does not end")
		}
		msg := cmd()
		_, cmd = m.Update(msg)
		if _, done := msg.(sampleDoneMsg); done {
			return cmd
		}
	}
	return nil
}

// answer answers the question on screen, as enter in its form does.
func answer(t *testing.T, m *Model, v string) tea.Cmd {
	t.Helper()
	if m.form == nil || m.formKind != formQuestion {
		t.Fatalf("no question is asked; the page:\n%s", m.View())
	}
	m.formValue = v
	_, cmd := m.Update(formDoneMsg{})
	return cmd
}

// asked is the key of the question on screen.
func asked(m *Model) string {
	if m.step != stepQuestions || m.form == nil {
		return ""
	}
	return m.items[m.current].q.Key
}

func mustContain(t *testing.T, view string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(view, w) {
			t.Errorf("the page lacks %q:\n%s", w, view)
		}
	}
}

func TestSkipsQuestionsThatNoLongerApply(t *testing.T) {
	m, _ := open(t)
	if asked(m) != "legacy_store" {
		t.Fatalf("first question %q", asked(m))
	}
	if n, of := m.position(); n != 1 || of != 4 {
		t.Errorf("position %d of %d with no legacy store", n, of)
	}
	answer(t, m, "no")
	// Without a legacy store, nothing about moving users applies.
	if asked(m) != "social" {
		t.Fatalf("after no legacy store: %q", asked(m))
	}
	// esc goes back to the question before; yes opens the rest.
	m.Update(formCancelMsg{})
	if asked(m) != "legacy_store" {
		t.Fatalf("esc: %q", asked(m))
	}
	answer(t, m, "yes")
	if asked(m) != "fresh_start" {
		t.Fatalf("after a legacy store: %q", asked(m))
	}
	if _, of := m.position(); of != 10 {
		t.Errorf("%d questions with a legacy store, want 10", of)
	}
	answer(t, m, "no")  // fresh start
	answer(t, m, "yes") // keep legacy
	answer(t, m, "no")  // online
	// The store is offline: no custom database scripts, so neither the
	// database nor the table is asked.
	if asked(m) != "users" {
		t.Fatalf("offline store: %q", asked(m))
	}
	answer(t, m, "")   // users: the default
	answer(t, m, "40") // active
	// keep_legacy: the decommission deadline does not apply.
	if asked(m) != "social" {
		t.Fatalf("keep legacy: %q", asked(m))
	}
}

func TestAnEarlierAnswerClearsStaleLaterOnes(t *testing.T) {
	m, _ := open(t)
	answer(t, m, "yes")
	answer(t, m, "yes") // fresh start: nobody is moved
	if asked(m) != "social" {
		t.Fatalf("fresh start: %q", asked(m))
	}
	if !m.answers().FreshStart {
		t.Fatal("fresh_start not recorded")
	}
	m.Update(formCancelMsg{})
	m.Update(formCancelMsg{})
	answer(t, m, "no") // no legacy store after all
	if a := m.answers(); a.FreshStart || a.LegacyStore {
		t.Errorf("answers kept a question that no longer applies: %+v", a)
	}
}

// finishDefaults answers the rest with the shown defaults.
func finishDefaults(t *testing.T, m *Model) {
	t.Helper()
	for i := 0; m.step == stepQuestions; i++ {
		if i > 20 {
			t.Fatal("the questions do not end")
		}
		cmd := answer(t, m, m.valueOf(m.current))
		finishSample(t, m, cmd)
	}
}

func TestRecommendationFromTheAnswersAndTheSample(t *testing.T) {
	m, _ := open(t)
	if !m.sample.done || m.sample.data.Rows != 300 {
		t.Fatalf("sample: %+v", m.sample)
	}
	answer(t, m, "yes") // legacy store
	answer(t, m, "no")  // fresh start
	answer(t, m, "no")  // keep legacy
	answer(t, m, "no")  // online
	finishDefaults(t, m)
	if m.step != stepAdvice || m.plan == nil {
		t.Fatalf("step %d, plan %v, err %v", m.step, m.plan, m.planErr)
	}
	if m.rec.Strategy != advisor.Bulk || m.rec.Rule != advisor.RuleStoreOffline {
		t.Errorf("recommended %s by %s", m.rec.Strategy, m.rec.Rule)
	}
	if m.plan.Data.Rows != 300 || m.plan.Source.Path != "exports/demo-users.csv" {
		t.Errorf("the plan's data %+v, source %+v", m.plan.Data, m.plan.Source)
	}
	m.SetSize(78, 200) // all of it
	view := m.View()
	mustContain(t, view, "Recommended: Bulk migration", "decision rule store-offline", "Alternatives, best first",
		"2. ✓ Self sign-up", "5. ✗", "cannot work here", "Risks", "Stages", "canary: 10 users")
	for _, alt := range m.rec.Alternatives {
		mustContain(t, view, alt.Strategy.Title())
	}
}

func TestSaveWritesThePlanIntoTheWorkspace(t *testing.T) {
	m, ws := open(t)
	finishDefaults(t, m)
	_, cmd := m.Update(tuitest.Key("s"))
	if cmd == nil {
		t.Fatal("s should save")
	}
	_, cmd = m.Update(cmd())
	if m.step != stepSaved {
		t.Fatalf("step %d, flash %q", m.step, m.flash)
	}
	if msg := cmd(); msg != (common.WorkspaceChangedMsg{}) {
		t.Errorf("saving should report the workspace changed, got %T", msg)
	}
	for _, f := range []string{plan.FileName, plan.RecommendationFile, plan.ConnectionOptionsFile} {
		if _, err := os.Stat(filepath.Join(ws.Dir(), f)); err != nil {
			t.Error(err)
		}
	}
	p, err := plan.Load(ws.PlanPath())
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy != m.rec.Strategy || p.SourcePath() != filepath.Join(ws.Dir(), "exports", "demo-users.csv") {
		t.Errorf("saved %s from %s", p.Strategy, p.SourcePath())
	}
	mustContain(t, m.View(), "Saved the plan", "plan.yaml", "recommendation.md")

	// Planning again starts from the saved answers, and asks before
	// replacing the plan.
	m2 := openOn(t, ws)
	if m2.existing == nil || len(m2.values) == 0 {
		t.Fatal("the saved plan's answers were not taken")
	}
	mustContain(t, m2.View(), "answers start from the saved plan.yaml")
	finishDefaults(t, m2)
	_, cmd = m2.Update(tuitest.Key("s"))
	if m2.Update(cmd()); !m2.confirmReplace {
		t.Fatal("s should ask before replacing the plan")
	}
	mustContain(t, m2.View(), "Replace it and its artifacts?")
	m2.Update(tuitest.Key("n"))
	if m2.confirmReplace || m2.step != stepAdvice {
		t.Error("n should keep the plan")
	}
	_, cmd = m2.Update(tuitest.Key("s"))
	m2.Update(cmd())
	_, cmd = m2.Update(tuitest.Key("y"))
	m2.Update(cmd())
	if m2.step != stepSaved {
		t.Errorf("y should replace the plan: step %d, flash %q", m2.step, m2.flash)
	}
}

func TestAnotherUsernameRuleValidatesTheSampleAgain(t *testing.T) {
	m, _ := open(t)
	for asked(m) != "username_required" {
		answer(t, m, m.valueOf(m.current))
	}
	answer(t, m, "yes")
	cmd := answer(t, m, "3-20")
	if m.step != stepAdvice || !m.waiting {
		t.Fatalf("a new username rule should validate the sample again: step %d, waiting %v", m.step, m.waiting)
	}
	mustContain(t, m.View(), "username rule 3-20")
	finishSample(t, m, cmd)
	if m.waiting || m.plan == nil {
		t.Fatalf("no plan after the sample: %v", m.planErr)
	}
	if m.sample.rule.Min != 3 || m.sample.rule.Max != 20 || m.plan.Policy.UsernameMin != 3 {
		t.Errorf("rule %v, plan %+v", m.sample.rule, m.plan.Policy)
	}
}

func TestAnotherStrategy(t *testing.T) {
	m, _ := open(t)
	finishDefaults(t, m)
	recommended := m.rec.Strategy
	m.Update(tuitest.Key("o"))
	if m.form == nil || m.formKind != formStrategy {
		t.Fatal("o should offer the strategies")
	}
	other := m.rec.Alternatives[0].Strategy
	m.formValue = string(other)
	m.Update(formDoneMsg{})
	if m.plan.Strategy != other || m.rec.Strategy != recommended {
		t.Fatalf("plan %s, recommendation %s", m.plan.Strategy, m.rec.Strategy)
	}
	mustContain(t, m.View(), "The plan uses "+other.Title()+", as you chose")
}

func TestWithoutWorkspace(t *testing.T) {
	tuitest.Chdir(t)
	m := New(tuitest.Common(nil))
	m.SetSize(78, 21)
	m.Init()
	m.ask(0)
	mustContain(t, m.View(), "without a workspace the advice rests on the answers alone")
	finishDefaults(t, m)
	if m.plan == nil {
		t.Fatal(m.planErr)
	}
	m.Update(tuitest.Key("s"))
	if m.step == stepSaved || !m.flashError {
		t.Error("saving without a workspace should say why it cannot")
	}
}
