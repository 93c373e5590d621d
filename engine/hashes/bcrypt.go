package hashes

import (
	"fmt"
)

// bcryptHash is a parsed modular-crypt bcrypt string: $2<minor>$<cost>$<53>.
type bcryptHash struct {
	minor string // "a", "b", "y", "x" or "" for the original $2$
	cost  int
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var isBcryptChar = func() (t [256]bool) {
	for i := 0; i < len(bcryptAlphabet); i++ {
		t[bcryptAlphabet[i]] = true
	}
	return t
}()

// parseBcrypt checks the structure of a bcrypt string without computing it.
func parseBcrypt(s string) (bcryptHash, bool) {
	var b bcryptHash
	if len(s) < 4 || s[0] != '$' || s[1] != '2' {
		return b, false
	}
	rest := s[2:]
	if rest[0] != '$' {
		b.minor = rest[:1]
		rest = rest[1:]
	}
	// rest is now "$NN$" followed by 22 characters of salt and 31 of hash.
	if len(rest) != 4+53 || rest[0] != '$' || rest[3] != '$' {
		return b, false
	}
	d1, d2 := rest[1], rest[2]
	if d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' {
		return b, false
	}
	b.cost = int(d1-'0')*10 + int(d2-'0')
	if b.cost < 4 || b.cost > 31 {
		return b, false
	}
	for i := 4; i < len(rest); i++ {
		if !isBcryptChar[rest[i]] {
			return b, false
		}
	}
	switch b.minor {
	case "a", "b", "y", "x", "":
		return b, true
	}
	return b, false
}

// acceptedByAuth0 reports whether Auth0 takes this bcrypt variant: "$2a$,
// $2b$, $2y$; $2$, $sha1$ and $2x$ are not supported".
func (b bcryptHash) acceptedByAuth0() bool {
	return b.minor == "a" || b.minor == "b" || b.minor == "y"
}

// bcryptMaxInput is bcrypt's input limit; Auth0 counts the salt against it.
const bcryptMaxInput = 72

func convertBcrypt(h, format string, c columns) (Result, error) {
	b, ok := parseBcrypt(h)
	if !ok {
		return Result{}, malformed("bcrypt", "it is not a well-formed $2?$<cost>$ string of 60 characters with a cost from 04 to 31")
	}
	if !b.acceptedByAuth0() {
		return Result{}, &Error{
			Code:    CodeUnsupportedVariant,
			Message: fmt.Sprintf("bcrypt $2%s$ hashes are not accepted by Auth0 (only $2a$, $2b$ and $2y$)", b.minor),
			Hint:    "these users cannot keep their passwords through bulk import: leave the hash out so they reset it, or use automatic migration",
		}
	}
	if err := c.expect("bcrypt", format); err != nil {
		return Result{}, err
	}
	if c.salt == "" && b.cost == 10 && (b.minor == "a" || b.minor == "b") {
		// Exactly what Auth0's password_hash field documents.
		return Result{Family: "bcrypt", Format: format, Importable: true, PasswordHash: h}, nil
	}
	if c.salt != "" && (c.position == "" || c.position == "prefix") && len(c.salt) >= bcryptMaxInput {
		return Result{}, &Error{
			Code:    CodeSaltTooLong,
			Message: fmt.Sprintf("password_salt is %d bytes: as a prefix it fills bcrypt's 72-byte input, so any password would match", len(c.salt)),
			Hint:    "check the salt column and salt_position; these users must reset their passwords",
		}
	}
	custom := newCustom("bcrypt", h, encUTF8)
	custom.Salt = c.columnSalt()
	return Result{Family: "bcrypt", Format: format, Importable: true, Custom: custom}, nil
}
