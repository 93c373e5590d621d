package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"provision/engine/chunk"
	"provision/engine/export"
	"provision/engine/source"
	"provision/engine/validate"
)

func newExportCmd() *cobra.Command {
	var (
		src       sourceFlags
		out       string
		maxBytes  int
		overwrite bool
		format    string
	)
	cmd := &cobra.Command{
		Use:   "export FILE --out DIR",
		Short: "Write Auth0 import files (JSON arrays of at most 500 KB) for upload by hand",
		Long: `Export validates FILE, converts every user (password hashes included) to
Auth0's import format and packs them, in source order, into users-0001.json,
users-0002.json, … of at most --max-file-size bytes each, with a
manifest.json of counts and SHA-256 sums. Every file is checked against
Auth0's import schema before it is written. Rejected rows go to
DIR/quarantine.csv. Files are created 0600: they hold password hashes.

Exit status: 0 when every row was exported, 3 when some were quarantined.`,
		Example: `  provision export users.csv --out import/
  provision export users.csv --out import/ --max-file-size 100000 --overwrite`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			so, vo, err := src.options()
			if err != nil {
				return err
			}
			if out == "" {
				return usageError("--out DIR is required: the directory the import files are written to")
			}
			if maxBytes < 1000 {
				return usageError("--max-file-size %d: use at least 1000 bytes (Auth0's limit is %d)", maxBytes, chunk.DefaultMaxBytes)
			}
			if format != "text" && format != "json" {
				return usageError("--format %q: use text or json", format)
			}
			if st, err := os.Stat(args[0]); err == nil {
				vo.ExpectedRows = validate.ExpectedRows(st.Size())
			}
			r, closer, err := source.Open(args[0], so)
			if err != nil {
				return err
			}
			defer closer.Close()
			sum, err := export.Run(cmd.Context(), r, export.Options{
				Validate:     validate.RunOptions{Options: vo, File: args[0], MaxFindings: 1000},
				Dir:          out,
				MaxFileBytes: maxBytes,
				Overwrite:    overwrite,
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{
					"rows": sum.Report.Rows, "exported": sum.Users, "quarantined": sum.Report.Quarantined,
					"files": sum.Files, "mean_fill": sum.MeanFill, "quarantine_file": sum.Quarantine,
				}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "%s: %d rows, %d users exported to %d import files in %s, %d quarantined\n",
					args[0], sum.Report.Rows, sum.Users, len(sum.Files), out, sum.Report.Quarantined)
				tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
				for _, f := range sum.Files {
					fmt.Fprintf(tw, "  %s\t%d users\t%d bytes\t%.1f%% of the limit\n", f.Name, f.Users, f.Bytes, 100*float64(f.Bytes)/float64(maxBytes))
				}
				tw.Flush()
				if sum.Quarantine != "" {
					fmt.Fprintf(w, "rejected rows, with line and reason: %s (run provision validate %s for the details)\n", sum.Quarantine, args[0])
				}
			}
			if sum.Report.Quarantined > 0 {
				return &exitError{code: exitQuarantined}
			}
			return nil
		},
	}
	src.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "directory to write the import files to (created 0700)")
	cmd.Flags().IntVar(&maxBytes, "max-file-size", chunk.DefaultMaxBytes, "largest import file in bytes")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace the import files of an earlier export in --out")
	cmd.Flags().StringVar(&format, "format", "text", "summary format: text or json")
	return cmd
}
