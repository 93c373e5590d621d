package hashes

import (
	"strings"
)

// ldapScheme is an RFC 2307 userPassword scheme Auth0's ldap algorithm takes.
type ldapScheme struct {
	name   string // canonical upper-case name, as OpenLDAP writes it
	h      hashFunc
	salted bool
}

// ldapSchemes maps upper-cased scheme names to what they mean. Auth0
// documents "md5|smd5|sha*|ssha*" and shows {SSHA384} in its examples; {SHA1}
// and {SSHA1} are spellings some directories use for {SHA} and {SSHA}.
var ldapSchemes = map[string]ldapScheme{
	"MD5":     {"MD5", hMD5, false},
	"SMD5":    {"SMD5", hMD5, true},
	"SHA":     {"SHA", hSHA1, false},
	"SHA1":    {"SHA", hSHA1, false},
	"SSHA":    {"SSHA", hSHA1, true},
	"SSHA1":   {"SSHA", hSHA1, true},
	"SHA256":  {"SHA256", hSHA256, false},
	"SSHA256": {"SSHA256", hSHA256, true},
	"SHA384":  {"SHA384", hSHA384, false},
	"SSHA384": {"SSHA384", hSHA384, true},
	"SHA512":  {"SHA512", hSHA512, false},
	"SSHA512": {"SSHA512", hSHA512, true},
}

// ldapHash is a parsed {SCHEME}base64 value. For salted schemes the decoded
// value is the digest of password+salt followed by the salt (OpenLDAP's
// layout, which Auth0's {SSHA384} example follows).
type ldapHash struct {
	scheme ldapScheme
	digest []byte
	salt   []byte
}

func (l ldapHash) String() string {
	raw := make([]byte, 0, len(l.digest)+len(l.salt))
	raw = append(append(raw, l.digest...), l.salt...)
	b := make([]byte, 0, 2+len(l.scheme.name)+b64.EncodedLen(len(raw)))
	b = append(append(append(b, '{'), l.scheme.name...), '}')
	return string(b64.AppendEncode(b, raw))
}

// splitRFC2307 splits "{scheme}value"; scheme is upper-cased.
func splitRFC2307(s string) (scheme, value string, ok bool) {
	if !strings.HasPrefix(s, "{") {
		return "", "", false
	}
	end := strings.IndexByte(s, '}')
	if end < 2 {
		return "", "", false
	}
	return strings.ToUpper(s[1:end]), s[end+1:], true
}

// parseLDAP parses a value for one of ldapSchemes.
func parseLDAP(s string) (l ldapHash, what string, ok bool) {
	name, value, ok := splitRFC2307(s)
	if !ok {
		return l, "it does not start with {SCHEME}", false
	}
	if l.scheme, ok = ldapSchemes[name]; !ok {
		return l, "its scheme is not one of MD5, SMD5, SHA, SSHA, SHA256, SSHA256, SHA384, SSHA384, SHA512, SSHA512", false
	}
	raw, ok := decodeBase64(value)
	size := l.scheme.h.size
	switch {
	case !ok:
		return l, "its value is not base64", false
	case !l.scheme.salted && len(raw) != size:
		return l, "its value is not base64 of a digest of the right length", false
	case l.scheme.salted && len(raw) <= size:
		return l, "its value is too short to hold a digest and a salt", false
	}
	l.digest, l.salt = raw[:size], raw[size:]
	return l, "", true
}

// convertRFC2307 handles every {SCHEME} value: the ones Auth0's ldap
// algorithm takes, Atlassian's {PKCS5S2} (really PBKDF2), and the rest, which
// Auth0 cannot import.
func convertRFC2307(h string, c columns) (Result, error) {
	name, value, ok := splitRFC2307(h)
	if !ok {
		return notImportable(FamilyUnknown, "unknown"), nil
	}
	switch {
	case name == "PKCS5S2":
		return convertAtlassian(value, c)
	case name == "CRYPT":
		return notImportable("ldap-crypt", "rfc2307"), nil
	case ldapSchemes[name].name == "":
		return notImportable("ldap-other", "rfc2307"), nil
	}
	l, what, ok := parseLDAP(h)
	if !ok {
		return Result{}, malformed("an RFC 2307 {"+name+"} value", what)
	}
	if c.algorithm != l.scheme.h.name { // password_algorithm sha1 with {SHA} is consistent
		if err := c.expect("ldap", "rfc2307"); err != nil {
			return Result{}, err
		}
	}
	if err := c.noExtraSalt("rfc2307", string(l.salt)); err != nil {
		return Result{}, err
	}
	// Keep a value that is already canonical rather than re-encode it.
	out := h
	if h[1:1+len(name)] != l.scheme.name || len(value)%4 != 0 || strings.ContainsAny(value, "-_") {
		out = l.String()
	}
	return Result{Family: "ldap", Format: "rfc2307", Importable: true, Custom: newCustom("ldap", out, encUTF8)}, nil
}
