package source

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestCSVRecordsAndLines(t *testing.T) {
	tests := []struct {
		name string
		file string // file name, for detection
		text string
		opts Options
		want []summary
	}{
		{
			name: "plain",
			file: "u.csv",
			text: "email,name\na@x.com,A\nb@x.com,B\n",
			want: []summary{{2, "a@x.com", false}, {3, "b@x.com", false}},
		},
		{
			name: "UTF-8 BOM and CRLF",
			file: "u.csv",
			text: "\ufeffemail,name\r\na@x.com,A\r\nb@x.com,B\r\n",
			want: []summary{{2, "a@x.com", false}, {3, "b@x.com", false}},
		},
		{
			name: "quoted newlines do not shift later lines",
			file: "u.csv",
			text: "email,note\r\na@x.com,\"one\r\ntwo\r\nthree\"\r\nb@x.com,x\r\nc@x.com,\"\nx\"\r\nd@x.com,y\r\n",
			want: []summary{{2, "a@x.com", false}, {5, "b@x.com", false}, {6, "c@x.com", false}, {8, "d@x.com", false}},
		},
		{
			name: "semicolon detected",
			file: "u.csv",
			text: "email;name;note\na@x.com;Smith, J;x\n",
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "tab detected",
			file: "u.txt",
			text: "email\tname\na@x.com\tSmith, J\n",
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "pipe detected",
			file: "u.csv",
			text: "email|name\na@x.com|Smith; J\n",
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "delimiters inside quoted header cells are not counted",
			file: "u.csv",
			text: "\"a,b,c,d\";email;\"e,f\"\nx;a@x.com;y\n",
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "delimiter option overrides detection",
			file: "u.csv",
			text: "email,note;with;semicolons\na@x.com,x;y;z\n",
			opts: Options{Delimiter: ','},
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "Excel sep= line",
			file: "u.csv",
			text: "sep=;\r\nemail;name\r\na@x.com;Smith, J\r\n",
			want: []summary{{3, "a@x.com", false}},
		},
		{
			name: "bare CR line breaks",
			file: "u.csv",
			text: "email,name\ra@x.com,A\r\rb@x.com,\"B\rC\"\rc@x.com,C\r",
			want: []summary{{2, "a@x.com", false}, {4, "b@x.com", false}, {6, "c@x.com", false}},
		},
		{
			name: "empty and blank lines are skipped",
			file: "u.csv",
			text: "\n\nemail,name\n\na@x.com,A\n,\n   \n\t,  \nb@x.com,B\n\n",
			want: []summary{{5, "a@x.com", false}, {9, "b@x.com", false}},
		},
		{
			name: "no newline at the end",
			file: "u.csv",
			text: "email\na@x.com",
			want: []summary{{2, "a@x.com", false}},
		},
		{
			name: "header only",
			file: "u.csv",
			text: "email,name\r\n",
			want: []summary{},
		},
		{
			name: "unknown extension is sniffed as CSV",
			file: "export.dat",
			text: "email,name\na@x.com,A\n",
			want: []summary{{2, "a@x.com", false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, r := readAll(t, tt.file, tt.text, tt.opts)
			if got := summarize(rows); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows = %+v, want %+v", got, tt.want)
			}
			if r.Format() != FormatCSV {
				t.Errorf("Format() = %q, want csv", r.Format())
			}
			for _, row := range rows {
				if row.Broken != nil {
					t.Errorf("line %d broken: %v", row.Line, row.Broken)
				}
			}
		})
	}
}

