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
//
// Reading (CSV/JSON decoding) and checking run on two goroutines joined by
// a channel of row batches, so a file takes about as long as the slower of
// the two rather than their sum. Results still come out in source order.
func Run(ctx context.Context, r source.Reader, opts RunOptions) (*Report, error) {
	rep := newReport(opts.File, string(r.Format()))
	v := New(opts.Options)
	canaries := newCanaryChecker(opts.Canaries)
	every := opts.ProgressEvery
	if every <= 0 {
		every = 10000
	}
	rerun := isQuarantineFile(r.Header())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan rowBatch, 4)
	free := make(chan []rowItem, 6)
	go readBatches(ctx, r, batches, free)

	for b := range batches {
		for i := range b.items {
			it := &b.items[i]
			for _, u := range it.unknown {
				rep.add(unknownColumnFinding(u), opts.MaxFindings)
			}
			if !it.hasRow {
				continue
			}
			if rerun {
				unneutralizeRow(&it.row)
			}
			res := v.Check(it.row)
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
		select {
		case free <- b.items[:0]:
		default:
		}
		if b.err != nil {
			if errors.Is(b.err, context.Canceled) || errors.Is(b.err, context.DeadlineExceeded) {
				return rep, b.err
			}
			return rep, fmt.Errorf("%s: %w", opts.File, b.err)
		}
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	rep.Canaries = canaries.finish()
	if opts.OnProgress != nil {
		opts.OnProgress(rep.Rows)
	}
	return rep, nil
}

func unknownColumnFinding(u source.UnknownColumn) Finding {
	return Finding{Line: u.Line, Field: "*", Code: CodeUnknownColumn, Severity: SeverityWarning,
		Message: fmt.Sprintf("column %q maps to no Auth0 field and is ignored", clip(u.Name)),
		Hint:    fmt.Sprintf("rename it, or map it to a field with --map '%s=FIELD'", u.Name)}
}

const batchSize = 512

type rowItem struct {
	row     source.Row
	hasRow  bool                   // false for an item that only carries unknown columns
	unknown []source.UnknownColumn // columns first seen at this row
}

type rowBatch struct {
	items []rowItem
	err   error // reading stopped: the last batch
}

// readBatches reads r to the end (or ctx's end) and closes out. A reader's
// Unknown list is sampled here, on the reading goroutine, so the consumer
// never touches the reader.
// Batches come back through free to be reused: a batch is a few hundred
// kilobytes, and allocating one per 512 rows feeds the garbage collector for
// nothing.
func readBatches(ctx context.Context, r source.Reader, out chan<- rowBatch, free <-chan []rowItem) {
	defer close(out)
	seen := 0
	send := func(b rowBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// A header-only file still owes its unknown-column warnings, so they
	// are sampled before the first row too.
	newBatch := func() rowBatch {
		select {
		case items := <-free:
			clear(items[:cap(items)])
			return rowBatch{items: items}
		default:
			return rowBatch{items: make([]rowItem, 0, batchSize)}
		}
	}
	b := newBatch()
	for {
		row, err := r.Next()
		var it rowItem
		if unk := r.Unknown(); len(unk) > seen {
			it.unknown = append([]source.UnknownColumn(nil), unk[seen:]...)
			seen = len(unk)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			if len(it.unknown) > 0 {
				// Columns with no row to carry them: a header-only file.
				b.items = append(b.items, it)
			}
			send(b)
			return
		}
		it.row, it.hasRow = row, true
		b.items = append(b.items, it)
		if len(b.items) == batchSize {
			if !send(b) {
				return
			}
			b = newBatch()
		}
	}
}
