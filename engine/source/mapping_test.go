package source

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	tests := []struct {
		specs   []string
		want    map[string]string
		wantErr []string // substrings of the error; nil for success
	}{
		{specs: nil, want: map[string]string{}},
		{specs: []string{"Mail=email", " First Name = Given_Name "}, want: map[string]string{"Mail": "email", "First Name": "given_name"}},
		{specs: []string{"a=b=email"}, want: map[string]string{"a=b": "email"}},
		{specs: []string{"Notes=-"}, want: map[string]string{"Notes": Ignore}},
		{specs: []string{"mail=email", "MAIL=email"}, want: map[string]string{"mail": "email", "MAIL": "email"}},
		{specs: []string{"mail"}, wantErr: []string{`mapping "mail"`, "want COLUMN=FIELD"}},
		{specs: []string{"=email"}, wantErr: []string{"column name is empty"}},
		{specs: []string{"Mail=emial"}, wantErr: []string{`unknown field "emial"`, "did you mean email?", "valid fields: email, email_verified,", "password_encoding, or - to ignore"}},
		{specs: []string{"Mail=login"}, wantErr: []string{`unknown field "login"`, "valid fields"}},
		{specs: []string{"mail=email", "Mail=name"}, wantErr: []string{`"mail=email"`, `"Mail=name"`, "keep one"}},
	}
	for _, tt := range tests {
		got, err := ParseMapping(tt.specs)
		if tt.wantErr == nil {
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMapping(%q) = %v, %v; want %v", tt.specs, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseMapping(%q) = %v, want an error", tt.specs, got)
			continue
		}
		for _, w := range tt.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseMapping(%q) error %q does not contain %q", tt.specs, err, w)
			}
		}
	}
}

func TestColumnMapResolve(t *testing.T) {
	cols, err := newColumnMap(map[string]string{"E-Mail": "email", "Notes": Ignore})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		field, rank int
	}{
		{"E-Mail", 0, rankMapped},
		{" e-mail ", 0, rankMapped},
		{"email", 0, rankExact},
		{"Email", 0, rankFolded},
		{" password_hash", fieldIndex["password_hash"] - 1, rankFolded},
		{"notes", ignoredField, rankMapped},
		{"Line", ignoredField, rankFolded},
		{"reason", ignoredField, rankFolded},
		{"zip", noField, 0},
		{"", noField, 0},
	}
	for _, tt := range tests {
		f, r := cols.resolve(tt.name)
		if f != tt.field || r != tt.rank {
			t.Errorf("resolve(%q) = %d, %d; want %d, %d", tt.name, f, r, tt.field, tt.rank)
		}
	}
}

func TestNewColumnMapRejectsConflicts(t *testing.T) {
	_, err := newColumnMap(map[string]string{"mail": "email", "MAIL": "name"})
	if err == nil || !strings.Contains(err.Error(), "name the same column") {
		t.Errorf("error = %v", err)
	}
}

// Fields, the csv tags of Row and fieldPtrs must agree, or values would
// land in the wrong field.
func TestFieldsMatchRow(t *testing.T) {
	if len(Fields) != len(fieldPtrs) {
		t.Fatalf("%d Fields, %d fieldPtrs", len(Fields), len(fieldPtrs))
	}
	var row Row
	v := reflect.ValueOf(&row).Elem()
	tagged := map[string]uintptr{}
	for i := 0; i < v.NumField(); i++ {
		if tag := v.Type().Field(i).Tag.Get("csv"); tag != "" && tag != "-" {
			tagged[tag] = v.Field(i).Addr().Pointer()
		}
	}
	if len(tagged) != len(Fields) {
		t.Errorf("Row has %d csv-tagged fields, Fields has %d", len(tagged), len(Fields))
	}
	for i, name := range Fields {
		addr, ok := tagged[name]
		if !ok {
			t.Errorf("no Row field tagged %q", name)
			continue
		}
		if got := reflect.ValueOf(fieldPtrs[i](&row)).Pointer(); got != addr {
			t.Errorf("fieldPtrs[%d] does not point at the field tagged %q", i, name)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"email", "email", 0}, {"emial", "email", 2}, {"emal", "email", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
