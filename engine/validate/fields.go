package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// UsernamePolicy is the database connection's username rule
// (validation.username; docs/auth0.md §5). Auth0's default is 1–15.
type UsernamePolicy struct {
	Min, Max int
}

// DefaultUsernamePolicy is Auth0's default username length.
var DefaultUsernamePolicy = UsernamePolicy{Min: 1, Max: 15}

const usernameSymbols = "@^$.!`-#+'~_"

// checkUsername returns the lower-cased username or a finding. Auth0 stores
// usernames lower-cased and allows a–z, 0–9 and a few symbols, but never an
// email address (docs/auth0.md §5, S11).
func checkUsername(raw string, p UsernamePolicy) (string, *Finding) {
	u := strings.ToLower(strings.TrimSpace(raw))
	n := utf8.RuneCountInString(u)
	if n < p.Min || n > p.Max {
		return "", &Finding{Field: "username", Code: CodeUsernameLength, Severity: SeverityError,
			Message: fmt.Sprintf("username %q is %d characters; the connection allows %d–%d", clip(u), n, p.Min, p.Max),
			Hint:    "shorten the username, or raise the connection's username length (validation.username.max, up to 128) in the plan"}
	}
	if strings.IndexByte(u, '@') >= 0 {
		if _, f := checkEmail(u); f == nil {
			return "", &Finding{Field: "username", Code: CodeUsernameIsEmail, Severity: SeverityError,
				Message: fmt.Sprintf("username %q is an email address, which Auth0 does not allow as a username", clip(u)),
				Hint:    "leave username empty (users log in with their email) or choose a username without the domain"}
		}
	}
	for _, r := range u {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r < utf8.RuneSelf && strings.ContainsRune(usernameSymbols, r) {
			continue
		}
		return "", &Finding{Field: "username", Code: CodeUsernameChars, Severity: SeverityError,
			Message: fmt.Sprintf("username %q contains %q, which Auth0 does not allow", clip(u), r),
			Hint:    "use only a–z, 0–9 and " + usernameSymbols + " (no spaces or accents)"}
	}
	return u, nil
}

// parseBool accepts the spellings legacy exports use for booleans.
func parseBool(field, raw string) (*bool, *Finding) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return nil, nil
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "y", "t":
		return &boolTrue, nil
	case "false", "0", "no", "n", "f":
		return &boolFalse, nil
	default:
		return nil, &Finding{Field: field, Code: CodeInvalidBoolean, Severity: SeverityError,
			Message: fmt.Sprintf("%s is %q, which is not a boolean", field, clip(v)),
			Hint:    "use true/false, 1/0 or yes/no, or leave it empty"}
	}
}

// boolTrue and boolFalse back every parsed boolean: one allocation per
// field per row adds up over millions of rows. Never write through them.
var boolTrue, boolFalse = true, false

const maxUserID = 255

// checkUserID enforces Auth0's user_id rule: at most 255 characters and no
// whitespace. A leading "auth0|" is removed with a warning because Auth0
// prepends the connection strategy itself (auth0|auth0|… otherwise).
func checkUserID(raw string) (string, []Finding) {
	id := raw
	var out []Finding
	if strings.HasPrefix(id, "auth0|") {
		id = strings.TrimPrefix(id, "auth0|")
		out = append(out, Finding{Field: "user_id", Code: CodeUserIDPrefix, Severity: SeverityWarning,
			Message: fmt.Sprintf("user_id %q starts with auth0|, which Auth0 adds itself; it is imported as %q", clip(raw), clip(id)),
			Hint:    "remove the auth0| prefix in the source to silence this"})
	}
	if len(id) > maxUserID {
		return "", append(out, Finding{Field: "user_id", Code: CodeUserIDInvalid, Severity: SeverityError,
			Message: fmt.Sprintf("user_id is %d characters; Auth0 allows at most %d", len(id), maxUserID),
			Hint:    "shorten the id, or leave user_id empty and let Auth0 generate one"})
	}
	if strings.IndexFunc(id, isSpace) >= 0 || id == "" {
		return "", append(out, Finding{Field: "user_id", Code: CodeUserIDInvalid, Severity: SeverityError,
			Message: fmt.Sprintf("user_id %q contains whitespace or is empty after its prefix", clip(raw)),
			Hint:    "remove the spaces from the id"})
	}
	return id, out
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0, 0x2028, 0x2029, 0x3000:
		return true
	}
	return false
}

