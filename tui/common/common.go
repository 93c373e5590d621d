// Package common holds what every page of the assistant shares: the
// context passed to each page (size, styles, keymap, workspace, logger),
// the Component interface pages implement, and the messages pages use to
// ask the root model to navigate.
package common

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"provision/engine/workspace"
)

// Common is the context every page is given. The root model owns it and
// keeps Width and Height current; pages read it, they do not replace it.
type Common struct {
	Ctx      context.Context
	Width    int
	Height   int
	Renderer *lipgloss.Renderer
	Styles   *Styles
	Keys     *KeyMap
	// WorkspaceDir is where the workspace is, or will be created.
	WorkspaceDir string
	// Workspace is nil until a workspace exists at WorkspaceDir.
	Workspace *workspace.Workspace
	Log       *slog.Logger
	// Now is the clock, replaceable in tests.
	Now func() time.Time
	// Version is provision's version, recorded in a new journal.
	Version string
	// Session is the shared connection the assistant runs on (over SSH);
	// nil when it runs alone in a terminal, where it always controls.
	Session Session
}

// Session is one of several connections on a workspace: one controls the
// workspace, the others watch.
type Session interface {
	// Controlling reports whether this session may start, pause,
	// approve, abort or roll back work.
	Controlling() bool
	// Controller names who controls the workspace, "" when nobody does.
	Controller() string
	// Go runs fn for the workspace beyond this session's life, under a
	// context that ends only when the server stops; it fails when this
	// session does not control the workspace.
	Go(what string, fn func(context.Context) error) error
}

// Watching reports whether this assistant only watches the workspace: a
// session that another one controls, or that nobody controls.
func (c *Common) Watching() bool { return c.Session != nil && !c.Session.Controlling() }

// WatchingNote is the line a watching session shows where it could
// otherwise act.
func (c *Common) WatchingNote() string {
	if who := c.Session.Controller(); who != "" {
		return "Watching: " + who + " controls this workspace; only they can start, pause, approve, abort or roll back."
	}
	return "Watching: nobody controls this workspace; reconnect with ssh -t … control to take over."
}

// New returns a Common for r, with the default styles and keymap.
func New(ctx context.Context, r *lipgloss.Renderer, dir string, ws *workspace.Workspace, log *slog.Logger) *Common {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Common{
		Ctx:          ctx,
		Renderer:     r,
		Styles:       DefaultStyles(r),
		Keys:         DefaultKeyMap(),
		WorkspaceDir: dir,
		Workspace:    ws,
		Log:          log,
		Now:          time.Now,
	}
}

// Component is one page or pane: a tea.Model that lists its keys for the
// help footer and is told its size.
type Component interface {
	tea.Model
	help.KeyMap
	SetSize(width, height int)
}

// Busy is implemented by pages that run long work. While Busy reports
// true the root model asks before quitting, naming what is running as a
// phrase that completes "Stop … and quit?" ("validating users.csv").
type Busy interface {
	Busy() (running bool, what string)
}

// Capturer is implemented by pages that sometimes take typed text (a
// filter, a form). While Capturing reports true, the root model passes
// every key to the page, so q, ? and esc can be typed or handled there.
type Capturer interface {
	Capturing() bool
}

// Shower is implemented by pages that read the workspace again each time
// they come on screen (a status that may have changed meanwhile). The root
// model calls Shown when it opens or returns to the page.
type Shower interface {
	Shown() tea.Cmd
}

// Stopper is implemented by pages whose work must be brought to a safe
// stop before the program ends (a migration pauses rather than dying
// halfway through a submission). When the operator confirms quitting, the
// root model calls Stop and quits once the page sends StoppedMsg.
type Stopper interface {
	Stop() tea.Cmd
}

// StoppedMsg tells the root model that a page's work has stopped safely.
type StoppedMsg struct{}

// Shutdowner is implemented by pages that hold resources beyond the
// program's life (a running engine, a local tenant). Run calls Shutdown
// after the program ends, whatever ended it.
type Shutdowner interface {
	Shutdown()
}

// PageID names a page of the assistant.
type PageID int

// The pages, in the order of the home menu after PageHome.
const (
	PageWelcome PageID = iota
	PageHome
	PagePlan
	PageValidate
	PageRun
	PageStatus
)

// Title is the page's name as the home menu and the header show it.
func (p PageID) Title() string {
	switch p {
	case PageWelcome:
		return "Welcome"
	case PageHome:
		return "Home"
	case PagePlan:
		return "Plan a rollout"
	case PageValidate:
		return "Validate data"
	case PageRun:
		return "Run migration"
	case PageStatus:
		return "Status & reports"
	}
	return "?"
}

// NavigateMsg asks the root model to open a page.
type NavigateMsg struct{ To PageID }

// Navigate returns a command that opens page id.
func Navigate(id PageID) tea.Cmd {
	return func() tea.Msg { return NavigateMsg{To: id} }
}

// BackMsg asks the root model to return to the previous page.
type BackMsg struct{}

// Back is a command that returns to the previous page; a page sends it
// when esc has nothing left to close inside the page.
func Back() tea.Msg { return BackMsg{} }

// WorkspaceReadyMsg tells every page that a workspace now exists (it was
// just created). The root model sets Common.Workspace before passing it on.
type WorkspaceReadyMsg struct {
	Workspace *workspace.Workspace
}

// WorkspaceChangedMsg tells the root model that files in the workspace
// changed (a plan was written, a run started), so the header is refreshed.
// Pages send it after writing to the workspace.
type WorkspaceChangedMsg struct{}

// Clip cuts view to at most h lines, so a page never pushes the footer
// off a small terminal. It does not pad lines: lipgloss would pad them to
// the widest by its own measure, and terminals that give combining marks
// a cell would then wrap rows of Devanagari or Thai names.
func (c *Common) Clip(view string, h int) string {
	return ClipLines(view, h)
}

// ClipLines keeps the first h lines of s.
func ClipLines(s string, h int) string {
	h = max(h, 1)
	lines := strings.SplitN(s, "\n", h+1)
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// WithHelp returns b with another description, for pages where the
// common word does not fit ("enter: choose" rather than "enter: open").
func WithHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}
