package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func eventsOfKind(t testing.TB, j *Journal, kind EventKind, prefix string) int {
	t.Helper()
	events, err := j.Events(0, 1_000_000)
	must(t, err)
	n := 0
	for _, e := range events {
		if e.Kind == kind && strings.HasPrefix(e.Message, prefix) {
			n++
		}
	}
	return n
}

func TestBatchesAreGroupedIntoFewTransactions(t *testing.T) {
	j := newJournal(t)
	const n = 2*maxRecordsPerTx + 500 // three transactions
	must(t, j.DefineStages([]StagePlan{{Name: "all", Planned: n, Gate: Gate{MaxFailureRate: 1}}}))
	must(t, j.AddUsers(ctx, pendingUsers(1, n)))
	must(t, j.AssignUsers(ctx, "all", rowRange(1, n)))
	must(t, j.StartStage("all"))

	// Each transaction writes one event, so events count transactions.
	if got := eventsOfKind(t, j, EventUsers, "registered"); got != 3 {
		t.Errorf("registering %d users took %d transactions, want 3", n, got)
	}
	if got := eventsOfKind(t, j, EventUsers, "assigned"); got != 3 {
		t.Errorf("assigning %d users took %d transactions, want 3", n, got)
	}
	st, err := j.Status(0)
	must(t, err)
	if st.Stages[0].Users[UserAssigned] != n {
		t.Errorf("assigned = %d, want %d", st.Stages[0].Users[UserAssigned], n)
	}
}

func TestAddUsers(t *testing.T) {
	tests := []struct {
		name  string
		users []NewUser
		want  string // error text; "" for success
	}{
		{"pending", []NewUser{{Row: 1, Line: 2, Email: " Ann@Example.com", State: UserPending}}, ""},
		{"quarantined without email", []NewUser{{Row: 1, Line: 2, State: UserQuarantined, ErrorCode: "REQUIRED"}}, ""},
		{"skipped duplicate", []NewUser{
			{Row: 1, Line: 2, Email: "a@x.io", State: UserPending},
			{Row: 2, Line: 3, Email: "A@X.IO", State: UserSkipped, ErrorCode: "DUPLICATE"}}, ""},
		{"row zero", []NewUser{{Row: 0, Line: 2, Email: "a@x.io", State: UserPending}}, "row 0 is not a row"},
		{"pending without email", []NewUser{{Row: 1, Line: 2, State: UserPending}}, "needs an email"},
		{"registered as assigned", []NewUser{{Row: 1, Line: 2, Email: "a@x.io", State: UserAssigned}}, "registered as pending, quarantined or skipped"},
		{"same row, other contents", []NewUser{
			{Row: 1, Line: 2, Email: "a@x.io", State: UserPending},
			{Row: 1, Line: 2, Email: "b@x.io", State: UserPending}}, "already registered as pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJournal(t)
			err := j.AddUsers(ctx, tt.users)
			if tt.want == "" {
				must(t, err)
				requireVerified(t, j)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			// A refused batch leaves nothing behind.
			users, _ := j.CollectUsers(ctx, UserFilter{})
			if len(users) != 0 {
				t.Errorf("a refused batch left %d users", len(users))
			}
			requireVerified(t, j)
		})
	}
}

func TestBatchCallsCanBeRepeated(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 10, 10)
	id := submitChunk(t, j, "canary", rowRange(1, 10))
	res := outcomes(rowRange(1, 10), UserInserted)
	must(t, j.RecordOutcomes(ctx, res))
	before := takeSnapshot(t, j)

	// A resumed run replays every step; none may fail or change counts.
	must(t, j.AddUsers(ctx, pendingUsers(1, 10)))
	must(t, j.AssignUsers(ctx, "canary", rowRange(1, 10)))
	must(t, j.RecordOutcomes(ctx, res))
	must(t, j.RecordJobID(id, "job_1"))
	must(t, j.CompleteChunk(id, res))
	must(t, j.CompleteChunk(id, res))

	after := takeSnapshot(t, j)
	if !after.Status.Users.Equal(before.Status.Users) {
		t.Errorf("replay changed counts: %v -> %v", before.Status.Users, after.Status.Users)
	}
	if len(after.Users) != 10 || after.Users[3].State != UserInserted || after.Users[3].UserID != "auth0|4" {
		t.Errorf("users after replay: %+v", after.Users[3])
	}
	requireVerified(t, j)
}

