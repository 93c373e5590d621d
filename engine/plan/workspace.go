package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"provision/engine/atomicfile"
	"provision/engine/plan/advisor"
	"provision/engine/plan/scripts"
)

// Files a planning workspace holds besides the plan.
const (
	RecommendationFile    = "recommendation.md"
	ConnectionOptionsFile = "connection-options.json"
	PolicyCheckFile       = "policy-check.md"
)

// WorkspaceOptions tune WriteWorkspace.
type WorkspaceOptions struct {
	// Force replaces a plan already in the directory.
	Force bool
}

// WriteWorkspace writes the plan into dir with everything its strategy
// needs: recommendation.md (the report), connection-options.json, the
// custom database scripts, and for self sign-up the policy check. It
// returns the files written, relative to dir. None of them holds a secret
// or a user's data, so they are readable (0644) in a private (0700)
// directory.
func WriteWorkspace(dir string, p *Plan, o WorkspaceOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the plan's directory: %w", err)
	}
	planPath := filepath.Join(dir, FileName)
	if _, err := os.Stat(planPath); err == nil && !o.Force {
		return nil, fmt.Errorf("%s already exists: write to another --out directory, or replace it with --force", planPath)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	p.SetDir(dir)
	var written []string
	write := func(name string, data []byte) error {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		written = append(written, name)
		return nil
	}

	var custom map[string]string
	if p.Strategy.UsesScripts() {
		cfg, err := p.ScriptConfig()
		if err != nil {
			return nil, err
		}
		list, err := scripts.Generate(cfg)
		if err != nil {
			return nil, fmt.Errorf("custom database scripts: %w", err)
		}
		custom = map[string]string{}
		for _, s := range list {
			custom[s.Name] = s.Source
			if err := write(filepath.Join(ScriptsDir, s.FileName()), []byte(s.Source)); err != nil {
				return nil, err
			}
		}
		if p.Strategy == advisor.AutomaticThenBulk {
			for _, s := range scripts.Finish() {
				if err := write(filepath.Join(FinishDir, s.FileName()), []byte(s.Source)); err != nil {
					return nil, err
				}
			}
		}
	}
	opts, err := json.MarshalIndent(map[string]any{"options": p.ConnectionOptions(custom)}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := write(ConnectionOptionsFile, append(opts, '\n')); err != nil {
		return nil, err
	}
	if p.Strategy == advisor.SelfSignup {
		var b bytes.Buffer
		if err := WritePolicyCheck(&b, p); err != nil {
			return nil, err
		}
		if err := write(PolicyCheckFile, b.Bytes()); err != nil {
			return nil, err
		}
	}
	data, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	if err := write(FileName, data); err != nil {
		return nil, err
	}
	var rep bytes.Buffer
	if err := WriteReport(&rep, p, ReportOptions{}); err != nil {
		return nil, err
	}
	if err := write(RecommendationFile, rep.Bytes()); err != nil {
		return nil, err
	}
	return written, nil
}

// WritePolicyCheck writes the policy section of the report on its own: the
// connection's rules and how the sample fares against them.
func WritePolicyCheck(w io.Writer, p *Plan) error {
	r := &report{w: w}
	r.policy(p, "# Policy check")
	return r.err
}
