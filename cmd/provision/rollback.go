package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	migration "provision/engine/run"
	"provision/engine/workspace"
	"provision/storage"
)

func newRollbackCmd() *cobra.Command {
	var (
		dir, stage, format, auth0Credentials string
		yes                                  bool
		workers                              int
	)
	cmd := &cobra.Command{
		Use:   "rollback --stage NAME",
		Short: "Delete the users a stage inserted, by the user ids recorded in the journal",
		Long: `Rollback deletes from the tenant every user the stage inserted, by the target
user_id the journal holds (or, when it holds none, the one found by email in
the run's connection), and records each deletion in the journal. Users the
stage updated (upsert) existed before the run: they are listed, not deleted.

The stage is marked rolling back before the first deletion, so a rollback
cut short by an error, Ctrl-C or a crash is finished by running the same
command again. Afterwards the migration stops at the stage until it is run
again with provision migrate --retry NAME.

The target and connection come from the journal; credentials from
AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET or --auth0-credentials.`,
		Example: `  provision rollback --stage wave
  provision rollback --stage canary --yes --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stage == "" {
				return usageError("--stage NAME is required: the stage whose inserted users to delete (see provision status)")
			}
			if format != "text" && format != "json" {
				return usageError("--format %q: use text or json", format)
			}
			if dir == "" {
				dir = workspace.DefaultDir
			}
			path := workspaceJournal(dir)
			rec, err := migration.Inspect(path)
			if err != nil {
				return err
			}
			inserted, err := stageInserted(path, stage)
			if err != nil {
				return err
			}
			t, err := openTarget(cmd.Context(), cmd.ErrOrStderr(), rec.Settings.Target, rec.Settings.ConnectionID, auth0Credentials)
			if err != nil {
				return err
			}
			if !yes && inserted > 0 {
				q := fmt.Sprintf("Delete the %d users that stage %s inserted from %s?", inserted, stage, rec.Settings.Target)
				if err := confirmOrYes(cmd, q); err != nil {
					return err
				}
			}
			events := make(chan migration.Event, 64)
			printed := make(chan struct{})
			go func() {
				defer close(printed)
				printEvents(cmd.ErrOrStderr(), events)
			}()
			res, err := migration.Rollback(cmd.Context(), migration.RollbackOptions{
				Journal: path, Target: t.Target, Stage: stage, Connection: t.connection, Workers: workers, Events: events,
			})
			close(events)
			<-printed
			if err != nil {
				if cmd.Context().Err() != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					return &exitError{code: exitInterrupted}
				}
				return err
			}
			return writeRollback(cmd, format, res)
		},
	}
	addWorkspaceFlag(cmd, &dir)
	fl := cmd.Flags()
	fl.StringVar(&stage, "stage", "", "the stage to roll back")
	fl.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	fl.StringVar(&format, "format", "text", "summary format: text or json")
	fl.StringVar(&auth0Credentials, "auth0-credentials", "", "0600 file with the Management API client_id and client_secret")
	fl.IntVar(&workers, "workers", 4, "deletions in flight at once (the client keeps to the tenant's rate limit)")
	return cmd
}

// stageInserted counts the users a stage inserted and has not rolled back.
func stageInserted(path, stage string) (int, error) {
	j, err := storage.Open(path, storage.Options{})
	if err != nil {
		return 0, err
	}
	defer j.Close()
	st, err := j.Status(0)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, s := range st.Stages {
		if s.Name == stage {
			return s.Users[storage.UserInserted], nil
		}
		names = append(names, s.Name)
	}
	return 0, usageError("--stage %s: the run has no such stage (its stages are %s)", stage, strings.Join(names, ", "))
}

type rollbackSummary struct {
	Stage       string        `json:"stage"`
	Deleted     int           `json:"deleted"`
	AlreadyGone int           `json:"already_gone"`
	RolledBack  int           `json:"rolled_back"`
	Updated     []updatedUser `json:"updated_not_deleted"`
}

type updatedUser struct {
	Row    storage.RowID `json:"row"`
	Line   int           `json:"line"`
	Email  string        `json:"email"`
	UserID string        `json:"user_id,omitempty"`
}

func writeRollback(cmd *cobra.Command, format string, res *migration.RollbackResult) error {
	sum := rollbackSummary{Stage: res.Stage, Deleted: res.Deleted, AlreadyGone: res.AlreadyGone, RolledBack: res.RolledBack, Updated: []updatedUser{}}
	for _, u := range res.Updated {
		sum.Updated = append(sum.Updated, updatedUser{Row: u.Row, Line: u.Line, Email: u.Email, UserID: u.UserID})
	}
	w := cmd.OutOrStdout()
	if format == "json" {
		return encodeJSON(w, sum)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Stage %s is rolled back: %d users deleted now, %d already gone, %d rolled back in all.\n", res.Stage, res.Deleted, res.AlreadyGone, res.RolledBack)
	if len(sum.Updated) > 0 {
		fmt.Fprintf(&b, "\n%d users the stage updated existed before the run and were left as they are:\n", len(sum.Updated))
		for i, u := range sum.Updated {
			if i == 50 {
				fmt.Fprintf(&b, "  …and %d more (--format json lists them all)\n", len(sum.Updated)-50)
				break
			}
			fmt.Fprintf(&b, "  line %d  %s  %s\n", u.Line, u.Email, u.UserID)
		}
	}
	fmt.Fprintf(&b, "\nTo import the stage again: provision migrate --retry %s\n", res.Stage)
	_, err := fmt.Fprint(w, b.String())
	return err
}
