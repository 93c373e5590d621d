package validate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Auth0's limits on an email address (docs/auth0.md §1, S11).
const (
	maxEmailLocal = 64
	maxEmailTotal = 254
)

// checkEmail returns the normalized (lower-cased, trimmed) address, or a
// finding. The syntax accepted is the dot-atom form of RFC 5321 with an LDH
// domain of at least two labels: what JSON Schema's "email" format checkers
// (and so Auth0's import) accept. Quoted local parts and raw Unicode are
// rejected with a hint rather than passed through to fail inside Auth0.
func checkEmail(raw string) (string, *Finding) {
	email := strings.TrimSpace(raw)
	if email == "" {
		return "", &Finding{Field: "email", Code: CodeEmailMissing, Severity: SeverityError,
			Message: "email is empty; Auth0 requires an email for every imported user",
			Hint:    "fill in the email, or remove the row if the account has none"}
	}
	bad := func(why, hint string) (string, *Finding) {
		return "", &Finding{Field: "email", Code: CodeEmailInvalid, Severity: SeverityError,
			Message: fmt.Sprintf("%q is not an email address (%s)", clip(email), why), Hint: hint}
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return bad("missing @", "correct the address; it must look like name@example.com")
	}
	if strings.IndexByte(email, '@') != at {
		return bad("more than one @", "keep a single @ between the name and the domain")
	}
	local, domain := email[:at], email[at+1:]
	if len(local) > maxEmailLocal {
		return "", &Finding{Field: "email", Code: CodeEmailTooLong, Severity: SeverityError,
			Message: fmt.Sprintf("the part before @ is %d characters; Auth0 allows at most %d", len(local), maxEmailLocal),
			Hint:    "shorten the address or give the user a new one"}
	}
	if len(email) > maxEmailTotal {
		return "", &Finding{Field: "email", Code: CodeEmailTooLong, Severity: SeverityError,
			Message: fmt.Sprintf("the address is %d characters; Auth0 allows at most %d", len(email), maxEmailTotal),
			Hint:    "shorten the address or give the user a new one"}
	}
	if local == "" {
		return bad("nothing before @", "correct the address; it must look like name@example.com")
	}
	if !utf8.ValidString(email) {
		return bad("not valid UTF-8", "re-export the file as UTF-8")
	}
	for i := 0; i < len(email); i++ {
		c := email[i]
		switch {
		case c == ' ' || c == '\t':
			return bad("contains a space", "remove the spaces")
		case c >= utf8.RuneSelf:
			if i > at {
				return bad("the domain has non-ASCII characters", "write the domain in its ASCII (punycode, xn--) form")
			}
			return bad("non-ASCII characters before @", "Auth0's import accepts ASCII addresses only; give the user an ASCII address")
		case c < 0x20 || c == 0x7f:
			return bad("contains a control character", "remove the invisible character (often a stray tab or line break)")
		}
	}
	if !isDotAtom(local) {
		return bad("invalid characters or dots before @", "use letters, digits and !#$%&'*+/=?^_`{|}~- with single dots between them")
	}
	if why := domainProblem(domain); why != "" {
		return bad(why, "correct the domain, e.g. example.com")
	}
	return strings.ToLower(email), nil
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0
}

func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if s[i-1] == '.' {
				return false
			}
			continue
		}
		if !isAtext(c) {
			return false
		}
	}
	return true
}

func domainProblem(d string) string {
	if d == "" {
		return "nothing after @"
	}
	if len(d) > 253 {
		return "the domain is too long"
	}
	if strings.IndexByte(d, '.') < 0 {
		return "the domain has no dot"
	}
	for rest := d; rest != ""; {
		l, tail, more := strings.Cut(rest, ".")
		rest = tail
		if l == "" || more && rest == "" {
			return "the domain has an empty label (two dots in a row, or a dot at an end)"
		}
		if len(l) > 63 {
			return "a domain label is longer than 63 characters"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "a domain label starts or ends with a hyphen"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Sprintf("the domain contains %q", c)
			}
		}
	}
	return ""
}

// clip keeps a quoted value short enough for a one-line message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
