package source

import (
	"fmt"
	"io"
)

// splitter cuts a stream of JSON text into its top-level values (the
// elements of one array, or the objects of an NDJSON file) without decoding
// them. It tracks nesting depth and strings only, so it knows where each
// value starts and ends, and it holds one value at a time.
//
// A malformed value must not swallow the values after it, so a value is
// also cut short
//   - at a line break inside a string (JSON strings cannot hold one), and
//   - when, inside a value that began its line at column C, a line begins
//     with {, [ or ] at a column no greater than C where that byte cannot
//     continue the value as valid JSON: in NDJSON and in any
//     pretty-printed array, that is where the next value (or the array's
//     end) starts.
//
// After a cut inside a string, or a value larger than max, input is
// skipped to the next line where a value could start.
type splitter struct {
	r   io.Reader
	buf []byte
	pos int // next byte to examine
	end int // buf[pos:end] is unexamined input
	eof bool
	err error // read error other than io.EOF

	line, col int  // position of buf[pos]
	blankLine bool // nothing but whitespace before buf[pos] on its line

	array     bool // the input is one JSON array (else a stream of values)
	opened    bool // the array's [ has been consumed
	closed    bool // ... and its ]
	arrayLine int  // where the array opened
	skipped   bool // input was skipped to its end while resynchronising

	max  int    // largest value kept whole
	open []byte // scratch stack of open brackets, kept to save allocations
}

// element is one top-level value.
type element struct {
	data    []byte // the value's bytes; valid until the next call to next
	line    int    // where it starts
	problem string // why the value was cut short, if it was
}

// errArrayNotClosed is returned when input ends inside a JSON array.
type errArrayNotClosed struct{ opened, end int }

func (e *errArrayNotClosed) Error() string {
	return fmt.Sprintf("the JSON array opened on line %d is never closed (no ] before the end of the file at line %d): the file may be truncated; export it again", e.opened, e.end)
}

func newSplitter(r io.Reader, array bool, max int) *splitter {
	return &splitter{r: r, buf: make([]byte, 32<<10), line: 1, col: 1, blankLine: true, array: array, max: max}
}

