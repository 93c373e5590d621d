package hashes

// TEMPORARY: replaced by the real implementation (convert.go, verify.go).

import (
	"errors"

	"provision/engine/importuser"
)

var errUnwritten = errors.New("hashes: not yet implemented")

// Convert recognises in.Hash (helped by the other columns) and converts it.
func Convert(in Input) (Result, error) { return Result{}, errUnwritten }

// Verify reports whether password matches the converted hash: passwordHash
// (Auth0's bcrypt password_hash) or custom, exactly one of them set.
func Verify(passwordHash string, custom *importuser.CustomPasswordHash, password string) (bool, error) {
	return false, errUnwritten
}

// CheckCustom applies Auth0's per-algorithm rules to a custom_password_hash
// that a source supplied ready-made.
func CheckCustom(c *importuser.CustomPasswordHash) error { return errUnwritten }
