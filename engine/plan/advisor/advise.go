package advisor

import (
	"cmp"
	"fmt"
	"slices"
)

// Recommendation is the advisor's answer.
type Recommendation struct {
	Strategy Strategy
	// Rule names the row of the decision table that decided (one of the
	// Rule constants), so a recommendation can be traced and tested.
	Rule    string
	Reasons []string
	// Alternatives are the other strategies, best first: the viable ones,
	// then those that cannot work here, each with its reason.
	Alternatives []Alternative
	// Additions are things to add to any strategy (social sign-up).
	Additions []string
	// Risks are what the data and the answers say could go wrong, with
	// what to do about it.
	Risks []string
	// WindowDays is how long automatic migration runs before the bulk
	// phase (automatic-then-bulk only).
	WindowDays int
}

// Alternative is a strategy that was not chosen, and why.
type Alternative struct {
	Strategy Strategy
	// Viable is false for a strategy that cannot work in this situation.
	Viable bool
	Reason string
}

// The rows of the decision table, in the order they are tried.
const (
	RuleNoUsers               = "no-legacy-users"
	RuleFreshStart            = "fresh-start"
	RuleExportOnly            = "export-only"
	RuleKeepLegacy            = "keep-legacy"
	RuleKeepLegacyUnreachable = "keep-legacy-unreachable"
	RuleStoreOffline          = "store-offline"
	RuleAllImportable         = "all-importable"
	RuleFewUnimportable       = "few-unimportable"
	RuleShortDeadline         = "short-deadline"
	RuleLowActivity           = "low-activity"
	RuleNoDeadline            = "no-deadline"
	RuleTwoStage              = "two-stage"
)

// Advise recommends a strategy for the answers and the sample's data. It is
// pure: the same inputs always give the same recommendation, word for word.
func Advise(a Answers, d Data) Recommendation {
	f := derive(a, d)
	r := decide(a, d, f)
	slices.SortStableFunc(r.Alternatives, func(x, y Alternative) int {
		return cmp.Compare(rank(y.Viable), rank(x.Viable))
	})
	r.Additions = additions(a)
	r.Risks = risks(r.Strategy, a, d, f)
	return r
}

func rank(viable bool) int {
	if viable {
		return 1
	}
	return 0
}

