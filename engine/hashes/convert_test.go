package hashes

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Hashes reused across the tests, with what made them.
const (
	// Auth0's documentation: "hello".
	bcrypt2b10 = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"
	// htpasswd -nbB -C 5 u hunter2
	bcrypt2y05 = "$2y$05$wD/uVHcRTxqF6gRaR9GV8O1Pg8tZlUrkC/fyrrVsh4EV3XWqwZxlS"
	// Auth0's documentation: "shh".
	argon2Docs = "$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"
	pbkdf2Docs = "$pbkdf2-sha512$i=100000,l=64$KNyFsA2rWoE$I2CQGI9H0JxdDf3kERRI97kPCGxh0KWBIV3MxyaS191gDGfzVBGyS4BibhgqWQ0/ails8mHuU9ckASxHOOq58w"
	// python3: '{SSHA}' + b64(hashlib.sha1(b'correct horse battery staple' + b'\x01\x02salt').digest() + b'\x01\x02salt')
	sshaHorse = "{SSHA}hSkkF6WkpbQ5VuNqLdIp9bmtPlkBAnNhbHQ="
	// python3: hashlib.sha256(b'correct horse battery staple').hexdigest()
	sha256Hex = "c4bbcb1fbec99d65bf59d85c8cb62ee2db963f0fe106f483d9afa73bd4e39a8a"
	// python3: hashlib.md5(b'hunter2').hexdigest()
	md5Hunter2 = "2ab96390c7dbe3439de74d0c9b0b1767"
	// passlib's format from hashlib.scrypt; see testdata/vectors.json.
	passlibScrpt = "$scrypt$ln=10,r=8,p=1$jN6tLXNjcnlwdC1zYWx0$2REa2XR+5iwMYt0U7Q6vggLfld5Gyp2puyY5+fsHdBY"
)

func TestConvertOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		in         Input
		family     string
		importable bool
		plain      bool   // converted to password_hash rather than custom
		value      string // expected hash.value (or password_hash), if checked
	}{
		{"empty", Input{}, "none", false, false, ""},
		{"whitespace only", Input{Hash: "  \t"}, "none", false, false, ""},
		{"bcrypt 2b cost 10 is password_hash", Input{Hash: bcrypt2b10}, "bcrypt", true, true, bcrypt2b10},
		{"surrounding spaces trimmed", Input{Hash: " " + bcrypt2b10 + "\r\n"}, "bcrypt", true, true, bcrypt2b10},
		{"bcrypt 2a cost 10 is password_hash", Input{Hash: "$2a$" + bcrypt2b10[4:]}, "bcrypt", true, true, ""},
		{"bcrypt 2y is custom", Input{Hash: bcrypt2y05}, "bcrypt", true, false, bcrypt2y05},
		{"bcrypt cost 12 is custom", Input{Hash: "$2b$12$" + bcrypt2b10[7:]}, "bcrypt", true, false, ""},
		{"bcrypt with salt column is custom", Input{Hash: bcrypt2b10, Salt: "s"}, "bcrypt", true, false, bcrypt2b10},
		{"argon2 canonical passes through", Input{Hash: argon2Docs}, "argon2", true, false, argon2Docs},
		{"argon2 padded base64 is unpadded", Input{Hash: "$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg==$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos="},
			"argon2", true, false, argon2Docs},
		{"Django argon2", Input{Hash: "argon2" + argon2Docs}, "argon2", true, false, argon2Docs},
		{"argon2 without version is v16", Input{Hash: "$argon2i$m=4096,t=3,p=1$c2FsdHNhbHQ$DTZoVbWcky2xDMi28ixVYne1RQHy8r0hNy3jgjlCTP0"}, "argon2-v16", false, false, ""},
		{"pbkdf2 PHC passes through", Input{Hash: pbkdf2Docs}, "pbkdf2", true, false, pbkdf2Docs},
		{"pbkdf2 PHC alias rewritten", Input{Hash: strings.Replace(pbkdf2Docs, "sha512", "sha512WithRSAEncryption", 1)}, "pbkdf2", true, false, pbkdf2Docs},
		{"pbkdf2 PHC defaults written out", Input{Hash: strings.Replace(pbkdf2Docs, "i=100000,l=64$", "", 1)}, "pbkdf2", true, false, pbkdf2Docs},
		{"pbkdf2 PHC l before i", Input{Hash: strings.Replace(pbkdf2Docs, "i=100000,l=64", "l=64,i=100000", 1)}, "pbkdf2", true, false, pbkdf2Docs},
		{"pbkdf2 PHC unlisted digest", Input{Hash: strings.Replace(pbkdf2Docs, "sha512", "sha3-512", 1)}, "pbkdf2-unsupported-digest", false, false, ""},
		{"ldap lower-case scheme upper-cased", Input{Hash: "{ssha}" + sshaHorse[6:]}, "ldap", true, false, sshaHorse},
		{"ldap SHA1 spelled {SHA}", Input{Hash: "{SHA1}q/eq1kOINtvlJqojGr3i0O73TUI="}, "ldap", true, false, "{SHA}q/eq1kOINtvlJqojGr3i0O73TUI="},
		{"ldap with password_algorithm sha1", Input{Hash: sshaHorse, Algorithm: "sha1"}, "ldap", true, false, ""},
		{"ldap CRYPT", Input{Hash: "{CRYPT}$1$abc$def"}, "ldap-crypt", false, false, ""},
		{"algorithm alias argon2id", Input{Hash: argon2Docs, Algorithm: "Argon2id"}, "argon2", true, false, argon2Docs},
		{"algorithm alias pbkdf2_sha256", Input{Hash: pbkdf2Docs, Algorithm: "PBKDF2_SHA256"}, "pbkdf2", true, false, pbkdf2Docs},
		{"ldap other scheme", Input{Hash: "{CLEARTEXT}secret"}, "ldap-other", false, false, ""},
		{"raw sha256 hex", Input{Hash: sha256Hex}, "sha256", true, false, sha256Hex},
		{"raw sha256 with base64 column", Input{Hash: "xLvLH77JnWW/WdhcjLYu4tuWPw/hBvSD2a+nO9Tjmoo", Encoding: "base64"}, "sha256", true, false, "xLvLH77JnWW/WdhcjLYu4tuWPw/hBvSD2a+nO9Tjmoo="},
		{"64 characters declared base64 are a sha384 digest", Input{Hash: sha256Hex, Encoding: "BASE64"}, "ldap", true, false, ""},
		{"raw md5 declared md4", Input{Hash: md5Hunter2, Algorithm: "md4"}, "md4", true, false, md5Hunter2},
		{"raw digest of no known length", Input{Hash: "abcdef0123"}, "unknown", false, false, ""},
		{"raw sha224 length is unknown", Input{Hash: strings.Repeat("ab", 28)}, "unknown", false, false, ""},
		{"sha384 with prefix salt", Input{Hash: strings.Repeat("ab", 48), Salt: "s"}, "sha384-prefix-salt", false, false, ""},
		{"Django unsalted md5$$", Input{Hash: "md5$$" + md5Hunter2}, "md5", true, false, md5Hunter2},
		{"Werkzeug salted sha384 is hmac", Input{Hash: "sha384$s$" + strings.Repeat("ab", 48)}, "hmac", true, false, ""},
		{"salted sha384 declared sha384", Input{Hash: "sha384$s$" + strings.Repeat("ab", 48), Algorithm: "sha384"}, "sha384-salted", false, false, ""},
		{"unsalted sha224$$", Input{Hash: "sha224$$" + strings.Repeat("ab", 28)}, "sha224", false, false, ""},
		{"md5-crypt", Input{Hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDugX."}, "md5-crypt", false, false, ""},
		{"mysql native", Input{Hash: "*" + strings.Repeat("A1", 20)}, "mysql-native", false, false, ""},
		{"mysql native needs 40 hex", Input{Hash: "*" + strings.Repeat("A1", 19)}, "unknown", false, false, ""},
		{"passlib bcrypt-sha256", Input{Hash: "$bcrypt-sha256$v=2,t=2b,r=12$n79VH.0Q2TMWmt3Oqt9uku$Kq4Noyk3094Y2QlB8NdRT8SvGiI4ft2"}, "bcrypt-sha256", false, false, ""},
		{"Django bcrypt_sha256", Input{Hash: "bcrypt_sha256$" + bcrypt2b10}, "bcrypt-sha256", false, false, ""},
		{"drupal 7", Input{Hash: "$S$DQ6hZQgBrN5e3cmzxEBmB7nzU6B5T7ALK4OK2sFbrXhwGkTO9Ubz"}, "drupal7", false, false, ""},
		{"unknown dollar form", Input{Hash: "$foo$bar$baz"}, "unknown", false, false, ""},
		{"free text", Input{Hash: "hunter2"}, "unknown", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Convert(tt.in)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if r.Family != tt.family || r.Importable != tt.importable {
				t.Fatalf("Convert = %q importable=%v, want %q importable=%v", r.Family, r.Importable, tt.family, tt.importable)
			}
			if !r.Importable {
				if r.PasswordHash != "" || r.Custom != nil {
					t.Fatal("a result that is not importable must carry no hash")
				}
				return
			}
			mustPassSchema(t, r)
			if tt.plain != (r.PasswordHash != "") {
				t.Fatalf("PasswordHash = %q, Custom = %+v; want plain=%v", r.PasswordHash, r.Custom, tt.plain)
			}
			got := r.PasswordHash
			if r.Custom != nil {
				got = r.Custom.Hash.Value
				if err := CheckCustom(r.Custom); err != nil {
					t.Fatalf("CheckCustom rejects Convert's output: %v", err)
				}
			}
			if tt.value != "" && got != tt.value {
				t.Errorf("value = %q, want %q", got, tt.value)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		code string
	}{
		{"bcrypt 2x", Input{Hash: "$2x$" + bcrypt2b10[4:]}, CodeUnsupportedVariant},
		{"bcrypt 2", Input{Hash: "$2$" + bcrypt2b10[4:]}, CodeUnsupportedVariant},
		{"bcrypt truncated", Input{Hash: bcrypt2b10[:50]}, CodeMalformedHash},
		{"bcrypt cost 03", Input{Hash: "$2b$03$" + bcrypt2b10[7:]}, CodeMalformedHash},
		{"bcrypt bad character", Input{Hash: bcrypt2b10[:20] + "!" + bcrypt2b10[21:]}, CodeMalformedHash},
		{"bcrypt prefix salt fills the input", Input{Hash: bcrypt2b10, Salt: strings.Repeat("s", 72)}, CodeSaltTooLong},
		{"argon2 short salt", Input{Hash: "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}, CodeMalformedHash},
		{"argon2 params out of order", Input{Hash: strings.Replace(argon2Docs, "m=65536,t=2", "t=2,m=65536", 1)}, CodeMalformedHash},
		{"argon2 memory below 8 KiB per lane", Input{Hash: strings.Replace(argon2Docs, "m=65536,t=2,p=1", "m=8,t=2,p=2", 1)}, CodeMalformedHash},
		{"argon2 with an extra salt", Input{Hash: argon2Docs, Salt: "pepper"}, CodeSaltNotAllowed},
		{"pbkdf2 l disagrees with hash", Input{Hash: strings.Replace(pbkdf2Docs, "l=64", "l=32", 1)}, CodeMalformedHash},
		{"pbkdf2 unknown parameter", Input{Hash: strings.Replace(pbkdf2Docs, "l=64", "x=64", 1)}, CodeMalformedHash},
		{"pbkdf2 repeated parameter", Input{Hash: strings.Replace(pbkdf2Docs, "l=64", "i=64", 1)}, CodeMalformedHash},
		{"pbkdf2 zero iterations", Input{Hash: strings.Replace(pbkdf2Docs, "i=100000", "i=0", 1)}, CodeMalformedHash},
		{"passlib pbkdf2 short checksum", Input{Hash: "$pbkdf2-sha256$2900$c2FsdA$EzSItGqtc8Q"}, CodeMalformedHash},
		{"Django pbkdf2 short hash", Input{Hash: "pbkdf2_sha256$3600$salt$Cdfgqce2JndmkonbkOejJBzRf8q="}, CodeMalformedHash},
		{"Django pbkdf2 missing field", Input{Hash: "pbkdf2_sha256$3600$Cdfgqce2JndmkonbkOejJBzRf8qEubO3MADkBqN6poY="}, CodeMalformedHash},
		{"Werkzeug pbkdf2 without iterations", Input{Hash: "pbkdf2:sha256$salt$" + sha256Hex}, CodeMalformedHash},
		{"ldap SSHA without salt bytes", Input{Hash: "{SSHA}q/eq1kOINtvlJqojGr3i0O73TUI="}, CodeMalformedHash},
		{"ldap SHA not base64", Input{Hash: "{SHA}" + sha256Hex}, CodeMalformedHash},
		{"ldap with a salt column", Input{Hash: "{SHA}q/eq1kOINtvlJqojGr3i0O73TUI=", Salt: "x"}, CodeSaltNotAllowed},
		{"PKCS5S2 wrong length", Input{Hash: "{PKCS5S2}c2FsdA=="}, CodeMalformedHash},
		{"passlib scrypt ln too large", Input{Hash: strings.Replace(passlibScrpt, "ln=10", "ln=99", 1)}, CodeMalformedHash},
		{"passlib scrypt r zero", Input{Hash: strings.Replace(passlibScrpt, "r=8", "r=0", 1)}, CodeMalformedHash},
		{"Django scrypt N not a power of two", Input{Hash: "scrypt$1000$salt$8$1$" + "xLvLH77JnWW/WdhcjLYu4tuWPw/hBvSD2a+nO9Tjmoo="}, CodeMalformedHash},
		{"unknown algorithm column", Input{Hash: sha256Hex, Algorithm: "whirlpool"}, CodeUnknownAlgorithm},
		{"algorithm column contradicts bcrypt", Input{Hash: bcrypt2b10, Algorithm: "sha256"}, CodeAlgorithmMismatch},
		{"algorithm column contradicts Django md5", Input{Hash: "md5$s$" + md5Hunter2, Algorithm: "sha1"}, CodeAlgorithmMismatch},
		{"bcrypt column on a bare digest", Input{Hash: sha256Hex, Algorithm: "bcrypt"}, CodeMalformedHash},
		{"hmac column", Input{Hash: sha256Hex, Algorithm: "HMAC"}, CodeNeedsHMACKey},
		{"digest length wrong for sha1", Input{Hash: sha256Hex, Algorithm: "sha1"}, CodeDigestLength},
		{"hex declared but not hex", Input{Hash: "xLvLH77JnWW/WdhcjLYu4tuWPw/hBvSD2a+nO9TjmoorRQ==", Algorithm: "sha256", Encoding: "hex"}, CodeDigestLength},
		{"utf8 declared for a digest", Input{Hash: sha256Hex, Encoding: "utf8"}, CodeEncodingNotAllowed},
		{"unknown encoding", Input{Hash: sha256Hex, Encoding: "base32"}, CodeBadEncoding},
		{"bad salt position", Input{Hash: sha256Hex, Salt: "s", SaltPosition: "middle"}, CodeBadSaltPosition},
		{"Django md5 digest not hex", Input{Hash: "md5$salt$zzzz"}, CodeMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Convert(tt.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Convert = %+v, %v; want *Error %s", r, err, tt.code)
			}
			if e.Code != tt.code {
				t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, tt.code)
			}
			if e.Message == "" || e.Hint == "" {
				t.Errorf("error %s lacks a message or a hint: %+v", e.Code, e)
			}
			assertNoSecret(t, e, tt.in)
		})
	}
}

// assertNoSecret fails if an error repeats the hash, the salt, or any long
// piece of them.
func assertNoSecret(t *testing.T, e *Error, in Input) {
	t.Helper()
	text := e.Message + " " + e.Hint
	for _, secret := range []string{in.Hash, in.Salt} {
		secret = strings.TrimSpace(secret)
		for _, part := range strings.FieldsFunc(secret, func(r rune) bool { return strings.ContainsRune("${}*,=:", r) }) {
			if len(part) >= 8 && strings.Contains(text, part) {
				t.Errorf("error text contains part of a secret (%q): %s", part, text)
			}
		}
	}
}

func TestConvertWarnings(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		code string
	}{
		{"32 hex assumed md5", Input{Hash: md5Hunter2}, WarnAssumedAlgorithm},
		{"16-byte base64 assumed md5", Input{Hash: "KrljkMfb40Od500MmwsXZw=="}, WarnAssumedAlgorithm},
		{"Django-or-Werkzeug sha1$salt$", Input{Hash: "sha1$salt$" + strings.Repeat("ab", 20)}, WarnAssumedScheme},
		{"passlib scrypt above Node's memory limit", Input{Hash: strings.Replace(passlibScrpt, "ln=10", "ln=15", 1)}, WarnScryptMemory},
		{"Werkzeug's default scrypt already exceeds it", Input{Hash: "scrypt:32768:8:1$salt$" + strings.Repeat("ab", 64)}, WarnScryptMemory},
		{"algorithm column on an unimportable hash", Input{Hash: "$6$salt$hash", Algorithm: "sha512"}, WarnAlgorithmIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Convert(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Warnings) != 1 || r.Warnings[0].Code != tt.code {
				t.Fatalf("warnings = %+v, want one %s", r.Warnings, tt.code)
			}
			w := r.Warnings[0]
			if w.Message == "" || w.Hint == "" {
				t.Errorf("warning lacks a message or a hint: %+v", w)
			}
			assertNoSecret(t, &w, tt.in)
		})
	}
	// No warning where nothing was assumed.
	for _, in := range []Input{{Hash: md5Hunter2, Algorithm: "md5"}, {Hash: sha256Hex}, {Hash: passlibScrpt}, {Hash: "sha1$salt$" + strings.Repeat("ab", 20), Algorithm: "hmac"}} {
		if r, err := Convert(in); err != nil || len(r.Warnings) != 0 {
			t.Errorf("Convert(%.20q…) = %+v, %v; want no warning", in.Hash, r.Warnings, err)
		}
	}
}

// The sha256 example of Auth0's documentation, rebuilt from CSV columns,
// gives exactly the object the documentation shows.
func TestConvertMatchesAuth0Example(t *testing.T) {
	r, err := Convert(Input{Hash: "d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f", Algorithm: "sha256", Salt: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r.Custom)
	const want = `{"algorithm":"sha256","hash":{"value":"d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f","encoding":"hex"},"salt":{"value":"abc123","encoding":"utf8","position":"prefix"}}`
	if string(got) != want {
		t.Fatalf("custom_password_hash =\n%s\nwant\n%s", got, want)
	}
	if ok, err := Verify("", r.Custom, "shh"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}

func TestDescribeHidesLongValues(t *testing.T) {
	for v, want := range map[string]string{
		"sha256":       `"sha256"`,
		"SHA-512":      `"SHA-512"`,
		md5Hunter2:     "(a value of 32 characters)",
		"pass word":    "(a value of 9 characters)",
		"{SSHA}abc":    "(a value of 9 characters)",
		"tiny$secret!": "(a value of 12 characters)",
	} {
		if got := describe(v); got != want {
			t.Errorf("describe(%q) = %s, want %s", v, got, want)
		}
	}
}
