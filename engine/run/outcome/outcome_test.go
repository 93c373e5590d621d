package outcome

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/engine/importuser"
	"provision/engine/target"
	"provision/storage"
)

var (
	jobTime = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	before  = jobTime.Add(-24 * time.Hour) // created before the run
	after   = jobTime.Add(time.Second)     // created by the run
)

// finder is a target's users by email, counting lookups.
type finder struct {
	users map[string][]target.User
	err   error
	mu    sync.Mutex
	calls int
}

func (f *finder) UsersByEmail(_ context.Context, email string) ([]target.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.users[email], nil
}

func dbUser(email string, created time.Time) target.User {
	return target.User{UserID: "auth0|" + email, Email: email, CreatedAt: created,
		Identities: []target.Identity{{Connection: "Users", Provider: "auth0", UserID: email}}}
}

func members(emails ...string) []Member {
	out := make([]Member, len(emails))
	for i, e := range emails {
		out[i] = Member{Row: storage.RowID(i + 1), Email: e}
	}
	return out
}

func jobErr(email string, codes ...string) target.JobUserError {
	e := target.JobUserError{User: importuser.User{Email: email}}
	for _, c := range codes {
		e.Errors = append(e.Errors, target.UserError{Code: c, Message: "msg " + c, Path: "email"})
	}
	return e
}

func job(inserted, updated, failed int) target.Job {
	return target.Job{ID: "job_1", Status: target.StatusCompleted, CreatedAt: jobTime,
		Summary: target.Summary{Inserted: inserted, Updated: updated, Failed: failed, Total: inserted + updated + failed}}
}

func states(r Result) string {
	s := ""
	for _, o := range r.Outcomes {
		s += o.State.String()[:1]
	}
	return s
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name        string
		in          Input
		users       map[string][]target.User
		want        string // one letter per member: i(nserted) u(pdated) f(ailed)
		wantLookups int
	}{
		{
			name: "insert: users without errors were inserted",
			in:   Input{Members: members("a", "b", "c"), Job: job(2, 0, 1), Errors: []target.JobUserError{jobErr("b", "FORMAT")}},
			want: "ifi",
		},
		{
			name: "insert: a duplicate on a first attempt is a failure, unconfirmed",
			in:   Input{Members: members("a", "b"), Job: job(1, 0, 1), Errors: []target.JobUserError{jobErr("b", "DUPLICATED_USER")}},
			want: "if",
		},
		{
			name:        "insert, resubmitted: a duplicate the lost attempt created counts as inserted",
			in:          Input{Members: members("a", "b", "c"), Job: job(1, 0, 2), Resubmitted: true, Since: jobTime, Errors: []target.JobUserError{jobErr("a", "DUPLICATED_USER"), jobErr("b", "DUPLICATED_USER")}},
			users:       map[string][]target.User{"a": {dbUser("a", after)}, "b": {dbUser("b", before)}},
			want:        "ifi", // b existed before the run: its duplicate stands
			wantLookups: 2,
		},
		{
			name:        "insert, resubmitted: a conflict not found in the connection stays failed",
			in:          Input{Members: members("a"), Job: job(0, 0, 1), Resubmitted: true, Since: jobTime, Errors: []target.JobUserError{jobErr("a", "CONFLICT_USERNAME")}},
			want:        "f",
			wantLookups: 1,
		},
		{
			name:        "insert, resubmitted: other errors are not looked up",
			in:          Input{Members: members("a"), Job: job(0, 0, 1), Resubmitted: true, Since: jobTime, Errors: []target.JobUserError{jobErr("a", "PATTERN")}},
			want:        "f",
			wantLookups: 0,
		},
		{
			name: "upsert: nothing updated means all inserted",
			in:   Input{Members: members("a", "b"), Job: job(2, 0, 0), Upsert: true, Since: jobTime},
			want: "ii",
		},
		{
			name: "upsert: nothing inserted means all updated",
			in:   Input{Members: members("a", "b", "c"), Job: job(0, 2, 1), Upsert: true, Since: jobTime, Errors: []target.JobUserError{jobErr("c", "CONFLICT_USERNAME")}},
			want: "uuf",
		},
		{
			name:        "upsert: a mixed job is settled user by user",
			in:          Input{Members: members("a", "b"), Job: job(1, 1, 0), Upsert: true, Since: jobTime},
			users:       map[string][]target.User{"a": {dbUser("a", before)}, "b": {dbUser("b", after)}},
			want:        "ui",
			wantLookups: 2,
		},
		{
			name:        "upsert, resubmitted: all updated may still be the lost attempt's inserts",
			in:          Input{Members: members("a", "b"), Job: job(0, 2, 0), Upsert: true, Resubmitted: true, Since: jobTime},
			users:       map[string][]target.User{"a": {dbUser("a", after)}, "b": {dbUser("b", before)}},
			want:        "iu",
			wantLookups: 2,
		},
		{
			name: "upsert, resubmitted: nothing updated means nobody existed",
			in:   Input{Members: members("a", "b"), Job: job(2, 0, 0), Upsert: true, Resubmitted: true, Since: jobTime},
			want: "ii",
		},
		{
			name:        "a user in another connection is not ours",
			in:          Input{Members: members("a"), Job: job(0, 0, 1), Resubmitted: true, Since: jobTime, Errors: []target.JobUserError{jobErr("a", "DUPLICATED_USER")}},
			users:       map[string][]target.User{"a": {{UserID: "google|1", CreatedAt: after, Identities: []target.Identity{{Connection: "google-oauth2", Provider: "google-oauth2"}}}}},
			want:        "f",
			wantLookups: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &finder{users: tc.users}
			got, err := Decide(context.Background(), tc.in, f, Options{Connection: "Users"})
			if err != nil {
				t.Fatal(err)
			}
			if s := states(got); s != tc.want {
				t.Errorf("outcomes %q, want %q", s, tc.want)
			}
			if f.calls != tc.wantLookups || got.Lookups != tc.wantLookups {
				t.Errorf("%d lookups (reported %d), want %d", f.calls, got.Lookups, tc.wantLookups)
			}
			for _, o := range got.Outcomes {
				if o.State == storage.UserFailed && o.ErrorCode == "" {
					t.Errorf("row %d failed without a code", o.Row)
				}
			}
		})
	}
}

