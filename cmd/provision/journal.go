package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"provision/storage"
)

func newJournalCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Back up, compact or check a workspace's journal",
		Long: `The journal (WORKSPACE/journal.db) is the single record of a migration. These
commands work on it while no migration is running (a running migration holds
it).`,
		Args: cobra.NoArgs,
	}
	addWorkspaceFlag(cmd, &dir)
	cmd.AddCommand(
		&cobra.Command{
			Use:   "backup FILE",
			Short: "Write a consistent copy of the journal to FILE (0600)",
			Long: `Backup copies the journal in one read transaction, to a file beside FILE that
is renamed into place when complete: FILE is always the previous backup or a
whole new one. Restore by copying it back to WORKSPACE/journal.db while no
migration runs.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withJournal(dir, func(j *storage.Journal) error {
					if err := j.Backup(cmd.Context(), args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", j.Path(), args[0])
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "compact",
			Short: "Rewrite the journal without the free space updates left behind",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withJournal(dir, func(j *storage.Journal) error {
					res, err := j.Compact()
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "compacted %s from %.1f MB to %.1f MB\n", j.Path(), float64(res.Before)/1e6, float64(res.After)/1e6)
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "verify",
			Short: "Cross-check the journal's counters, indexes and chunk lists",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withJournal(dir, func(j *storage.Journal) error {
					rep, err := j.Verify(cmd.Context())
					if err != nil {
						return err
					}
					w := cmd.OutOrStdout()
					if rep.OK() {
						fmt.Fprintf(w, "the journal is consistent: %d users, %d chunks checked\n", rep.Users, rep.Chunks)
						return nil
					}
					for _, p := range rep.Problems {
						fmt.Fprintln(w, p)
					}
					if rep.Omitted > 0 {
						fmt.Fprintf(w, "…and %d more problems\n", rep.Omitted)
					}
					return fmt.Errorf("the journal has %d problems; restore a backup, or report them", len(rep.Problems)+rep.Omitted)
				})
			},
		},
	)
	return cmd
}

// withJournal opens the workspace's journal for fn.
func withJournal(dir string, fn func(*storage.Journal) error) error {
	j, err := storage.Open(workspaceJournal(dir), storage.Options{})
	if err != nil {
		return err
	}
	if err := fn(j); err != nil {
		j.Close()
		return err
	}
	return j.Close()
}
