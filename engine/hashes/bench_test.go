package hashes

import (
	"strings"
	"testing"
)

// BenchmarkConvert measures Convert on one row of each family. Convert runs
// on every row of million-row exports, so each should stay around a
// microsecond: detection and re-encoding only, never a key derivation.
func BenchmarkConvert(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   Input
	}{
		{"none", Input{}},
		{"bcrypt-password_hash", Input{Hash: "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}},
		{"bcrypt-custom-salt", Input{Hash: "$2y$04$KmEnqLVtnke3MUo6h9x2nu886ZMT1EeaNO0m6TSVEJCBSGjMlJs3S", Salt: "NaCl-1234"}},
		{"argon2", Input{Hash: "$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}},
		{"pbkdf2-phc", Input{Hash: "$pbkdf2-sha512$i=100000,l=64$KNyFsA2rWoE$I2CQGI9H0JxdDf3kERRI97kPCGxh0KWBIV3MxyaS191gDGfzVBGyS4BibhgqWQ0/ails8mHuU9ckASxHOOq58w"}},
		{"pbkdf2-passlib", Input{Hash: "$pbkdf2-sha256$2900$./9wYXNzbGliLXNhbHQ$EzSItGqtc8Q.pqiSpDWd/oXySGBRR8K1hTNBMzbwQA8"}},
		{"pbkdf2-django", Input{Hash: "pbkdf2_sha256$3600$djangoSaltText22chars$Cdfgqce2JndmkonbkOejJBzRf8qEubO3MADkBqN6poY="}},
		{"ldap-ssha", Input{Hash: "{SSHA}hSkkF6WkpbQ5VuNqLdIp9bmtPlkBAnNhbHQ="}},
		{"scrypt-passlib", Input{Hash: "$scrypt$ln=10,r=8,p=1$jN6tLXNjcnlwdC1zYWx0$2REa2XR+5iwMYt0U7Q6vggLfld5Gyp2puyY5+fsHdBY"}},
		{"sha256-hex-salted", Input{Hash: "d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f", Algorithm: "sha256", Salt: "abc123"}},
		{"sha512-base64-detected", Input{Hash: "tqa4cwsyEB9dUXJuCO8qRpJ6SAVxMizopFKsEdbW01Op8vEIFwqmHgZ8RoNCA7lrJZbanbqlnc4yW9S34D/TvA=="}},
		{"md5-assumed", Input{Hash: "2ab96390c7dbe3439de74d0c9b0b1767"}},
		{"sha512-crypt", Input{Hash: "$6$saltsalt$8iYtNHxjWRl.NF6oNZ5tF.iKFlQREaXBLlSmZKP6dy9l5z3vsooWNW0/GZ6Nej73/TFug6pXbMiAY9cCV19M0"}},
		{"unknown", Input{Hash: "not a hash at all"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Convert(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckCustom measures the per-row check of a ready-made
// custom_password_hash from a JSON source.
func BenchmarkCheckCustom(b *testing.B) {
	for _, v := range loadVectors(b) {
		if v.Custom == nil || !strings.HasPrefix(v.Name, "Auth0 docs") {
			continue
		}
		b.Run(strings.TrimPrefix(v.Name, "Auth0 docs: "), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckCustom(v.Custom); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
