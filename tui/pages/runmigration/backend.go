package runmigration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/plan"
	"provision/engine/run"
	"provision/engine/run/verify"
	"provision/engine/sandbox"
	"provision/engine/target"
	"provision/engine/target/auth0"
	"provision/engine/target/file"
	"provision/engine/upload"
	"provision/engine/validate"
	"provision/storage"
)

// Engine is what the page needs of the staged executor (*run.Engine).
type Engine interface {
	Run(ctx context.Context) (run.Result, error)
	Pause()
	Abort()
	Approve(stage, by, note string)
}

// Deps are the page's connections to the engine and the built-in
// sandbox. The zero value is the real thing; tests replace parts.
type Deps struct {
	// NewEngine builds the staged executor (default run.New).
	NewEngine func(run.Options) (Engine, error)
	// Rollback deletes the users a stage inserted (default run.Rollback).
	Rollback func(context.Context, run.RollbackOptions) (*run.RollbackResult, error)
	// JobDuration is how long the built-in sandbox takes per import job
	// (default 1.5 s: long enough to watch, short enough to wait for).
	JobDuration time.Duration
	// SandboxFileBytes caps import files sent to the built-in sandbox
	// (default 20 kB, so the demo's few hundred users make several jobs
	// and the two slots show; Auth0 takes up to 500 kB).
	SandboxFileBytes int
	// Poll shapes job polling (default: the engine's).
	Poll upload.PollPolicy
	// Shared is the workspace's run shared by every session of provision
	// serve; nil when the page owns its run.
	Shared *Migration
}

// Defaults of Deps.
const (
	DefaultJobDuration      = 1500 * time.Millisecond
	DefaultSandboxFileBytes = 20_000
)

// DefaultStages are the stages of a run when the workspace has no plan: a
// canary that waits for approval, then everyone else.
const DefaultStages = "canary:25:approve,rest"

// SandboxDir is where the built-in sandbox keeps its tenant inside the
// workspace, so a run resumed in a later session finds its users and jobs.
const SandboxDir = "sandbox"

func (d Deps) withDefaults() Deps {
	if d.NewEngine == nil {
		d.NewEngine = func(o run.Options) (Engine, error) { return run.New(o) }
	}
	if d.Rollback == nil {
		d.Rollback = run.Rollback
	}
	if d.JobDuration == 0 {
		d.JobDuration = DefaultJobDuration
	}
	if d.SandboxFileBytes == 0 {
		d.SandboxFileBytes = DefaultSandboxFileBytes
	}
	return d
}

// conn is an opened target and what verification needs of it.
type conn struct {
	target  target.Target
	spec    string // as recorded in the journal
	label   string // as shown
	builtin bool   // the in-process sandbox
	connID  string
	connNm  string // the connection's name: the realm canaries log in to
	login   verify.Logger
}

// tenant is the built-in sandbox, served on loopback for the page's life.
type tenant struct {
	srv    *sandbox.Server
	addr   string
	cancel context.CancelFunc
	served chan struct{}
	// client carries the requests to it; its connections are closed
	// before the server stops, which would otherwise wait for a spare
	// connection the client opened and never used.
	client *http.Client
}

func (t *tenant) close() {
	if t == nil {
		return
	}
	t.client.CloseIdleConnections()
	t.cancel()
	<-t.served
	_ = t.srv.Close()
}

