package hashes

import (
	"errors"
	"testing"

	"provision/engine/importuser"
)

func hv(value, encoding string) importuser.HashValue {
	return importuser.HashValue{Value: value, Encoding: encoding}
}

func TestCheckCustomRules(t *testing.T) {
	sha1Docs := "cg7f42jH39/2EaAU4wNd4s2lKIk="
	tests := []struct {
		name string
		c    *importuser.CustomPasswordHash
		code string // "" means valid
	}{
		{"nil", nil, CodeNoHash},
		{"unknown algorithm", &importuser.CustomPasswordHash{Algorithm: "crypt", Hash: hv("x", "")}, CodeUnknownAlgorithm},
		{"algorithm is case-sensitive", &importuser.CustomPasswordHash{Algorithm: "SHA1", Hash: hv(sha1Docs, "base64")}, CodeUnknownAlgorithm},
		{"empty value", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv("", "hex")}, CodeMissingParameter},
		{"unknown hash encoding", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "base32")}, CodeBadEncoding},

		{"bcrypt without encoding", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv(bcrypt2y05, "")}, ""},
		{"bcrypt with utf8", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv(bcrypt2y05, "utf8")}, ""},
		{"bcrypt with hex", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv(bcrypt2y05, "hex")}, CodeEncodingNotAllowed},
		{"bcrypt 2x", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv("$2x$"+bcrypt2y05[4:], "")}, CodeUnsupportedVariant},
		{"bcrypt sha1 prefix", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv("$sha1$1000$abcdefgh$G1P7Qf4i0tMlivS.nyYq6gUgZ.ZF", "")}, CodeMalformedHash},
		{"bcrypt with salt", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv(bcrypt2y05, ""), Salt: &importuser.Salt{Value: "s"}}, ""},
		{"bcrypt with 72-byte prefix salt", &importuser.CustomPasswordHash{Algorithm: "bcrypt", Hash: hv(bcrypt2y05, ""),
			Salt: &importuser.Salt{Value: string(make([]byte, 72))}}, CodeSaltTooLong},

		{"argon2", &importuser.CustomPasswordHash{Algorithm: "argon2", Hash: hv(argon2Docs, "")}, ""},
		{"argon2 with salt", &importuser.CustomPasswordHash{Algorithm: "argon2", Hash: hv(argon2Docs, ""), Salt: &importuser.Salt{Value: "s"}}, CodeSaltNotAllowed},
		{"argon2 base64 encoding", &importuser.CustomPasswordHash{Algorithm: "argon2", Hash: hv(argon2Docs, "base64")}, CodeEncodingNotAllowed},
		{"argon2d", &importuser.CustomPasswordHash{Algorithm: "argon2", Hash: hv("$argon2d"+argon2Docs[9:], "")}, CodeUnsupportedVariant},
		{"argon2 garbage", &importuser.CustomPasswordHash{Algorithm: "argon2", Hash: hv("$argon2id$nope", "")}, CodeMalformedHash},

		{"ldap", &importuser.CustomPasswordHash{Algorithm: "ldap", Hash: hv(sshaHorse, "utf8")}, ""},
		{"ldap crypt", &importuser.CustomPasswordHash{Algorithm: "ldap", Hash: hv("{CRYPT}$1$abc$def", "")}, CodeUnsupportedVariant},
		{"ldap unknown scheme", &importuser.CustomPasswordHash{Algorithm: "ldap", Hash: hv("{SHA224}abc", "")}, CodeMalformedHash},
		{"ldap with salt object", &importuser.CustomPasswordHash{Algorithm: "ldap", Hash: hv(sshaHorse, ""), Salt: &importuser.Salt{Value: "s"}}, CodeSaltNotAllowed},

		{"pbkdf2", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv(pbkdf2Docs, "utf8")}, ""},
		{"pbkdf2 mdc2 is accepted", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv("$pbkdf2-mdc2$i=1000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "")}, ""},
		{"pbkdf2 unknown digest", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv("$pbkdf2-blake2b$i=1000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "")}, CodeUnsupportedDigest},
		{"pbkdf2 passlib form", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv("$pbkdf2-sha256$2900$./9wYXNzbGliLXNhbHQ$EzSItGqtc8Q.pqiSpDWd/oXySGBRR8K1hTNBMzbwQA8", "")}, CodeMalformedHash},
		{"pbkdf2 default l=64 with 32-byte hash", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv("$pbkdf2-sha256$c2FsdA$"+"xLvLH77JnWW/WdhcjLYu4tuWPw/hBvSD2a+nO9Tjmoo", "")}, CodeMalformedHash},
		{"pbkdf2 with salt object", &importuser.CustomPasswordHash{Algorithm: "pbkdf2", Hash: hv(pbkdf2Docs, ""), Salt: &importuser.Salt{Value: "s"}}, CodeSaltNotAllowed},

		{"md5 hex", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "hex")}, ""},
		{"md5 upper-case hex", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv("2AB96390C7DBE3439DE74D0C9B0B1767", "hex")}, ""},
		{"md5 needs an encoding", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "")}, CodeEncodingNotAllowed},
		{"md5 utf8", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "utf8")}, CodeEncodingNotAllowed},
		{"md5 wrong length", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(sha256Hex, "hex")}, CodeDigestLength},
		{"sha1 not hex", &importuser.CustomPasswordHash{Algorithm: "sha1", Hash: hv(sha1Docs, "hex")}, CodeBadEncoding},
		{"sha1 url-safe base64", &importuser.CustomPasswordHash{Algorithm: "sha1", Hash: hv("cg7f42jH39_2EaAU4wNd4s2lKIk", "base64")}, ""},
		{"salt not in its encoding", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "hex"), Salt: &importuser.Salt{Value: "xyz", Encoding: "hex"}}, CodeBadEncoding},
		{"salt bad position", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "hex"), Salt: &importuser.Salt{Value: "x", Position: "both"}}, CodeBadSaltPosition},
		{"bad password encoding", &importuser.CustomPasswordHash{Algorithm: "md5", Hash: hv(md5Hunter2, "hex"), Password: &importuser.PasswordSpec{Encoding: "utf16"}}, CodeBadEncoding},

		{"hmac", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64", Digest: "sha1",
			Key: &importuser.HMACKey{Value: "736868", Encoding: "hex"}}}, ""},
		{"hmac without digest", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64",
			Key: &importuser.HMACKey{Value: "k"}}}, CodeMissingParameter},
		{"hmac unknown digest", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64", Digest: "sha3-256",
			Key: &importuser.HMACKey{Value: "k"}}}, CodeUnsupportedDigest},
		{"hmac without key", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64", Digest: "sha1"}}, CodeMissingParameter},
		{"hmac key not hex", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64", Digest: "sha1",
			Key: &importuser.HMACKey{Value: "zz", Encoding: "hex"}}}, CodeBadEncoding},
		{"hmac utf8 hash", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "utf8", Digest: "sha1",
			Key: &importuser.HMACKey{Value: "k"}}}, CodeEncodingNotAllowed},
		{"hmac digest length", &importuser.CustomPasswordHash{Algorithm: "hmac", Hash: importuser.HashValue{Value: sha1Docs, Encoding: "base64", Digest: "sha256",
			Key: &importuser.HMACKey{Value: "k"}}}, CodeDigestLength},

		{"scrypt", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 32}, ""},
		{"scrypt without keylen", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "hex")}, CodeMissingParameter},
		{"scrypt keylen disagrees", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 64}, CodeDigestLength},
		{"scrypt cost not a power of two", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 32, Cost: 1000}, CodeBadParameter},
		{"scrypt negative block size", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "hex"), KeyLen: 32, BlockSize: -8}, CodeBadParameter},
		{"scrypt utf8", &importuser.CustomPasswordHash{Algorithm: "scrypt", Hash: hv(sha256Hex, "utf8"), KeyLen: 32}, CodeEncodingNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCustom(tt.c)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CheckCustom = %v, want nil", err)
				}
				mustPassSchema(t, Result{Importable: true, Custom: tt.c})
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("CheckCustom = %v, want code %s", err, tt.code)
			}
			if tt.c != nil {
				in := Input{Hash: tt.c.Hash.Value}
				if tt.c.Salt != nil {
					in.Salt = tt.c.Salt.Value
				}
				assertNoSecret(t, e, in)
			}
		})
	}
}
