package common

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the assistant's one keymap. Pages pick the bindings they use
// for their help; nothing else defines keys.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	Open     key.Binding // enter
	Back     key.Binding // esc
	NextPane key.Binding // tab
	PrevPane key.Binding // shift+tab
	Filter   key.Binding // /
	Help     key.Binding // ?
	Quit     key.Binding // q
	// Interrupt quits at once (exit 130), asking first only while work runs.
	Interrupt key.Binding
	Yes       key.Binding
	No        key.Binding
	Workspace key.Binding // set up a workspace, when there is none

	// Validate data.
	Run          key.Binding // start the validation
	Ignore       key.Binding // ignore the selected column
	AddCanary    key.Binding // type a canary email and password
	LoadCanaries key.Binding // load the workspace's credentials file
	ClearCanary  key.Binding // forget canaries

	// Plan a rollout.
	Save          key.Binding // write the plan into the workspace
	OtherStrategy key.Binding // plan with another strategy than the recommended one

	// Run migration.
	Start        key.Binding // start, or resume, the run
	Pause        key.Binding // pause at the next safe point
	Approve      key.Binding // let a stage through its gate
	Abort        key.Binding // stop at once
	Rollback     key.Binding // delete the users a stage inserted
	Retry        key.Binding // run a gated or rolled-back stage again
	CanaryLogins key.Binding // log the workspace's canaries in after each stage

	// Status & reports.
	Export  key.Binding // write the reconciliation report
	Refresh key.Binding // read the journal again
}

// DefaultKeyMap returns the assistant's keys.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),

		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextPane:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		PrevPane:  key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "interrupt")),
		Yes:       key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n", "no")),
		Workspace: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "set up workspace")),

		Run:          key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "run validation")),
		Ignore:       key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "ignore column")),
		AddCanary:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add canary")),
		LoadCanaries: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "load credentials")),
		ClearCanary:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear canaries")),

		Save:          key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save plan")),
		OtherStrategy: key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "other strategy")),

		Start:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start")),
		Pause:        key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Approve:      key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
		Abort:        key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "abort")),
		Rollback:     key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "roll back stage")),
		Retry:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "retry stage")),
		CanaryLogins: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "canary logins")),

		Export:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export report")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
	}
}
