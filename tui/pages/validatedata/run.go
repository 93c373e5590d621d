package validatedata

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"provision/engine/source"
	"provision/engine/validate"
)

// maxFindings is how many findings a run lists (as the command line's
// default); counts cover every row whatever the cap.
const maxFindings = 1000

// progressInterval is how often a run reports progress to the screen.
const progressInterval = 50 * time.Millisecond

// runConfig is everything a run needs, fixed when it starts.
type runConfig struct {
	id       int
	path     string
	format   source.Format
	mapping  map[string]string
	fieldOf  map[string]string // column -> field, for masking captured rows
	canaries *validate.Canaries
	now      func() time.Time
}

// progressMsg reports a running validation. total is an estimate of the
// rows (the file's line count), 0 when there is none; read and size are
// bytes, the fallback measure.
type progressMsg struct {
	id          int
	rows        int
	total       int
	quarantined int
	warnings    int
	read, size  int64
	elapsed     time.Duration
}

// fraction is how far the run is, from the row estimate when there is
// one (the reader buffers ahead, so bytes read run early on small files).
func (p progressMsg) fraction() float64 {
	switch {
	case p.total > 0:
		return min(float64(p.rows)/float64(p.total), 0.99)
	case p.size > 0:
		return min(float64(p.read)/float64(p.size), 0.99)
	}
	return 0
}

// doneMsg ends a run: the report, the masked rows behind its findings,
// and the error that stopped it early, if any (context.Canceled when the
// operator stopped it).
type doneMsg struct {
	id      int
	report  *validate.Report
	rows    map[int]shownRow
	header  []string
	elapsed time.Duration
	err     error
}

// countingReader counts the bytes read through it, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// startRun validates in a goroutine and streams its events on the
// returned channel: progress while it runs (the latest only; a slow
// screen skips some), then exactly one doneMsg, then the channel closes.
func startRun(ctx context.Context, cfg runConfig) <-chan tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() {
		defer close(ch)
		done := execute(ctx, cfg, ch)
		select {
		case ch <- done:
		case <-ctx.Done():
			// The screen is gone (the program quit); nobody will read it.
			select {
			case ch <- done:
			default:
			}
		}
	}()
	return ch
}

func execute(ctx context.Context, cfg runConfig, ch chan tea.Msg) doneMsg {
	start := cfg.now()
	done := doneMsg{id: cfg.id}
	f, err := os.Open(cfg.path)
	if err != nil {
		done.err = err
		return done
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	total := estimateRows(f, cfg.format, size)
	cr := &countingReader{r: f}
	r, err := source.NewReader(cr, cfg.path, source.Options{Format: cfg.format, Mapping: cfg.mapping})
	if err != nil {
		done.err = err
		return done
	}
	done.header = r.Header()
	done.rows = map[int]shownRow{}
	var quarantined, warnings int
	last := time.Now()
	opts := validate.RunOptions{
		File:          cfg.path,
		MaxFindings:   maxFindings,
		Canaries:      cfg.canaries,
		ProgressEvery: 1, // throttled by time below: rows with costly hashes are slow
		OnResult: func(res *validate.Result) error {
			if err := ctx.Err(); err != nil {
				return err // stopped: rows with costly hashes make the engine's own check rare
			}
			if res.Quarantined {
				quarantined++
			}
			for _, f := range res.Findings {
				if f.Severity == validate.SeverityWarning {
					warnings++
				}
			}
			if len(res.Findings) > 0 && len(done.rows) < maxFindings {
				done.rows[res.Line] = captureRow(res.Row, done.header, cfg.fieldOf)
			}
			return nil
		},
		OnProgress: func(rows int) {
			if time.Since(last) < progressInterval {
				return
			}
			last = time.Now()
			msg := progressMsg{id: cfg.id, rows: rows, total: total, quarantined: quarantined, warnings: warnings,
				read: cr.n.Load(), size: size, elapsed: cfg.now().Sub(start)}
			select {
			case ch <- msg:
			default: // the screen has not taken the last one yet: skip this one
			}
		},
	}
	done.report, done.err = validate.Run(ctx, r, opts)
	done.elapsed = cfg.now().Sub(start)
	if errors.Is(done.err, context.Canceled) {
		done.err = context.Canceled
	}
	return done
}

// maxCountSize is the largest file whose lines are counted before a run
// for the progress estimate; larger files show progress by bytes read.
const maxCountSize = 256 << 20

// estimateRows counts the lines of f (then rewinds it) as an estimate of
// its records: less the header for CSV, and none for a JSON array, whose
// records need not be one per line.
func estimateRows(f *os.File, format source.Format, size int64) int {
	if size > maxCountSize || format == source.FormatJSON {
		return 0
	}
	defer f.Seek(0, io.SeekStart)
	buf := make([]byte, 256<<10)
	lines, last := 0, byte('\n')
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			last = buf[n-1]
		}
		if err != nil {
			break
		}
	}
	if last != '\n' {
		lines++
	}
	if format == source.FormatCSV {
		lines--
	}
	return max(lines, 0)
}

// waitForRun reads the next event of a run; Update re-arms it after each
// progress message, so the screen takes one event at a time.
func waitForRun(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}
