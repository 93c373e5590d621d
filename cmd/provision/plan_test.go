package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"provision/engine/importuser"
	"provision/engine/plan"
	"provision/engine/plan/advisor"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/fixtures"
)

// execPlanning executes the planning commands as the binary would, and returns
// standard output, the error's text and the exit code.
func execPlanning(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	root := &cobra.Command{Use: "provision", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError("%v", err) })
	// provision report --plan writes the consultant's report (report.go).
	root.AddCommand(newPlanCmd(), newReportCmd(), newApplyCmd(), newRemainingCmd())
	var out, stderr bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	return out.String(), msg, exitCode(context.Background(), err)
}

const demo = "../../fixtures/demo-users.csv"

// TestPlanEveryFixture plans each example answers file on the demo export
// and checks the strategy, the artifacts and what they must not hold.
func TestPlanEveryFixture(t *testing.T) {
	files, _ := filepath.Glob("../../fixtures/answers/*.yaml")
	if len(files) != len(advisor.Strategies) {
		t.Fatalf("%d example answers files, want one per strategy (%d)", len(files), len(advisor.Strategies))
	}
	private := demoPrivateValues(t)
	for _, f := range files {
		strategy := advisor.Strategy(strings.TrimSuffix(filepath.Base(f), ".yaml"))
		t.Run(string(strategy), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plan")
			out, msg, code := execPlanning(t, "", "plan", "--answers", f, "--sample", demo, "--out", dir,
				"--credentials", "../../fixtures/demo-credentials.csv")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, msg)
			}
			if !strings.HasPrefix(out, "Recommended: "+strategy.Title()+" (rule ") {
				t.Fatalf("output:\n%s", out)
			}
			p, err := plan.Load(filepath.Join(dir, plan.FileName))
			if err != nil {
				t.Fatal(err)
			}
			if p.Strategy != strategy || p.Data.Rows != fixtures.DemoUserRows || p.Data.KnownPasswords != len(fixtures.DemoCanaries) {
				t.Errorf("plan: strategy %s, %d rows, %d known passwords", p.Strategy, p.Data.Rows, p.Data.KnownPasswords)
			}
			if got := p.SourcePath(); filepath.Clean(got) != filepath.Join(dir, "..", "..", "..", "..", "..", "fixtures", "demo-users.csv") && !sameFile(got, demo) {
				t.Errorf("the plan's source %s is not the demo export", got)
			}

			// Scripts for the strategies that run them, and valid JavaScript.
			scripts, _ := filepath.Glob(filepath.Join(dir, "scripts", "*.js"))
			if (len(scripts) > 0) != strategy.UsesScripts() {
				t.Errorf("scripts %v for %s", scripts, strategy)
			}
			if node, err := exec.LookPath("node"); err == nil {
				for _, s := range scripts {
					if out, err := exec.Command(node, "--check", s).CombinedOutput(); err != nil {
						t.Errorf("node --check %s: %s", s, out)
					}
				}
			}

			// provision report writes recommendation.md again, word for word.
			report, msg, code := execPlanning(t, "", "report", "--plan", filepath.Join(dir, plan.FileName))
			rec, _ := os.ReadFile(filepath.Join(dir, plan.RecommendationFile))
			if code != 0 || report != string(rec) {
				t.Errorf("report (exit %d, %s) differs from recommendation.md", code, msg)
			}

			// Nothing written holds a user's email, hash or password.
			filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if d.IsDir() {
					return nil
				}
				data, _ := os.ReadFile(path)
				for _, v := range private {
					if strings.Contains(string(data), v) {
						t.Errorf("%s holds user data: %q", path, v)
						return nil
					}
				}
				return nil
			})
		})
	}
}

