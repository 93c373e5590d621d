package plan

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"provision/engine/plan/advisor"
	"provision/engine/plan/policy"
	"provision/engine/plan/scripts"
)

// ReportOptions tune the report.
type ReportOptions struct {
	// PlanPath is the plan as the reader will name it in commands
	// (default plan.yaml).
	PlanPath string
}

// WriteReport writes the consultant's report on the plan, in Markdown: the
// recommendation and its reasons, the alternatives, what the data shows,
// the policy, the stages, the risks, the files, and the commands to run.
// It reads nothing but the plan: the recommendation is made again from the
// answers and data the plan keeps.
func WriteReport(w io.Writer, p *Plan, o ReportOptions) error {
	if o.PlanPath == "" {
		o.PlanPath = FileName
	}
	rec := advisor.Advise(p.Answers, p.Data)
	r := &report{w: w}
	r.header(p, rec)
	r.recommendation(p, rec)
	r.data(p)
	r.policy(p, "## Policy")
	r.stages(p)
	r.risks(p)
	r.files(p)
	r.commands(p, o.PlanPath)
	return r.err
}

type report struct {
	w   io.Writer
	err error
}

func (r *report) f(format string, args ...any) {
	if r.err == nil {
		_, r.err = fmt.Fprintf(r.w, format, args...)
	}
}

func (r *report) header(p *Plan, rec advisor.Recommendation) {
	r.f("# Provisioning plan: %s\n\n", p.Strategy.Title())
	switch {
	case p.Data.Sampled():
		sum := ""
		if p.Data.SHA256 != "" {
			sum = fmt.Sprintf(" (sha256 %s…)", p.Data.SHA256[:min(12, len(p.Data.SHA256))])
		}
		r.f("Made from the answers in the plan and the sample `%s`%s: %s rows.\n\n", p.Data.File, sum, num(p.Data.Rows))
	default:
		r.f("Made from the answers in the plan; no sample export was validated.\n\n")
	}
}

func (r *report) recommendation(p *Plan, rec advisor.Recommendation) {
	r.f("## Recommendation\n\n")
	if p.Strategy != rec.Strategy {
		r.f("> The plan uses **%s**; from its answers and data the advisor recommends **%s**. The reasons below are the advisor's.\n\n",
			p.Strategy.Title(), rec.Strategy.Title())
	}
	r.f("**%s** (decision rule `%s`).\n\n", rec.Strategy.Title(), rec.Rule)
	for _, reason := range rec.Reasons {
		r.f("- %s\n", reason)
	}
	r.f("\n### Alternatives\n\n| Rank | Strategy | Possible here | Why not first |\n|---:|---|---|---|\n")
	for i, a := range rec.Alternatives {
		r.f("| %d | %s | %s | %s |\n", i+2, a.Strategy.Title(), yesNo(a.Viable), cell(a.Reason))
	}
	if len(rec.Additions) > 0 {
		r.f("\n### Additions\n\n")
		for _, a := range rec.Additions {
			r.f("- %s\n", a)
		}
	}
	r.f("\n")
}

