package importuser

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestValidateUserAgainstAuth0Schema(t *testing.T) {
	yes := true
	tests := []struct {
		name    string
		user    User
		wantErr string
	}{
		{"minimal", User{Email: "ana@example.com"}, ""},
		{"bad email format", User{Email: "ana.example.com"}, "email"},
		{"custom bcrypt", User{Email: "a@b.co", EmailVerified: &yes, CustomPasswordHash: &CustomPasswordHash{
			Algorithm: "bcrypt", Hash: HashValue{Value: "$2y$12$abc"}}}, ""},
		{"unknown algorithm", User{Email: "a@b.co", CustomPasswordHash: &CustomPasswordHash{
			Algorithm: "crypt", Hash: HashValue{Value: "x"}}}, "algorithm"},
		{"bad totp secret", User{Email: "a@b.co", MFAFactors: json.RawMessage(`[{"totp":{"secret":"abc="}}]`)}, "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateUser(tt.user)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateFileJSONRejectsNonArray(t *testing.T) {
	if err := ValidateFileJSON([]byte(`{"email":"a@b.co"}`)); err == nil {
		t.Fatal("an object is not an import file; want an error")
	}
	if err := ValidateFileJSON([]byte(`[{"email":"a@b.co"},{"email":"c@d.co","extra":1}]`)); err == nil {
		t.Fatal("additional property must be rejected")
	}
	if err := ValidateFileJSON([]byte(`[{"email":"a@b.co"}]`)); err != nil {
		t.Fatal(err)
	}
}

func TestRedactedHidesEverySecret(t *testing.T) {
	u := User{Email: "a@b.co", PasswordHash: "$2b$10$secret", CustomPasswordHash: &CustomPasswordHash{
		Algorithm: "hmac", Hash: HashValue{Value: "deadbeef", Key: &HMACKey{Value: "k3y"}}, Salt: &Salt{Value: "pepper"}},
		MFAFactors: json.RawMessage(`[{"totp":{"secret":"JBSWY3DP"}}]`)}
	b, _ := json.Marshal(u.Redacted())
	for _, secret := range []string{"secret", "deadbeef", "k3y", "pepper", "JBSWY3DP"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("redacted user still contains %q: %s", secret, b)
		}
	}
	if u.CustomPasswordHash.Hash.Value != "deadbeef" {
		t.Error("Redacted must not modify the original")
	}
}