// fill reads more input, keeping buf[keep:end]. It reports false when there
// is no more.
func (s *splitter) fill(keep int) bool {
	if s.eof || s.err != nil {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.pos -= keep
		s.end = n
	}
	if s.end == len(s.buf) {
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// peekByte returns the byte at pos, reading more input if needed; keep is
// the index of the first byte that must survive a refill.
func (s *splitter) peekByte(keep int) (byte, int, bool) {
	if s.pos == s.end {
		if keep < 0 {
			keep = s.pos
		}
		before := s.pos
		ok := s.fill(keep)
		keep -= before - s.pos // fill may have moved the kept bytes
		if !ok {
			return 0, keep, false
		}
	}
	return s.buf[s.pos], keep, true
}

// advance moves past the byte at pos.
func (s *splitter) advance() {
	c := s.buf[s.pos]
	s.pos++
	if c == '\n' {
		s.line, s.col, s.blankLine = s.line+1, 1, true
		return
	}
	s.col++
	if !isSpace(c) {
		s.blankLine = false
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// next returns the next top-level value, io.EOF after the last one, or an
// *errArrayNotClosed or read error.
func (s *splitter) next() (element, error) {
	for {
		c, _, ok := s.peekByte(-1)
		if !ok {
			if s.err != nil {
				return element{}, s.err
			}
			if s.array && s.opened && !s.closed && !s.skipped {
				s.closed = true
				end := s.line
				if s.col == 1 && end > 1 {
					end-- // the file ends with a line break
				}
				return element{}, &errArrayNotClosed{opened: s.arrayLine, end: end}
			}
			return element{}, io.EOF
		}
		switch {
		case isSpace(c) || c == ',':
			// Commas are not checked: a missing or doubled one between
			// two good elements loses nothing.
			s.advance()
		case s.array && !s.opened || s.array && s.closed && c == '[':
			// A second array after the first (two exports concatenated)
			// is read on as more elements.
			if c != '[' {
				return s.value()
			}
			s.opened, s.closed, s.arrayLine = true, false, s.line
			s.advance()
		case s.array && c == ']':
			s.closed = true
			s.advance()
		default:
			return s.value()
		}
	}
}

// value scans the value starting at pos.
func (s *splitter) value() (element, error) {
	el := element{line: s.line}
	startCol, firstOnLine := s.col, s.blankLine
	mark := s.pos
	open := s.open[:0] // the brackets open, innermost last
	prev := byte(0)    // the last byte outside strings that is not space
	inString, escaped := false, false
	lineStart := false // at the start of a line, before its first non-space byte
	scalar := false
	var problem string
	for {
		if s.pos == s.end {
			_, m, ok := s.peekByte(mark)
			mark = m
			if !ok {
				if len(open) > 0 || inString {
					problem = "the element is cut off by the end of the file: the file may be truncated"
				}
				break
			}
		}
		if s.pos-mark >= s.max {
			el.problem = fmt.Sprintf("the element is larger than %s: split it up, or move bulky data out of it", sizeText(s.max))
			s.resync(startCol, firstOnLine)
			return el, nil
		}
		if inString && !escaped {
			// Most of a JSON text is string content: skip it in one go.
			// Line and blank-line state cannot change inside it.
			i := s.pos
			for i < s.end && i-mark < s.max {
				if b := s.buf[i]; b == '"' || b == '\\' || b == '\n' {
					break
				}
				i++
			}
			s.col += i - s.pos
			s.pos = i
			if i == s.end || i-mark >= s.max {
				continue
			}
		}
		c := s.buf[s.pos]
		if inString {
			switch {
			case c == '\n':
				// Copied: resync reuses the buffer.
				el.data = append([]byte(nil), s.buf[mark:s.pos]...)
				el.problem = fmt.Sprintf("a string is not closed on line %d (JSON strings cannot hold a line break): close it, or write the line break as \\n", s.line)
				s.resync(startCol, firstOnLine)
				return el, nil
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString, prev = false, '"'
			}
			s.advance()
			if len(open) == 0 && !inString {
				break
			}
			continue
		}
		if lineStart && !isSpace(c) {
			lineStart = false
			if firstOnLine && s.col <= startCol && startsNext(c, open, prev) {
				problem = fmt.Sprintf("the element is not closed before line %d, where the next one starts: add the missing } or ]", s.line)
				break
			}
		}
		if scalar || len(open) == 0 && c != '{' && c != '[' && c != '"' {
			// Not an object: take the rest of the token, so that the
			// element reports as one bad value. Its first byte is taken
			// whatever it is, so that reading always moves on.
			if scalar && (c == ',' || c == ']' || c == '}' || c == '{' || c == '[' || c == '\n') {
				break
			}
			scalar = true
			s.advance()
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			open = append(open, c)
		case '}', ']':
			open = open[:len(open)-1]
		case '\n':
			lineStart = true
		}
		if !isSpace(c) {
			prev = c
		}
		s.advance()
		if len(open) == 0 && !inString {
			break
		}
	}
	s.open = open
	el.data = trimSpaceRight(s.buf[mark:s.pos])
	el.problem = problem
	return el, nil
}

// startsNext reports whether c, first on its line and no further right
// than the start of the value being scanned, must begin the next value
// rather than continue this one: it cannot continue it as valid JSON, given
// the brackets open and the last byte before it. So valid JSON, however
// laid out, is never cut.
func startsNext(c byte, open []byte, prev byte) bool {
	top := open[len(open)-1]
	switch c {
	case '{', '[':
		// A value may follow a key's colon, or start or continue an array.
		return !(top == '{' && prev == ':' || top == '[' && (prev == '[' || prev == ','))
	case ']':
		return top != '[' || prev == ','
	}
	return false
}

// resync skips input to the start of the next line whose first byte could
// begin a value after one that started at startCol.
func (s *splitter) resync(startCol int, firstOnLine bool) {
	for {
		c, _, ok := s.peekByte(-1)
		if !ok {
			// Whether the array's ] was among the bytes skipped is not
			// known, so its absence is not reported.
			s.skipped = true
			return
		}
		if s.blankLine && !isSpace(c) && (c == '{' || c == '[' || c == ']') && (!firstOnLine || s.col <= startCol) {
			return
		}
		s.advance()
	}
}

func trimSpaceRight(b []byte) []byte {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
