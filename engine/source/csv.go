package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jszwec/csvutil"
)

// csvReader reads delimited text: encoding/csv splits records, csvutil
// decodes them into Row through its csv tags, after the header has been
// rewritten to field names.
type csvReader struct {
	name    string
	comma   rune
	tape    *tape
	cr      *csv.Reader
	dec     *csvutil.Decoder
	header  []string // as written
	unknown []UnknownColumn

	lineBase int   // lines before cr's first line
	offBase  int64 // absolute offset of cr's first byte
	recLine  int   // line where the record last read by cr starts

	scratch Row   // decoded into, then copied out
	err     error // sticky end-of-input or fatal error
}

func newCSVReader(br *bufio.Reader, name string, comma rune, cols *columnMap) (*csvReader, error) {
	head, err := peek(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	firstLine := 1
	if sep, n := excelSepLine(head); n > 0 {
		// Excel's "sep=;" line declares the delimiter; the header follows.
		br.Discard(n)
		head = head[n:]
		firstLine = 2
		if comma == 0 {
			comma = sep
		}
	}
	// The header is the first line that is not empty.
	lineStart := len(head) - len(bytes.TrimLeft(head, "\r\n"))
	lineEnd := lineStart + firstLineEnd(head[lineStart:])
	if comma == 0 {
		comma = detectDelimiter(head[lineStart:lineEnd], extension(name) == ".tsv")
	}
	if !validDelimiter(comma) {
		return nil, fmt.Errorf("%s: %q cannot be a CSV delimiter: choose a character other than a quote, a line break or the Unicode replacement character", name, comma)
	}
	var src io.Reader = br
	if lineEnd < len(head) && head[lineEnd] == '\r' && (lineEnd+1 == len(head) || head[lineEnd+1] != '\n') {
		// Lines end in a bare CR (classic Mac, some Excel exports), which
		// encoding/csv does not treat as a line break.
		src = &crReader{r: br}
	}

	c := &csvReader{name: name, comma: comma, tape: newTape(src, firstLine, maxRecordSize)}
	c.lineBase = firstLine - 1
	c.startReader()

	rec, err := c.readRecord()
	switch {
	case err == io.EOF:
		return nil, fmt.Errorf("%s: the file is empty: a CSV source needs a header line naming its columns, e.g. email,given_name,family_name", name)
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			re := c.broken(err, nil).Broken.(*RecordError)
			return nil, fmt.Errorf("%s: the header on line %d is broken: %s", name, re.Line, strings.TrimSuffix(re.Reason, rereadNote))
		}
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	c.header = append([]string(nil), rec...)
	headerLine := c.recLine
	c.release()

	decHeader, err := c.mapHeader(cols, headerLine)
	if err != nil {
		return nil, err
	}
	c.dec, err = csvutil.NewDecoder(recordFunc(c.readRecord), decHeader...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// mapHeader resolves the header's columns to fields and returns the header
// csvutil decodes with: a field name for each mapped column, "" for the
// others (which csvutil then reports as unused).
func (c *csvReader) mapHeader(cols *columnMap, line int) ([]string, error) {
	decHeader := make([]string, len(c.header))
	owner := make(map[int]int) // field -> column that maps to it
	unknown := make(map[string]bool)
	for i, cell := range c.header {
		name := strings.TrimSpace(cell)
		f, _ := cols.resolve(name)
		switch {
		case f >= 0:
			if j, dup := owner[f]; dup {
				return nil, fmt.Errorf("%s: columns %s and %s both map to %s: keep one, or drop the other with --map '%s=-'",
					c.name, describeColumn(c.header[j], j), describeColumn(cell, i), Fields[f], strings.TrimSpace(cell))
			}
			owner[f] = i
			decHeader[i] = Fields[f]
		case f == noField && name != "" && !unknown[name]:
			// An unnamed column cannot be mapped, so it is not reported.
			unknown[name] = true
			c.unknown = append(c.unknown, UnknownColumn{Name: name, Line: line})
		}
	}
	var missing []string
	for key, col := range cols.columns {
		if !c.hasColumn(key) {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%s: the mapping names %s, but the header (line %d) has no such column; columns found: %s",
			c.name, strings.Join(missing, ", "), line, c.listColumns())
	}
	if _, ok := owner[fieldIndex["email"]-1]; !ok {
		hint := "COLUMN"
		for _, cell := range c.header {
			if strings.Contains(strings.ToLower(cell), "mail") {
				hint = strings.TrimSpace(cell)
				break
			}
		}
		return nil, fmt.Errorf("%s: no email column in the header (line %d); columns found: %s; name the column that holds email addresses with --map '%s=email'",
			c.name, line, c.listColumns(), hint)
	}
	return decHeader, nil
}

func (c *csvReader) hasColumn(folded string) bool {
	for _, cell := range c.header {
		if foldName(cell) == folded {
			return true
		}
	}
	return false
}

func (c *csvReader) listColumns() string {
	names := make([]string, len(c.header))
	for i, cell := range c.header {
		names[i] = fmt.Sprintf("%q", clip(cell))
	}
	return strings.Join(names, ", ")
}

func describeColumn(cell string, i int) string { return fmt.Sprintf("%q (column %d)", clip(cell), i+1) }

// clip shortens s for an error message: a header swallowed by an open
// quote can hold a whole file.
func clip(s string) string {
	const most = 40
	if len(s) <= most {
		return s
	}
	i := most
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func (c *csvReader) Format() Format { return FormatCSV }

func (c *csvReader) Header() []string { return append([]string(nil), c.header...) }

func (c *csvReader) Unknown() []UnknownColumn { return c.unknown }

func (c *csvReader) Next() (Row, error) {
	if c.err != nil {
		return Row{}, c.err
	}
	// Decoding into a field of c rather than a local keeps the Row off the
	// heap: csvutil takes it as an interface. It needs no clearing between
	// records: csvutil sets every mapped field of every record, and no
	// other field is ever set.
	err := c.dec.Decode(&c.scratch)
	switch {
	case err == nil:
		row := c.scratch
		row.Line = c.recLine
		row.RawCells = c.dec.Record()
		row.UserID = trimAuth0Prefix(row.UserID)
		c.release()
		return row, nil
	case err == io.EOF:
		c.err = io.EOF
		return Row{}, io.EOF
	case errors.Is(err, csvutil.ErrFieldCount):
		return c.broken(err, c.dec.Record()), nil
	case errors.Is(err, errRecordTooLarge) || errors.As(err, new(*csv.ParseError)):
		return c.broken(err, nil), nil
	}
	c.err = fmt.Errorf("reading after line %d: %w", c.tape.line, err)
	return Row{}, c.err
}

// broken turns the record that failed with err into a Broken row and
// positions the reader after it. cells are the record's cells when
// encoding/csv could split them.
//
// A broken record that spans several lines is usually a quote that opens
// and never closes where it should, swallowing the rows that follow. So
// only its first line is taken as the broken record, and reading starts
// again on the next line: one bad row costs one row, not the rest of the
// file.
func (c *csvReader) broken(err error, cells []string) Row {
	end := c.offBase + c.cr.InputOffset()
	if errors.Is(err, errRecordTooLarge) {
		end = c.tape.base + int64(len(c.tape.buf)-c.tape.off)
	}
	raw := c.tape.kept(end)
	// Skip the empty lines csv.Reader passed over before the record.
	for len(raw) > 0 && (raw[0] == '\n' || raw[0] == '\r' && len(raw) > 1 && raw[1] == '\n') {
		n := 1 + bytes.IndexByte(raw, '\n')
		c.tape.release(c.tape.base + int64(n))
		raw = raw[n:]
	}
	line := c.tape.line
	lastLine := line + bytes.Count(raw, newline)
	if bytes.HasSuffix(raw, newline) {
		lastLine--
	}
	first, rest := raw, []byte(nil)
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		first, rest = raw[:i+1], raw[i+1:]
	}
	multiLine := len(rest) > 0 || errors.Is(err, errRecordTooLarge)
	text := strings.TrimRight(string(first), "\r\n")

	row := Row{Line: line}
	if cells != nil && !multiLine {
		row.RawCells = cells
	} else {
		row.RawCells = strings.Split(text, string(c.comma))
	}
	atEOF := c.tape.err == io.EOF && end == c.tape.base+int64(len(c.tape.buf)-c.tape.off)
	row.Broken = &RecordError{Line: line, Reason: c.explain(err, cells, text, line, lastLine, multiLine, atEOF), Err: err}

	if !multiLine {
		c.release()
		return row
	}
	if !bytes.HasSuffix(first, newline) {
		// One line longer than the limit: drop the rest of it.
		if !c.tape.skipLine() {
			c.err = io.EOF
		}
	} else {
		c.tape.release(c.tape.base + int64(len(first)))
		c.tape.rewind()
	}
	c.lineBase = c.tape.line - 1
	c.startReader()
	return row
}

// explain says what is wrong with a broken record starting on line, and
// how to fix it.
func (c *csvReader) explain(err error, cells []string, text string, line, lastLine int, runsOn, atEOF bool) string {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, errRecordTooLarge):
		return fmt.Sprintf("a record starting here runs on for more than %s, most likely a quote that is never closed: close it, or write a \" that is part of the text as \"\"; reading went on at the next line",
			sizeText(c.tape.limit))
	case errors.As(err, &pe) && runsOn:
		end := ""
		if atEOF {
			end = ", the end of the file"
		}
		return fmt.Sprintf("a quoted field opens on this line and is not closed where it should be (it runs on to line %d%s): close the quote, or write a \" that is part of the text as \"\""+rereadNote,
			c.lineBase+pe.Line, end)
	case errors.As(err, &pe):
		return c.locate(text, pe.Column) + ": " + quoteProblem(pe)
	case runsOn:
		return fmt.Sprintf("has %d fields over lines %d-%d, header has %d: a quoted field opened on this line is probably not closed where it should be: close the quote, or write a \" that is part of the text as \"\""+rereadNote,
			len(cells), line, lastLine, len(c.header))
	case len(cells) > len(c.header):
		return fmt.Sprintf("has %d fields, header has %d: quote fields that contain the delimiter %s", len(cells), len(c.header), delimiterName(c.comma))
	default:
		return fmt.Sprintf("has %d fields, header has %d: add the missing fields (empty ones too), and quote fields that contain a line break", len(cells), len(c.header))
	}
}

// rereadNote ends the explanation of a broken record that ran on over
// several lines.
const rereadNote = "; the lines after this one were read again as rows"

// quoteProblem explains a quoting error confined to one line.
func quoteProblem(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return "a \" inside a field that is not quoted: put the whole field in double quotes and write each \" inside it as \"\""
	case errors.Is(pe.Err, csv.ErrQuote):
		return "a quoted field has text after its closing quote, or its quote is never closed: write each \" inside a quoted field as \"\""
	}
	return pe.Err.Error()
}

