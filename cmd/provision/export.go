package main

import "github.com/spf13/cobra"

// TEMPORARY placeholder, replaced by the real command.
func newExportCmd() *cobra.Command {
	return &cobra.Command{Use: "export", Short: "(not yet built)", Hidden: true}
}
