package advisor

import (
	"strings"
	"testing"
)

// demo is shaped like fixtures/demo-users.csv: 299 hashed rows, 20 of them
// in forms Auth0 cannot import.
var demo = Data{
	Rows: 300, Valid: 284, Quarantined: 16, Duplicates: 3,
	Hashes: map[string]int{"bcrypt": 142, "none": 41, "pbkdf2": 26, "ldap": 19, "argon2": 16, "md5": 10, "sha256": 10,
		"phpass": 8, "sha1": 8, "md5-crypt": 6, "scrypt": 6, "sha512-crypt": 6, "invalid": 1},
	Codes: map[string]int{"EMAIL_INVALID": 2, "DUPLICATE_EMAIL": 1, "USERNAME_LENGTH": 1, "USERNAME_CHARACTERS": 1,
		"USERNAME_IS_EMAIL": 1, "PASSWORD_NOT_IMPORTABLE": 20, "BROKEN_RECORD": 1},
	NoUserID: 29, NoUsername: 177,
}

// clean has only importable hashes; few has 3 md5-crypt in 1,000.
var (
	clean  = Data{Rows: 500, Valid: 500, Hashes: map[string]int{"bcrypt": 400, "pbkdf2": 100}}
	few    = Data{Rows: 1000, Valid: 1000, Hashes: map[string]int{"bcrypt": 997, "md5-crypt": 3}}
	mostly = Data{Rows: 100, Valid: 100, Hashes: map[string]int{"md5-crypt": 73, "bcrypt": 27}}
	noHash = Data{Rows: 10, Valid: 10, Hashes: map[string]int{"none": 10}}
)

var online = Answers{LegacyStore: true, LegacyOnline: true}

func with(a Answers, f func(*Answers)) Answers { f(&a); return a }

