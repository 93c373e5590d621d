// Package export turns a legacy export into Auth0 import files for upload by
// hand: validate, convert, pack into files of at most the size limit, and
// write them with a manifest through the file target. Rejected rows go to a
// quarantine file beside them, so every source row is accounted for.
package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"provision/engine/chunk"
	"provision/engine/source"
	"provision/engine/target"
	"provision/engine/target/file"
	"provision/engine/validate"
)

// exportBatch is how many files are written together.
const exportBatch = 32

// QuarantineName is the quarantine file written into the output directory
// when some rows are rejected.
const QuarantineName = "quarantine.csv"

// Options configure an export.
type Options struct {
	Validate validate.RunOptions
	Dir      string
	// MaxFileBytes caps each import file (default chunk.DefaultMaxBytes).
	MaxFileBytes int
	// Overwrite allows a directory that already holds import files from
	// an earlier export; they are removed first, so no stale file can be
	// uploaded by mistake.
	Overwrite bool
}

// Summary is what an export produced.
type Summary struct {
	Report     *validate.Report
	Files      []file.FileEntry
	Users      int     // users written to import files
	MeanFill   float64 // mean file size as a fraction of the limit, over all files but the last
	Quarantine string  // path of the quarantine file, "" when no row was rejected
}

// Run exports r into opts.Dir.
func Run(ctx context.Context, r source.Reader, opts Options) (*Summary, error) {
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = chunk.DefaultMaxBytes
	}
	if err := prepareDir(opts.Dir, opts.Overwrite); err != nil {
		return nil, err
	}
	tgt, err := file.Open(opts.Dir)
	if err != nil {
		return nil, err
	}
	// The packer is given only users validation marshalled.
	packer, err := chunk.NewPacker(chunk.Options{MaxBytes: opts.MaxFileBytes, Validated: true})
	if err != nil {
		return nil, err
	}
	sum := &Summary{}
	q := &lazyQuarantine{path: filepath.Join(opts.Dir, QuarantineName), header: r.Header()}
	defer q.close()

	// Files go to the target in batches: one manifest write and one
	// directory sync per batch rather than per file. A batch is written in
	// the background while validation goes on: writing is mostly the
	// disk's time.
	var batch []target.Submission
	var writing chan error // the batch being written; nil when none
	wait := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		return err
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := wait(); err != nil {
			return err
		}
		for _, s := range batch {
			sum.Users += s.Users
		}
		subs := batch
		batch = nil
		writing = make(chan error, 1)
		go func(done chan<- error) {
			_, err := tgt.SubmitBatch(ctx, subs)
			done <- err
		}(writing)
		return nil
	}
	defer wait()
	submit := func(c chunk.Chunk) error {
		batch = append(batch, c.Submission(false))
		if len(batch) == exportBatch {
			return flush()
		}
		return nil
	}
	vopts := opts.Validate
	vopts.MaxUserBytes = opts.MaxFileBytes
	inner := vopts.OnResult
	vopts.OnResult = func(res *validate.Result) error {
		if inner != nil {
			if err := inner(res); err != nil {
				return err
			}
		}
		if res.Quarantined {
			return q.add(res)
		}
		closed, ok, err := packer.AddJSON(res.User.Email, res.Line, res.JSON)
		if err != nil {
			return err // cannot happen: validation checked the size
		}
		if ok {
			return submit(closed)
		}
		return nil
	}
	rep, err := validate.Run(ctx, r, vopts)
	if err != nil {
		return nil, err
	}
	if last, ok := packer.Flush(); ok {
		if err := submit(last); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := wait(); err != nil {
		return nil, err
	}
	if err := q.close(); err != nil {
		return nil, err
	}
	sum.Report = rep
	sum.Files = tgt.Manifest().Files
	if q.w != nil {
		sum.Quarantine = q.path
	}
	if n := len(sum.Files) - 1; n > 0 {
		total := 0
		for _, f := range sum.Files[:n] {
			total += f.Bytes
		}
		sum.MeanFill = float64(total) / float64(n*opts.MaxFileBytes)
	} else if n == 0 {
		sum.MeanFill = float64(sum.Files[0].Bytes) / float64(opts.MaxFileBytes)
	}
	return sum, nil
}

// prepareDir refuses to mix a new export with an earlier one's files.
func prepareDir(dir string, overwrite bool) error {
	if dir == "" {
		return errors.New("no output directory given (--out DIR)")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var stale []string
	for _, e := range entries {
		n := e.Name()
		if n == file.ManifestName || n == QuarantineName || strings.HasPrefix(n, "users-") && strings.HasSuffix(n, ".json") {
			stale = append(stale, n)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	if !overwrite {
		return fmt.Errorf("%s already holds import files from an earlier export (%s); choose an empty directory or pass --overwrite", dir, strings.Join(firstN(stale, 3), ", "))
	}
	for _, n := range stale {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// lazyQuarantine creates the quarantine file on the first rejected row.
type lazyQuarantine struct {
	path   string
	header []string
	w      *validate.QuarantineWriter
	closed bool
}

func (q *lazyQuarantine) add(res *validate.Result) error {
	if q.w == nil {
		w, err := validate.CreateQuarantine(q.path)
		if err != nil {
			return err
		}
		if err := w.Start(q.header); err != nil {
			w.Close()
			return err
		}
		q.w = w
	}
	return q.w.Add(res)
}

func (q *lazyQuarantine) close() error {
	if q.w == nil || q.closed {
		return nil
	}
	q.closed = true
	return q.w.Close()
}
