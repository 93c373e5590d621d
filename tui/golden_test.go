package tui

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"provision/engine/run"
	"provision/engine/workspace"
	"provision/tui/internal/fakerun"
	"provision/tui/internal/tuitest"
	"provision/tui/pages/runmigration"
)

// step is keys to press, then text to wait for on screen: the last
// thing the step's work draws, so nothing is still pending when the
// screen is compared.
type step struct {
	keys []string
	wait string
}

var sizes = [][2]int{{80, 24}, {120, 40}}

// setup prepares the working directory before the assistant starts.
type setup func(t *testing.T, testdata string)

// The workspaces of the golden tests.
var (
	noWorkspace setup = func(*testing.T, string) {}
	// demoWorkspace has the bundled demo (home screens only: the demo
	// data may grow, and the validate screens must not change with it).
	demoWorkspace setup = func(t *testing.T, _ string) { tuitest.DemoWorkspace(t) }
	// demoRunWorkspace has the demo, migrated: a finished run's journal.
	demoRunWorkspace setup = func(t *testing.T, _ string) { tuitest.DemoRun(t, tuitest.DemoWorkspace(t)) }
	// customersWorkspace has a small legacy export with legacy column
	// names, one mistake of each kind, and three canaries.
	customersWorkspace setup = func(t *testing.T, testdata string) {
		ws, err := workspace.Create(tuitest.WorkspaceDir)
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(testdata, "customers.csv"), filepath.Join(ws.ExportsPath(), "customers.csv"))
		copyFile(t, filepath.Join(testdata, "canaries.csv"), filepath.Join(ws.CredentialsPath(), "canaries.csv"))
	}
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// migration is what the Run migration page runs in the golden tests: the
// demo's story, scripted, so that screens do not depend on timing.
var migration = runmigration.Deps{NewEngine: func(o run.Options) (runmigration.Engine, error) {
	return fakerun.New(o, fakerun.Demo()), nil
}}

// screen runs the assistant as a program at w×h in a fresh directory
// prepared by prep, plays the steps and returns the final screen.
func screen(t *testing.T, w, h int, prep setup, steps ...step) string {
	t.Helper()
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tuitest.Chdir(t)
	prep(t, testdata)
	m := New(context.Background(), Options{Renderer: tuitest.Renderer(), WorkspaceDir: tuitest.WorkspaceDir, Now: tuitest.Clock(), Migration: migration})
	t.Cleanup(m.Shutdown)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	for _, s := range steps {
		for _, k := range s.keys {
			tm.Send(tuitest.Key(k))
		}
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s.wait)) },
			teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return fm.(tea.Model).View()
}

// requireGolden compares the screen with testdata/<test name>.golden
// (go test ./tui -update rewrites them). The screen is made in a subtest
// because it runs in a temporary directory, and the golden files are
// found from the package's.
func requireGolden(t *testing.T, w, h int, prep setup, steps ...step) {
	t.Helper()
	var out string
	t.Run("run", func(t *testing.T) { out = screen(t, w, h, prep, steps...) })
	if t.Failed() {
		return
	}
	golden.RequireEqual(t, []byte(out))
}

func goldenScreens(t *testing.T, prep setup, steps ...step) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			requireGolden(t, sz[0], sz[1], prep, steps...)
		})
	}
}

var (
	// The size is only on the file picker's line (the home page lists
	// the export's name too).
	toValidate = step{[]string{"enter"}, "1.4kB customers.csv"}
	toColumns  = step{[]string{"enter"}, "SOURCE COLUMN"}
	canaries   = step{[]string{"tab", "d"}, "Loaded 3 canaries"}
	toResults  = step{[]string{"r"}, "Findings 7"}
)

func TestGoldenWelcome(t *testing.T) {
	goldenScreens(t, noWorkspace, step{nil, "Continue without a workspace"})
}

func TestGoldenHome(t *testing.T) {
	goldenScreens(t, demoWorkspace, step{nil, "Status & reports"})
}

func TestGoldenHomeFullHelp(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, step{nil, "Status & reports"}, step{[]string{"?"}, "bottom"})
}

