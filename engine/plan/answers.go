package plan

import (
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"

	"provision/engine/plan/advisor"
)

// AnswersFile is an answers file for headless planning: the advisor's
// questions by their keys (advisor.Questions), plus what a plan needs that
// is not a question.
type AnswersFile struct {
	advisor.Answers `yaml:",inline"`
	// Target and Connection name the tenant and database connection.
	Target     string `yaml:"target,omitempty"`
	Connection string `yaml:"connection,omitempty"`
	// Stages overrides the default stages, in the compact form
	// (canary:50:approve,wave:10%,rest).
	Stages string `yaml:"stages,omitempty"`
	// Strategy overrides the recommendation.
	Strategy string `yaml:"strategy,omitempty"`
	// HashDefaults describe hashes for exports whose rows do not.
	HashDefaults HashDefaults `yaml:"hash_defaults,omitempty"`
}

// LoadAnswers reads an answers file strictly: an unknown key or a value
// that cannot be used is an error naming its line.
func LoadAnswers(path string) (*AnswersFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read answers: %w", err)
	}
	return ParseAnswers(data, path)
}

// ParseAnswers reads an answers file's content; name is for errors.
func ParseAnswers(data []byte, name string) (*AnswersFile, error) {
	var a AnswersFile
	if err := yaml.UnmarshalWithOptions(data, &a, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	var errs []FieldError
	var ae *advisor.AnswerError
	if err := a.Answers.Check(); errors.As(err, &ae) {
		errs = append(errs, FieldError{"$." + ae.Key, ae.Message})
	}
	if a.Strategy != "" {
		s, err := advisor.ParseStrategy(a.Strategy)
		if err != nil {
			errs = append(errs, FieldError{"$.strategy", err.Error()})
		}
		a.Strategy = string(s)
	}
	errs = append(errs, a.HashDefaults.check("$.hash_defaults")...)
	if a.Stages != "" {
		if _, err := ParseStages(a.Stages); err != nil {
			errs = append(errs, FieldError{"$.stages", err.Error()})
		}
	}
	if len(errs) > 0 {
		return nil, positioned(name, data, errs)
	}
	return &a, nil
}