func TestAdviseDecisionTable(t *testing.T) {
	tests := []struct {
		name      string
		answers   Answers
		data      Data
		strategy  Strategy
		rule      string
		reason    string     // the first reason, exactly
		alts      []Strategy // alternatives in rank order
		notViable []Strategy
	}{
		{
			name: "no store, no export", answers: Answers{PasswordPolicy: "fair"}, data: Data{},
			strategy: SelfSignup, rule: RuleNoUsers,
			reason:    "There is no legacy user store and no export: there are no existing users to move.",
			alts:      []Strategy{Bulk, AutomaticThenBulk, Automatic, Proxy},
			notViable: []Strategy{Bulk, AutomaticThenBulk, Automatic, Proxy},
		},
		{
			name: "fresh start", answers: Answers{LegacyStore: true, FreshStart: true, PasswordPolicy: "excellent"}, data: demo,
			strategy: SelfSignup, rule: RuleFreshStart,
			reason:    "Existing users will sign up again in Auth0 instead of being moved, as answered: nothing is migrated.",
			alts:      []Strategy{Bulk, AutomaticThenBulk, Automatic, Proxy},
			notViable: []Strategy{AutomaticThenBulk, Automatic, Proxy},
		},
		{
			name: "fresh start with the store online", answers: Answers{LegacyStore: true, FreshStart: true, LegacyOnline: true}, data: Data{},
			strategy: SelfSignup, rule: RuleFreshStart,
			reason: "Existing users will sign up again in Auth0 instead of being moved, as answered: nothing is migrated.",
			alts:   []Strategy{Bulk, AutomaticThenBulk, Automatic, Proxy},
		},
		{
			name: "export of a store that is gone", answers: Answers{}, data: mostly,
			strategy: Bulk, rule: RuleExportOnly,
			reason:    "There is no live legacy store, but the export holds 100 users: a bulk import is the only way to keep them.",
			alts:      []Strategy{SelfSignup, AutomaticThenBulk, Automatic, Proxy},
			notViable: []Strategy{AutomaticThenBulk, Automatic, Proxy},
		},
		{
			name: "store must keep serving apps", answers: with(online, func(a *Answers) { a.KeepLegacy = true }), data: demo,
			strategy: Proxy, rule: RuleKeepLegacy,
			reason:    "Applications that cannot move still use the legacy store, so it must stay the single source of truth for passwords and profiles.",
			alts:      []Strategy{AutomaticThenBulk, Automatic, Bulk, SelfSignup},
			notViable: []Strategy{Bulk, SelfSignup},
		},
		{
			name: "store must keep serving apps but Auth0 cannot reach it", answers: Answers{LegacyStore: true, KeepLegacy: true}, data: demo,
			strategy: Bulk, rule: RuleKeepLegacyUnreachable,
			reason:    "Applications that cannot move still use the legacy store, but Auth0 cannot reach it, so it cannot be proxied.",
			alts:      []Strategy{SelfSignup, Proxy, AutomaticThenBulk, Automatic},
			notViable: []Strategy{Proxy, AutomaticThenBulk, Automatic},
		},
		{
			name: "store goes offline", answers: Answers{LegacyStore: true}, data: demo,
			strategy: Bulk, rule: RuleStoreOffline,
			reason:    "The legacy store cannot stay online during the transition, so Auth0 cannot check passwords against it: the users must come from an export.",
			alts:      []Strategy{SelfSignup, AutomaticThenBulk, Automatic, Proxy},
			notViable: []Strategy{AutomaticThenBulk, Automatic, Proxy},
		},
		{
			name: "every hash importable", answers: with(online, func(a *Answers) { a.DeadlineDays = 180 }), data: clean,
			strategy: Bulk, rule: RuleAllImportable,
			reason: "Every password hash in the sample is in a form Auth0 imports (bcrypt 400, pbkdf2 100): a bulk import keeps every password.",
			alts:   []Strategy{AutomaticThenBulk, Automatic, Proxy, SelfSignup},
		},
		{
			name: "no hashes at all", answers: online, data: noHash,
			strategy: Bulk, rule: RuleAllImportable,
			reason: "The sample holds no password hashes, so no strategy can keep passwords: every user sets one after the move.",
			alts:   []Strategy{AutomaticThenBulk, Automatic, Proxy, SelfSignup},
		},
		{
			name: "a few unimportable hashes", answers: with(online, func(a *Answers) { a.DeadlineDays = 180 }), data: few,
			strategy: Bulk, rule: RuleFewUnimportable,
			reason: "Only 3 of 1,000 hashes (<1%) are md5-crypt, which Auth0 cannot import: resetting those passwords costs less than writing and running custom database scripts.",
			alts:   []Strategy{AutomaticThenBulk, Automatic, Proxy, SelfSignup},
		},
		{
			name: "deadline too short", answers: with(online, func(a *Answers) { a.DeadlineDays = 20 }), data: mostly,
			strategy: Bulk, rule: RuleShortDeadline,
			reason:    "The legacy store must be decommissioned in 20 days: too little time for users to migrate by logging in (automatic migration needs a window of weeks, and 14 days are kept for the bulk phase).",
			alts:      []Strategy{AutomaticThenBulk, Proxy, SelfSignup, Automatic},
			notViable: []Strategy{Automatic},
		},
		{
			name: "few active users", answers: with(online, func(a *Answers) { a.DeadlineDays = 365; a.ActivePercent = 5 }), data: mostly,
			strategy: Bulk, rule: RuleLowActivity,
			reason: "Only 5% of users signed in during the last 90 days: few would migrate by logging in, so custom database scripts would carry little.",
			alts:   []Strategy{AutomaticThenBulk, Automatic, Proxy, SelfSignup},
		},
		{
			name: "no deadline", answers: with(online, func(a *Answers) { a.ActivePercent = 40 }), data: mostly,
			strategy: Automatic, rule: RuleNoDeadline,
			reason: "73% of the hashes (73 of 100) are md5-crypt, which Auth0 cannot import: automatic migration keeps those passwords as users log in.",
			alts:   []Strategy{AutomaticThenBulk, Bulk, Proxy, SelfSignup},
		},
		{
			name: "no deadline and no sample", answers: online, data: Data{},
			strategy: Automatic, rule: RuleNoDeadline,
			reason: "No sample was validated, so the hashes are unknown: automatic migration keeps every password whatever its form, as users log in.",
			alts:   []Strategy{AutomaticThenBulk, Bulk, Proxy, SelfSignup},
		},
		{
			name: "two stages", answers: with(online, func(a *Answers) { a.DeadlineDays = 180 }), data: mostly,
			strategy: AutomaticThenBulk, rule: RuleTwoStage,
			reason: "73% of the hashes (73 of 100) are md5-crypt, which Auth0 cannot import: automatic migration keeps those passwords as users log in; bulk-import the rest after 90 days.",
			alts:   []Strategy{Bulk, Automatic, Proxy, SelfSignup},
		},
		{
			name: "two stages with a window shortened by the deadline", answers: with(online, func(a *Answers) { a.DeadlineDays = 60 }), data: demo,
			strategy: AutomaticThenBulk, rule: RuleTwoStage,
			reason: "7% of the hashes (20 of 298) are phpass, md5-crypt and sha512-crypt, which Auth0 cannot import: automatic migration keeps those passwords as users log in; bulk-import the rest after 46 days.",
			alts:   []Strategy{Bulk, Automatic, Proxy, SelfSignup},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Advise(tt.answers, tt.data)
			if r.Strategy != tt.strategy || r.Rule != tt.rule {
				t.Fatalf("got %s (rule %s), want %s (rule %s)\nreasons: %q", r.Strategy, r.Rule, tt.strategy, tt.rule, r.Reasons)
			}
			if len(r.Reasons) == 0 || r.Reasons[0] != tt.reason {
				t.Errorf("first reason:\n got %q\nwant %q", first(r.Reasons), tt.reason)
			}
			var got []Strategy
			for _, alt := range r.Alternatives {
				got = append(got, alt.Strategy)
				if alt.Reason == "" {
					t.Errorf("alternative %s has no reason", alt.Strategy)
				}
				if alt.Strategy == r.Strategy {
					t.Errorf("the recommended strategy is also an alternative")
				}
				if want := !contains(tt.notViable, alt.Strategy); alt.Viable != want {
					t.Errorf("alternative %s viable = %v, want %v", alt.Strategy, alt.Viable, want)
				}
			}
			if strings.Join(strs(got), ",") != strings.Join(strs(tt.alts), ",") {
				t.Errorf("alternatives %v, want %v", got, tt.alts)
			}
		})
	}
}

