package hashes

import (
	"fmt"
	"strings"

	"provision/engine/importuser"
)

// Convert recognises in.Hash, helped by the other columns, and converts it to
// what Auth0's bulk import accepts. It only inspects and re-encodes: it never
// runs a hash function, so it is cheap enough for every row of a large file.
//
// A hash Auth0 cannot import at all (md5-crypt, phpass, ...) is not an error:
// the Result says Importable false and names the Family, and the user must
// reset the password or be migrated lazily. The error, always an *Error, is
// for a hash or column the operator must fix.
func Convert(in Input) (Result, error) {
	h := strings.TrimSpace(in.Hash)
	if h == "" {
		return Result{Family: FamilyNone}, nil
	}
	c, err := readColumns(in)
	if err != nil {
		return Result{}, err
	}
	var r Result
	if selfDescribing(h) {
		r, err = convertSelfDescribing(h, c)
	} else {
		r, err = convertBare(h, c)
	}
	if err != nil {
		return Result{}, err
	}
	if !r.Importable && c.algorithm != "" {
		r.Warnings = append(r.Warnings, Error{
			Code:    WarnAlgorithmIgnored,
			Message: fmt.Sprintf("password_algorithm is %s, but the hash is %s, which Auth0 cannot import", c.algorithm, r.Family),
			Hint:    "check that the password_algorithm column is mapped to the right field",
		})
	}
	return r, nil
}

// Family names of hashes that are not importable, besides the Auth0
// algorithm names of those that are.
const (
	FamilyNone    = "none"
	FamilyUnknown = "unknown"
)

// columns are the optional CSV columns that describe a bare hash, normalised.
type columns struct {
	algorithm string // an Auth0 algorithm name, "sha384", or ""
	encoding  string // hex | base64 | utf8 | ""
	salt      string
	position  string // prefix | suffix | ""
}

// columnAlgorithms are the password_algorithm values understood: Auth0's
// names plus sha384, which Auth0 takes through its ldap algorithm.
var columnAlgorithms = map[string]bool{
	"argon2": true, "bcrypt": true, "hmac": true, "ldap": true, "md4": true, "md5": true,
	"sha1": true, "sha256": true, "sha384": true, "sha512": true, "pbkdf2": true, "scrypt": true,
}

// algorithmAliases are common names for an Auth0 algorithm, after
// normaliseAlgorithm; the hash itself says which variant it is.
var algorithmAliases = map[string]string{
	"argon2i": "argon2", "argon2id": "argon2",
	"pbkdf2sha1": "pbkdf2", "pbkdf2sha256": "pbkdf2", "pbkdf2sha512": "pbkdf2",
	"ssha": "ldap", "rfc2307": "ldap", "blowfish": "bcrypt",
}

