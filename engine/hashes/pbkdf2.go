package hashes

import (
	"fmt"
	"strconv"
	"strings"
)

// pbkdf2Hash is a PBKDF2-HMAC hash in the terms of Auth0's PHC form
// $pbkdf2-<digest>$i=<iterations>,l=<keylen>$<salt>$<hash>.
type pbkdf2Hash struct {
	digest     string // as Auth0 will read it from the PHC id
	h          hashFunc
	iterations int
	salt, key  []byte
}

// Auth0's defaults when the PHC string leaves i or l out.
const (
	pbkdf2DefaultIterations = 100000
	pbkdf2DefaultKeyLen     = 64
)

// String is Auth0's PHC form, with i and l always written out and salt and
// hash in unpadded standard base64 (the alphabet Auth0's own examples use).
func (p pbkdf2Hash) String() string {
	b := make([]byte, 0, 40+len(p.digest)+b64Raw.EncodedLen(len(p.salt))+b64Raw.EncodedLen(len(p.key)))
	b = append(b, "$pbkdf2-"...)
	b = append(b, p.digest...)
	b = append(b, "$i="...)
	b = strconv.AppendInt(b, int64(p.iterations), 10)
	b = append(b, ",l="...)
	b = strconv.AppendInt(b, int64(len(p.key)), 10)
	b = append(b, '$')
	b = b64Raw.AppendEncode(b, p.salt)
	b = append(b, '$')
	b = b64Raw.AppendEncode(b, p.key)
	return string(b)
}

// maxIterations bounds iteration counts parsed from text; no real hash comes
// near it, and it keeps every count an int on any platform.
const maxIterations = 1<<31 - 1

func parseCount(s string) (int, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= maxIterations
}

// parsePBKDF2PHC parses Auth0's PHC form. Salt and hash may be padded or
// url-safe base64; i and l default to Auth0's 100000 and 64.
func parsePBKDF2PHC(s string) (p pbkdf2Hash, what string, ok bool) {
	var buf [5]string
	n := split(s, '$', buf[:])
	parts := buf[:max(n, 0)]
	if len(parts) != 4 && len(parts) != 5 || parts[0] != "" {
		return p, "it does not have the $pbkdf2-<digest>$i=…,l=…$<salt>$<hash> fields", false
	}
	digest, found := strings.CutPrefix(parts[1], "pbkdf2-")
	if !found {
		return p, "its id is not pbkdf2-<digest>", false
	}
	if p.h, ok = lookupPBKDF2Digest(digest); !ok {
		return p, fmt.Sprintf("its digest %s is not one Auth0 lists for pbkdf2", describe(digest)), false
	}
	p.digest = digest
	p.iterations = pbkdf2DefaultIterations
	keyLen := pbkdf2DefaultKeyLen
	if len(parts) == 5 {
		var kvs [2]string
		n := split(parts[2], ',', kvs[:])
		var seenI, seenL bool
		for _, kv := range kvs[:max(n, 0)] {
			k, v, _ := strings.Cut(kv, "=")
			count, good := parseCount(v)
			if !good || !(k == "i" && !seenI || k == "l" && !seenL) {
				return p, "its parameters are not i=<iterations>,l=<keylen> with positive numbers", false
			}
			if k == "i" {
				seenI = true
				p.iterations = count
			} else {
				seenL = true
				keyLen = count
			}
		}
		if n < 0 {
			return p, "its parameters are not i=<iterations>,l=<keylen> with positive numbers", false
		}
	}
	saltText, keyText := parts[len(parts)-2], parts[len(parts)-1]
	if saltText != "" {
		if p.salt, ok = decodeBase64(saltText); !ok {
			return p, "its salt is not base64", false
		}
	}
	if p.key, ok = decodeBase64(keyText); !ok {
		return p, "its hash is not base64", false
	}
	if len(p.key) != keyLen {
		return p, fmt.Sprintf("its hash is %d bytes but l (the key length Auth0 will compute) is %d", len(p.key), keyLen), false
	}
	return p, "", true
}

func pbkdf2Result(p pbkdf2Hash, format string, c columns) (Result, error) {
	if err := c.expect("pbkdf2", format); err != nil {
		return Result{}, err
	}
	return Result{Family: "pbkdf2", Format: format, Importable: true, Custom: newCustom("pbkdf2", p.String(), encUTF8)}, nil
}

// convertPassPBKDF2 handles the two forms that start with $pbkdf2: PHC
// ($pbkdf2-sha256$i=…,l=…$salt$hash, Auth0's own) and passlib's
// ($pbkdf2-sha256$29000$salt$hash in adapted base64; $pbkdf2$ is sha1).
func convertPassPBKDF2(h string, c columns) (Result, error) {
	var buf [6]string
	parts := buf[:max(split(h, '$', buf[:]), 0)]
	if len(parts) == 5 {
		if _, isCount := parseCount(parts[2]); isCount {
			return convertPasslibPBKDF2(parts, c)
		}
	}
	p, what, ok := parsePBKDF2PHC(h)
	if !ok {
		if len(parts) > 1 {
			if _, known := lookupPBKDF2Digest(strings.TrimPrefix(parts[1], "pbkdf2-")); !known && strings.HasPrefix(parts[1], "pbkdf2-") {
				return notImportable("pbkdf2-unsupported-digest", "phc-pbkdf2"), nil
			}
		}
		return Result{}, malformed("a PHC pbkdf2 string", what)
	}
	if err := c.noExtraSalt("phc-pbkdf2", parts[len(parts)-2], string(p.salt)); err != nil {
		return Result{}, err
	}
	// Write the digest as Auth0's short name, whatever alias the source used.
	p.digest = p.h.name
	return pbkdf2Result(p, "phc-pbkdf2", c)
}

