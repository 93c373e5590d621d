package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"provision/engine/workspace"
	"provision/tui/common"
	"provision/tui/internal/tuitest"
)

// newApp returns the assistant at w×h in a fresh directory, with the
// demo workspace when demo is set.
func newApp(t *testing.T, w, h int, demo bool) *Model {
	t.Helper()
	tuitest.Chdir(t)
	if demo {
		tuitest.DemoWorkspace(t)
	}
	m := New(context.Background(), Options{Renderer: tuitest.Renderer(), WorkspaceDir: tuitest.WorkspaceDir, Now: tuitest.Clock()})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// send delivers msg and then every message its commands produce, except
// those that wait on time (cursor blinks) or end the program.
func send(m *Model, msg tea.Msg) tea.Cmd {
	_, cmd := m.Update(msg)
	return cmd
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestStartsOnWelcomeWithoutWorkspace(t *testing.T) {
	m := newApp(t, 80, 24, false)
	if m.Current() != common.PageWelcome {
		t.Fatalf("page = %s, want Welcome", m.Current().Title())
	}
	v := m.View()
	for _, want := range []string{"Set up the demo workspace", ".provision (not set up)"} {
		if !strings.Contains(v, want) {
			t.Errorf("welcome lacks %q:\n%s", want, v)
		}
	}
	// enter on the first choice sets up the demo, then shows home.
	cmd := send(m, tuitest.Key("enter"))
	msg := cmd()
	if _, ok := msg.(common.WorkspaceReadyMsg); !ok {
		// The welcome page first reports the set-up, then the root hears of it.
		msg = send(m, msg)()
	}
	send(m, msg)
	if m.Current() != common.PageHome || m.Common().Workspace == nil {
		t.Fatalf("after the demo set-up: page %s, workspace %v", m.Current().Title(), m.Common().Workspace)
	}
	if !workspace.Exists(tuitest.WorkspaceDir) {
		t.Error("no workspace directory")
	}
	if v := m.View(); !strings.Contains(v, "(demo)") || !strings.Contains(v, "demo-users.csv") {
		t.Errorf("home should show the demo workspace:\n%s", v)
	}
}

func TestHomeEntries(t *testing.T) {
	m := newApp(t, 80, 24, true)
	v := m.View()
	last := -1
	for _, want := range []string{"Plan a rollout", "Validate data", "Run migration", "Status & reports"} {
		i := strings.Index(v, want)
		if i < 0 || i < last {
			t.Errorf("home entry %q missing or out of order:\n%s", want, v)
		}
		last = i
	}
}

// runAll runs a command and feeds what it sends back, except what waits
// on time (cursor blinks) or on a run; enough for navigation.
func runAll(m *Model, cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 6 {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(200 * time.Millisecond):
		return
	}
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			runAll(m, c, depth+1)
		}
	default:
		runAll(m, send(m, msg), depth+1)
	}
}

func TestNavigation(t *testing.T) {
	m := newApp(t, 80, 24, true)
	if m.Current() != common.PageHome {
		t.Fatalf("page = %s, want Home", m.Current().Title())
	}
	// Validate data is preselected; k moves up to Plan a rollout.
	send(m, tuitest.Key("k"))
	runAll(m, send(m, tuitest.Key("enter")), 0)
	if m.Current() != common.PagePlan {
		t.Fatalf("page = %s, want Plan a rollout", m.Current().Title())
	}
	if v := m.View(); !strings.Contains(v, "● Questions") || !strings.Contains(v, "› Plan a rollout") {
		t.Errorf("plan page:\n%s", v)
	}
	runAll(m, send(m, tuitest.Key("esc")), 0)
	if m.Current() != common.PageHome {
		t.Fatalf("esc: page = %s, want Home", m.Current().Title())
	}
	// Every entry opens its page.
	wants := map[common.PageID]string{
		common.PagePlan:     "Question 1 of",
		common.PageValidate: "Choose the export to validate",
		common.PageRun:      "Ready: s imports the users",
		common.PageStatus:   "No run yet",
	}
	for i, id := range []common.PageID{common.PagePlan, common.PageValidate, common.PageRun, common.PageStatus} {
		send(m, tuitest.Key(string(rune('1'+i))))
		runAll(m, send(m, tuitest.Key("enter")), 0)
		if m.Current() != id {
			t.Errorf("entry %d opened %s, want %s", i+1, m.Current().Title(), id.Title())
		}
		if v := m.View(); !strings.Contains(v, wants[id]) {
			t.Errorf("%s lacks %q:\n%s", id.Title(), wants[id], v)
		}
		// esc leaves the page (the plan's first question goes back too).
		runAll(m, send(m, tuitest.Key("esc")), 0)
		if m.Current() != common.PageHome {
			t.Errorf("esc from %s: page %s", id.Title(), m.Current().Title())
		}
	}
}

