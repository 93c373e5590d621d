package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"provision/engine/workspace"
)

// These tests drive `provision serve` with the real OpenSSH client, in
// tmux for the interactive sessions. Every wait polls with a deadline.

const serveWait = 30 * time.Second

// serveBinary builds provision into a temporary directory (the build
// cache makes the second build quick), or skips when the tools the tests
// drive are missing.
func serveBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and drives ssh in tmux")
	}
	for _, tool := range []string{"ssh", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (CI installs it: .ci/run)", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "provision")
	if out, err := exec.Command("go", "build", "-o", bin, "provision/cmd/provision").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command(bin, "serve", "--help").CombinedOutput(); !bytes.Contains(out, []byte("--authorized-keys")) {
		t.Skip("this provision has no serve command (newServeCmd is not on the root command)")
	}
	return bin
}

// lockedBuffer collects a subprocess's output for polling.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// sshLab is a running `provision serve`, keys for two operators and a
// stranger, and a private tmux server for interactive sessions.
type sshLab struct {
	t           *testing.T
	bin, dir    string
	ws          string
	keys        string // authorized_keys
	knownHosts  string
	port        string
	server      *exec.Cmd
	serverLog   *lockedBuffer
	serverDone  chan error
	tmuxSocket  string
	alice, bob  string // private key files
	eve         string // not authorized
	fingerprint map[string]string
	publicKey   map[string]string // base64, as in authorized_keys
}

// writeClientKey writes a new ed25519 private key as OpenSSH does (0600)
// and returns its authorized_keys line and fingerprint.
func writeClientKey(t *testing.T, path, comment string) (line, fp string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pk, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pk))) + " " + comment + "\n", gossh.FingerprintSHA256(pk)
}

func newSSHLab(t *testing.T) *sshLab {
	bin := serveBinary(t)
	dir := t.TempDir()
	l := &sshLab{t: t, bin: bin, dir: dir, ws: filepath.Join(dir, "ws"),
		keys: filepath.Join(dir, "authorized_keys"), knownHosts: filepath.Join(dir, "known_hosts"),
		alice: filepath.Join(dir, "alice"), bob: filepath.Join(dir, "bob"), eve: filepath.Join(dir, "eve"),
		tmuxSocket: fmt.Sprintf("provision-ssh-%d", os.Getpid()), fingerprint: map[string]string{}, publicKey: map[string]string{}}
	if _, err := workspace.InitDemo(l.ws); err != nil {
		t.Fatal(err)
	}
	var authorized string
	for _, k := range []struct{ path, comment string }{{l.alice, "alice@laptop"}, {l.bob, "bob@desk"}, {l.eve, "eve@elsewhere"}} {
		line, fp := writeClientKey(t, k.path, k.comment)
		l.fingerprint[k.path], l.publicKey[k.path] = fp, strings.Fields(line)[1]
		if k.path != l.eve {
			authorized += line
		}
	}
	if err := os.WriteFile(l.keys, []byte(authorized), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", l.tmuxSocket, "kill-server").Run()
		if l.server != nil && l.server.ProcessState == nil {
			l.server.Process.Kill()
			<-l.serverDone
		}
	})
	l.start()
	return l
}

var listeningRE = regexp.MustCompile(`msg="ssh server listening" .*\baddr=127\.0\.0\.1:(\d+)`)

// start runs `provision serve` on a free port and waits until it listens.
func (l *sshLab) start() {
	l.t.Helper()
	l.serverLog = &lockedBuffer{}
	l.server = exec.Command(l.bin, "serve", "--ssh", "127.0.0.1:0", "--authorized-keys", l.keys, "--workspace", l.ws)
	l.server.Stdout, l.server.Stderr = l.serverLog, l.serverLog
	if err := l.server.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.serverDone = make(chan error, 1)
	go func() { l.serverDone <- l.server.Wait() }()
	deadline := time.Now().Add(serveWait)
	for {
		if m := listeningRE.FindStringSubmatch(l.serverLog.String()); m != nil {
			l.port = m[1]
			return
		}
		select {
		case err := <-l.serverDone:
			l.t.Fatalf("provision serve exited: %v\n%s", err, l.serverLog)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("provision serve never listened:\n%s", l.serverLog)
		}
	}
}