// convertPasslibPBKDF2 handles passlib's $pbkdf2-<digest>$<rounds>$<salt>$<hash>,
// salt and hash in adapted base64, the hash the digest's size. Passlib
// writes sha1 as plain $pbkdf2$.
func convertPasslibPBKDF2(parts []string, c columns) (Result, error) {
	const form = "passlib-pbkdf2"
	h, ok := hSHA1, true
	if parts[1] != "pbkdf2" {
		h, ok = lookupPBKDF2Digest(strings.TrimPrefix(parts[1], "pbkdf2-"))
		if !ok || h.new == nil || !strings.HasPrefix(parts[1], "pbkdf2-") {
			return notImportable("pbkdf2-unsupported-digest", form), nil
		}
	}
	n, _ := parseCount(parts[2])
	p := pbkdf2Hash{digest: h.name, h: h, iterations: n}
	if p.salt, ok = ab64Decode(parts[3]); !ok && parts[3] != "" {
		return Result{}, malformed("a passlib pbkdf2 string", "its salt is not passlib's adapted base64")
	}
	if p.key, ok = ab64Decode(parts[4]); !ok || len(p.key) != h.size {
		return Result{}, malformed("a passlib pbkdf2 string", fmt.Sprintf("its hash is not adapted base64 of %d bytes", h.size))
	}
	if err := c.noExtraSalt(form, parts[3], string(p.salt)); err != nil {
		return Result{}, err
	}
	return pbkdf2Result(p, form, c)
}

// convertDjangoPBKDF2 handles Django's <algorithm>$<iterations>$<salt>$<b64 hash>,
// where the salt is text used as its UTF-8 bytes.
func convertDjangoPBKDF2(h string, c columns) (Result, error) {
	const form = "django-pbkdf2"
	var parts [4]string
	n := split(h, '$', parts[:]) // fills parts[0] even when there are too many
	var hf hashFunc
	switch parts[0] {
	case "pbkdf2_sha256":
		hf = hSHA256
	case "pbkdf2_sha1":
		hf = hSHA1
	default:
		return notImportable(FamilyUnknown, "unknown"), nil
	}
	if n != 4 {
		return Result{}, malformed("a Django pbkdf2 hash", "it does not have the <algorithm>$<iterations>$<salt>$<hash> fields")
	}
	n, ok := parseCount(parts[1])
	if !ok {
		return Result{}, malformed("a Django pbkdf2 hash", "its iteration count is not a positive number")
	}
	key, ok := decodeBase64(parts[3])
	if !ok || len(key) != hf.size {
		return Result{}, malformed("a Django pbkdf2 hash", fmt.Sprintf("its hash is not base64 of %d bytes", hf.size))
	}
	if err := c.noExtraSalt(form, parts[2]); err != nil {
		return Result{}, err
	}
	return pbkdf2Result(pbkdf2Hash{digest: hf.name, h: hf, iterations: n, salt: []byte(parts[2]), key: key}, form, c)
}

// convertWerkzeugPBKDF2 handles Werkzeug's pbkdf2:<digest>:<iterations>$<salt>$<hex hash>,
// where the salt is text used as its UTF-8 bytes and the key is the
// digest's size.
func convertWerkzeugPBKDF2(h string, c columns) (Result, error) {
	const form = "werkzeug-pbkdf2"
	method, rest, _ := strings.Cut(h, "$")
	salt, hexKey, found := strings.Cut(rest, "$")
	var args [3]string
	if !found || split(method, ':', args[:]) != 3 || strings.Contains(hexKey, "$") {
		return Result{}, malformed("a Werkzeug pbkdf2 hash", "it does not have the pbkdf2:<digest>:<iterations>$<salt>$<hash> fields")
	}
	hf, ok := lookupPBKDF2Digest(args[1])
	if !ok || hf.new == nil {
		return notImportable("pbkdf2-unsupported-digest", form), nil
	}
	n, ok := parseCount(args[2])
	if !ok {
		return Result{}, malformed("a Werkzeug pbkdf2 hash", "its iteration count is not a positive number")
	}
	key, ok := decodeHex(hexKey)
	if !ok || len(key) != hf.size {
		return Result{}, malformed("a Werkzeug pbkdf2 hash", fmt.Sprintf("its hash is not hex of %d bytes", hf.size))
	}
	if err := c.noExtraSalt(form, salt); err != nil {
		return Result{}, err
	}
	return pbkdf2Result(pbkdf2Hash{digest: hf.name, h: hf, iterations: n, salt: []byte(salt), key: key}, form, c)
}

// convertAtlassian handles {PKCS5S2}: base64 of a 16-byte salt followed by
// 32 bytes of PBKDF2-HMAC-SHA1 at 10,000 iterations (Jira, Confluence,
// Crowd, Bitbucket Server).
func convertAtlassian(value string, c columns) (Result, error) {
	const form = "atlassian-pkcs5s2"
	raw, ok := decodeBase64(value)
	if !ok || len(raw) != 48 {
		return Result{}, malformed("an Atlassian {PKCS5S2} hash", "its value is not base64 of 48 bytes (16 of salt, 32 of hash)")
	}
	if err := c.noExtraSalt(form); err != nil {
		return Result{}, err
	}
	return pbkdf2Result(pbkdf2Hash{digest: "sha1", h: hSHA1, iterations: 10000, salt: raw[:16], key: raw[16:]}, form, c)
}