func TestFastTypedKeysAreTakenOneByOne(t *testing.T) {
	m := newApp(t, 80, 24, true)
	// Validate data is selected; "jj" read as one message moves twice.
	send(m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj")})
	send(m, send(m, tuitest.Key("enter"))())
	if m.Current() != common.PageStatus {
		t.Errorf("page = %s, want Status & reports", m.Current().Title())
	}
}

func TestHelpToggle(t *testing.T) {
	m := newApp(t, 80, 24, true)
	short := m.View()
	send(m, tuitest.Key("?"))
	full := m.View()
	if full == short || !strings.Contains(full, "top") {
		t.Errorf("? should show the full help:\n%s", full)
	}
	if n := strings.Count(full, "\n") + 1; n != 24 {
		t.Errorf("view is %d lines, want 24", n)
	}
	send(m, tuitest.Key("?"))
	if m.View() != short {
		t.Error("? again should hide the full help")
	}
}

// busyPage stands in for a page whose work is running.
type busyPage struct{ running bool }

func (p *busyPage) Init() tea.Cmd                       { return nil }
func (p *busyPage) Update(tea.Msg) (tea.Model, tea.Cmd) { return p, nil }
func (p *busyPage) View() string                        { return "busy" }
func (p *busyPage) SetSize(int, int)                    {}
func (p *busyPage) ShortHelp() []key.Binding            { return nil }
func (p *busyPage) FullHelp() [][]key.Binding           { return nil }
func (p *busyPage) Busy() (bool, string)                { return p.running, "the test run" }

func TestQuitAsksWhileBusy(t *testing.T) {
	m := newApp(t, 80, 24, true)
	page := &busyPage{running: true}
	m.pages[common.PageRun] = page

	if cmd := send(m, tuitest.Key("q")); isQuit(cmd) || !m.Confirming() {
		t.Fatal("q while busy should ask first")
	}
	if v := m.View(); !strings.Contains(v, "Stop the test run and quit?") {
		t.Errorf("no question:\n%s", v)
	}
	if cmd := send(m, tuitest.Key("n")); isQuit(cmd) || m.Confirming() {
		t.Fatal("n should keep going")
	}
	send(m, tuitest.Key("q"))
	if cmd := send(m, tuitest.Key("y")); !isQuit(cmd) {
		t.Fatal("y should quit")
	}
	if m.Interrupted() {
		t.Error("q is not an interrupt")
	}

	// Not busy: q quits at once.
	m = newApp(t, 80, 24, true)
	if cmd := send(m, tuitest.Key("q")); !isQuit(cmd) {
		t.Error("q should quit when nothing runs")
	}
}

func TestInterrupt(t *testing.T) {
	m := newApp(t, 80, 24, true)
	if cmd := send(m, tuitest.Key("ctrl+c")); !isQuit(cmd) || !m.Interrupted() {
		t.Error("ctrl+c should quit as interrupted")
	}
	m = newApp(t, 80, 24, true)
	m.pages[common.PageRun] = &busyPage{running: true}
	if cmd := send(m, tuitest.Key("ctrl+c")); isQuit(cmd) || !m.Confirming() {
		t.Fatal("ctrl+c while busy should ask first")
	}
	if cmd := send(m, tuitest.Key("ctrl+c")); !isQuit(cmd) || !m.Interrupted() {
		t.Error("a second ctrl+c should quit as interrupted")
	}
}

// stoppingPage stands in for a page whose run pauses before quitting.
type stoppingPage struct {
	busyPage
	stopped bool
}

func (p *stoppingPage) Stop() tea.Cmd {
	p.stopped = true
	return nil
}

func TestQuitPausesTheRunFirst(t *testing.T) {
	m := newApp(t, 80, 24, true)
	page := &stoppingPage{busyPage: busyPage{running: true}}
	m.pages[common.PageRun] = page
	send(m, tuitest.Key("q"))
	if v := m.View(); !strings.Contains(v, "Pause the test run and quit? (it resumes later)") {
		t.Errorf("no question:\n%s", v)
	}
	if cmd := send(m, tuitest.Key("y")); isQuit(cmd) || !page.stopped {
		t.Fatal("y should pause the run before quitting")
	}
	if v := m.View(); !strings.Contains(v, "Pausing the test run safely before quitting") {
		t.Errorf("no word of the pause:\n%s", v)
	}
	if cmd := send(m, tuitest.Key("q")); isQuit(cmd) {
		t.Fatal("keys wait while the run pauses")
	}
	if cmd := send(m, common.StoppedMsg{}); !isQuit(cmd) {
		t.Fatal("quit once the run has paused")
	}

	// ctrl+c while pausing quits at once.
	m = newApp(t, 80, 24, true)
	m.pages[common.PageRun] = &stoppingPage{busyPage: busyPage{running: true}}
	send(m, tuitest.Key("q"))
	send(m, tuitest.Key("y"))
	if cmd := send(m, tuitest.Key("ctrl+c")); !isQuit(cmd) || !m.Interrupted() {
		t.Error("ctrl+c while pausing should quit at once")
	}
}

// typingPage stands in for a page with its filter open.
type typingPage struct {
	busyPage
	typed string
}

func (p *typingPage) Capturing() bool { return true }
func (p *typingPage) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		p.typed += k.String()
	}
	return p, nil
}