func TestIllegalUserTransitionsNameTheUser(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 6, 3) // 1-3 canary (running), 4-6 rest
	done := submitChunk(t, j, "canary", rowRange(1, 2))
	must(t, j.CompleteChunk(done, outcomes(rowRange(1, 2), UserInserted)))
	must(t, j.AddUsers(ctx, []NewUser{{Row: 7, Line: 8, Email: "bad", State: UserQuarantined, ErrorCode: "FORMAT"}}))

	tests := []struct {
		name     string
		op       func() error
		subject  string
		from, to string
	}{
		{"outcome for an assigned user", func() error { return j.RecordOutcomes(ctx, outcomes([]RowID{3}, UserInserted)) },
			"user row 3 (line 4) <" + email(3) + ">", "assigned", "inserted"},
		{"a second, different outcome", func() error { return j.RecordOutcomes(ctx, outcomes([]RowID{1}, UserFailed)) },
			"user row 1 (line 2) <" + email(1) + ">", "inserted", "failed"},
		{"assigning a quarantined row", func() error { return j.AssignUsers(ctx, "canary", []RowID{7}) },
			"user row 7 (line 8) <bad>", "quarantined", "assigned"},
		{"moving a user to another stage", func() error { return j.AssignUsers(ctx, "rest", []RowID{1}) },
			"user row 1 (line 2)", "inserted", "assigned"},
		{"retrying an inserted user", func() error { return j.RetryUsers(ctx, []RowID{1}) },
			"user row 1", "inserted", "assigned"},
		{"rolling back outside a rollback", func() error { return j.MarkRolledBack(ctx, []RowID{1}) },
			"user row 1", "inserted", "rolled_back"},
		{"rolling back a user never inserted", func() error { return j.MarkRolledBack(ctx, []RowID{3}) },
			"user row 3", "assigned", "rolled_back"},
		{"an outcome that is not one", func() error { return j.RecordOutcomes(ctx, []Outcome{{Row: 2, State: UserSubmitted}}) },
			"user row 2", "inserted", "submitted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := takeSnapshot(t, j)
			err := tt.op()
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a *TransitionError", err)
			}
			if !strings.HasPrefix(te.Subject, tt.subject) || te.From != tt.from || te.To != tt.to {
				t.Errorf("got %q, want %s from %s to %s", err, tt.subject, tt.from, tt.to)
			}
			requireSameSnapshot(t, takeSnapshot(t, j), before)
		})
	}
	requireVerified(t, j)
}

