package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"provision/engine/chunk"
	"provision/engine/plan"
	migration "provision/engine/run"
	"provision/engine/run/verify"
	"provision/engine/target"
	"provision/engine/target/auth0"
	"provision/engine/target/file"
	"provision/engine/validate"
	"provision/engine/workspace"
	"provision/storage"
)

// exitStopped: the run stopped before its end (at a gate, or paused by a
// problem); the summary says why and what to do.
const exitStopped = 4

func newMigrateCmd() *cobra.Command { return migrateCommand("migrate") }

// newResumeCmd is migrate under the name operators reach for after a
// dropped connection: on an existing workspace both resume the run.
func newResumeCmd() *cobra.Command {
	cmd := migrateCommand("resume")
	cmd.Short = "Resume the migration in a workspace (the same as migrate)"
	return cmd
}

type migrateFlags struct {
	src                 sourceFlags
	dir                 string
	target, connection  string
	stages              string
	upsert              bool
	yes, noTUI, dryRun  bool
	credentials         string
	auth0Credentials    string
	approve, retry      string
	acceptChangedSource bool
	format              string
	slots, maxFileBytes int
	noVerify            bool
	verifySample        int
}

func migrateCommand(name string) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   name + " [SOURCE]",
		Short: "Import an export's users into Auth0 in stages, with a crash-safe journal",
		Long: `Migrate validates SOURCE, registers every row in the workspace's journal
(WORKSPACE/journal.db) together with the file's SHA-256, assigns the valid
users to stages, and imports each stage through Auth0's bulk import jobs (at
most --slots jobs in flight), recording every user's outcome. After each
stage it checks a sample of users by email and logs canaries in
(--credentials), then applies the stage's gate: a failure rate above the
gate, or a stage marked approve, stops the run until the operator decides.

Running it again on the same workspace resumes the run, whatever stopped it:
Ctrl-C (exit 130), a dropped SSH session, kill -9 or a power cut. SOURCE,
--target and --connection then come from the journal. Every valid user ends
up in the tenant exactly once.

Stages (--stages, or the workspace's plan.yaml) are NAME:SIZE items: a
number of users, a share of all users (10%) or rest, with :approve and
:max-fail=RATE modifiers; the default is a canary of about 1% waiting for
approval, a 10% wave, then the rest.

Credentials for auth0 targets come from AUTH0_CLIENT_ID and
AUTH0_CLIENT_SECRET, or a 0600 file given with --auth0-credentials, never
from a flag.

Exit status: 0 finished, 4 stopped at a gate or paused (the summary says
why), 130 interrupted, 2 usage error, 1 any other failure.`,
		Example: `  provision migrate users.csv --target auth0:acme.eu.auth0.com --connection con_0123456789abcdef
  provision migrate users.csv --target auth0:http://127.0.0.1:8787 --connection con_sandbox000000001 --stages canary:50:approve,wave:10%,rest --yes
  provision migrate --approve canary          # resume, letting the canary through its gate
  provision migrate users.csv --target file:import/ --dry-run
  provision resume --workspace /srv/acme/.provision`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return runMigrate(cmd, &f, args[0])
			}
			return runMigrate(cmd, &f, "")
		},
	}
	f.src.register(cmd)
	addWorkspaceFlag(cmd, &f.dir)
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "where users go: auth0:TENANT.auth0.com, auth0:http://127.0.0.1:8787 (sandbox) or file:DIR")
	fl.StringVar(&f.connection, "connection", "", "the database connection's id (con_…), for auth0 targets")
	fl.StringVar(&f.stages, "stages", "", "stages, e.g. canary:50:approve,wave:10%,rest (default: the plan's, else canary ~1%:approve,wave:10%,rest)")
	fl.BoolVar(&f.upsert, "upsert", false, "update users that already exist (matched by email) instead of failing them")
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation before importing into a tenant")
	fl.BoolVar(&f.noTUI, "no-tui", false, "print progress lines instead of the interactive view (the default for now)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "validate, assign and pack, and report what would be sent, without a journal or a target")
	fl.StringVar(&f.credentials, "credentials", "", "CSV of email,password canaries (0600): verified offline before sending, then logged in after their stage")
	fl.StringVar(&f.auth0Credentials, "auth0-credentials", "", "0600 file with the Management API client_id and client_secret (default: "+auth0.EnvClientID+"/"+auth0.EnvClientSecret+")")
	fl.StringVar(&f.approve, "approve", "", "let this stage through its gate (approval, failure rate or verification)")
	fl.StringVar(&f.retry, "retry", "", "run this gated or rolled-back stage again, retrying its failed and rolled-back users")
	fl.BoolVar(&f.acceptChangedSource, "accept-changed-source", false, "resume although SOURCE changed since the run started: only rows with new emails are added")
	fl.StringVar(&f.format, "format", "text", "summary format: text or json")
	fl.IntVar(&f.slots, "slots", 2, "import jobs in flight at once (Auth0 runs 2 per tenant)")
	fl.IntVar(&f.maxFileBytes, "max-file-size", chunk.DefaultMaxBytes, "largest import file in `BYTES`")
	fl.BoolVar(&f.noVerify, "no-verify", false, "skip the checks after each stage")
	fl.IntVar(&f.verifySample, "verify-sample", 10, "users per stage looked up by email after the stage")
	return cmd
}

