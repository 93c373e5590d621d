package validatedata

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"provision/engine/source"
)

func cols(names ...string) []sourceColumn {
	out := make([]sourceColumn, len(names))
	for i, n := range names {
		out[i] = sourceColumn{Name: n}
	}
	return out
}

func fields(cs []column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Field
	}
	return out
}

func TestGuessColumns(t *testing.T) {
	tests := []struct {
		name string
		in   []sourceColumn
		want []string
	}{
		{"same names, any case", cols("Email", "given_name", " FAMILY_NAME "), []string{"email", "given_name", "family_name"}},
		{"aliases", cols("E-Mail Address", "First Name", "Surname", "pwd", "Salt", "Mobile"),
			[]string{"email", "given_name", "family_name", "password_hash", "password_salt", "phone_number"}},
		{"exact name beats alias", cols("mail", "email"), []string{"", "email"}},
		{"unknown stays unmapped", cols("email", "signup_source"), []string{"email", ""}},
		{"from values", []sourceColumn{
			{Name: "contact", Samples: []string{"a@example.com", "b@example.org"}},
			{Name: "secret_blob", Samples: []string{"$2b$10$abcdefghijklmnopqrstuv"}},
			{Name: "notes", Samples: []string{"likes cats"}},
		}, []string{"email", "password_hash", ""}},
		{"values never take a named field", []sourceColumn{
			{Name: "email", Samples: []string{"a@example.com"}},
			{Name: "backup", Samples: []string{"b@example.com"}},
		}, []string{"email", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fields(guessColumns(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("guessColumns = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetFieldMovesField(t *testing.T) {
	cs := guessColumns(cols("mail", "email_2"))
	if cs[0].Field != "email" {
		t.Fatalf("mail not guessed as email: %+v", cs)
	}
	if took := setField(cs, 1, "email"); took != "mail" {
		t.Errorf("setField took from %q, want mail", took)
	}
	if got := fields(cs); !reflect.DeepEqual(got, []string{"", "email"}) {
		t.Errorf("fields = %q", got)
	}
	if got := mappingOf(cs); !reflect.DeepEqual(got, map[string]string{"email_2": "email"}) {
		t.Errorf("mapping = %v", got)
	}
	setField(cs, 0, source.Ignore)
	if got := mappingOf(cs); got["mail"] != source.Ignore {
		t.Errorf("ignored column missing from mapping: %v", got)
	}
	if mappingProblem(cs) != "" {
		t.Errorf("unexpected problem: %s", mappingProblem(cs))
	}
	setField(cs, 1, "username")
	if !strings.Contains(mappingProblem(cs), "email") {
		t.Errorf("no email column should be a problem")
	}
}

func TestMappingRunsThroughSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "legacy.csv")
	if err := os.WriteFile(path, []byte("Mail;Vorname;pwd;notes\nanna@example.com;Anna;$2b$10$abcdefghijklmnopqrstuv;x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := inspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.columns) != 4 || in.columns[1].Name != "Vorname" {
		t.Fatalf("columns = %+v", in.columns)
	}
	cs := guessColumns(in.columns)
	setField(cs, 1, "given_name")
	setField(cs, 3, source.Ignore)
	r, closer, err := source.Open(path, source.Options{Mapping: mappingOf(cs)})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row.Email != "anna@example.com" || row.GivenName != "Anna" || row.PasswordHash == "" {
		t.Errorf("row = %+v", row)
	}
	if len(r.Unknown()) != 0 {
		t.Errorf("unknown columns: %v", r.Unknown())
	}
}

func TestInspectNDJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.json")
	data := `{"email":"a@example.com","user_id":"auth0|1","logins_count":3}` + "\n" +
		`{"email":"b@example.com","nickname":"b","logins_count":null}` + "\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := inspectFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if in.format != source.FormatNDJSON {
		t.Errorf("format = %s", in.format)
	}
	var names []string
	for _, c := range in.columns {
		names = append(names, c.Name)
	}
	if want := []string{"email", "user_id", "logins_count", "nickname"}; !reflect.DeepEqual(names, want) {
		t.Errorf("keys = %q, want %q", names, want)
	}
	if got := in.columns[2].Samples; !reflect.DeepEqual(got, []string{"3"}) {
		t.Errorf("samples = %q", got)
	}
}

func TestSamplesOfSecretsAreMasked(t *testing.T) {
	cs := guessColumns([]sourceColumn{
		{Name: "password", Samples: []string{"$2b$10$abc"}},
		{Name: "legacy_pw_salt", Samples: []string{"pepper"}},
		{Name: "email", Samples: []string{"a@example.com"}},
	})
	for i, want := range []string{mask, mask, "a@example.com"} {
		if got := sampleOf(cs[i]); got != want {
			t.Errorf("sample of %s = %q, want %q", cs[i].Name, got, want)
		}
	}
}

func TestCaptureRowMasksSecrets(t *testing.T) {
	row := source.Row{Line: 7, Email: "a@example.com", PasswordHash: "$2b$10$secret", PasswordSalt: "NaCl",
		RawCells: []string{"a@example.com", "$2b$10$secret", "NaCl", "x"}}
	header := []string{"email", "hash", "salt", "notes"}
	fieldOf := map[string]string{"email": "email", "hash": "password_hash", "salt": "password_salt"}
	got := captureRow(row, header, fieldOf)
	for _, c := range got.Cells {
		if strings.Contains(c.Value, "secret") || c.Value == "NaCl" {
			t.Errorf("cell %s not masked: %q", c.Column, c.Value)
		}
	}
	if got.Cells[3].Value != "x" {
		t.Errorf("plain cell changed: %+v", got.Cells[3])
	}
	// JSON rows are shown by field.
	row.RawCells = nil
	got = captureRow(row, nil, nil)
	for _, c := range got.Cells {
		if strings.Contains(c.Value, "secret") || c.Value == "NaCl" {
			t.Errorf("field %s not masked: %q", c.Column, c.Value)
		}
	}
	if len(got.Cells) != 3 {
		t.Errorf("cells = %+v", got.Cells)
	}
}

func TestRowFieldsFollowsSourceFields(t *testing.T) {
	var r source.Row
	fs := rowFields(&r)
	if len(fs) != len(source.Fields) {
		t.Fatalf("rowFields lists %d fields, source.Fields has %d", len(fs), len(source.Fields))
	}
	r.Email, r.PasswordEncoding = "e", "enc"
	fs = rowFields(&r)
	if fs[0] != (fieldValue{"email", "e"}) || fs[len(fs)-1] != (fieldValue{"password_encoding", "enc"}) {
		t.Errorf("fields out of order: %v", fs)
	}
}

func TestCanaries(t *testing.T) {
	list, replaced := addCanaries(nil, []canary{{Email: "A@Example.com", Password: "p1", From: "typed"}})
	list, replaced = addCanaries(list, []canary{{Email: "a@example.com ", Password: "p2", From: "typed"}})
	if len(list) != 1 || replaced != 1 || list[0].Password != "p2" {
		t.Fatalf("list = %+v, replaced %d", list, replaced)
	}
	c, err := buildCanaries(list)
	if err != nil || c.Len() != 1 {
		t.Fatalf("buildCanaries: %v, %v", c, err)
	}
	if c, err := buildCanaries(nil); c != nil || err != nil {
		t.Errorf("no canaries should give nil, got %v, %v", c, err)
	}
}
