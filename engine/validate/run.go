package validate

import (
	"context"
	"errors"
	"fmt"
	"io"

	"provision/engine/source"
)

// RunOptions configure a whole-file validation.
type RunOptions struct {
	Options
	File        string // shown in the report
	MaxFindings int    // findings kept in the report; 0 = all
	Canaries    *Canaries
	// OnResult sees every row's result in source order (quarantine
	// writer, exporters). An error stops the run.
	OnResult func(*Result) error
	// OnProgress is called every ProgressEvery rows with the count so far.
	OnProgress    func(rows int)
	ProgressEvery int
}

// Run validates every record r yields. Unknown columns are reported once,
// at the line where they were first seen, before that row's findings.
func Run(ctx context.Context, r source.Reader, opts RunOptions) (*Report, error) {
	rep := newReport(opts.File, string(r.Format()))
	v := New(opts.Options)
	canaries := newCanaryChecker(opts.Canaries)
	every := opts.ProgressEvery
	if every <= 0 {
		every = 10000
	}
	unknownSeen := 0
	rerun := isQuarantineFile(r.Header())
	for {
		if rep.Rows%1024 == 0 && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, fmt.Errorf("%s: %w", opts.File, err)
		}
		if unk := r.Unknown(); len(unk) > unknownSeen {
			for _, u := range unk[unknownSeen:] {
				rep.add(Finding{Line: u.Line, Field: "*", Code: CodeUnknownColumn, Severity: SeverityWarning,
					Message: fmt.Sprintf("column %q maps to no Auth0 field and is ignored", clip(u.Name)),
					Hint:    fmt.Sprintf("rename it, or map it with --map '%s=FIELD', or move its data into user_metadata", u.Name)}, opts.MaxFindings)
			}
			unknownSeen = len(unk)
		}
		if rerun {
			unneutralizeRow(&row)
		}
		res := v.Check(row)
		rep.addResult(&res, opts.MaxFindings)
		canaries.observe(&res)
		if opts.OnResult != nil {
			if err := opts.OnResult(&res); err != nil {
				return rep, err
			}
		}
		if opts.OnProgress != nil && rep.Rows%every == 0 {
			opts.OnProgress(rep.Rows)
		}
	}
	// A header-only file still owes its unknown-column warnings.
	for _, u := range r.Unknown()[unknownSeen:] {
		rep.add(Finding{Line: u.Line, Field: "*", Code: CodeUnknownColumn, Severity: SeverityWarning,
			Message: fmt.Sprintf("column %q maps to no Auth0 field and is ignored", clip(u.Name))}, opts.MaxFindings)
	}
	rep.Canaries = canaries.finish()
	if opts.OnProgress != nil {
		opts.OnProgress(rep.Rows)
	}
	return rep, nil
}