// stop interrupts the server, as Ctrl-C does, and waits for it.
func (l *sshLab) stop() {
	l.t.Helper()
	if err := l.server.Process.Signal(os.Interrupt); err != nil {
		l.t.Fatal(err)
	}
	select {
	case err := <-l.serverDone:
		if err != nil {
			l.t.Errorf("provision serve after an interrupt: %v\n%s", err, l.serverLog)
		}
	case <-time.After(serveWait):
		l.t.Fatalf("provision serve did not stop:\n%s", l.serverLog)
	}
}

// sshArgs logs in with key; strict checks the host key against the
// known_hosts file the first login filled. HostKeyAlias keeps that entry
// valid whatever port the server gets.
func (l *sshLab) sshArgs(key string, strict bool, extra ...string) []string {
	check := "no"
	if strict {
		check = "yes"
	}
	args := []string{"-F", "/dev/null", "-p", l.port, "-i", key,
		"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
		"-o", "StrictHostKeyChecking=" + check, "-o", "UserKnownHostsFile=" + l.knownHosts,
		"-o", "HostKeyAlias=provision-e2e", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}
	return append(append(args, extra...), "127.0.0.1")
}

// ssh runs the client without a terminal and returns its output and exit
// status.
func (l *sshLab) ssh(key string, strict bool, command ...string) (stdout, stderr string, status int) {
	l.t.Helper()
	cmd := exec.Command("ssh", append(l.sshArgs(key, strict, "-T"), command...)...)
	cmd.Stdin = nil
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		l.t.Fatalf("ssh: %v", err)
	}
	return out.String(), errOut.String(), status
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func (l *sshLab) tmux(args ...string) string {
	l.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", l.tmuxSocket}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// open starts an interactive ssh session (ssh -tt) in a tmux window of
// the given size; the client's exit status lands in DIR/NAME.exit.
func (l *sshLab) open(name, key string, width, height int, command ...string) {
	l.t.Helper()
	line := "ssh " + shellQuote(append(l.sshArgs(key, false, "-tt"), command...)) +
		fmt.Sprintf("; echo $? > %s; sleep 60", shellQuote([]string{filepath.Join(l.dir, name+".exit")}))
	l.tmux("new-session", "-d", "-s", name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), line)
}

func (l *sshLab) screen(name string) string {
	return l.tmux("capture-pane", "-p", "-t", name)
}