func TestAdviseDetails(t *testing.T) {
	t.Run("two-stage window and active estimate", func(t *testing.T) {
		r := Advise(with(online, func(a *Answers) { a.DeadlineDays = 120; a.ActivePercent = 60; a.Users = 50000 }), mostly)
		if r.WindowDays != 90 {
			t.Errorf("window %d, want 90", r.WindowDays)
		}
		want := []string{
			"That leaves 30 days, before the legacy store's decommissioning in 120 days, for the bulk phase.",
			"With 60% of users signing in every 90 days, about 30,000 users should migrate by logging in within 90 days; the others are imported with the rest.",
		}
		for _, w := range want {
			if !contains(r.Reasons, w) {
				t.Errorf("missing reason %q in %q", w, r.Reasons)
			}
		}
		if alt := r.Alternatives[0]; alt.Reason != "Now, without a migration window: simpler, but about 36,500 users (73%) with md5-crypt hashes would reset their password." {
			t.Errorf("bulk alternative: %q", alt.Reason)
		}
	})
	t.Run("bulk says how many reset", func(t *testing.T) {
		r := Advise(Answers{LegacyStore: true, Users: 10000}, demo)
		want := "7% of the hashes (20 of 298) are phpass, md5-crypt and sha512-crypt, which Auth0 cannot import: about 671 users reset their password after the import. Automatic migration would have kept them, but needs the store online."
		if r.Reasons[1] != want {
			t.Errorf("got %q\nwant %q", r.Reasons[1], want)
		}
	})
	t.Run("social is an addition", func(t *testing.T) {
		if r := Advise(Answers{Social: true}, Data{}); len(r.Additions) != 1 || !strings.HasPrefix(r.Additions[0], "Social sign-up:") {
			t.Errorf("additions %q", r.Additions)
		}
		if r := Advise(Answers{}, Data{}); len(r.Additions) != 0 {
			t.Errorf("additions without social: %q", r.Additions)
		}
	})
	t.Run("pure", func(t *testing.T) {
		a := with(online, func(a *Answers) { a.DeadlineDays = 60 })
		x, y := Advise(a, demo), Advise(a, demo)
		if strings.Join(x.Reasons, "|")+strings.Join(x.Risks, "|") != strings.Join(y.Reasons, "|")+strings.Join(y.Risks, "|") {
			t.Error("two calls with the same inputs differ")
		}
	})
}

