package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	migration "provision/engine/run"
	"provision/engine/sshserve"
	"provision/engine/workspace"
	"provision/tui"
	"provision/tui/common"
	"provision/tui/pages/runmigration"
)

type serveFlags struct {
	dir            string
	addr           string
	authorizedKeys string
	hostKey        string
	idle, max      time.Duration
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --ssh ADDR --authorized-keys FILE",
		Short: "Serve the assistant over SSH, so a migration outlives your connection",
		Long: `Serve runs the assistant for one workspace over SSH, on the machine near the
data (a bastion), so that a closed laptop or a dropped link never stops a run,
and colleagues can watch it.

One session controls the workspace and the others watch. A session controls
when it asks to (ssh -t HOST control, which takes control from whoever has
it) or when nobody controlled the workspace as it connected (ssh -t HOST);
ssh -t HOST watch only watches. ssh HOST status prints the workspace's status
without a terminal.

Only the public keys in --authorized-keys (OpenSSH format) may log in; the
file is re-read when it changes, and removing a key ends its sessions. The
host key is created on first start (ed25519, mode 0600) and kept, so clients
can pin it. Each connection is logged, with the key's SHA256 fingerprint, to
the workspace log and to stderr.

Sessions end after --idle-timeout without input and --max-timeout in all;
work on the workspace goes on. Stopping the server (Ctrl-C, SIGTERM) pauses a
running migration at a safe point.`,
		Example: `  provision serve --ssh 127.0.0.1:2222 --authorized-keys ~/.ssh/authorized_keys --workspace /srv/acme/.provision
  ssh -t -p 2222 bastion              # the assistant: control if nobody has it, else watch
  ssh -t -p 2222 bastion control      # take control
  ssh -p 2222 bastion status          # plain status, no terminal needed`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, &f) },
	}
	addWorkspaceFlag(cmd, &f.dir)
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "ssh", "", "`ADDR` to listen on: host:port, e.g. 127.0.0.1:2222, or :2222 for every interface")
	fl.StringVar(&f.authorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys `FILE`: the public keys that may log in")
	fl.StringVar(&f.hostKey, "host-key", "", "the server's private host key `FILE` (default WORKSPACE/ssh/host_ed25519, created on first start)")
	fl.DurationVar(&f.idle, "idle-timeout", sshserve.DefaultIdleTimeout, "end a session after this long without input (0: never); work goes on")
	fl.DurationVar(&f.max, "max-timeout", sshserve.DefaultMaxTimeout, "end any session after this long (0: never); work goes on")
	return cmd
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	if f.addr == "" {
		return usageError("--ssh ADDR is required: the address to listen on, e.g. --ssh 127.0.0.1:2222")
	}
	if f.authorizedKeys == "" {
		return usageError("--authorized-keys FILE is required: the public keys that may log in, e.g. --authorized-keys ~/.ssh/authorized_keys")
	}
	if f.idle < 0 || f.max < 0 {
		return usageError("--idle-timeout and --max-timeout cannot be negative (0 turns them off)")
	}
	dir := f.dir
	if dir == "" {
		dir = workspace.DefaultDir
	}
	// The server serves this workspace whatever happens to its sessions,
	// so it exists from the start: operators copy exports into it.
	if _, err := workspace.Create(dir); err != nil {
		return err
	}
	hostKey := f.hostKey
	if hostKey == "" {
		hostKey = filepath.Join(dir, sshserve.HostKeyDir, sshserve.HostKeyFile)
	}

	// Connections are logged to the workspace log, which outlives the
	// terminal, and to stderr, where whoever runs the server looks.
	fileLog, closer := workspace.Logger(dir, slog.LevelInfo)
	defer closer.Close()
	log := slog.New(slog.NewMultiHandler(fileLog.Handler(),
		slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo})))

	// The hub is what every session on the workspace shares; work started
	// through it runs until the server stops, whatever its session does.
	hub := sshserve.NewHub()
	// The workspace's migration, shared by every session's Run migration
	// page: started by the controlling session through the hub, so it
	// goes on when that session ends, and followed live by the others.
	shared := runmigration.NewMigration()
	defer shared.Close()
	term := &sshTerminal{dir: dir, log: fileLog, migration: shared}
	srv, err := sshserve.New(sshserve.Config{
		Addr:               f.addr,
		AuthorizedKeysFile: f.authorizedKeys,
		HostKeyFile:        hostKey,
		Hub:                hub,
		IdleTimeout:        f.idle,
		MaxTimeout:         f.max,
		Terminal:           term.serve,
		Status:             func(w io.Writer, h *sshserve.Hub) error { return writeServeStatus(w, dir, h) },
		Log:                log.With("workspace", dir),
	})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(cmd.Context())
}

// sshTerminal runs the assistant on SSH sessions: each gets its own
// program, renderer and window size, on the one workspace.
type sshTerminal struct {
	dir       string
	log       *slog.Logger
	migration *runmigration.Migration
}

