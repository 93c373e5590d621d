package source

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestJSONArrayPrettyPrinted(t *testing.T) {
	text := `[
  {
    "email": "a@x.com",
    "app_metadata": {
      "plan": "pro",
      "tags": ["a", "b"]
    }
  },
  {
    "email": "b@x.com",
    "blocked": true,
    "logins": 42,
    "nickname": null,
    "given_name": "B\u00e9a \"Bee\"",
    "mfa_factors": [ { "totp": { "secret": "ABC" } } ]
  }
]
`
	rows, r := readAll(t, "users.json", text, Options{})
	if r.Format() != FormatJSON {
		t.Errorf("Format() = %q, want json", r.Format())
	}
	if r.Header() != nil {
		t.Errorf("Header() = %q, want nil", r.Header())
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	a, b := rows[0], rows[1]
	if a.Line != 2 || a.Email != "a@x.com" || a.AppMetadata != `{"plan":"pro","tags":["a","b"]}` {
		t.Errorf("first row = %+v", a)
	}
	if !strings.HasPrefix(string(a.RawJSON), "{\n    \"email\"") || !strings.HasSuffix(string(a.RawJSON), "}\n  }") {
		t.Errorf("first RawJSON = %q, want the element exactly", a.RawJSON)
	}
	want := Row{Line: 9, Email: "b@x.com", Blocked: "true", GivenName: `Béa "Bee"`, MFAFactors: `[{"totp":{"secret":"ABC"}}]`}
	b.RawJSON = nil
	if !reflect.DeepEqual(b, want) {
		t.Errorf("second row =\n%+v\nwant\n%+v", b, want)
	}
	if got, want := r.Unknown(), []UnknownColumn{{"logins", 9}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unknown() = %v, want %v", got, want)
	}
}

func TestJSONScalarsBecomeText(t *testing.T) {
	text := `[{"email":"a@x.com","email_verified":false,"phone_verified":"true","user_id":1e3,"name":-12.50,"user_metadata":{ "a" : [ 1 , { "b" : null } ] },"picture":"","nickname":"\ud83d\ude00"}]`
	rows, _ := readAll(t, "u.json", text, Options{})
	want := Row{Line: 1, Email: "a@x.com", EmailVerified: "false", PhoneVerified: "true", UserID: "1e3", Name: "-12.50",
		UserMetadata: `{"a":[1,{"b":null}]}`, Nickname: "😀", RawJSON: []byte(text[1 : len(text)-1])}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Errorf("rows = %+v\nwant %+v", rows, want)
	}
}