func TestCSVFieldValues(t *testing.T) {
	text := "\ufeff E-Mail ;First;LAST;User_ID;Verified;Hash;app_metadata\r\n" +
		"a@x.com;Ann;\"O\"\"Neil; Jr\";auth0|abc123;true;$2b$10$abcdefghijklmnopqrstuu;\"{\"\"plan\"\":\"\"pro\"\"}\"\r\n"
	mapping, err := ParseMapping([]string{"e-mail=email", "first=given_name", "Verified=Email_Verified", "hash=password_hash"})
	if err != nil {
		t.Fatal(err)
	}
	rows, r := readAll(t, "u.csv", text, Options{Mapping: mapping})
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	want := Row{
		Line:          2,
		Email:         "a@x.com",
		GivenName:     "Ann",
		UserID:        "abc123", // auth0| stripped: the import adds it again
		EmailVerified: "true",
		PasswordHash:  "$2b$10$abcdefghijklmnopqrstuu",
		AppMetadata:   `{"plan":"pro"}`,
		RawCells:      []string{"a@x.com", "Ann", "O\"Neil; Jr", "auth0|abc123", "true", "$2b$10$abcdefghijklmnopqrstuu", `{"plan":"pro"}`},
	}
	if !reflect.DeepEqual(rows[0], want) {
		t.Errorf("row =\n%+v\nwant\n%+v", rows[0], want)
	}
	// LAST matches no field: family_name would need a mapping.
	if got, want := r.Unknown(), []UnknownColumn{{"LAST", 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unknown() = %v, want %v", got, want)
	}
	if got, want := r.Header(), []string{" E-Mail ", "First", "LAST", "User_ID", "Verified", "Hash", "app_metadata"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Header() = %q, want %q", got, want)
	}
}

func TestCSVUnknownColumns(t *testing.T) {
	text := "line,reason,email,notes,Notes,notes,,extra\n" +
		"2,bad,a@x.com,n,n,n,,e\n" +
		"3,bad,b@x.com,n,n,n,,e\n"
	rows, r := readAll(t, "quarantine.csv", text, Options{Mapping: map[string]string{"EXTRA": Ignore}})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	// line and reason come from our own quarantine files and are not
	// reported; a name repeated is reported once; unnamed columns and
	// columns mapped to - are not reported.
	want := []UnknownColumn{{"notes", 1}, {"Notes", 1}}
	if got := r.Unknown(); !reflect.DeepEqual(got, want) {
		t.Errorf("Unknown() = %v, want %v", got, want)
	}
}

// The unknown columns the reader reports are exactly the columns csvutil
// leaves unused, minus those dropped on purpose.
func TestCSVUnknownMatchesDecoderUnused(t *testing.T) {
	text := "Email,zip,given_name,line,shoe size,Reason\na@x.com,1,A,2,3,x\n"
	r, err := NewReader(strings.NewReader(text), "u.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	c := r.(*csvReader)
	var unused []string
	for _, i := range c.dec.Unused() {
		if name := strings.TrimSpace(c.header[i]); !strings.EqualFold(name, "line") && !strings.EqualFold(name, "reason") {
			unused = append(unused, name)
		}
	}
	var unknown []string
	for _, u := range r.Unknown() {
		unknown = append(unknown, u.Name)
	}
	if !reflect.DeepEqual(unused, unknown) || len(unknown) != 2 {
		t.Errorf("csvutil unused = %q, Unknown() = %q; want the same two columns", unused, unknown)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		opts Options
		want []string // substrings of the error
	}{
		{
			name: "two columns for one field",
			text: "email,name,Email\n",
			want: []string{"users.csv", `"email" (column 1)`, `"Email" (column 3)`, "both map to email", "--map 'Email=-'"},
		},
		{
			name: "a mapped column and a named column for one field",
			text: "Mail,email\n",
			opts: Options{Mapping: map[string]string{"mail": "email"}},
			want: []string{`"Mail" (column 1)`, `"email" (column 2)`, "both map to email"},
		},
		{
			name: "no email column suggests the likely one",
			text: "name;E-Mail Address;phone\n",
			want: []string{"users.csv", "no email column", `"name", "E-Mail Address", "phone"`, "--map 'E-Mail Address=email'"},
		},
		{
			name: "no email column",
			text: "name,phone\n",
			want: []string{"no email column", `"name", "phone"`, "--map 'COLUMN=email'"},
		},
		{
			name: "mapping names a column that is not there",
			text: "email,name\n",
			opts: Options{Mapping: map[string]string{"Nmae": "name"}},
			want: []string{`the mapping names "Nmae", but the header (line 1) has no such column`, `"email", "name"`},
		},
		{
			name: "mapping to an unknown field",
			text: "email,name\n",
			opts: Options{Mapping: map[string]string{"name": "fullname"}},
			want: []string{`unknown field "fullname"`, "valid fields: email"},
		},
		{
			name: "empty file",
			text: "",
			want: []string{"users.csv", "empty", "header"},
		},
		{
			name: "only blank lines",
			text: "\r\n\r\n;;;\r\n",
			want: []string{"empty"},
		},
		{
			name: "quote delimiter",
			text: "email\n",
			opts: Options{Delimiter: '"'},
			want: []string{"cannot be a CSV delimiter"},
		},
		{
			name: "bad quoting in the header",
			text: "email,na\"me\n",
			want: []string{"users.csv: the header on line 1 is broken: field 2, character 9: a \" inside a field that is not quoted"},
		},
		{
			name: "quote never closed in the header",
			text: "email,\"name\na@x.com,A\n",
			want: []string{"the header on line 1 is broken: a quoted field opens on this line and is not closed where it should be (it runs on to line 2, the end of the file)"},
		},
		{
			name: "unknown format",
			text: "email\n",
			opts: Options{Format: "xml"},
			want: []string{`unknown format "xml"`, "csv, json or ndjson"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.text), "users.csv", tt.opts)
			if err == nil {
				t.Fatal("NewReader succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCSVBrokenRecordsMidFile(t *testing.T) {
	text := "email,name,note\n" +
		"a@x.com,A,ok\n" + //              2
		"b@x.com,B,x,y\n" + //             3: one field too many
		"c@x.com,C\n" + //                 4: one too few
		"d@x.com,D \"the\" x,n\n" + //     5: bare quote
		"e@x.com,\"E\"x,n\n" + //          6: text after a closing quote
		"f@x.com,F,n\n" //                 7
	rows, _ := readAll(t, "u.csv", text, Options{})
	want := []struct {
		summary
		reason string
		cells  []string
	}{
		{summary{2, "a@x.com", false}, "", []string{"a@x.com", "A", "ok"}},
		{summary{3, "", true}, "has 4 fields, header has 3: quote fields that contain the delimiter ','", []string{"b@x.com", "B", "x", "y"}},
		{summary{4, "", true}, "has 2 fields, header has 3: add the missing fields", []string{"c@x.com", "C"}},
		{summary{5, "", true}, `field 2 (name), character 11: a " inside a field that is not quoted`, []string{"d@x.com", `D "the" x`, "n"}},
		{summary{6, "", true}, "field 2 (name), character 11: a quoted field has text after its closing quote", []string{"e@x.com", `"E"x`, "n"}},
		{summary{7, "f@x.com", false}, "", []string{"f@x.com", "F", "n"}},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(rows), summarize(rows), len(want))
	}
	for i, w := range want {
		row := rows[i]
		if got := summarize(rows[i : i+1])[0]; got != w.summary {
			t.Errorf("row %d = %+v, want %+v", i, got, w.summary)
		}
		if got := reason(row); !strings.HasPrefix(got, w.reason) {
			t.Errorf("line %d reason = %q, want prefix %q", row.Line, got, w.reason)
		}
		if row.Broken != nil && row.Broken.(*RecordError).Line != row.Line {
			t.Errorf("line %d: RecordError.Line = %d", row.Line, row.Broken.(*RecordError).Line)
		}
		// Kept after later Next calls: RawCells must not share storage
		// with the reader.
		if !reflect.DeepEqual(row.RawCells, w.cells) {
			t.Errorf("line %d RawCells = %q, want %q", row.Line, row.RawCells, w.cells)
		}
	}
}

func TestCSVRunawayQuotes(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		want   []summary
		reason string // of the first broken row
	}{
		{
			name:   "quote never closed swallows the rest of the file",
			text:   "email,name\na@x.com,A\nb@x.com,\"B\nc@x.com,C\nd@x.com,D\n",
			want:   []summary{{2, "a@x.com", false}, {3, "", true}, {4, "c@x.com", false}, {5, "d@x.com", false}},
			reason: "a quoted field opens on this line and is not closed where it should be (it runs on to line 5, the end of the file)",
		},
		{
			name:   "quote closed by a later field's opening quote",
			text:   "email,name,note\r\na@x.com,\"A,x\r\nb@x.com,B,n\r\nc@x.com,\"C\",n\r\nd@x.com,D,n\r\n",
			want:   []summary{{2, "", true}, {3, "b@x.com", false}, {4, "c@x.com", false}, {5, "d@x.com", false}},
			reason: "(it runs on to line 4)",
		},
		{
			name: "quote closed later with the field count wrong",
			text: "email,name,note\na@x.com,\"A,x\nb@x.com,B\",n,m\nc@x.com,C,n\n",
			// Line 3, read again, is broken too: its quote is the one
			// that closed line 2's.
			want:   []summary{{2, "", true}, {3, "", true}, {4, "c@x.com", false}},
			reason: "has 4 fields over lines 2-3, header has 3",
		},
		{
			name:   "empty lines before the broken record",
			text:   "email,name\n\n\nb@x.com,\"B\n\nc@x.com,C\n",
			want:   []summary{{4, "", true}, {6, "c@x.com", false}},
			reason: "not closed where it should be",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _ := readAll(t, "u.csv", tt.text, Options{})
			if got := summarize(rows); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("rows = %+v, want %+v", got, tt.want)
			}
			for _, row := range rows {
				if row.Broken != nil {
					if !strings.Contains(reason(row), tt.reason) {
						t.Errorf("line %d reason = %q, want it to contain %q", row.Line, reason(row), tt.reason)
					}
					break
				}
			}
		})
	}
}

func TestCSVRecordTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,note\na@x.com,\"")
	b.WriteString(strings.Repeat("x", maxRecordSize+1000))
	b.WriteString("\nb@x.com,B\n")
	rows, _ := readAll(t, "u.csv", b.String(), Options{})
	want := []summary{{2, "", true}, {3, "b@x.com", false}}
	if got := summarize(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows = %+v, want %+v", got, want)
	}
	if !strings.Contains(reason(rows[0]), "more than 16 MiB") {
		t.Errorf("reason = %q", reason(rows[0]))
	}
}

