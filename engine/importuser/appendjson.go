package importuser

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends u as encoding/json would encode it with
// SetEscapeHTML(false) (without the trailing newline): the same bytes, field
// for field, as an Encoder writes into an import file. Validation marshals
// every user of a migration, so this hand-written encoder replaces
// reflection on that path; appendjson_test.go checks it against
// encoding/json byte for byte, and a field added to User must be added here
// too.
//
// The only error is a metadata or mfa_factors value that is not valid JSON,
// reported as encoding/json reports it (a *json.MarshalerError). On error
// AppendJSON returns dst unchanged.
func (u *User) AppendJSON(dst []byte) ([]byte, error) {
	if u == nil {
		return append(dst, "null"...), nil
	}
	orig := len(dst)
	// email has no omitempty, so every later member starts with a comma.
	dst = append(dst, `{"email":`...)
	dst = appendString(dst, u.Email)
	dst = appendBool(dst, `,"email_verified":`, u.EmailVerified)
	dst = appendNonEmpty(dst, `,"phone_number":`, u.PhoneNumber)
	dst = appendBool(dst, `,"phone_verified":`, u.PhoneVerified)
	dst = appendNonEmpty(dst, `,"user_id":`, u.UserID)
	dst = appendNonEmpty(dst, `,"username":`, u.Username)
	dst = appendNonEmpty(dst, `,"given_name":`, u.GivenName)
	dst = appendNonEmpty(dst, `,"family_name":`, u.FamilyName)
	dst = appendNonEmpty(dst, `,"name":`, u.Name)
	dst = appendNonEmpty(dst, `,"nickname":`, u.Nickname)
	dst = appendNonEmpty(dst, `,"picture":`, u.Picture)
	dst = appendBool(dst, `,"blocked":`, u.Blocked)
	dst = appendNonEmpty(dst, `,"password_hash":`, u.PasswordHash)
	if c := u.CustomPasswordHash; c != nil {
		dst = append(dst, `,"custom_password_hash":`...)
		dst = c.appendJSON(dst)
	}
	var err error
	if dst, err = appendRaw(dst, `,"app_metadata":`, u.AppMetadata); err != nil {
		return dst[:orig], err
	}
	if dst, err = appendRaw(dst, `,"user_metadata":`, u.UserMetadata); err != nil {
		return dst[:orig], err
	}
	if dst, err = appendRaw(dst, `,"mfa_factors":`, u.MFAFactors); err != nil {
		return dst[:orig], err
	}
	return append(dst, '}'), nil
}

func (c *CustomPasswordHash) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"algorithm":`...)
	dst = appendString(dst, c.Algorithm)
	dst = append(dst, `,"hash":{"value":`...)
	dst = appendString(dst, c.Hash.Value)
	dst = appendNonEmpty(dst, `,"encoding":`, c.Hash.Encoding)
	dst = appendNonEmpty(dst, `,"digest":`, c.Hash.Digest)
	if k := c.Hash.Key; k != nil {
		dst = append(dst, `,"key":{"value":`...)
		dst = appendString(dst, k.Value)
		dst = appendNonEmpty(dst, `,"encoding":`, k.Encoding)
		dst = append(dst, '}')
	}
	dst = append(dst, '}')
	if s := c.Salt; s != nil {
		dst = append(dst, `,"salt":{"value":`...)
		dst = appendString(dst, s.Value)
		dst = appendNonEmpty(dst, `,"encoding":`, s.Encoding)
		dst = appendNonEmpty(dst, `,"position":`, s.Position)
		dst = append(dst, '}')
	}
	if p := c.Password; p != nil {
		// PasswordSpec's only member is omitempty: the object may be {}.
		dst = append(dst, `,"password":{`...)
		if p.Encoding != "" {
			dst = append(dst, `"encoding":`...)
			dst = appendString(dst, p.Encoding)
		}
		dst = append(dst, '}')
	}
	dst = appendInt(dst, `,"keylen":`, c.KeyLen)
	dst = appendInt(dst, `,"cost":`, c.Cost)
	dst = appendInt(dst, `,"blockSize":`, c.BlockSize)
	dst = appendInt(dst, `,"parallelization":`, c.Parallelization)
	return append(dst, '}')
}

// The append helpers below take the member's key already quoted, with its
// leading comma and colon, and leave it out where omitempty would.

func appendNonEmpty(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendString(dst, s)
}

// appendBool writes a non-nil pointer even to false: omitempty looks at the
// pointer, and "false" is what Auth0 must receive.
func appendBool(dst []byte, key string, b *bool) []byte {
	switch {
	case b == nil:
		return dst
	case *b:
		return append(append(dst, key...), "true"...)
	default:
		return append(append(dst, key...), "false"...)
	}
}

func appendInt(dst []byte, key string, n int) []byte {
	if n == 0 {
		return dst
	}
	dst = append(dst, key...)
	return strconv.AppendInt(dst, int64(n), 10)
}

const hexDigits = "0123456789abcdef"

// plainASCII marks the ASCII bytes a JSON string holds as they are.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendString quotes s as encoding/json's appendString does with
// escapeHTML false: " and \ escaped, \b \f \n \r \t in short form, other
// control characters as \u00XX, U+2028 and U+2029 escaped (for JSONP; the
// encoder does it whatever the HTML setting), and each byte of invalid
// UTF-8 replaced by \ufffd. <, > and & are written as they are.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if plainASCII[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// rawMessageType names the type in errors, as encoding/json does.
var rawMessageType = reflect.TypeFor[json.RawMessage]()

// appendRaw writes a non-empty raw message compacted, as encoding/json
// does: it calls RawMessage.MarshalJSON and compacts the result (without
// HTML escaping here), failing on invalid JSON. Metadata in an export is
// usually compact already; it then costs one json.Valid scan and one copy.
func appendRaw(dst []byte, key string, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 {
		return dst, nil
	}
	if !json.Valid(raw) {
		// Let json.Compact produce the error, so that its text is the
		// encoder's own.
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return dst, &json.MarshalerError{Type: rawMessageType, Err: err}
		}
		return append(append(dst, key...), buf.Bytes()...), nil
	}
	dst = append(dst, key...)
	return appendCompactValid(dst, raw), nil
}

// appendCompactValid appends src, which must be valid JSON, without the
// whitespace outside its strings. For valid input that is all json.Compact
// removes; validity matters, since stripping spaces could join two tokens
// ("1 2") that Compact would reject.
func appendCompactValid(dst, src []byte) []byte {
	// Valid JSON has no control characters inside strings, so without a
	// byte <= ' ' there is no whitespace to remove: the common case.
	if !hasSpaceOrControl(src) {
		return append(dst, src...)
	}
	start, inString := 0, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case inString:
			if c == '\\' {
				i++ // the escaped byte cannot end the string
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

func hasSpaceOrControl(b []byte) bool {
	for _, c := range b {
		if c <= ' ' {
			return true
		}
	}
	return false
}