func (r *report) data(p *Plan) {
	d := p.Data
	r.f("## What the data shows\n\n")
	if !d.Sampled() {
		r.f("No sample was validated. Run `provision plan` with `--sample EXPORT` to base the recommendation on the hashes, duplicates and rule violations in the data.\n\n")
		return
	}
	r.f("| Rows | Importable | Quarantined | Duplicates | Warnings |\n|---:|---:|---:|---:|---:|\n")
	r.f("| %s | %s | %s | %s | %s |\n\n", num(d.Rows), num(d.Valid), num(d.Quarantined), num(d.Duplicates), num(d.Warnings))

	hashed := 0
	for fam, n := range d.Hashes {
		if fam != "invalid" && fam != "conflict" {
			hashed += n
		}
	}
	r.f("Password hashes:\n\n| Family | Rows | Share | Auth0 imports it | Login script checks it |\n|---|---:|---:|---|---|\n")
	for _, c := range sortedCounts(d.Hashes) {
		imports, checks := yesNo(advisor.Importable(c.Name)), yesNo(scripts.Checks(c.Name))
		switch c.Name {
		case "none":
			imports, checks = "no password", "no password"
		case "invalid", "conflict":
			imports, checks = "quarantined", "—"
		}
		r.f("| %s | %s | %s | %s | %s |\n", c.Name, num(c.N), share(c.N, hashed), imports, checks)
	}
	if len(d.Codes) > 0 {
		r.f("\nFindings by code (run `provision validate %s` for each one's line and fix):\n\n| Code | Rows |\n|---|---:|\n", p.Source.Path)
		for _, c := range sortedCounts(d.Codes) {
			r.f("| %s | %s |\n", c.Name, num(c.N))
		}
	}
	r.f("\n")
}

func (r *report) policy(p *Plan, heading string) {
	pol := p.Policy
	r.f("%s\n\nThe database connection's rules, which `provision apply` sets:\n\n| Setting | Value |\n|---|---|\n", heading)
	minLen := pol.PasswordStrength.MinLength()
	if pol.PasswordMinLength > 0 {
		minLen = pol.PasswordMinLength
	}
	r.f("| Password strength | %s: %s |\n", pol.PasswordStrength, pol.PasswordStrength.Rule())
	r.f("| Minimum length | %d |\n", minLen)
	r.f("| Password history | %s |\n", onOff(pol.PasswordHistory > 0, fmt.Sprintf("last %d passwords", pol.PasswordHistory)))
	r.f("| Common-password dictionary | %s |\n", onOff(pol.PasswordDictionary, "on"))
	r.f("| No personal data in passwords | %s |\n", onOff(pol.PasswordNoPersonalInfo, "on"))
	r.f("| Brute-force protection | %s |\n", onOff(pol.BruteForceProtection, "on"))
	r.f("| Username | %s, %d to %d characters |\n", map[bool]string{true: "required", false: "optional"}[pol.UsernameRequired], pol.UsernameMin, pol.UsernameMax)
	r.f("| Sign-ups | %s |\n", map[bool]string{true: "disabled", false: "open"}[pol.DisableSignup])
	if p.Strategy.UsesScripts() {
		r.f("| Custom database | on, import mode %s |\n", map[bool]string{true: "on (users move to Auth0)", false: "off (proxy)"}[p.Strategy != advisor.Proxy])
	}

	d := p.Data
	if !d.Sampled() {
		r.f("\n")
		return
	}
	r.f("\nThe sample against this policy:\n\n")
	withName := d.Rows - d.NoUsername
	switch {
	case withName == 0 && pol.UsernameRequired:
		r.f("- No user in the sample has a username, and the connection will require one: all %s are asked for one at their next login.\n", num(d.Rows))
	case withName == 0:
		r.f("- No user in the sample has a username.\n")
	default:
		r.f("- %s of %s users have a username, %d to %d characters long.\n", num(withName), num(d.Rows), d.UsernameMin, d.UsernameMax)
		if n := d.UsernameTooShort + d.UsernameTooLong; n > 0 {
			r.f("- %s would fail the %d-%d length rule (%s too short, %s too long)", num(n), pol.UsernameMin, pol.UsernameMax, num(d.UsernameTooShort), num(d.UsernameTooLong))
			if d.UsernameMax > pol.UsernameMax && d.UsernameMax <= policy.UsernameMaxBound {
				r.f("; a maximum of %d would admit every username in the sample", d.UsernameMax)
			}
			r.f(".\n")
		} else {
			r.f("- Every username fits the %d-%d length rule.\n", pol.UsernameMin, pol.UsernameMax)
		}
		if pol.UsernameRequired && d.NoUsername > 0 {
			r.f("- %s users have no username but the connection will require one.\n", num(d.NoUsername))
		}
	}
	if n := d.Codes["USERNAME_CHARACTERS"] + d.Codes["USERNAME_IS_EMAIL"]; n > 0 {
		r.f("- %s usernames use characters Auth0 refuses or are email addresses.\n", num(n))
	}
	if d.KnownPasswords > 0 {
		r.f("- %s of %s known passwords would not meet %q; Auth0 keeps passwords it imports or migrates, and applies the policy at each user's next password change.\n",
			num(d.WeakPasswords), num(d.KnownPasswords), pol.PasswordStrength)
	}
	r.f("\n")
}

