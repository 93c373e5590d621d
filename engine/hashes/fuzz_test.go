package hashes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"provision/engine/importuser"
)

// fuzzLimits keep each verification under a few milliseconds, so the fuzzer
// explores formats rather than waiting on key derivations.
var fuzzLimits = limits{
	bcryptCost:     4,
	pbkdf2Blocks:   2000,
	argon2MemoryKi: 64,
	argon2Passes:   256,
	scryptMemory:   128 * 8 * 64,
	scryptWork:     2048,
}

// packageSource is the text of the package's own code. A "secret" found in
// it (such as "$pbkdf2-", a prefix the messages describe) is the program's
// words, not data repeated back.
var packageSource = func() string {
	files, _ := filepath.Glob("*.go")
	var b strings.Builder
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			src, _ := os.ReadFile(f)
			b.Write(src)
		}
	}
	return b.String()
}()

func assertNoSecretIn(t *testing.T, e *Error, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if len(secret) >= 8 && strings.Contains(e.Message+e.Hint, secret) && !strings.Contains(packageSource, secret) {
			t.Fatalf("error repeats a secret: %s", e.Message)
		}
	}
}

// FuzzConvert: Convert never panics; an error is an *Error that does not
// repeat the hash or salt; an importable result passes Auth0's schema and
// CheckCustom and can be verified; an unimportable one carries no hash.
func FuzzConvert(f *testing.F) {
	for _, v := range loadVectors(f) {
		if in := v.Input; in != nil {
			f.Add(in.Hash, in.Algorithm, in.Salt, in.SaltPosition, in.Encoding)
		}
	}
	for _, h := range []string{"", "$", "{", "{}", "{SSHA}", "$2b$", "$argon2id$v=19$m=8,t=1,p=1$$", "$pbkdf2-sha1$i=1$$", "pbkdf2_sha1$1$$",
		"pbkdf2:sha1:1$$", "scrypt:2:1:1$$", "scrypt$2$$1$1$", "$scrypt$ln=1,r=1,p=1$$", "md5$$", "e1NTSEF9", "*", "_", "argon2$argon2i$"} {
		f.Add(h, "", "", "", "")
	}
	f.Fuzz(func(t *testing.T, hash, algorithm, salt, position, encoding string) {
		in := Input{Hash: hash, Algorithm: algorithm, Salt: salt, SaltPosition: position, Encoding: encoding}
		r, err := Convert(in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" {
				t.Fatalf("Convert error %v is not a complete *Error", err)
			}
			assertNoSecretIn(t, e, strings.TrimSpace(hash), salt)
			return
		}
		if r.Family == "" {
			t.Fatal("empty Family")
		}
		if !r.Importable {
			if r.PasswordHash != "" || r.Custom != nil {
				t.Fatal("a result that is not importable carries a hash")
			}
			return
		}
		mustPassSchema(t, r)
		if r.Custom != nil {
			if r.Custom.Algorithm != r.Family {
				t.Fatalf("Family %q but custom algorithm %q", r.Family, r.Custom.Algorithm)
			}
			if err := CheckCustom(r.Custom); err != nil {
				t.Fatalf("CheckCustom rejects Convert's output: %v", err)
			}
		}
		if _, err := verifyWithin(fuzzLimits, r.PasswordHash, r.Custom, "hunter2"); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeTooExpensive && e.Code != CodeUnverifiable {
				t.Fatalf("Convert's output cannot be verified: %v", err)
			}
		}
	})
}

// FuzzVerify: Verify never panics on any custom_password_hash, agrees with
// CheckCustom about which objects are usable, and returns only *Error.
func FuzzVerify(f *testing.F) {
	for _, v := range loadVectors(f) {
		if c := v.Custom; c != nil {
			var saltValue, saltEnc, saltPos, pwEnc, keyValue, keyEnc string
			if c.Salt != nil {
				saltValue, saltEnc, saltPos = c.Salt.Value, c.Salt.Encoding, c.Salt.Position
			}
			if c.Password != nil {
				pwEnc = c.Password.Encoding
			}
			if c.Hash.Key != nil {
				keyValue, keyEnc = c.Hash.Key.Value, c.Hash.Key.Encoding
			}
			f.Add(c.Algorithm, c.Hash.Value, c.Hash.Encoding, c.Hash.Digest, keyValue, keyEnc, saltValue, saltEnc, saltPos, pwEnc,
				c.KeyLen, c.Cost, c.BlockSize, c.Parallelization, v.Password)
		}
	}
	f.Fuzz(func(t *testing.T, algorithm, value, encoding, digest, keyValue, keyEnc, saltValue, saltEnc, saltPos, pwEnc string,
		keyLen, cost, blockSize, parallelization int, password string) {
		c := &importuser.CustomPasswordHash{Algorithm: algorithm, Hash: importuser.HashValue{Value: value, Encoding: encoding, Digest: digest},
			KeyLen: keyLen, Cost: cost, BlockSize: blockSize, Parallelization: parallelization}
		if keyValue != "" || keyEnc != "" {
			c.Hash.Key = &importuser.HMACKey{Value: keyValue, Encoding: keyEnc}
		}
		if saltValue != "" || saltEnc != "" || saltPos != "" {
			c.Salt = &importuser.Salt{Value: saltValue, Encoding: saltEnc, Position: saltPos}
		}
		if pwEnc != "" {
			c.Password = &importuser.PasswordSpec{Encoding: pwEnc}
		}
		checkErr := CheckCustom(c)
		_, err := verifyWithin(fuzzLimits, "", c, password)
		var e *Error
		if errors.As(checkErr, &e) {
			assertNoSecretIn(t, e, value, saltValue, keyValue)
		}
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Verify error %v is not an *Error", err)
		}
		if checkErr != nil && err == nil {
			t.Fatalf("CheckCustom rejects the object (%v) but Verify used it", checkErr)
		}
		if checkErr == nil && err != nil && e.Code != CodeTooExpensive && e.Code != CodeUnverifiable && e.Code != CodeBadParameter {
			t.Fatalf("CheckCustom accepts the object but Verify fails: %v", err)
		}
		if checkErr == nil {
			mustPassSchema(t, Result{Importable: true, Custom: c})
		}
		// password_hash takes the same path for any string.
		if _, err := verifyWithin(fuzzLimits, value, nil, password); err != nil && !errors.As(err, &e) {
			t.Fatalf("Verify(password_hash) error %v is not an *Error", err)
		}
	})
}
