package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	migration "provision/engine/run"
	"provision/engine/workspace"
	"provision/storage"
)

func newStatusCmd() *cobra.Command {
	var dir, format string
	var events int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show where the migration in a workspace stands",
		Long: `Status reads the workspace's journal: each stage with its users by state,
its failure rate and gate, the import jobs in flight and the latest entries
of the audit log. It reads counters, never every user, so it answers at once
even for millions of users.

While a migration is running it holds the journal, so status shows the
snapshot the running migration publishes after every chunk instead.`,
		Example: `  provision status
  provision status --workspace /srv/acme/.provision --format json | jq .stages`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format %q: use text or json", format)
			}
			v, err := loadRunStatus(workspaceJournal(dir), events)
			if err != nil {
				return err
			}
			if format == "json" {
				return encodeJSON(cmd.OutOrStdout(), v)
			}
			return v.writeText(cmd.OutOrStdout())
		},
	}
	addWorkspaceFlag(cmd, &dir)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&events, "events", 10, "show the latest N audit log entries")
	return cmd
}

func workspaceJournal(dir string) string {
	if dir == "" {
		dir = workspace.DefaultDir
	}
	return filepath.Join(dir, workspace.JournalFile)
}

// runStatusView is what status prints; its JSON form is a contract for
// scripts.
type runStatusView struct {
	Journal string `json:"journal"`
	// Live is set when a running migration holds the journal and the
	// status comes from its published snapshot.
	Live     bool                       `json:"live"`
	Holder   *storage.LockHolder        `json:"holder,omitempty"`
	AsOf     time.Time                  `json:"as_of"`
	Source   storage.SourceFingerprint  `json:"source"`
	Target   string                     `json:"target,omitempty"`
	Upsert   bool                       `json:"upsert"`
	Stages   []stageView                `json:"stages"`
	Users    storage.UserCounts         `json:"users"`
	Unstaged storage.UserCounts         `json:"unstaged"`
	Chunks   map[storage.ChunkState]int `json:"chunks"`
	InFlight []chunkView                `json:"in_flight"`
	Events   []storage.Event            `json:"events"`
}

type stageView struct {
	Name        string             `json:"name"`
	State       storage.StageState `json:"state"`
	Planned     int                `json:"planned"`
	Users       storage.UserCounts `json:"users"`
	FailureRate float64            `json:"failure_rate"`
	Gate        storage.Gate       `json:"gate"`
	GateReason  string             `json:"gate_reason,omitempty"`
	Approval    *storage.Approval  `json:"approval,omitempty"`
}

type chunkView struct {
	Chunk    storage.ChunkID    `json:"chunk"`
	Stage    string             `json:"stage"`
	State    storage.ChunkState `json:"state"`
	Job      string             `json:"job,omitempty"`
	Users    int                `json:"users"`
	Attempts int                `json:"attempts"`
}

// loadStatus reads the journal, or the running migration's snapshot when
// the journal is busy.
func loadRunStatus(path string, events int) (*runStatusView, error) {
	if !migration.Exists(path) {
		return nil, fmt.Errorf("no migration in %s: start one with provision migrate SOURCE --target SPEC", filepath.Dir(path))
	}
	j, err := storage.Open(path, storage.Options{LockTimeout: 300 * time.Millisecond})
	var inUse *storage.InUseError
	if errors.As(err, &inUse) {
		snap, serr := migration.ReadSnapshot(path)
		if serr != nil {
			return nil, fmt.Errorf("%w; its status snapshot cannot be read either (%v)", err, serr)
		}
		v := newRunStatusView(path, snap.Status)
		v.Live, v.Holder, v.AsOf = true, inUse.Holder, snap.Written
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	defer j.Close()
	st, err := j.Status(events)
	if err != nil {
		return nil, err
	}
	meta, err := j.Meta()
	if err != nil {
		return nil, err
	}
	v := newRunStatusView(path, st)
	v.AsOf, v.Source, v.Target, v.Upsert = time.Now().UTC(), meta.Source, meta.Settings.Target, meta.Settings.Upsert
	return v, nil
}

func newRunStatusView(path string, st storage.Status) *runStatusView {
	v := &runStatusView{Journal: path, Users: st.Users, Unstaged: st.Unstaged, Chunks: st.Chunks, Events: st.Events,
		Stages: []stageView{}, InFlight: []chunkView{}}
	for _, s := range st.Stages {
		v.Stages = append(v.Stages, stageView{Name: s.Name, State: s.State, Planned: s.Planned, Users: s.Users,
			FailureRate: s.FailureRate, Gate: s.Gate, GateReason: s.GateReason, Approval: s.Approval})
	}
	for _, c := range st.InFlight {
		v.InFlight = append(v.InFlight, chunkView{Chunk: c.ID, Stage: c.Stage, State: c.State, Job: c.JobID, Users: c.Users, Attempts: c.Attempts})
	}
	if v.Events == nil {
		v.Events = []storage.Event{}
	}
	return v
}

func (v *runStatusView) writeText(w io.Writer) error {
	var b strings.Builder
	if v.Live {
		holder := "another process"
		if v.Holder != nil {
			holder = fmt.Sprintf("PID %d on %s", v.Holder.PID, v.Holder.Host)
		}
		fmt.Fprintf(&b, "A migration is running (%s); its status as of %s:\n\n", holder, v.AsOf.Local().Format("15:04:05"))
	} else {
		fmt.Fprintf(&b, "source   %s (sha256 %.12s…)\ntarget   %s", v.Source.Path, v.Source.SHA256, v.Target)
		if v.Upsert {
			b.WriteString(" (upsert)")
		}
		b.WriteString("\n\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "STAGE\tSTATE\tUSERS\tINSERTED\tUPDATED\tFAILED\tWAITING\tFAIL RATE\tGATE\t")
	for _, s := range v.Stages {
		u := s.Users
		gate := fmt.Sprintf("≤%.1f%%", 100*s.Gate.MaxFailureRate)
		if s.Gate.Approve {
			gate += " +approve"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%s\t\n", s.Name, s.State, u.Total(),
			u[storage.UserInserted], u[storage.UserUpdated], u[storage.UserFailed],
			u[storage.UserAssigned]+u[storage.UserSubmitted], 100*s.FailureRate, gate)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%d rows: %d quarantined, %d duplicates skipped, %d not in a stage yet\n",
		v.Users.Total(), v.Users[storage.UserQuarantined], v.Users[storage.UserSkipped], v.Unstaged[storage.UserPending])
	for _, s := range v.Stages {
		if s.GateReason != "" && s.State == storage.StageGated {
			fmt.Fprintf(&b, "stage %s is stopped at its gate: %s\n", s.Name, s.GateReason)
		}
	}
	if len(v.InFlight) > 0 {
		b.WriteString("\nJobs in flight:\n")
		for _, c := range v.InFlight {
			job := c.Job
			if job == "" {
				job = "(id not recorded yet)"
			}
			fmt.Fprintf(&b, "  chunk %d (stage %s, %d users): %s %s\n", c.Chunk, c.Stage, c.Users, c.State, job)
		}
	}
	if len(v.Events) > 0 {
		b.WriteString("\nLatest events:\n")
		for _, e := range v.Events {
			fmt.Fprintf(&b, "  %s  %s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
