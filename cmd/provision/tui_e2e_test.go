package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The assistant end to end: the real binary in a real terminal (tmux,
// on a private server), driven with send-keys and read with
// capture-pane, as an operator would use it.

var (
	e2eOnce sync.Once
	e2eBin  string
	e2eErr  error
)

// e2eBinary builds provision once for the package's end-to-end tests.
func e2eBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and drives it in a terminal")
	}
	e2eOnce.Do(func() {
		dir, err := os.MkdirTemp("", "provision-e2e-")
		if err != nil {
			e2eErr = err
			return
		}
		e2eBin = filepath.Join(dir, "provision")
		if out, err := exec.Command("go", "build", "-o", e2eBin, ".").CombinedOutput(); err != nil {
			e2eErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if e2eErr != nil {
		t.Fatal(e2eErr)
	}
	return e2eBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if e2eBin != "" {
		os.RemoveAll(filepath.Dir(e2eBin))
	}
	os.Exit(code)
}

// Without a terminal, provision prints a short status and exits 0 at
// once rather than waiting for keys that never come.
func TestNoTerminalPrintsStatus(t *testing.T) {
	bin := e2eBinary(t)
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Stdin = nil // /dev/null
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("provision without a terminal did not return")
	}
	if err != nil {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for _, want := range []string{"no terminal", ".provision", "provision validate"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// tmux is a private tmux server for one test.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: the end-to-end tests drive the binary in a tmux terminal (CI installs it)")
	}
	x := &tmux{t: t, socket: fmt.Sprintf("provision-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
	t.Cleanup(func() { exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	return x
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs the binary in a new 80×24 session in dir; its exit status
// is written to dir/name.exit.
func (x *tmux) start(name, dir, bin string) string {
	x.t.Helper()
	exit := filepath.Join(dir, name+".exit")
	os.Remove(exit)
	x.run("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", dir,
		fmt.Sprintf("%s; echo $? > %s; sleep 30", bin, exit))
	return exit
}

func (x *tmux) keys(session string, keys ...string) {
	x.t.Helper()
	for _, k := range keys {
		x.run("send-keys", "-t", session, k)
	}
}

// waitFor polls the screen until it shows text, and checks that no line
// is wider than the terminal.
func (x *tmux) waitFor(session, text string) string {
	x.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = x.run("capture-pane", "-p", "-t", session)
		if strings.Contains(screen, text) {
			for i, l := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
				if len([]rune(l)) > 80 {
					x.t.Errorf("line %d wider than the terminal: %q", i, l)
				}
			}
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("%q never appeared; the screen:\n%s", text, screen)
	return ""
}

func waitExit(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never written: the program did not end", path)
	return ""
}

func mustShow(t *testing.T, screen string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(screen, w) {
			t.Errorf("the screen lacks %q:\n%s", w, screen)
		}
	}
}

// The whole demo: set up the demo workspace, validate its export, run a
// staged migration into the built-in sandbox (approving the canary's
// gate), quit, reopen and find the finished run and its reconciliation.
func TestDemoInTmux(t *testing.T) {
	bin := e2eBinary(t)
	x := newTmux(t)
	dir := t.TempDir()
	exit := x.start("demo", dir, bin)

	x.waitFor("demo", "Set up the demo workspace")
	x.keys("demo", "Enter")
	x.waitFor("demo", "What would you like to do?")

	// Validate data (selected on a fresh workspace).
	x.keys("demo", "Enter")
	x.waitFor("demo", "kB demo-users.csv")
	x.keys("demo", "Enter")
	x.waitFor("demo", "Loaded 16 canaries")
	x.keys("demo", "c") // the Argon2 and scrypt canaries take seconds
	x.keys("demo", "r")
	screen := x.waitFor("demo", "Findings")
	mustShow(t, screen, "valid", "quarantined", "By code", "Hashes")
	x.keys("demo", "Escape", "Escape", "Escape")
	x.waitFor("demo", "What would you like to do?")

	// Run migration: the canary waits at its gate, a lets it through.
	x.keys("demo", "3", "Enter")
	x.waitFor("demo", "Ready: s imports the users of exports/demo-users.csv")
	x.keys("demo", "s")
	screen = x.waitFor("demo", "Stage canary waits for your approval")
	mustShow(t, screen, "! approval", "25/25", "built-in sandbox")
	x.keys("demo", "a")
	// The header and the stage's row change on two events: wait for both.
	x.waitFor("demo", "Importing stage rest")
	x.waitFor("demo", "● importing")
	screen = x.waitFor("demo", "Finished: 284 inserted, 0 updated, 0 failed; 13 quarantined, 3 skipped")
	mustShow(t, screen, "259/259")
	x.keys("demo", "q")
	if code := waitExit(t, exit); code != "0" {
		t.Fatalf("exit status %s, want 0", code)
	}
	for _, f := range []string{"journal.db", "exports/demo-users.csv", "sandbox"} {
		if _, err := os.Stat(filepath.Join(dir, ".provision", f)); err != nil {
			t.Error(err)
		}
	}

	// Reopened: the finished run is there, and reconciled.
	x.run("kill-session", "-t", "demo")
	exit = x.start("again", dir, bin)
	x.waitFor("again", "What would you like to do?")
	x.keys("again", "3", "Enter")
	x.waitFor("again", "Finished: 284 inserted")
	x.keys("again", "Escape", "4", "Enter")
	screen = x.waitFor("again", "every row in exactly one bucket")
	mustShow(t, screen, "The run is finished", "inserted", "284", "source rows", "300")
	x.keys("again", "q")
	if code := waitExit(t, exit); code != "0" {
		t.Errorf("exit status %s, want 0", code)
	}
}

// q during a run asks, pauses the run safely and quits; the next session
// finds it stopped at the canary's gate and finishes it.
func TestQuitDuringARunResumesInTmux(t *testing.T) {
	bin := e2eBinary(t)
	x := newTmux(t)
	dir := t.TempDir()
	exit := x.start("run", dir, bin)
	x.waitFor("run", "Set up the demo workspace")
	x.keys("run", "Enter")
	x.waitFor("run", "What would you like to do?")
	x.keys("run", "3", "Enter")
	x.waitFor("run", "Ready: s imports")
	x.keys("run", "s")
	x.waitFor("run", "Stage canary waits for your approval")
	x.keys("run", "q")
	x.waitFor("run", "Pause the migration and quit?")
	x.keys("run", "y")
	if code := waitExit(t, exit); code != "0" {
		t.Fatalf("exit status %s, want 0", code)
	}

	x.run("kill-session", "-t", "run")
	exit = x.start("resume", dir, bin)
	x.waitFor("resume", "What would you like to do?")
	x.keys("resume", "3", "Enter")
	screen := x.waitFor("resume", "stopped at the gate of stage canary")
	mustShow(t, screen, "a approves it")
	x.keys("resume", "a")
	x.waitFor("resume", "resumed from the journal")
	x.waitFor("resume", "Finished: 284 inserted")
	x.keys("resume", "q")
	if code := waitExit(t, exit); code != "0" {
		t.Errorf("exit status %s, want 0", code)
	}
}

// ctrl+c ends the assistant with exit status 130.
func TestInterruptExitStatus(t *testing.T) {
	bin := e2eBinary(t)
	x := newTmux(t)
	dir := t.TempDir()
	exit := x.start("intr", dir, bin)
	x.waitFor("intr", "Welcome to provision")
	x.keys("intr", "C-c")
	if code := waitExit(t, exit); code != "130" {
		t.Errorf("exit status %s, want 130", code)
	}
}
