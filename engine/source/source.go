package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Format names a source file layout.
type Format string

// The formats a Reader understands.
const (
	FormatCSV    Format = "csv"    // delimited text with a header line
	FormatJSON   Format = "json"   // one JSON array of user objects
	FormatNDJSON Format = "ndjson" // one JSON object per line (Auth0's user export)
)

// Options say how to read a source. The zero value detects everything.
type Options struct {
	Format    Format            // "" = detect from the name and the content
	Delimiter rune              // CSV only; 0 = detect from the header line (',', ';', '\t', '|')
	Mapping   map[string]string // source column or key -> field name (see ParseMapping); columns match case-insensitively
}

// Reader yields the records of one source, one at a time.
type Reader interface {
	// Next returns the next record, or io.EOF after the last one. A record
	// that could not be read as a record (wrong field count, bad quoting,
	// malformed JSON) comes back as a Row with Broken set and a nil error,
	// and the next call goes on after it. Any other error is fatal for the
	// source (an I/O error, a JSON array cut off before its closing ]) and
	// is returned again by later calls.
	Next() (Row, error)
	// Format is the layout being read.
	Format() Format
	// Header is a CSV file's header cells as written, for writing
	// quarantine files in the source's own shape; nil for JSON sources.
	Header() []string
	// Unknown lists the columns or keys that map to no field, each once,
	// with the line where it was first seen, in order of discovery. For JSON
	// sources it grows as keys are discovered, so callers may compare its
	// length after each Next. The slice is only ever appended to; callers
	// must not modify it.
	Unknown() []UnknownColumn
}

// UnknownColumn is a column or key that maps to no field.
type UnknownColumn struct {
	Name string // as written in the source, trimmed
	Line int    // where it was first seen
}

// RecordError is why a record is Broken: where it starts and what is wrong,
// phrased so that the person fixing the file knows what to change.
type RecordError struct {
	Line   int    // where the record starts
	Reason string // what is wrong, and how to fix it
	Err    error  // underlying parser error, if any
}

func (e *RecordError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

func (e *RecordError) Unwrap() error { return e.Err }

// maxRecordSize bounds the bytes kept for one record, so that an unclosed
// quote or brace cannot make a reader hold the rest of a large file.
const maxRecordSize = 16 << 20

// sniffSize is how much of the start of a file format and delimiter
// detection look at.
const sniffSize = 64 << 10

// Open opens the file at path and returns a Reader over it, with the
// format detected from the file's extension and content unless
// opts.Format is set. The caller closes the returned Closer.
func Open(path string, opts Options) (Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening source: %w", err)
	}
	r, err := NewReader(f, path, opts)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

// NewReader returns a Reader over r. name is the file's name: it appears in
// errors and its extension helps detect the format. For CSV the header is
// read here, so a header that cannot be used is reported at once.
func NewReader(r io.Reader, name string, opts Options) (Reader, error) {
	cols, err := newColumnMap(opts.Mapping)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	br, err := decodeText(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	format := opts.Format
	if format == "" {
		head, err := peek(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		format = detectFormat(name, head)
	}
	switch format {
	case FormatCSV:
		return newCSVReader(br, name, opts.Delimiter, cols)
	case FormatJSON, FormatNDJSON:
		return newJSONReader(br, name, format, cols)
	}
	return nil, fmt.Errorf("%s: unknown format %q: use csv, json or ndjson", name, format)
}

// detectFormat picks a format from the file name's extension, and for
// .json or an unknown extension from the first non-blank byte of head:
// Auth0's user export is NDJSON even when named .json.
func detectFormat(name string, head []byte) Format {
	switch extension(name) {
	case ".csv", ".tsv", ".txt":
		return FormatCSV
	case ".ndjson", ".jsonl":
		return FormatNDJSON
	case ".json":
		if firstByte(head) == '[' {
			return FormatJSON
		}
		return FormatNDJSON
	}
	switch firstByte(head) {
	case '[':
		return FormatJSON
	case '{':
		return FormatNDJSON
	}
	return FormatCSV
}

// extension is name's extension in lower case, looking past ".gz".
func extension(name string) string {
	return filepath.Ext(strings.TrimSuffix(strings.ToLower(name), ".gz"))
}

// firstByte returns the first byte of b that is not JSON whitespace, or 0.
func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

var (
	gzipMagic  = []byte{0x1F, 0x8B}
	zipMagic   = []byte("PK\x03\x04")
	oleMagic   = []byte{0xD0, 0xCF, 0x11, 0xE0}
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// decodeText buffers r, decompresses it if it is gzip (Auth0 delivers its
// user exports as .json.gz) and strips a UTF-8 byte order mark. A UTF-16
// file (Excel's "Unicode Text") is transcoded to UTF-8, so every reader
// downstream sees UTF-8 without a BOM. Spreadsheet workbooks are refused
// with a hint, rather than read as garbage.
func decodeText(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if bytes.HasPrefix(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip data: %w", err)
		}
		br = bufio.NewReaderSize(zr, sniffSize)
		if head, err = br.Peek(4); err != nil && err != io.EOF {
			return nil, fmt.Errorf("decompressing: %w", err)
		}
	}
	switch {
	case bytes.HasPrefix(head, zipMagic), bytes.HasPrefix(head, oleMagic):
		return nil, errors.New("this is a spreadsheet workbook (.xlsx or .xls), not text: save it as \"CSV UTF-8\" and use that file")
	case bytes.HasPrefix(head, utf8BOM):
		br.Discard(len(utf8BOM))
	case bytes.HasPrefix(head, utf16LEBOM), bytes.HasPrefix(head, utf16BEBOM):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		br = bufio.NewReaderSize(transform.NewReader(br, dec), sniffSize)
	}
	return br, nil
}

// peek returns up to sniffSize bytes from the start of br without
// consuming them.
func peek(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return head, nil
}

// trimAuth0Prefix strips the connection prefix from a user_id taken from an
// Auth0 export: the import adds "auth0|" itself, so keeping it would give
// "auth0|auth0|...".
func trimAuth0Prefix(id string) string {
	return strings.TrimPrefix(id, "auth0|")
}

// sizeText writes a byte count the way limits are stated: "16 MiB".
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