// decide is the decision table. Each row sets the strategy, its reasons and
// the alternatives in the order they are worth considering.
func decide(a Answers, d Data, f facts) Recommendation {
	level, _ := a.Level()
	switch {
	case !a.LegacyStore && !d.Sampled():
		return Recommendation{
			Strategy: SelfSignup, Rule: RuleNoUsers,
			Reasons: []string{
				"There is no legacy user store and no export: there are no existing users to move.",
				fmt.Sprintf("New users sign up themselves in an Auth0 database connection, under the password policy %q (%s).", level, level.Rule()),
			},
			Alternatives: []Alternative{
				{Bulk, false, "Nothing to import: there is no export of existing users."},
				{AutomaticThenBulk, false, "Needs a legacy store to check passwords against at login."},
				{Automatic, false, "Needs a legacy store to check passwords against at login."},
				{Proxy, false, "Needs a legacy store to proxy."},
			},
		}

	case a.FreshStart:
		reasons := []string{"Existing users will sign up again in Auth0 instead of being moved, as answered: nothing is migrated."}
		if d.Sampled() {
			reasons = append(reasons, fmt.Sprintf("The %s users of the sample register anew, under the password policy %q (%s); the policy check shows how their usernames fare under the new rule.", num(f.users), level, level.Rule()))
		} else {
			reasons = append(reasons, fmt.Sprintf("They register under the password policy %q (%s).", level, level.Rule()))
		}
		onlineAlt := func(s Strategy, why string) Alternative {
			if a.LegacyStore && a.LegacyOnline {
				return Alternative{s, true, why}
			}
			return Alternative{s, false, "Needs the legacy store online and reachable from Auth0."}
		}
		return Recommendation{
			Strategy: SelfSignup, Rule: RuleFreshStart, Reasons: reasons,
			Alternatives: []Alternative{
				{Bulk, d.Sampled() || a.LegacyStore, "Keeps users' accounts, profiles and (where Auth0 imports the hash) passwords, so nobody has to register again."},
				onlineAlt(AutomaticThenBulk, "Keeps every password a user logs in with, then imports the rest."),
				onlineAlt(Automatic, "Moves users as they log in, keeping their passwords."),
				onlineAlt(Proxy, "Only if applications must keep using the legacy store."),
			},
		}

	case !a.LegacyStore:
		return Recommendation{
			Strategy: Bulk, Rule: RuleExportOnly,
			Reasons: []string{
				fmt.Sprintf("There is no live legacy store, but the export holds %s users: a bulk import is the only way to keep them.", num(f.users)),
				passwordsAfterBulk(f),
			},
			Alternatives: []Alternative{
				{SelfSignup, true, selfSignupAlt},
				{AutomaticThenBulk, false, "Needs a live legacy store for the login script to check passwords against."},
				{Automatic, false, "Needs a live legacy store for the login script to check passwords against."},
				{Proxy, false, "Needs a live legacy store to proxy."},
			},
		}

	case a.KeepLegacy && a.LegacyOnline:
		return Recommendation{
			Strategy: Proxy, Rule: RuleKeepLegacy,
			Reasons: []string{
				"Applications that cannot move still use the legacy store, so it must stay the single source of truth for passwords and profiles.",
				"Auth0 authenticates users against it through custom database scripts with import mode off: login, get_user, create, verify, change_password and delete keep both sides in step.",
			},
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, "Once the last application has moved off the legacy store: turn import mode on so users migrate as they log in, then bulk-import the rest."},
				{Automatic, true, "Once the last application has moved off the legacy store, without a date to finish."},
				{Bulk, false, "A one-off copy would drift from the legacy store: password and profile changes on one side would not reach the other."},
				{SelfSignup, false, "Existing users would have to register again, and the legacy applications would not see them."},
			},
		}

	case a.KeepLegacy:
		return Recommendation{
			Strategy: Bulk, Rule: RuleKeepLegacyUnreachable,
			Reasons: []string{
				"Applications that cannot move still use the legacy store, but Auth0 cannot reach it, so it cannot be proxied.",
				"A bulk import copies the users into Auth0; from then on the two stores drift apart (password and profile changes on one side are not seen on the other) until the last application moves.",
				passwordsAfterBulk(f),
			},
			Alternatives: []Alternative{
				{SelfSignup, true, selfSignupAlt},
				{Proxy, false, "Becomes the better fit once Auth0 can reach the legacy store (allow Auth0's IP addresses through its firewall)."},
				{AutomaticThenBulk, false, "Needs the legacy store reachable from Auth0 during the migration window."},
				{Automatic, false, "Needs the legacy store reachable from Auth0."},
			},
		}

	case !a.LegacyOnline:
		reasons := []string{"The legacy store cannot stay online during the transition, so Auth0 cannot check passwords against it: the users must come from an export."}
		if f.unimportable > 0 {
			reasons = append(reasons, passwordsAfterBulk(f)+" Automatic migration would have kept them, but needs the store online.")
		} else {
			reasons = append(reasons, passwordsAfterBulk(f))
		}
		return Recommendation{
			Strategy: Bulk, Rule: RuleStoreOffline, Reasons: reasons,
			Alternatives: []Alternative{
				{SelfSignup, true, selfSignupAlt},
				{AutomaticThenBulk, false, "Would keep every password, but needs the legacy store online and reachable from Auth0 for the migration window."},
				{Automatic, false, "Needs the legacy store online and reachable from Auth0."},
				{Proxy, false, "Needs the legacy store online and reachable from Auth0."},
			},
		}

	case d.Sampled() && f.unimportable == 0:
		first := fmt.Sprintf("Every password hash in the sample is in a form Auth0 imports (%s): a bulk import keeps every password.", counts(f.impFams))
		if f.importable == 0 {
			first = "The sample holds no password hashes, so no strategy can keep passwords: every user sets one after the move."
		}
		return Recommendation{
			Strategy: Bulk, Rule: RuleAllImportable,
			Reasons: []string{first, retireAfterBulk},
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, "Keeps the same passwords, but adds custom database scripts and a migration window for nothing more."},
				{Automatic, true, "Leaves users who never log in behind in the legacy store."},
				{Proxy, true, proxyUnneeded},
				{SelfSignup, true, selfSignupAlt},
			},
		}

	case d.Sampled() && f.share(f.unimportable) <= FewUnimportablePercent:
		return Recommendation{
			Strategy: Bulk, Rule: RuleFewUnimportable,
			Reasons: []string{
				fmt.Sprintf("Only %s of %s hashes (%s) are %s, which Auth0 cannot import: resetting those passwords costs less than writing and running custom database scripts.",
					num(f.unimportable), num(f.hashed), pct(f.share(f.unimportable)), names(f.unimpFams)),
				"Every other user keeps their password through the bulk import. " + retireAfterBulk,
			},
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, fmt.Sprintf("Would also keep the %s %s %s, at the cost of custom database scripts and a %d-day migration window.",
					num(f.unimportable), names(f.unimpFams), plural(f.unimportable, "password", "passwords"), f.window)},
				{Automatic, true, "Leaves users who never log in behind in the legacy store."},
				{Proxy, true, proxyUnneeded},
				{SelfSignup, true, selfSignupAlt},
			},
		}

	case a.DeadlineDays > 0 && a.DeadlineDays < ShortDeadlineDays:
		return Recommendation{
			Strategy: Bulk, Rule: RuleShortDeadline,
			Reasons: []string{
				fmt.Sprintf("The legacy store must be decommissioned in %d days: too little time for users to migrate by logging in (automatic migration needs a window of weeks, and %d days are kept for the bulk phase).", a.DeadlineDays, BulkMarginDays),
				passwordsAfterBulk(f),
			},
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, fmt.Sprintf("If the deadline can move to %d days or more: automatic migration would keep the passwords of users who log in before the bulk phase.", ShortDeadlineDays)},
				{Proxy, true, proxyUnneeded},
				{SelfSignup, true, selfSignupAlt},
				{Automatic, false, fmt.Sprintf("Cannot finish before the deadline in %d days: users who do not log in would be left behind.", a.DeadlineDays)},
			},
		}

	case a.ActivePercent > 0 && a.ActivePercent < LowActivePercent:
		return Recommendation{
			Strategy: Bulk, Rule: RuleLowActivity,
			Reasons: []string{
				fmt.Sprintf("Only %d%% of users signed in during the last 90 days: few would migrate by logging in, so custom database scripts would carry little.", a.ActivePercent),
				passwordsAfterBulk(f),
			},
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, fmt.Sprintf("Keeps the passwords of the active few (about %s users) at the cost of custom database scripts and a migration window.", num(f.users*a.ActivePercent/100))},
				{Automatic, true, "Alone, it would leave most users in the legacy store."},
				{Proxy, true, proxyUnneeded},
				{SelfSignup, true, selfSignupAlt},
			},
		}

	case a.DeadlineDays == 0:
		reasons := []string{keepPasswordsByLogin(d, f) + ".",
			"There is no date by which the legacy store must go, so no bulk phase is planned yet: users move at their own pace, and new sign-ups go straight to Auth0."}
		if a.ActivePercent > 0 {
			reasons = append(reasons, fmt.Sprintf("With %d%% of users signing in every 90 days, about %s users should have moved within 90 days.", a.ActivePercent, num(f.users*a.ActivePercent/100)))
		}
		return Recommendation{
			Strategy: Automatic, Rule: RuleNoDeadline, Reasons: reasons,
			Alternatives: []Alternative{
				{AutomaticThenBulk, true, "Once a decommission date is set: bulk-import whoever has not logged in, before it."},
				{Bulk, true, "Now, without waiting for logins: " + resetsPhrase(d, f) + "."},
				{Proxy, true, proxyUnneeded},
				{SelfSignup, true, selfSignupAlt},
			},
		}
	}

	reasons := []string{fmt.Sprintf("%s; bulk-import the rest after %d days.", keepPasswordsByLogin(d, f), f.window),
		fmt.Sprintf("That leaves %d days, before the legacy store's decommissioning in %d days, for the bulk phase.", a.DeadlineDays-f.window, a.DeadlineDays)}
	if a.ActivePercent > 0 {
		moved := f.users * a.ActivePercent * min(f.window, 90) / 9000
		reasons = append(reasons, fmt.Sprintf("With %d%% of users signing in every 90 days, about %s users should migrate by logging in within %d days; the others are imported with the rest.", a.ActivePercent, num(moved), f.window))
	}
	reasons = append(reasons, "This is the two-stage approach of Auth0's B2C provisioning guidance: automatic migration first, then a bulk migration of the users who remain.")
	return Recommendation{
		Strategy: AutomaticThenBulk, Rule: RuleTwoStage, Reasons: reasons, WindowDays: f.window,
		Alternatives: []Alternative{
			{Bulk, true, "Now, without a migration window: simpler, but " + resetsPhrase(d, f) + "."},
			{Automatic, true, fmt.Sprintf("Alone, it would leave users who never log in in the legacy store past its decommissioning in %d days.", a.DeadlineDays)},
			{Proxy, true, proxyUnneeded},
			{SelfSignup, true, selfSignupAlt},
		},
	}
}

