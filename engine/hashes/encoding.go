package hashes

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Encodings of hash.encoding, salt.encoding and hash.key.encoding.
const (
	encHex    = "hex"
	encBase64 = "base64"
	encUTF8   = "utf8"
)

// decodeHex decodes upper-, lower- or mixed-case hex, as Auth0 documents.
func decodeHex(s string) ([]byte, bool) {
	b, err := hex.DecodeString(s)
	return b, err == nil
}

// isHex reports whether s is non-empty, even-length hex.
func isHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeBase64 accepts the standard and the URL-safe alphabet, with or
// without padding: Auth0 documents url-safe base64 as accepted, and
// exporters differ on padding. It rejects anything else, such as whitespace
// or a mix of both alphabets.
func decodeBase64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	urlSafe := strings.ContainsAny(s, "-_")
	if urlSafe && strings.ContainsAny(s, "+/") {
		return nil, false
	}
	var enc *base64.Encoding
	switch {
	case urlSafe && strings.HasSuffix(s, "="):
		enc = base64.URLEncoding
	case urlSafe:
		enc = base64.RawURLEncoding
	case strings.HasSuffix(s, "="):
		enc = base64.StdEncoding
	default:
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	return b, err == nil
}

// decodedBase64Len returns how many bytes s decodes to, judging by its
// length alone, or -1 if no base64 string has that length.
func decodedBase64Len(s string) int {
	n := len(strings.TrimRight(s, "="))
	if pad := len(s) - n; pad > 2 || pad > 0 && len(s)%4 != 0 {
		return -1
	}
	if n%4 == 1 {
		return -1
	}
	return n * 3 / 4
}

// canonicalBase64 returns s if it already is padded standard base64 that
// decodes to raw, and otherwise the padded standard encoding of raw, so that
// Convert writes one form whatever the export used and allocates only when
// it must.
func canonicalBase64(s string, raw []byte) string {
	if len(s)%4 == 0 && len(s) == b64.EncodedLen(len(raw)) && !strings.ContainsAny(s, "-_") {
		return s
	}
	return b64.EncodeToString(raw)
}

// ab64Decode decodes passlib's "adapted base64": the standard alphabet with
// '.' in place of '+', no padding.
func ab64Decode(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "+=") {
		return nil, false
	}
	return decodeBase64(strings.ReplaceAll(s, ".", "+"))
}

// decodeValue decodes a hash, salt or key value given in one of Auth0's
// three encodings; the empty encoding means utf8.
func decodeValue(s, encoding string) ([]byte, bool) {
	switch encoding {
	case encHex:
		return decodeHex(s)
	case encBase64:
		return decodeBase64(s)
	case encUTF8, "":
		return []byte(s), true
	}
	return nil, false
}

var (
	b64    = base64.StdEncoding
	b64Raw = base64.RawStdEncoding
)

// Password encodings of password.encoding.
var passwordEncodings = []string{"ascii", "utf8", "utf16le", "ucs2", "latin1", "binary"}

// encodePassword turns the password a user typed (UTF-8, as it arrives at
// login) into the bytes the legacy system hashed, the way Auth0 documents it:
// "the user-provided password will be transcoded from utf8". The semantics
// are those of Node.js Buffer.from(string, encoding), which Auth0 runs on:
// utf16le and ucs2 are UTF-16 little-endian code units; latin1, binary and
// (in Node, surprisingly) ascii keep the low byte of each UTF-16 code unit.
func encodePassword(password, encoding string) []byte {
	switch encoding {
	case "utf16le", "ucs2":
		units := utf16.Encode([]rune(password))
		out := make([]byte, 0, 2*len(units))
		for _, u := range units {
			out = append(out, byte(u), byte(u>>8))
		}
		return out
	case "latin1", "binary", "ascii":
		units := utf16.Encode([]rune(password))
		out := make([]byte, len(units))
		for i, u := range units {
			out[i] = byte(u)
		}
		return out
	default: // utf8
		if utf8.ValidString(password) {
			return []byte(password)
		}
		// A JavaScript string cannot hold invalid UTF-8: each bad byte has
		// become U+FFFD by the time Auth0 encodes it again.
		out := make([]byte, 0, len(password)+8)
		for _, r := range password {
			out = utf8.AppendRune(out, r)
		}
		return out
	}
}

// split cuts s at every sep into out, without allocating, and returns the
// number of parts, or -1 if there are more than len(out).
func split(s string, sep byte, out []string) int {
	n := 0
	for {
		if n == len(out) {
			return -1
		}
		i := strings.IndexByte(s, sep)
		if i < 0 {
			out[n] = s
			return n + 1
		}
		out[n], s = s[:i], s[i+1:]
		n++
	}
}