// startSandbox opens the built-in sandbox's tenant in dir and serves it
// on loopback: on the address the run recorded when it is free (so the
// journal's target stays true), else on a free port.
func startSandbox(ctx context.Context, dir, prefer string, fresh bool, jobs time.Duration, log *slog.Logger) (*tenant, error) {
	if fresh {
		// A new run starts from an empty tenant: users left by an earlier
		// run would make every import a duplicate.
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("reset the built-in sandbox: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the built-in sandbox: %w", err)
	}
	srv, err := sandbox.New(sandbox.Config{DataDir: dir, JobDuration: jobs, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("the built-in sandbox: %w", err)
	}
	var lc net.ListenConfig
	var ln net.Listener
	if prefer != "" {
		ln, _ = lc.Listen(ctx, "tcp", prefer)
	}
	if ln == nil {
		if ln, err = lc.Listen(ctx, "tcp", "127.0.0.1:0"); err != nil {
			srv.Close()
			return nil, fmt.Errorf("the built-in sandbox: listen on loopback: %w", err)
		}
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t := &tenant{srv: srv, addr: ln.Addr().String(), cancel: cancel, served: make(chan struct{}),
		client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	go func() {
		defer close(t.served)
		_ = srv.Serve(sctx, ln)
	}()
	return t, nil
}

// sandboxConn is a client of the built-in sandbox.
func sandboxConn(t *tenant) (*conn, error) {
	spec := "auth0:http://" + t.addr
	ep, err := auth0.ParseTargetSpec(spec)
	if err != nil {
		return nil, err
	}
	creds := auth0.Credentials{ClientID: t.srv.ClientID(), ClientSecret: auth0.Secret(t.srv.ClientSecret()), Source: "the built-in sandbox"}
	c, err := auth0.New(auth0.Config{Endpoint: ep, Credentials: creds, ConnectionID: t.srv.ConnectionID(), HTTPClient: t.client})
	if err != nil {
		return nil, err
	}
	return &conn{
		target: c, spec: spec, builtin: true,
		label:  "the built-in sandbox at http://" + t.addr,
		connID: t.srv.ConnectionID(), connNm: t.srv.ConnectionName(),
		login: &verify.PasswordRealm{Endpoint: ep, Credentials: creds, Realm: t.srv.ConnectionName(), HTTPClient: t.client},
	}, nil
}

// openTarget opens a tenant or a directory named by spec, as provision
// migrate does: Auth0 credentials come from the environment.
func openTarget(ctx context.Context, spec, connection string) (*conn, error) {
	ts, err := target.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	if ts.Kind == "file" {
		t, err := file.Open(ts.Value)
		if err != nil {
			return nil, err
		}
		return &conn{target: t, spec: spec, label: "import files in " + ts.Value}, nil
	}
	if connection == "" {
		return nil, errors.New("the plan names no connection: set target.connection (con_…) in plan.yaml")
	}
	ep, err := auth0.ParseTargetSpec(spec)
	if err != nil {
		return nil, err
	}
	creds, err := auth0.LoadCredentials("")
	if err != nil {
		return nil, err
	}
	c, err := auth0.New(auth0.Config{Endpoint: ep, Credentials: creds, ConnectionID: connection, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	h := &conn{target: c, spec: spec, label: spec, connID: connection}
	cn, err := c.Connection(ctx, connection)
	switch {
	case errors.Is(err, auth0.ErrUnknownConnection), errors.Is(err, auth0.ErrBadCredentials), errors.Is(err, auth0.ErrNotFound):
		return nil, err
	case err == nil:
		h.connNm = cn.Name
		h.login = &verify.PasswordRealm{Endpoint: ep, Credentials: creds, Realm: cn.Name}
	}
	return h, nil
}

// loopbackAddr is host:port of a loopback http spec ("auth0:http://127.0.0.1:8787"), or "".
func loopbackAddr(spec string) string {
	ts, err := target.ParseSpec(spec)
	if err != nil || ts.Kind != "auth0" {
		return ""
	}
	u, err := url.Parse(ts.Value)
	if err != nil || u.Scheme != "http" {
		return ""
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return ""
	}
	return u.Host
}

// ---- the journal ----

// journalState is the journal as read before a run starts.
type journalState struct {
	exists bool
	meta   storage.Meta
	status storage.Status
	// busy is set when another process holds the journal: its published
	// snapshot is shown instead.
	busy *storage.InUseError
	asOf time.Time
	err  error
}

type journalMsg struct{ st journalState }

// readJournal reads the journal's status without keeping it open.
func readJournal(path string) journalState {
	if !run.Exists(path) {
		return journalState{}
	}
	st := journalState{exists: true}
	j, err := storage.Open(path, storage.Options{LockTimeout: 300 * time.Millisecond})
	var inUse *storage.InUseError
	if errors.As(err, &inUse) {
		st.busy = inUse
		if snap, serr := run.ReadSnapshot(path); serr == nil {
			st.status, st.asOf = snap.Status, snap.Written
		}
		if rec, merr := run.Inspect(path); merr == nil {
			st.meta = rec.Meta
		}
		return st
	}
	if err != nil {
		st.err = err
		return st
	}
	defer j.Close()
	if st.status, err = j.Status(12); err != nil {
		st.err = err
		return st
	}
	st.meta, st.err = j.Meta()
	return st
}

// ---- runs ----

// session streams one engine run (or one rollback) to the page: its
// events one at a time, then how it ended.
type session struct {
	gen    int
	events chan run.Event
	ended  chan struct{} // closed once end is set
	end    tea.Msg       // runDoneMsg or rollbackDoneMsg
}

func newSession(gen int, events chan run.Event) *session {
	return &session{gen: gen, events: events, ended: make(chan struct{})}
}

// finish records how the session ended; every reader sees it.
func (s *session) finish(msg tea.Msg) {
	s.end = msg
	close(s.ended)
}

// eventMsg is one event of the run of generation gen.
type eventMsg struct {
	gen int
	ev  run.Event
}

// runDoneMsg ends a run.
type runDoneMsg struct {
	gen int
	res run.Result
	err error
}

// rollbackDoneMsg ends a rollback.
type rollbackDoneMsg struct {
	gen   int
	stage string
	res   *run.RollbackResult
	err   error
}

// next reads the session's next message; Update re-arms it after each
// event, so the screen takes one at a time and the engine, which waits
// for its events to be read, never runs ahead of a slow terminal by more
// than the channel's buffer.
func (s *session) next() tea.Cmd {
	return func() tea.Msg {
		if ev, ok := <-s.events; ok {
			return eventMsg{gen: s.gen, ev: ev}
		}
		<-s.ended
		return s.end
	}
}

// drain reads what is left of the session until it ends, for a program
// that has stopped reading (it quit). A command the program left behind
// may read alongside; both see the end.
func (s *session) drain(timeout time.Duration) bool {
	deadline := time.After(timeout)
	events := s.events
	for {
		select {
		case _, ok := <-events:
			if !ok {
				events = nil // closed: only the end is left
			}
		case <-s.ended:
			return true
		case <-deadline:
			return false
		}
	}
}

func startRun(ctx context.Context, gen int, eng Engine, events chan run.Event) *session {
	s := newSession(gen, events)
	go func() {
		res, err := eng.Run(ctx)
		close(events)
		s.finish(runDoneMsg{gen: gen, res: res, err: err})
	}()
	return s
}

func startRollback(ctx context.Context, gen int, fn func(context.Context, run.RollbackOptions) (*run.RollbackResult, error), o run.RollbackOptions) *session {
	events := make(chan run.Event, 64)
	o.Events = events
	s := newSession(gen, events)
	go func() {
		res, err := fn(ctx, o)
		close(events)
		s.finish(rollbackDoneMsg{gen: gen, stage: o.Stage, res: res, err: err})
	}()
	return s
}

// runPlan is what a new run is made of, from the workspace's plan when
// there is one.
type runPlan struct {
	plan     *plan.Plan // nil without plan.yaml
	planErr  error
	source   string // the export's path
	stages   []plan.StagePlan
	validate validate.Options
}

// stagesOf is the plan's stages, or the default ones.
func stagesOf(p *plan.Plan) []plan.StagePlan {
	if p != nil && len(p.Stages) > 0 {
		return p.Stages
	}
	st, _ := plan.ParseStages(DefaultStages)
	return st
}

// relTo names path relative to dir when it is inside it.
func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}