func TestNDJSONAuth0Export(t *testing.T) {
	// Auth0's user export is NDJSON, even when saved as .json.
	text := `{"user_id":"auth0|5f1a2b3c4d5e6f7a8b9c0d1e","email":"ann@x.com","email_verified":true,"name":"Ann","created_at":"2020-01-01T00:00:00.000Z","updated_at":"2024-05-01T10:00:00.000Z","last_login":"2024-05-01T10:00:00.000Z","logins_count":12,"identities":[{"connection":"Username-Password-Authentication","user_id":"5f1a2b3c4d5e6f7a8b9c0d1e","provider":"auth0","isSocial":false}],"last_ip":"203.0.113.9","app_metadata":{"roles":["admin"]},"user_metadata":{"lang":"en"}}
{"user_id":"auth0|60aa","email":"bob@x.com","email_verified":false,"created_at":"2021-01-01T00:00:00.000Z","updated_at":"2021-01-01T00:00:00.000Z","logins_count":0,"identities":[],"last_ip":"203.0.113.10"}
{"user_id":"google-oauth2|1234","email":"cy@x.com","identities":[]}
`
	rows, r := readAll(t, "export.json", text, Options{})
	if r.Format() != FormatNDJSON {
		t.Errorf("Format() = %q, want ndjson", r.Format())
	}
	want := []struct {
		line          int
		email, id     string
		app, verified string
	}{
		{1, "ann@x.com", "5f1a2b3c4d5e6f7a8b9c0d1e", `{"roles":["admin"]}`, "true"},
		{2, "bob@x.com", "60aa", "", "false"},
		{3, "cy@x.com", "google-oauth2|1234", "", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		row := rows[i]
		if row.Line != w.line || row.Email != w.email || row.UserID != w.id || row.AppMetadata != w.app || row.EmailVerified != w.verified || row.Broken != nil {
			t.Errorf("row %d = %+v, want %+v", i, row, w)
		}
	}
	wantUnknown := []UnknownColumn{{"created_at", 1}, {"updated_at", 1}, {"last_login", 1}, {"logins_count", 1}, {"identities", 1}, {"last_ip", 1}}
	if got := r.Unknown(); !reflect.DeepEqual(got, wantUnknown) {
		t.Errorf("Unknown() = %v, want %v", got, wantUnknown)
	}
}

func TestJSONBrokenElementsAndRecovery(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		text    string
		want    []summary
		reasons []string // of the broken rows, in order
		fatal   string   // the error that ends reading, if not io.EOF
	}{
		{
			name:    "NDJSON syntax error names its line",
			file:    "u.ndjson",
			text:    "{\"email\":\"a\"}\n{\"email\":\"b\",}\n{\"email\":\"c\"}\n",
			want:    []summary{{1, "a", false}, {2, "", true}, {3, "c", false}},
			reasons: []string{"invalid JSON on line 2: invalid character '}'"},
		},
		{
			name:    "NDJSON missing brace does not swallow the next line",
			file:    "u.ndjson",
			text:    "{\"email\":\"a\"\n{\"email\":\"b\"}\n",
			want:    []summary{{1, "", true}, {2, "b", false}},
			reasons: []string{"not closed before line 2"},
		},
		{
			name:    "NDJSON unterminated string",
			file:    "u.jsonl",
			text:    "{\"email\":\"a}\n{\"email\":\"b\"}\n",
			want:    []summary{{1, "", true}, {2, "b", false}},
			reasons: []string{"a string is not closed on line 1"},
		},
		{
			name:    "NDJSON values that are not objects",
			file:    "u.ndjson",
			text:    "42\n\"x\"\nnull\n{\"email\":\"a\"}\n[1]\nnot json at all\ntrue\n",
			want:    []summary{{1, "", true}, {2, "", true}, {3, "", true}, {4, "a", false}, {5, "", true}, {6, "", true}, {7, "", true}},
			reasons: []string{"is a number, not an object", "is a string", "is null", "is an array, not an object: each user must be a JSON object {...}; if the file is one JSON array, use --input-format json", "invalid JSON on line 6", "is a boolean"},
		},
		{
			name: "pretty-printed objects one after another (jq output)",
			file: "u.json",
			text: "{\n  \"email\": \"a\",\n  \"app_metadata\": {\n    \"x\": 1\n  }\n}\n{\n  \"email\": \"b\"\n}\n",
			want: []summary{{1, "a", false}, {7, "b", false}},
		},
		{
			name:    "array element missing its closing brace",
			file:    "u.json",
			text:    "[\n  {\n    \"email\": \"a\",\n    \"app_metadata\": {\n      \"x\": 1\n  },\n  {\n    \"email\": \"b\"\n  }\n]\n",
			want:    []summary{{2, "", true}, {7, "b", false}},
			reasons: []string{"not closed before line 7"},
		},
		{
			name:    "array element with an unterminated string",
			file:    "u.json",
			text:    "[\n  {\n    \"email\": \"a,\n    \"name\": \"A\"\n  },\n  {\n    \"email\": \"b\"\n  }\n]\n",
			want:    []summary{{2, "", true}, {6, "b", false}},
			reasons: []string{"a string is not closed on line 3"},
		},
		{
			name:    "array element with a bad value names the line of the fault",
			file:    "u.json",
			text:    "[\n  {\n    \"email\": \"a\",\n    \"blocked\": tru\n  },\n  {\"email\": \"b\"}\n]\n",
			want:    []summary{{2, "", true}, {6, "b", false}},
			reasons: []string{"invalid JSON on line 4: invalid character"},
		},
		{
			name:    "truncated array",
			file:    "u.json",
			text:    "[\n  {\"email\": \"a\"},\n  {\"email\": \"b\",\n",
			want:    []summary{{2, "a", false}, {3, "", true}},
			reasons: []string{"cut off by the end of the file"},
			fatal:   "the JSON array opened on line 1 is never closed (no ] before the end of the file at line 3)",
		},
		{
			name:    "truncated array after a broken element",
			file:    "u.json",
			text:    "[\n  {\"email\": \"a\n  },\n  {\"email\": \"b\"}\n",
			want:    []summary{{2, "", true}, {4, "b", false}},
			reasons: []string{"a string is not closed on line 2"},
			fatal:   "the JSON array opened on line 1 is never closed (no ] before the end of the file at line 4)",
		},
		{
			name:    "unterminated string at the end of a one-line array",
			file:    "u.json",
			text:    "[{\"email\": \"a\"}, {\"email\": \"b}]\n",
			want:    []summary{{1, "a", false}, {1, "", true}},
			reasons: []string{"a string is not closed on line 1"},
		},
		{
			name: "two arrays one after another",
			file: "u.json",
			text: "[{\"email\":\"a\"}]\n[{\"email\":\"b\"},\n{\"email\":\"c\"}]",
			want: []summary{{1, "a", false}, {2, "b", false}, {3, "c", false}},
		},
		{
			name: "stray and missing commas lose nothing",
			file: "u.json",
			text: "[,{\"email\":\"a\"} {\"email\":\"b\"},,\n{\"email\":\"c\"},]",
			want: []summary{{1, "a", false}, {1, "b", false}, {2, "c", false}},
		},
		{
			name: "valid JSON laid out oddly is never cut",
			file: "u.json",
			text: "[\n  {\"user_metadata\":\n{\"a\":\n[\n1\n]\n}, \"email\": \"a\"},\n  {\"email\": \"b\", \"mfa_factors\": [\n{\"totp\":{}}\n,\n[]\n]}\n]",
			want: []summary{{2, "a", false}, {8, "b", false}},
		},
		{
			name: "empty array",
			file: "u.json",
			text: " [ ] ",
			want: []summary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.text), tt.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := drain(r)
			switch {
			case tt.fatal == "" && err != nil:
				t.Errorf("reading ended with %v", err)
			case tt.fatal != "" && (err == nil || !strings.Contains(err.Error(), tt.fatal)):
				t.Errorf("reading ended with %v, want %q", err, tt.fatal)
			}
			if tt.fatal != "" {
				if _, again := r.Next(); again == nil || again.Error() != err.Error() {
					t.Errorf("Next after the fatal error = %v, want it again", again)
				}
			}
			if got := summarize(rows); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("rows = %+v, want %+v", got, tt.want)
			}
			var reasons []string
			for _, row := range rows {
				if row.Broken != nil {
					reasons = append(reasons, reason(row))
					if row.Broken.(*RecordError).Line != row.Line {
						t.Errorf("line %d: RecordError.Line = %d", row.Line, row.Broken.(*RecordError).Line)
					}
				}
			}
			if len(reasons) != len(tt.reasons) {
				t.Fatalf("reasons = %q, want %d", reasons, len(tt.reasons))
			}
			for i, w := range tt.reasons {
				if !strings.Contains(reasons[i], w) {
					t.Errorf("reason %d = %q, want it to contain %q", i, reasons[i], w)
				}
			}
		})
	}
}

