package advisor

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"provision/engine/validate"
)

// codeUsernamePrefix starts every finding code about usernames.
const codeUsernamePrefix = "USERNAME_"

// risks lists what could go wrong with strategy s, from the data and the
// answers, each with what to do about it.
func risks(s Strategy, a Answers, d Data, f facts) []string {
	var out []string
	level, _ := a.Level()
	user, _ := a.Username()
	moves := s != SelfSignup // existing users are brought over

	if moves && d.Quarantined > 0 {
		share := 100 * float64(d.Quarantined) / float64(d.Rows)
		r := fmt.Sprintf("%s of %s rows (%s) break Auth0's import rules (%s): ", num(d.Quarantined), num(d.Rows), pct(share), topCodes(d.Codes, 4))
		if s.UsesScripts() {
			r += "Auth0 rejects the same profiles when the scripts return them; fix them in the legacy store (provision validate FILE --quarantine rejected.csv lists each with its fix)."
		} else {
			r += "they are quarantined, not imported; fix them and import them again (provision validate FILE --quarantine rejected.csv lists each with its fix)."
		}
		if share > LargeQuarantinePercent {
			r += " With this many, clean the export before any import."
		}
		out = append(out, r)
	}
	if moves && d.Duplicates > 0 {
		r := fmt.Sprintf("%s %s repeat the email, username or user_id of an earlier row: ", num(d.Duplicates), plural(d.Duplicates, "row", "rows"))
		if s.UsesScripts() {
			r += "a login with that email would match more than one legacy user, and the scripts refuse it; merge the accounts in the legacy store."
		} else {
			r += "only the first is imported; decide with the client which account wins."
		}
		out = append(out, r)
	}
	if moves && f.noPassword > 0 {
		out = append(out, fmt.Sprintf("%s users (%s) have no password: they can sign in only after a password reset%s.",
			num(f.scaled(f.noPassword)), pct(f.share(f.noPassword)), orSocial(a)))
	}
	if n := d.Codes[validate.CodeHashWarning]; moves && n > 0 && s.Imports() {
		out = append(out, fmt.Sprintf("%s %s identified by their length alone: prove them with known passwords before importing (provision validate FILE --credentials canaries.csv).",
			num(n), plural(n, "hash was", "hashes were")))
	}
	if s.UsesScripts() && d.NoUserID > 0 {
		out = append(out, fmt.Sprintf("%s %s no user_id: the scripts need a permanent id for every user (Auth0 keeps it as the user's id), so give them one in the legacy store first.",
			num(d.NoUserID), plural(d.NoUserID, "row has", "rows have")))
	}
	if n := usernameFindings(d.Codes); moves && n > 0 {
		out = append(out, fmt.Sprintf("%s %s break the username rule (%d to %d characters of a-z, 0-9 and _+-.!#$'^`~@, not an email): rename them or widen the rule before the move.",
			num(n), plural(n, "username", "usernames"), user.Min, user.Max))
	}
	if user.Required && d.NoUsername > 0 {
		out = append(out, fmt.Sprintf("%s users have no username but the connection will require one: they are asked for one at their next login, or give them one before the move.", num(d.NoUsername)))
	}
	if moves && level != "" && level != "none" {
		out = append(out, fmt.Sprintf("Passwords brought over are kept even if they do not meet the %q policy; it applies from each user's next password change.", level))
	}
	if s.Imports() && f.users > 10*UsersPerImportFile {
		files := (f.users + UsersPerImportFile - 1) / UsersPerImportFile
		out = append(out, fmt.Sprintf("%s users make about %s import files of up to 500 KB, and Auth0 runs 2 import jobs at a time per tenant: plan the bulk phase's duration with a rehearsal on the sandbox.", num(f.users), num(files)))
	}
	switch s {
	case SelfSignup:
		if d.Sampled() || a.LegacyStore {
			out = append(out, "Existing users must register again: announce the switch before it happens, and decide what becomes of their data in the legacy store.")
		}
	case Proxy:
		out = append(out, "Every login depends on the legacy store being reachable and quick: scripts have about 20 seconds, and an outage of the store is an outage of login.")
	case Automatic:
		out = append(out, "Users who never log in stay in the legacy store: keep it running, or set a decommission date and bulk-import them (provision remaining).")
	case AutomaticThenBulk:
		out = append(out, "A user who logs in while the bulk phase imports them fails with DUPLICATED_USER: run provision remaining right before the bulk phase, which exports Auth0's users first, and keep import mode on afterwards (Auth0's automatic migration guide).")
	}
	if a.KeepLegacy && !a.LegacyOnline && a.LegacyStore {
		out = append(out, "The legacy store and Auth0 drift apart after the import: password and profile changes on one side are not seen on the other until the last application moves.")
	}
	return out
}

func orSocial(a Answers) string {
	if a.Social {
		return " or a social login"
	}
	return ""
}

func usernameFindings(codes map[string]int) int {
	n := 0
	for code, c := range codes {
		if strings.HasPrefix(code, codeUsernamePrefix) {
			n += c
		}
	}
	return n
}

// topCodes lists the most frequent error codes, "EMAIL_INVALID 2, ...".
// Warning-only codes are left out: they do not quarantine.
func topCodes(codes map[string]int, n int) string {
	var cs []Count
	for _, k := range slices.Sorted(maps.Keys(codes)) {
		switch k {
		case validate.CodePasswordNotImported, validate.CodeUnknownColumn, validate.CodeHashWarning,
			validate.CodeUserIDPrefix, validate.CodeNameLengthDisputed, validate.CodePictureInvalid:
			continue
		}
		cs = append(cs, Count{k, codes[k]})
	}
	slices.SortStableFunc(cs, func(x, y Count) int { return y.N - x.N })
	more := 0
	if len(cs) > n {
		more = len(cs) - n
		cs = cs[:n]
	}
	s := counts(cs)
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// Risks lists the risks of strategy s for these answers and data, whether
// or not s is the one the advisor recommends (a plan may override it).
func Risks(s Strategy, a Answers, d Data) []string { return risks(s, a, d, derive(a, d)) }
