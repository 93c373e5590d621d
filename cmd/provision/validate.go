package main

import "github.com/spf13/cobra"

// TEMPORARY placeholder, replaced by the real command.
func newValidateCmd() *cobra.Command {
	return &cobra.Command{Use: "validate", Short: "(not yet built)", Hidden: true}
}
