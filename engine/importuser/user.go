// Package importuser holds one user of an Auth0 bulk-import file: the shape
// that validate produces, the chunker packs, the targets send and the sandbox
// accepts. Its field set and JSON names follow Auth0's published import
// schema (schema/users-import.schema.json, embedded below), so a value of
// User marshals to exactly what Auth0 expects and nothing more.
package importuser

import "encoding/json"

// User is one element of an Auth0 users-import JSON array. Pointers mark the
// optional booleans so that "absent" and "false" stay distinct: Auth0 treats
// an absent email_verified differently from an explicit false on upsert.
type User struct {
	Email              string              `json:"email"`
	EmailVerified      *bool               `json:"email_verified,omitempty"`
	PhoneNumber        string              `json:"phone_number,omitempty"`
	PhoneVerified      *bool               `json:"phone_verified,omitempty"`
	UserID             string              `json:"user_id,omitempty"`
	Username           string              `json:"username,omitempty"`
	GivenName          string              `json:"given_name,omitempty"`
	FamilyName         string              `json:"family_name,omitempty"`
	Name               string              `json:"name,omitempty"`
	Nickname           string              `json:"nickname,omitempty"`
	Picture            string              `json:"picture,omitempty"`
	Blocked            *bool               `json:"blocked,omitempty"`
	PasswordHash       string              `json:"password_hash,omitempty"`
	CustomPasswordHash *CustomPasswordHash `json:"custom_password_hash,omitempty"`
	AppMetadata        json.RawMessage     `json:"app_metadata,omitempty"`
	UserMetadata       json.RawMessage     `json:"user_metadata,omitempty"`
	MFAFactors         json.RawMessage     `json:"mfa_factors,omitempty"`
}

// CustomPasswordHash is Auth0's custom_password_hash object. Which keys are
// meaningful depends on Algorithm; see docs/auth0.md §1 and engine/hashes.
type CustomPasswordHash struct {
	Algorithm       string        `json:"algorithm"`
	Hash            HashValue     `json:"hash"`
	Salt            *Salt         `json:"salt,omitempty"`
	Password        *PasswordSpec `json:"password,omitempty"`
	KeyLen          int           `json:"keylen,omitempty"`
	Cost            int           `json:"cost,omitempty"`
	BlockSize       int           `json:"blockSize,omitempty"`
	Parallelization int           `json:"parallelization,omitempty"`
}

// HashValue is the "hash" member of custom_password_hash.
type HashValue struct {
	Value    string   `json:"value"`
	Encoding string   `json:"encoding,omitempty"` // base64 | hex | utf8
	Digest   string   `json:"digest,omitempty"`   // hmac only
	Key      *HMACKey `json:"key,omitempty"`      // hmac only
}

// HMACKey is the key an hmac hash was made with.
type HMACKey struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding,omitempty"` // base64 | hex | utf8 (default)
}

// Salt is a salt kept apart from the hash value.
type Salt struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding,omitempty"` // base64 | hex | utf8 (default)
	Position string `json:"position,omitempty"` // prefix (default) | suffix
}

// PasswordSpec says how the plaintext was encoded before hashing.
type PasswordSpec struct {
	Encoding string `json:"encoding,omitempty"` // ascii | utf8 (default) | utf16le | ucs2 | latin1 | binary
}

// Algorithms are the custom_password_hash algorithms Auth0 accepts.
var Algorithms = []string{"argon2", "bcrypt", "hmac", "ldap", "md4", "md5", "sha1", "sha256", "sha512", "pbkdf2", "scrypt"}

// Redacted returns a copy of u with every secret replaced by "*****", the way
// Auth0 redacts hashes in job errors. Use it before a user reaches a log,
// report or journal.
func (u User) Redacted() User {
	const mask = "*****"
	if u.PasswordHash != "" {
		u.PasswordHash = mask
	}
	if u.CustomPasswordHash != nil {
		c := *u.CustomPasswordHash
		c.Hash.Value = mask
		if c.Hash.Key != nil {
			c.Hash.Key = &HMACKey{Value: mask, Encoding: c.Hash.Key.Encoding}
		}
		if c.Salt != nil {
			s := *c.Salt
			s.Value = mask
			c.Salt = &s
		}
		u.CustomPasswordHash = &c
	}
	if len(u.MFAFactors) > 0 {
		u.MFAFactors = json.RawMessage(`"*****"`)
	}
	return u
}