// demoPrivateValues are the demo's emails, hashes and known passwords.
func demoPrivateValues(t *testing.T) []string {
	t.Helper()
	var vals []string
	for _, file := range [][]byte{fixtures.DemoUsers, fixtures.DemoCredentials} {
		r := csv.NewReader(bytes.NewReader(file))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[1:] {
			for i, cell := range rec {
				// email, and the hash or the password column
				if (i == 0 || (len(rec) > 12 && i == 12) || (len(rec) == 2 && i == 1)) && len(cell) >= 8 {
					vals = append(vals, cell)
				}
			}
		}
	}
	if len(vals) < 200 {
		t.Fatalf("only %d private values found in the demo", len(vals))
	}
	return vals
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func TestPlanUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("legacy_store: true\nlegacy_onlin: true\n"), 0o600)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"plan"}, 2, "--answers FILE is required"},
		{[]string{"plan", "--answers", "../../fixtures/answers/bulk.yaml", "--stages", "canary:5"}, 2, "--stages: the last stage must be rest"},
		{[]string{"plan", "--answers", "../../fixtures/answers/bulk.yaml", "--strategy", "lazy"}, 2, "--strategy"},
		{[]string{"plan", "--answers", "../../fixtures/answers/bulk.yaml", "--delimiter", "x"}, 2, "--delimiter"},
		{[]string{"plan", "--answers", bad}, 1, bad + `:2:1: unknown field "legacy_onlin"`},
		{[]string{"plan", "--answers", "../../fixtures/answers/bulk.yaml", "--sample", filepath.Join(dir, "none.csv")}, 1, "none.csv"},
		{[]string{"report", "--plan", filepath.Join(dir, "plan.yaml")}, 1, "does not exist: write one with provision plan"},
		{[]string{"plan", "--bogus"}, 2, "unknown flag"},
	}
	for _, tt := range tests {
		_, msg, code := execPlanning(t, "", append(tt.args, "--out", filepath.Join(dir, "out"))...)
		if code != tt.code || !strings.Contains(msg, tt.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", tt.args, code, msg, tt.code, tt.msg)
		}
	}
	// An existing plan is kept unless --force.
	out := filepath.Join(dir, "keep")
	if _, msg, code := execPlanning(t, "", "plan", "--answers", "../../fixtures/answers/bulk.yaml", "--out", out); code != 0 {
		t.Fatal(msg)
	}
	if _, msg, code := execPlanning(t, "", "plan", "--answers", "../../fixtures/answers/bulk.yaml", "--out", out); code != 1 || !strings.Contains(msg, "--force") {
		t.Errorf("overwrite: exit %d %s", code, msg)
	}
	if _, msg, code := execPlanning(t, "", "plan", "--answers", "../../fixtures/answers/bulk.yaml", "--out", out, "--force"); code != 0 {
		t.Errorf("--force: %s", msg)
	}
}

// sandboxPlan writes a plan for the fixture answers file, aimed at a fresh
// sandbox tenant, with the tenant's credentials in the environment.
func sandboxPlan(t *testing.T, answers string) (string, *sandbox.Server) {
	t.Helper()
	baseURL, srv := sandboxtest.Start(t, sandbox.Config{})
	t.Setenv("AUTH0_CLIENT_ID", srv.ClientID())
	t.Setenv("AUTH0_CLIENT_SECRET", srv.ClientSecret())
	dir := filepath.Join(t.TempDir(), "plan")
	if _, msg, code := execPlanning(t, "", "plan", "--answers", "../../fixtures/answers/"+answers+".yaml", "--sample", demo, "--out", dir,
		"--target", "auth0:"+baseURL, "--connection", srv.ConnectionID()); code != 0 {
		t.Fatal(msg)
	}
	return filepath.Join(dir, plan.FileName), srv
}

func TestApplyCmd(t *testing.T) {
	planPath, _ := sandboxPlan(t, "automatic-then-bulk")
	defer func(f func() bool) { stdinIsTerminal = f }(stdinIsTerminal)

	// No terminal and no --yes: the changes are shown, and refused.
	stdinIsTerminal = func() bool { return false }
	out, msg, code := execPlanning(t, "", "apply", "--plan", planPath)
	if code != 2 || !strings.Contains(msg, "run it again with --yes") || !strings.Contains(out, "+ import_mode: true") {
		t.Fatalf("without a terminal: exit %d %q\n%s", code, msg, out)
	}
	// A terminal, and the answer no.
	stdinIsTerminal = func() bool { return true }
	out, _, code = execPlanning(t, "n\n", "apply", "--plan", planPath)
	if code != 0 || !strings.Contains(out, "Apply these changes? [y/N] Nothing was changed.") {
		t.Fatalf("answered no: exit %d\n%s", code, out)
	}
	// Yes.
	out, msg, code = execPlanning(t, "y\n", "apply", "--plan", planPath)
	if code != 0 || !strings.Contains(out, "+ customScripts.login: <") || !strings.Contains(out, "Applied 11 changes to connection con_") {
		t.Fatalf("answered yes: exit %d %s\n%s", code, msg, out)
	}
	// Nothing left to do.
	out, _, code = execPlanning(t, "", "apply", "--plan", planPath, "--yes")
	if code != 0 || !strings.Contains(out, "already has the plan's options: nothing to change") {
		t.Fatalf("again: exit %d\n%s", code, out)
	}
	// After the bulk phase: only the two scripts change, import mode stays.
	out, _, code = execPlanning(t, "", "apply", "--plan", planPath, "--yes", "--finish")
	if code != 0 || !strings.Contains(out, "2 changes") || !strings.Contains(out, "~ customScripts.login:") || strings.Contains(out, "import_mode") {
		t.Fatalf("--finish: exit %d\n%s", code, out)
	}

	// Without credentials, a clear error and no request.
	t.Setenv("AUTH0_CLIENT_SECRET", "")
	if _, msg, code := execPlanning(t, "", "apply", "--plan", planPath, "--yes"); code != 1 || !strings.Contains(msg, "AUTH0_CLIENT_SECRET") {
		t.Errorf("no credentials: exit %d %s", code, msg)
	}
}

