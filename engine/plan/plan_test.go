package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"provision/engine/plan/advisor"
	"provision/engine/plan/scripts"
)

var byStrategy = map[advisor.Strategy]advisor.Answers{
	advisor.SelfSignup:        {LegacyStore: true, FreshStart: true, PasswordPolicy: "excellent", UsernameRequired: true, UsernameLength: "3-20"},
	advisor.Proxy:             {LegacyStore: true, KeepLegacy: true, LegacyOnline: true, LegacyDatabase: "mysql", LegacyTable: "app.members"},
	advisor.Automatic:         {LegacyStore: true, LegacyOnline: true, ActivePercent: 60},
	advisor.Bulk:              {LegacyStore: true, Users: 5000},
	advisor.AutomaticThenBulk: twoStage,
}

func TestNew(t *testing.T) {
	for s, a := range byStrategy {
		t.Run(string(s), func(t *testing.T) {
			p := newPlan(t, a)
			if p.Strategy != s {
				t.Fatalf("strategy %s, want %s", p.Strategy, s)
			}
			if (p.Legacy != nil) != s.UsesScripts() {
				t.Errorf("legacy section %+v for %s", p.Legacy, s)
			}
			if (len(p.Stages) > 0) != s.Imports() {
				t.Errorf("stages %+v for %s", p.Stages, s)
			}
			if !reflect.DeepEqual(p.Answers, a) || !reflect.DeepEqual(p.Data, sample) {
				t.Error("the plan must keep the answers and data it was made from")
			}
		})
	}
	p := newPlan(t, byStrategy[advisor.AutomaticThenBulk])
	if p.Legacy.WindowDays != 90 || p.Legacy.Table != "users" || p.Legacy.Database != "postgresql" {
		t.Errorf("legacy %+v", p.Legacy)
	}
	if got := FormatStages(p.Stages); got != "canary:100:approve,wave:10%,rest" {
		t.Errorf("stages for 12,000 users: %s", got)
	}
	if p.Policy.PasswordHistory != 5 || !p.Policy.PasswordDictionary || !p.Policy.BruteForceProtection {
		t.Errorf("policy for good: %+v", p.Policy)
	}

	// The operator's choices win over the advisor's.
	stages, _ := ParseStages("first:10:approve,rest")
	p = newPlan(t, byStrategy[advisor.AutomaticThenBulk], func(in *Inputs) { in.Strategy = advisor.Bulk; in.Stages = stages })
	if p.Strategy != advisor.Bulk || p.Legacy != nil || FormatStages(p.Stages) != "first:10:approve,rest" {
		t.Errorf("overrides ignored: %s, %+v, %s", p.Strategy, p.Legacy, FormatStages(p.Stages))
	}
	if _, _, err := New(Inputs{Answers: advisor.Answers{ActivePercent: 300}}); err == nil || !strings.Contains(err.Error(), "active_percent") {
		t.Errorf("bad answers: %v", err)
	}
}

