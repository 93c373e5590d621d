package plan

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"provision/engine/plan/advisor"
)

// sample is a validation summary shaped like the bundled demo.
var sample = advisor.Data{
	File: "users.csv", SHA256: strings.Repeat("ab", 32), Rows: 300, Valid: 284, Quarantined: 16, Duplicates: 3,
	Hashes:   map[string]int{"bcrypt": 142, "none": 41, "md5-crypt": 6, "phpass": 8, "pbkdf2": 26},
	Codes:    map[string]int{"EMAIL_INVALID": 2, "USERNAME_LENGTH": 1},
	NoUserID: 28, NoUsername: 176, UsernameMin: 4, UsernameMax: 20, UsernameTooLong: 1,
}

var header = []string{"email", "email_verified", "given_name", "username", "user_id", "password_hash", "password_salt", "signup_source", "Mail Alias"}

func newPlan(t *testing.T, a advisor.Answers, mod ...func(*Inputs)) *Plan {
	t.Helper()
	in := Inputs{Answers: a, Data: sample, Header: header,
		Source: Source{Path: "../exports/users.csv", Format: "csv"},
		Target: Target{Spec: "auth0:acme.eu.auth0.com", Connection: "con_AbCdEfGhIjKlMnOp"}}
	for _, m := range mod {
		m(&in)
	}
	p, _, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var twoStage = advisor.Answers{LegacyStore: true, LegacyOnline: true, DeadlineDays: 150, ActivePercent: 40, Users: 12000, PasswordPolicy: "good"}

func TestPlanRoundTrip(t *testing.T) {
	for _, a := range []advisor.Answers{
		twoStage,
		{LegacyStore: true, FreshStart: true, UsernameRequired: true, UsernameLength: "3-20"},
		{LegacyStore: true, KeepLegacy: true, LegacyOnline: true, LegacyDatabase: "mysql", LegacyTable: "app.members"},
		{LegacyStore: true},
	} {
		p := newPlan(t, a)
		data, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data, "plan.yaml")
		if err != nil {
			t.Fatalf("%s: the plan written does not load: %v\n%s", p.Strategy, err, data)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", p.Strategy, got, p)
		}
		for _, comment := range []string{"# provision plan: how users get into Auth0.", "# The database connection's rules", "excellent: at least 10 characters"} {
			if !strings.Contains(string(data), comment) {
				t.Errorf("%s: the plan lacks the comment %q", p.Strategy, comment)
			}
		}
	}
}

func TestPlanWriteAndLoad(t *testing.T) {
	dir := t.TempDir()
	p := newPlan(t, twoStage)
	path := filepath.Join(dir, FileName)
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir() != dir || got.SourcePath() != filepath.Join(dir, "../exports/users.csv") {
		t.Errorf("dir %q, source path %q: relative paths resolve against the plan's directory", got.Dir(), got.SourcePath())
	}
	if _, err := Load(filepath.Join(dir, "nope.yaml")); err == nil || !strings.Contains(err.Error(), "provision plan --answers") {
		t.Errorf("a missing plan: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	good, err := newPlan(t, twoStage).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("the plan has no %q", old)
		}
		return strings.Replace(string(good), old, new, 1)
	}
	line := func(text, of string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.Contains(l, of) {
				return i + 1
			}
		}
		return 0
	}
	tests := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"newer version", edit("version: 1", "version: 2\nfuture_key: 1"), []string{"plan format version 2 is newer than this provision reads (1): upgrade provision"}},
		{"no version", edit("version: 1", "# version: 1"), []string{"no version"}},
		{"not YAML", "version: 1\nstrategy: [bulk\n", []string{"plan.yaml:"}},
		{"unknown key", edit("  username_min: 1", "  username_minimum: 1"), []string{`plan.yaml:`, `unknown field "username_minimum"`, "docs/plan.md"}},
		{"wrong type", edit("upsert: false", "upsert: maybe"), []string{"plan.yaml:"}},
		{"bad strategy", edit("strategy: automatic-then-bulk", "strategy: lazy"), []string{
			"plan.yaml:7: strategy: strategy \"lazy\": use one of self-signup, proxy, automatic, bulk, automatic-then-bulk"}},
		{"bad size", edit(`size: 10%`, `size: ten`), []string{"stages[1].size: size \"ten\""}},
		{"bad connection", edit("con_AbCdEfGhIjKlMnOp", "Username-Password-Authentication"), []string{"target.connection: \"Username-Password-Authentication\" is not a connection id"}},
		{"bad target", edit("auth0:acme.eu.auth0.com", "auth0:http://acme.auth0.com"), []string{"target.spec", "plain http"}},
		{"bad level", edit("password_strength: good", "password_strength: strong"), []string{"policy.password_strength", "none, low, fair, good, excellent"}},
		{"two problems", strings.Replace(edit("password_history: 5", "password_history: 30"), "password_min_length: 0", "password_min_length: 100", 1),
			[]string{"plan.yaml: 2 problems:", "policy.password_min_length: 100", "policy.password_history: 30"}},
		{"duplicate key", edit("  password_history: 5", "  password_history: 5\n  password_history: 6"), []string{`mapping key "password_history" already defined`}},
		{"bad column", edit("email: email", "email: e-mail"), []string{"legacy.columns.email: column \"e-mail\""}},
		{"bad rest", edit("size: rest", "size: 5"), []string{"the last stage must be rest"}},
		{"bad table", edit("table: users", "table: users;drop"), []string{"legacy.table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text), "plan.yaml")
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	// A value error names the line of its key.
	text := edit("  password_strength: good", "  password_strength: strong")
	_, err = Parse([]byte(text), "plan.yaml")
	if want := "plan.yaml:" + strconv.Itoa(line(text, "password_strength: strong")) + ": policy.password_strength"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to contain %q", err, want)
	}
	// An unknown key too.
	text = edit("  username_min: 1", "  username_minimum: 1")
	_, err = Parse([]byte(text), "plan.yaml")
	if want := "plan.yaml:" + strconv.Itoa(line(text, "username_minimum")) + ":3: unknown field"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to contain %q", err, want)
	}
}

