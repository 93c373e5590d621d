package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"provision/engine/plan"
	migration "provision/engine/run"
	"provision/engine/run/reconcile"
	"provision/engine/workspace"
	"provision/storage"
)

// fixFileName is the fix-and-rerun file report writes into the workspace.
const fixFileName = "fix-and-rerun.csv"

func newReportCmd() *cobra.Command {
	var (
		dir, format, out, fixFile, planPath string
		noFixFile                           bool
		src                                 sourceFlags
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the reconciliation of a migration: every source row in exactly one bucket",
		Long: `Report accounts for every row of the migrated export: inserted, updated,
failed (with Auth0's error code and message), quarantined (with the
validation reason) or skipped as a duplicate, and, while a run is unfinished
or after a rollback, not migrated yet or rolled back. The buckets add up to
the source's row count; a report that would not is refused.

Rows that did not make it (failed or quarantined) are also written to
WORKSPACE/` + fixFileName + ` (0600, formula-safe): the columns line and reason, then
the row exactly as the source had it. Fix the rows and migrate the file in a
new workspace.

With --plan, report writes the consultant's report on a plan instead.`,
		Example: `  provision report > reconciliation.md
  provision report --format csv --out rows.csv
  provision report --format json | jq .buckets
  provision report --plan .provision/plan.yaml --out recommendation.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, closeOut, err := reportOutput(cmd, out)
			if err != nil {
				return err
			}
			if planPath != "" {
				p, err := plan.Load(planPath)
				if err != nil {
					closeOut()
					return err
				}
				if err := plan.WriteReport(w, p, plan.ReportOptions{}); err != nil {
					closeOut()
					return err
				}
				return closeOut()
			}
			if format != "markdown" && format != "md" && format != "json" && format != "csv" {
				closeOut()
				return usageError("--format %q: use markdown, json or csv", format)
			}
			if err := writeReconciliation(cmd, w, dir, format, fixFile, noFixFile, &src); err != nil {
				closeOut()
				return err
			}
			return closeOut()
		},
	}
	addWorkspaceFlag(cmd, &dir)
	src.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "markdown", "report format: markdown, json or csv (one line per source row)")
	fl.StringVar(&out, "out", "", "write the report to this file instead of standard output")
	fl.StringVar(&fixFile, "fix-file", "", "where to write the rows that did not make it (default WORKSPACE/"+fixFileName+")")
	fl.BoolVar(&noFixFile, "no-fix-file", false, "do not write the fix-and-rerun file")
	fl.StringVar(&planPath, "plan", "", "write the consultant's report on this plan file instead")
	return cmd
}

// reportOutput opens where the report goes; the returned func closes it.
func reportOutput(cmd *cobra.Command, out string) (io.Writer, func() error, error) {
	if out == "" {
		return cmd.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func writeReconciliation(cmd *cobra.Command, w io.Writer, dir, format, fixFile string, noFixFile bool, src *sourceFlags) error {
	ctx := cmd.Context()
	if dir == "" {
		dir = workspace.DefaultDir
	}
	path := workspaceJournal(dir)
	if !migration.Exists(path) {
		return fmt.Errorf("no migration in %s: nothing to report (run provision migrate first)", dir)
	}
	j, err := storage.Open(path, storage.Options{LockTimeout: 500 * time.Millisecond})
	var inUse *storage.InUseError
	if errors.As(err, &inUse) {
		return fmt.Errorf("%w: the migration is running; report when it has stopped (provision status shows its progress)", err)
	}
	if err != nil {
		return err
	}
	defer j.Close()
	rows, err := migration.SourceRows(j)
	if err != nil {
		return err
	}
	rep, err := reconcile.Build(ctx, j, rows)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		err = rep.WriteJSON(w)
	case "csv":
		err = reconcile.WriteCSV(ctx, j, w)
	default:
		err = rep.WriteMarkdown(w)
	}
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "%d rows: %d inserted, %d updated, %d failed, %d quarantined, %d skipped", rep.Rows,
		rep.Buckets[reconcile.Inserted], rep.Buckets[reconcile.Updated], rep.Buckets[reconcile.Failed], rep.Buckets[reconcile.Quarantined], rep.Buckets[reconcile.Skipped])
	if n := rep.Buckets[reconcile.NotMigrated]; n > 0 {
		fmt.Fprintf(stderr, ", %d not migrated yet", n)
	}
	if n := rep.Buckets[reconcile.RolledBack]; n > 0 {
		fmt.Fprintf(stderr, ", %d rolled back", n)
	}
	fmt.Fprintln(stderr)
	if noFixFile || len(rep.Failed)+len(rep.Quarantined) == 0 {
		return nil
	}
	return writeFixFile(cmd, j, dir, fixFile, src)
}

func writeFixFile(cmd *cobra.Command, j *storage.Journal, dir, path string, src *sourceFlags) error {
	stderr := cmd.ErrOrStderr()
	if path == "" {
		path = filepath.Join(dir, fixFileName)
	}
	meta, err := j.Meta()
	if err != nil {
		return err
	}
	so, _, err := src.options()
	if err != nil {
		return err
	}
	fp, err := migration.Fingerprint(cmd.Context(), meta.Source.Path)
	if err != nil {
		fmt.Fprintf(stderr, "warning: no fix-and-rerun file: %v\n", err)
		return nil
	}
	n, err := reconcile.WriteFixFile(cmd.Context(), j, reconcile.FixOptions{
		Source: fp.Path, SourceOptions: so, Changed: fp.SHA256 != meta.Source.SHA256, Path: path,
	})
	if err != nil {
		return fmt.Errorf("write the fix-and-rerun file: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %d rows that did not make it to %s (fix them, then migrate that file in a new workspace)\n", n, path)
	return nil
}
