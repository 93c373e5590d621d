package source

import (
	"bytes"
	"errors"
	"io"
)

// errRecordTooLarge stops csv.Reader when one record has grown past the
// tape's limit: almost always a quote that is never closed.
var errRecordTooLarge = errors.New("record too large")

// tape sits between the input and csv.Reader and keeps every byte served
// since the end of the last record released. csv.Reader tells where a
// record ends (InputOffset) but not its text; the tape supplies the text
// of a broken record, and lets reading start again on the line after it
// (rewind), which is how an unclosed quote loses one row instead of the
// rest of the file. Memory is bounded by limit.
type tape struct {
	src   io.Reader
	buf   []byte // kept bytes are buf[off:]; buf[off] is at absolute offset base
	off   int
	next  int   // index in buf of the next byte to serve; < len(buf) after a rewind
	base  int64 // absolute offset of buf[off]
	line  int   // line number of buf[off]
	limit int   // most bytes kept before Read fails with errRecordTooLarge
	err   error // the source's error (io.EOF included), returned once its bytes are served
}

func newTape(src io.Reader, firstLine, limit int) *tape {
	return &tape{src: src, line: firstLine, limit: limit, buf: make([]byte, 0, 8<<10)}
}

func (t *tape) Read(p []byte) (int, error) {
	if t.next < len(t.buf) {
		n := copy(p, t.buf[t.next:])
		t.next += n
		return n, nil
	}
	if t.err != nil {
		return 0, t.err
	}
	if t.off > 0 {
		n := copy(t.buf, t.buf[t.off:])
		t.buf, t.next, t.off = t.buf[:n], n, 0
	}
	room := t.limit - len(t.buf)
	if room <= 0 {
		return 0, errRecordTooLarge
	}
	if len(p) > room {
		p = p[:room]
	}
	n, err := t.src.Read(p)
	t.buf = append(t.buf, p[:n]...)
	t.next = len(t.buf)
	if err != nil {
		t.err = err
	}
	return n, err
}

// kept returns the bytes from the last release point up to absolute
// offset end (or all kept bytes if end is beyond them).
func (t *tape) kept(end int64) []byte {
	n := min(int(end-t.base), len(t.buf)-t.off)
	return t.buf[t.off : t.off+n]
}

// release forgets the bytes before absolute offset end, counting the lines
// they hold.
func (t *tape) release(end int64) {
	n := int(end - t.base)
	if n <= 0 {
		return
	}
	n = min(n, len(t.buf)-t.off)
	t.line += bytes.Count(t.buf[t.off:t.off+n], newline)
	t.off += n
	t.base += int64(n)
	if t.next < t.off {
		t.next = t.off
	}
}

// rewind makes the next Read start again at the release point.
func (t *tape) rewind() { t.next = t.off }

// skipLine discards input up to and including the next line break, for a
// line too long to keep. It reports false at the end of the input.
func (t *tape) skipLine() bool {
	t.release(t.base + int64(len(t.buf)-t.off))
	var chunk [4 << 10]byte
	for {
		n, err := t.src.Read(chunk[:])
		if i := bytes.IndexByte(chunk[:n], '\n'); i >= 0 {
			t.line++
			t.base += int64(i + 1)
			t.buf = append(t.buf[:0], chunk[i+1:n]...)
			t.off, t.next = 0, 0
			if err != nil {
				t.err = err
			}
			return true
		}
		t.base += int64(n)
		if err != nil {
			t.err = err
			return false
		}
	}
}

var newline = []byte{'\n'}