func TestRisks(t *testing.T) {
	tests := []struct {
		name    string
		answers Answers
		data    Data
		want    []string // substrings, each in some risk
		absent  []string
	}{
		{
			name: "bulk on the demo", answers: Answers{LegacyStore: true}, data: demo,
			want: []string{
				"16 of 300 rows (5%) break Auth0's import rules (EMAIL_INVALID 2, BROKEN_RECORD 1, DUPLICATE_EMAIL 1, USERNAME_CHARACTERS 1 and 2 more): they are quarantined, not imported",
				"3 rows repeat the email, username or user_id of an earlier row: only the first is imported",
				"41 users (14%) have no password: they can sign in only after a password reset.",
				"3 usernames break the username rule (1 to 15 characters",
				`Passwords brought over are kept even if they do not meet the "good" policy`,
			},
			absent: []string{"no user_id", "DUPLICATED_USER"},
		},
		{
			name: "scripts on the demo", answers: with(online, func(a *Answers) { a.DeadlineDays = 120; a.Social = true }), data: demo,
			want: []string{
				"Auth0 rejects the same profiles when the scripts return them",
				"a login with that email would match more than one legacy user",
				"29 rows have no user_id: the scripts need a permanent id",
				"only after a password reset or a social login.",
				"DUPLICATED_USER: run provision remaining right before the bulk phase",
			},
		},
		{
			name: "proxy", answers: with(online, func(a *Answers) { a.KeepLegacy = true }), data: clean,
			want:   []string{"an outage of the store is an outage of login"},
			absent: []string{"break Auth0's import rules"},
		},
		{
			name: "self sign-up has nothing to bring over", answers: Answers{PasswordPolicy: "excellent", UsernameRequired: true}, data: Data{},
			absent: []string{"Passwords brought over", "no password", "username"},
		},
		{
			name: "large bulk", answers: Answers{LegacyStore: true, Users: 250000}, data: clean,
			want: []string{"250,000 users make about 250 import files of up to 500 KB"},
		},
		{
			name: "required usernames missing", answers: Answers{LegacyStore: true, UsernameRequired: true}, data: demo,
			want: []string{"177 users have no username but the connection will require one"},
		},
		{
			name: "store kept but unreachable", answers: Answers{LegacyStore: true, KeepLegacy: true}, data: clean,
			want: []string{"The legacy store and Auth0 drift apart after the import"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Advise(tt.answers, tt.data)
			all := strings.Join(r.Risks, "\n")
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no risk contains %q; risks:\n%s", w, all)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(all, a) {
					t.Errorf("a risk contains %q; risks:\n%s", a, all)
				}
			}
		})
	}
}

