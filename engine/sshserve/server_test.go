package sshserve

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The first session controls, later ones watch and are told who
// controls, `control` takes control over, and `watch` never controls.
func TestRolesAcrossSessions(t *testing.T) {
	f := newFixture(t, nil)
	a := f.open(f.mustDial(f.alice), "")
	a.waitLast(`[controlling controller="alice@laptop"`)

	b := f.open(f.mustDial(f.bob), "")
	b.waitLast(`[watching controller="alice@laptop" taken="" sessions=2 watchers=0`)
	a.waitLast(`sessions=2 watchers=1`)

	c := f.open(f.mustDial(f.carol), "control")
	c.waitLast(`[controlling controller="carol@home" taken="" sessions=3 watchers=2`)
	a.waitLast(`[watching controller="carol@home" taken="carol@home"`)
	b.waitLast(`[watching controller="carol@home" taken=""`)

	// The controlling session leaves: nobody controls, and nobody is
	// handed control without asking for it.
	c.send("q")
	if st := c.wait(); st != 0 {
		t.Errorf("quit: exit status %d, want 0", st)
	}
	a.waitLast(`[watching controller="" taken="carol@home" sessions=2`)
	b.waitLast(`[watching controller="" taken="" sessions=2`)

	w := f.open(f.mustDial(f.carol), "watch")
	w.waitLast(`[watching controller="" taken="" sessions=3`)
	d := f.open(f.mustDial(f.carol), "")
	d.waitLast(`[controlling controller="carol@home" taken="" sessions=4 watchers=3`)

	log := f.log.String()
	for _, want := range []string{
		`msg="ssh session start" session=1 user=ops remote=127.0.0.1:`,
		`key=` + gossh.FingerprintSHA256(f.alice.PublicKey()),
		`msg="ssh session seated"`, `want=control role=controlling`,
		`msg="ssh session end"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	assertNoKeyMaterial(t, log, f.alice, f.bob, f.carol)
}

// assertNoKeyMaterial fails when the log holds a public key itself rather
// than its fingerprint.
func assertNoKeyMaterial(t *testing.T, log string, signers ...gossh.Signer) {
	t.Helper()
	for _, s := range signers {
		b64 := strings.Fields(string(gossh.MarshalAuthorizedKey(s.PublicKey())))[1]
		if strings.Contains(log, b64[20:60]) {
			t.Errorf("log holds a public key, not only its fingerprint:\n%s", log)
		}
	}
}

// A key not in the authorized keys file cannot log in, and the refusal is
// logged with the key's fingerprint.
func TestUnauthorizedKeyRefused(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.dial(f.stranger)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("login with a stranger's key: %v, want an authentication failure", err)
	}
	eventually(t, "the refusal in the log", func() bool {
		return strings.Contains(f.log.String(), `msg="ssh key refused" user=ops remote=127.0.0.1:`)
	})
	log := f.log.String()
	if !strings.Contains(log, "key="+gossh.FingerprintSHA256(f.stranger.PublicKey())) {
		t.Errorf("refusal does not name the key's fingerprint:\n%s", log)
	}
	assertNoKeyMaterial(t, log, f.stranger)
}

// Passwords and keyboard-interactive logins are not offered at all.
func TestOnlyPublicKeys(t *testing.T) {
	f := newFixture(t, nil)
	_, err := gossh.Dial("tcp", f.addr, &gossh.ClientConfig{
		User: "ops",
		Auth: []gossh.AuthMethod{
			gossh.Password("hunter2"),
			gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"hunter2"}, nil }),
		},
		HostKeyCallback: gossh.FixedHostKey(f.hostKey),
	})
	if err == nil || !strings.Contains(err.Error(), "attempted methods [none]") {
		t.Fatalf("password login: %v, want no method but none attempted", err)
	}
}

// fakeSession is a session as the handler sees it, with a chosen key.
type fakeSession struct {
	ssh.Session
	key    ssh.PublicKey
	stderr strings.Builder
	exit   int
}

func (s *fakeSession) PublicKey() ssh.PublicKey { return s.key }
func (s *fakeSession) User() string             { return "ops" }
func (s *fakeSession) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 50000}
}
func (s *fakeSession) Stderr() io.ReadWriter { return rw{&s.stderr} }
func (s *fakeSession) Exit(code int) error   { s.exit = code; return nil }
func (s *fakeSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) {
	return ssh.Pty{}, nil, false
}

type rw struct{ w io.Writer }

func (r rw) Read([]byte) (int, error)    { return 0, io.EOF }
func (r rw) Write(p []byte) (int, error) { return r.w.Write(p) }

// The handler authorizes the key the session proved, never an earlier
// verdict of the key callback (CVE-2024-45337): a client may have been
// told "you may try" for an operator's key it only offered, and then
// logged in with another.
func TestSessionChecksTheProvedKey(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Terminal = func(context.Context, ssh.Session, *Seat) int {
			t.Error("the assistant ran for a session whose key is not authorized")
			return 0
		}
	})
	if !f.srv.allowKey(fakeCtx{}, f.alice.PublicKey()) {
		t.Fatal("alice's key refused by the key callback")
	}
	for name, key := range map[string]ssh.PublicKey{"unauthorized key": f.stranger.PublicKey(), "no key": nil} {
		s := &fakeSession{key: key}
		f.srv.handle(s)
		if s.exit != 1 || !strings.Contains(s.stderr.String(), "provision:") {
			t.Errorf("%s: exit %d, stderr %q; want refused with status 1", name, s.exit, s.stderr.String())
		}
	}
	if n := len(f.srv.Hub().Seats()); n != 0 {
		t.Errorf("%d sessions seated, want none", n)
	}
}

// fakeCtx is enough of an ssh.Context for the key callback.
type fakeCtx struct{ ssh.Context }

func (fakeCtx) User() string         { return "ops" }
func (fakeCtx) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 50000} }

// status works without a terminal, and says who is connected; other uses
// without a terminal get one line of usage and a non-zero status.
func TestCommandsWithoutTerminal(t *testing.T) {
	f := newFixture(t, nil)
	c := f.mustDial(f.alice)
	f.open(f.mustDial(f.bob), "").waitLast("[controlling")

	out, errOut, st := f.run(c, "status")
	if st != 0 || !strings.Contains(out, "workspace  /srv/acme/.provision\n") ||
		!strings.Contains(out, "SSH sessions: bob@desk controls, 0 watching") {
		t.Errorf("status: exit %d, stdout %q, stderr %q", st, out, errOut)
	}
	for _, tc := range []struct {
		command, want string
	}{
		{"", "the assistant needs a terminal"},
		{"control", "the assistant needs a terminal"},
		{"watch", "the assistant needs a terminal"},
		{"rm -rf /", "one command at most"},
		{"shell", `unknown command "shell"`},
	} {
		out, errOut, st := f.run(c, tc.command)
		if st != 2 || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "usage: ssh -t HOST") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want status 2 and %q with the usage", tc.command, st, out, errOut, tc.want)
		}
		if strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "\r") {
			t.Errorf("%q: not one plain line: %q", tc.command, errOut)
		}
	}
	if out, _, st := f.run(c, "help"); st != 0 || !strings.HasPrefix(out, "usage:") {
		t.Errorf("help: exit %d, %q", st, out)
	}
}

// Work started by the controlling session goes on after that session's
// connection drops, and the next session sees it.
func TestWorkOutlivesItsSession(t *testing.T) {
	f := newFixture(t, nil)
	ca := f.mustDial(f.alice)
	a := f.open(ca, "")
	a.waitLast("[controlling")
	a.send("g")
	var job *Job
	select {
	case job = <-f.started:
	case <-time.After(waitLimit):
		t.Fatalf("no job started; output:\n%s", a.text())
	}
	jobCtx := <-f.jobCtx

	ca.Close() // the laptop lid
	eventually(t, "alice's session to end", func() bool { return len(f.srv.Hub().Seats()) == 0 })
	select {
	case <-job.Done():
		t.Fatalf("the work stopped with its session: %v", job.Err())
	case <-jobCtx.Done():
		t.Fatal("the work's context was cancelled with its session")
	default:
	}

	b := f.open(f.mustDial(f.bob), "watch")
	b.waitLast(`jobs="migration by alice@laptop"`)
	b.send("g")
	eventually(t, "a watcher's start to be refused", func() bool {
		return strings.Contains(b.text(), "refused: this session is watching")
	})

	close(f.release)
	if err := job.Err(); err != nil {
		t.Errorf("job: %v", err)
	}
	b.waitLast(`jobs=""`)
}

// Shutting down ends sessions with a word of explanation, and asks
// running work to stop, waiting until it has.
func TestShutdownStopsWorkAtASafePoint(t *testing.T) {
	f := newFixture(t, nil)
	a := f.open(f.mustDial(f.alice), "")
	a.waitLast("[controlling")
	a.send("g")
	job := <-f.started
	if err := f.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case <-job.Done():
	default:
		t.Fatal("Serve returned before the work stopped")
	}
	if !errors.Is(job.Err(), context.Canceled) {
		t.Errorf("job ended with %v, want its context cancelled", job.Err())
	}
	if st := a.wait(); st != 1 {
		t.Errorf("exit status %d, want 1", st)
	}
	if !strings.Contains(a.stderr.String(), "the server is shutting down") {
		t.Errorf("no explanation on stderr: %q", a.stderr.String())
	}
	if _, err := f.dial(f.alice); err == nil {
		t.Error("a login succeeded after shutdown")
	}
}

// A session without input idles out, even while it is shown output.
func TestIdleSessionEnds(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	a := f.open(f.mustDial(f.alice), "")
	a.waitLast("[controlling")
	// Output keeps coming (other sessions joining), input does not.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				s := f.srv.Hub().Join(Who{Name: "x", Fingerprint: "SHA256:x"}, WantWatch)
				s.Leave()
			}
		}
	}()
	st := a.wait()
	close(stop)
	wg.Wait()
	if st != 1 || !strings.Contains(a.stderr.String(), "session closed: no input for too long") {
		t.Errorf("exit %d, stderr %q; want 1 and the reason", st, a.stderr.String())
	}
	if !strings.Contains(a.stderr.String(), "goes on") {
		t.Errorf("the operator is not told their work goes on: %q", a.stderr.String())
	}
}

// Sessions end at the maximum length, input or not.
func TestMaxTimeoutEndsSession(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxTimeout = 300 * time.Millisecond })
	a := f.open(f.mustDial(f.alice), "")
	a.waitLast("[controlling")
	if st := a.wait(); st != 1 || !strings.Contains(a.stderr.String(), "maximum length") {
		t.Errorf("exit %d, stderr %q", st, a.stderr.String())
	}
}

// Removing a key from the file ends that key's live sessions, and new
// keys work without a restart.
func TestAuthorizedKeysChangesApplyLive(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.KeepAlive = 200 * time.Millisecond })
	a := f.open(f.mustDial(f.alice), "")
	a.waitLast("[controlling")
	b := f.open(f.mustDial(f.bob), "")
	b.waitLast("[watching")

	writeFile(t, f.keysFile, authorizedLine(f.bob, "bob@desk")+authorizedLine(f.stranger, "dave@new"), 0o600)
	if st := a.wait(); st != 1 || !strings.Contains(a.stderr.String(), "no longer in the authorized keys") {
		t.Errorf("revoked session: exit %d, stderr %q", st, a.stderr.String())
	}
	b.waitLast(`controller="" taken="" sessions=1`)
	f.open(f.mustDial(f.stranger), "").waitLast(`[controlling controller="dave@new"`)
	if _, err := f.dial(f.alice); err == nil {
		t.Error("a removed key still logs in")
	}
}

// freezableConn stops delivering what the server sends once frozen, as a
// connection to a sleeping laptop does.
type freezableConn struct {
	net.Conn
	mu     sync.Mutex
	frozen bool
	thaw   chan struct{}
}

func (c *freezableConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	frozen := c.frozen
	c.mu.Unlock()
	if frozen {
		<-c.thaw
		return 0, io.EOF
	}
	return c.Conn.Read(p)
}

func (c *freezableConn) freeze() {
	c.mu.Lock()
	c.frozen = true
	c.mu.Unlock()
}

// A client that stops answering loses its session, and with it control,
// long before the idle timeout.
func TestUnresponsiveClientDropped(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.KeepAlive = 50 * time.Millisecond })
	raw, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	fc := &freezableConn{Conn: raw, thaw: make(chan struct{})}
	t.Cleanup(func() { close(fc.thaw); raw.Close() })
	conn, chans, reqs, err := gossh.NewClientConn(fc, f.addr, &gossh.ClientConfig{
		User: "ops", Auth: []gossh.AuthMethod{gossh.PublicKeys(f.alice)}, HostKeyCallback: gossh.FixedHostKey(f.hostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := f.open(gossh.NewClient(conn, chans, reqs), "")
	a.waitLast("[controlling")
	fc.freeze()
	eventually(t, "the silent client's session to end", func() bool { return len(f.srv.Hub().Seats()) == 0 })
	eventually(t, "the reason in the log", func() bool {
		return strings.Contains(f.log.String(), `reason="the client stopped answering"`)
	})
}

// The host key is created once and reused: a restarted server has the
// same identity.
func TestHostKeyPersistsAcrossRestarts(t *testing.T) {
	f := newFixture(t, nil)
	first := f.srv.HostKeyFingerprint()
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{AuthorizedKeysFile: f.keysFile, HostKeyFile: filepath.Join(f.dir, "ssh", HostKeyFile),
		Terminal: f.terminal, Status: func(io.Writer, *Hub) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.HostKeyFingerprint(); got != first {
		t.Errorf("host key changed across restarts: %s, then %s", first, got)
	}
}

// Startup refuses what would leave a server nobody can log in to, or
// anybody.
func TestNewRefusesBadSetups(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	hostKey := filepath.Join(dir, "ssh", HostKeyFile)
	base := Config{AuthorizedKeysFile: keys, HostKeyFile: hostKey,
		Terminal: func(context.Context, ssh.Session, *Seat) int { return 0 }, Status: func(io.Writer, *Hub) error { return nil }}

	if _, err := New(base); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing authorized keys: %v", err)
	}
	writeFile(t, keys, "# nobody yet\n\n", 0o600)
	if _, err := New(base); err == nil || !strings.Contains(err.Error(), "lists no usable public key") {
		t.Errorf("no keys: %v", err)
	}
	if _, err := os.Stat(hostKey); err == nil {
		t.Error("a host key was created although startup failed on the keys")
	}
	writeFile(t, keys, authorizedLine(newSigner(t), "alice"), 0o666)
	if _, err := New(base); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("world-writable authorized keys: %v", err)
	}
	writeFile(t, keys, authorizedLine(newSigner(t), "alice"), 0o644)
	if _, err := New(base); err != nil {
		t.Fatalf("a good setup: %v", err)
	}
	if err := os.Chmod(hostKey, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(base); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable host key: %v", err)
	}
}