func TestLegacyColumns(t *testing.T) {
	got := LegacyColumns([]string{"Mail Address", "mail", "pw", "user_id", "Username", "signup_source", "email_verified"},
		map[string]string{"mail": "email", "PW": "password_hash"})
	want := map[string]string{"email": "mail", "password_hash": "pw", "user_id": "user_id", "username": "Username", "email_verified": "email_verified"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// Without a header (a JSON export), the required fields get their
	// usual names.
	if got := LegacyColumns(nil, nil); !reflect.DeepEqual(got, map[string]string{"user_id": "id", "email": "email", "password_hash": "password_hash"}) {
		t.Errorf("no header: %v", got)
	}
}

func TestConnectionOptions(t *testing.T) {
	custom := map[string]string{"login": "function login() {}"}
	tests := []struct {
		strategy advisor.Strategy
		want     map[string]any // a subset
		absent   []string
	}{
		{advisor.SelfSignup, map[string]any{"passwordPolicy": "excellent", "requires_username": true,
			"validation": map[string]any{"username": map[string]any{"min": 3, "max": 20}}, "brute_force_protection": true},
			[]string{"enabledDatabaseCustomization", "import_mode", "customScripts"}},
		{advisor.Proxy, map[string]any{"enabledDatabaseCustomization": true, "import_mode": false, "customScripts": map[string]any{"login": "function login() {}"}}, nil},
		{advisor.Automatic, map[string]any{"enabledDatabaseCustomization": true, "import_mode": true}, nil},
		{advisor.AutomaticThenBulk, map[string]any{"import_mode": true, "password_history": map[string]any{"enable": true, "size": 5}}, nil},
		{advisor.Bulk, map[string]any{"passwordPolicy": "good"}, []string{"enabledDatabaseCustomization", "import_mode", "customScripts", "password_complexity_options"}},
	}
	for _, tt := range tests {
		o := newPlan(t, byStrategy[tt.strategy]).ConnectionOptions(custom)
		for k, v := range tt.want {
			if !reflect.DeepEqual(o[k], v) {
				t.Errorf("%s: %s = %#v, want %#v", tt.strategy, k, o[k], v)
			}
		}
		for _, k := range tt.absent {
			if _, ok := o[k]; ok {
				t.Errorf("%s: %s set, but the strategy does not touch it", tt.strategy, k)
			}
		}
	}
	p := newPlan(t, byStrategy[advisor.Bulk])
	p.Policy.PasswordMinLength = 12
	if o := p.ConnectionOptions(nil); !reflect.DeepEqual(o["password_complexity_options"], map[string]any{"min_length": 12}) {
		t.Errorf("min length: %v", o["password_complexity_options"])
	}
}

func TestWriteWorkspace(t *testing.T) {
	want := map[advisor.Strategy][]string{
		advisor.SelfSignup: {"connection-options.json", "policy-check.md", "plan.yaml", "recommendation.md"},
		advisor.Proxy: {"scripts/login.js", "scripts/get_user.js", "scripts/create.js", "scripts/verify.js",
			"scripts/change_password.js", "scripts/delete.js", "connection-options.json", "plan.yaml", "recommendation.md"},
		advisor.Automatic: {"scripts/login.js", "scripts/get_user.js", "connection-options.json", "plan.yaml", "recommendation.md"},
		advisor.Bulk:      {"connection-options.json", "plan.yaml", "recommendation.md"},
		advisor.AutomaticThenBulk: {"scripts/login.js", "scripts/get_user.js", "scripts/after-bulk/login.js", "scripts/after-bulk/get_user.js",
			"connection-options.json", "plan.yaml", "recommendation.md"},
	}
	for s, files := range want {
		t.Run(string(s), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plan")
			p := newPlan(t, byStrategy[s])
			got, err := WriteWorkspace(dir, p, WorkspaceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, files) {
				t.Errorf("files %v, want %v", got, files)
			}
			if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
				t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
			}
			loaded, err := Load(filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			// The report written now is the report provision report writes.
			var again bytes.Buffer
			if err := WriteReport(&again, loaded, ReportOptions{}); err != nil {
				t.Fatal(err)
			}
			if rec, _ := os.ReadFile(filepath.Join(dir, RecommendationFile)); !bytes.Equal(rec, again.Bytes()) {
				t.Error("recommendation.md differs from the report written from the loaded plan")
			}
			// connection-options.json is what apply would send, scripts included.
			raw, _ := os.ReadFile(filepath.Join(dir, ConnectionOptionsFile))
			var doc struct{ Options map[string]any }
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			custom, err := loaded.Scripts()
			if err != nil {
				t.Fatal(err)
			}
			wantOpts, _ := json.Marshal(loaded.ConnectionOptions(custom))
			gotOpts, _ := json.Marshal(doc.Options)
			if !bytes.Equal(wantOpts, gotOpts) {
				t.Errorf("connection-options.json differs from the plan's options:\n%s\n%s", gotOpts, wantOpts)
			}
			for _, f := range got {
				if st, _ := os.Stat(filepath.Join(dir, f)); st.Mode().Perm() != 0o644 {
					t.Errorf("%s: mode %v, want 0644", f, st.Mode().Perm())
				}
			}
			if _, err := WriteWorkspace(dir, p, WorkspaceOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Errorf("a second write without Force: %v", err)
			}
			if _, err := WriteWorkspace(dir, p, WorkspaceOptions{Force: true}); err != nil {
				t.Errorf("with Force: %v", err)
			}
		})
	}
}