// The plan's screens: the sample is validated before the first question
// is compared, so the sample line is the same on every run.
var (
	toPlan = step{[]string{"1", "enter"}, "284 importable"}
	// The answers of a data centre that closes: the legacy store goes
	// offline, the deadline is three weeks away.
	toAdvice = []step{
		{[]string{"k", "enter"}, "Question 2 of 10"},
		{[]string{"enter"}, "Question 3 of 10"},
		{[]string{"enter"}, "Question 4 of 10"},
		{[]string{"enter"}, "How many users are there?"},
		{[]string{"enter"}, "What share of users"},
		{[]string{"enter"}, "decommissioned?"},
		{[]string{"2", "1", "enter"}, "social accounts?"},
		{[]string{"enter"}, "password policy"},
		{[]string{"enter"}, "have a username?"},
		{[]string{"enter"}, "Recommended: Bulk migration"},
	}
)

func TestGoldenPlanQuestion(t *testing.T) {
	goldenScreens(t, demoWorkspace, toPlan)
}

func TestGoldenPlanAnswered(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, append([]step{toPlan}, toAdvice[:6]...)...)
}

func TestGoldenPlanAdvice(t *testing.T) {
	goldenScreens(t, demoWorkspace, append([]step{toPlan}, toAdvice...)...)
}

func TestGoldenPlanAdviceEnd(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, append(append([]step{toPlan}, toAdvice...), step{[]string{"G"}, "o plans with another"})...)
}

func TestGoldenPlanSaved(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, append(append([]step{toPlan}, toAdvice...), step{[]string{"s"}, "Saved the plan"})...)
}

// The run's screens, from the scripted demo run.
var (
	toRun      = step{[]string{"3", "enter"}, "Ready: s imports"}
	toGate     = step{[]string{"s"}, "waits for your approval"}
	toFinished = step{[]string{"a"}, "Finished: 284 inserted"}
)

func TestGoldenRunReady(t *testing.T) {
	goldenScreens(t, demoWorkspace, toRun)
}

func TestGoldenRunGate(t *testing.T) {
	goldenScreens(t, demoWorkspace, toRun, toGate)
}

func TestGoldenRunFinished(t *testing.T) {
	goldenScreens(t, demoWorkspace, toRun, toGate, toFinished)
}

func TestGoldenRunRollbackQuestion(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, toRun, toGate, step{[]string{"b"}, "Roll back stage canary?"})
}

func TestGoldenRunQuitQuestion(t *testing.T) {
	requireGolden(t, 80, 24, demoWorkspace, toRun, toGate, step{[]string{"q"}, "(it resumes later)"})
}

// The status of a real run of the demo, in a sandbox tenant.
var toStatus = step{[]string{"4", "enter"}, "every row in exactly one bucket"}

func TestGoldenStatus(t *testing.T) {
	goldenScreens(t, demoRunWorkspace, toStatus)
}

func TestGoldenStatusQuarantined(t *testing.T) {
	requireGolden(t, 80, 24, demoRunWorkspace, toStatus, step{[]string{"tab", "tab"}, "FINDING CODE"})
}

func TestGoldenStatusExport(t *testing.T) {
	requireGolden(t, 80, 24, demoRunWorkspace, toStatus, step{[]string{"e"}, "Export the reconciliation"})
}

func TestGoldenValidateFile(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate)
}

func TestGoldenValidateColumns(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries)
}

func TestGoldenValidateFieldChooser(t *testing.T) {
	requireGolden(t, 80, 24, customersWorkspace, toValidate, toColumns, step{[]string{"enter"}, "Auth0 field for column"})
}

func TestGoldenValidateCanaryForm(t *testing.T) {
	requireGolden(t, 80, 24, customersWorkspace, toValidate, toColumns,
		step{[]string{"a"}, "┃ Canary email"},
		step{[]string{"a", "@", "x", "enter"}, "┃ Password"},
		step{[]string{"s", "e", "c", "r", "e", "t"}, "******"})
}

func TestGoldenValidateResults(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries, toResults)
}

func TestGoldenValidateFilter(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries, toResults,
		step{[]string{"/", "E", "M", "A", "I", "L", "enter"}, "of 7 findings"})
}

func TestGoldenValidateDetail(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries, toResults,
		step{[]string{"/", "P", "A", "S", "S", "enter", "enter"}, "Row on line"})
}

func TestGoldenValidateCodes(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries, toResults,
		step{[]string{"tab"}, "SEVERITY"})
}

func TestGoldenValidateHashes(t *testing.T) {
	requireGolden(t, 80, 24, customersWorkspace, toValidate, toColumns, canaries, toResults,
		step{[]string{"tab", "tab"}, "HASH ALGORITHM"})
}

func TestGoldenValidateCanaries(t *testing.T) {
	goldenScreens(t, customersWorkspace, toValidate, toColumns, canaries, toResults,
		step{[]string{"shift+tab"}, "CANARY EMAIL"})
}
