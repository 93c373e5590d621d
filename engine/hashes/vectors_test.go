package hashes

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"provision/engine/importuser"
)

// vector is one entry of testdata/vectors.json: a hash made by a real tool
// (htpasswd, the argon2 CLI, openssl, libxcrypt, Python's hashlib) or taken
// from Auth0's documentation, with the command that made it.
type vector struct {
	Name     string `json:"name"`
	Cmd      string `json:"cmd"`
	Password string `json:"password"`
	Input    *struct {
		Hash         string `json:"hash"`
		Algorithm    string `json:"algorithm"`
		Salt         string `json:"salt"`
		SaltPosition string `json:"salt_position"`
		Encoding     string `json:"encoding"`
	} `json:"input"`
	Custom       *importuser.CustomPasswordHash `json:"custom"`
	PasswordHash string                         `json:"password_hash"`
	Family       string                         `json:"family"`
	Importable   bool                           `json:"importable"`
	Format       string                         `json:"format"`
	Warnings     []string                       `json:"warnings"`
	AlsoMatches  []string                       `json:"also_matches"`
	Wrong        []string                       `json:"wrong"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 50 {
		t.Fatalf("only %d vectors in testdata/vectors.json", len(vs))
	}
	return vs
}

// TestVectors converts every real-tool hash, checks the result against
// Auth0's schema, and verifies the right password (and the wrong ones)
// against the converted form.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			t.Logf("made by: %s", v.Cmd)
			var passwordHash string
			custom := v.Custom
			switch {
			case v.Input != nil:
				r, err := Convert(Input{Hash: v.Input.Hash, Algorithm: v.Input.Algorithm, Salt: v.Input.Salt,
					SaltPosition: v.Input.SaltPosition, Encoding: v.Input.Encoding})
				if err != nil {
					t.Fatalf("Convert: %v", err)
				}
				if r.Family != v.Family || r.Importable != v.Importable {
					t.Fatalf("Convert = family %q importable %v, want %q %v", r.Family, r.Importable, v.Family, v.Importable)
				}
				if v.Format != "" && r.Format != v.Format {
					t.Errorf("Format = %q, want %q", r.Format, v.Format)
				}
				var codes []string
				for _, w := range r.Warnings {
					codes = append(codes, w.Code)
				}
				if !slices.Equal(codes, v.Warnings) {
					t.Errorf("warnings = %v, want %v", codes, v.Warnings)
				}
				if !r.Importable {
					if r.PasswordHash != "" || r.Custom != nil {
						t.Fatal("a result that is not importable carries a hash")
					}
					return
				}
				mustPassSchema(t, r)
				passwordHash, custom = r.PasswordHash, r.Custom
				if custom != nil {
					if err := CheckCustom(custom); err != nil {
						t.Fatalf("CheckCustom on Convert's own output: %v", err)
					}
				}
			case v.Custom != nil:
				if err := CheckCustom(v.Custom); err != nil {
					t.Fatalf("CheckCustom: %v", err)
				}
				mustPassSchema(t, Result{Importable: true, Custom: v.Custom})
			default:
				passwordHash = v.PasswordHash
			}
			for _, pw := range append([]string{v.Password}, v.AlsoMatches...) {
				ok, err := Verify(passwordHash, custom, pw)
				if err != nil || !ok {
					t.Errorf("Verify(%q) = %v, %v; want true", pw, ok, err)
				}
			}
			for _, pw := range v.Wrong {
				ok, err := Verify(passwordHash, custom, pw)
				if err != nil || ok {
					t.Errorf("Verify(wrong password %q) = %v, %v; want false", pw, ok, err)
				}
			}
		})
	}
}

func mustPassSchema(t testing.TB, r Result) {
	t.Helper()
	u := importuser.User{Email: "x@example.com", PasswordHash: r.PasswordHash, CustomPasswordHash: r.Custom}
	if err := importuser.ValidateUser(u); err != nil {
		b, _ := json.Marshal(u.Redacted())
		t.Fatalf("importable result fails Auth0's schema: %v\n%s", err, b)
	}
	if (r.PasswordHash == "") == (r.Custom == nil) {
		t.Fatal("an importable result must set exactly one of PasswordHash and Custom")
	}
}