// serve runs the assistant on s until the operator quits or ctx ends; see
// sshserve.TerminalFunc.
func (t *sshTerminal) serve(ctx context.Context, s ssh.Session, seat *sshserve.Seat) int {
	var app *tui.Model
	program := func(s ssh.Session) *tea.Program {
		// The session's renderer: its terminal's colours and background,
		// not the server's.
		r := bubbletea.MakeRenderer(s)
		app = tui.New(ctx, tui.Options{
			Renderer:     r,
			WorkspaceDir: t.dir,
			Log:          t.log.With("seat", seat.ID(), "name", seat.Who().Name),
			Session:      seatSession{seat},
			Migration:    runmigration.Deps{Shared: t.migration},
		})
		m := newSessionModel(app, seat)
		p := tea.NewProgram(m, tea.WithInput(s), tea.WithOutput(s), tea.WithAltScreen(),
			// Server signals are the server's business: it ends sessions
			// itself, with a word of explanation.
			tea.WithoutSignalHandler())
		go func() {
			for {
				select {
				case <-ctx.Done():
					p.Quit()
					return
				case <-seat.Changed():
					p.Send(seatChangedMsg{})
				}
			}
		}()
		return p
	}
	// The middleware feeds the session's window size changes to the
	// program. termenv.Ascii forces no colour profile on the client.
	bubbletea.MiddlewareWithProgramHandler(program, termenv.Ascii)(func(ssh.Session) {})(s)
	if app != nil {
		// The shared run goes on; what else the session's pages started
		// ends with it.
		app.Shutdown()
	}
	if app != nil && app.Interrupted() {
		return exitInterrupted
	}
	return exitOK
}

// seatSession is the assistant's view of its seat: pages act only while
// the seat controls the workspace.
type seatSession struct{ seat *sshserve.Seat }

func (s seatSession) Controlling() bool { return s.seat.Controlling() }

func (s seatSession) Controller() string { return s.seat.View().Controller.Name }

func (s seatSession) Go(what string, fn func(context.Context) error) error {
	_, err := s.seat.Go(what, fn)
	return err
}

// seatChangedMsg says the session's role, or who else is connected, may
// have changed.
type seatChangedMsg struct{}

// sessionModel is the assistant with one line above it that says whether
// this session controls the workspace or watches it, and what runs.
type sessionModel struct {
	app   *tui.Model
	seat  *sshserve.Seat
	view  sshserve.View
	width int
}

func newSessionModel(app *tui.Model, seat *sshserve.Seat) *sessionModel {
	return &sessionModel{app: app, seat: seat, view: seat.View()}
}

func (m *sessionModel) Init() tea.Cmd { return m.app.Init() }

func (m *sessionModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width = msg.Width
		msg.Height = max(msg.Height-1, 1) // the line above the assistant
		_, cmd := m.app.Update(msg)
		return m, cmd
	case seatChangedMsg:
		// Control moved, or work started or ended in another session:
		// the pages look at the workspace again.
		m.view = m.seat.View()
		_, cmd := m.app.Update(common.WorkspaceChangedMsg{})
		return m, cmd
	}
	_, cmd := m.app.Update(msg)
	return m, cmd
}

func (m *sessionModel) View() string {
	body := m.app.View()
	if body == "" {
		return ""
	}
	return m.sessionLine() + "\n" + body
}

// sessionLine reads, for example, "● controlling · 2 watching" or
// "◌ watching (alice@laptop controls) · migration running since 14:02".
func (m *sessionModel) sessionLine() string {
	st := m.app.Common().Styles
	v := m.view
	var line string
	if v.Role == sshserve.Controlling {
		line = st.OK.Bold(true).Render("● controlling")
		if n := v.Watchers(); n > 0 {
			line += st.Muted.Render(fmt.Sprintf(" · %d watching", n))
		}
	} else {
		line = st.Warn.Bold(true).Render("◌ watching")
		switch {
		case v.Controlled() && v.TakenBy == v.Controller.Name:
			line += st.Muted.Render(" (" + v.TakenBy + " took control)")
		case v.Controlled():
			line += st.Muted.Render(" (" + v.Controller.Name + " controls)")
		default:
			line += st.Muted.Render(" (nobody controls: reconnect with ssh -t … control to take over)")
		}
	}
	for _, j := range v.Jobs {
		line += st.Muted.Render(fmt.Sprintf(" · %s running since %s (%s)", j.What, j.Started.Format("15:04"), j.By))
	}
	return " " + ansi.Truncate(line, max(m.width-2, 10), "…")
}

// writeServeStatus is what `ssh HOST status` prints: the workspace, the
// run in its journal when there is one, and who is connected.
func writeServeStatus(w io.Writer, dir string, hub *sshserve.Hub) error {
	var b strings.Builder
	writeWorkspaceSummary(&b, dir)
	if journal := workspaceJournal(dir); migration.Exists(journal) {
		v, err := loadRunStatus(journal, 10)
		if err != nil {
			fmt.Fprintf(&b, "The run's status cannot be read: %v\n\n", err)
		} else {
			if err := v.writeText(&b); err != nil {
				return err
			}
			b.WriteString("\n")
		}
	}
	b.WriteString(sshserve.SessionsLine(hub.Seats()) + "\n")
	for _, j := range hub.Jobs() {
		fmt.Fprintf(&b, "  %s running since %s, started by %s\n", j.What, j.Started.Format("2006-01-02 15:04"), j.By)
	}
	b.WriteString("Open the assistant with ssh -t HOST (take control: ssh -t HOST control; only watch: ssh -t HOST watch).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeWorkspaceSummary lists what the workspace at dir holds, as plain
// text.
func writeWorkspaceSummary(b *strings.Builder, dir string) {
	ws, err := workspace.Open(dir)
	if err != nil {
		fmt.Fprintf(b, "  workspace  %s (not created yet)\n\n", dir)
		return
	}
	st := ws.Status()
	plan, journal, exports := "none", "none", "none"
	if st.Plan.Exists {
		plan = st.Plan.Path
	}
	if st.Journal.Exists {
		journal = fmt.Sprintf("%s (%d bytes)", st.Journal.Path, st.Journal.Size)
	}
	if len(st.Exports) > 0 {
		exports = strings.Join(st.Exports, ", ")
	}
	fmt.Fprintf(b, "  workspace  %s\n  exports    %s\n  plan       %s\n  journal    %s\n\n", dir, exports, plan, journal)
}
