package plan

import (
	"fmt"
	"slices"
	"strings"

	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/plan/scripts"
)

// Inputs are what a new plan is made from.
type Inputs struct {
	Answers advisor.Answers
	// Data summarises the validated sample (zero when there is none).
	Data advisor.Data
	// Source is the export as the plan will name it: Path relative to the
	// plan's directory.
	Source Source
	// Header is the source's CSV header, from which the legacy table's
	// column names are guessed; nil for JSON sources.
	Header []string
	Target Target
	Hash   HashDefaults
	// Stages overrides the default stages of strategies that import.
	Stages []StagePlan
	// Strategy overrides the recommendation; empty takes it.
	Strategy advisor.Strategy
}

// New makes a plan from the answers and the data: it asks the advisor,
// then fills in what the chosen strategy needs. The recommendation comes
// back with it, for the report.
func New(in Inputs) (*Plan, advisor.Recommendation, error) {
	if err := in.Answers.Check(); err != nil {
		return nil, advisor.Recommendation{}, fmt.Errorf("answers: %w", err)
	}
	rec := advisor.Advise(in.Answers, in.Data)
	s := rec.Strategy
	if in.Strategy != "" {
		s = in.Strategy
	}
	level, _ := in.Answers.Level()
	user, _ := in.Answers.Username()
	p := &Plan{
		Version:  Version,
		Strategy: s,
		Source:   in.Source,
		Target:   in.Target,
		Hash:     in.Hash,
		Policy: Policy{
			PasswordStrength:       level,
			PasswordHistory:        historyFor(level),
			PasswordDictionary:     atLeast(level, policy.Fair),
			PasswordNoPersonalInfo: atLeast(level, policy.Fair),
			BruteForceProtection:   true,
			UsernameRequired:       user.Required,
			UsernameMin:            user.Min,
			UsernameMax:            user.Max,
		},
		Answers: in.Answers,
		Data:    in.Data,
	}
	if s.Imports() {
		p.Stages = in.Stages
		if p.Stages == nil {
			p.Stages = DefaultStages(p.Users())
		}
	}
	if s.UsesScripts() {
		p.Legacy = &Legacy{
			Database: in.Answers.Database(),
			Table:    in.Answers.Table(),
			Columns:  LegacyColumns(in.Header, in.Source.Mapping),
		}
		if s == advisor.AutomaticThenBulk {
			p.Legacy.WindowDays = rec.WindowDays
			if p.Legacy.WindowDays == 0 {
				p.Legacy.WindowDays = advisor.DefaultWindowDays
			}
		}
	}
	if errs := p.Check(); len(errs) > 0 {
		return nil, rec, fmt.Errorf("the plan made from these answers is not valid: %w", joinFields(errs))
	}
	return p, rec, nil
}

func joinFields(errs []FieldError) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

// historyFor keeps the last 5 passwords from reuse at the stronger levels.
func historyFor(l policy.Level) int {
	if atLeast(l, policy.Good) {
		return 5
	}
	return 0
}

func atLeast(l, floor policy.Level) bool {
	return slices.Index(policy.Levels, l) >= slices.Index(policy.Levels, floor)
}

// LegacyColumns guesses the legacy table's columns from the export: an
// export is usually a dump of that table, so each field's column is the
// header cell that maps to it (through mapping, or by its name). The
// fields the scripts cannot do without get their own name, or "id" for
// user_id, when the header has none.
func LegacyColumns(header []string, mapping map[string]string) map[string]string {
	cols := map[string]string{}
	for _, cell := range header {
		name := strings.TrimSpace(cell)
		field := strings.ToLower(name)
		for col, f := range mapping {
			if strings.EqualFold(strings.TrimSpace(col), name) {
				field = strings.ToLower(f)
			}
		}
		if slices.Contains(scripts.Fields, field) && plainIdentifier(name) {
			if _, dup := cols[field]; !dup {
				cols[field] = name
			}
		}
	}
	for _, f := range requiredScriptFields {
		if cols[f] == "" {
			cols[f] = f
			if f == "user_id" {
				cols[f] = "id"
			}
		}
	}
	return cols
}
