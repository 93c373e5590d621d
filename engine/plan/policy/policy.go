// Package policy describes a database connection's sign-up rules as Auth0
// defines them (docs/auth0.md §5): the password strength levels and the username
// rule. The plan records them, the advisor reasons about them, and the
// connection options are built from them.
package policy

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Level is a password strength level (options.passwordPolicy).
type Level string

// Auth0's password strength levels, weakest first.
const (
	None      Level = "none"
	Low       Level = "low"
	Fair      Level = "fair"
	Good      Level = "good"
	Excellent Level = "excellent"
)

// Levels lists the levels, weakest first.
var Levels = []Level{None, Low, Fair, Good, Excellent}

// ParseLevel reads a level name, in any case.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Levels {
		if l == known {
			return l, nil
		}
	}
	return "", fmt.Errorf("password strength %q: use one of none, low, fair, good, excellent", s)
}

// Rule says what the level demands of a new password, in Auth0's words
// (the password-strength page, S10).
func (l Level) Rule() string {
	switch l {
	case None:
		return "at least 1 character"
	case Low:
		return "at least 6 characters"
	case Fair:
		return "at least 8 characters, with lower case, upper case and a digit"
	case Good:
		return "at least 8 characters, with 3 of: lower case, upper case, digit, special (!@#$%^&*)"
	case Excellent:
		return "at least 10 characters, with 3 of: lower case, upper case, digit, special (!@#$%^&*), and no character more than twice in a row"
	}
	return "unknown level"
}

// MinLength is the shortest password the level accepts.
func (l Level) MinLength() int {
	switch l {
	case Low:
		return 6
	case Fair, Good:
		return 8
	case Excellent:
		return 10
	}
	return 1
}

// Meets reports whether password satisfies the level, and if not, why. Auth0
// applies the level when a password is set (sign-up, reset, change), never
// to passwords it imported or migrated.
func (l Level) Meets(password string) (bool, string) {
	if n := len([]rune(password)); n < l.MinLength() {
		return false, fmt.Sprintf("shorter than %d characters", l.MinLength())
	}
	var lower, upper, digit, special bool
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case strings.ContainsRune("!@#$%^&*", r):
			special = true
		}
	}
	kinds := 0
	for _, ok := range []bool{lower, upper, digit, special} {
		if ok {
			kinds++
		}
	}
	switch l {
	case Fair:
		if !lower || !upper || !digit {
			return false, "needs lower case, upper case and a digit"
		}
	case Good, Excellent:
		if kinds < 3 {
			return false, "needs 3 of: lower case, upper case, digit, special"
		}
	}
	if l == Excellent {
		rs := []rune(password)
		for i := 2; i < len(rs); i++ {
			if rs[i] == rs[i-1] && rs[i] == rs[i-2] {
				return false, "has a character more than twice in a row"
			}
		}
	}
	return true, ""
}

// Auth0's bounds for validation.username (docs/auth0.md §5, S11).
const (
	UsernameMinBound = 1
	UsernameMaxBound = 128
)

// DefaultUsername is Auth0's default username rule: not required, 1–15.
var DefaultUsername = Username{Min: 1, Max: 15}

// Username is the connection's username rule: requires_username and
// validation.username {min, max}.
type Username struct {
	Required bool
	Min, Max int
}

// ParseLength reads a username length range "MIN-MAX", e.g. "1-15".
func ParseLength(s string) (min, max int, err error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("username length %q: write MIN-MAX, e.g. 1-15", s)
	}
	return a, b, CheckLength(a, b)
}

// CheckLength applies Auth0's bounds to a username length range.
func CheckLength(min, max int) error {
	switch {
	case min < UsernameMinBound || max > UsernameMaxBound:
		return fmt.Errorf("username length %d-%d: Auth0 allows %d to %d", min, max, UsernameMinBound, UsernameMaxBound)
	case min > max:
		return fmt.Errorf("username length %d-%d: the minimum is above the maximum", min, max)
	}
	return nil
}

// String gives the range as "MIN-MAX".
func (u Username) String() string { return fmt.Sprintf("%d-%d", u.Min, u.Max) }
