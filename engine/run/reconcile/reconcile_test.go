package reconcile

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"provision/storage"
)

// journalWith builds a journal of n rows: row 2 quarantined, row 3 a
// skipped duplicate, and the rest in one stage where every 5th user
// failed, every 7th was updated and the rest inserted; the last user is
// left without an outcome when unfinished is set.
func journalWith(t testing.TB, n int, unfinished bool) *storage.Journal {
	t.Helper()
	ctx := context.Background()
	j, err := storage.Create(filepath.Join(t.TempDir(), "journal.db"), storage.Meta{
		Source:   storage.SourceFingerprint{Path: "/data/users.csv", Size: 1234, SHA256: strings.Repeat("ab", 32)},
		Settings: storage.RunSettings{Target: "auth0:acme.eu.auth0.com", ConnectionID: "con_0123456789abcdef"},
	}, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var users []storage.NewUser
	var valid []storage.RowID
	for i := 1; i <= n; i++ {
		u := storage.NewUser{Row: storage.RowID(i), Line: i + 1, Email: fmt.Sprintf("user%d@example.com", i), State: storage.UserPending}
		switch i {
		case 2:
			u.State, u.Email, u.ErrorCode, u.ErrorMessage = storage.UserQuarantined, "=cmd|' /C calc'!A0", "EMAIL_INVALID", "email: not an email address"
		case 3:
			u.State, u.Email, u.ErrorCode, u.ErrorMessage = storage.UserSkipped, "user1@example.com", "DUPLICATE_EMAIL", "email: already on line 2"
		default:
			valid = append(valid, u.Row)
		}
		users = append(users, u)
	}
	if err := j.AddUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	if err := j.DefineStages([]storage.StagePlan{{Name: "all", Planned: len(valid), Gate: storage.Gate{MaxFailureRate: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := j.AssignUsers(ctx, "all", valid); err != nil {
		t.Fatal(err)
	}
	if err := j.StartStage("all"); err != nil {
		t.Fatal(err)
	}
	send := valid
	if unfinished {
		send = valid[:len(valid)-1]
	}
	for lo := 0; lo < len(send); lo += 1000 {
		rows := send[lo:min(lo+1000, len(send))]
		id, err := j.PlanChunk("all", rows)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.MarkChunkSubmitting(id); err != nil {
			t.Fatal(err)
		}
		if err := j.RecordJobID(id, fmt.Sprintf("job_%d", id)); err != nil {
			t.Fatal(err)
		}
		outs := make([]storage.Outcome, len(rows))
		for k, r := range rows {
			outs[k] = storage.Outcome{Row: r, State: storage.UserInserted}
			switch {
			case r%5 == 0:
				outs[k] = storage.Outcome{Row: r, State: storage.UserFailed, ErrorCode: "PASSWORD_STRENGTH", ErrorMessage: "PASSWORD_STRENGTH: too weak"}
			case r%7 == 0:
				outs[k].State = storage.UserUpdated
			}
		}
		if err := j.CompleteChunk(id, outs); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

func TestBuildPutsEveryRowInOneBucket(t *testing.T) {
	const n = 100
	j := journalWith(t, n, false)
	r, err := Build(context.Background(), j, n)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sum() != n || r.Rows != n {
		t.Fatalf("buckets add up to %d of %d rows", r.Sum(), n)
	}
	// Rows 4..100: multiples of 5 failed (20 of them, 5 to 100), multiples
	// of 7 not of 5 updated (14-2 = 12: 7,14,...,98 less 35 and 70).
	want := map[Bucket]int{Quarantined: 1, Skipped: 1, Failed: 20, Updated: 12, Inserted: n - 2 - 20 - 12 - 1}
	// Row 1 is valid and neither: inserted. Rows 2 and 3 are not staged.
	want[Inserted]++
	for b, c := range want {
		if r.Buckets[b] != c {
			t.Errorf("bucket %s = %d, want %d (all: %v)", b, r.Buckets[b], c, r.Buckets)
		}
	}
	if !r.Complete || len(r.Failed) != 20 || r.FailedByCode["PASSWORD_STRENGTH"] != 20 || r.Quarantined[0].Code != "EMAIL_INVALID" {
		t.Errorf("report details: complete=%t failed=%d by code=%v quarantined=%+v", r.Complete, len(r.Failed), r.FailedByCode, r.Quarantined)
	}
}

func TestBuildCountsUnfinishedRows(t *testing.T) {
	j := journalWith(t, 50, true)
	r, err := Build(context.Background(), j, 50)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Buckets[NotMigrated] != 1 || r.Sum() != 50 {
		t.Errorf("unfinished run: complete=%t not migrated=%d sum=%d", r.Complete, r.Buckets[NotMigrated], r.Sum())
	}
}

// A report that would not add up is refused, not printed.
func TestBuildRefusesAReportThatDoesNotAddUp(t *testing.T) {
	j := journalWith(t, 30, false)
	var mismatch *MismatchError
	if _, err := Build(context.Background(), j, 31); !errors.As(err, &mismatch) {
		t.Fatalf("31 source rows for a journal of 30: %v, want a MismatchError", err)
	}
	if _, err := Build(context.Background(), j, 0); err == nil {
		t.Error("a run that never finished registering was reported")
	}
}

func TestWriters(t *testing.T) {
	j := journalWith(t, 40, false)
	r, err := Build(context.Background(), j, 40)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| **Total** | **40** |", "| Failed | 8 |", "PASSWORD_STRENGTH", "EMAIL_INVALID", "Skipped duplicates (1)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Sum() != 40 || len(back.Failed) != 8 {
		t.Errorf("JSON round trip: %v, sum %d, failed %d", err, back.Sum(), len(back.Failed))
	}
	var out bytes.Buffer
	if err := WriteCSV(context.Background(), j, &out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 41 {
		t.Fatalf("CSV has %d lines, want a header and 40 rows", len(recs))
	}
	if got := recs[2][2]; !strings.HasPrefix(got, "'=") {
		t.Errorf("a formula in the email column was written as %q", got)
	}
}

func TestWriteFixFile(t *testing.T) {
	j := journalWith(t, 12, false)
	dir := t.TempDir()
	src := filepath.Join(dir, "users.csv")
	var b strings.Builder
	b.WriteString("email,given_name,password_hash\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "user%d@example.com,=HYPERLINK(\"x\"),$2b$10$abc\n", i)
	}
	if err := os.WriteFile(src, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fix.csv")
	n, err := WriteFixFile(context.Background(), j, FixOptions{Source: src, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // rows 2 (quarantined), 5 and 10 (failed)
		t.Errorf("%d rows written, want 3", n)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("fix file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	data, _ := os.ReadFile(path)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "line" || recs[0][1] != "reason" || recs[0][2] != "email" {
		t.Errorf("header %v", recs[0])
	}
	if !strings.Contains(recs[2][1], "PASSWORD_STRENGTH") || recs[2][2] != "user5@example.com" || !strings.HasPrefix(recs[2][3], "'=") {
		t.Errorf("failed row written as %v", recs[2])
	}
}

func BenchmarkBuild100k(b *testing.B) {
	j := journalWith(b, 100_000, false)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), j, 100_000); err != nil {
			b.Fatal(err)
		}
	}
}