func (r *report) stages(p *Plan) {
	if len(p.Stages) == 0 {
		return
	}
	users, basis := p.Users(), "answered"
	if p.Answers.Users == 0 {
		basis = "importable rows in the sample"
	}
	r.f("## Stages\n\n")
	if p.Strategy == advisor.AutomaticThenBulk {
		r.f("Automatic migration runs for %d days first; the stages below import the users still in the legacy store then, so their sizes will be smaller. ", p.Legacy.WindowDays)
	}
	r.f("Sizes for %s users (%s); `--stages %s` gives the same.\n\n", num(users), basis, FormatStages(p.Stages))
	r.f("| Stage | Size | Users | Stops above failure rate | Waits for approval |\n|---|---|---:|---:|---|\n")
	for i, n := range Sizes(p.Stages, users) {
		s := p.Stages[i]
		r.f("| %s | %s | %s | %s | %s |\n", s.Name, s.Size(), num(n), fmt.Sprintf("%.4g%%", 100*s.MaxFailureRate), yesNo(s.Approve))
	}
	r.f("\nUpsert: %s. Completion e-mails to tenant administrators: %s.\n\n", yesNo(p.Upsert), yesNo(p.SendCompletionEmail))
}

func (r *report) risks(p *Plan) {
	risks := advisor.Risks(p.Strategy, p.Answers, p.Data)
	if p.Strategy.UsesScripts() {
		var cannot []string
		n := 0
		for _, c := range sortedCounts(p.Data.Hashes) {
			if c.Name != "none" && c.Name != "invalid" && c.Name != "conflict" && !scripts.Checks(c.Name) {
				cannot, n = append(cannot, c.Name), n+c.N
			}
		}
		if n > 0 {
			risks = append(risks, fmt.Sprintf("The login script cannot check %s hashes (%s users): those users must reset their password.", strings.Join(cannot, ", "), num(n)))
		}
		if p.Data.Hashes["argon2"] > 0 {
			risks = append(risks, "The login script checks Argon2 hashes with the argon2 module: confirm your tenant's sandbox offers it (auth0-extensions.github.io/canirequire); if not, those users can be bulk-imported instead, since Auth0 imports Argon2 hashes.")
		}
	}
	if len(risks) == 0 {
		return
	}
	r.f("## Risks\n\n")
	for _, risk := range risks {
		r.f("- %s\n", risk)
	}
	r.f("\n")
}

func (r *report) files(p *Plan) {
	r.f("## Files\n\n- `plan.yaml`: the plan (no secrets).\n- `connection-options.json`: the connection options, as `PATCH /api/v2/connections/{id}` takes them; `provision apply` merges them into the current ones.\n")
	if p.Strategy.UsesScripts() {
		cfg, err := p.ScriptConfig()
		if err == nil {
			r.f("- `%s/*.js`: the custom database scripts for %s (modules assumed in Auth0's sandbox: %s). They read the database URL from the connection's setting `LEGACY_DB_URL`.\n",
				ScriptsDir, map[bool]string{true: "the proxy", false: "automatic migration"}[cfg.Proxy], strings.Join(scripts.Modules(cfg), ", "))
		}
	}
	if p.Strategy == advisor.AutomaticThenBulk {
		r.f("- `%s/*.js`: login and get_user for after the bulk phase, when the legacy store is switched off.\n", FinishDir)
	}
	if p.Strategy == advisor.SelfSignup {
		r.f("- `policy-check.md`: the sample checked against the policy.\n")
	}
	r.f("\n")
}