func TestDecideKeepsEveryReasonAndTheUserID(t *testing.T) {
	in := Input{Members: []Member{{Row: 7, Email: "a"}, {Row: 8, Email: "b", UserID: "auth0|42"}}, Job: job(1, 0, 1),
		Errors: []target.JobUserError{jobErr("A", "FORMAT", "PATTERN")}} // Auth0 echoes the email as sent
	got, err := Decide(context.Background(), in, &finder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := got.Outcomes[0], got.Outcomes[1]
	if a.State != storage.UserFailed || a.ErrorCode != "FORMAT" || a.ErrorMessage != "FORMAT: msg FORMAT (email); PATTERN: msg PATTERN (email)" {
		t.Errorf("failed outcome = %+v", a)
	}
	if b.State != storage.UserInserted || b.UserID != "auth0|42" {
		t.Errorf("inserted outcome = %+v, want the known user_id kept", b)
	}
}

func TestDecideNotesWhatDoesNotAddUp(t *testing.T) {
	in := Input{Members: members("a", "b"), Job: job(1, 0, 1), Errors: []target.JobUserError{jobErr("stranger", "FORMAT")}}
	got, err := Decide(context.Background(), in, &finder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notes) != 2 {
		t.Errorf("notes = %q, want one for the stranger and one for the totals", got.Notes)
	}
}

// A lookup that fails leaves the job undecided rather than guessed.
func TestDecideFailsWhenALookupFails(t *testing.T) {
	in := Input{Members: members("a", "b"), Job: job(1, 1, 0), Upsert: true, Since: jobTime}
	if _, err := Decide(context.Background(), in, &finder{err: errors.New("503")}, Options{}); err == nil {
		t.Fatal("Decide guessed an outcome although the lookup failed")
	}
}

// Without lookups, a mixed upsert job must not claim inserts a rollback
// would delete.
func TestDecideWithoutLookupsNeverClaimsAnInsertItCannotProve(t *testing.T) {
	in := Input{Members: members("a", "b"), Job: job(1, 1, 0), Upsert: true, Since: jobTime}
	got, err := Decide(context.Background(), in, &finder{err: fmt.Errorf("look up: %w", target.ErrUnsupported)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := states(got); s != "uu" {
		t.Errorf("outcomes %q, want both updated", s)
	}
}

func BenchmarkDecide1000(b *testing.B) {
	emails := make([]string, 1000)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%d@example.com", i)
	}
	in := Input{Members: members(emails...), Job: job(990, 0, 10)}
	for i := 0; i < 10; i++ {
		in.Errors = append(in.Errors, jobErr(emails[i*100], "FORMAT"))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decide(context.Background(), in, &finder{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// A reason about a password hash may quote it: only its code and path are
// kept.
func TestDecideWithholdsMessagesAboutSecrets(t *testing.T) {
	const hash = "$2b$10$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ"
	in := Input{Members: members("a"), Job: job(0, 0, 1), Errors: []target.JobUserError{{
		User:   importuser.User{Email: "a"},
		Errors: []target.UserError{{Code: "PATTERN", Message: "String does not match pattern ^\\$2[ab]\\$: " + hash, Path: "custom_password_hash.hash.value"}},
	}}}
	got, err := Decide(context.Background(), in, &finder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := got.Outcomes[0]
	if o.ErrorCode != "PATTERN" || strings.Contains(o.ErrorMessage, hash) || !strings.Contains(o.ErrorMessage, "custom_password_hash.hash.value") {
		t.Errorf("outcome %+v: want the code and path without the hash", o)
	}
}
