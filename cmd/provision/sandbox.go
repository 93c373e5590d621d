package main

import "github.com/spf13/cobra"

// TEMPORARY placeholder, replaced by the real command.
func newSandboxCmd() *cobra.Command {
	return &cobra.Command{Use: "sandbox", Short: "(not yet built)", Hidden: true}
}
