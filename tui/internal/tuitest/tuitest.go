// Package tuitest has helpers for the assistant's tests: a colourless
// renderer, a fixed clock, keys, and a demo workspace in a temporary
// directory.
package tuitest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"provision/engine/plan"
	"provision/engine/run"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target/auth0"
	"provision/engine/upload"
	"provision/engine/validate"
	"provision/engine/workspace"
	"provision/fixtures"
	"provision/storage"
	"provision/tui/common"
)

// Renderer draws without colour on a dark background, so views compare
// as plain text. It also sets the global profile, for the few bubbles
// internals that draw with it.
func Renderer() *lipgloss.Renderer {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// Clock returns start on its first call and start+1.5s on every later
// one, so a run's duration and rate read the same on every machine.
func Clock() func() time.Time {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	return func() time.Time {
		if calls.Add(1) == 1 {
			return start
		}
		return start.Add(1500 * time.Millisecond)
	}
}

// WorkspaceDir is the workspace the tests use, relative to the
// temporary working directory.
const WorkspaceDir = ".provision"

// Chdir moves the test into a fresh directory, so paths on screen are
// short and the same on every machine.
func Chdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

// CheapCanaries are three demo canaries whose hashes verify in
// milliseconds (md5, sha1, and a bcrypt cost 10 with a wrong password),
// so tests need not wait for Argon2 and scrypt.
var CheapCanaries = []string{"rohan.mishra69@daak.example", "jessica470@post.example", "mkowalska@inbox.example"}

// DemoWorkspace sets up the demo workspace in the current directory,
// with the canary file cut down to CheapCanaries.
func DemoWorkspace(t *testing.T) *workspace.Workspace {
	t.Helper()
	ws, err := workspace.InitDemo(WorkspaceDir)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for i, line := range strings.Split(strings.TrimSpace(string(fixtures.DemoCredentials)), "\n") {
		for _, e := range CheapCanaries {
			if i == 0 || strings.HasPrefix(line, e+",") {
				keep = append(keep, line)
				break
			}
		}
	}
	if err := os.WriteFile(ws.DemoCredentialsPath(), []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ws
}

// Common returns a shared context on the test renderer and clock.
func Common(ws *workspace.Workspace) *common.Common {
	c := common.New(context.Background(), Renderer(), WorkspaceDir, ws, nil)
	c.Now = Clock()
	return c
}

// Key returns the message for a key: "enter", "esc", "tab", "up",
// "down", "ctrl+c", or text typed as runes.
func Key(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// DemoExport is the path of the demo export in the test workspace.
func DemoExport() string {
	return filepath.Join(WorkspaceDir, workspace.ExportsDir, workspace.DemoExportName)
}

// DemoJournalTarget is the target a DemoRun records: the sandbox's usual
// address rather than the test server's random port, so screens that show
// it are the same on every run.
const DemoJournalTarget = "auth0:http://127.0.0.1:8787"

// DemoRun migrates the demo workspace's export into a fresh sandbox tenant
// in stages canary:25:approve,rest, approving the canary, and leaves the
// finished run's journal in the workspace.
func DemoRun(t *testing.T, ws *workspace.Workspace) {
	t.Helper()
	base, srv := sandboxtest.Start(t, sandbox.Config{})
	ep, err := auth0.ParseTargetSpec("auth0:" + base)
	if err != nil {
		t.Fatal(err)
	}
	client, err := auth0.New(auth0.Config{
		Endpoint:     ep,
		Credentials:  auth0.Credentials{ClientID: srv.ClientID(), ClientSecret: auth0.Secret(srv.ClientSecret())},
		ConnectionID: srv.ConnectionID(),
	})
	if err != nil {
		t.Fatal(err)
	}
	stages, err := plan.ParseStages("canary:25:approve,rest")
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan run.Event, 64)
	go func() {
		for range events {
		}
	}()
	defer close(events)
	eng, err := run.New(run.Options{
		Journal: ws.JournalPath(), Source: ws.DemoExportPath(), Target: client,
		Validate: validate.Options{Username: validate.DefaultUsernamePolicy},
		Settings: storage.RunSettings{Target: DemoJournalTarget, ConnectionID: srv.ConnectionID(), StageSpec: "canary:25:approve,rest"},
		Stages:   stages, Approve: "canary", Operator: "tester",
		Poll:   upload.PollPolicy{Initial: 2 * time.Millisecond, Min: 2 * time.Millisecond, Max: 20 * time.Millisecond},
		Verify: run.VerifyOptions{Disabled: true},
		Events: events,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.State != run.StateFinished {
		t.Fatalf("the demo run ended %s: %s", res.State, res.Reason)
	}
}

// FixedZone makes times print in UTC, so screens that show a clock are
// the same in every time zone.
func FixedZone() { time.Local = time.UTC }