func runMigrate(cmd *cobra.Command, f *migrateFlags, sourceArg string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	if f.format != "text" && f.format != "json" {
		return usageError("--format %q: use text or json", f.format)
	}
	if f.slots < 1 || f.slots > 10 {
		return usageError("--slots %d: use 1 to 10 (Auth0 runs 2 import jobs per tenant at a time)", f.slots)
	}
	if f.maxFileBytes < 1000 || f.maxFileBytes > chunk.DefaultMaxBytes {
		return usageError("--max-file-size %d: use 1000 to %d bytes", f.maxFileBytes, chunk.DefaultMaxBytes)
	}
	dir := f.dir
	if dir == "" {
		dir = workspace.DefaultDir
	}
	journal := filepath.Join(dir, workspace.JournalFile)
	so, vo, err := f.src.options()
	if err != nil {
		return err
	}
	o := migration.Options{
		Journal: journal, Source: sourceArg, SourceOptions: so, Validate: vo,
		Slots: f.slots, MaxFileBytes: f.maxFileBytes, AcceptChangedSource: f.acceptChangedSource,
		Approve: f.approve, Retry: f.retry, Operator: migration.LocalOperator(), ToolVersion: version,
		Verify: migration.VerifyOptions{Disabled: f.noVerify, Sample: f.verifySample},
	}
	o.Settings = storage.RunSettings{Target: f.target, ConnectionID: f.connection, Upsert: f.upsert, StageSpec: f.stages}
	if f.stages != "" {
		if o.Stages, err = plan.ParseStages(f.stages); err != nil {
			return usageError("--stages: %v", err)
		}
		o.Settings.StageSpec = plan.FormatStages(o.Stages)
	}
	if err := applyPlan(cmd, dir, &o); err != nil {
		return err
	}

	resuming := migration.Exists(journal)
	if resuming && !f.dryRun {
		if err := mergeRecorded(cmd, journal, &o); err != nil {
			return err
		}
	} else if o.Source == "" {
		return usageError("give the export to migrate: provision %s SOURCE --target SPEC", cmd.Name())
	}
	if f.credentials != "" {
		if o.Canaries, err = readCanaries(stderr, f.credentials); err != nil {
			return err
		}
		if o.Verify.Canaries, err = verify.ReadCanaries(f.credentials); err != nil {
			return err
		}
	}
	if f.dryRun {
		return runDryRun(cmd, f, o)
	}
	if o.Settings.Target == "" {
		return usageError("--target is required for a new run: auth0:TENANT.auth0.com, auth0:http://127.0.0.1:8787 or file:DIR")
	}
	t, err := openTarget(ctx, stderr, o.Settings.Target, o.Settings.ConnectionID, f.auth0Credentials)
	if err != nil {
		return err
	}
	o.Target, o.Verify.Connection, o.Verify.Login = t.Target, t.connection, t.login
	if !resuming && t.kind == "auth0" && !f.yes {
		if err := confirmOrYes(cmd, fmt.Sprintf("Import the users of %s into %s (connection %s)?", o.Source, o.Settings.Target, o.Settings.ConnectionID)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the workspace: %w", err)
	}

	events := make(chan migration.Event, 256)
	o.Events = events
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		printEvents(stderr, events)
	}()
	eng, err := migration.New(o)
	if err != nil {
		close(events)
		<-printed
		return err
	}
	res, err := eng.Run(ctx)
	close(events)
	<-printed
	if err != nil {
		return err
	}
	if err := writeRunSummary(cmd.OutOrStdout(), f.format, dir, res); err != nil {
		return err
	}
	switch {
	case res.State == migration.StateFinished:
		return nil
	case res.State == migration.StatePaused && ctx.Err() != nil:
		return &exitError{code: exitInterrupted}
	}
	return &exitError{code: exitStopped}
}