func readColumns(in Input) (columns, error) {
	c := columns{salt: in.Salt}
	if a := strings.TrimSpace(in.Algorithm); a != "" {
		norm := normaliseAlgorithm(a)
		if alias, ok := algorithmAliases[norm]; ok {
			norm = alias
		}
		if !columnAlgorithms[norm] {
			return c, &Error{
				Code:    CodeUnknownAlgorithm,
				Message: fmt.Sprintf("password_algorithm %s is not an algorithm Auth0 can import", describe(a, in.Hash, in.Salt)),
				Hint:    "use one of " + strings.Join(importuser.Algorithms, ", ") + "; leave it empty for hashes that name their algorithm, such as $2b$… or {SSHA}…",
			}
		}
		c.algorithm = norm
	}
	switch e := strings.ToLower(strings.TrimSpace(in.Encoding)); e {
	case "", encHex, encBase64, encUTF8:
		c.encoding = e
	case "base64url", "base64-url":
		c.encoding = encBase64
	case "utf-8":
		c.encoding = encUTF8
	default:
		return c, &Error{
			Code:    CodeBadEncoding,
			Message: fmt.Sprintf("password_encoding %s is not hex, base64 or utf8", describe(in.Encoding, in.Hash, in.Salt)),
			Hint:    "set password_encoding to hex or base64 (the encoding of the digest), or leave it empty to detect it",
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(in.SaltPosition)); p {
	case "", "prefix", "suffix":
		c.position = p
	default:
		return c, &Error{
			Code:    CodeBadSaltPosition,
			Message: fmt.Sprintf("salt_position %s is neither prefix nor suffix", describe(in.SaltPosition, in.Hash, in.Salt)),
			Hint:    "prefix means the salt was put before the password when hashing (hash(salt+password)); suffix means after",
		}
	}
	return c, nil
}

// normaliseAlgorithm lower-cases a and drops '-' and '_': "SHA-256" and
// "sha_256" are common spellings of sha256.
func normaliseAlgorithm(a string) string {
	var buf [16]byte
	b := buf[:0]
	for i := 0; i < len(a); i++ {
		switch c := a[i]; {
		case c == '-' || c == '_':
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// describe quotes a column value in a message only when it is short, plainly
// a name, and holds none of the row's secrets; anything else might be a
// secret in the wrong column.
func describe(v string, secrets ...string) string {
	v = strings.TrimSpace(v)
	plain := len(v) <= 12
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			plain = false
			break
		}
	}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" && strings.Contains(v, s) {
			plain = false
		}
	}
	if plain && v != "" {
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("(a value of %d characters)", len(v))
}

// expect checks that password_algorithm, when set, agrees with the family a
// self-describing hash declares.
func (c columns) expect(family, form string) error {
	if c.algorithm == "" || c.algorithm == family {
		return nil
	}
	return &Error{
		Code:    CodeAlgorithmMismatch,
		Message: fmt.Sprintf("password_algorithm is %s, but the hash is a %s hash (%s)", c.algorithm, family, form),
		Hint:    "leave password_algorithm empty for hashes that name their algorithm, or fix the column mapping",
	}
}

// noExtraSalt rejects a password_salt column for a form that carries its own
// salt, unless the column merely repeats that salt.
func (c columns) noExtraSalt(form string, embedded ...string) error {
	if c.salt == "" {
		return nil
	}
	for _, e := range embedded {
		if c.salt == e {
			return nil
		}
	}
	return &Error{
		Code:    CodeSaltNotAllowed,
		Message: fmt.Sprintf("password_salt is set, but a %s hash carries its own salt", form),
		Hint:    "leave password_salt empty for these rows; if the application also mixed a secret into the password, Auth0 cannot reproduce it and the users must reset their passwords",
	}
}

func malformed(form, what string) error {
	return &Error{
		Code:    CodeMalformedHash,
		Message: fmt.Sprintf("the hash looks like %s but %s", form, what),
		Hint:    "check that the password_hash column is exported unchanged (not truncated, re-encoded or quoted)",
	}
}

// notImportable is the Result for a recognised form Auth0 cannot take.
func notImportable(family, format string) Result {
	return Result{Family: family, Format: format}
}

// selfDescribing reports whether h names its own algorithm. Hex and base64
// digests never contain '$', ':', '{' or '*', so this cannot catch them.
func selfDescribing(h string) bool {
	return strings.ContainsAny(h, "${*") || strings.HasPrefix(h, "pbkdf2:") || strings.HasPrefix(h, "scrypt:")
}

// convertSelfDescribing handles every form whose prefix names it.
func convertSelfDescribing(h string, c columns) (Result, error) {
	switch {
	case strings.HasPrefix(h, "$2"):
		return convertBcrypt(h, "bcrypt", c)
	case strings.HasPrefix(h, "bcrypt$$2"): // Django's BCryptPasswordHasher
		return convertBcrypt(h[len("bcrypt$"):], "django-bcrypt", c)
	case strings.HasPrefix(h, "$argon2"):
		return convertArgon2(h, "argon2", c)
	case strings.HasPrefix(h, "argon2$argon2"): // Django's Argon2PasswordHasher
		return convertArgon2(h[len("argon2"):], "django-argon2", c)
	case strings.HasPrefix(h, "$pbkdf2"):
		return convertPassPBKDF2(h, c)
	case strings.HasPrefix(h, "pbkdf2_"):
		return convertDjangoPBKDF2(h, c)
	case strings.HasPrefix(h, "pbkdf2:"):
		return convertWerkzeugPBKDF2(h, c)
	case strings.HasPrefix(h, "$scrypt$"):
		return convertPasslibScrypt(h, c)
	case strings.HasPrefix(h, "scrypt$"):
		return convertDjangoScrypt(h, c)
	case strings.HasPrefix(h, "scrypt:"):
		return convertWerkzeugScrypt(h, c)
	case strings.HasPrefix(h, "{"):
		return convertRFC2307(h, c)
	}
	if r, ok := recogniseUnimportable(h); ok {
		return r, nil
	}
	if r, ok, err := convertFrameworkDigest(h, c); ok {
		return r, err
	}
	return notImportable(FamilyUnknown, "unknown"), nil
}

func newCustom(algorithm, value, encoding string) *importuser.CustomPasswordHash {
	return &importuser.CustomPasswordHash{
		Algorithm: algorithm,
		Hash:      importuser.HashValue{Value: value, Encoding: encoding},
	}
}

// columnSalt is the salt object for a password_salt column, which always
// holds the salt as text.
func (c columns) columnSalt() *importuser.Salt {
	if c.salt == "" {
		return nil
	}
	pos := c.position
	if pos == "" {
		pos = "prefix"
	}
	return &importuser.Salt{Value: c.salt, Encoding: encUTF8, Position: pos}
}
