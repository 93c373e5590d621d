package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"provision/engine/source"
)

// RunOptions configure a whole-file validation.
type RunOptions struct {
	Options
	File        string // shown in the report
	MaxFindings int    // findings kept in the report; 0 = all
	Canaries    *Canaries
	// OnResult sees every row's result in source order (quarantine
	// writer, exporters). The Result is only valid during the call: Run
	// reuses its memory for later rows, so copy what you keep. An error
	// stops the run.
	OnResult func(*Result) error
	// OnProgress is called every ProgressEvery rows with the count so far.
	OnProgress    func(rows int)
	ProgressEvery int
}

// Run validates every record r yields. Unknown columns are reported once,
// at the line where they were first seen, before that row's findings.
//
// It is a pipeline, because a million-row file is the normal case: one
// goroutine reads (CSV/JSON decoding), a few check rows in batches (every
// rule that needs no other row, the hash conversion), and this goroutine
// takes the batches back in source order for what must be sequential: the
// duplicate index, the report, canaries and OnResult.
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
	ordered := make(chan *rowBatch, 8) // batches in source order, possibly still being checked
	work := make(chan *rowBatch, 8)
	free := make(chan *rowBatch, 16)
	go readBatches(ctx, r, rerun, ordered, work, free)
	var workers sync.WaitGroup
	for range checkWorkers() {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for b := range work {
				b.json = b.json[:0]
				for i := range b.items {
					if it := &b.items[i]; it.hasRow {
						v.checkRecord(&it.row, &it.res, &b.json)
					}
				}
				close(b.checked)
			}
		}()
	}
	defer workers.Wait()

	for b := range ordered {
		select {
		case <-b.checked:
		case <-ctx.Done():
			return rep, ctx.Err()
		}
		for i := range b.items {
			it := &b.items[i]
			for _, u := range it.unknown {
				rep.add(unknownColumnFinding(u), opts.MaxFindings)
			}
			if !it.hasRow {
				continue
			}
			res := &it.res
			v.claimKeys(res)
			rep.addResult(res, opts.MaxFindings)
			canaries.observe(res)
			if opts.OnResult != nil {
				if err := opts.OnResult(res); err != nil {
					return rep, err
				}
			}
			if opts.OnProgress != nil && rep.Rows%every == 0 {
				opts.OnProgress(rep.Rows)
			}
		}
		if b.err == nil {
			select {
			case free <- b:
			default:
			}
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

// checkWorkers leaves one processor for reading when there are several.
func checkWorkers() int {
	return max(1, runtime.GOMAXPROCS(0)-1)
}

func unknownColumnFinding(u source.UnknownColumn) Finding {
	return Finding{Line: u.Line, Field: "*", Code: CodeUnknownColumn, Severity: SeverityWarning,
		Message: fmt.Sprintf("column %q maps to no Auth0 field and is ignored", clip(u.Name)),
		Hint:    fmt.Sprintf("rename it, or map it to a field with --map '%s=FIELD'", u.Name)}
}

const batchSize = 512

type rowItem struct {
	row     source.Row
	hasRow  bool // false for an item that only carries unknown columns
	unknown []source.UnknownColumn
	res     Result
}

type rowBatch struct {
	items   []rowItem
	json    []byte        // the batch's users marshalled, one after another
	checked chan struct{} // closed once every row has been checked
	err     error         // reading stopped: the last batch
}

// readBatches reads r to the end (or ctx's end), handing each batch both to
// the checkers (work) and, in order, to the consumer (ordered). A reader's
// Unknown list is sampled here, on the reading goroutine, so no other
// goroutine touches the reader. The consumer hands finished batches back
// through free: a batch is several hundred kilobytes, and allocating (and
// zeroing) a new one every 512 rows is a good part of a large file's cost.
func readBatches(ctx context.Context, r source.Reader, rerun bool, ordered, work chan<- *rowBatch, free <-chan *rowBatch) {
	defer close(ordered)
	defer close(work)
	send := func(b *rowBatch) bool {
		for _, ch := range []chan<- *rowBatch{ordered, work} {
			select {
			case ch <- b:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	newBatch := func() *rowBatch {
		select {
		case b := <-free:
			// Not cleared: every item is overwritten field by field
			// below, which costs less than zeroing 500 kB of pointers.
			b.items = b.items[:0]
			b.checked = make(chan struct{})
			return b
		default:
			return &rowBatch{items: make([]rowItem, 0, batchSize), checked: make(chan struct{})}
		}
	}
	seen := 0
	b := newBatch()
	for {
		row, err := r.Next()
		var unknown []source.UnknownColumn
		// Sampled before the row too, so a header-only file still owes
		// its unknown-column warnings.
		if unk := r.Unknown(); len(unk) > seen {
			unknown = append([]source.UnknownColumn(nil), unk[seen:]...)
			seen = len(unk)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			if len(unknown) > 0 {
				b.items = append(b.items, rowItem{unknown: unknown})
			}
			send(b)
			return
		}
		if rerun {
			unneutralizeRow(&row)
		}
		b.items = b.items[:len(b.items)+1]
		it := &b.items[len(b.items)-1]
		it.row, it.hasRow, it.unknown = row, true, unknown
		if len(b.items) == batchSize {
			if !send(b) {
				return
			}
			b = newBatch()
		}
	}
}

// ExpectedRows estimates a file's rows from its size for
// Options.ExpectedRows. It errs low (long rows are common: hashes and
// metadata), so the index grows a step or two at most and never holds much
// more memory than the file needs.
func ExpectedRows(fileSize int64) int {
	const bytesPerRowAtLeast = 256
	return int(min(fileSize/bytesPerRowAtLeast, 1<<28))
}
