package hashes

import (
	"fmt"
	"strings"

	"provision/engine/importuser"
)

// digestByLength infers the algorithm of an unlabelled digest from its size.
// 16 bytes is md4 or md5; md5 is far more common, so it is assumed with a
// warning.
var digestByLength = map[int]string{16: "md5", 20: "sha1", 32: "sha256", 48: "sha384", 64: "sha512"}

// convertBare handles a hash that does not name its algorithm: a hex or
// base64 digest described by the password_algorithm, password_encoding,
// password_salt and salt_position columns.
func convertBare(h string, c columns) (Result, error) {
	switch c.algorithm {
	case "bcrypt", "argon2", "pbkdf2", "ldap":
		return Result{}, &Error{
			Code:    CodeMalformedHash,
			Message: fmt.Sprintf("password_algorithm is %s, but the hash is not in %s's self-describing form", c.algorithm, c.algorithm),
			Hint:    formHint[c.algorithm],
		}
	case "hmac":
		return Result{}, &Error{
			Code:    CodeNeedsHMACKey,
			Message: "password_algorithm is hmac, but an hmac hash needs its key and digest, which the CSV columns cannot carry",
			Hint:    "supply these users in a JSON source with a ready-made custom_password_hash object (algorithm hmac, hash.digest and hash.key)",
		}
	case "":
		if r, ok, err := convertLDIFValue(h, c); ok {
			return r, err
		}
		if isCryptChars(h) && (len(h) == 13 || len(h) == 20 && h[0] == '_') {
			return notImportable("des-crypt", "des-crypt"), nil
		}
	}
	if c.encoding == encUTF8 {
		return Result{}, &Error{
			Code:    CodeEncodingNotAllowed,
			Message: "password_encoding is utf8, but a bare digest must be hex or base64",
			Hint:    "set password_encoding to hex or base64, or leave it empty to detect it",
		}
	}
	raw, encoding, ok := decodeDigest(h, c)
	if !ok {
		if c.algorithm == "" {
			return notImportable(FamilyUnknown, "unknown"), nil
		}
		return Result{}, digestLengthError(c)
	}
	format := encoding + "-digest"
	alg := c.algorithm
	var warnings []Error
	if alg == "" {
		alg = digestByLength[len(raw)]
		if len(raw) == 16 {
			warnings = append(warnings, Error{
				Code:    WarnAssumedAlgorithm,
				Message: "a 16-byte digest with no password_algorithm: assumed md5, though md4 makes digests of the same length",
				Hint:    "set password_algorithm to md5 or md4 and prove it with a canary login before importing",
			})
		}
	}
	if alg == "scrypt" {
		return convertBareScrypt(h, raw, encoding, c)
	}
	if alg == "sha384" {
		return convertSHA384(raw, format, c)
	}
	value := h
	if encoding == encBase64 {
		value = canonicalBase64(h, raw)
	}
	custom := newCustom(alg, value, encoding)
	custom.Salt = c.columnSalt()
	return Result{Family: alg, Format: format, Importable: true, Custom: custom, Warnings: warnings}, nil
}

var formHint = map[string]string{
	"bcrypt": "a bcrypt hash starts with $2a$, $2b$ or $2y$",
	"argon2": "an argon2 hash is a PHC string such as $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>",
	"pbkdf2": "a pbkdf2 hash is a PHC string such as $pbkdf2-sha256$i=100000,l=32$<salt>$<hash>, or a passlib, Django or Werkzeug pbkdf2 string",
	"ldap":   "an ldap hash is an RFC 2307 value such as {SSHA}<base64>",
}

