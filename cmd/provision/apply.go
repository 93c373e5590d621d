package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/plan/apply"
	"provision/engine/plan/scripts"
	"provision/engine/target/auth0"
)

func newApplyCmd() *cobra.Command {
	var (
		planPath    string
		yes         bool
		finish      bool
		credentials string
	)
	cmd := &cobra.Command{
		Use:   "apply [--plan plan.yaml] [--yes]",
		Short: "Set the database connection's options (and custom database scripts) as the plan says",
		Long: `Apply reads the connection named in the plan, merges the plan's options into
its current ones (Auth0 replaces the whole options object on a change, so
nothing the plan does not mention is dropped), shows what would change, and
asks before sending it. For the proxy and automatic migration it also
installs the custom database scripts from the plan's scripts/ directory, as
you may have adapted them. With --finish (automatic migration), it installs
the after-bulk scripts instead: login and get_user that find nobody, with
import mode kept on.

Client credentials come from AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or
from --auth0-credentials FILE (mode 0600); never from a flag. Without a
terminal to ask on, apply only proceeds with --yes.`,
		Example: `  provision apply --plan plan/plan.yaml
  AUTH0_CLIENT_ID=... AUTH0_CLIENT_SECRET=... provision apply --plan plan/plan.yaml --yes
  provision apply --plan plan/plan.yaml --finish`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := plan.Load(planPath)
			if err != nil {
				return err
			}
			if finish && p.Strategy != advisor.AutomaticThenBulk && p.Strategy != advisor.Automatic {
				return usageError("--finish ends an automatic migration; this plan's strategy is %s", p.Strategy)
			}
			client, err := planClient(p, credentials)
			if err != nil {
				return err
			}
			var custom map[string]string
			if finish {
				custom = map[string]string{}
				for _, s := range scripts.Finish() {
					custom[s.Name] = s.Source
				}
			} else if custom, err = p.Scripts(); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			interactive := stdinIsTerminal()
			res, err := apply.Apply(cmd.Context(), client, p.Target.Connection, p.ConnectionOptions(custom),
				func(conn auth0.Connection, changes []apply.Change) (bool, error) {
					fmt.Fprintf(w, "Connection %s (%s) on %s: %d %s\n", conn.Name, conn.ID, p.Target.Spec, len(changes), plural(len(changes), "change", "changes"))
					if err := apply.WriteDiff(w, changes); err != nil {
						return false, err
					}
					switch {
					case yes:
						return true, nil
					case !interactive:
						return false, usageError("standard input is not a terminal, so apply cannot ask: run it again with --yes to make these changes")
					}
					return confirm(cmd, "Apply these changes?")
				})
			switch {
			case err != nil:
				return err
			case len(res.Changes) == 0:
				fmt.Fprintf(w, "Connection %s (%s) already has the plan's options: nothing to change.\n", res.Connection.Name, res.Connection.ID)
			case !res.Applied:
				fmt.Fprintln(w, "Nothing was changed.")
			default:
				fmt.Fprintf(w, "Applied %d %s to connection %s.\n", len(res.Changes), plural(len(res.Changes), "change", "changes"), res.Connection.ID)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&planPath, "plan", defaultPlanPath, "the plan file")
	cmd.Flags().BoolVar(&yes, "yes", false, "apply without asking (needed without a terminal)")
	cmd.Flags().BoolVar(&finish, "finish", false, "after the bulk phase: install the login and get_user scripts that find nobody")
	cmd.Flags().StringVar(&credentials, "auth0-credentials", "", "file with client_id and client_secret, mode 0600 (default: AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET)")
	return cmd
}

// planClient connects to the plan's tenant.
func planClient(p *plan.Plan, credentials string) (*auth0.Client, error) {
	if p.Target.Spec == "" || p.Target.Connection == "" {
		return nil, fmt.Errorf("%s: set target.spec (auth0:TENANT.auth0.com) and target.connection (con_...) first", p.Dir())
	}
	ep, err := auth0.ParseTargetSpec(p.Target.Spec)
	if err != nil {
		return nil, err
	}
	creds, err := auth0.LoadCredentials(credentials)
	if err != nil {
		return nil, err
	}
	return auth0.New(auth0.Config{Endpoint: ep, Credentials: creds, ConnectionID: p.Target.Connection,
		SendCompletionEmail: p.SendCompletionEmail})
}

// stdinIsTerminal reports whether a person can answer on standard input
// (/dev/null is a character device, but nobody answers there). Tests
// replace it.
var stdinIsTerminal = func() bool { return term.IsTerminal(os.Stdin.Fd()) }

// confirm asks a yes/no question on the command's input.
func confirm(cmd *cobra.Command, question string) (bool, error) {
	fmt.Fprintf(cmd.OutOrStdout(), "%s [y/N] ", question)
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