// waitFor polls the session's screen until it shows every text.
func (l *sshLab) waitFor(name string, texts ...string) string {
	l.t.Helper()
	deadline := time.Now().Add(serveWait)
	for {
		screen := l.screen(name)
		missing := ""
		for _, text := range texts {
			if !strings.Contains(screen, text) {
				missing = text
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s: %q never appeared; the screen:\n%s\nserver log:\n%s", name, missing, screen, l.serverLog)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (l *sshLab) send(name string, keys ...string) {
	l.tmux(append([]string{"send-keys", "-t", name}, keys...)...)
}

// exitStatus waits for the ssh client in session name to exit.
func (l *sshLab) exitStatus(name string) string {
	l.t.Helper()
	path := filepath.Join(l.dir, name+".exit")
	deadline := time.Now().Add(serveWait)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	l.t.Fatalf("%s: ssh never exited; the screen:\n%s", name, l.screen(name))
	return ""
}

// waitLog polls the server's log until it holds text.
func (l *sshLab) waitLog(text string) {
	l.t.Helper()
	deadline := time.Now().Add(serveWait)
	for !strings.Contains(l.serverLog.String(), text) {
		if time.Now().After(deadline) {
			l.t.Fatalf("the server log never held %q:\n%s", text, l.serverLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeOverSSH(t *testing.T) {
	l := newSSHLab(t)

	// Without a terminal: status prints and exits, anything else is a
	// one-line usage and status 2.
	out, errOut, st := l.ssh(l.alice, false, "status")
	for _, want := range []string{"workspace  " + l.ws, "exports    demo-users.csv", "journal    none", "SSH sessions: none connected"} {
		if !strings.Contains(out, want) {
			t.Errorf("ssh status lacks %q: status %d\n%s%s", want, st, out, errOut)
		}
	}
	if st != 0 {
		t.Errorf("ssh status: exit %d", st)
	}
	for _, command := range [][]string{nil, {"control"}, {"migrate", "--yes"}} {
		out, errOut, st := l.ssh(l.alice, false, command...)
		if st != 2 || out != "" || !strings.Contains(errOut, "usage: ssh -t HOST") {
			t.Errorf("ssh %v without a terminal: exit %d, stdout %q, stderr %q; want 2 and the usage", command, st, out, errOut)
		}
	}

	// A key that is not authorized is refused, and logged by fingerprint.
	_, errOut, st = l.ssh(l.eve, false, "status")
	if st != 255 || !strings.Contains(errOut, "Permission denied (publickey)") {
		t.Errorf("eve's key: exit %d, %q; want refused", st, errOut)
	}
	l.waitLog(`msg="ssh key refused"`)
	if !strings.Contains(l.serverLog.String(), "key="+l.fingerprint[l.eve]) {
		t.Errorf("the refusal does not name eve's key fingerprint:\n%s", l.serverLog)
	}

	// The first session controls and shows the home screen in its own
	// window size; the second watches, told who controls.
	l.open("alice", l.alice, 120, 40)
	l.waitFor("alice", "● controlling", "What would you like to do?", "Validate data")
	l.open("bob", l.bob, 80, 24)
	screen := l.waitFor("bob", "◌ watching (alice@laptop controls)", "What would you like to do?")
	for i, line := range strings.Split(strings.TrimRight(screen, "\n"), "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("bob's line %d is wider than his 80 columns: %q", i, line)
		}
	}
	l.waitFor("alice", "● controlling · 1 watching")

	// Bob's Run migration page is read-only and says who controls: s
	// starts nothing.
	l.send("bob", "3", "Enter")
	l.waitFor("bob", "Watching: alice@laptop controls this workspace", "○ Ready to import")
	l.send("bob", "s")
	time.Sleep(300 * time.Millisecond)
	if screen := l.waitFor("bob", "○ Ready to import"); strings.Contains(screen, "Connecting") || strings.Contains(screen, "Importing") {
		t.Errorf("bob, watching, started the run:\n%s", screen)
	}
	l.send("bob", "Escape")
	l.waitFor("bob", "What would you like to do?")

	// The assistant works over SSH: alice validates the demo export.
	l.send("alice", "Enter")
	l.waitFor("alice", "Choose the export to validate", "kB demo-users.csv")
	l.send("alice", "Enter")
	l.waitFor("alice", "Loaded 16 canaries")
	l.send("alice", "c")
	l.send("alice", "r")
	l.waitFor("alice", "Findings", "quarantined")

	// Alice's client dies. Bob's session goes on, is told live that
	// nobody controls, and the server still serves.
	l.tmux("kill-session", "-t", "alice")
	l.waitFor("bob", "◌ watching (nobody controls")
	if out, _, _ := l.ssh(l.bob, false, "status"); !strings.Contains(out, "SSH sessions: nobody controls, 1 watching") {
		t.Errorf("status after alice's client died:\n%s", out)
	}

	// Alice reconnects and takes control; bob sees it.
	l.open("alice2", l.alice, 120, 40, "control")
	l.waitFor("alice2", "● controlling · 1 watching")
	l.waitFor("bob", "◌ watching (alice@laptop controls)")
	// Bob takes it over in turn; alice is told.
	l.open("bob2", l.bob, 100, 30, "control")
	l.waitFor("bob2", "● controlling · 2 watching")
	l.waitFor("alice2", "◌ watching (bob@desk took control)")

	// q quits the assistant: the ssh client exits 0; ctrl+c exits 130.
	l.send("bob2", "q")
	if st := l.exitStatus("bob2"); st != "0" {
		t.Errorf("quitting with q: ssh exit %s, want 0", st)
	}
	l.send("alice2", "C-c")
	if st := l.exitStatus("alice2"); st != "130" {
		t.Errorf("quitting with ctrl+c: ssh exit %s, want 130", st)
	}

	// Every session is logged with the user, the address and the key's
	// fingerprint, never the key, in the workspace log and on stderr.
	l.waitLog(`msg="ssh session end"`)
	fileLog, err := os.ReadFile(filepath.Join(l.ws, workspace.LogsDir, workspace.LogFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, log := range map[string]string{"stderr": l.serverLog.String(), "workspace log": string(fileLog)} {
		for _, want := range []string{`msg="ssh session start"`, "user=", "remote=127.0.0.1:", "key=" + l.fingerprint[l.alice], "key=" + l.fingerprint[l.bob]} {
			if !strings.Contains(log, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, log)
			}
		}
		for _, pub := range l.publicKey {
			if strings.Contains(log, pub[20:]) {
				t.Errorf("%s holds a public key, not only its fingerprint", name)
			}
		}
	}

	// The host key was created private, and survives a restart: the
	// client, now checking strictly against what it saw, accepts it.
	hostKey := filepath.Join(l.ws, "ssh", "host_ed25519")
	if st, err := os.Stat(hostKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("host key: %v, %v; want mode 0600", st, err)
	}
	if st, err := os.Stat(filepath.Dir(hostKey)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("host key directory: %v, %v; want mode 0700", st, err)
	}
	l.stop()
	l.waitLog(`msg="ssh server stopped"`)
	l.start()
	if out, errOut, st := l.ssh(l.bob, true, "status"); st != 0 || !strings.Contains(out, "workspace  "+l.ws) {
		t.Errorf("after a restart, with strict host key checking: exit %d\n%s%s", st, out, errOut)
	}
	l.stop()
}

// The migration is the workspace's, not a session's: alice starts it and
// her client dies, the run goes on; bob, who watched it live, takes
// control and lets it through the canary's gate to the end.
func TestServeMigrationOutlivesTheSession(t *testing.T) {
	l := newSSHLab(t)
	l.open("alice", l.alice, 120, 40)
	l.waitFor("alice", "● controlling", "What would you like to do?")
	l.send("alice", "3", "Enter")
	l.waitFor("alice", "○ Ready: s imports")
	l.send("alice", "s")
	l.waitFor("alice", "Stage canary waits for your approval")

	// Bob watches the same run, read-only.
	l.open("bob", l.bob, 120, 40)
	l.waitFor("bob", "◌ watching (alice@laptop controls)", "migration running since")
	l.send("bob", "3", "Enter")
	l.waitFor("bob", "Stage canary waits for your approval", "Watching: alice@laptop controls this workspace")

	// Alice's ssh client is killed: the run waits at its gate still.
	l.tmux("kill-session", "-t", "alice")
	l.waitFor("bob", "◌ watching (nobody controls", "migration running since")
	if out, _, _ := l.ssh(l.bob, false, "status"); !strings.Contains(out, "migration running since") {
		t.Errorf("status after alice's client died shows no run:\n%s", out)
	}

	// Bob takes control in a new session and approves the gate.
	l.open("bob2", l.bob, 120, 40, "control")
	l.waitFor("bob2", "● controlling · 1 watching")
	l.send("bob2", "3", "Enter")
	l.waitFor("bob2", "Stage canary waits for your approval")
	l.send("bob2", "a")
	l.waitFor("bob2", "✓ Finished: 284 inserted")
	l.waitFor("bob", "✓ Finished: 284 inserted")
	l.send("bob2", "q")
	if st := l.exitStatus("bob2"); st != "0" {
		t.Errorf("quitting with q: ssh exit %s, want 0", st)
	}
	l.stop()
}

// serve refuses to start without a usable authorized keys file, saying
// what to do.
func TestServeRefusesWithoutKeys(t *testing.T) {
	bin := serveBinary(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(empty, []byte("# nobody yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"--authorized-keys", empty}, 2, "--ssh ADDR is required"},
		{[]string{"--ssh", "127.0.0.1:0"}, 2, "--authorized-keys FILE is required"},
		{[]string{"--ssh", "127.0.0.1:0", "--authorized-keys", filepath.Join(dir, "missing")}, 1, "does not exist"},
		{[]string{"--ssh", "127.0.0.1:0", "--authorized-keys", empty}, 1, "lists no usable public key"},
	} {
		cmd := exec.Command(bin, append([]string{"serve", "--workspace", filepath.Join(dir, "ws")}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.status || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve %v: %v, %s; want status %d and %q", tc.args, err, out, tc.status, tc.want)
		}
	}
}
