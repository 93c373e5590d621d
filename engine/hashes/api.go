// Package hashes recognises legacy password hashes, converts them to the form
// Auth0's import accepts (password_hash or custom_password_hash), and
// verifies a plaintext against that converted form, exactly as Auth0 would at
// login. Verification is used for credential canaries before upload and by
// the sandbox tenant's password grant.
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
	// Exactly one of PasswordHash and Custom is set when Importable.
	PasswordHash string
	Custom       *importuser.CustomPasswordHash
}

// Error is a problem with a hash that the operator must fix. Code is stable
// (used in reports and by scripts); Message never contains the hash itself.
type Error struct {
	Code    string
	Message string
	Hint    string
}

func (e *Error) Error() string { return e.Message }