func (r *report) commands(p *Plan, planPath string) {
	r.f("## Commands to run\n\nFrom the directory that holds the plan:\n\n")
	steps := []string{}
	add := func(format string, args ...any) { steps = append(steps, fmt.Sprintf(format, args...)) }
	if p.Target.Spec == "" || p.Target.Connection == "" {
		add("Fill in `target.spec` and `target.connection` in `%s` (the tenant and the database connection's id).", planPath)
	}
	source := p.Source.Path
	if source == "" && p.Strategy != advisor.SelfSignup {
		add("Set `source.path` in `%s` to the legacy export (relative to the plan).", planPath)
		source = "EXPORT"
	}
	if p.Strategy.Imports() {
		add("Check the export and prove known passwords: `provision validate %s --credentials canaries.csv --quarantine rejected.csv`; fix what it reports.", source)
	}
	if p.Strategy.UsesScripts() {
		add("In the Dashboard, set the connection's setting `LEGACY_DB_URL` (Authentication > Database > the connection > Custom Database); allow Auth0's IP addresses through the legacy store's firewall.")
		add("Review `%s/*.js` and try them from the Dashboard (Custom Database > Save and Try).", ScriptsDir)
	}
	add("Rehearse on the local sandbox first: `provision sandbox --addr 127.0.0.1:8787`, with `target.spec: auth0:http://127.0.0.1:8787`.")
	add("Apply the connection's options (it shows the changes and asks first): `provision apply --plan %s`.", planPath)
	switch p.Strategy {
	case advisor.SelfSignup:
		add("Enable the connection for the applications, and new users sign up through Universal Login.")
	case advisor.Proxy:
		add("Users keep logging in against the legacy store through Auth0; when the last application has moved, re-plan with `keep_legacy: false` to migrate them.")
	case advisor.Automatic:
		add("Users move as they log in; follow the connection's user count in the Dashboard. When a decommission date is set, re-plan with `deadline_days` to add the bulk phase.")
	case advisor.Bulk:
		add("Import the users in the plan's stages: `provision migrate --workspace .`; it stops at each gate (`provision migrate --workspace . --approve %s` lets a stage through).", p.Stages[0].Name)
	case advisor.AutomaticThenBulk:
		add("Let users migrate by logging in for %d days.", p.Legacy.WindowDays)
		add("Export the connection's users and write who is left, with its plan, into `%s/`: `provision remaining --plan %s`.", BulkPhaseDir, planPath)
		add("Import them in the plan's stages: `provision migrate --workspace %s`; it stops at each gate.", BulkPhaseDir)
		add("Switch the scripts to their after-bulk versions, keeping import mode on: `provision apply --plan %s --finish`; then the legacy store can go.", planPath)
	}
	add("Write this report again after editing the plan: `provision report --plan %s`.", planPath)
	for i, s := range steps {
		r.f("%d. %s\n", i+1, s)
	}
}

func sortedCounts(m map[string]int) []advisor.Count {
	var cs []advisor.Count
	for _, k := range slices.Sorted(maps.Keys(m)) {
		cs = append(cs, advisor.Count{Name: k, N: m[k]})
	}
	slices.SortStableFunc(cs, func(a, b advisor.Count) int { return cmp.Compare(b.N, a.N) })
	return cs
}

func share(n, of int) string {
	if of == 0 {
		return "—"
	}
	p := 100 * float64(n) / float64(of)
	if p > 0 && p < 1 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func onOff(on bool, what string) string {
	if on {
		return what
	}
	return "off"
}

// cell keeps a table cell on one line.
func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// num formats a count with thousands separators.
func num(n int) string {
	if n < 0 {
		return "-" + num(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
