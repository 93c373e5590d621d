package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name, head string
		want       Format
	}{
		{"users.csv", "email,name", FormatCSV},
		{"users.CSV", "[", FormatCSV}, // the extension wins for CSV
		{"users.tsv", "email\tname", FormatCSV},
		{"users.txt", "email", FormatCSV},
		{"users.ndjson", "{}", FormatNDJSON},
		{"users.jsonl", "[", FormatNDJSON},
		{"users.json", "[{}]", FormatJSON},
		{"users.json", " \r\n\t[", FormatJSON},
		{"users.JSON", "{\"email\":\"a\"}", FormatNDJSON}, // Auth0's export
		{"users.json", "", FormatNDJSON},
		{"dir.v2/users", "[", FormatJSON},
		{"export", "\n  {", FormatNDJSON},
		{"export.dat", "email;name", FormatCSV},
		{"-", "", FormatCSV},
		{"export.json.gz", "{", FormatNDJSON},
		{"users.CSV.GZ", "[", FormatCSV},
		{"users.tsv.gz", "", FormatCSV},
	}
	for _, tt := range tests {
		if got := detectFormat(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("detectFormat(%q, %q) = %q, want %q", tt.name, tt.head, got, tt.want)
		}
	}
}

// Detection looks past a byte order mark and blank lines.
func TestNewReaderDetectsAfterBOM(t *testing.T) {
	tests := []struct {
		name, text string
		want       Format
	}{
		{"u.json", "\ufeff\r\n  [ {\"email\": \"a\"} ]", FormatJSON},
		{"u.json", "\ufeff{\"email\": \"a\"}\n", FormatNDJSON},
		{"u", "\ufeff{\"email\": \"a\"}\n", FormatNDJSON},
		{"u", "\ufeffemail\na\n", FormatCSV},
	}
	for _, tt := range tests {
		rows, r := readAll(t, tt.name, tt.text, Options{})
		if r.Format() != tt.want || len(rows) != 1 || rows[0].Email != "a" {
			t.Errorf("%q: format %q rows %+v, want %q and one row", tt.text, r.Format(), rows, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte("email\na@x.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, closer, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := drain(r)
	if err != nil || len(rows) != 1 || rows[0].Email != "a@x.com" {
		t.Errorf("rows %+v, err %v", rows, err)
	}
	if err := closer.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	if _, _, err := Open(filepath.Join(dir, "missing.csv"), Options{}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("Open(missing) error = %v", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("name\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(bad, Options{}); err == nil || !strings.Contains(err.Error(), "bad.csv: no email column") {
		t.Errorf("Open(bad) error = %v", err)
	}
}

// A read error mid-file ends reading with that error, after the rows
// before it.
func TestCSVReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	const rows = 10000
	data := "email\n" + strings.Repeat("a@x.com\n", rows)
	r, err := NewReader(&failingReader{data: data, err: boom}, "u.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(r)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "reading after line") {
		t.Errorf("reading ended with %v, want %v", err, boom)
	}
	if len(got) != rows {
		t.Errorf("read %d rows, want %d", len(got), rows)
	}
	if _, again := r.Next(); !errors.Is(again, boom) {
		t.Errorf("Next after the error = %v, want it again", again)
	}
}

// Every reader ends with io.EOF, again and again.
func TestEOFIsSticky(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		{"u.csv", "email\na\n"}, {"u.json", "[{\"email\":\"a\"}]"}, {"u.ndjson", "{\"email\":\"a\"}"},
	} {
		r, err := NewReader(strings.NewReader(tt.text), tt.name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := drain(r); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if row, err := r.Next(); err != io.EOF || !reflect.DeepEqual(row, Row{}) {
				t.Errorf("%s: Next after the end = %+v, %v", tt.name, row, err)
			}
		}
	}
}

func TestCompressedAndBinaryInput(t *testing.T) {
	gz := func(text string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(text))
		w.Close()
		return b.String()
	}
	// Auth0 delivers its user exports gzipped.
	rows, r := readAll(t, "export.json.gz", gz("{\"email\":\"a\",\"user_id\":\"auth0|1\"}\n{\"email\":\"b\"}\n"), Options{})
	if r.Format() != FormatNDJSON || len(rows) != 2 || rows[0].UserID != "1" || rows[1].Line != 2 {
		t.Errorf("gzipped NDJSON: format %q rows %+v", r.Format(), rows)
	}
	rows, _ = readAll(t, "users.csv.gz", gz("\ufeffemail;name\r\na@x.com;A\r\n"), Options{})
	if len(rows) != 1 || rows[0].Email != "a@x.com" || rows[0].Name != "A" {
		t.Errorf("gzipped CSV: rows %+v", rows)
	}

	for _, tt := range []struct{ name, text, want string }{
		{"users.csv", "PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"},
		{"users.csv", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "spreadsheet workbook"},
		{"users.json.gz", "\x1F\x8Bnot gzip", "users.json.gz: reading gzip data"},
	} {
		_, err := NewReader(strings.NewReader(tt.text), tt.name, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewReader(%q) error = %v, want %q", tt.text, err, tt.want)
		}
	}
}
