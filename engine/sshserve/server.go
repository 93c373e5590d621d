package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Defaults for Config's durations.
const (
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultMaxTimeout    = 12 * time.Hour
	DefaultKeepAlive     = 30 * time.Second
	DefaultShutdownGrace = 20 * time.Second
)

// loginGrace bounds a connection that sends nothing at all, the handshake
// included, as sshd's LoginGraceTime does: without it, clients that never
// finish logging in would hold sockets forever.
const loginGrace = 2 * time.Minute

// TerminalFunc runs the assistant on an interactive session (one with a
// PTY) seated at seat, until the operator quits or ctx is done, and
// returns the session's exit status. ctx is cancelled when the server
// ends the session (idle, too long, key revoked, shutdown); the server
// then tells the operator why. Reading input through s is what keeps the
// session from idling out.
type TerminalFunc func(ctx context.Context, s ssh.Session, seat *Seat) (exitStatus int)

// StatusFunc writes the workspace's status as plain text, for `ssh HOST
// status`; hub tells who is connected and what runs.
type StatusFunc func(w io.Writer, hub *Hub) error

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on (host:port).
	Addr string
	// AuthorizedKeysFile lists the public keys that may log in.
	AuthorizedKeysFile string
	// HostKeyFile is the server's private host key, created on first start.
	HostKeyFile string
	// Hub is the workspace's shared state; nil makes a new one.
	Hub *Hub

	// IdleTimeout ends a session that has sent no input for this long,
	// whatever it is shown meanwhile (a watcher of a busy run idles out
	// too); 0 never does. Work running on the hub is not affected.
	IdleTimeout time.Duration
	// MaxTimeout ends any session this long after it started; 0 never
	// does.
	MaxTimeout time.Duration
	// KeepAlive is how often the server checks on each session: that its
	// client still answers (a closed laptop does not), and that its key
	// is still authorized. Zero means DefaultKeepAlive.
	KeepAlive time.Duration
	// ShutdownGrace bounds how long shutdown waits for the hub's work to
	// stop at a safe point. Zero means DefaultShutdownGrace.
	ShutdownGrace time.Duration

	// Terminal runs the assistant on interactive sessions.
	Terminal TerminalFunc
	// Status writes the plain status for `ssh HOST status`.
	Status StatusFunc
	// Log receives one record per refused key, session start and session
	// end, with the user, remote address and key fingerprint, never a key.
	Log *slog.Logger
}

// Server serves one workspace over SSH.
type Server struct {
	cfg    Config
	keys   *AuthorizedKeys
	hostFP string
	hub    *Hub
	log    *slog.Logger
	srv    *ssh.Server

	// base is cancelled at shutdown, ending every session.
	base   context.Context
	stop   context.CancelCauseFunc
	nextID atomic.Int64

	mu       sync.Mutex
	closing  bool           // no new sessions
	sessions sync.WaitGroup // sessions being served; Add only while !closing
}

// Reasons the server ends a session; the operator is shown them.
var (
	errIdle      = errors.New("no input for too long")
	errMaxTime   = errors.New("the session reached its maximum length")
	errRevoked   = errors.New("your key is no longer in the authorized keys")
	errNoAnswer  = errors.New("the client stopped answering")
	errStopping  = errors.New("the server is shutting down")
	serverEnding = []error{errIdle, errMaxTime, errRevoked, errNoAnswer, errStopping}
)

