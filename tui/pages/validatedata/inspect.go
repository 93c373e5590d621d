package validatedata

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"provision/engine/source"
)

// sampleRows is how many records the column step looks at for samples
// and guesses.
const sampleRows = 25

// inspection is what the column step knows about a file before the run:
// its format, its columns in order and a few values of each.
type inspection struct {
	path    string
	format  source.Format
	size    int64
	columns []sourceColumn
}

// sourceColumn is one column (CSV) or key (JSON) of the source.
type sourceColumn struct {
	Name    string
	Samples []string // non-empty values, at most a few
}

// inspectFile reads the start of the file at path. CSV headers are read
// here rather than through source.Open, which insists on an email column:
// naming that column is what the column step is for.
func inspectFile(path string) (*inspection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: choose a file", path)
	}
	br, err := utf8Text(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	head, _ := br.Peek(64 << 10)
	in := &inspection{path: path, size: st.Size(), format: sniffFormat(path, head)}
	if in.format == source.FormatCSV {
		in.columns, err = csvColumns(br, path)
	} else {
		f.Close()
		in.columns, err = jsonColumns(path, in.format)
	}
	if err != nil {
		return nil, err
	}
	if len(in.columns) == 0 {
		return nil, fmt.Errorf("%s: found no columns: is it an export of users?", filepath.Base(path))
	}
	return in, nil
}

// utf8Text strips a UTF-8 byte order mark and transcodes UTF-16, as the
// source readers do.
func utf8Text(r io.Reader) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		br = bufio.NewReaderSize(transform.NewReader(br, dec), 64<<10)
	}
	return br, nil
}

// sniffFormat guesses the layout the way source.Open does: by extension,
// then by the first byte.
func sniffFormat(name string, head []byte) source.Format {
	first := byte(0)
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 {
		first = t[0]
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return source.FormatCSV
	case ".ndjson", ".jsonl":
		return source.FormatNDJSON
	}
	switch first {
	case '[':
		return source.FormatJSON
	case '{':
		return source.FormatNDJSON
	}
	return source.FormatCSV
}

// csvColumns reads the header and the first records.
func csvColumns(br *bufio.Reader, path string) ([]sourceColumn, error) {
	head, _ := br.Peek(64 << 10)
	comma := rune(0)
	if bytes.HasPrefix(head, []byte("sep=")) && len(head) > 4 {
		comma = rune(head[4])
		line, _ := br.ReadString('\n')
		head = head[len(line):]
	}
	if comma == 0 {
		comma = detectDelimiter(head, strings.EqualFold(filepath.Ext(path), ".tsv"))
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty: a CSV export needs a header line naming its columns", filepath.Base(path))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", filepath.Base(path), err)
	}
	cols := make([]sourceColumn, 0, len(header))
	for _, h := range header {
		cols = append(cols, sourceColumn{Name: strings.TrimSpace(h)})
	}
	for range sampleRows {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue // a broken record is the run's to report
		}
		for i := range min(len(rec), len(cols)) {
			addSample(&cols[i], rec[i])
		}
	}
	return cols, nil
}

// detectDelimiter picks the most frequent of , ; TAB | outside quotes in
// the header line.
func detectDelimiter(head []byte, tsv bool) rune {
	if i := bytes.IndexAny(head, "\r\n"); i >= 0 {
		head = head[:i]
	}
	best, most := ',', 0
	if tsv {
		best = '\t'
	}
	quoted := false
	counts := map[byte]int{}
	for _, b := range head {
		if b == '"' {
			quoted = !quoted
		} else if !quoted {
			counts[b]++
		}
	}
	for _, d := range []byte{',', ';', '\t', '|'} {
		if counts[d] > most {
			best, most = rune(d), counts[d]
		}
	}
	return best
}

// jsonColumns reads the first records through the source reader and
// lists their keys in the order they first appear.
func jsonColumns(path string, format source.Format) ([]sourceColumn, error) {
	r, closer, err := source.Open(path, source.Options{Format: format})
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	var cols []sourceColumn
	index := map[string]int{}
	for range sampleRows {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if row.Broken != nil || len(row.RawJSON) == 0 {
			continue
		}
		keys, values := objectKeys(row.RawJSON)
		for i, k := range keys {
			j, ok := index[k]
			if !ok {
				j = len(cols)
				index[k] = j
				cols = append(cols, sourceColumn{Name: k})
			}
			addSample(&cols[j], values[i])
		}
	}
	return cols, nil
}

// objectKeys returns the top-level keys of a JSON object in order, with
// each value as text (strings unquoted, others as written).
func objectKeys(raw []byte) (keys, values []string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys, values
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return keys, values
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		if s == "null" {
			s = ""
		}
		keys, values = append(keys, k), append(values, s)
	}
	return keys, values
}

func addSample(c *sourceColumn, v string) {
	v = strings.TrimSpace(v)
	if v == "" || len(c.Samples) >= 5 {
		return
	}
	c.Samples = append(c.Samples, v)
}
