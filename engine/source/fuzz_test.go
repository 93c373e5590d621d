package source

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

// checkStream reads r to the end and checks what holds for every source:
// no panic, reading always moves on, every row has a line number of at
// least 1 and none earlier than the row before, and a Broken row carries a
// *RecordError with its line.
func checkStream(t *testing.T, r Reader, size int) []Row {
	t.Helper()
	var rows []Row
	last := 1
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			var open *errArrayNotClosed
			if !errors.As(err, &open) {
				t.Fatalf("Next: unexpected error %v", err)
			}
			return rows
		}
		if row.Line < last {
			t.Fatalf("row line %d after line %d", row.Line, last)
		}
		last = row.Line
		if row.Broken != nil {
			var re *RecordError
			if !errors.As(row.Broken, &re) || re.Line != row.Line || re.Reason == "" {
				t.Fatalf("line %d: Broken = %#v", row.Line, row.Broken)
			}
		}
		rows = append(rows, row)
		// Each row consumes at least one byte of input.
		if len(rows) > size+1 {
			t.Fatalf("%d rows from %d bytes: reading does not move on", len(rows), size)
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, seed := range []string{
		"email,name\na@x.com,A\n",
		"\ufeffemail;name\r\na@x.com;\"B\r\nC\"\r\n\r\nb@x.com;x;y\r\n",
		"email\tname\n\"a\tb\"\tc\n",
		"sep=|\nemail|name\na|b\n",
		"email,name\ra,b\rc,\"d\re\"\r",
		"email,name\na,\"b\nc,d\ne,f\n",
		"email,name\na,b \"c\" d\ne,\"f\"g\n",
		"line,reason,email\n2,x,a\n",
	} {
		f.Add([]byte(seed), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim uint8) {
		var comma rune
		if delim%5 > 0 {
			comma = rune(",;\t|"[delim%5-1])
		}
		r, err := NewReader(bytes.NewReader(data), "f.csv", Options{Delimiter: comma})
		if err != nil {
			return
		}
		rows := checkStream(t, r, len(data))
		width := len(r.Header())
		for _, row := range rows {
			if row.Broken == nil && len(row.RawCells) != width {
				t.Fatalf("line %d: %d cells, header has %d", row.Line, len(row.RawCells), width)
			}
		}
		// Where encoding/csv reads the file cleanly, every record of the
		// header's width comes back unbroken, with the same cells.
		if bytes.ContainsAny(data, "\r\ufeff") || bytes.HasPrefix(data, []byte("sep=")) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
			return
		}
		want, ok := cleanRecords(data, r.(*csvReader).comma, width)
		if !ok {
			return
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, encoding/csv reads %d", len(rows), len(want))
		}
		for i, row := range rows {
			if row.Broken != nil || row.Line != want[i].line || !reflect.DeepEqual(row.RawCells, want[i].cells) {
				t.Fatalf("row %d = line %d %q (broken %v), encoding/csv reads line %d %q", i, row.Line, row.RawCells, row.Broken, want[i].line, want[i].cells)
			}
		}
	})
}

type record struct {
	line  int
	cells []string
}

// cleanRecords reads data with encoding/csv alone, skipping the header and
// blank records. ok is false unless every record parses with width cells.
func cleanRecords(data []byte, comma rune, width int) (recs []record, ok bool) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	header := true
	for {
		cells, err := cr.Read()
		if err == io.EOF {
			return recs, true
		}
		if err != nil || blank(cells) {
			if err != nil {
				return nil, false
			}
			continue
		}
		if header {
			header = false
			continue
		}
		if len(cells) != width {
			return nil, false
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, record{line, cells})
	}
}

func FuzzJSONArray(f *testing.F) {
	for _, seed := range []string{
		`[{"email":"a@x.com","app_metadata":{"a":[1,2]}},{"email":"b"}]`,
		"[\n  {\n    \"email\": \"a\"\n  },\n  {\n    \"email\": \"b\n  }\n]\n",
		"[\n  {\n    \"email\": \"a\",\n    \"x\": {\n  },\n  {\"email\": \"b\"}\n]",
		"[1, \"x\", null, [], {\"email\": \"\\u00e9\"}]",
		"[{\"email\":\"a\"}][{\"email\":\"b\"}]",
		"[{\"email\":\"a\"},",
		"  [ ] trailing",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "f.json", Options{Format: FormatJSON})
		if err != nil {
			return
		}
		rows := checkStream(t, r, len(data))
		// A valid array comes back element for element, exactly.
		var elements []json.RawMessage
		if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) || json.Unmarshal(data, &elements) != nil {
			return
		}
		if len(rows) != len(elements) {
			t.Fatalf("%d rows from a valid array of %d elements", len(rows), len(elements))
		}
		for i, el := range elements {
			isObject := el[0] == '{'
			if !bytes.Equal(rows[i].RawJSON, el) || (rows[i].Broken == nil) != isObject {
				t.Fatalf("row %d = %q (broken %v), element is %q", i, rows[i].RawJSON, rows[i].Broken, el)
			}
		}
	})
}

func FuzzNDJSON(f *testing.F) {
	for _, seed := range []string{
		"{\"user_id\":\"auth0|1\",\"email\":\"a\",\"identities\":[{\"provider\":\"auth0\"}]}\n{\"email\":\"b\"}\n",
		"{\"email\":\"a\"\n{\"email\":\"b\"}\n",
		"{\"email\":\"a}\n{\"email\":\"b\"}\n",
		"{\n  \"email\": \"a\"\n}\n{\n  \"email\": \"b\"\n}\n",
		"42\nnull\n\"x\"\n[1]\n{}\n",
		"{\"Email\":\"a\",\"email\":\"b\",\"EMAIL\":null}\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "f.ndjson", Options{Format: FormatNDJSON})
		if err != nil {
			return
		}
		rows := checkStream(t, r, len(data))
		// Lines that each hold one valid object come back line for line.
		var objects [][]byte
		for _, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.Trim(line, " \t\r\n")
			if len(line) == 0 {
				continue
			}
			if line[0] != '{' || !json.Valid(line) || bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
				return
			}
			objects = append(objects, line)
		}
		if len(rows) != len(objects) {
			t.Fatalf("%d rows from %d valid lines", len(rows), len(objects))
		}
		for i, obj := range objects {
			if !bytes.Equal(rows[i].RawJSON, obj) || rows[i].Broken != nil {
				t.Fatalf("row %d = %q (broken %v), line is %q", i, rows[i].RawJSON, rows[i].Broken, obj)
			}
		}
	})
}