// locate names the place of byte col (1-based, as csv.ParseError counts)
// in text, a line of the file: the field, by number and header name, and
// the character within the line.
func (c *csvReader) locate(text string, col int) string {
	before := text[:min(max(col-1, 0), len(text))]
	field, quoted := 0, false
	for _, r := range before {
		switch {
		case r == '"':
			quoted = !quoted
		case r == c.comma && !quoted:
			field++
		}
	}
	name := ""
	if field < len(c.header) && strings.TrimSpace(c.header[field]) != "" {
		name = fmt.Sprintf(" (%s)", clip(strings.TrimSpace(c.header[field])))
	}
	return fmt.Sprintf("field %d%s, character %d", field+1, name, utf8.RuneCountInString(before)+1)
}

func delimiterName(r rune) string {
	switch r {
	case '\t':
		return "(tab)"
	case ' ':
		return "(space)"
	}
	return fmt.Sprintf("%q", r)
}

// startReader starts a csv.Reader at the tape's release point.
func (c *csvReader) startReader() {
	cr := csv.NewReader(c.tape)
	cr.Comma = c.comma
	cr.FieldsPerRecord = -1 // csvutil checks the count against the header
	// Not ReuseRecord: a row keeps its cells as RawCells, so each record
	// needs its own slice, and letting csv.Reader allocate it measured
	// faster than reusing one and copying the cells out (no bulk copy of
	// pointers under the garbage collector's write barrier).
	cr.ReuseRecord = false
	c.cr = cr
	c.offBase = c.tape.base
}