func TestJSONElementTooLarge(t *testing.T) {
	big := strings.Repeat("x", 10<<10)
	for _, tt := range []struct {
		name, text string
		want       []summary
	}{
		{"u.ndjson", "{\"email\":\"a\",\"user_metadata\":{\"blob\":\"" + big + "\"}}\n{\"email\":\"b\"}\n", []summary{{1, "", true}, {2, "b", false}}},
		{"u.json", "[\n  {\n    \"email\": \"a\",\n    \"blob\": [\n" + strings.Repeat("      \"xxxxxxxxxx\",\n", 1000) + "      1]\n  },\n  {\"email\": \"b\"}\n]\n", []summary{{2, "", true}, {1007, "b", false}}},
	} {
		r, err := NewReader(strings.NewReader(tt.text), tt.name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.(*jsonReader).split.max = 4 << 10
		rows, err := drain(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := summarize(rows); !reflect.DeepEqual(got, tt.want) {
			t.Fatalf("%s: rows = %+v, want %+v", tt.name, got, tt.want)
		}
		if !strings.Contains(reason(rows[0]), "larger than 4 KiB") {
			t.Errorf("%s: reason = %q", tt.name, reason(rows[0]))
		}
	}
}

func TestJSONKeyMatching(t *testing.T) {
	tests := []struct {
		name        string
		object      string
		mapping     map[string]string
		wantEmail   string
		wantUnknown []string
	}{
		{"exact beats folded", `{"Email":"x","email":"y"}`, nil, "y", []string{"Email"}},
		{"exact beats folded, either order", `{"email":"y","Email":"x"}`, nil, "y", []string{"Email"}},
		{"first of two folded matches", `{"EMAIL":"x","Email":"y"}`, nil, "x", []string{"Email"}},
		{"mapping beats exact", `{"email":"x","Mail":"y"}`, map[string]string{"mail": "email"}, "y", []string{"email"}},
		{"repeated key: last wins", `{"email":"x","email":"y"}`, nil, "y", nil},
		{"surrounding space", `{" email ":"x"}`, nil, "x", nil},
		{"escaped key", `{"em\u0061il":"x"}`, nil, "x", nil},
		{"ignored keys", `{"email":"x","line":3,"reason":"r","notes":"n"}`, map[string]string{"notes": Ignore}, "x", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, r := readAll(t, "u.ndjson", tt.object+"\n", Options{Mapping: tt.mapping})
			if len(rows) != 1 || rows[0].Email != tt.wantEmail || rows[0].Broken != nil {
				t.Fatalf("rows = %+v, want email %q", rows, tt.wantEmail)
			}
			var unknown []string
			for _, u := range r.Unknown() {
				unknown = append(unknown, u.Name)
			}
			if !reflect.DeepEqual(unknown, tt.wantUnknown) {
				t.Errorf("Unknown() = %q, want %q", unknown, tt.wantUnknown)
			}
		})
	}
}

func TestJSONFormatMismatch(t *testing.T) {
	tests := []struct {
		text   string
		format Format
		want   string
	}{
		{"{\"email\":\"a\"}\n", FormatJSON, "use --input-format ndjson"},
		{"[{\"email\":\"a\"}]", FormatNDJSON, "use --input-format json"},
		{"\ufeff\n [{\"email\":\"a\"}]", FormatNDJSON, "use --input-format json"},
	}
	for _, tt := range tests {
		_, err := NewReader(strings.NewReader(tt.text), "u.json", Options{Format: tt.format})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "u.json") {
			t.Errorf("NewReader(%q, %s) error = %v, want %q", tt.text, tt.format, err, tt.want)
		}
	}
}

func TestJSONReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	// More than the reader looks ahead at the start, so that the failure
	// comes mid-stream.
	const elements = 10000
	data := "[" + strings.Repeat("{\"email\":\"a\"},\n", elements)
	r, err := NewReader(&failingReader{data: data, err: boom}, "u.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := drain(r)
	if !errors.Is(err, boom) {
		t.Errorf("reading ended with %v, want %v", err, boom)
	}
	if len(rows) != elements || rows[elements-1].Line != elements {
		t.Errorf("read %d rows, want %d", len(rows), elements)
	}
}

// failingReader yields data, then fails with err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
