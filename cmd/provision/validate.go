package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"provision/engine/source"
	"provision/engine/validate"
)

// sourceFlags are the flags every command that reads an export shares.
type sourceFlags struct {
	format    string
	delimiter string
	maps      []string
	username  string
}

func (f *sourceFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "input-format", "", "source format: csv, json or ndjson (default: detect from extension and content)")
	cmd.Flags().StringVar(&f.delimiter, "delimiter", "", "CSV delimiter: ',', ';', '\\t' or '|' (default: detect from the header)")
	cmd.Flags().StringArrayVar(&f.maps, "map", nil, "map a source column to an Auth0 field, e.g. --map mail=email (repeatable)")
	cmd.Flags().StringVar(&f.username, "username-length", "1-15", "allowed username length MIN-MAX, as the connection's validation.username")
}

func (f *sourceFlags) options() (source.Options, validate.Options, error) {
	var so source.Options
	var vo validate.Options
	switch strings.ToLower(f.format) {
	case "", "csv", "json", "ndjson":
		so.Format = source.Format(strings.ToLower(f.format))
	default:
		return so, vo, usageError("--input-format %q: use csv, json or ndjson", f.format)
	}
	switch f.delimiter {
	case "":
	case `\t`, "\t", "tab":
		so.Delimiter = '\t'
	case ",", ";", "|":
		so.Delimiter = rune(f.delimiter[0])
	default:
		return so, vo, usageError("--delimiter %q: use ',', ';', '\\t' or '|'", f.delimiter)
	}
	m, err := source.ParseMapping(f.maps)
	if err != nil {
		return so, vo, usageError("--map: %v", err)
	}
	so.Mapping = m
	min, max, ok := strings.Cut(f.username, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(min))
	hi, err2 := strconv.Atoi(strings.TrimSpace(max))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi > 128 || lo > hi {
		return so, vo, usageError("--username-length %q: use MIN-MAX with 1 <= MIN <= MAX <= 128, e.g. 1-15", f.username)
	}
	vo.Username = validate.UsernamePolicy{Min: lo, Max: hi}
	return so, vo, nil
}

func newValidateCmd() *cobra.Command {
	var (
		src         sourceFlags
		credentials string
		format      string
		quarantine  string
		maxFindings int
	)
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check an export against Auth0's import rules, before anything is sent",
		Long: `Validate reads a legacy export (CSV, JSON array or NDJSON, including an Auth0
user export), checks every record against Auth0's import rules, converts each
password hash to the form Auth0 accepts, and reports every problem with its
line, field and a fix. With --credentials it proves that known passwords
verify against the converted hashes, exactly as they will be sent.

Exit status: 0 when every row is importable, 3 when some rows are
quarantined, 2 for a usage error, 1 for any other failure.`,
		Example: `  provision validate users.csv
  provision validate users.csv --credentials canaries.csv --quarantine rejected.csv
  provision validate export.json --format json | jq .by_code
  provision validate legacy.csv --map mail=email --map pw=password_hash --delimiter ';'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			so, vo, err := src.options()
			if err != nil {
				return err
			}
			render, err := reportRenderer(format)
			if err != nil {
				return err
			}
			if st, err := os.Stat(args[0]); err == nil {
				vo.ExpectedRows = validate.ExpectedRows(st.Size())
			}
			opts := validate.RunOptions{Options: vo, File: args[0], MaxFindings: maxFindings}
			if credentials != "" {
				c, err := readCanaries(cmd.ErrOrStderr(), credentials)
				if err != nil {
					return err
				}
				opts.Canaries = c
			}
			r, closer, err := source.Open(args[0], so)
			if err != nil {
				return err
			}
			defer closer.Close()
			var q *validate.QuarantineWriter
			if quarantine != "" {
				if q, err = validate.CreateQuarantine(quarantine); err != nil {
					return err
				}
				if err := q.Start(r.Header()); err != nil {
					q.Close()
					return err
				}
				opts.OnResult = q.Add
			}
			rep, err := validate.Run(cmd.Context(), r, opts)
			if q != nil {
				if cerr := q.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return err
			}
			if err := render(rep, cmd.OutOrStdout()); err != nil {
				return err
			}
			if q != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d quarantined rows to %s\n", q.Rows(), quarantine)
			}
			if rep.Quarantined > 0 {
				return &exitError{code: exitQuarantined}
			}
			return nil
		},
	}
	src.register(cmd)
	cmd.Flags().StringVar(&credentials, "credentials", "", "CSV of email,password canaries to verify against the converted hashes (never printed or stored)")
	cmd.Flags().StringVar(&format, "format", "text", "report format: text, json or markdown")
	cmd.Flags().StringVar(&quarantine, "quarantine", "", "write rejected rows, with line and reason, to this CSV (mode 0600)")
	cmd.Flags().IntVar(&maxFindings, "max-findings", 1000, "list at most N findings (0 = all); counts always cover every row")
	return cmd
}

func reportRenderer(format string) (func(*validate.Report, io.Writer) error, error) {
	switch format {
	case "text":
		return (*validate.Report).WriteText, nil
	case "json":
		return (*validate.Report).WriteJSON, nil
	case "markdown", "md":
		return (*validate.Report).WriteMarkdown, nil
	}
	return nil, usageError("--format %q: use text, json or markdown", format)
}

// readCanaries loads the credentials file, warning when others can read it.
func readCanaries(stderr io.Writer, path string) (*validate.Canaries, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "warning: %s holds passwords and is readable by others (mode %v); run chmod 600 %s\n", path, st.Mode().Perm(), path)
	}
	return validate.ReadCanaries(f, path)
}
