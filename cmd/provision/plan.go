package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/run"
	"provision/engine/source"
	"provision/engine/validate"
	"provision/engine/workspace"
)

// defaultPlanPath is where the plan lives when --plan is not given.
var defaultPlanPath = filepath.Join(workspace.DefaultDir, plan.FileName)

func newPlanCmd() *cobra.Command {
	var (
		src         sourceFlags
		answersPath string
		sample      string
		out         string
		target      string
		connection  string
		stages      string
		strategy    string
		credentials string
		force       bool
	)
	cmd := &cobra.Command{
		Use:   "plan --answers ANSWERS.yaml [--sample EXPORT] [--out DIR]",
		Short: "Recommend a provisioning strategy and write the plan and its artifacts",
		Long: `Plan reads the answers to the advisor's questions and, with --sample, validates
an export to see what the data holds: which password hashes Auth0 can import,
how many users there are, duplicates and rule violations. From both it
recommends a strategy (self sign-up, identity-store proxy, automatic
migration, bulk migration, or automatic migration then bulk), with its
reasons, ranked alternatives and risks, and writes into --out:

  plan.yaml                 the plan: strategy, source, target, policies, stages
  recommendation.md         the consultant's report (see provision report)
  connection-options.json   the connection's options, ready for provision apply
  scripts/*.js              custom database scripts (proxy, automatic migration)
  policy-check.md           the sample against the password and username policy (self sign-up)

No file holds a secret. The answers file uses the keys of docs/plan.md;
examples are in fixtures/answers/.`,
		Example: `  provision plan --answers fixtures/answers/automatic-then-bulk.yaml --sample fixtures/demo-users.csv --out plan/
  provision plan --answers answers.yaml --sample users.csv --target auth0:acme.eu.auth0.com --connection con_AbCdEfGhIjKlMnOp
  provision plan --answers answers.yaml --sample users.csv --stages canary:100:approve,wave:20%,rest`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if answersPath == "" {
				return usageError("--answers FILE is required: the answers to the advisor's questions (examples in fixtures/answers/)")
			}
			so, _, err := src.options()
			if err != nil {
				return err
			}
			af, err := plan.LoadAnswers(answersPath)
			if err != nil {
				return err
			}
			in := plan.Inputs{
				Answers: af.Answers,
				Target:  plan.Target{Spec: firstSet(target, af.Target), Connection: firstSet(connection, af.Connection)},
				Hash:    af.HashDefaults,
			}
			if s := firstSet(strategy, af.Strategy); s != "" {
				st, err := advisor.ParseStrategy(s)
				if err != nil {
					return usageError("--strategy: %v", err)
				}
				in.Strategy = st
			}
			if s := firstSet(stages, af.Stages); s != "" {
				if in.Stages, err = plan.ParseStages(s); err != nil {
					return usageError("--stages: %v", err)
				}
			}
			if sample != "" {
				if err := readSample(cmd, &in, sample, so, credentials); err != nil {
					return err
				}
				rel, err := relativeTo(out, sample)
				if err != nil {
					return err
				}
				in.Source = plan.Source{Path: rel, Format: in.Source.Format, Delimiter: src.delimiter, Mapping: so.Mapping}
				in.Data.File = rel
			}
			p, rec, err := plan.New(in)
			if err != nil {
				return err
			}
			files, err := plan.WriteWorkspace(out, p, plan.WorkspaceOptions{Force: force})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Recommended: %s (rule %s)\n", rec.Strategy.Title(), rec.Rule)
			for _, r := range rec.Reasons {
				fmt.Fprintf(w, "  - %s\n", r)
			}
			if p.Strategy != rec.Strategy {
				fmt.Fprintf(w, "The plan uses %s, as asked.\n", p.Strategy.Title())
			}
			fmt.Fprintf(w, "\nWrote to %s:\n", out)
			for _, f := range files {
				fmt.Fprintf(w, "  %s\n", f)
			}
			fmt.Fprintf(w, "\nNext: read %s, then provision apply --plan %s\n",
				filepath.Join(out, plan.RecommendationFile), filepath.Join(out, plan.FileName))
			return nil
		},
	}
	cmd.Flags().StringVar(&answersPath, "answers", "", "answers to the advisor's questions (YAML; see fixtures/answers/)")
	cmd.Flags().StringVar(&sample, "sample", "", "a legacy export (or a sample of it) to validate: the recommendation follows its data")
	cmd.Flags().StringVar(&out, "out", workspace.DefaultDir, "directory to write the plan and its artifacts to (created 0700)")
	cmd.Flags().StringVar(&target, "target", "", "tenant: auth0:TENANT.auth0.com or auth0:http://127.0.0.1:8787 (overrides the answers file)")
	cmd.Flags().StringVar(&connection, "connection", "", "database connection id, con_... (overrides the answers file)")
	cmd.Flags().StringVar(&stages, "stages", "", "bulk import stages, e.g. canary:50:approve,wave:10%,rest")
	cmd.Flags().StringVar(&strategy, "strategy", "", "use this strategy instead of the recommended one")
	cmd.Flags().StringVar(&credentials, "credentials", "", "CSV of email,password canaries: check known passwords against the policy (never printed or stored)")
	cmd.Flags().BoolVar(&force, "force", false, "replace a plan already in --out")
	cmd.Flags().StringVar(&src.format, "input-format", "", "source format: csv, json or ndjson (default: detect)")
	cmd.Flags().StringVar(&src.delimiter, "delimiter", "", "CSV delimiter: ',', ';', '\\t' or '|' (default: detect)")
	cmd.Flags().StringArrayVar(&src.maps, "map", nil, "map a source column to an Auth0 field, e.g. --map mail=email (repeatable)")
	src.username = "1-15" // the answers give the username rule
	return cmd
}

