package advisor

import (
	"fmt"
	"strconv"
	"strings"

	"provision/engine/plan/policy"
)

// Kind is how a question is answered.
type Kind int

// Kinds of question.
const (
	YesNo  Kind = iota + 1 // "yes" or "no"
	Choice                 // one of Options
	Number                 // a whole number
	Text                   // free text
)

// Option is one choice of a Choice question.
type Option struct {
	Value string // as written in the answers file
	Label string // as shown to the operator
}

// Question is one thing the advisor asks. The list is data so that any
// front end (the TUI's forms, a plain prompt, an answers file) asks the same
// questions in the same order with the same rules. Values travel as text:
// "yes"/"no" for YesNo, the decimal number for Number.
type Question struct {
	// Key is the question's key in an answers file.
	Key   string
	Title string
	// Help says why the question matters to the recommendation.
	Help    string
	Kind    Kind
	Options []Option
	// Skip reports whether the question does not apply, given the answers
	// so far; a skipped question keeps its zero value.
	Skip func(Answers) bool
	// Get reads the current answer as text.
	Get func(Answers) string
	// Set parses text and stores it; it refuses a value it cannot use, with
	// a message for the operator.
	Set func(*Answers, string) error
}

// Validate checks a value without storing it, for form field validation.
func (q Question) Validate(v string) error {
	var scratch Answers
	return q.Set(&scratch, v)
}

// Questions returns the advisor's questions in the order to ask them.
func Questions() []Question {
	noStore := func(a Answers) bool { return !a.LegacyStore }
	noMove := func(a Answers) bool { return !a.LegacyStore || a.FreshStart }
	noScripts := func(a Answers) bool { return noMove(a) || !a.LegacyOnline }
	levels := make([]Option, len(policy.Levels))
	for i, l := range policy.Levels {
		levels[i] = Option{string(l), fmt.Sprintf("%s: %s", l, l.Rule())}
	}
	return []Question{
		yesNo("legacy_store", "Is there a legacy user store?",
			"Users who already exist somewhere are migrated; without them, users sign up in Auth0.",
			nil, func(a *Answers) *bool { return &a.LegacyStore }),
		yesNo("fresh_start", "Will existing users sign up again in Auth0 instead of being moved?",
			"A relaunch, or data not worth keeping: then nobody is migrated.",
			noStore, func(a *Answers) *bool { return &a.FreshStart }),
		yesNo("keep_legacy", "Must the legacy store keep serving applications that cannot move to Auth0?",
			"If so, it stays the source of truth and Auth0 proxies it.",
			noMove, func(a *Answers) *bool { return &a.KeepLegacy }),
		yesNo("legacy_online", "Can the legacy store stay online, reachable from Auth0, during the transition?",
			"Automatic migration and the proxy check passwords against it at login.",
			noMove, func(a *Answers) *bool { return &a.LegacyOnline }),
		{
			Key: "legacy_database", Title: "Which database holds the legacy users?",
			Help: "The custom database scripts are written for it.",
			Kind: Choice, Options: []Option{{PostgreSQL, "PostgreSQL"}, {MySQL, "MySQL / MariaDB"}},
			Skip: noScripts,
			Get:  func(a Answers) string { return a.Database() },
			Set: func(a *Answers, v string) error {
				v = strings.ToLower(strings.TrimSpace(v))
				if v != PostgreSQL && v != MySQL {
					return fmt.Errorf("choose postgresql or mysql")
				}
				a.LegacyDatabase = v
				return nil
			},
		},
		{
			Key: "legacy_table", Title: "Which table holds the users?",
			Help: "Schema-qualified if needed, e.g. auth.users.", Kind: Text, Skip: noScripts,
			Get: func(a Answers) string { return a.Table() },
			Set: func(a *Answers, v string) error {
				if err := CheckIdentifier(v); err != nil {
					return err
				}
				a.LegacyTable = strings.TrimSpace(v)
				return nil
			},
		},
		number("users", "How many users are there?",
			"Sizes the stages and the bulk phase; 0 counts the sample.", noMove, 0, 1<<40,
			func(a *Answers) *int { return &a.Users }),
		number("active_percent", "What share of users (%) signed in during the last 90 days?",
			"Active users migrate by logging in; 0 if unknown.", noMove, 0, 100,
			func(a *Answers) *int { return &a.ActivePercent }),
		number("deadline_days", "In how many days must the legacy store be decommissioned?",
			"Decides whether a bulk phase follows automatic migration; 0 if there is no deadline.",
			func(a Answers) bool { return noMove(a) || a.KeepLegacy }, 0, 1<<20,
			func(a *Answers) *int { return &a.DeadlineDays }),
		yesNo("social", "Should users be able to sign up with social accounts?",
			"Recorded as an addition to the strategy.", nil, func(a *Answers) *bool { return &a.Social }),
		{
			Key: "password_policy", Title: "Which password policy must new passwords meet?",
			Help: "Auth0's strength levels; they apply whenever a password is set.",
			Kind: Choice, Options: levels, Skip: orNever(nil),
			Get: func(a Answers) string { l, _ := a.Level(); return string(l) },
			Set: func(a *Answers, v string) error {
				l, err := policy.ParseLevel(v)
				if err != nil {
					return err
				}
				a.PasswordPolicy = string(l)
				return nil
			},
		},
		yesNo("username_required", "Must every user have a username?",
			"Sets requires_username on the connection.", nil, func(a *Answers) *bool { return &a.UsernameRequired }),
		{
			Key: "username_length", Title: "Allowed username length (MIN-MAX)?",
			Help: "Auth0's default is 1-15; at most 1-128.", Kind: Text,
			Skip: func(a Answers) bool { return !a.UsernameRequired },
			Get:  func(a Answers) string { u, _ := a.Username(); return u.String() },
			Set: func(a *Answers, v string) error {
				if _, _, err := policy.ParseLength(v); err != nil {
					return err
				}
				a.UsernameLength = strings.TrimSpace(v)
				return nil
			},
		},
	}
}