// checkPhone requires E.164: a plus, then 2–15 digits not starting with 0.
func checkPhone(raw string) (string, *Finding) {
	p := strings.TrimSpace(raw)
	ok := len(p) >= 3 && len(p) <= 16 && p[0] == '+' && p[1] != '0'
	for i := 1; ok && i < len(p); i++ {
		ok = '0' <= p[i] && p[i] <= '9'
	}
	if !ok {
		return "", &Finding{Field: "phone_number", Code: CodePhoneInvalid, Severity: SeverityError,
			Message: fmt.Sprintf("phone_number %q is not in E.164 format", clip(p)),
			Hint:    "write it as + country code and number with no spaces or punctuation, e.g. +12125550100"}
	}
	return p, nil
}

// reservedAppMetadataKeys may not appear in app_metadata (docs/auth0.md §1).
var reservedAppMetadataKeys = map[string]bool{
	"__tenant": true, "_id": true, "blocked": true, "clientID": true, "created_at": true,
	"email_verified": true, "email": true, "globalClientID": true, "global_client_id": true,
	"identities": true, "lastIP": true, "lastLogin": true, "loginsCount": true, "metadata": true,
	"multifactor_last_modified": true, "multifactor": true, "updated_at": true, "user_id": true,
}

// checkMetadata requires a JSON object and, for app_metadata, no reserved
// top-level key. The text is kept as it is: encoding/json compacts a
// RawMessage when the user is marshalled, so compacting here would only
// cost a copy on every row.
func checkMetadata(field, raw string) (json.RawMessage, []Finding) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return nil, nil
	}
	doc := []byte(text)
	if text[0] != '{' || !json.Valid(doc) {
		why := "is not valid JSON"
		if json.Valid(doc) {
			why = "is JSON but not an object"
		}
		return nil, []Finding{{Field: field, Code: CodeMetadataInvalid, Severity: SeverityError,
			Message: fmt.Sprintf("%s %s", field, why),
			Hint:    `write a JSON object such as {"plan":"gold"}; in CSV, double every quote inside the cell`}}
	}
	if field != "app_metadata" {
		return doc, nil
	}
	var out []Finding
	for _, k := range topLevelKeys(doc) {
		if reservedAppMetadataKeys[k] {
			out = append(out, Finding{Field: field, Code: CodeMetadataReservedKey, Severity: SeverityError,
				Message: fmt.Sprintf("app_metadata uses the key %q, which Auth0 reserves", k),
				Hint:    "rename the key (e.g. legacy_" + k + ") or move it to user_metadata"})
		}
	}
	if out != nil {
		sortFindings(out)
		return nil, out
	}
	return doc, nil
}

// topLevelKeys lists the keys of a valid JSON object without
// decoding its values: app_metadata is checked on every row, and a map
// decode would allocate for every value only to read the keys.
func topLevelKeys(obj []byte) []string {
	var keys []string
	depth := 0
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end := i + 1
			for ; end < len(obj) && obj[end] != '"'; end++ {
				if obj[end] == '\\' {
					end++
				}
			}
			if depth == 1 && isKey(obj[end+1:]) {
				key := obj[i+1 : end]
				if bytes.IndexByte(key, '\\') < 0 {
					keys = append(keys, string(key))
				} else {
					var k string
					if err := json.Unmarshal(obj[i:end+1], &k); err == nil {
						keys = append(keys, k)
					}
				}
			}
			i = end
		}
	}
	return keys
}

