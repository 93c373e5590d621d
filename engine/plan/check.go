package plan

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"provision/engine/importuser"
	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/plan/scripts"
	"provision/engine/source"
	"provision/engine/target/auth0"
)

// FieldError is a value in a plan that breaks its rules. Path is the key in
// YAML path form ($.policy.password_strength); Load adds the line.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return strings.TrimPrefix(e.Path, "$.") + ": " + e.Message }

// connectionID is Auth0's pattern for connection ids (docs/auth0.md §2).
var connectionID = regexp.MustCompile(`^con_[A-Za-z0-9]{16}$`)

// requiredScriptFields are the columns the custom database scripts cannot
// do without.
var requiredScriptFields = []string{"user_id", "email", "password_hash"}

// Check applies the plan's rules and returns every broken one, in file
// order.
func (p *Plan) Check() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{path, fmt.Sprintf(format, args...)})
	}
	if _, err := advisor.ParseStrategy(string(p.Strategy)); err != nil {
		add("$.strategy", "%v", err)
	}
	s := p.Strategy

	// source: a plan may be made before the export exists; the commands
	// that read it ask for source.path.
	switch p.Source.Format {
	case "", "csv", "json", "ndjson":
	default:
		add("$.source.format", "%q: use csv, json or ndjson, or leave it out to detect", p.Source.Format)
	}
	if _, ok := delimiter(p.Source.Delimiter); !ok && p.Source.Delimiter != "" {
		add("$.source.delimiter", "%q: use ',', ';', '|' or '\\t', or leave it out to detect", p.Source.Delimiter)
	}
	cols := make([]string, 0, len(p.Source.Mapping))
	for col := range p.Source.Mapping {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		if _, err := source.ParseMapping([]string{col + "=" + p.Source.Mapping[col]}); err != nil {
			add("$.source.mapping."+col, "%v", err)
		}
	}

	// target
	if p.Target.Spec != "" {
		if _, err := auth0.ParseTargetSpec(p.Target.Spec); err != nil {
			add("$.target.spec", "%v", err)
		}
	}
	if p.Target.Connection != "" && !connectionID.MatchString(p.Target.Connection) {
		add("$.target.connection", "%q is not a connection id: Auth0's look like con_ followed by 16 letters and digits (Dashboard > Authentication > Database > the connection's Identifier)", p.Target.Connection)
	}

	errs = append(errs, p.Hash.check("$.hash_defaults")...)

	// policy
	pol := p.Policy
	if _, err := policy.ParseLevel(string(pol.PasswordStrength)); err != nil {
		add("$.policy.password_strength", "%v", err)
	}
	if n := pol.PasswordMinLength; n != 0 && (n < 1 || n > 72) {
		add("$.policy.password_min_length", "%d: Auth0 takes 1 to 72 (bytes), or 0 to keep the level's minimum", n)
	}
	if n := pol.PasswordHistory; n < 0 || n > 24 {
		add("$.policy.password_history", "%d: Auth0 keeps 0 to 24 previous passwords", n)
	}
	if err := policy.CheckLength(pol.UsernameMin, pol.UsernameMax); err != nil {
		add("$.policy.username_min", "%v", err)
	}

	// legacy store, for the scripts
	if s.UsesScripts() {
		if p.Legacy == nil {
			add("$.legacy", "strategy %s runs custom database scripts: describe the legacy store (database, table, columns)", s)
		} else {
			errs = append(errs, p.Legacy.check(s)...)
		}
	}

	// stages
	switch {
	case s.Imports() && len(p.Stages) == 0:
		add("$.stages", "strategy %s imports users: give its stages, e.g. canary 50 with approval, wave 10%%, rest", s)
	case s.Imports():
		if i, err := checkStages(p.Stages); err != nil {
			path := "$.stages"
			if i >= 0 {
				path = fmt.Sprintf("$.stages[%d]", i)
			}
			add(path, "%v", err)
		}
	case len(p.Stages) > 0 && s != "":
		add("$.stages", "strategy %s imports no users: remove the stages", s)
	}

	if err := p.Answers.Check(); err != nil {
		add("$.answers", "%v", err)
	}
	return errs
}

func (h HashDefaults) check(path string) []FieldError {
	var errs []FieldError
	if a := h.Algorithm; a != "" && !slices.Contains(importuser.Algorithms, strings.ToLower(a)) {
		errs = append(errs, FieldError{path + ".algorithm", fmt.Sprintf("%q: use one of Auth0's algorithms (%s), or leave it empty", a, strings.Join(importuser.Algorithms, ", "))})
	}
	switch strings.ToLower(h.SaltPosition) {
	case "", "prefix", "suffix":
	default:
		errs = append(errs, FieldError{path + ".salt_position", fmt.Sprintf("%q: use prefix or suffix", h.SaltPosition)})
	}
	switch strings.ToLower(h.Encoding) {
	case "", "hex", "base64", "utf8":
	default:
		errs = append(errs, FieldError{path + ".encoding", fmt.Sprintf("%q: use hex, base64 or utf8", h.Encoding)})
	}
	return errs
}

func (l *Legacy) check(s advisor.Strategy) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{path, fmt.Sprintf(format, args...)})
	}
	switch l.Database {
	case advisor.PostgreSQL, advisor.MySQL:
	default:
		add("$.legacy.database", "%q: use postgresql or mysql", l.Database)
	}
	if err := advisor.CheckIdentifier(l.Table); err != nil {
		add("$.legacy.table", "%v", err)
	}
	fields := make([]string, 0, len(l.Columns))
	for f := range l.Columns {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		switch {
		case !slices.Contains(scripts.Fields, f):
			add("$.legacy.columns."+f, "unknown field %q: the scripts read %s", f, strings.Join(scripts.Fields, ", "))
		case !plainIdentifier(l.Columns[f]):
			add("$.legacy.columns."+f, "column %q: use letters, digits and _ (not starting with a digit)", l.Columns[f])
		}
	}
	for _, f := range requiredScriptFields {
		if l.Columns[f] == "" {
			add("$.legacy.columns", "no column for %s: the scripts need user_id, email and password_hash", f)
		}
	}
	if s == advisor.AutomaticThenBulk && l.WindowDays < 1 {
		add("$.legacy.window_days", "%d: give the days of automatic migration before the bulk phase (e.g. 90)", l.WindowDays)
	}
	return errs
}

func plainIdentifier(s string) bool {
	return s != "" && !strings.Contains(s, ".") && advisor.CheckIdentifier(s) == nil
}