func TestCheckByStrategy(t *testing.T) {
	p := newPlan(t, twoStage)
	tests := []struct {
		name string
		mod  func(*Plan)
		want string
	}{
		{"scripts need a legacy store", func(p *Plan) { p.Legacy = nil }, "legacy: strategy automatic-then-bulk runs custom database scripts"},
		{"imports need stages", func(p *Plan) { p.Stages = nil }, "stages: strategy automatic-then-bulk imports users"},
		{"no import, no stages", func(p *Plan) { p.Strategy = advisor.Automatic }, "stages: strategy automatic imports no users"},
		{"window", func(p *Plan) { p.Legacy.WindowDays = 0 }, "legacy.window_days"},
		{"required columns", func(p *Plan) { delete(p.Legacy.Columns, "password_hash") }, "no column for password_hash"},
		{"unknown column field", func(p *Plan) { p.Legacy.Columns["shoe_size"] = "shoes" }, `unknown field "shoe_size"`},
		{"bad mapping", func(p *Plan) { p.Source.Mapping = map[string]string{"Mail": "e-mail"} }, "source.mapping.Mail"},
		{"username bounds", func(p *Plan) { p.Policy.UsernameMax = 200 }, "Auth0 allows 1 to 128"},
		{"min length", func(p *Plan) { p.Policy.PasswordMinLength = 100 }, "1 to 72"},
		{"hash defaults", func(p *Plan) { p.Hash.Algorithm = "md5-crypt" }, "hash_defaults.algorithm"},
	}
	for _, tt := range tests {
		q := *p
		legacy := *p.Legacy
		legacy.Columns = map[string]string{}
		for k, v := range p.Legacy.Columns {
			legacy.Columns[k] = v
		}
		q.Legacy = &legacy
		tt.mod(&q)
		errs := q.Check()
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), tt.want)
		}
		if !found {
			t.Errorf("%s: errors %v, want one containing %q", tt.name, errs, tt.want)
		}
		if _, err := q.Marshal(); err == nil {
			t.Errorf("%s: an invalid plan was written", tt.name)
		}
	}
	if errs := p.Check(); len(errs) != 0 {
		t.Errorf("the plan made by New has problems: %v", errs)
	}
}

func TestParseAnswers(t *testing.T) {
	good := "legacy_store: true\nlegacy_online: true\ndeadline_days: 60\ntarget: auth0:acme.auth0.com\nstages: canary:20,rest\n"
	a, err := ParseAnswers([]byte(good), "answers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !a.LegacyStore || a.DeadlineDays != 60 || a.Target != "auth0:acme.auth0.com" || a.Stages != "canary:20,rest" {
		t.Errorf("answers %+v", a)
	}
	tests := []struct{ text, want string }{
		{"legacy_store: true\nlegacy_onlin: true\n", `answers.yaml:2:1: unknown field "legacy_onlin"`},
		{"legacy_store: true\nactive_percent: 140\n", "answers.yaml:2: active_percent: 140"},
		{"legacy_store: true\n\npassword_policy: strong\n", "answers.yaml:3: password_policy"},
		{"stages: canary:20\n", "answers.yaml:1: stages: the last stage must be rest"},
		{"strategy: trickle\n", "answers.yaml:1: strategy"},
		{"legacy_table: 'users where 1=1'\n", "answers.yaml:1: legacy_table"},
		{"hash_defaults:\n  encoding: base32\n", "answers.yaml:2: hash_defaults.encoding"},
	}
	for _, tt := range tests {
		if _, err := ParseAnswers([]byte(tt.text), "answers.yaml"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.text, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	if p, _, err := New(Inputs{Answers: twoStage, Data: sample, Header: header, Source: Source{Path: "users.csv"}}); err == nil {
		if data, err := p.Marshal(); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("version: 1\nstrategy: bulk\nsource: {path: x.csv}\nstages: [{name: rest, size: rest}]\n"))
	f.Add([]byte("version: 1\nstrategy: proxy\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "plan.yaml")
		if err != nil {
			return
		}
		// Whatever loads, writes, and loads again the same.
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("a loaded plan does not write: %v", err)
		}
		again, err := Parse(out, "plan.yaml")
		if err != nil {
			t.Fatalf("a written plan does not load: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip differs:\n%+v\n%+v", again, p)
		}
	})
}

func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte("legacy_store: true\nlegacy_online: true\ndeadline_days: 60\nstages: canary:20,rest\n"))
	f.Add([]byte("username_required: true\nusername_length: 3-20\npassword_policy: fair\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(data, "answers.yaml")
		if err != nil {
			return
		}
		// Whatever an answers file says that loads, makes a valid plan.
		in := Inputs{Answers: a.Answers, Target: Target{}, Hash: a.HashDefaults}
		if a.Stages != "" {
			in.Stages, _ = ParseStages(a.Stages)
		}
		if a.Strategy != "" {
			in.Strategy = advisor.Strategy(a.Strategy)
		}
		p, _, err := New(in)
		if err != nil {
			t.Fatalf("answers that load make no plan: %v", err)
		}
		if _, err := p.Marshal(); err != nil {
			t.Fatalf("a plan from loaded answers does not write: %v", err)
		}
	})
}