func TestScriptsReadFromWorkspace(t *testing.T) {
	dir := t.TempDir()
	p := newPlan(t, byStrategy[advisor.Automatic])
	if _, err := WriteWorkspace(dir, p, WorkspaceOptions{}); err != nil {
		t.Fatal(err)
	}
	// A consultant adapts a script: apply must send the adapted one.
	login := filepath.Join(dir, ScriptsDir, "login.js")
	if err := os.WriteFile(login, []byte("// adapted\nfunction login(u, p, cb) { cb(null, null); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := p.Scripts()
	if err != nil || !strings.HasPrefix(got[scripts.Login], "// adapted") || got[scripts.GetUser] == "" {
		t.Errorf("scripts %v, %v", keys(got), err)
	}
	os.Remove(login)
	if _, err := p.Scripts(); err == nil || !strings.Contains(err.Error(), "login.js") || !strings.Contains(err.Error(), "provision plan") {
		t.Errorf("a missing script: %v", err)
	}
	if s, err := newPlan(t, byStrategy[advisor.Bulk]).Scripts(); s != nil || err != nil {
		t.Errorf("bulk has no scripts: %v %v", s, err)
	}
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func TestReport(t *testing.T) {
	write := func(p *Plan) string {
		var b bytes.Buffer
		if err := WriteReport(&b, p, ReportOptions{}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tests := []struct {
		name string
		plan *Plan
		want []string
		not  []string
	}{
		{"two stages", newPlan(t, twoStage), []string{
			"# Provisioning plan: Automatic migration, then bulk",
			"sample `users.csv` (sha256 abababababab…): 300 rows.",
			"**Automatic migration, then bulk** (decision rule `two-stage`).",
			"| 2 | Bulk migration | yes | Now, without a migration window",
			"| md5-crypt | 6 | 3% | no | yes |",
			"| none | 41 | 18% | no password | no password |",
			"Sizes for 12,000 users (answered); `--stages canary:100:approve,wave:10%,rest` gives the same.",
			"| wave | 10% | 1,200 | 2% | no |",
			"- 1 would fail the 1-15 length rule (0 too short, 1 too long); a maximum of 20 would admit every username in the sample.",
			"28 rows have no user_id",
			"`provision remaining --plan plan.yaml`",
			"`provision migrate --workspace bulk-phase`",
			"`provision apply --plan plan.yaml --finish`",
			"1. Check the export and prove known passwords: `provision validate ../exports/users.csv",
		}, []string{"Fill in `target.spec`"}},
		{"overridden", newPlan(t, twoStage, func(in *Inputs) { in.Strategy = advisor.Bulk }), []string{
			"# Provisioning plan: Bulk migration",
			"> The plan uses **Bulk migration**; from its answers and data the advisor recommends **Automatic migration, then bulk**.",
			"`provision migrate --workspace .`; it stops at each gate (`provision migrate --workspace . --approve canary` lets a stage through)",
		}, []string{"DUPLICATED_USER", "remaining"}},
		{"self sign-up without a sample", newPlan(t, byStrategy[advisor.SelfSignup], func(in *Inputs) { in.Data = advisor.Data{}; in.Target = Target{} }), []string{
			"no sample export was validated",
			"| Username | required, 3 to 20 characters |",
			"1. Fill in `target.spec` and `target.connection`",
			"`policy-check.md`",
		}, []string{"## Stages", "scripts/"}},
		{"proxy", newPlan(t, byStrategy[advisor.Proxy]), []string{
			"| Custom database | on, import mode off (proxy) |",
			"modules assumed in Auth0's sandbox: mysql, bcrypt)",
			"set the connection's setting `LEGACY_DB_URL`",
		}, []string{"argon2 module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := write(tt.plan)
			for _, w := range tt.want {
				if !strings.Contains(r, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(r, n) {
					t.Errorf("report has %q", n)
				}
			}
		})
	}
}
