package hashes

import (
	"fmt"
	"slices"
	"strings"

	"provision/engine/importuser"
)

// CheckCustom applies Auth0's per-algorithm rules (the bulk import schema
// page, "Supported hash algorithms") to a custom_password_hash a source
// supplied ready-made, and also checks that the values decode and have the
// lengths their parameters promise, since Auth0 would accept some malformed
// objects that no password can ever match. It returns an *Error or nil.
func CheckCustom(c *importuser.CustomPasswordHash) error {
	_, err := prepare(c)
	return err
}

// prepared is a custom_password_hash that passed CheckCustom, decoded and
// ready to compare with passwords.
type prepared struct {
	algorithm   string
	passwordEnc string
	salt        []byte
	saltSuffix  bool
	want        []byte // the decoded hash, for every algorithm but bcrypt

	h      hashFunc // md4…sha512, hmac, ldap, pbkdf2
	key    []byte   // hmac
	bcrypt string
	argon2 argon2Hash
	pbkdf2 pbkdf2Hash
	scrypt scryptParams
}

func ruleError(code, algorithm, message, hint string) *Error {
	return &Error{Code: code, Message: "custom_password_hash (" + algorithm + "): " + message, Hint: hint}
}

// utf8Algorithms take a self-describing string and hash.encoding utf8;
// binaryAlgorithms take a digest in hex or base64.
var (
	utf8Algorithms   = map[string]bool{"argon2": true, "bcrypt": true, "ldap": true, "pbkdf2": true}
	binaryAlgorithms = map[string]bool{"hmac": true, "md4": true, "md5": true, "sha1": true, "sha256": true, "sha512": true, "scrypt": true}
	// saltAlgorithms may carry a salt object; for the others the salt is in
	// the hash string (argon2, ldap, pbkdf2), which Auth0 says "is not allowed".
	saltAlgorithms = map[string]bool{"bcrypt": true, "hmac": true, "md4": true, "md5": true, "sha1": true, "sha256": true, "sha512": true, "scrypt": true}
)

var validEncodings = []string{encBase64, encHex, encUTF8}

