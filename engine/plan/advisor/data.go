package advisor

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"provision/engine/importuser"
)

// Data is what validating a sample export showed: counts only, never a
// user's data, so it can live in the plan file and the report. Hashes and
// Codes use the names of the validation report (hash families and finding
// codes).
type Data struct {
	// File is the sample's name as given, for the report.
	File string `yaml:"file,omitempty"`
	// SHA256 fingerprints the sample, so a report can say which file it
	// describes.
	SHA256      string `yaml:"sha256,omitempty"`
	Rows        int    `yaml:"rows"`
	Valid       int    `yaml:"valid"`
	Quarantined int    `yaml:"quarantined"`
	Duplicates  int    `yaml:"duplicates"`
	Warnings    int    `yaml:"warnings"`
	// Hashes counts rows per password hash family: an Auth0 algorithm name
	// (importable), "none", "invalid", or a format Auth0 cannot import
	// such as md5-crypt.
	Hashes map[string]int `yaml:"hashes,omitempty"`
	// Codes counts findings per code.
	Codes map[string]int `yaml:"codes,omitempty"`
	// NoUserID counts rows without a user_id: custom database scripts need
	// a permanent id for every user.
	NoUserID int `yaml:"no_user_id"`
	// NoUsername counts rows without a username, and UsernameMin and
	// UsernameMax are the shortest and longest usernames present (in
	// characters; 0 when there are none).
	NoUsername  int `yaml:"no_username"`
	UsernameMin int `yaml:"username_min,omitempty"`
	UsernameMax int `yaml:"username_max,omitempty"`
	// UsernameTooShort and UsernameTooLong count usernames outside the
	// answered length rule.
	UsernameTooShort int `yaml:"username_too_short,omitempty"`
	UsernameTooLong  int `yaml:"username_too_long,omitempty"`
	// KnownPasswords counts the known (canary) passwords checked against
	// the password policy, and WeakPasswords those that fail it. The
	// passwords themselves are never kept.
	KnownPasswords int `yaml:"known_passwords,omitempty"`
	WeakPasswords  int `yaml:"weak_passwords,omitempty"`
}

// Sampled reports whether any data was seen.
func (d Data) Sampled() bool { return d.Rows > 0 }

// Importable reports whether Auth0's bulk import accepts hashes of family.
func Importable(family string) bool { return slices.Contains(importuser.Algorithms, family) }

// notAHash are the families that describe the row rather than a hash.
func notAHash(family string) bool {
	return family == "none" || family == "invalid" || family == "conflict" || family == ""
}

// Count is a name with a number of rows.
type Count struct {
	Name string
	N    int
}

// facts are the numbers the rules look at, derived once.
type facts struct {
	users        int // answered, else the sample's rows
	hashed       int // rows with a family at all (the share denominator)
	unimportable int // rows whose hash Auth0 cannot import
	importable   int
	noPassword   int
	unimpFams    []Count // non-importable families, most rows first
	impFams      []Count
	window       int // days of automatic migration before the bulk phase
}

// Window lengths and thresholds of the decision table. They are judgement
// calls, named so that the report and the tests say the same thing.
const (
	// DefaultWindowDays is how long automatic migration runs before the
	// remaining users are bulk-imported: the span "active" is measured
	// over, so most active users have logged in once by then.
	DefaultWindowDays = 90
	// BulkMarginDays is kept between the end of the automatic phase and the
	// deadline, for the bulk phase and its fixes.
	BulkMarginDays = 14
	// ShortDeadlineDays: below this, automatic migration has no time to
	// reach enough users to be worth its scripts.
	ShortDeadlineDays = 30
	// LowActivePercent: below this share of active users, few would
	// migrate by logging in.
	LowActivePercent = 10
	// FewUnimportablePercent: at or below this share of hashes Auth0
	// cannot import, password resets cost less than running scripts.
	FewUnimportablePercent = 1.0
	// LargeQuarantinePercent: above this share of rows failing the import
	// rules, the export needs cleaning before a bulk phase.
	LargeQuarantinePercent = 10.0
	// UsersPerImportFile is roughly how many users fit in a 500 KB import
	// file (docs/auth0.md §2).
	UsersPerImportFile = 1000
)

func derive(a Answers, d Data) facts {
	f := facts{users: a.Users}
	if f.users == 0 {
		f.users = d.Rows
	}
	for fam, n := range d.Hashes {
		switch {
		case fam == "none":
			f.noPassword += n
			f.hashed += n
		case notAHash(fam):
		case Importable(fam):
			f.importable += n
			f.hashed += n
			f.impFams = append(f.impFams, Count{fam, n})
		default:
			f.unimportable += n
			f.hashed += n
			f.unimpFams = append(f.unimpFams, Count{fam, n})
		}
	}
	byCount := func(x, y Count) int {
		if c := cmp.Compare(y.N, x.N); c != 0 {
			return c
		}
		return cmp.Compare(x.Name, y.Name)
	}
	slices.SortFunc(f.unimpFams, byCount)
	slices.SortFunc(f.impFams, byCount)
	f.window = DefaultWindowDays
	if a.DeadlineDays > 0 {
		f.window = min(DefaultWindowDays, a.DeadlineDays-BulkMarginDays)
	}
	return f
}

// share is n as a percentage of the hashed rows.
func (f facts) share(n int) float64 {
	if f.hashed == 0 {
		return 0
	}
	return 100 * float64(n) / float64(f.hashed)
}

// scaled estimates, from a share of the sample, how many of all users it is.
func (f facts) scaled(n int) int {
	if f.hashed == 0 {
		return 0
	}
	return int(float64(n)*float64(f.users)/float64(f.hashed) + 0.5)
}

// pct formats a percentage for prose: whole numbers, "<1%" for small ones.
func pct(p float64) string {
	switch {
	case p == 0:
		return "0%"
	case p < 1:
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

// counts lists families as "md5-crypt 6, phpass 8".
func counts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %s", c.Name, num(c.N))
	}
	return strings.Join(parts, ", ")
}

// names lists families as "md5-crypt and phpass".
func names(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// num formats a count with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// plural picks a noun's form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
