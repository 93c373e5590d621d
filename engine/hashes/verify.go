package hashes

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"

	"provision/engine/importuser"
)

// Verify reports whether password, as a user would type it at login,
// matches the converted hash: passwordHash (Auth0's bcrypt password_hash) or
// custom, exactly one of them set. It computes what Auth0 computes, honouring
// every encoding, salt and parameter of the object, and compares in constant
// time. The error, an *Error, is only for a hash that cannot be used at all
// (malformed, or too expensive to compute here); a wrong password is
// (false, nil).
func Verify(passwordHash string, custom *importuser.CustomPasswordHash, password string) (bool, error) {
	return verifyWithin(defaultLimits, passwordHash, custom, password)
}

// limits bound the work one verification may do, so that a hostile or
// corrupt hash cannot exhaust the machine.
type limits struct {
	bcryptCost     int    // highest bcrypt cost
	pbkdf2Blocks   int    // iterations × output blocks
	argon2MemoryKi uint32 // KiB
	argon2Passes   uint64 // memory (KiB) × time
	scryptMemory   uint64 // bytes: 128·r·N
	scryptWork     uint64 // N·r·p
}

var defaultLimits = limits{
	bcryptCost:     18,         // about 20 s
	pbkdf2Blocks:   20_000_000, // a few seconds of SHA-256
	argon2MemoryKi: 1 << 20,    // 1 GiB
	argon2Passes:   1 << 24,    // e.g. 1 GiB × 16 passes
	scryptMemory:   1 << 30,
	scryptWork:     1 << 27,
}

func tooExpensive(what string) error {
	return &Error{
		Code:    CodeTooExpensive,
		Message: what + ": too expensive to verify locally",
		Hint:    "the parameters are far beyond what legacy systems use; check that the hash was exported correctly",
	}
}

func verifyWithin(lim limits, passwordHash string, custom *importuser.CustomPasswordHash, password string) (bool, error) {
	if (passwordHash == "") == (custom == nil) {
		return false, &Error{Code: CodeNoHash, Message: "exactly one of password_hash and custom_password_hash must be set",
			Hint: "use password_hash for a bcrypt $2a$/$2b$ cost-10 hash and custom_password_hash for anything else"}
	}
	if passwordHash != "" {
		b, ok := parseBcrypt(passwordHash)
		if !ok || !b.acceptedByAuth0() {
			return false, &Error{Code: CodeMalformedHash, Message: "password_hash is not a bcrypt $2a$, $2b$ or $2y$ string", Hint: "use custom_password_hash for other algorithms"}
		}
		if b.cost > lim.bcryptCost {
			return false, tooExpensive(fmt.Sprintf("bcrypt cost %d", b.cost))
		}
		return password != "" && bcryptMatches(passwordHash, []byte(password)), nil
	}
	p, err := prepare(custom)
	if err != nil {
		return false, err
	}
	if err := p.withinLimits(lim); err != nil {
		return false, err
	}
	if password == "" {
		return false, nil // Auth0 refuses an empty password before any hash is consulted
	}
	return p.matches(password)
}

func bcryptMatches(hash string, input []byte) bool {
	// bcrypt reads at most 72 bytes; the Go package would read them the same
	// way, but truncating here makes Auth0's documented limit explicit.
	if len(input) > bcryptMaxInput {
		input = input[:bcryptMaxInput]
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), input)
	return err == nil
}

func (p *prepared) withinLimits(lim limits) error {
	switch p.algorithm {
	case "bcrypt":
		if b, _ := parseBcrypt(p.bcrypt); b.cost > lim.bcryptCost {
			return tooExpensive(fmt.Sprintf("bcrypt cost %d", b.cost))
		}
	case "pbkdf2":
		blocks := (len(p.want) + p.h.size - 1) / p.h.size
		if uint64(p.pbkdf2.iterations)*uint64(blocks) > uint64(lim.pbkdf2Blocks) {
			return tooExpensive(fmt.Sprintf("pbkdf2 with %d iterations", p.pbkdf2.iterations))
		}
	case "argon2":
		a := p.argon2
		if a.memory > lim.argon2MemoryKi || uint64(a.memory)*uint64(a.time) > lim.argon2Passes {
			return tooExpensive(fmt.Sprintf("argon2 with m=%d, t=%d", a.memory, a.time))
		}
	case "scrypt":
		s := p.scrypt
		mem := 128 * uint64(s.r) * uint64(s.n)
		if mem/128/uint64(s.r) != uint64(s.n) || mem > lim.scryptMemory || uint64(s.n)*uint64(s.r)*uint64(s.p) > lim.scryptWork {
			return tooExpensive(fmt.Sprintf("scrypt with N=%d, r=%d, p=%d", s.n, s.r, s.p))
		}
	}
	return nil
}

// input is the password transcoded as the legacy system saw it, with the
// salt object (if any) joined on the side it names.
func (p *prepared) input(password string) []byte {
	pw := encodePassword(password, p.passwordEnc)
	if len(p.salt) == 0 || p.algorithm == "scrypt" || p.algorithm == "ldap" {
		return pw
	}
	out := make([]byte, 0, len(pw)+len(p.salt))
	if p.saltSuffix {
		return append(append(out, pw...), p.salt...)
	}
	return append(append(out, p.salt...), pw...)
}

func (p *prepared) matches(password string) (bool, error) {
	in := p.input(password)
	var got []byte
	switch p.algorithm {
	case "bcrypt":
		return bcryptMatches(p.bcrypt, in), nil
	case "md4", "md5", "sha1", "sha256", "sha512":
		h := p.h.new()
		h.Write(in)
		got = h.Sum(nil)
	case "hmac":
		m := hmac.New(p.h.new, p.key)
		m.Write(in)
		got = m.Sum(nil)
	case "ldap":
		// Salted schemes hash password+salt; the salt follows the digest.
		h := p.h.new()
		h.Write(in)
		h.Write(p.salt)
		got = h.Sum(nil)
	case "pbkdf2":
		if p.h.new == nil {
			return false, &Error{
				Code:    CodeUnverifiable,
				Message: fmt.Sprintf("pbkdf2 with the %s digest cannot be verified locally (no MDC-2 implementation)", p.pbkdf2.digest),
				Hint:    "Auth0 accepts it; prove it with a canary login on a test tenant instead",
			}
		}
		var err error
		got, err = pbkdf2.Key(p.h.new, string(in), p.pbkdf2.salt, p.pbkdf2.iterations, len(p.want))
		if err != nil {
			return false, &Error{Code: CodeBadParameter, Message: "pbkdf2 parameters rejected: " + err.Error()}
		}
	case "scrypt":
		s := p.scrypt
		var err error
		got, err = scrypt.Key(in, p.salt, s.n, s.r, s.p, len(p.want))
		if err != nil {
			return false, &Error{Code: CodeBadParameter, Message: "scrypt parameters rejected: " + err.Error()}
		}
	case "argon2":
		a := p.argon2
		derive := argon2.IDKey
		if a.variant == "argon2i" {
			derive = argon2.Key
		}
		got = derive(in, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
	default: // prepare accepts no other algorithm
		return false, &Error{Code: CodeUnverifiable, Message: "custom_password_hash (" + p.algorithm + ") cannot be verified locally"}
	}
	return subtle.ConstantTimeCompare(got, p.want) == 1, nil
}