const (
	selfSignupAlt   = "Existing users would register again and lose their profiles, metadata and history."
	proxyUnneeded   = "Not needed: no application has to keep using the legacy store, and a proxy would keep it running for good."
	retireAfterBulk = "The legacy store can be retired as soon as the import is reconciled; there are no custom database scripts to write or run."
)

// passwordsAfterBulk says what a bulk import does to passwords.
func passwordsAfterBulk(f facts) string {
	switch {
	case f.hashed == 0:
		return "The hashes are unknown (no sample was validated): validate an export to see how many passwords can be kept."
	case f.unimportable > 0:
		return fmt.Sprintf("%s of the hashes (%s of %s) are %s, which Auth0 cannot import: about %s users reset their password after the import.",
			pct(f.share(f.unimportable)), num(f.unimportable), num(f.hashed), names(f.unimpFams), num(f.scaled(f.unimportable)))
	case f.importable == 0:
		return "The export holds no password hashes: every user sets a password after the import."
	}
	return fmt.Sprintf("Every password hash is in a form Auth0 imports (%s), so users keep their passwords.", counts(f.impFams))
}

// keepPasswordsByLogin explains why logging in is what keeps passwords.
func keepPasswordsByLogin(d Data, f facts) string {
	if !d.Sampled() {
		return "No sample was validated, so the hashes are unknown: automatic migration keeps every password whatever its form, as users log in"
	}
	return fmt.Sprintf("%s of the hashes (%s of %s) are %s, which Auth0 cannot import: automatic migration keeps those passwords as users log in",
		pct(f.share(f.unimportable)), num(f.unimportable), num(f.hashed), names(f.unimpFams))
}

// resetsPhrase estimates the password resets a bulk import would cause.
func resetsPhrase(d Data, f facts) string {
	if !d.Sampled() {
		return "the number of password resets is unknown until an export is validated"
	}
	return fmt.Sprintf("about %s users (%s) with %s hashes would reset their password", num(f.scaled(f.unimportable)), pct(f.share(f.unimportable)), names(f.unimpFams))
}

func additions(a Answers) []string {
	if !a.Social {
		return nil
	}
	return []string{"Social sign-up: enable social connections (Google, Apple, ...) beside the database connection; profiles are created at the first social login. " +
		"A user who signs in socially with the email of a database account gets a second account unless the two are linked (account linking)."}
}
