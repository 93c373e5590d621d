// Package remaining finds the users automatic migration has not moved yet:
// it exports the connection's users from Auth0 (a users-exports job), and
// writes every row of the legacy export whose email Auth0 does not have as
// the source of the bulk phase.
//
// Auth0 documents no way to list the users still in a legacy store (docs/auth0.md
// §4, S7: compare the two sides); exporting the connection and comparing by
// email is how this package does it. Emails compare lower-cased, as Auth0's
// database connections store them.
package remaining

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"provision/engine/source"
	"provision/engine/target/auth0"
)

// Exporter runs a users export job to its end.
type Exporter interface {
	ExportUsers(ctx context.Context, r auth0.ExportRequest, w io.Writer) error
}

var _ Exporter = (*auth0.Client)(nil)

// Options say what to compare and where the remainder goes.
type Options struct {
	// Source is the legacy export, read with SourceOptions.
	Source        string
	SourceOptions source.Options
	// ConnectionID is the connection whose users are exported.
	ConnectionID string
	// Dir receives the remainder: remaining.csv with the source's columns
	// for a CSV source, remaining.ndjson with the source's keys for a JSON
	// one. The file is created 0600 (it holds password hashes) and replaced
	// only when complete.
	Dir string
}

// File names of the remainder.
const (
	CSVFile    = "remaining.csv"
	NDJSONFile = "remaining.ndjson"
)

// Result counts what was found. Every source row is in exactly one of
// InAuth0, Remaining, NoEmail and Broken.
type Result struct {
	Exported  int // users in the connection's export
	Rows      int // source rows read
	InAuth0   int // rows whose email Auth0 has
	Remaining int // rows written to the remainder
	NoEmail   int // rows without an email: they cannot be compared, nor imported
	Broken    int // records that could not be read (see provision validate)
	// File is the remainder's path; Format and Delimiter describe it, for
	// the next plan.
	File      string
	Format    source.Format
	Delimiter string
}

// Run exports the connection's users and writes the remainder.
func Run(ctx context.Context, ex Exporter, o Options) (Result, error) {
	var res Result
	emails, err := exportedEmails(ctx, ex, o.ConnectionID)
	if err != nil {
		return res, err
	}
	res.Exported = len(emails)

	r, closer, err := source.Open(o.Source, o.SourceOptions)
	if err != nil {
		return res, err
	}
	defer closer.Close()
	res.Format, res.File = source.FormatCSV, filepath.Join(o.Dir, CSVFile)
	if r.Format() != source.FormatCSV {
		res.Format, res.File = source.FormatNDJSON, filepath.Join(o.Dir, NDJSONFile)
	}

	tmp, err := os.CreateTemp(o.Dir, "."+filepath.Base(res.File)+".*")
	if err != nil {
		return res, fmt.Errorf("create the remainder file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return res, err
	}
	bw := bufio.NewWriter(tmp)
	var write func(source.Row) error
	flush := bw.Flush
	if res.Format == source.FormatCSV {
		// The remainder is read back by provision, not opened in a
		// spreadsheet: cells are kept byte for byte, a leading + of a phone
		// number included.
		cw := csv.NewWriter(bw)
		res.Delimiter = ","
		if err := cw.Write(r.Header()); err != nil {
			tmp.Close()
			return res, err
		}
		write = func(row source.Row) error { return cw.Write(row.RawCells) }
		flush = func() error {
			if cw.Flush(); cw.Error() != nil {
				return cw.Error()
			}
			return bw.Flush()
		}
	} else {
		write = func(row source.Row) error {
			if _, err := bw.Write(row.RawJSON); err != nil {
				return err
			}
			return bw.WriteByte('\n')
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			tmp.Close()
			return res, err
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tmp.Close()
			return res, err
		}
		res.Rows++
		email := strings.ToLower(strings.TrimSpace(row.Email))
		switch {
		case row.Broken != nil:
			res.Broken++
		case email == "":
			res.NoEmail++
		case emails[email]:
			res.InAuth0++
		default:
			if err := write(row); err != nil {
				tmp.Close()
				return res, fmt.Errorf("write the remainder: %w", err)
			}
			res.Remaining++
		}
	}
	if err := flush(); err != nil {
		tmp.Close()
		return res, fmt.Errorf("write the remainder: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return res, err
	}
	if err := os.Rename(tmp.Name(), res.File); err != nil {
		return res, fmt.Errorf("write the remainder: %w", err)
	}
	return res, nil
}

// exportedEmails streams the connection's export straight into a set of
// lower-cased emails: the export never touches the disk.
func exportedEmails(ctx context.Context, ex Exporter, connection string) (map[string]bool, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := ex.ExportUsers(ctx, auth0.ExportRequest{ConnectionID: connection, Format: "json",
			Fields: []auth0.ExportField{{Name: "email"}}}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	emails := map[string]bool{}
	dec := json.NewDecoder(pr)
	var decErr error
	for {
		var u struct {
			Email string `json:"email"`
		}
		if err := dec.Decode(&u); err != nil {
			if !errors.Is(err, io.EOF) {
				decErr = err
			}
			break
		}
		if e := strings.ToLower(strings.TrimSpace(u.Email)); e != "" {
			emails[e] = true
		}
	}
	pr.CloseWithError(errors.New("stopped reading the export"))
	if err := <-done; err != nil {
		return nil, fmt.Errorf("export the connection's users: %w", err)
	}
	if decErr != nil {
		return nil, fmt.Errorf("read the connection's export: %w", decErr)
	}
	return emails, nil
}