func prepare(c *importuser.CustomPasswordHash) (*prepared, error) {
	if c == nil {
		return nil, &Error{Code: CodeNoHash, Message: "custom_password_hash is missing", Hint: "supply password_hash or custom_password_hash"}
	}
	alg := c.Algorithm
	secrets := []string{c.Hash.Value}
	if c.Salt != nil {
		secrets = append(secrets, c.Salt.Value)
	}
	if c.Hash.Key != nil {
		secrets = append(secrets, c.Hash.Key.Value)
	}
	if !slices.Contains(importuser.Algorithms, alg) {
		return nil, &Error{
			Code:    CodeUnknownAlgorithm,
			Message: fmt.Sprintf("custom_password_hash.algorithm %s is not one Auth0 accepts", describe(alg, secrets...)),
			Hint:    "use one of " + strings.Join(importuser.Algorithms, ", "),
		}
	}
	p := &prepared{algorithm: alg}
	if c.Hash.Value == "" {
		return nil, ruleError(CodeMissingParameter, alg, "hash.value is empty", "supply the hash")
	}
	enc := c.Hash.Encoding
	if enc != "" && !slices.Contains(validEncodings, enc) {
		return nil, ruleError(CodeBadEncoding, alg, fmt.Sprintf("hash.encoding %s is not base64, hex or utf8", describe(enc, secrets...)), "")
	}
	switch {
	case utf8Algorithms[alg] && enc != "" && enc != encUTF8:
		return nil, ruleError(CodeEncodingNotAllowed, alg, "hash.encoding must be utf8", "the hash of "+alg+" is a self-describing string: set hash.encoding to utf8 or leave it out")
	case binaryAlgorithms[alg] && enc != encHex && enc != encBase64:
		return nil, ruleError(CodeEncodingNotAllowed, alg, "hash.encoding must be hex or base64", "set hash.encoding to the encoding of the digest")
	}

	// The schema's enums hold whatever the algorithm: Auth0 rejects a stray
	// hash.digest or key encoding even where it would not use them.
	if d := c.Hash.Digest; d != "" && hmacDigests[d].name == "" {
		return nil, ruleError(CodeUnsupportedDigest, alg, fmt.Sprintf("hash.digest %s is not one Auth0 accepts", describe(d, secrets...)),
			"use md4, md5, ripemd160, sha1, sha224, sha256, sha384, sha512 or whirlpool")
	}
	if k := c.Hash.Key; k != nil && k.Encoding != "" && !slices.Contains(validEncodings, k.Encoding) {
		return nil, ruleError(CodeBadEncoding, alg, fmt.Sprintf("hash.key.encoding %s is not base64, hex or utf8", describe(k.Encoding, secrets...)), "")
	}
	if pe := c.Password; pe != nil && pe.Encoding != "" {
		if !slices.Contains(passwordEncodings, pe.Encoding) {
			return nil, ruleError(CodeBadEncoding, alg, fmt.Sprintf("password.encoding %s is not one of %s", describe(pe.Encoding, secrets...), strings.Join(passwordEncodings, ", ")), "")
		}
		p.passwordEnc = pe.Encoding
	}

	if s := c.Salt; s != nil {
		if !saltAlgorithms[alg] {
			return nil, ruleError(CodeSaltNotAllowed, alg, "a salt object is not allowed", "the salt of "+alg+" is inside the hash string; remove the salt object")
		}
		if s.Encoding != "" && !slices.Contains(validEncodings, s.Encoding) {
			return nil, ruleError(CodeBadEncoding, alg, fmt.Sprintf("salt.encoding %s is not base64, hex or utf8", describe(s.Encoding, secrets...)), "")
		}
		if s.Position != "" && s.Position != "prefix" && s.Position != "suffix" {
			return nil, ruleError(CodeBadSaltPosition, alg, fmt.Sprintf("salt.position %s is neither prefix nor suffix", describe(s.Position, secrets...)), "")
		}
		salt, ok := decodeValue(s.Value, s.Encoding)
		if !ok {
			return nil, ruleError(CodeBadEncoding, alg, "salt.value is not valid "+s.Encoding, "check salt.encoding")
		}
		p.salt, p.saltSuffix = salt, s.Position == "suffix"
	}

	var err error
	switch alg {
	case "bcrypt":
		err = p.prepareBcrypt(c)
	case "argon2":
		err = p.prepareArgon2(c)
	case "ldap":
		err = p.prepareLDAP(c)
	case "pbkdf2":
		err = p.preparePBKDF2(c)
	case "hmac":
		err = p.prepareHMAC(c)
	case "scrypt":
		err = p.prepareScrypt(c)
	default:
		p.h = plainDigests[alg]
		err = p.decodeWant(c, p.h.size)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeWant decodes a hex or base64 hash.value that must be size bytes.
func (p *prepared) decodeWant(c *importuser.CustomPasswordHash, size int) error {
	raw, ok := decodeValue(c.Hash.Value, c.Hash.Encoding)
	if !ok {
		return ruleError(CodeBadEncoding, p.algorithm, "hash.value is not valid "+c.Hash.Encoding, "check hash.encoding")
	}
	if len(raw) != size {
		return ruleError(CodeDigestLength, p.algorithm, fmt.Sprintf("hash.value decodes to %d bytes, but the digest is %d", len(raw), size),
			"check the algorithm (and hash.digest) and that the value was exported unchanged")
	}
	p.want = raw
	return nil
}

func (p *prepared) prepareBcrypt(c *importuser.CustomPasswordHash) error {
	b, ok := parseBcrypt(c.Hash.Value)
	if !ok {
		return ruleError(CodeMalformedHash, "bcrypt", "hash.value is not a well-formed bcrypt string", "a bcrypt hash is $2b$<cost>$ followed by 53 characters")
	}
	if !b.acceptedByAuth0() {
		return ruleError(CodeUnsupportedVariant, "bcrypt", fmt.Sprintf("the $2%s$ prefix is not supported by Auth0 (only $2a$, $2b$ and $2y$)", b.minor),
			"these users must reset their passwords or be migrated lazily")
	}
	if len(p.salt) >= bcryptMaxInput && !p.saltSuffix {
		return ruleError(CodeSaltTooLong, "bcrypt", fmt.Sprintf("the %d-byte salt fills bcrypt's 72-byte input, so any password would match", len(p.salt)),
			"check the salt and its position")
	}
	p.bcrypt = c.Hash.Value
	return nil
}

func (p *prepared) prepareArgon2(c *importuser.CustomPasswordHash) error {
	a, what, ok := parseArgon2(c.Hash.Value)
	if !ok {
		return ruleError(CodeMalformedHash, "argon2", "hash.value is not a valid argon2 PHC string: "+what, "")
	}
	if _, ok := a.importable(); !ok {
		return ruleError(CodeUnsupportedVariant, "argon2", "only argon2i and argon2id at version 19 can be verified", "")
	}
	p.argon2, p.want = a, a.key
	return nil
}

func (p *prepared) prepareLDAP(c *importuser.CustomPasswordHash) error {
	name, _, _ := splitRFC2307(c.Hash.Value)
	if name == "CRYPT" {
		return ruleError(CodeUnsupportedVariant, "ldap", "the {CRYPT} scheme is not supported by Auth0", "these users must reset their passwords or be migrated lazily")
	}
	l, what, ok := parseLDAP(c.Hash.Value)
	if !ok {
		return ruleError(CodeMalformedHash, "ldap", "hash.value is not a valid RFC 2307 value: "+what, "")
	}
	p.h, p.want, p.salt = l.scheme.h, l.digest, l.salt
	p.saltSuffix = true
	return nil
}

func (p *prepared) preparePBKDF2(c *importuser.CustomPasswordHash) error {
	ph, what, ok := parsePBKDF2PHC(c.Hash.Value)
	if !ok {
		code := CodeMalformedHash
		if strings.Contains(what, "digest") {
			code = CodeUnsupportedDigest
		}
		return ruleError(code, "pbkdf2", "hash.value is not Auth0's PHC form: "+what, "the form is $pbkdf2-<digest>$i=<iterations>,l=<keylen>$<base64 salt>$<base64 hash>")
	}
	p.pbkdf2, p.h, p.want = ph, ph.h, ph.key
	return nil
}

func (p *prepared) prepareHMAC(c *importuser.CustomPasswordHash) error {
	if c.Hash.Digest == "" {
		return ruleError(CodeMissingParameter, "hmac", "hash.digest is required", "set it to the HMAC's digest: md4, md5, ripemd160, sha1, sha224, sha256, sha384, sha512 or whirlpool")
	}
	h := hmacDigests[c.Hash.Digest] // known: prepare checked the enum
	k := c.Hash.Key
	if k == nil || k.Value == "" {
		return ruleError(CodeMissingParameter, "hmac", "hash.key.value is required", "supply the HMAC key")
	}
	key, ok := decodeValue(k.Value, k.Encoding)
	if !ok {
		return ruleError(CodeBadEncoding, "hmac", "hash.key.value is not valid "+k.Encoding, "check hash.key.encoding")
	}
	p.h, p.key = h, key
	return p.decodeWant(c, h.size)
}

func (p *prepared) prepareScrypt(c *importuser.CustomPasswordHash) error {
	if c.KeyLen <= 0 {
		return ruleError(CodeMissingParameter, "scrypt", "keylen is required and must be greater than zero", "set keylen to the length of the hash in bytes")
	}
	s := scryptParams{n: c.Cost, r: c.BlockSize, p: c.Parallelization}
	if s.n == 0 {
		s.n = scryptDefaultCost
	}
	if s.r == 0 {
		s.r = scryptDefaultBlockSize
	}
	if s.p == 0 {
		s.p = scryptDefaultParallelization
	}
	if !s.valid() {
		return ruleError(CodeBadParameter, "scrypt", "cost must be a power of two greater than one, and blockSize and parallelization positive (with blockSize × parallelization below 2³⁰)", "")
	}
	p.scrypt = s
	return p.decodeWant(c, c.KeyLen)
}
