package hashes

import "provision/engine/importuser"

// Input is what one source row says about its password.
type Input struct {
	Hash         string // password_hash column, in any recognised form
	Algorithm    string // password_algorithm column: an Auth0 algorithm name, for hashes that don't describe themselves
	Salt         string // password_salt column
	SaltPosition string // salt_position column: prefix | suffix
	Encoding     string // password_encoding column: hex | base64 | utf8
}

// Result is a converted hash.
type Result struct {
	// Family is the Auth0 algorithm name ("bcrypt", "pbkdf2", ...), "none"
	// when the row has no hash, or a descriptive name of a format Auth0
	// cannot import ("md5-crypt", "sha512-crypt", "phpass", "unknown", ...).
	Family     string
	Importable bool
	// Format names the legacy form that was recognised, for reports:
	// "bcrypt", "django-pbkdf2", "passlib-scrypt", "rfc2307", "hex-digest", ...
	// It is empty when the row has no hash.
	Format string
	// Exactly one of PasswordHash and Custom is set when Importable.
	PasswordHash string
	Custom       *importuser.CustomPasswordHash
	// Warnings are non-fatal notes on the conversion, such as an algorithm
	// inferred from a digest's length. The row can be imported, but the
	// operator should prove the assumption with a canary login.
	Warnings []Error
}

// Error is a problem with a hash that the operator must fix. Code is stable
// (used in reports and by scripts); Message never contains the hash itself.
type Error struct {
	Code    string
	Message string
	Hint    string
}

func (e *Error) Error() string { return e.Message }

// Error and warning codes.
const (
	// Errors from Convert and CheckCustom.
	CodeUnknownAlgorithm   = "unknown_algorithm"   // password_algorithm or algorithm is not an Auth0 algorithm
	CodeAlgorithmMismatch  = "algorithm_mismatch"  // password_algorithm contradicts a self-describing hash
	CodeUnsupportedVariant = "unsupported_variant" // a known family in a variant Auth0 rejects (bcrypt $2x$, $2$)
	CodeMalformedHash      = "malformed_hash"      // a recognised form that does not parse
	CodeDigestLength       = "digest_length"       // a digest whose length does not fit its algorithm
	CodeBadEncoding        = "bad_encoding"        // an encoding name, or a value not in its encoding
	CodeEncodingNotAllowed = "encoding_not_allowed"
	CodeSaltNotAllowed     = "salt_not_allowed"   // a salt for a form that carries its own, or takes none
	CodeBadSaltPosition    = "bad_salt_position"  // salt_position is neither prefix nor suffix
	CodeSaltTooLong        = "salt_too_long"      // a bcrypt salt that leaves no room for the password
	CodeMissingParameter   = "missing_parameter"  // e.g. scrypt keylen, hmac digest or key
	CodeBadParameter       = "bad_parameter"      // e.g. scrypt cost not a power of two
	CodeUnsupportedDigest  = "unsupported_digest" // a pbkdf2 or hmac digest Auth0 does not list
	CodeNeedsHMACKey       = "hmac_needs_key"     // hmac cannot be described by CSV columns
	CodeUnverifiable       = "unverifiable"       // Verify only: cannot be checked locally
	CodeTooExpensive       = "too_expensive"      // Verify only: parameters beyond local limits
	CodeNoHash             = "no_hash"            // Verify only: neither or both hash forms given

	// Warnings on an importable Result.
	WarnAssumedAlgorithm = "assumed_algorithm" // algorithm inferred from the digest length
	WarnAssumedScheme    = "assumed_scheme"    // a form that two frameworks share, read as the common one
	WarnScryptMemory     = "scrypt_memory"     // scrypt parameters above Node.js's default memory limit
	WarnAlgorithmIgnored = "algorithm_ignored" // password_algorithm set for a hash Auth0 cannot import
)