func yesNo(key, title, help string, skip func(Answers) bool, field func(*Answers) *bool) Question {
	return Question{
		Key: key, Title: title, Help: help, Kind: YesNo, Skip: orNever(skip),
		Options: []Option{{"yes", "Yes"}, {"no", "No"}},
		Get: func(a Answers) string {
			if *field(&a) {
				return "yes"
			}
			return "no"
		},
		Set: func(a *Answers, v string) error {
			b, err := ParseYesNo(v)
			if err != nil {
				return err
			}
			*field(a) = b
			return nil
		},
	}
}

func number(key, title, help string, skip func(Answers) bool, lo, hi int, field func(*Answers) *int) Question {
	return Question{
		Key: key, Title: title, Help: help, Kind: Number, Skip: orNever(skip),
		Get: func(a Answers) string { return strconv.Itoa(*field(&a)) },
		Set: func(a *Answers, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%")))
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("give a whole number from %d to %d", lo, hi)
			}
			*field(a) = n
			return nil
		},
	}
}

func orNever(skip func(Answers) bool) func(Answers) bool {
	if skip == nil {
		return func(Answers) bool { return false }
	}
	return skip
}

// ParseYesNo reads yes/no, y/n or true/false, in any case.
func ParseYesNo(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true":
		return true, nil
	case "no", "n", "false":
		return false, nil
	}
	return false, fmt.Errorf("answer yes or no")
}

// CheckIdentifier accepts a SQL table name, optionally schema-qualified,
// made of letters, digits and underscores: the scripts quote it, and
// anything else would be a way to inject SQL into them.
func CheckIdentifier(s string) error {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ".")
	if s == "" || len(parts) > 2 {
		return fmt.Errorf("table %q: give a name such as users or auth.users", s)
	}
	for _, p := range parts {
		if p == "" || !isIdent(p) {
			return fmt.Errorf("table %q: use letters, digits and _ (not starting with a digit), optionally schema.table", s)
		}
	}
	return nil
}

func isIdent(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return len(s) <= 63
}
