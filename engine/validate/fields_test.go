package validate

import (
	"encoding/json"
	"strings"
	"testing"

	"provision/engine/importuser"
)

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		in, want, code, msg string
	}{
		{"Ana.Lopez@Example.COM", "ana.lopez@example.com", "", ""},
		{"  bob+tag@mail.example.org ", "bob+tag@mail.example.org", "", ""},
		{"o'brien@example.ie", "o'brien@example.ie", "", ""},
		{"", "", CodeEmailMissing, "empty"},
		{"bob.example.com", "", CodeEmailInvalid, "missing @"},
		{"bob @example.com", "", CodeEmailInvalid, "space"},
		{"a@b@example.com", "", CodeEmailInvalid, "more than one @"},
		{"@example.com", "", CodeEmailInvalid, "nothing before @"},
		{"bob@", "", CodeEmailInvalid, "nothing after @"},
		{"bob@localhost", "", CodeEmailInvalid, "no dot"},
		{"bob@exa_mple.com", "", CodeEmailInvalid, "contains"},
		{"bob..x@example.com", "", CodeEmailInvalid, "dots"},
		{".bob@example.com", "", CodeEmailInvalid, "dots"},
		{"bob@-example.com", "", CodeEmailInvalid, "hyphen"},
		{"bob@example..com", "", CodeEmailInvalid, "empty label"},
		{"josé@example.com", "", CodeEmailInvalid, "non-ASCII"},
		{"bob@bücher.de", "", CodeEmailInvalid, "domain has non-ASCII"},
		{strings.Repeat("a", 65) + "@example.com", "", CodeEmailTooLong, "before @"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".example.com", "", CodeEmailTooLong, "at most 254"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, f := checkEmail(tt.in)
			if tt.code == "" {
				if f != nil {
					t.Fatalf("unexpected finding %v", f)
				}
				if got != tt.want {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				// What we accept, Auth0's schema must accept too.
				if err := importuser.ValidateUser(importuser.User{Email: got}); err != nil {
					t.Fatalf("accepted %q but the import schema rejects it: %v", got, err)
				}
				return
			}
			if f == nil || f.Code != tt.code || !strings.Contains(f.Message, tt.msg) || f.Hint == "" {
				t.Fatalf("finding = %+v, want code %s mentioning %q with a hint", f, tt.code, tt.msg)
			}
		})
	}
}

