package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/plan/remaining"
)

func newRemainingCmd() *cobra.Command {
	var planPath, out, credentials string
	cmd := &cobra.Command{
		Use:   "remaining [--plan plan.yaml] [--out DIR]",
		Short: "After automatic migration, write the users still in the legacy store as the bulk phase's workspace",
		Long: `Remaining exports the connection's users from Auth0 (a users-exports job),
compares them by email with the plan's legacy export, and writes the bulk
phase's workspace into --out (default: bulk-phase beside the plan):

  remaining.csv   every row Auth0 does not have yet, with the export's columns
                  (remaining.ndjson for a JSON export); mode 0600, it holds
                  password hashes
  plan.yaml       the plan, with that file as its source

Every source row is counted once: already in Auth0, remaining, without an
email, or unreadable. Then provision migrate --workspace DIR imports them in
the plan's stages.

Run it right before the bulk phase: a user who logs in after it would be
both migrated and imported (DUPLICATED_USER).`,
		Example: `  provision remaining --plan plan/plan.yaml
  provision remaining --plan plan/plan.yaml --out plan/bulk-phase && provision migrate --workspace plan/bulk-phase`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := plan.Load(planPath)
			if err != nil {
				return err
			}
			if p.Strategy != advisor.AutomaticThenBulk && p.Strategy != advisor.Automatic {
				return usageError("remaining follows an automatic migration; this plan's strategy is %s", p.Strategy)
			}
			if p.Source.Path == "" {
				return fmt.Errorf("%s names no source: set source.path to the legacy export", planPath)
			}
			if out == "" {
				out = filepath.Join(p.Dir(), plan.BulkPhaseDir)
			}
			client, err := planClient(p, credentials)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			res, err := remaining.Run(cmd.Context(), client, remaining.Options{
				Source: p.SourcePath(), SourceOptions: p.SourceOptions(), ConnectionID: p.Target.Connection, Dir: out,
			})
			if err != nil {
				return err
			}
			next := *p
			next.Source.Path, next.Source.Format, next.Source.Delimiter = filepath.Base(res.File), string(res.Format), res.Delimiter
			next.Strategy = advisor.AutomaticThenBulk
			if next.Legacy != nil && next.Legacy.WindowDays == 0 {
				next.Legacy.WindowDays = advisor.DefaultWindowDays
			}
			// Default stages were sized for every user; size them again for
			// those left. Stages someone chose are kept.
			if len(next.Stages) == 0 || plan.FormatStages(next.Stages) == plan.FormatStages(plan.DefaultStages(p.Users())) {
				next.Stages = plan.DefaultStages(res.Remaining)
			}
			if err := next.Write(filepath.Join(out, plan.FileName)); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Connection %s holds %d users.\n", p.Target.Connection, res.Exported)
			fmt.Fprintf(w, "%s: %d rows: %d already in Auth0, %d remaining, %d without an email, %d unreadable.\n",
				p.Source.Path, res.Rows, res.InAuth0, res.Remaining, res.NoEmail, res.Broken)
			fmt.Fprintf(w, "Wrote %s (0600) and %s.\nNext: provision migrate --workspace %s\n",
				res.File, filepath.Join(out, plan.FileName), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&planPath, "plan", defaultPlanPath, "the plan file")
	cmd.Flags().StringVar(&out, "out", "", "the bulk phase's workspace (default: bulk-phase beside the plan; created 0700)")
	cmd.Flags().StringVar(&credentials, "auth0-credentials", "", "file with client_id and client_secret, mode 0600 (default: AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET)")
	return cmd
}
