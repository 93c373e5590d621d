package run

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"provision/storage"
)

// The spool holds every valid user of the source as it will be sent: the
// import JSON validation produced, keyed by journal row. It is written
// once, while the source is registered, so that each stage reads its users
// back without parsing and validating the export again, and so that a
// chunk interrupted after a crash is rebuilt byte for byte.
//
// It holds password hashes, like the export itself: it is created 0600 in
// the workspace (0700) and removed when the run finishes. It is named after
// the source's digest and carries the source options it was made with; a
// spool that does not match, or that was cut short by a crash (it only
// gets its name once complete), is made again.
//
// Layout: a header line "provision-spool 1 <sha256> <options>\n", then
// per user: uvarint row, uvarint line, then email, source user_id and JSON,
// each as uvarint length and bytes.

const spoolMagic = "provision-spool 1"

// spoolPath is where the spool of a source lives, beside the journal.
func spoolPath(journal, sha string) string {
	return filepath.Join(filepath.Dir(journal), "spool-"+sha[:16]+".bin")
}

func spoolHeader(sha, options string) string {
	return fmt.Sprintf("%s %s %s\n", spoolMagic, sha, options)
}

// spoolWriter writes a spool under a temporary name.
type spoolWriter struct {
	path string
	f    *os.File
	w    *bufio.Writer
	buf  []byte
}

func createSpool(path, sha, options string) (*spoolWriter, error) {
	// A process killed while writing a spool leaves its temporary file
	// behind; the journal's lock says nobody is writing one now.
	if stale, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".spool-*.tmp")); err == nil {
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".spool-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the user spool: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	w := &spoolWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20)}
	if _, err := w.w.WriteString(spoolHeader(sha, options)); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

type spoolRecord struct {
	Row    storage.RowID
	Line   int
	Email  string // normalized
	UserID string // the source's user_id, "" when it has none
	JSON   []byte
}

// appendRecordHead appends a record up to its JSON: row, line, email,
// user_id and the JSON's length.
func appendRecordHead(b []byte, r spoolRecord) []byte {
	b = binary.AppendUvarint(b, uint64(r.Row))
	b = binary.AppendUvarint(b, uint64(r.Line))
	b = binary.AppendUvarint(b, uint64(len(r.Email)))
	b = append(b, r.Email...)
	b = binary.AppendUvarint(b, uint64(len(r.UserID)))
	b = append(b, r.UserID...)
	return binary.AppendUvarint(b, uint64(len(r.JSON)))
}

func (w *spoolWriter) add(r spoolRecord) error {
	b := appendRecordHead(w.buf[:0], r)
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	_, err := w.w.Write(r.JSON)
	return err
}

// commit makes the spool durable and gives it its name.
func (w *spoolWriter) commit() error {
	if err := w.w.Flush(); err != nil {
		w.abort()
		return fmt.Errorf("write the user spool: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		w.abort()
		return fmt.Errorf("write the user spool: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("write the user spool: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("write the user spool: %w", err)
	}
	return nil
}

func (w *spoolWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// spoolValid reports whether a complete spool for this source and these
// options exists.
func spoolValid(path, sha, options string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	want := spoolHeader(sha, options)
	got := make([]byte, len(want))
	_, err = io.ReadFull(f, got)
	return err == nil && string(got) == want
}

// readSpool calls fn for every user in the session's spool, in memory or
// on disk, whose row want accepts, in the order written. rec.JSON is only
// valid during the call.
func (s *session) readSpool(want func(storage.RowID) bool, fn func(rec *spoolRecord) error) error {
	if s.mem != nil {
		return s.mem.each(want, fn)
	}
	return readSpool(s.spool, func(rec *spoolRecord) error {
		if !want(rec.Row) {
			return nil
		}
		return fn(rec)
	})
}

// spoolReady reports whether the session has a complete spool of its
// source, in memory or on disk.
func (s *session) spoolReady() bool {
	if s.e.spoolInMemory(s) {
		return s.mem.valid(s.fp.SHA256, s.optionsKey)
	}
	return spoolValid(s.spool, s.fp.SHA256, s.optionsKey)
}

// readSpool calls fn for every user in the spool, in the order written.
// rec.JSON is only valid during the call.
func readSpool(path string, fn func(rec *spoolRecord) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read the user spool: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	if _, err := r.ReadString('\n'); err != nil {
		return fmt.Errorf("read the user spool %s: %w", path, err)
	}
	var rec spoolRecord
	var scratch []byte
	field := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > 64<<20 {
			return nil, fmt.Errorf("a field of %d bytes", n)
		}
		if uint64(cap(scratch)) < n {
			scratch = make([]byte, n)
		}
		b := scratch[:n]
		_, err = io.ReadFull(r, b)
		return b, err
	}
	for {
		row, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return spoolDamaged(path, err)
		}
		line, err := binary.ReadUvarint(r)
		if err != nil {
			return spoolDamaged(path, err)
		}
		rec = spoolRecord{Row: storage.RowID(row), Line: int(line)}
		b, err := field()
		if err != nil {
			return spoolDamaged(path, err)
		}
		rec.Email = string(b)
		if b, err = field(); err != nil {
			return spoolDamaged(path, err)
		}
		rec.UserID = string(b)
		if rec.JSON, err = field(); err != nil {
			return spoolDamaged(path, err)
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}

func spoolDamaged(path string, err error) error {
	return fmt.Errorf("the user spool %s is damaged (%v): delete it and resume; it is made again from the source", path, err)
}