// New checks cfg, loads the authorized keys and the host key (creating
// it on first start) and returns a server ready to Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Terminal == nil || cfg.Status == nil {
		return nil, errors.New("sshserve: Config.Terminal and Config.Status are required")
	}
	if cfg.AuthorizedKeysFile == "" {
		return nil, errors.New("no authorized keys file: pass the public keys that may log in")
	}
	if cfg.HostKeyFile == "" {
		return nil, errors.New("no host key file")
	}
	if cfg.IdleTimeout < 0 || cfg.MaxTimeout < 0 || cfg.KeepAlive < 0 || cfg.ShutdownGrace < 0 {
		return nil, errors.New("sshserve: negative timeout")
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Hub == nil {
		cfg.Hub = NewHub()
	}
	keys, err := LoadAuthorizedKeys(cfg.AuthorizedKeysFile, cfg.Log)
	if err != nil {
		return nil, err
	}
	signer, created, err := LoadOrCreateHostKey(cfg.HostKeyFile)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, keys: keys, hub: cfg.Hub, log: cfg.Log,
		hostFP: gossh.FingerprintSHA256(signer.PublicKey())}
	s.base, s.stop = context.WithCancelCause(context.Background())
	if created {
		s.log.Info("ssh host key created", "file", cfg.HostKeyFile, "fingerprint", s.hostFP)
	}

	// The connection deadlines are a backstop under the session timers
	// below, which end sessions politely first.
	connIdle := loginGrace
	var connMax time.Duration
	if cfg.MaxTimeout > 0 {
		connMax = cfg.MaxTimeout + time.Minute
	}
	// charmbracelet/ssh directly, rather than through wish's options, keeps
	// this package free of the terminal UI libraries wish pulls in. The
	// session handler is the only one: no subsystems, no forwarding.
	s.srv = &ssh.Server{
		Addr:    cfg.Addr,
		Version: "provision",
		Handler: s.handle,
		// Public keys only: with no password or keyboard-interactive
		// handler, the server offers no other method.
		PublicKeyHandler:         s.allowKey,
		IdleTimeout:              connIdle,
		MaxTimeout:               connMax,
		ConnectionFailedCallback: s.connectionFailed,
	}
	s.srv.AddHostKey(signer)
	return s, nil
}

// Hub is the workspace's shared state.
func (s *Server) Hub() *Hub { return s.hub }

// HostKeyFingerprint is the SHA256 fingerprint of the server's host key,
// for operators to compare with what ssh shows on first connection.
func (s *Server) HostKeyFingerprint() string { return s.hostFP }

// ListenAndServe listens on Config.Addr and serves until ctx is done,
// then shuts down: see Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen for SSH on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln until ctx is done. It then stops
// accepting, ends every session with a word of explanation, cancels the
// hub's work and waits for it to stop at a safe point (at most
// Config.ShutdownGrace), and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.log.Info("ssh server listening", "addr", ln.Addr().String(),
		"host_key", s.hostFP, "authorized_keys", s.keys.Path(), "keys", s.keys.Len(),
		"idle_timeout", s.cfg.IdleTimeout, "max_timeout", s.cfg.MaxTimeout)
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	select {
	case err := <-served: // the listener failed
		s.shutdown(ln)
		return fmt.Errorf("serving SSH: %w", err)
	case <-ctx.Done():
	}
	s.shutdown(ln)
	<-served // an error for the listener closed above
	return nil
}

func (s *Server) shutdown(ln net.Listener) {
	s.log.Info("ssh server stopping")
	// Closing the listener ourselves, rather than through
	// ssh.Server.Shutdown, stops new logins while leaving the sessions
	// open for their goodbye below.
	_ = ln.Close()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stop(errStopping)

	grace, cancelGrace := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancelGrace()
	if err := s.hub.Close(grace); err != nil {
		s.log.Error("ssh server stopped with work still running", "err", err)
	}
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.log.Warn("ssh sessions did not end in time; closing their connections")
	}
	_ = s.srv.Close()
	s.log.Info("ssh server stopped")
}

// allowKey is the public key callback. x/crypto calls it for every key a
// client offers, before the client proves it holds the private half, so
// its answer only decides whether the client may try; the session
// handler checks the key the connection actually proved.
func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if _, ok := s.keys.Lookup(key); ok {
		return true
	}
	s.log.Warn("ssh key refused", "user", Printable(ctx.User(), 64), "remote", addrString(ctx.RemoteAddr()),
		"key", gossh.FingerprintSHA256(key), "type", key.Type())
	return false
}

func (s *Server) connectionFailed(conn net.Conn, err error) {
	// EOF is a client that gave up (no key accepted, or a port scan).
	s.log.Info("ssh connection failed", "remote", addrString(conn.RemoteAddr()), "err", err)
}

// usage is the one line a session without a use gets.
const usage = "usage: ssh -t HOST [control|watch] opens the assistant; ssh HOST status prints the workspace status"