// decodeDigest decodes h as the digest the columns describe. With no
// password_encoding, hex of the right length wins, then base64 (standard or
// url-safe, padded or not) of the right length.
func decodeDigest(h string, c columns) (raw []byte, encoding string, ok bool) {
	want := 0
	switch c.algorithm {
	case "":
	case "scrypt":
		want = -1 // any length: it is the keylen
	default:
		want = digestSize(c.algorithm)
	}
	fits := func(n int) bool {
		if want == 0 {
			_, known := digestByLength[n]
			return known
		}
		return want < 0 || n == want
	}
	if c.encoding != encBase64 && isHex(h) && fits(len(h)/2) {
		raw, _ = decodeHex(h)
		return raw, encHex, true
	}
	if c.encoding != encHex && fits(decodedBase64Len(h)) {
		if raw, ok = decodeBase64(h); ok && fits(len(raw)) {
			return raw, encBase64, true
		}
	}
	return nil, "", false
}

func digestSize(alg string) int {
	if alg == "sha384" {
		return hSHA384.size
	}
	return plainDigests[alg].size
}

func digestLengthError(c columns) error {
	n := digestSize(c.algorithm)
	var forms string
	switch c.encoding {
	case encHex:
		forms = fmt.Sprintf("%d hex characters", 2*n)
	case encBase64:
		forms = fmt.Sprintf("%d base64 characters", b64.EncodedLen(n))
	default:
		forms = fmt.Sprintf("%d hex or %d base64 characters", 2*n, b64.EncodedLen(n))
	}
	if c.algorithm == "scrypt" {
		forms = "hex or base64"
	}
	return &Error{
		Code:    CodeDigestLength,
		Message: fmt.Sprintf("password_algorithm is %s, so the hash should be %s, and it is not", c.algorithm, forms),
		Hint:    "check password_algorithm and password_encoding for this row, and that the hash was exported unchanged",
	}
}

// convertSHA384 expresses a sha384 digest through Auth0's ldap algorithm:
// {SHA384} when unsalted, {SSHA384} when the salt followed the password.
func convertSHA384(raw []byte, format string, c columns) (Result, error) {
	l := ldapHash{scheme: ldapSchemes["SHA384"], digest: raw}
	if c.salt != "" {
		if c.position != "suffix" {
			// SSHA appends the salt; Auth0 has no way to put it first.
			return notImportable("sha384-prefix-salt", format), nil
		}
		l.scheme, l.salt = ldapSchemes["SSHA384"], []byte(c.salt)
	}
	return Result{Family: "ldap", Format: format, Importable: true, Custom: newCustom("ldap", l.String(), encUTF8)}, nil
}

// convertBareScrypt takes a bare scrypt key with its salt column, using
// Auth0's default parameters, which are also Node.js's.
func convertBareScrypt(h string, raw []byte, encoding string, c columns) (Result, error) {
	value := h
	if encoding == encBase64 {
		value = canonicalBase64(h, raw)
	}
	var salt *importuser.Salt
	if c.salt != "" {
		salt = &importuser.Salt{Value: c.salt, Encoding: encUTF8}
	}
	r, err := scryptResult(encoding+"-digest", scryptParams{scryptDefaultCost, scryptDefaultBlockSize, scryptDefaultParallelization},
		raw, value, encoding, salt, c)
	if err == nil {
		r.Warnings = append(r.Warnings, Error{
			Code:    WarnAssumedAlgorithm,
			Message: "a bare scrypt key: assumed Auth0's default parameters N=16384, r=8, p=1 and a key length of the hash's size",
			Hint:    "prove it with a canary login; if the legacy system used other parameters, supply a ready-made custom_password_hash in a JSON source",
		})
	}
	return r, err
}