func TestApplyCmdNeedsTarget(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "a.yaml")
	os.WriteFile(answers, []byte("legacy_store: true\n"), 0o600)
	if _, msg, code := execPlanning(t, "", "plan", "--answers", answers, "--sample", demo, "--out", dir); code != 0 {
		t.Fatal(msg)
	}
	_, msg, code := execPlanning(t, "", "apply", "--plan", filepath.Join(dir, plan.FileName), "--yes")
	if code != 1 || !strings.Contains(msg, "set target.spec") {
		t.Errorf("exit %d %s", code, msg)
	}
	_, msg, code = execPlanning(t, "", "apply", "--plan", filepath.Join(dir, plan.FileName), "--finish")
	if code != 2 || !strings.Contains(msg, "--finish ends an automatic migration; this plan's strategy is bulk") {
		t.Errorf("--finish on a bulk plan: exit %d %s", code, msg)
	}
}

func TestRemainingCmd(t *testing.T) {
	planPath, srv := sandboxPlan(t, "automatic-then-bulk")
	// Three users migrated by logging in, one written in another case.
	if _, errs, err := srv.Import(false,
		importuser.User{Email: "rohan.mishra69@daak.example"},
		importuser.User{Email: "dnikolaou@taxydromeio.example"},
		importuser.User{Email: "jessica.smith80@inbox.example"}); err != nil || len(errs) > 0 {
		t.Fatal(errs, err)
	}
	out, msg, code := execPlanning(t, "", "remaining", "--plan", planPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, msg)
	}
	// Line 53 repeats line 15's email in another case, and the demo has a
	// row without an email and one that cannot be read.
	if !strings.Contains(out, "holds 3 users") || !strings.Contains(out, "300 rows: 3 already in Auth0, 295 remaining, 1 without an email, 1 unreadable.") {
		t.Errorf("output:\n%s", out)
	}
	dir := filepath.Join(filepath.Dir(planPath), plan.BulkPhaseDir)
	remainder := filepath.Join(dir, "remaining.csv")
	if st, err := os.Stat(remainder); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("remainder: %v", err)
	}
	if !strings.Contains(out, "Next: provision migrate --workspace "+dir) {
		t.Errorf("output:\n%s", out)
	}
	next, err := plan.Load(filepath.Join(dir, plan.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// The default stages, sized for 120,000 users, are sized again for 295.
	if !sameFile(next.SourcePath(), remainder) || next.Source.Delimiter != "," || plan.FormatStages(next.Stages) != "canary:10:approve,wave:10%,rest" {
		t.Errorf("phase-2 plan: source %s (%q), stages %s", next.SourcePath(), next.Source.Delimiter, plan.FormatStages(next.Stages))
	}
	data, _ := os.ReadFile(remainder)
	if strings.Contains(strings.ToLower(string(data)), "rohan.mishra69@daak.example") || !strings.HasPrefix(string(data), "email,email_verified,") {
		t.Errorf("remainder starts %q", string(data[:80]))
	}

	// A plan without automatic migration has nothing remaining.
	bulkPlan, _ := sandboxPlan(t, "bulk")
	if _, msg, code := execPlanning(t, "", "remaining", "--plan", bulkPlan); code != 2 || !strings.Contains(msg, "strategy is bulk") {
		t.Errorf("bulk plan: exit %d %s", code, msg)
	}
}