// handle serves one session: it checks the key the connection proved,
// then routes the command.
func (s *Server) handle(sess ssh.Session) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		say(sess, "provision: %v", errStopping)
		_ = sess.Exit(1)
		return
	}
	s.sessions.Add(1)
	s.mu.Unlock()
	defer s.sessions.Done()
	started := time.Now()
	id := s.nextID.Add(1)
	log := s.log.With("session", id, "user", Printable(sess.User(), 64), "remote", addrString(sess.RemoteAddr()))
	exit := func(status int) { _ = sess.Exit(status) }
	defer func() {
		// A bug in one session must not take down the server, and with it
		// every other session and the run.
		if r := recover(); r != nil {
			log.Error("ssh session panicked", "panic", r)
			say(sess, "provision: internal error; the session is closed, the server goes on")
			exit(1)
		}
	}()

	// The key the connection proved, not the last one the key callback
	// was asked about (CVE-2024-45337), checked again against the current
	// file: it may have changed since the handshake.
	key := sess.PublicKey()
	if key == nil {
		log.Warn("ssh session refused: no public key proved")
		say(sess, "provision: public key authentication required")
		exit(1)
		return
	}
	fp := gossh.FingerprintSHA256(key)
	log = log.With("key", fp)
	comment, ok := s.keys.Lookup(key)
	if !ok {
		log.Warn("ssh session refused: key not authorized")
		say(sess, "provision: your key is not authorized")
		exit(1)
		return
	}
	who := Who{Name: comment, Fingerprint: fp}
	if who.Name == "" {
		who.Name = Printable(sess.User(), 32)
	}
	if who.Name == "" {
		who.Name = fp
	}

	pty, _, hasPTY := sess.Pty()
	args := sess.Command()
	command := ""
	if len(args) > 0 {
		command = Printable(args[0], 32)
	}
	log.Info("ssh session start", "name", who.Name, "command", command, "pty", hasPTY, "term", Printable(pty.Term, 32))

	status, why := s.route(sess, log, who, args, hasPTY)
	log.Info("ssh session end", "exit", status, "duration", time.Since(started).Round(time.Second).String(), "reason", why)
	exit(status)
}

// route runs what the session asked for and returns its exit status and,
// for the log, why it ended.
func (s *Server) route(sess ssh.Session, log *slog.Logger, who Who, args []string, hasPTY bool) (int, string) {
	var want Want
	switch {
	case len(args) == 0:
		want = WantAuto
	case len(args) > 1:
		say(sess, "provision: one command at most; %s", usage)
		return 2, "usage"
	case args[0] == "control":
		want = WantControl
	case args[0] == "watch":
		want = WantWatch
	case args[0] == "status":
		return s.status(sess, log)
	case args[0] == "help":
		fmt.Fprintf(sess, "%s\n", usage)
		return 0, "help"
	default:
		say(sess, "provision: unknown command %q; %s", Printable(args[0], 32), usage)
		return 2, "usage"
	}
	if !hasPTY {
		say(sess, "provision: the assistant needs a terminal (ssh -t); %s", usage)
		return 2, "no terminal"
	}
	return s.terminal(sess, log, who, want)
}

func (s *Server) status(sess ssh.Session, log *slog.Logger) (int, string) {
	if err := s.cfg.Status(sess, s.hub); err != nil {
		log.Error("ssh status failed", "err", err)
		say(sess, "provision: %v", err)
		return 1, "status failed"
	}
	return 0, "status"
}

// SessionsLine says who is connected, for plain status output.
func SessionsLine(seats []SeatInfo) string {
	if len(seats) == 0 {
		return "SSH sessions: none connected"
	}
	var ctl string
	watching := 0
	for _, st := range seats {
		if st.Role == Controlling {
			ctl = st.Who.Name
		} else {
			watching++
		}
	}
	if ctl == "" {
		ctl = "nobody controls"
	} else {
		ctl += " controls"
	}
	return fmt.Sprintf("SSH sessions: %s, %d watching", ctl, watching)
}