// isKey reports whether the text after a string is a colon, i.e. the
// string was an object key.
func isKey(after []byte) bool {
	for _, c := range after {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// nameLimit is a profile field's length rule. Auth0's pages disagree for
// name and nickname (docs/auth0.md §1): above Soft only one source allows the
// value, so it is a warning; above Hard every source rejects it.
type nameLimit struct {
	field      string
	soft, hard int
}

var nameLimits = []nameLimit{
	{"given_name", 150, 150},
	{"family_name", 150, 150},
	{"name", 150, 300},
	{"nickname", 300, 350},
}

// checkNameLength measures in UTF-16 code units, as Auth0's JavaScript
// validators count string length.
func checkNameLength(l nameLimit, v string) *Finding {
	n := 0
	for _, r := range v {
		n += utf16.RuneLen(r)
	}
	switch {
	case n > l.hard:
		return &Finding{Field: l.field, Code: CodeNameLength, Severity: SeverityError,
			Message: fmt.Sprintf("%s is %d characters; Auth0 allows at most %d", l.field, n, l.hard),
			Hint:    fmt.Sprintf("shorten %s to %d characters", l.field, l.soft)}
	case n > l.soft:
		return &Finding{Field: l.field, Code: CodeNameLengthDisputed, Severity: SeverityWarning,
			Message: fmt.Sprintf("%s is %d characters; Auth0's docs allow %d in one place and %d in another", l.field, n, l.soft, l.hard),
			Hint:    fmt.Sprintf("shorten %s to %d characters to be safe", l.field, l.soft)}
	}
	return nil
}

// checkPicture warns when picture is not an absolute http(s) URL: Auth0
// stores any string, but apps then render a broken image.
func checkPicture(v string) *Finding {
	u, err := url.Parse(v)
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		return nil
	}
	return &Finding{Field: "picture", Code: CodePictureInvalid, Severity: SeverityWarning,
		Message: fmt.Sprintf("picture %q is not an absolute http(s) URL", clip(v)),
		Hint:    "use a full URL such as https://cdn.example.com/u/1.png, or leave it empty"}
}

// checkMFAFactors applies the import schema's mfa_factors rules: 1–10
// factors, each exactly one of totp (unpadded base32 secret), phone (E.164
// without restrictions on the first digit) or email.
func checkMFAFactors(raw string) (json.RawMessage, *Finding) {
	bad := func(msg string) (json.RawMessage, *Finding) {
		return nil, &Finding{Field: "mfa_factors", Code: CodeMFAInvalid, Severity: SeverityError, Message: msg,
			Hint: `write a JSON array such as [{"totp":{"secret":"JBSWY3DPEHPK3PXP"}}] with 1 to 10 factors`}
	}
	var factors []map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &factors); err != nil {
		return bad("mfa_factors is not a JSON array of factor objects")
	}
	if len(factors) < 1 || len(factors) > 10 {
		return bad(fmt.Sprintf("mfa_factors has %d factors; Auth0 accepts 1 to 10", len(factors)))
	}
	for i, f := range factors {
		if len(f) != 1 {
			return bad(fmt.Sprintf("factor %d must have exactly one of totp, phone or email", i+1))
		}
		for kind, body := range f {
			var key string
			switch kind {
			case "totp":
				key = "secret"
			case "phone", "email":
				key = "value"
			default:
				return bad(fmt.Sprintf("factor %d has unknown kind %q (use totp, phone or email)", i+1, kind))
			}
			if len(body) != 1 || body[key] == nil {
				return bad(fmt.Sprintf("factor %d (%s) must have exactly the key %q", i+1, kind, key))
			}
			var v string
			if err := json.Unmarshal(body[key], &v); err != nil {
				return bad(fmt.Sprintf("factor %d (%s): %s must be a string", i+1, kind, key))
			}
			switch kind {
			case "totp":
				if v == "" || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
					return bad(fmt.Sprintf("factor %d: the TOTP secret is not unpadded upper-case base32", i+1))
				}
			case "phone":
				ok := len(v) >= 2 && len(v) <= 16 && v[0] == '+'
				for j := 1; ok && j < len(v); j++ {
					ok = '0' <= v[j] && v[j] <= '9'
				}
				if !ok {
					return bad(fmt.Sprintf("factor %d: the phone is not + followed by up to 15 digits", i+1))
				}
			case "email":
				if _, f := checkEmail(v); f != nil {
					return bad(fmt.Sprintf("factor %d: the email is not a valid address", i+1))
				}
			}
		}
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, []byte(raw)) // valid: it was just unmarshalled
	return buf.Bytes(), nil
}
