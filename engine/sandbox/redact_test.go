package sandbox

import (
	"encoding/json"
	"reflect"
	"testing"

	"golang.org/x/time/rate"

	"provision/engine/importuser"
)

// redactUserJSON must hide exactly what importuser.User.Redacted hides.
func TestRedactUserJSONMatchesImportuserRedacted(t *testing.T) {
	yes := true
	users := []importuser.User{
		{Email: "a@example.com", PasswordHash: "$2b$10$abcdefghijklmnopqrstuv"},
		{Email: "b@example.com", EmailVerified: &yes, CustomPasswordHash: &importuser.CustomPasswordHash{
			Algorithm: "hmac",
			Hash:      importuser.HashValue{Value: "deadbeef", Encoding: "hex", Digest: "sha256", Key: &importuser.HMACKey{Value: "k3y", Encoding: "utf8"}},
			Salt:      &importuser.Salt{Value: "pepper", Position: "suffix"},
			Password:  &importuser.PasswordSpec{Encoding: "utf8"},
		}},
		{Email: "c@example.com", MFAFactors: json.RawMessage(`[{"totp":{"secret":"JBSWY3DP"}}]`), AppMetadata: json.RawMessage(`{"n":1.50}`)},
		{Email: "d@example.com", GivenName: "No secrets"},
	}
	for _, u := range users {
		raw, _ := json.Marshal(u)
		want, _ := json.Marshal(u.Redacted())
		var got, wantV any
		json.Unmarshal(redactUserJSON(raw), &got)
		json.Unmarshal(want, &wantV)
		if !reflect.DeepEqual(got, wantV) {
			t.Errorf("%s:\nredactUserJSON %s\nRedacted       %s", u.Email, redactUserJSON(raw), want)
		}
	}
}

func TestRedactUserJSONKeepsWhatItCannotParse(t *testing.T) {
	for _, raw := range []string{`"just a string"`, `42`, `[1,2]`, `null`} {
		if got := string(redactUserJSON(json.RawMessage(raw))); got != raw {
			t.Errorf("%s became %s", raw, got)
		}
	}
	if got := string(redactUserJSON(json.RawMessage(`{"email":"x","extra":{"n":1.50}}`))); got != `{"email":"x","extra":{"n":1.50}}` {
		t.Errorf("unknown fields or number formatting changed: %s", got)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    rate.Limit
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"16/s", 16, false},
		{"2", 2, false},
		{"120/m", 2, false},
		{"3600/h", 1, false},
		{"5/d", 0, true},
		{"fast", 0, true},
		{"-1/s", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseFaultKinds(t *testing.T) {
	got, err := ParseFaultKinds("500, hang,503")
	if err != nil || !reflect.DeepEqual(got, []FaultKind{FaultInternalError, FaultHang, FaultUnavailable}) {
		t.Errorf("ParseFaultKinds = %v, %v", got, err)
	}
	if _, err := ParseFaultKinds("500,teapot"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{ConnectionID: "con_sandbox00000001"}, // 15 characters after con_
		{ConnectionID: "con_sandbox-00000001"},
		{FailRate: 1.5},
		{JobFailRate: -0.1},
		{JobDuration: -1},
		{FailKinds: []FaultKind{9}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if !connectionIDPattern.MatchString(DefaultConnectionID) {
		t.Errorf("default connection id %s does not match Auth0's pattern", DefaultConnectionID)
	}
}
