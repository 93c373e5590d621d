package sshserve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// waitLimit bounds every wait in these tests; conditions are polled, so a
// passing test takes only as long as the behaviour it checks.
const waitLimit = 15 * time.Second

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// authorizedLine is the authorized_keys line for s with comment.
func authorizedLine(s gossh.Signer, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment + "\n"
}

func writeFile(t testing.TB, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a running server with two authorized operators, alice and
// bob, and one stranger whose key is not listed.
type fixture struct {
	t        *testing.T
	srv      *Server
	addr     string
	dir      string
	keysFile string
	hostKey  gossh.PublicKey
	log      *syncBuffer

	alice, bob, carol, stranger gossh.Signer

	cancel context.CancelFunc
	served chan error

	// release ends the work the fake assistant starts (key g).
	release chan struct{}
	// started receives each job the fake assistant starts.
	started chan *Job
	// jobCtx is the context the latest job ran with.
	jobCtx chan context.Context
}

func newFixture(t *testing.T, tweak func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), log: &syncBuffer{},
		alice: newSigner(t), bob: newSigner(t), carol: newSigner(t), stranger: newSigner(t),
		release: make(chan struct{}), started: make(chan *Job, 4), jobCtx: make(chan context.Context, 4)}
	f.keysFile = filepath.Join(f.dir, "authorized_keys")
	writeFile(t, f.keysFile, authorizedLine(f.alice, "alice@laptop")+authorizedLine(f.bob, "bob@desk")+authorizedLine(f.carol, "carol@home"), 0o600)
	cfg := Config{
		Addr:               "127.0.0.1:0",
		AuthorizedKeysFile: f.keysFile,
		HostKeyFile:        filepath.Join(f.dir, "ssh", HostKeyFile),
		Terminal:           f.terminal,
		Status: func(w io.Writer, hub *Hub) error {
			_, err := fmt.Fprintf(w, "workspace  /srv/acme/.provision\n%s\n", SessionsLine(hub.Seats()))
			return err
		},
		Log: slog.New(slog.NewTextHandler(f.log, nil)),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	pub, err := os.ReadFile(cfg.HostKeyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if f.hostKey, _, _, _, err = gossh.ParseAuthorizedKey(pub); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.served = cancel, make(chan error, 1)
	go func() { f.served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		select {
		case <-f.release:
		default:
			close(f.release)
		}
		f.stop()
	})
	return f
}

// stop shuts the server down and waits for Serve to return.
func (f *fixture) stop() error {
	f.cancel()
	select {
	case err := <-f.served:
		f.served <- err // for a second stop
		return err
	case <-time.After(waitLimit):
		f.t.Fatal("Serve did not return after shutdown")
		return nil
	}
}

// terminal is a stand-in for the assistant: it prints the seat's view
// whenever it changes, starts a long job on g, and quits on q.
func (f *fixture) terminal(ctx context.Context, s ssh.Session, seat *Seat) int {
	keys := make(chan byte)
	go func() {
		defer close(keys)
		r := bufio.NewReader(s)
		for {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			select {
			case keys <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	show := func() { fmt.Fprintf(s, "%s\n", describe(seat.View())) }
	show()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-seat.Changed():
			show()
		case k, ok := <-keys:
			if !ok {
				return 0
			}
			switch k {
			case 'q':
				return 0
			case 'g':
				j, err := seat.Go("migration", func(ctx context.Context) error {
					f.jobCtx <- ctx
					select {
					case <-f.release:
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
				if err != nil {
					fmt.Fprintf(s, "refused: %v\n", err)
					continue
				}
				f.started <- j
			}
		}
	}
}

// describe renders a view as one line the tests can match.
func describe(v View) string {
	var jobs []string
	for _, j := range v.Jobs {
		jobs = append(jobs, j.What+" by "+j.By)
	}
	return fmt.Sprintf("[%s controller=%q taken=%q sessions=%d watchers=%d jobs=%q]",
		v.Role, v.Controller.Name, v.TakenBy, v.Sessions, v.Watchers(), strings.Join(jobs, ","))
}

// dial logs in as signer.
func (f *fixture) dial(signer gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", f.addr, &gossh.ClientConfig{
		User:            "ops",
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(f.hostKey),
		Timeout:         waitLimit,
	})
}

func (f *fixture) mustDial(signer gossh.Signer) *gossh.Client {
	f.t.Helper()
	c, err := f.dial(signer)
	if err != nil {
		f.t.Fatalf("login: %v", err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

// screen is an interactive session seen from the client.
type screen struct {
	t      *testing.T
	sess   *gossh.Session
	in     io.WriteCloser
	mu     sync.Mutex
	out    bytes.Buffer
	stderr syncBuffer
	done   chan error
}

// open starts an interactive session with a PTY, running command (""
// for a shell).
func (f *fixture) open(c *gossh.Client, command string) *screen {
	f.t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		f.t.Fatal(err)
	}
	sc := &screen{t: f.t, sess: sess, done: make(chan error, 1)}
	if sc.in, err = sess.StdinPipe(); err != nil {
		f.t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	sess.Stderr = &sc.stderr
	if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		f.t.Fatal(err)
	}
	if command == "" {
		err = sess.Shell()
	} else {
		err = sess.Start(command)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := out.Read(buf)
			sc.mu.Lock()
			sc.out.Write(buf[:n])
			sc.mu.Unlock()
			if err != nil {
				break
			}
		}
		sc.done <- sess.Wait()
	}()
	return sc
}

func (sc *screen) text() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.out.String()
}

// last is the latest view line the session printed.
func (sc *screen) last() string {
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(sc.text(), "\r", "")), "\n")
	return lines[len(lines)-1]
}

// waitLast waits until the latest view line contains want.
func (sc *screen) waitLast(want string) {
	sc.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(sc.last(), want) {
		if time.Now().After(deadline) {
			sc.t.Fatalf("latest line %q never contained %q; all output:\n%s", sc.last(), want, sc.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (sc *screen) send(s string) {
	sc.t.Helper()
	if _, err := io.WriteString(sc.in, s); err != nil {
		sc.t.Fatal(err)
	}
}

// wait returns the session's exit status once it ends.
func (sc *screen) wait() int {
	sc.t.Helper()
	select {
	case err := <-sc.done:
		return exitStatus(sc.t, err)
	case <-time.After(waitLimit):
		sc.t.Fatalf("session did not end; output:\n%s", sc.text())
		return 0
	}
}

func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitStatus()
	}
	t.Fatalf("session: %v", err)
	return 0
}

// run runs command without a PTY and returns stdout, stderr and the exit
// status.
func (f *fixture) run(c *gossh.Client, command string) (string, string, int) {
	f.t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		f.t.Fatal(err)
	}
	defer sess.Close()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	err = sess.Run(command)
	return out.String(), errOut.String(), exitStatus(f.t, err)
}
