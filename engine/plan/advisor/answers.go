package advisor

import (
	"fmt"
	"strings"

	"provision/engine/plan/policy"
)

// Answers are what the operator says about their situation. The YAML names
// are those of an answers file and of the plan's answers section. Zero
// values mean "no" or "unknown", as documented per field, so a partly
// filled answers file still gives a recommendation.
type Answers struct {
	// LegacyStore: is there an existing user store (a database the users
	// live in today)?
	LegacyStore bool `yaml:"legacy_store"`
	// FreshStart: will existing users sign up again in Auth0 instead of
	// being moved (a relaunch, or data not worth keeping)?
	FreshStart bool `yaml:"fresh_start"`
	// KeepLegacy: must the legacy store keep serving applications that
	// cannot move to Auth0?
	KeepLegacy bool `yaml:"keep_legacy"`
	// LegacyOnline: can the legacy store stay online, and reachable from
	// Auth0, during the transition?
	LegacyOnline bool `yaml:"legacy_online"`
	// LegacyDatabase is the store's database engine, for the custom
	// database scripts: postgresql or mysql.
	LegacyDatabase string `yaml:"legacy_database,omitempty"`
	// LegacyTable is the table that holds the users (default "users").
	LegacyTable string `yaml:"legacy_table,omitempty"`
	// Users is how many users there are; 0 takes the sample's row count.
	Users int `yaml:"users,omitempty"`
	// ActivePercent is the share of users who signed in during the last 90
	// days, 1–100; 0 means unknown.
	ActivePercent int `yaml:"active_percent,omitempty"`
	// DeadlineDays is how many days remain before the legacy store must be
	// decommissioned; 0 means there is no deadline.
	DeadlineDays int `yaml:"deadline_days,omitempty"`
	// Social: should users be able to sign up with social accounts?
	Social bool `yaml:"social"`
	// PasswordPolicy is the password strength level new passwords must
	// meet: none, low, fair, good or excellent (default good).
	PasswordPolicy string `yaml:"password_policy,omitempty"`
	// UsernameRequired: must every user have a username?
	UsernameRequired bool `yaml:"username_required"`
	// UsernameLength is the allowed username length, "MIN-MAX" (Auth0's
	// default 1-15).
	UsernameLength string `yaml:"username_length,omitempty"`
}

// Databases the custom database scripts can be written for.
const (
	PostgreSQL = "postgresql"
	MySQL      = "mysql"
)

// DefaultTable is the legacy table assumed when none is named.
const DefaultTable = "users"

// AnswerError is an answer that cannot be used.
type AnswerError struct {
	Key     string // the answers-file key
	Message string
}

func (e *AnswerError) Error() string { return e.Key + ": " + e.Message }

// Check reports the first answer that cannot be used, as an *AnswerError.
func (a Answers) Check() error {
	bad := func(key, format string, args ...any) error {
		return &AnswerError{Key: key, Message: fmt.Sprintf(format, args...)}
	}
	switch strings.ToLower(a.LegacyDatabase) {
	case "", PostgreSQL, MySQL:
	default:
		return bad("legacy_database", "%q: use postgresql or mysql", a.LegacyDatabase)
	}
	if a.LegacyTable != "" {
		if err := CheckIdentifier(a.LegacyTable); err != nil {
			return bad("legacy_table", "%v", err)
		}
	}
	if a.Users < 0 {
		return bad("users", "%d: give the number of users, or 0 to count the sample", a.Users)
	}
	if a.ActivePercent < 0 || a.ActivePercent > 100 {
		return bad("active_percent", "%d: give a share from 1 to 100, or 0 if unknown", a.ActivePercent)
	}
	if a.DeadlineDays < 0 {
		return bad("deadline_days", "%d: give the days left, or 0 for no deadline", a.DeadlineDays)
	}
	if _, err := a.Level(); err != nil {
		return bad("password_policy", "%v", err)
	}
	if _, err := a.Username(); err != nil {
		return bad("username_length", "%v", err)
	}
	return nil
}

// Level is the password strength level answered (default good).
func (a Answers) Level() (policy.Level, error) {
	if strings.TrimSpace(a.PasswordPolicy) == "" {
		return policy.Good, nil
	}
	return policy.ParseLevel(a.PasswordPolicy)
}

// Username is the username rule answered (default Auth0's: 1-15).
func (a Answers) Username() (policy.Username, error) {
	u := policy.DefaultUsername
	u.Required = a.UsernameRequired
	if strings.TrimSpace(a.UsernameLength) == "" {
		return u, nil
	}
	min, max, err := policy.ParseLength(a.UsernameLength)
	if err != nil {
		return u, err
	}
	u.Min, u.Max = min, max
	return u, nil
}

// Database is the legacy database engine (default postgresql).
func (a Answers) Database() string {
	if d := strings.ToLower(strings.TrimSpace(a.LegacyDatabase)); d != "" {
		return d
	}
	return PostgreSQL
}

// Table is the legacy users table (default "users").
func (a Answers) Table() string {
	if t := strings.TrimSpace(a.LegacyTable); t != "" {
		return t
	}
	return DefaultTable
}