// readSample validates the sample, as the plan's policies will, and counts
// what the advisor looks at. The fingerprint lets a report name the file.
func readSample(cmd *cobra.Command, in *plan.Inputs, path string, so source.Options, credentials string) error {
	user, _ := in.Answers.Username()
	r, closer, err := source.Open(path, so)
	if err != nil {
		return err
	}
	defer closer.Close()
	tally := advisor.Tally{Username: user}
	rep, err := validate.Run(cmd.Context(), r, validate.RunOptions{
		Options: validate.Options{
			Username:     validate.UsernamePolicy{Min: user.Min, Max: user.Max},
			HashDefaults: in.Hash.Input(),
		},
		File: path, MaxFindings: 1, OnResult: tally.Add,
	})
	if err != nil {
		return err
	}
	in.Data = tally.Data(rep)
	in.Header = r.Header()
	in.Source.Format = string(r.Format())
	fp, err := run.Fingerprint(cmd.Context(), path)
	if err != nil {
		return err
	}
	in.Data.SHA256 = fp.SHA256
	if credentials != "" {
		level, _ := in.Answers.Level()
		known, weak, err := checkKnownPasswords(cmd.ErrOrStderr(), credentials, func(pw string) bool { ok, _ := level.Meets(pw); return ok })
		if err != nil {
			return err
		}
		in.Data.KnownPasswords, in.Data.WeakPasswords = known, weak
	}
	return nil
}

// checkKnownPasswords counts the canary passwords that fail the policy.
// The passwords stay in memory and in this function.
func checkKnownPasswords(stderr io.Writer, path string, meets func(string) bool) (known, weak int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: %s holds passwords and is readable by others (mode %v); run chmod 600 %s\n", path, st.Mode().Perm(), path)
	}
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = 2
	header, err := cr.Read()
	if err != nil || !strings.EqualFold(strings.TrimSpace(header[0]), "email") || !strings.EqualFold(strings.TrimSpace(header[1]), "password") {
		return 0, 0, fmt.Errorf("%s: want a CSV with the header email,password", path)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return known, weak, nil
		}
		if err != nil {
			line, _ := cr.FieldPos(0)
			return 0, 0, fmt.Errorf("%s:%d: want two cells, email and password", path, line)
		}
		known++
		if !meets(rec[1]) {
			weak++
		}
	}
}

// relativeTo names path as seen from dir, so that a plan keeps working when
// its directory moves together with the export.
func relativeTo(dir, path string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil {
		return absPath, nil
	}
	return filepath.ToSlash(rel), nil
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