// applyPlan fills what the flags left open from the workspace's plan.yaml,
// when there is one.
func applyPlan(cmd *cobra.Command, dir string, o *migration.Options) error {
	path := filepath.Join(dir, workspace.PlanFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	p, err := plan.Load(path)
	if err != nil {
		return err
	}
	flags := cmd.Flags()
	if o.Source == "" && p.Source.Path != "" && !migration.Exists(o.Journal) {
		o.Source = p.SourcePath()
		ps := p.SourceOptions()
		if !flags.Changed("input-format") {
			o.SourceOptions.Format = ps.Format
		}
		if !flags.Changed("delimiter") {
			o.SourceOptions.Delimiter = ps.Delimiter
		}
		if !flags.Changed("map") {
			o.SourceOptions.Mapping = ps.Mapping
		}
	}
	if u := p.Username(); !flags.Changed("username-length") && u.Min > 0 && u.Max > 0 {
		o.Validate.Username = validate.UsernamePolicy{Min: u.Min, Max: u.Max}
	}
	o.Validate.HashDefaults = p.Hash.Input()
	if o.Settings.Target == "" {
		o.Settings.Target = p.Target.Spec
	}
	if o.Settings.ConnectionID == "" {
		o.Settings.ConnectionID = p.Target.Connection
	}
	if !flags.Changed("upsert") {
		o.Settings.Upsert = p.Upsert
	}
	if o.Stages == nil && len(p.Stages) > 0 {
		o.Stages = p.Stages
		o.Settings.StageSpec = plan.FormatStages(p.Stages)
	}
	return nil
}

// mergeRecorded takes what a resumed run was started with from its
// journal, refusing flags that contradict it.
func mergeRecorded(cmd *cobra.Command, journal string, o *migration.Options) error {
	recorded, err := migration.Inspect(journal)
	if err != nil {
		return err
	}
	rec := recorded.Settings
	flags := cmd.Flags()
	conflict := func(flag, given, recorded string) error {
		return usageError("--%s %s: this run was started with %s, and a run cannot change it halfway (start a new --workspace instead)", flag, given, recorded)
	}
	switch {
	case flags.Changed("target") && o.Settings.Target != rec.Target:
		return conflict("target", o.Settings.Target, rec.Target)
	case flags.Changed("connection") && o.Settings.ConnectionID != rec.ConnectionID:
		return conflict("connection", o.Settings.ConnectionID, rec.ConnectionID)
	case flags.Changed("upsert") && o.Settings.Upsert != rec.Upsert:
		return conflict("upsert", fmt.Sprint(o.Settings.Upsert), fmt.Sprint(rec.Upsert))
	case flags.Changed("stages") && rec.StageSpec != "" && o.Settings.StageSpec != rec.StageSpec:
		return conflict("stages", o.Settings.StageSpec, rec.StageSpec)
	}
	o.Settings = rec
	if !flags.Changed("stages") {
		o.Stages = nil
	}
	// The source is read as it was the first time, unless a flag says
	// otherwise (and the engine then refuses the difference).
	if ss := recorded.SourceSettings; ss != nil {
		src := ss.Source()
		if !flags.Changed("input-format") {
			o.SourceOptions.Format = src.Format
		}
		if !flags.Changed("delimiter") {
			o.SourceOptions.Delimiter = src.Delimiter
		}
		if !flags.Changed("map") {
			o.SourceOptions.Mapping = src.Mapping
		}
		v := ss.Validate(o.Validate.HashDefaults.Salt)
		if !flags.Changed("username-length") {
			o.Validate.Username = v.Username
		}
		if o.Validate.HashDefaults.Algorithm == "" && o.Validate.HashDefaults.Salt == "" {
			o.Validate.HashDefaults = v.HashDefaults
		}
		if !flags.Changed("max-file-size") {
			o.MaxFileBytes = ss.MaxFileBytes
		}
	}
	return nil
}

// targetHandle is an opened target and what verification needs of it.
type targetHandle struct {
	target.Target
	kind       string
	connection string // the database connection's name ("" if unknown)
	login      verify.Logger
}

// openTarget opens the target a spec names. For a tenant it also reads
// the connection's name, which identifies the run's users among same-email
// users of other connections and is the realm canaries log in to.
func openTarget(ctx context.Context, stderr io.Writer, spec, connection, credentialsFile string) (*targetHandle, error) {
	ts, err := target.ParseSpec(spec)
	if err != nil {
		return nil, usageError("--target: %v", err)
	}
	if ts.Kind == "file" {
		t, err := file.Open(ts.Value)
		if err != nil {
			return nil, err
		}
		return &targetHandle{Target: t, kind: "file"}, nil
	}
	if connection == "" {
		return nil, usageError("--connection is required for auth0 targets: the id (con_…) of the database connection to import into")
	}
	ep, err := auth0.ParseTargetSpec(spec)
	if err != nil {
		return nil, usageError("--target: %v", err)
	}
	creds, err := auth0.LoadCredentials(credentialsFile)
	if err != nil {
		return nil, err
	}
	c, err := auth0.New(auth0.Config{Endpoint: ep, Credentials: creds, ConnectionID: connection, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	h := &targetHandle{Target: c, kind: "auth0"}
	conn, err := c.Connection(ctx, connection)
	switch {
	case errors.Is(err, auth0.ErrUnknownConnection), errors.Is(err, auth0.ErrBadCredentials), errors.Is(err, auth0.ErrNotFound):
		return nil, err
	case err != nil:
		fmt.Fprintf(stderr, "warning: cannot read connection %s (%v): users are recognised in any database connection, and canaries are not logged in\n", connection, err)
	default:
		h.connection = conn.Name
		h.login = &verify.PasswordRealm{Endpoint: ep, Credentials: creds, Realm: conn.Name}
	}
	return h, nil
}

// confirmOrYes asks on the terminal before anything irreversible; without
// a terminal it refuses, so a script must say --yes.
func confirmOrYes(cmd *cobra.Command, question string) error {
	if !term.IsTerminal(os.Stdin.Fd()) {
		return usageError("%s Pass --yes to confirm when there is no terminal to ask on", question)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return &exitError{code: exitUsage, err: errors.New("not confirmed; nothing was changed")}
	}
	return nil
}

// printEvents writes one line per event. Job progress is left out: it
// repeats at every poll.
func printEvents(w io.Writer, events <-chan migration.Event) {
	for ev := range events {
		if _, ok := ev.(migration.JobProgress); ok {
			continue
		}
		fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), ev)
	}
}

// runSummary is migrate's final word; its JSON form is for scripts.
type runSummary struct {
	State     migration.State `json:"state"`
	Stage     string          `json:"stage,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Workspace string          `json:"workspace"`
	Status    *runStatusView  `json:"status"`
}

func writeRunSummary(w io.Writer, format, dir string, res migration.Result) error {
	sum := runSummary{State: res.State, Stage: res.Stage, Reason: res.Reason, Workspace: dir,
		Status: newRunStatusView(filepath.Join(dir, workspace.JournalFile), res.Status)}
	sum.Status.AsOf, sum.Status.Source, sum.Status.Target, sum.Status.Upsert = time.Now().UTC(), res.Source, res.Settings.Target, res.Settings.Upsert
	if format == "json" {
		return encodeJSON(w, sum)
	}
	var b strings.Builder
	switch res.State {
	case migration.StateFinished:
		b.WriteString("Migration finished.\n\n")
	case migration.StatePaused:
		fmt.Fprintf(&b, "Migration paused: %s.\nResume it with: provision migrate --workspace %s\n\n", res.Reason, dir)
	default:
		fmt.Fprintf(&b, "Migration stopped at stage %s (%s): %s.\n\n", res.Stage, res.State, res.Reason)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tSTATE\tUSERS\tINSERTED\tUPDATED\tFAILED\tWAITING\t")
	for _, s := range sum.Status.Stages {
		u := s.Users
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", s.Name, s.State, u.Total(), u[storage.UserInserted], u[storage.UserUpdated],
			u[storage.UserFailed], u[storage.UserAssigned]+u[storage.UserSubmitted])
	}
	tw.Flush()
	u := res.Status.Users
	fmt.Fprintf(&b, "\n%d rows: %d inserted, %d updated, %d failed, %d quarantined, %d duplicates skipped\n",
		u.Total(), u[storage.UserInserted], u[storage.UserUpdated], u[storage.UserFailed], u[storage.UserQuarantined], u[storage.UserSkipped])
	if res.State == migration.StateFinished {
		fmt.Fprintf(&b, "The reconciliation for the client: provision report --workspace %s\n", dir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func runDryRun(cmd *cobra.Command, f *migrateFlags, o migration.Options) error {
	rep, err := migration.DryRun(cmd.Context(), o)
	if err != nil {
		return err
	}
	if f.format == "json" {
		return encodeJSON(cmd.OutOrStdout(), rep)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Dry run: nothing was written and nothing was sent.\n\n")
	fmt.Fprintf(&b, "%s: %d rows, %d valid, %d quarantined, %d duplicates skipped\n", rep.Source.Path, rep.Rows, rep.Valid, rep.Quarantined, rep.Skipped)
	codes := slices.Collect(maps.Keys(rep.ByCode))
	slices.SortFunc(codes, func(a, b string) int { return cmp.Or(rep.ByCode[b]-rep.ByCode[a], strings.Compare(a, b)) })
	for _, code := range codes {
		fmt.Fprintf(&b, "  %s: %d\n", code, rep.ByCode[code])
	}
	to := rep.Target
	if to == "" {
		to = "(no --target given)"
	}
	fmt.Fprintf(&b, "\nWould send %d users in %d import files (%.1f MB) to %s", rep.Valid, rep.Files, float64(rep.Bytes)/1e6, to)
	if rep.Upsert {
		b.WriteString(" with upsert")
	}
	b.WriteString(":\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tUSERS\tFILES\tMB\tGATE\t")
	for _, s := range rep.Stages {
		gate := fmt.Sprintf("≤%.1f%% failed", 100*s.MaxFailureRate)
		if s.Approve {
			gate += ", then approval"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t\n", s.Name, s.Users, s.Files, float64(s.Bytes)/1e6, gate)
	}
	tw.Flush()
	for _, c := range rep.Canaries {
		state := "verifies"
		if !c.Verified {
			state = "does NOT verify: " + c.Problem
		}
		fmt.Fprintf(&b, "canary <%s>: %s\n", c.Email, state)
	}
	if rep.Resume {
		fmt.Fprintf(&b, "\nThe workspace already holds a run: migrate would resume it (see provision status).\n")
	}
	_, err = io.WriteString(cmd.OutOrStdout(), b.String())
	return err
}
