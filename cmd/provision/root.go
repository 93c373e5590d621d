package main

import (
	"strings"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "provision",
		Short: "Move an organisation's users into Auth0 without losing one",
		Long: `provision plans how users get into Auth0 (self sign-up, identity-store proxy,
automatic or bulk migration), validates legacy exports against Auth0's import
rules, proves that password hashes verify before anything is sent, and runs
staged migrations with a crash-safe local journal.`,
		Example: `  # Open the assistant (the bundled demo on first run)
  provision

  # Check an export: every problem with its line, field and a fix
  provision validate users.csv

  # Prove known passwords verify against the converted hashes
  provision validate users.csv --credentials canaries.csv

  # Write Auth0 import files (<= 500 KB each) for upload by hand
  provision export users.csv --out import/

  # Rehearse against a local Auth0-compatible tenant
  provision sandbox --addr 127.0.0.1:8787`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see '%s --help')", err, c.CommandPath())
	})
	var workspaceDir string
	addWorkspaceFlag(root, &workspaceDir)
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runTUI(cmd, workspaceDir) }
	root.AddCommand(
		newValidateCmd(),
		newExportCmd(),
		newPlanCmd(),
		newApplyCmd(),
		newRemainingCmd(),
		newMigrateCmd(),
		newResumeCmd(),
		newStatusCmd(),
		newReportCmd(),
		newRollbackCmd(),
		newJournalCmd(),
		newServeCmd(),
		newSandboxCmd(),
		newVersionCmd(),
	)
	return root
}

// isUsage recognises cobra's own argument errors, which it does not type.
func isUsage(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "unknown command") || strings.Contains(msg, "accepts ") ||
		strings.Contains(msg, "requires at least") || strings.Contains(msg, "unknown flag")
}