func TestTypingPageGetsQuitAndHelpKeys(t *testing.T) {
	m := newApp(t, 80, 24, true)
	page := &typingPage{}
	m.pages[common.PageRun] = page
	send(m, common.NavigateMsg{To: common.PageRun})
	for _, k := range []string{"q", "?"} {
		if cmd := send(m, tuitest.Key(k)); isQuit(cmd) {
			t.Fatalf("%s quit while the page takes typing", k)
		}
	}
	if page.typed != "q?" || m.showAll {
		t.Errorf("page got %q, full help %v", page.typed, m.showAll)
	}
	// ctrl+c still reaches the root.
	if cmd := send(m, tuitest.Key("ctrl+c")); !isQuit(cmd) {
		t.Error("ctrl+c should quit even while typing")
	}
}

func TestResizeKeepsFrame(t *testing.T) {
	m := newApp(t, 120, 40, true)
	for _, size := range [][2]int{{120, 40}, {80, 24}, {100, 30}, {60, 16}, {80, 24}} {
		send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if w := len([]rune(l)); w > size[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
			}
		}
	}
}

// Every page keeps the frame at any size: as many lines as the terminal
// has, none wider.
func TestEveryPageFitsAnySize(t *testing.T) {
	m := newApp(t, 80, 24, true)
	t.Cleanup(m.Shutdown)
	for i, id := range []common.PageID{common.PagePlan, common.PageValidate, common.PageRun, common.PageStatus} {
		send(m, tuitest.Key(string(rune('1'+i))))
		runAll(m, send(m, tuitest.Key("enter")), 0)
		if m.Current() != id {
			t.Fatalf("opened %s, want %s", m.Current().Title(), id.Title())
		}
		for _, size := range [][2]int{{120, 40}, {80, 24}, {100, 30}, {60, 16}, {80, 24}} {
			send(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %dx%d: %d lines", id.Title(), size[0], size[1], len(lines))
			}
			for j, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d wide: %q", id.Title(), size[0], size[1], j, w, l)
				}
			}
		}
		runAll(m, send(m, tuitest.Key("esc")), 0)
	}
}