// terminal seats the session and runs the assistant on it, under the
// session timers.
func (s *Server) terminal(sess ssh.Session, log *slog.Logger, who Who, want Want) (int, string) {
	seat := s.hub.Join(who, want)
	defer seat.Leave()
	v := seat.View()
	log.Info("ssh session seated", "seat", seat.ID(), "want", want.String(), "role", v.Role.String(), "controller", v.Controller.Name)

	ctx, cancel := context.WithCancelCause(sess.Context())
	defer cancel(nil)
	stopOnShutdown := context.AfterFunc(s.base, func() { cancel(errStopping) })
	defer stopOnShutdown()

	in := newActiveSession(sess)
	if d := s.cfg.IdleTimeout; d > 0 {
		stopIdle := in.idleAfter(d, func() { cancel(errIdle) })
		defer stopIdle()
	}
	if d := s.cfg.MaxTimeout; d > 0 {
		t := time.AfterFunc(d, func() { cancel(errMaxTime) })
		defer t.Stop()
	}
	go s.watch(ctx, sess, cancel)

	status := s.cfg.Terminal(ctx, in, seat)
	cause := context.Cause(ctx)
	for _, e := range serverEnding {
		if errors.Is(cause, e) {
			say(sess, "\nprovision: %s", goodbye(cause))
			return max(status, 1), cause.Error()
		}
	}
	if sess.Context().Err() != nil {
		return status, "connection closed"
	}
	return status, "quit"
}

// goodbye tells an operator why the server ended their session, and what
// became of the work on the workspace.
func goodbye(cause error) string {
	if errors.Is(cause, errStopping) {
		return "the server is shutting down: a running migration pauses at a safe point; resume it once the server is back."
	}
	return fmt.Sprintf("session closed: %v. Work on the workspace goes on; reconnect to follow it.", cause)
}

// watch checks, every KeepAlive, that the client still answers and that
// its key is still authorized, until ctx is done. A client that vanished
// (a closed laptop, a dropped link) would otherwise keep its session, and
// control of the workspace, until the idle timeout.
func (s *Server) watch(ctx context.Context, sess ssh.Session, end context.CancelCauseFunc) {
	conn, _ := sess.Context().Value(ssh.ContextKeyConn).(gossh.Conn)
	tick := time.NewTicker(s.cfg.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, ok := s.keys.Lookup(sess.PublicKey()); !ok {
			end(errRevoked)
			return
		}
		if conn == nil {
			continue
		}
		answered := make(chan struct{})
		go func() {
			// OpenSSH answers this request (with a refusal), which is all
			// it takes to show the client is there.
			_, _, _ = conn.SendRequest("keepalive@openssh.com", true, nil)
			close(answered)
		}()
		select {
		case <-answered:
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.KeepAlive):
			end(errNoAnswer)
			_ = conn.Close()
			return
		}
	}
}

// activeSession is a session that notes when its client last sent input,
// for the idle timeout. Output does not count: a watcher of a busy run is
// idle all the same.
type activeSession struct {
	ssh.Session
	start time.Time    // the clock's base, monotonic
	last  atomic.Int64 // time.Since(start) at the latest input
}

func newActiveSession(s ssh.Session) *activeSession {
	return &activeSession{Session: s, start: time.Now()}
}

func (a *activeSession) Read(p []byte) (int, error) {
	n, err := a.Session.Read(p)
	if n > 0 {
		a.last.Store(int64(time.Since(a.start)))
	}
	return n, err
}

// idleFor is how long the client has sent nothing.
func (a *activeSession) idleFor() time.Duration {
	return time.Since(a.start) - time.Duration(a.last.Load())
}

// idleAfter calls fire once no input has arrived for d. It rearms its
// timer for the time left rather than polling.
func (a *activeSession) idleAfter(d time.Duration, fire func()) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if left := d - a.idleFor(); left > 0 {
			t.Reset(left)
			return
		}
		fire()
	}
	mu.Lock()
	t = time.AfterFunc(d, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// Printable returns s without control characters or other unprintable
// runes, cut to at most n runes. Names chosen by clients (the SSH user,
// a key comment) are shown on other operators' screens and written to
// logs, where an escape sequence could rewrite what they see.
func Printable(s string, n int) string {
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count == n {
			b.WriteRune('…')
			break
		}
		if !unicode.IsPrint(r) {
			continue
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// say writes one message line to the session's stderr. A terminal needs
// carriage returns, which the session adds on stdout but not on stderr.
func say(sess ssh.Session, format string, args ...any) {
	msg := fmt.Sprintf(format, args...) + "\n"
	if _, _, pty := sess.Pty(); pty {
		msg = strings.ReplaceAll(msg, "\n", "\r\n")
	}
	_, _ = io.WriteString(sess.Stderr(), msg)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