// readRecord is csvutil's record source: the next record that is not
// blank, with recLine set to where it starts.
func (c *csvReader) readRecord() ([]string, error) {
	for {
		rec, err := c.cr.Read()
		if err != nil {
			return rec, err
		}
		line, _ := c.cr.FieldPos(0)
		c.recLine = c.lineBase + line
		if !blank(rec) {
			return rec, nil
		}
		c.release()
	}
}

// release tells the tape that the record last read is done with.
func (c *csvReader) release() { c.tape.release(c.offBase + c.cr.InputOffset()) }

// blank reports whether every cell is empty or spaces: an empty line, or
// a spreadsheet row with nothing in it (";;;;").
func blank(cells []string) bool {
	for _, cell := range cells {
		for i := 0; i < len(cell); i++ {
			if cell[i] != ' ' && cell[i] != '\t' {
				return false
			}
		}
	}
	return true
}

type recordFunc func() ([]string, error)

func (f recordFunc) Read() ([]string, error) { return f() }

// delimiters are the candidates detectDelimiter chooses from, preferred in
// this order when counts tie.
var delimiters = []byte{',', ';', '\t', '|'}

// detectDelimiter picks the candidate that occurs most often outside
// quotes in the header line. A header with none of them is one column;
// its delimiter is a tab for .tsv files and a comma otherwise.
func detectDelimiter(header []byte, tsv bool) rune {
	var counts [256]int
	quoted := false
	for _, b := range header {
		if b == '"' {
			quoted = !quoted
		} else if !quoted {
			counts[b]++
		}
	}
	best := ','
	if tsv {
		best = '\t'
	}
	most := 0
	for _, d := range delimiters {
		if counts[d] > most {
			best, most = rune(d), counts[d]
		}
	}
	return best
}

