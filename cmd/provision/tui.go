package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"provision/engine/workspace"
	"provision/tui"
)

// addWorkspaceFlag registers --workspace on cmd and its subcommands.
func addWorkspaceFlag(cmd *cobra.Command, dst *string) {
	cmd.PersistentFlags().StringVar(dst, "workspace", workspace.DefaultDir,
		"workspace directory: plan, journal, exports, canary credentials, quarantine files and logs")
}

// runTUI opens the assistant on the workspace. Like gum, it draws on
// stderr when stdout is not a terminal, so `provision > out` still works;
// without a terminal at all it prints a short plain-text status and help
// instead, and returns at once. ctrl+c ends it with exit status 130.
func runTUI(cmd *cobra.Command, dir string) error {
	if dir == "" {
		dir = workspace.DefaultDir
	}
	in, out := os.Stdin, os.Stdout
	if !term.IsTerminal(out.Fd()) {
		out = os.Stderr
	}
	if !term.IsTerminal(in.Fd()) || !term.IsTerminal(out.Fd()) || os.Getenv("TERM") == "dumb" {
		return writePlainStatus(cmd.OutOrStdout(), dir)
	}
	log, closer := workspace.Logger(dir, slog.LevelInfo)
	defer closer.Close()
	log.Info("assistant started", "workspace", dir, "version", version)

	interrupted, err := tui.Run(cmd.Context(), in, out, tui.Options{
		Renderer:     lipgloss.NewRenderer(out),
		WorkspaceDir: dir,
		Log:          log,
		Version:      version,
	})
	if err != nil {
		log.Error("assistant failed", "err", err)
		return fmt.Errorf("the assistant stopped: %w", err)
	}
	if interrupted {
		return &exitError{code: exitInterrupted}
	}
	return nil
}

// writePlainStatus is what `provision` prints without a terminal: where
// the workspace stands and what to run.
func writePlainStatus(w io.Writer, dir string) error {
	var b strings.Builder
	b.WriteString("provision: no terminal, so the interactive assistant did not start.\n\n")
	if ws, err := workspace.Open(dir); err == nil {
		st := ws.Status()
		plan, journal := "none", "none"
		if st.Plan.Exists {
			plan = st.Plan.Path
		}
		if st.Journal.Exists {
			journal = fmt.Sprintf("%s (%d bytes)", st.Journal.Path, st.Journal.Size)
		}
		exports := "none"
		if len(st.Exports) > 0 {
			exports = strings.Join(st.Exports, ", ")
		}
		fmt.Fprintf(&b, "  workspace  %s\n  exports    %s\n  plan       %s\n  journal    %s\n\n", dir, exports, plan, journal)
	} else {
		fmt.Fprintf(&b, "  workspace  %s (not created yet: run provision in a terminal to set up the demo)\n\n", dir)
	}
	b.WriteString("Run provision in a terminal for the assistant, or use a command:\n")
	b.WriteString("  provision validate FILE [--credentials CANARIES.csv]   check an export against Auth0's import rules\n")
	b.WriteString("  provision plan --answers ANSWERS.yaml --sample FILE    recommend a strategy and write the plan\n")
	b.WriteString("  provision migrate [FILE] --target SPEC                 import in stages; resumes the journal\n")
	b.WriteString("  provision status | provision report                    where the run stands; its reconciliation\n")
	b.WriteString("  provision --help                                       every command and flag\n")
	_, err := io.WriteString(w, b.String())
	return err
}
