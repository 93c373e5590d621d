package tui

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

var (
	binOnce  sync.Once
	binDir   string
	binPath  string
	binErr   error
	binWired bool
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildProvision builds the real binary once for the package's tests,
// or skips when the command is not yet wired to the assistant (no
// --workspace flag).
func buildProvision(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "provision-bin-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "provision")
		out, err := exec.Command("go", "build", "-o", binPath, "provision/cmd/provision").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		help, _ := exec.Command(binPath, "--help").CombinedOutput()
		binWired = bytes.Contains(help, []byte("--workspace"))
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	if !binWired {
		t.Skip("provision does not open the assistant yet (no --workspace flag)")
	}
	return binPath
}

// Without a terminal, provision prints a short status and exits 0 at
// once rather than waiting for keys that never come.
func TestNoTerminalPrintsStatus(t *testing.T) {
	bin := buildProvision(t)
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
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

// tmux drives the binary in a real terminal on a private server.
type tmux struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	x := &tmux{t: t, socket: fmt.Sprintf("provision-%d-%s", os.Getpid(), t.Name())}
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

// waitFor polls the screen until it shows text.
func (x *tmux) waitFor(session, text string) string {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = x.run("capture-pane", "-p", "-t", session)
		if strings.Contains(screen, text) {
			return screen
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("%q never appeared; the screen:\n%s", text, screen)
	return ""
}

func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never written", path)
	return ""
}

// The whole demo in a real terminal: set up the demo workspace, validate
// its export, read the results, quit.
func TestDemoInTmux(t *testing.T) {
	bin := buildProvision(t)
	x := newTmux(t)
	dir := t.TempDir()
	exit := filepath.Join(dir, "exit")
	x.run("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", "-c", dir,
		fmt.Sprintf("%s; echo $? > %s; sleep 5", bin, exit))

	x.waitFor("demo", "Set up the demo workspace")
	x.run("send-keys", "-t", "demo", "Enter")
	x.waitFor("demo", "What would you like to do?")
	x.run("send-keys", "-t", "demo", "Enter")
	x.waitFor("demo", "kB demo-users.csv")
	x.run("send-keys", "-t", "demo", "Enter")
	x.waitFor("demo", "Loaded 16 canaries")
	x.run("send-keys", "-t", "demo", "c") // the Argon2 and scrypt canaries take seconds
	x.run("send-keys", "-t", "demo", "r")
	screen := x.waitFor("demo", "Findings")
	for _, want := range []string{"valid", "quarantined", "By code", "Hashes"} {
		if !strings.Contains(screen, want) {
			t.Errorf("results lack %q:\n%s", want, screen)
		}
	}
	for i, l := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line %d wider than the terminal: %q", i, l)
		}
	}
	x.run("send-keys", "-t", "demo", "q")
	if code := waitFile(t, exit); code != "0" {
		t.Errorf("exit status %s, want 0", code)
	}
	if st, err := os.Stat(filepath.Join(dir, ".provision", "exports", "demo-users.csv")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("demo export: %v, %v", st, err)
	}
}

// ctrl+c ends the assistant with exit status 130.
func TestInterruptExitStatus(t *testing.T) {
	bin := buildProvision(t)
	x := newTmux(t)
	dir := t.TempDir()
	exit := filepath.Join(dir, "exit")
	x.run("new-session", "-d", "-s", "intr", "-x", "80", "-y", "24", "-c", dir,
		fmt.Sprintf("%s; echo $? > %s; sleep 5", bin, exit))
	x.waitFor("intr", "Welcome to provision")
	x.run("send-keys", "-t", "intr", "C-c")
	if code := waitFile(t, exit); code != "130" {
		t.Errorf("exit status %s, want 130", code)
	}
}
