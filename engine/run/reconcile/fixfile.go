package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"

	"provision/engine/source"
	"provision/engine/validate"
	"provision/storage"
)

// FixOptions say where the source is and how to read it: as the run read
// it.
type FixOptions struct {
	Source        string
	SourceOptions source.Options
	// Changed is set when Source is not the file the run was started with
	// (a changed source was accepted): rows are then found by email, and
	// only failed rows can be matched.
	Changed bool
	// Path is the file to write (created 0600; it holds password hashes).
	Path string
}

// WriteFixFile writes every row that did not make it, failed at the target
// or quarantined by validation, as a fix-and-rerun CSV: the columns line
// and reason first, then the row exactly as the source had it, formula-safe
// (validate.QuarantineWriter). Fixed, it is a valid source for a new run.
// It returns the number of rows written.
func WriteFixFile(ctx context.Context, j *storage.Journal, o FixOptions) (int, error) {
	want := map[storage.RowID]storage.User{}
	byEmail := map[string]storage.User{}
	for u, err := range j.Users(ctx, storage.UserFilter{States: []storage.UserState{storage.UserFailed, storage.UserQuarantined}}) {
		if err != nil {
			return 0, err
		}
		if o.Changed {
			if u.State == storage.UserFailed {
				byEmail[u.Email] = u
			}
			continue
		}
		want[u.Row] = u
	}
	if len(want) == 0 && len(byEmail) == 0 {
		return 0, nil
	}
	r, closer, err := source.Open(o.Source, o.SourceOptions)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	q, err := validate.CreateQuarantine(o.Path)
	if err != nil {
		return 0, err
	}
	if err := q.Start(r.Header()); err != nil {
		q.Close()
		return 0, err
	}
	pos := 0
	for {
		if err := ctx.Err(); err != nil {
			q.Close()
			return q.Rows(), err
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			q.Close()
			return q.Rows(), fmt.Errorf("read %s: %w", o.Source, err)
		}
		pos++
		u, ok := want[storage.RowID(pos)]
		if o.Changed {
			u, ok = byEmail[storage.NormalizeEmail(row.Email)]
		}
		if !ok {
			continue
		}
		if err := q.Add(fixResult(row, u)); err != nil {
			q.Close()
			return q.Rows(), err
		}
	}
	return q.Rows(), q.Close()
}

func fixResult(row source.Row, u storage.User) *validate.Result {
	msg := u.ErrorMessage
	if u.State == storage.UserFailed {
		msg = "Auth0 rejected the user: " + msg
	}
	return &validate.Result{Line: row.Line, Row: row, Quarantined: true,
		Findings: []validate.Finding{{Line: row.Line, Field: "*", Code: u.ErrorCode, Severity: validate.SeverityError, Message: msg}}}
}