// firstLineEnd returns the index of the first line break in b that is
// outside quotes, or len(b).
func firstLineEnd(b []byte) int {
	quoted := false
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '\n' || c == '\r'):
			return i
		}
	}
	return len(b)
}

// excelSepLine recognises Excel's "sep=X" first line and returns the
// delimiter and the length of the line with its line break.
func excelSepLine(head []byte) (rune, int) {
	if !bytes.HasPrefix(head, []byte("sep=")) {
		return 0, 0
	}
	r, size := utf8.DecodeRune(head[4:])
	rest := head[4+size:]
	switch {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		return r, 4 + size + 2
	case bytes.HasPrefix(rest, []byte("\n")), bytes.HasPrefix(rest, []byte("\r")):
		return r, 4 + size + 1
	}
	return 0, 0
}

func validDelimiter(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// crReader turns bare CR line breaks into LF. A CRLF pair becomes a
// single LF when it straddles two reads and stays as it is otherwise;
// encoding/csv reads both as one line break.
type crReader struct {
	r      io.Reader
	dropLF bool // the previous read ended in a CR, already turned into LF
}

func (c *crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.dropLF && n > 0 {
		c.dropLF = false
		if p[0] == '\n' {
			n = copy(p, p[1:n])
		}
	}
	for i := 0; i < n; i++ {
		if p[i] != '\r' {
			continue
		}
		switch {
		case i+1 == n:
			p[i], c.dropLF = '\n', true
		case p[i+1] != '\n':
			p[i] = '\n'
		}
	}
	return n, err
}