func TestCSVUTF16(t *testing.T) {
	// Excel's "Unicode Text": UTF-16LE with a BOM, tab-delimited.
	text := "email\tname\r\nzoë@x.com\tZoë\r\n"
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xFE})
	for _, u := range utf16.Encode([]rune(text)) {
		binary.Write(&b, binary.LittleEndian, u)
	}
	rows, _ := readAll(t, "u.txt", b.String(), Options{})
	if len(rows) != 1 || rows[0].Email != "zoë@x.com" || rows[0].Name != "Zoë" || rows[0].Line != 2 {
		t.Errorf("rows = %+v", rows)
	}
}

func TestCSVLocate(t *testing.T) {
	c := &csvReader{comma: ';', header: []string{"email", " Name ", ""}}
	tests := []struct {
		text string
		col  int // byte, 1-based
		want string
	}{
		{`a;b "c"`, 5, "field 2 (Name), character 5"},
		{`"Zoë; Z";x"`, 12, "field 2 (Name), character 11"},
		{`a;b;c"d`, 6, "field 3, character 6"},
		{`a;b;c;d"`, 8, "field 4, character 8"},
		{`abc`, 99, "field 1 (email), character 4"},
		{`abc`, 0, "field 1 (email), character 1"},
	}
	for _, tt := range tests {
		if got := c.locate(tt.text, tt.col); got != tt.want {
			t.Errorf("locate(%q, %d) = %q, want %q", tt.text, tt.col, got, tt.want)
		}
	}
}

// A quote that never closes over many lines is cut at the size limit, and
// the lines after its first are read again as rows.
func TestCSVRunawayQuotePastLimit(t *testing.T) {
	const rows = 2000
	text := "email,name\na@x.com,\"A\n" + strings.Repeat("b@x.com,B\n", rows)
	r, err := NewReader(strings.NewReader(text), "u.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.(*csvReader).tape.limit = 4 << 10 // the file is 20 KiB
	got, err := drain(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != rows+1 || got[0].Line != 2 || got[0].Broken == nil {
		t.Fatalf("read %d rows, first %+v; want %d with line 2 broken", len(got), got[0], rows+1)
	}
	if want := "runs on for more than 4 KiB"; !strings.Contains(reason(got[0]), want) {
		t.Errorf("reason = %q, want %q", reason(got[0]), want)
	}
	for i, row := range got[1:] {
		if row.Broken != nil || row.Line != i+3 || row.Email != "b@x.com" {
			t.Fatalf("row %+v, want line %d unbroken", row, i+3)
		}
	}
}
