// Package plan is the rollout plan: which strategy brings the users into
// Auth0, from which source, into which connection, under which policies,
// in which stages. A plan is a YAML file (plan.yaml) that provision writes
// with comments, a consultant may edit, and every later command reads:
// apply (the connection's options), the staged executor (source, stages,
// gates), remaining and report.
//
// Loading is strict: an unknown key, a value of the wrong type or a value
// outside its rules is an error that names the file, line and key, and says
// what to write instead. A plan from a newer provision is refused rather
// than half understood. A plan never holds a secret: client credentials and
// the legacy database's password live in the environment, a 0600 file or
// the connection's own settings.
//
// The package also writes a planning workspace (New, WriteWorkspace): the
// plan, the recommendation and each strategy's artifacts, and the
// consultant's report (WriteReport).
package plan

import (
	"path/filepath"

	"provision/engine/hashes"
	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/source"
)

// Version is the plan format this provision writes and reads. Readers
// refuse newer versions.
const Version = 1

// Plan is a loaded (or newly made) plan.
type Plan struct {
	Version  int
	Strategy advisor.Strategy
	Source   Source
	Target   Target
	Hash     HashDefaults
	Policy   Policy
	// Legacy describes the legacy store for the custom database scripts;
	// only strategies that use scripts need it.
	Legacy *Legacy
	// Stages of the bulk import, for strategies that import.
	Stages []StagePlan
	// Upsert updates users who already exist instead of failing them.
	Upsert bool
	// SendCompletionEmail asks Auth0 to e-mail the tenant's administrators
	// after each import job.
	SendCompletionEmail bool
	// Answers and Data are what the recommendation was made from, so the
	// report can be written again from the plan alone.
	Answers advisor.Answers
	Data    advisor.Data

	// dir is the directory of the plan file; relative paths in the plan
	// are relative to it.
	dir string
}

// Source is the legacy export a migration reads.
type Source struct {
	// Path is relative to the plan file's directory, or absolute.
	Path      string `yaml:"path"`
	Format    string `yaml:"format,omitempty"`    // csv, json, ndjson; empty: detect
	Delimiter string `yaml:"delimiter,omitempty"` // CSV: , ; | or \t; empty: detect
	// Mapping maps a source column to an Auth0 field (source.Fields), or
	// to "-" to ignore it.
	Mapping map[string]string `yaml:"mapping,omitempty"`
}

// Target is where users go. Credentials are never part of it.
type Target struct {
	// Spec is auth0:TENANT.auth0.com or auth0:http://127.0.0.1:8787.
	Spec string `yaml:"spec"`
	// Connection is the database connection's id (con_...).
	Connection string `yaml:"connection"`
}

// HashDefaults describe password hashes for exports whose rows do not: they
// fill password_algorithm, password_salt, salt_position and
// password_encoding where a row leaves them empty.
type HashDefaults struct {
	Algorithm    string `yaml:"algorithm"`
	Salt         string `yaml:"salt"`
	SaltPosition string `yaml:"salt_position"`
	Encoding     string `yaml:"encoding"`
}

// Policy is the database connection's sign-up rules (docs/auth0.md §5).
type Policy struct {
	PasswordStrength policy.Level `yaml:"password_strength"`
	// PasswordMinLength overrides the level's minimum; 0 keeps it.
	PasswordMinLength int `yaml:"password_min_length"`
	// PasswordHistory is how many previous passwords may not be reused
	// (0 turns the check off; at most 24).
	PasswordHistory        int  `yaml:"password_history"`
	PasswordDictionary     bool `yaml:"password_dictionary"`
	PasswordNoPersonalInfo bool `yaml:"password_no_personal_info"`
	BruteForceProtection   bool `yaml:"brute_force_protection"`
	UsernameRequired       bool `yaml:"username_required"`
	UsernameMin            int  `yaml:"username_min"`
	UsernameMax            int  `yaml:"username_max"`
	DisableSignup          bool `yaml:"disable_signup"`
}

// Legacy is the legacy store, as the custom database scripts reach it. The
// connection string is not here: the scripts read it from the connection's
// settings (configuration.LEGACY_DB_URL).
type Legacy struct {
	Database string `yaml:"database"` // postgresql or mysql
	Table    string `yaml:"table"`
	// Columns maps an Auth0 field (user_id, email, password_hash, ...) to
	// the legacy table's column.
	Columns map[string]string `yaml:"columns"`
	// WindowDays is how long automatic migration runs before the bulk
	// phase (automatic-then-bulk).
	WindowDays int `yaml:"window_days,omitempty"`
}

// Users is how many users the plan is sized for: the answered count, else
// the sample's importable rows.
func (p *Plan) Users() int {
	if p.Answers.Users > 0 {
		return p.Answers.Users
	}
	return p.Data.Valid
}

// Dir is the directory relative paths in the plan are relative to.
func (p *Plan) Dir() string { return p.dir }

// SetDir sets the directory relative paths are relative to, for a plan made
// in memory and about to be written there.
func (p *Plan) SetDir(dir string) { p.dir = dir }

// SourcePath is the source's path, resolved against the plan's directory;
// empty when the plan names no source yet.
func (p *Plan) SourcePath() string {
	if p.Source.Path == "" || filepath.IsAbs(p.Source.Path) {
		return p.Source.Path
	}
	return filepath.Join(p.dir, p.Source.Path)
}

// SourceOptions are the options to open the source with.
func (p *Plan) SourceOptions() source.Options {
	o := source.Options{Format: source.Format(p.Source.Format), Mapping: p.Source.Mapping}
	if d, ok := delimiter(p.Source.Delimiter); ok {
		o.Delimiter = d
	}
	return o
}

// Input is the hash defaults as validation takes them.
func (h HashDefaults) Input() hashes.Input {
	return hashes.Input{Algorithm: h.Algorithm, Salt: h.Salt, SaltPosition: h.SaltPosition, Encoding: h.Encoding}
}

// Username is the connection's username rule.
func (p *Plan) Username() policy.Username {
	return policy.Username{Required: p.Policy.UsernameRequired, Min: p.Policy.UsernameMin, Max: p.Policy.UsernameMax}
}

// delimiter reads a CSV delimiter as written in a plan.
func delimiter(s string) (rune, bool) {
	switch s {
	case ",", ";", "|":
		return rune(s[0]), true
	case "\t", `\t`, "tab":
		return '\t', true
	}
	return 0, false
}
