package plan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"provision/engine/atomicfile"
	"provision/engine/plan/advisor"
)

// FileName is the plan's name in a workspace.
const FileName = "plan.yaml"

// fileModel is the plan as it is laid out in YAML, in the order a reader
// meets it: the stages are written with a size ("50", "10%", "rest")
// rather than three exclusive fields.
type fileModel struct {
	Version             int              `yaml:"version"`
	Strategy            advisor.Strategy `yaml:"strategy"`
	Source              Source           `yaml:"source"`
	Target              Target           `yaml:"target"`
	Hash                HashDefaults     `yaml:"hash_defaults"`
	Policy              Policy           `yaml:"policy"`
	Legacy              *Legacy          `yaml:"legacy,omitempty"`
	Stages              []stageYAML      `yaml:"stages,omitempty"`
	Upsert              bool             `yaml:"upsert"`
	SendCompletionEmail bool             `yaml:"send_completion_email"`
	Answers             advisor.Answers  `yaml:"answers"`
	Data                advisor.Data     `yaml:"data"`
}

type stageYAML struct {
	Name           string   `yaml:"name"`
	Size           string   `yaml:"size"`
	MaxFailureRate *float64 `yaml:"max_failure_rate,omitempty"`
	Approve        bool     `yaml:"approve"`
}

// Load reads and checks the plan at path.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("plan %s does not exist: write one with provision plan --answers answers.yaml --sample export.csv", path)
		}
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	p.dir = filepath.Dir(path)
	return p, nil
}

// Parse reads and checks a plan; name is the file's name for errors.
func Parse(data []byte, name string) (*Plan, error) {
	// The version decides how the rest is read, so it is read first and
	// leniently: a newer plan's unknown keys must not hide its version.
	var head struct {
		Version int `yaml:"version"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, yamlError(name, err)
	}
	switch {
	case head.Version == 0:
		return nil, fmt.Errorf("%s: no version: a plan starts with version: %d (is this a plan file?)", name, Version)
	case head.Version > Version:
		return nil, fmt.Errorf("%s: plan format version %d is newer than this provision reads (%d): upgrade provision", name, head.Version, Version)
	case head.Version < 0:
		return nil, fmt.Errorf("%s: version %d: write version: %d", name, head.Version, Version)
	}

	var m fileModel
	if err := yaml.UnmarshalWithOptions(data, &m, yaml.DisallowUnknownField()); err != nil {
		return nil, yamlError(name, err)
	}
	p := Plan{
		Version: m.Version, Strategy: m.Strategy, Source: m.Source, Target: m.Target, Hash: m.Hash,
		Policy: m.Policy, Legacy: m.Legacy, Upsert: m.Upsert, SendCompletionEmail: m.SendCompletionEmail,
		Answers: m.Answers, Data: m.Data,
	}
	var errs []FieldError
	for i, s := range m.Stages {
		st := StagePlan{Name: s.Name, Approve: s.Approve, MaxFailureRate: DefaultMaxFailureRate}
		if s.MaxFailureRate != nil {
			st.MaxFailureRate = *s.MaxFailureRate
		}
		var err error
		if st.Count, st.Percent, st.Rest, err = ParseSize(s.Size); err != nil {
			errs = append(errs, FieldError{fmt.Sprintf("$.stages[%d].size", i), err.Error()})
		}
		p.Stages = append(p.Stages, st)
	}
	if len(errs) == 0 {
		errs = p.Check()
	}
	if len(errs) > 0 {
		return nil, positioned(name, data, errs)
	}
	return &p, nil
}

// yamlError words a decoding error as file:line:column: message.
func yamlError(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		msg := ye.GetMessage()
		if strings.HasPrefix(msg, "unknown field") {
			msg += ": check the spelling and the section (docs/plan.md lists every key)"
		}
		return fmt.Errorf("%s:%d:%d: %s", name, pos.Line, pos.Column, msg)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// positioned turns field errors into one error, each line prefixed with the
// file and the line of the key at fault (or its nearest parent present).
func positioned(name string, data []byte, errs []FieldError) error {
	file, _ := parser.ParseBytes(data, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s:", name, len(errs), pluralWord(len(errs), "problem", "problems"))
	for _, e := range errs {
		b.WriteString("\n  ")
		if line := lineOf(file, e.Path); line > 0 {
			fmt.Fprintf(&b, "%s:%d: ", name, line)
		} else {
			fmt.Fprintf(&b, "%s: ", name)
		}
		b.WriteString(e.Error())
	}
	return &PlanError{File: name, Fields: errs, msg: b.String()}
}

// PlanError is a plan that breaks its rules.
type PlanError struct {
	File   string
	Fields []FieldError
	msg    string
}

func (e *PlanError) Error() string { return e.msg }

// lineOf finds the line of the node at path, trying its parents when the
// key is absent from the file.
func lineOf(file *ast.File, path string) int {
	if file == nil {
		return 0
	}
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil {
			if n, err := p.FilterFile(file); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Marshal writes the plan as commented YAML. It checks the plan first: a
// plan that would not load is not written.
func (p *Plan) Marshal() ([]byte, error) {
	if errs := p.Check(); len(errs) > 0 {
		return nil, errors.Join(asErrors(errs)...)
	}
	m := fileModel{
		Version: Version, Strategy: p.Strategy, Source: p.Source, Target: p.Target, Hash: p.Hash,
		Policy: p.Policy, Legacy: p.Legacy, Upsert: p.Upsert, SendCompletionEmail: p.SendCompletionEmail,
		Answers: p.Answers, Data: p.Data,
	}
	for _, s := range p.Stages {
		rate := s.MaxFailureRate
		m.Stages = append(m.Stages, stageYAML{Name: s.Name, Size: s.Size(), MaxFailureRate: &rate, Approve: s.Approve})
	}
	out, err := yaml.MarshalWithOptions(m, yaml.IndentSequence(true), yaml.WithComment(p.comments()))
	if err != nil {
		return nil, fmt.Errorf("write plan: %w", err)
	}
	return append(bytes.TrimRight(out, "\n"), '\n'), nil
}

// Write writes the plan to path (mode 0644: a plan holds no secrets and no
// user data), replacing the file only once the new one is complete.
func (p *Plan) Write(path string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

func asErrors(fs []FieldError) []error {
	out := make([]error, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}
