package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonReader reads a JSON array of user objects or an NDJSON stream of
// them: the splitter cuts out one element at a time, which is then decoded
// into a Row.
type jsonReader struct {
	format  Format
	split   *splitter
	cols    *columnMap
	keys    map[string]resolvedKey // cache, by the key as written (quotes and escapes included)
	unknown []UnknownColumn
	seen    map[string]bool // unknown names reported
	err     error           // sticky end-of-input or fatal error
}

type resolvedKey struct {
	name        string // unquoted
	field, rank int    // as columnMap.resolve
}

// maxCachedKeys bounds the key cache for sources whose key names never
// repeat (ids used as keys).
const maxCachedKeys = 4096

func newJSONReader(br *bufio.Reader, name string, format Format, cols *columnMap) (*jsonReader, error) {
	head, err := peek(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch c := firstByte(head); {
	case format == FormatJSON && c != '[' && c != 0:
		return nil, fmt.Errorf("%s: a JSON array source must start with [, but this file starts with %q: for one JSON object per line use --input-format ndjson", name, c)
	case format == FormatNDJSON && c == '[':
		return nil, fmt.Errorf("%s: the file is one JSON array, not one JSON object per line: use --input-format json", name)
	}
	return &jsonReader{
		format: format,
		split:  newSplitter(br, format == FormatJSON, maxRecordSize),
		cols:   cols,
		keys:   make(map[string]resolvedKey),
		seen:   make(map[string]bool),
	}, nil
}

func (j *jsonReader) Format() Format { return j.format }

func (j *jsonReader) Header() []string { return nil }

func (j *jsonReader) Unknown() []UnknownColumn { return j.unknown }

func (j *jsonReader) Next() (Row, error) {
	if j.err != nil {
		return Row{}, j.err
	}
	el, err := j.split.next()
	if err != nil {
		j.err = err
		return Row{}, err
	}
	row := Row{Line: el.line, RawJSON: append([]byte(nil), el.data...)}
	if el.problem != "" {
		row.Broken = &RecordError{Line: el.line, Reason: el.problem}
		return row, nil
	}
	if err := j.decode(&row); err != nil {
		row.Broken = err
	}
	return row, nil
}

// decode fills row's fields from the object in row.RawJSON.
func (j *jsonReader) decode(row *Row) *RecordError {
	data := row.RawJSON
	if !json.Valid(data) {
		return syntaxError(row.Line, data)
	}
	if data[0] != '{' {
		reason := fmt.Sprintf("the element is %s, not an object: each user must be a JSON object {...}", jsonKind(data[0]))
		if j.format == FormatNDJSON && data[0] == '[' {
			reason += "; if the file is one JSON array, use --input-format json"
		}
		return &RecordError{Line: row.Line, Reason: reason}
	}
	// For each field, the key that set it and how well it matched.
	var set [len(fieldPtrs)]struct {
		key  string
		rank int
	}
	// Field values are cut from one string copy of the element: one
	// allocation per row rather than one per field.
	text := string(data)
	it := members{data: text, i: 1}
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		key := j.resolve(k)
		switch key.field {
		case ignoredField:
			continue
		case noField:
			j.noteUnknown(key.name, row.Line)
			continue
		}
		s := &set[key.field]
		if s.rank != 0 && s.key != key.name {
			// Two keys for one field ("email" and "Email"): the better
			// match wins, the first of equals; the loser is ignored
			// and reported. A repeated key is not a conflict: as in
			// encoding/json, the last value wins.
			if s.rank <= key.rank {
				j.noteUnknown(key.name, row.Line)
				continue
			}
			j.noteUnknown(s.key, row.Line)
		}
		s.key, s.rank = key.name, key.rank
		value, err := jsonText(v)
		if err != nil {
			return &RecordError{Line: row.Line, Reason: fmt.Sprintf("key %q: %v", key.name, err), Err: err}
		}
		*fieldPtrs[key.field](row) = value
	}
	row.UserID = trimAuth0Prefix(row.UserID)
	return nil
}

// resolve maps a key, as written, to its field.
func (j *jsonReader) resolve(raw string) resolvedKey {
	if k, ok := j.keys[raw]; ok {
		return k
	}
	name, err := jsonText(raw)
	if err != nil {
		name = raw // not reachable for valid JSON; keep the key visible
	}
	// Cloned: raw and name point into the element, which the cache
	// would otherwise keep alive.
	k := resolvedKey{name: strings.Clone(name)}
	k.field, k.rank = j.cols.resolve(name)
	if len(j.keys) < maxCachedKeys {
		j.keys[strings.Clone(raw)] = k
	}
	return k
}

func (j *jsonReader) noteUnknown(name string, line int) {
	name = strings.TrimSpace(name)
	if !j.seen[name] {
		j.seen[name] = true
		j.unknown = append(j.unknown, UnknownColumn{Name: name, Line: line})
	}
}

// syntaxError explains why data, an element starting on line, is not valid
// JSON, naming the line of the fault.
func syntaxError(line int, data []byte) *RecordError {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return &RecordError{Line: line, Reason: fmt.Sprintf("invalid JSON: %v", err), Err: err}
	}
	at := min(max(int(se.Offset)-1, 0), len(data))
	faultLine := line + bytes.Count(data[:at], newline)
	return &RecordError{Line: line, Reason: fmt.Sprintf("invalid JSON on line %d: %v", faultLine, se), Err: err}
}

func jsonKind(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// jsonText turns a valid JSON value into a field's text: a string's
// content, a scalar's literal (true, 42), compact JSON for objects and
// arrays, and "" for null.
//
// The result shares memory with v where it can.
func jsonText(v string) (string, error) {
	switch v[0] {
	case '"':
		if inner := v[1 : len(v)-1]; strings.IndexByte(inner, '\\') < 0 && utf8.ValidString(inner) {
			return inner, nil
		}
		var s string
		err := json.Unmarshal([]byte(v), &s)
		return s, err
	case '{', '[':
		if strings.IndexAny(v, " \t\r\n") < 0 {
			return v, nil
		}
		var b bytes.Buffer
		b.Grow(len(v))
		err := json.Compact(&b, []byte(v))
		return b.String(), err
	case 'n':
		return "", nil
	}
	return v, nil
}

// members walks the top-level members of a JSON object already known to
// be valid, without decoding the values.
type members struct {
	data string
	i    int // just past the '{' or the last value
}

func (m *members) next() (key, value string, ok bool) {
	d := m.data
	i := skipSpace(d, m.i)
	if d[i] == ',' {
		i = skipSpace(d, i+1)
	}
	if d[i] == '}' {
		return "", "", false
	}
	k := stringEnd(d, i)
	key = d[i:k]
	i = skipSpace(d, skipSpace(d, k)+1) // past the ':'
	e := valueEnd(d, i)
	m.i = e
	return key, d[i:e], true
}

func skipSpace(d string, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at d[i].
func stringEnd(d string, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d)
}

// valueEnd returns the index just past the value starting at d[i].
func valueEnd(d string, i int) int {
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = stringEnd(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(d)
	}
	for i < len(d) && d[i] != ',' && d[i] != '}' && d[i] != ']' && !isSpace(d[i]) {
		i++
	}
	return i
}