func TestQuestions(t *testing.T) {
	qs := Questions()
	keys := map[string]bool{}
	for _, q := range qs {
		if keys[q.Key] {
			t.Errorf("key %s twice", q.Key)
		}
		keys[q.Key] = true
		if q.Title == "" || q.Help == "" || q.Get == nil || q.Set == nil || q.Skip == nil {
			t.Errorf("question %s is incomplete", q.Key)
		}
		if q.Kind == Choice && len(q.Options) == 0 {
			t.Errorf("choice %s has no options", q.Key)
		}
	}
	find := func(key string) Question {
		for _, q := range qs {
			if q.Key == key {
				return q
			}
		}
		t.Fatalf("no question %s", key)
		return Question{}
	}

	// Answering every question through Set gives the answers a file would.
	var a Answers
	for key, v := range map[string]string{
		"legacy_store": "yes", "fresh_start": "no", "keep_legacy": "no", "legacy_online": "y", "legacy_database": "MySQL",
		"legacy_table": "auth.members", "users": "12000", "active_percent": "35%", "deadline_days": "90",
		"social": "true", "password_policy": "Excellent", "username_required": "yes", "username_length": "3-20",
	} {
		if err := find(key).Set(&a, v); err != nil {
			t.Fatalf("%s=%s: %v", key, v, err)
		}
	}
	want := Answers{LegacyStore: true, LegacyOnline: true, LegacyDatabase: "mysql", LegacyTable: "auth.members", Users: 12000,
		ActivePercent: 35, DeadlineDays: 90, Social: true, PasswordPolicy: "excellent", UsernameRequired: true, UsernameLength: "3-20"}
	if a != want {
		t.Errorf("answers\n got %+v\nwant %+v", a, want)
	}
	for _, q := range qs {
		if got := q.Get(a); q.Validate(got) != nil {
			t.Errorf("%s: Get gives %q, which Set refuses", q.Key, got)
		}
	}

	bad := []struct{ key, value, msg string }{
		{"legacy_store", "maybe", "yes or no"},
		{"legacy_database", "oracle", "postgresql or mysql"},
		{"legacy_table", "users; drop table users", "letters, digits and _"},
		{"legacy_table", "a.b.c", "such as users"},
		{"active_percent", "101", "from 0 to 100"},
		{"users", "-1", "from 0"},
		{"password_policy", "strong", "none, low, fair, good, excellent"},
		{"username_length", "20-3", "minimum is above the maximum"},
		{"username_length", "0-200", "Auth0 allows 1 to 128"},
	}
	for _, b := range bad {
		if err := find(b.key).Validate(b.value); err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s=%q: error %v, want one containing %q", b.key, b.value, err, b.msg)
		}
	}

	skips := []struct {
		key     string
		answers Answers
		skip    bool
	}{
		{"keep_legacy", Answers{}, true},
		{"keep_legacy", Answers{LegacyStore: true}, false},
		{"keep_legacy", Answers{LegacyStore: true, FreshStart: true}, true},
		{"fresh_start", Answers{}, true},
		{"fresh_start", Answers{LegacyStore: true}, false},
		{"legacy_database", Answers{LegacyStore: true}, true},
		{"legacy_database", online, false},
		{"deadline_days", with(online, func(a *Answers) { a.KeepLegacy = true }), true},
		{"deadline_days", online, false},
		{"username_length", Answers{}, true},
		{"username_length", Answers{UsernameRequired: true}, false},
		{"social", Answers{}, false},
	}
	for _, s := range skips {
		if got := find(s.key).Skip(s.answers); got != s.skip {
			t.Errorf("%s with %+v: skip = %v, want %v", s.key, s.answers, got, s.skip)
		}
	}
}

func TestAnswersCheck(t *testing.T) {
	tests := []struct {
		a   Answers
		err string
	}{
		{Answers{}, ""},
		{Answers{LegacyDatabase: "db2"}, "legacy_database"},
		{Answers{ActivePercent: 150}, "active_percent"},
		{Answers{DeadlineDays: -3}, "deadline_days"},
		{Answers{Users: -1}, "users"},
		{Answers{PasswordPolicy: "meh"}, "password_policy"},
		{Answers{UsernameLength: "abc"}, "username_length"},
	}
	for _, tt := range tests {
		err := tt.a.Check()
		if (tt.err == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tt.err)) {
			t.Errorf("%+v: error %v, want prefix %q", tt.a, err, tt.err)
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func strs(s []Strategy) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = string(x)
	}
	return out
}