func TestCheckUsername(t *testing.T) {
	p := DefaultUsernamePolicy
	tests := []struct {
		in, want, code string
		policy         UsernamePolicy
	}{
		{"Ana_Lopez", "ana_lopez", "", p},
		{"j.o'neil-99", "j.o'neil-99", "", p},
		{"averyveryverylongname", "", CodeUsernameLength, p},
		{"averyveryverylongname", "averyveryverylongname", "", UsernamePolicy{1, 30}},
		{"ab", "", CodeUsernameLength, UsernamePolicy{3, 15}},
		{"ana lopez", "", CodeUsernameChars, p},
		{"josé", "", CodeUsernameChars, p},
		{"ana@ex.com", "", CodeUsernameIsEmail, p},
		{"ana@home", "ana@home", "", p}, // '@' is allowed when it isn't an address
	}
	for _, tt := range tests {
		got, f := checkUsername(tt.in, tt.policy)
		switch {
		case tt.code == "" && (f != nil || got != tt.want):
			t.Errorf("checkUsername(%q) = %q, %v; want %q", tt.in, got, f, tt.want)
		case tt.code != "" && (f == nil || f.Code != tt.code):
			t.Errorf("checkUsername(%q) finding = %v; want %s", tt.in, f, tt.code)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, in := range []string{"true", "TRUE", "1", "yes", "Yes", "y"} {
		if b, f := parseBool("blocked", in); f != nil || b == nil || !*b {
			t.Errorf("parseBool(%q) = %v, %v; want true", in, b, f)
		}
	}
	for _, in := range []string{"false", "False", "0", "no", "NO"} {
		if b, f := parseBool("blocked", in); f != nil || b == nil || *b {
			t.Errorf("parseBool(%q) = %v, %v; want false", in, b, f)
		}
	}
	if b, f := parseBool("blocked", ""); b != nil || f != nil {
		t.Errorf("empty must mean absent")
	}
	if _, f := parseBool("email_verified", "maybe"); f == nil || f.Code != CodeInvalidBoolean || f.Field != "email_verified" {
		t.Errorf("maybe: finding = %v", f)
	}
}

func TestCheckUserID(t *testing.T) {
	if id, fs := checkUserID("u-123"); id != "u-123" || fs != nil {
		t.Errorf("plain id: %q %v", id, fs)
	}
	id, fs := checkUserID("auth0|abc")
	if id != "abc" || len(fs) != 1 || fs[0].Code != CodeUserIDPrefix || fs[0].Severity != SeverityWarning {
		t.Errorf("auth0| prefix: %q %v", id, fs)
	}
	for _, bad := range []string{"has space", "tab\tin", strings.Repeat("x", 256), "auth0|"} {
		if _, fs := checkUserID(bad); len(fs) == 0 || fs[len(fs)-1].Code != CodeUserIDInvalid {
			t.Errorf("checkUserID(%q) = %v; want USER_ID_INVALID", bad, fs)
		}
	}
}

func TestCheckPhone(t *testing.T) {
	for _, ok := range []string{"+12125550100", "+447700900123", "+49"} {
		if _, f := checkPhone(ok); f != nil {
			t.Errorf("%q rejected: %v", ok, f)
		}
	}
	for _, bad := range []string{"(212) 555-0100", "12125550100", "+0123", "+1 212 555 0100", "+1234567890123456", "+"} {
		if _, f := checkPhone(bad); f == nil || f.Code != CodePhoneInvalid {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCheckMetadata(t *testing.T) {
	m, fs := checkMetadata("user_metadata", ` { "lang" : "fr", "n": 1 } `)
	if fs != nil {
		t.Errorf("valid object: %v", fs)
	}
	// Kept as written; marshalling the user compacts it.
	if b, _ := json.Marshal(importuser.User{Email: "a@b.co", UserMetadata: m}); !strings.Contains(string(b), `"user_metadata":{"lang":"fr","n":1}`) {
		t.Errorf("marshalled: %s", b)
	}
	for _, bad := range []string{`{"a":`, `[1,2]`, `"text"`, `plan=gold`} {
		if _, fs := checkMetadata("user_metadata", bad); len(fs) != 1 || fs[0].Code != CodeMetadataInvalid {
			t.Errorf("%s: %v", bad, fs)
		}
	}
	_, fs = checkMetadata("app_metadata", `{"plan":"gold","blocked":true,"user_id":"x"}`)
	if len(fs) != 2 || fs[0].Code != CodeMetadataReservedKey {
		t.Fatalf("reserved keys: %v", fs)
	}
	// Reserved names are only reserved in app_metadata.
	if _, fs := checkMetadata("user_metadata", `{"blocked":true}`); fs != nil {
		t.Errorf("user_metadata may use any key: %v", fs)
	}
}

func TestCheckNameLength(t *testing.T) {
	name := nameLimits[2] // name: 150 per one Auth0 page, 300 per another
	if f := checkNameLength(name, strings.Repeat("é", 150)); f != nil {
		t.Errorf("150 chars: %v", f)
	}
	if f := checkNameLength(name, strings.Repeat("a", 200)); f == nil || f.Severity != SeverityWarning {
		t.Errorf("200 chars: %v, want a warning", f)
	}
	if f := checkNameLength(name, strings.Repeat("a", 301)); f == nil || f.Code != CodeNameLength {
		t.Errorf("301 chars: %v, want an error", f)
	}
	// Astral characters count as two UTF-16 units, as in JavaScript.
	if f := checkNameLength(nameLimits[0], strings.Repeat("𝒜", 76)); f == nil {
		t.Error("76 astral characters are 152 UTF-16 units: want a finding")
	}
}

func TestCheckMFAFactors(t *testing.T) {
	good := `[{"totp":{"secret":"JBSWY3DPEHPK3PXP"}},{"phone":{"value":"+12125550100"}},{"email":{"value":"a@example.com"}}]`
	if m, f := checkMFAFactors(good); f != nil || len(m) == 0 {
		t.Fatalf("good factors rejected: %v", f)
	} else if err := importuser.ValidateUser(importuser.User{Email: "a@example.com", MFAFactors: m}); err != nil {
		t.Fatalf("schema disagrees: %v", err)
	}
	for _, bad := range []string{`[]`, `{}`, `[{"totp":{"secret":"jbswy3dp"}}]`, `[{"totp":{"secret":"JBSW="}}]`,
		`[{"phone":{"value":"2125550100"}}]`, `[{"sms":{"value":"+1"}}]`, `[{"totp":{"secret":"A"},"email":{"value":"a@b.co"}}]`,
		`[{"email":{"value":"nope"}}]`, `[{"totp":{"secret":"A","extra":1}}]`} {
		if _, f := checkMFAFactors(bad); f == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestNeutralize(t *testing.T) {
	tests := map[string]string{
		"=HYPERLINK(\"x\")":      "'=HYPERLINK(\"x\")",
		"@SUM(A1)":               "'@SUM(A1)",
		"+12125550100":           "+12125550100",
		"-5":                     "-5",
		"-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"+abc/def==":             "'+abc/def==",
		"plain":                  "plain",
		"":                       "",
	}
	for in, want := range tests {
		got := neutralize(in)
		if got != want {
			t.Errorf("neutralize(%q) = %q, want %q", in, got, want)
		}
		if back := unneutralize(got); back != in {
			t.Errorf("unneutralize(neutralize(%q)) = %q", in, back)
		}
	}
}

func TestTopLevelKeys(t *testing.T) {
	tests := map[string]string{
		`{}`: "",
		`{"a":1,"b":{"c":2,"d":[{"e":3}]},"f":"x"}`: "a,b,f",
		`{"k\"ey":"v:{","blocked":true}`:            `k"ey,blocked`,
		`{"a":"}\\","user_id":["x","y"]}`:           "a,user_id",
		`{"\u0062locked":1}`:                        "blocked",
	}
	for in, want := range tests {
		if got := strings.Join(topLevelKeys([]byte(in)), ","); got != want {
			t.Errorf("topLevelKeys(%s) = %q, want %q", in, got, want)
		}
	}
	// An escaped reserved key is still reserved: Auth0 sees the decoded name.
	if _, fs := checkMetadata("app_metadata", `{"\u0062locked":true}`); len(fs) != 1 || fs[0].Code != CodeMetadataReservedKey {
		t.Errorf("escaped reserved key not caught: %v", fs)
	}
}