// convertFrameworkDigest handles <algorithm>$<salt>$<hex digest>. Django
// writes md5$ and sha1$ as digest(salt+password) and md5$$/sha1$$ unsalted;
// Werkzeug before 2.3 wrote <algorithm>$<salt>$ as HMAC keyed with the salt,
// and unsalted with an empty salt. password_algorithm (md5, sha1, ... or
// hmac) settles which one a salted md5$ or sha1$ is.
func convertFrameworkDigest(h string, c columns) (Result, bool, error) {
	name, rest, _ := strings.Cut(h, "$")
	salt, hexDigest, found := strings.Cut(rest, "$")
	var hf hashFunc
	switch name {
	case "md5", "sha1":
		hf = plainDigests[name]
	case "sha224", "sha256", "sha384", "sha512":
		hf = hmacDigests[name]
	default:
		return Result{}, false, nil
	}
	const form = "framework-digest"
	if !found || strings.Contains(hexDigest, "$") || !isHex(hexDigest) || len(hexDigest) != 2*hf.size {
		return Result{}, true, malformed("a Django or Werkzeug "+name+"$<salt>$<hex> hash", "its digest is not hex of the right length")
	}
	if err := c.noExtraSalt(form, salt); err != nil {
		return Result{}, true, err
	}
	asHMAC := c.algorithm == "hmac"
	if c.algorithm != "" && !asHMAC && c.algorithm != name {
		return Result{}, true, c.expect(name, form)
	}
	var warnings []Error
	if salt != "" && c.algorithm == "" {
		plain := name == "md5" || name == "sha1" // the forms Django wrote
		asHMAC = !plain
		if plain {
			warnings = append(warnings, Error{
				Code:    WarnAssumedScheme,
				Message: fmt.Sprintf("%s$<salt>$<hash>: read as Django's %s(salt+password); Werkzeug used the same form for HMAC-%s keyed with the salt", name, name, strings.ToUpper(name)),
				Hint:    "prove it with a canary login; if it fails and the data came from a Flask/Werkzeug application, set password_algorithm to hmac",
			})
		} else {
			warnings = append(warnings, Error{
				Code:    WarnAssumedScheme,
				Message: fmt.Sprintf("%s$<salt>$<hash>: read as Werkzeug's HMAC-%s keyed with the salt", name, strings.ToUpper(name)),
				Hint:    fmt.Sprintf("prove it with a canary login; if the application computed %s(salt+password) instead, set password_algorithm to %s", name, name),
			})
		}
	}
	switch {
	case salt == "" && (name == "sha224" || name == "sha384"):
		// Unsalted digests Auth0 has no plain algorithm for.
		if name == "sha384" {
			raw, _ := decodeHex(hexDigest)
			r, err := convertSHA384(raw, form, columns{})
			return r, true, err
		}
		return notImportable("sha224", form), true, nil
	case salt == "":
		return Result{Family: name, Format: form, Importable: true, Custom: newCustom(name, hexDigest, encHex)}, true, nil
	case asHMAC:
		custom := newCustom("hmac", hexDigest, encHex)
		custom.Hash.Digest = hf.name
		custom.Hash.Key = &importuser.HMACKey{Value: salt, Encoding: encUTF8}
		return Result{Family: "hmac", Format: "werkzeug-hmac", Importable: true, Custom: custom, Warnings: warnings}, true, nil
	case name == "md5" || name == "sha1" || name == "sha256" || name == "sha512":
		custom := newCustom(name, hexDigest, encHex)
		custom.Salt = &importuser.Salt{Value: salt, Encoding: encUTF8, Position: "prefix"}
		format := "django-digest"
		return Result{Family: name, Format: format, Importable: true, Custom: custom, Warnings: warnings}, true, nil
	}
	// sha224 or sha384 of salt+password: no Auth0 algorithm fits.
	return notImportable(name+"-salted", form), true, nil
}

// convertLDIFValue recognises an RFC 2307 value that is itself base64
// encoded, as LDIF writes userPassword ("userPassword:: e1NTSEF9…"), and
// converts the decoded value.
func convertLDIFValue(h string, c columns) (Result, bool, error) {
	if !strings.HasPrefix(h, "e1") { // base64 of "{" followed by an upper-case letter
		return Result{}, false, nil
	}
	raw, ok := decodeBase64(h)
	if !ok {
		return Result{}, false, nil
	}
	name, _, ok := splitRFC2307(string(raw))
	if !ok || (ldapSchemes[name].name == "" && name != "PKCS5S2" && name != "CRYPT") {
		return Result{}, false, nil
	}
	r, err := convertRFC2307(string(raw), c)
	if err == nil {
		r.Format = "ldif-" + r.Format
	}
	return r, true, err
}

func isCryptChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBcryptChar[s[i]] && !(s[i] == '_' && i == 0) {
			return false
		}
	}
	return true
}
