package hashes

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"provision/engine/importuser"
)

func TestVerifyNeedsExactlyOneHash(t *testing.T) {
	c := &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "hex")}
	for name, call := range map[string]func() (bool, error){
		"neither": func() (bool, error) { return Verify("", nil, "hunter2") },
		"both":    func() (bool, error) { return Verify(bcrypt2b10, c, "hunter2") },
	} {
		ok, err := call()
		var e *Error
		if ok || !errors.As(err, &e) || e.Code != CodeNoHash {
			t.Errorf("%s: Verify = %v, %v; want false and %s", name, ok, err, CodeNoHash)
		}
	}
}

func TestVerifyPasswordHash(t *testing.T) {
	tests := []struct {
		name, hash, password string
		want                 bool
		code                 string
	}{
		{"right password", bcrypt2b10, "hello", true, ""},
		{"wrong password", bcrypt2b10, "hellO", false, ""},
		{"empty password", bcrypt2b10, "", false, ""},
		{"2y accepted", bcrypt2y05, "hunter2", true, ""},
		{"2x rejected", "$2x$" + bcrypt2b10[4:], "hello", false, CodeMalformedHash},
		{"not bcrypt", sha256Hex, "hello", false, CodeMalformedHash},
		{"cost beyond the local limit", "$2b$31$" + bcrypt2b10[7:], "hello", false, CodeTooExpensive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.hash, nil, tt.password)
			if ok != tt.want {
				t.Errorf("Verify = %v, want %v", ok, tt.want)
			}
			var e *Error
			if tt.code == "" && err != nil || tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code) {
				t.Errorf("error = %v, want code %q", err, tt.code)
			}
		})
	}
}

// encodePassword follows Node.js Buffer.from(string, encoding), which is how
// Auth0 transcodes the typed password.
func TestEncodePasswordLikeNode(t *testing.T) {
	tests := []struct {
		password, encoding, wantHex string
	}{
		{"abc", "utf8", "616263"},
		{"abc", "", "616263"},
		{"é€", "utf8", "c3a9e282ac"},
		{"é€", "latin1", "e9ac"},      // Buffer.from('é€', 'latin1'): low byte of each UTF-16 unit
		{"é€", "binary", "e9ac"},      // an alias of latin1
		{"é€", "ascii", "e9ac"},       // Node encodes 'ascii' exactly like latin1
		{"é€", "utf16le", "e900ac20"}, //
		{"é€", "ucs2", "e900ac20"},    // an alias of utf16le
		{"𝄞", "utf16le", "34d81edd"},  // a surrogate pair
		{"𝄞", "latin1", "341e"},       // low bytes of both surrogates
		{"a\xffb", "utf8", "61efbfbd62"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(encodePassword(tt.password, tt.encoding)); got != tt.wantHex {
			t.Errorf("encodePassword(%q, %q) = %s, want %s", tt.password, tt.encoding, got, tt.wantHex)
		}
	}
}

func TestVerifyRefusesExpensiveParameters(t *testing.T) {
	key := strings.Repeat("A", 43)
	tests := map[string]*importuser.CustomPasswordHash{
		"bcrypt cost 31":     {Algorithm: "bcrypt", Hash: hv("$2b$31$"+bcrypt2b10[7:], "")},
		"argon2 4 GiB":       {Algorithm: "argon2", Hash: hv("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$"+key, "")},
		"argon2 many passes": {Algorithm: "argon2", Hash: hv("$argon2id$v=19$m=65536,t=100000,p=1$c2FsdHNhbHQ$"+key, "")},
		"pbkdf2 2^31 rounds": {Algorithm: "pbkdf2", Hash: hv("$pbkdf2-sha256$i=2147483647,l=32$c2FsdA$"+key, "")},
		"scrypt N=2^30":      {Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 32, Cost: 1 << 30},
		"scrypt huge p":      {Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 32, Cost: 1 << 14, Parallelization: 1 << 20},
	}
	for name, c := range tests {
		ok, err := Verify("", c, "hunter2")
		var e *Error
		if ok || !errors.As(err, &e) || e.Code != CodeTooExpensive {
			t.Errorf("%s: Verify = %v, %v; want %s", name, ok, err, CodeTooExpensive)
		}
	}
}

func TestVerifyMDC2IsUnverifiable(t *testing.T) {
	c := &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv("$pbkdf2-RSA-MDC2$i=1000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "")}
	if err := CheckCustom(c); err != nil {
		t.Fatalf("Auth0 lists mdc2, so CheckCustom must accept it: %v", err)
	}
	ok, err := Verify("", c, "hunter2")
	var e *Error
	if ok || !errors.As(err, &e) || e.Code != CodeUnverifiable {
		t.Fatalf("Verify = %v, %v; want %s", ok, err, CodeUnverifiable)
	}
}

// A salt object is joined to the transcoded password, on the side it names,
// before a plain digest is taken.
func TestVerifySaltAndPasswordEncodingCombine(t *testing.T) {
	// python3: hashlib.sha1(b'\x00\xff' + 'é'.encode('utf-16-le')).hexdigest()
	c := &importuser.CustomPasswordHash{Algorithm: "sha1", Hash: hv("f26b186e6bd68e0fddd2e7fbd9bcaa8e886feb99", "hex"),
		Salt: &importuser.Salt{Value: "AP8=", Encoding: "base64"}, Password: &importuser.PasswordSpec{Encoding: "utf16le"}}
	if ok, err := Verify("", c, "é"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v; want true", ok, err)
	}
	c.Salt.Position = "suffix"
	if ok, _ := Verify("", c, "é"); ok {
		t.Fatal("the same salt as a suffix must not match")
	}
}

// Auth0 never lets an empty password log in, even against a hash of the
// empty string.
func TestVerifyEmptyPasswordNeverMatches(t *testing.T) {
	// python3: hashlib.md5(b'').hexdigest()
	c := &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv("d41d8cd98f00b204e9800998ecf8427e", "hex")}
	if ok, err := Verify("", c, ""); ok || err != nil {
		t.Fatalf("Verify(md5(\"\"), \"\") = %v, %v; want false, nil", ok, err)
	}
	c.Hash.Value = "d41d8cd98f00b204e9800998ecf8427" // malformed: still reported
	if _, err := Verify("", c, ""); err == nil {
		t.Fatal("a malformed hash must be reported even for an empty password")
	}
}
