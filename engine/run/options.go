package run

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"provision/engine/chunk"
	"provision/engine/plan"
	"provision/engine/run/verify"
	"provision/engine/source"
	"provision/engine/target"
	"provision/engine/upload"
	"provision/engine/validate"
	"provision/storage"
)

// Options configure an Engine. Source, SourceOptions, Validate, Settings
// and Stages describe the run when the journal is new. On resume the
// journal's own record fills what is left unset (a resume needs only
// Journal and Target), and a value that contradicts it is refused rather
// than silently ignored.
type Options struct {
	// Journal is the journal file (WORKSPACE/journal.db). It is created
	// on the first run and resumed from then on.
	Journal string
	// Source is the legacy export. Empty on resume: the journal's path.
	Source        string
	SourceOptions source.Options
	// Validate carries the connection's username rule and the plan's hash
	// defaults; MaxUserBytes is set by the engine.
	Validate validate.Options
	// Canaries, when set, are checked offline while the source is
	// registered: their known passwords must verify against the
	// converted hashes before anything is sent.
	Canaries *validate.Canaries

	// Target receives the users.
	Target target.Target
	// Settings are recorded in a new journal and checked on resume:
	// Target must not carry credentials.
	Settings storage.RunSettings
	// Stages for a new journal; nil parses Settings.StageSpec, and an
	// empty spec takes plan.DefaultStages.
	Stages []plan.StagePlan

	// Slots is the most import jobs in flight (default 2, Auth0's limit).
	Slots int
	// MaxFileBytes caps an import file (default chunk.DefaultMaxBytes).
	MaxFileBytes int
	// MaxAttempts is how often one run sends a chunk whose job failed or
	// whose fate is unknown before it pauses (default 5).
	MaxAttempts int
	// Poll shapes job polling.
	Poll upload.PollPolicy

	// AcceptChangedSource resumes against a source whose digest differs
	// from the journal's: only rows with new emails are added.
	AcceptChangedSource bool
	// Approve lets this stage through its gate (approval, failure rate or
	// verification) when the run reaches it.
	Approve string
	// Retry runs this gated or rolled-back stage again, retrying its
	// failed and rolled-back users.
	Retry string
	// WaitForApproval makes the run wait at a gate for Approve (the TUI);
	// without it Run returns there (headless).
	WaitForApproval bool
	// Operator names who approves, for the audit log.
	Operator string

	// Verify configures the checks after each stage.
	Verify VerifyOptions

	// Events receives progress; the caller must keep reading until Run
	// returns. Nil discards.
	Events chan<- Event
	// Logger receives debug details (never secrets); nil discards.
	Logger *slog.Logger
	// ToolVersion is recorded in a new journal.
	ToolVersion string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// VerifyOptions configure the checks after each stage.
type VerifyOptions struct {
	// Disabled skips verification.
	Disabled bool
	// Sample is how many of a stage's imported users are looked up by
	// email (default 10).
	Sample int
	// Connection is the database connection's name, to recognise its
	// users among same-email users of other connections.
	Connection string
	// Login logs canaries in; nil skips logins with a note.
	Login verify.Logger
	// Canaries are the known passwords, from --credentials.
	Canaries *verify.Canaries
}

// maxChunkUsers is the most users one chunk may hold: the journal records
// a chunk's users in one transaction of at most 10,000 records.
const maxChunkUsers = 10_000

func (o *Options) withDefaults() error {
	if o.Journal == "" {
		return errors.New("run: no journal path")
	}
	if o.Target == nil {
		return errors.New("run: no target")
	}
	if o.Slots <= 0 {
		o.Slots = 2
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = chunk.DefaultMaxBytes
	}
	if o.MaxFileBytes < 1000 || o.MaxFileBytes > chunk.DefaultMaxBytes {
		return fmt.Errorf("run: import files of %d bytes: use 1,000 to %d", o.MaxFileBytes, chunk.DefaultMaxBytes)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.Verify.Sample == 0 {
		o.Verify.Sample = 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Operator == "" {
		o.Operator = "operator"
	}
	return nil
}

// stagePlans resolves the stages a new journal is given.
func (o *Options) stagePlans() ([]plan.StagePlan, error) {
	if o.Stages != nil {
		return o.Stages, plan.CheckStages(o.Stages)
	}
	if o.Settings.StageSpec != "" {
		st, err := plan.ParseStages(o.Settings.StageSpec)
		if err != nil {
			return nil, fmt.Errorf("--stages: %w", err)
		}
		return st, nil
	}
	return nil, nil // plan.DefaultStages, once the users are counted
}