func TestOutcomeValidation(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 4, 4)
	submitChunk(t, j, "canary", rowRange(1, 4))
	tests := []struct {
		name string
		o    Outcome
		want string
	}{
		{"failed without code", Outcome{Row: 1, State: UserFailed}, "needs the target's error code"},
		{"unknown row", Outcome{Row: 99, State: UserInserted}, "user row 99: not found"},
	}
	for _, tt := range tests {
		err := j.RecordOutcomes(ctx, []Outcome{tt.o})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := j.RecordOutcomes(ctx, []Outcome{{Row: 99}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown row: got %v, want ErrNotFound", err)
	}
}

func TestLongBatchStopsWhenCancelled(t *testing.T) {
	j := newJournal(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := j.AddUsers(cctx, pendingUsers(1, 5))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	users, _ := j.CollectUsers(ctx, UserFilter{})
	if len(users) != 0 {
		t.Errorf("a cancelled batch wrote %d users", len(users))
	}
}

func TestUsersIteration(t *testing.T) {
	j := newJournal(t)
	const n = 2*usersPageSize + 345
	startedRun(t, j, n, 1500)
	must(t, j.AddUsers(ctx, []NewUser{{Row: n + 1, Line: 1, State: UserQuarantined, ErrorCode: "X"}}))
	id := submitChunk(t, j, "canary", rowRange(1, 700))
	must(t, j.CompleteChunk(id, append(outcomes(rowRange(1, 650), UserInserted), outcomes(rowRange(651, 700), UserFailed)...)))

	tests := []struct {
		name  string
		f     UserFilter
		count int
		first RowID
	}{
		{"all", UserFilter{}, n + 1, 1},
		{"stage", UserFilter{Stage: "rest"}, n - 1500, 1501},
		{"state", UserFilter{States: []UserState{UserFailed}}, 50, 651},
		{"stage and states", UserFilter{Stage: "canary", States: []UserState{UserAssigned, UserFailed}}, 850, 651},
		{"quarantined", UserFilter{States: []UserState{UserQuarantined}}, 1, n + 1},
		{"none", UserFilter{Stage: "rest", States: []UserState{UserInserted}}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := j.CollectUsers(ctx, tt.f)
			must(t, err)
			if len(users) != tt.count {
				t.Fatalf("got %d users, want %d", len(users), tt.count)
			}
			for i := 1; i < len(users); i++ {
				if users[i].Row <= users[i-1].Row {
					t.Fatalf("not in row order at %d", i)
				}
			}
			if tt.count > 0 && users[0].Row != tt.first {
				t.Errorf("first row %d, want %d", users[0].Row, tt.first)
			}
		})
	}

	_, err := j.CollectUsers(ctx, UserFilter{Stage: "nope"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "canary, rest") {
		t.Errorf("unknown stage: got %v", err)
	}

	// The caller may write while iterating: plan every assigned canary
	// user into chunks as the iteration finds them.
	var batch []RowID
	for u, err := range j.Users(ctx, UserFilter{Stage: "canary", States: []UserState{UserAssigned}}) {
		must(t, err)
		batch = append(batch, u.Row)
		if len(batch) == 300 {
			_, err := j.PlanChunk("canary", batch)
			must(t, err)
			batch = nil
		}
	}
	if len(batch) != 200 {
		t.Errorf("left over %d users, want 200", len(batch))
	}
	requireVerified(t, j)
}

func TestUserLookups(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j)
	u, err := j.UserByEmail("  " + strings.ToUpper(email(2)))
	must(t, err)
	if u.Row != 2 || u.Stage != "canary" || u.State != UserInserted || u.UserID != "auth0|2" || u.Chunk != 1 || u.Line != 3 {
		t.Errorf("UserByEmail = %+v", u)
	}
	u, err = j.User(4)
	must(t, err)
	if u.State != UserFailed || u.ErrorCode != "PATTERN" {
		t.Errorf("User(4) = %+v", u)
	}
	// A skipped duplicate does not shadow the user it duplicates.
	u, err = j.UserByEmail(email(1))
	if err != nil || u.Row != 1 {
		t.Errorf("UserByEmail of a duplicated email = %+v, %v", u, err)
	}
	if _, err := j.UserByEmail("not-an-email"); !errors.Is(err, ErrNotFound) {
		t.Errorf("quarantined rows are not indexed by email: %v", err)
	}
	if _, err := j.User(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(999): %v", err)
	}
}

// The journal keeps no email index, so two valid rows with one email are
// the caller's mistake; Verify finds it.
func TestVerifyFindsADuplicatedValidEmail(t *testing.T) {
	j := newJournal(t)
	must(t, j.AddUsers(ctx, []NewUser{
		{Row: 1, Line: 2, Email: "a@x.io", State: UserPending},
		{Row: 2, Line: 3, Email: "A@x.io ", State: UserPending},
		{Row: 3, Line: 4, Email: "a@x.io", State: UserSkipped, ErrorCode: "DUPLICATE"},
	}))
	rep, err := j.Verify(ctx)
	must(t, err)
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "user row 2 (line 3) <a@x.io> has the email of row 1") {
		t.Errorf("Verify found %q, want the duplicated email of rows 1 and 2", rep.Problems)
	}
}

func TestWaitingRows(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 3000, 2000)
	_, err := j.PlanChunk("canary", rowRange(1, 10))
	must(t, err)
	got, err := j.WaitingRows(ctx, "canary")
	must(t, err)
	if want := rowRange(11, 2000); !slices.Equal(got, want) {
		t.Errorf("canary waiting: %d rows from %v, want %d from 11", len(got), got[:min(3, len(got))], len(want))
	}
	got, err = j.WaitingRows(ctx, "rest")
	must(t, err)
	if want := rowRange(2001, 3000); !slices.Equal(got, want) {
		t.Errorf("rest waiting: %d rows, want %d", len(got), len(want))
	}
	if _, err := j.WaitingRows(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown stage: %v", err)
	}
}
