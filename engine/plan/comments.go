package plan

import (
	"fmt"

	"github.com/goccy/go-yaml"

	"provision/engine/plan/policy"
)

// comments documents the plan inside the file, so that someone editing it
// needs nothing else open. Keys are YAML paths.
func (p *Plan) comments() yaml.CommentMap {
	head := func(lines ...string) []*yaml.Comment { return []*yaml.Comment{yaml.HeadComment(prefix(lines)...)} }
	line := func(text string) []*yaml.Comment { return []*yaml.Comment{yaml.LineComment(" " + text)} }
	levels := []string{"The database connection's rules; provision apply sets them. password_strength is one of:"}
	for _, l := range policy.Levels {
		levels = append(levels, fmt.Sprintf("  %-10s %s", string(l)+":", l.Rule()))
	}
	cm := yaml.CommentMap{
		"$.version": head(
			"provision plan: how users get into Auth0.",
			"Written by provision plan. Edit it freely, then check it with: provision report --plan plan.yaml",
			"It holds no secrets: client credentials come from AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET (or a",
			"0600 file), and the legacy database's URL from the connection's settings.",
		),
		"$.strategy": head(
			"self-signup | proxy | automatic | bulk | automatic-then-bulk (recommendation.md says why).",
		),
		"$.source": head("The legacy export the migration reads. path is relative to this file."),
		"$.target": head(
			"Where users go: spec is auth0:TENANT.auth0.com, or auth0:http://127.0.0.1:8787 for the local",
			"sandbox; connection is the database connection's id (con_...). provision apply needs both.",
		),
		"$.hash_defaults": head(
			"For exports whose rows do not describe their password hashes: used where a row's",
			"password_algorithm, password_salt, salt_position or password_encoding is empty.",
		),
		"$.policy":                           head(levels...),
		"$.policy.password_min_length":       line("0 keeps the level's minimum; at most 72"),
		"$.policy.password_history":          line("previous passwords that may not be reused; 0 turns it off; at most 24"),
		"$.policy.password_dictionary":       line("refuse Auth0's list of 10,000 common passwords"),
		"$.policy.password_no_personal_info": line("refuse passwords containing the name, username or email"),
		"$.policy.brute_force_protection":    line("block an IP after 10 failed logins to one account"),
		"$.policy.username_min":              line("validation.username: 1 to 128 characters"),
		"$.policy.disable_signup":            line("true: only imports and the Management API create users"),
		"$.upsert":                           head("true: update users who already exist instead of failing them (slower; overwrites metadata)."),
		"$.send_completion_email":            line("Auth0 e-mails every tenant administrator after each import job"),
		"$.answers": head(
			"What the recommendation was made from: the answers, and the sample's validation counts",
			"(never user data). provision report reads them.",
		),
	}
	if p.Legacy != nil {
		cm["$.legacy"] = head(
			"The legacy store, as the custom database scripts (scripts/*.js) reach it. The scripts read its URL",
			"from the connection's settings as LEGACY_DB_URL: set it in the Dashboard, never here.",
		)
		cm["$.legacy.columns"] = head("Auth0 field: the legacy table's column (taken from the export's header; match the table).")
		if p.Legacy.WindowDays > 0 {
			cm["$.legacy.window_days"] = line("days of automatic migration before the bulk phase")
		}
	}
	if len(p.Stages) > 0 {
		cm["$.stages"] = head(
			"The bulk import's stages, in order. size: a number of users, a share of all users (10%), or rest",
			"(the last stage, everyone left). After each stage, the run stops if more than max_failure_rate of",
			"its users failed, and waits for an operator when approve is true.",
			"The same in short, as --stages takes it: "+FormatStages(p.Stages),
		)
	}
	return cm
}

// prefix puts a space after each comment's #.
func prefix(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = " " + l
	}
	return out
}
