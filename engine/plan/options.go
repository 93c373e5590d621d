package plan

import (
	"fmt"
	"os"
	"path/filepath"

	"provision/engine/plan/advisor"
	"provision/engine/plan/scripts"
)

// ScriptsDir is where a workspace keeps the custom database scripts, and
// FinishDir the no-op scripts for after the bulk phase.
const (
	ScriptsDir = "scripts"
	FinishDir  = "scripts/after-bulk"
	// BulkPhaseDir is the bulk phase's workspace beside the plan, which
	// provision remaining writes after automatic migration.
	BulkPhaseDir = "bulk-phase"
)

// ConnectionOptions are the database connection's options this plan asks
// for, named as Auth0's Management API names them (docs/auth0.md §5, §4), ready
// to merge into the connection's current options. customScripts holds the
// given scripts (name -> source) for strategies that use them.
func (p *Plan) ConnectionOptions(custom map[string]string) map[string]any {
	pol := p.Policy
	o := map[string]any{
		"passwordPolicy":            string(pol.PasswordStrength),
		"password_history":          map[string]any{"enable": pol.PasswordHistory > 0, "size": pol.PasswordHistory},
		"password_dictionary":       map[string]any{"enable": pol.PasswordDictionary},
		"password_no_personal_info": map[string]any{"enable": pol.PasswordNoPersonalInfo},
		"brute_force_protection":    pol.BruteForceProtection,
		"requires_username":         pol.UsernameRequired,
		"validation":                map[string]any{"username": map[string]any{"min": pol.UsernameMin, "max": pol.UsernameMax}},
		"disable_signup":            pol.DisableSignup,
	}
	if pol.PasswordMinLength > 0 {
		o["password_complexity_options"] = map[string]any{"min_length": pol.PasswordMinLength}
	}
	if p.Strategy.UsesScripts() {
		o["enabledDatabaseCustomization"] = true
		// Import mode is what makes the scripts migrate users rather than
		// proxy them.
		o["import_mode"] = p.Strategy != advisor.Proxy
		if len(custom) > 0 {
			cs := map[string]any{}
			for name, src := range custom {
				cs[name] = src
			}
			o["customScripts"] = cs
		}
	}
	return o
}

// ScriptConfig is what the custom database scripts are written from.
func (p *Plan) ScriptConfig() (scripts.Config, error) {
	if p.Legacy == nil {
		return scripts.Config{}, fmt.Errorf("strategy %s uses no custom database scripts", p.Strategy)
	}
	return scripts.Config{
		Database:     p.Legacy.Database,
		Table:        p.Legacy.Table,
		Columns:      p.Legacy.Columns,
		Proxy:        p.Strategy == advisor.Proxy,
		HashDefaults: p.Hash.Input(),
		Families:     p.Data.Hashes,
	}, nil
}

// Scripts are the custom database scripts as they stand in the plan's
// workspace (ScriptsDir beside the plan), where a consultant may have
// adapted them; they are read, not written again. Nil when the strategy
// uses none.
func (p *Plan) Scripts() (map[string]string, error) {
	if !p.Strategy.UsesScripts() {
		return nil, nil
	}
	cfg, err := p.ScriptConfig()
	if err != nil {
		return nil, err
	}
	want, err := scripts.Generate(cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range want {
		path := filepath.Join(p.dir, ScriptsDir, s.FileName())
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("custom database script %s: %w (write it again with provision plan, or restore it)", path, err)
		}
		out[s.Name] = string(src)
	}
	return out, nil
}
