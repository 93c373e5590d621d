package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// snapshot is everything a journal reports, for comparing two journals.
type snapshot struct {
	Meta   Meta
	Stages []Stage
	Users  []User
	Chunks []Chunk
	Events []Event
	Status Status
}

func takeSnapshot(t testing.TB, j *Journal) snapshot {
	t.Helper()
	var s snapshot
	var err error
	s.Meta, err = j.Meta()
	must(t, err)
	s.Stages, err = j.Stages()
	must(t, err)
	s.Users, err = j.CollectUsers(ctx, UserFilter{})
	must(t, err)
	s.Chunks, err = j.Chunks()
	must(t, err)
	s.Events, err = j.Events(0, 1_000_000)
	must(t, err)
	s.Status, err = j.Status(5)
	must(t, err)
	return s
}

func requireSameSnapshot(t testing.TB, got, want snapshot) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("journals differ:\n got %+v\nwant %+v", got, want)
	}
}

// smallRun leaves a journal with users in every state but rolled_back.
func smallRun(t testing.TB, j *Journal) {
	t.Helper()
	startedRun(t, j, 20, 10)
	must(t, j.AddUsers(ctx, []NewUser{
		{Row: 21, Line: 22, Email: "not-an-email", State: UserQuarantined, ErrorCode: "FORMAT", ErrorMessage: "email: missing @"},
		{Row: 22, Line: 23, Email: email(1), State: UserSkipped, ErrorCode: "DUPLICATE", ErrorMessage: "duplicate of line 2"},
		{Row: 23, Line: 24, Email: "later@example.com", State: UserPending},
	}))
	done := submitChunk(t, j, "canary", rowRange(1, 4))
	res := outcomes(rowRange(1, 3), UserInserted)
	res = append(res, outcomes([]RowID{4}, UserFailed)...)
	must(t, j.CompleteChunk(done, res))
	submitChunk(t, j, "canary", rowRange(5, 7)) // in flight
	_, err := j.PlanChunk("canary", rowRange(8, 9))
	must(t, err)
}

func TestReopenKeepsEverything(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j)
	before := takeSnapshot(t, j)
	j = reopen(t, j)
	requireSameSnapshot(t, takeSnapshot(t, j), before)
	requireVerified(t, j)

	want := UserCounts{UserInserted: 3, UserFailed: 1, UserSubmitted: 3, UserAssigned: 13, UserPending: 1, UserQuarantined: 1, UserSkipped: 1}
	if !before.Status.Users.Equal(want) {
		t.Errorf("users by state = %v, want %v", before.Status.Users, want)
	}
	if before.Meta.Schema != currentSchema.version || before.Meta.Source != testMeta().Source || before.Meta.Settings != testMeta().Settings {
		t.Errorf("meta = %+v", before.Meta)
	}
}

func TestJournalFilesArePrivate(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j)
	backup := filepath.Join(filepath.Dir(j.Path()), "backup.db")
	must(t, j.Backup(ctx, backup))
	_, err := j.Compact()
	must(t, err)
	for _, path := range []string{j.Path(), backup, lockInfoPath(j.Path())} {
		info, err := os.Stat(path)
		must(t, err)
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(path), perm)
		}
	}
	// Nothing else is left beside the journal (temporary files, copies).
	entries, err := os.ReadDir(filepath.Dir(j.Path()))
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := "backup.db journal.db journal.db.lockinfo"; strings.Join(names, " ") != want {
		t.Errorf("directory holds %v, want %s", names, want)
	}
}

func TestCreateRefusesAnExistingFile(t *testing.T) {
	j := newJournal(t)
	_, err := Create(j.Path(), testMeta(), Options{})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("got %v, want already exists", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	must(t, os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o600))
	emptyBolt := filepath.Join(dir, "other.db")
	db, err := bolt.Open(emptyBolt, 0o600, nil)
	must(t, err)
	must(t, db.Close())

	tests := []struct {
		name, path, want string
		is               error
	}{
		{"missing", filepath.Join(dir, "none.db"), "no journal at", fs.ErrNotExist},
		{"not bbolt", garbage, "is not a provision journal", nil},
		{"bbolt but not a journal", emptyBolt, "is not a provision journal", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := Open(tt.path, Options{})
			if err == nil {
				j.Close()
				t.Fatal("open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("got %q, want it to contain %q and the path", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want errors.Is %v", err, tt.is)
			}
			if _, err := os.Stat(lockInfoPath(tt.path)); !errors.Is(err, fs.ErrNotExist) {
				t.Error("a failed open must not leave a lock record")
			}
		})
	}
}

func TestClosedJournal(t *testing.T) {
	j := newJournal(t)
	must(t, j.Close())
	must(t, j.Close()) // twice is fine
	if _, err := j.Status(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Status on a closed journal: %v", err)
	}
	if err := j.AddUsers(ctx, pendingUsers(1, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("AddUsers on a closed journal: %v", err)
	}
	if _, err := j.Compact(); !errors.Is(err, ErrClosed) {
		t.Errorf("Compact on a closed journal: %v", err)
	}
}

func TestMetaValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Meta)
		reject string // "" when valid
	}{
		{"valid", func(*Meta) {}, ""},
		{"plain https target", func(m *Meta) { m.Settings.Target = "https://tenant.eu.auth0.com" }, ""},
		{"file target", func(m *Meta) { m.Settings.Target = "file:out/" }, ""},
		{"no fingerprint", func(m *Meta) { m.Source.SHA256 = "" }, "fingerprint"},
		{"credentials in target", func(m *Meta) { m.Settings.Target = "auth0:https://client:s3cr3t@tenant.auth0.com" }, "credentials"},
		{"user in target", func(m *Meta) { m.Settings.Target = "https://client@tenant.auth0.com" }, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMeta()
			tt.edit(&m)
			j, err := Create(filepath.Join(t.TempDir(), "j.db"), m, Options{})
			if tt.reject == "" {
				must(t, err)
				j.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.reject) {
				t.Fatalf("got %v, want an error about %s", err, tt.reject)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

// TestConcurrentUse runs the executor's writes, a UI's reads and a
// compaction at the same time (run with -race).
func TestConcurrentUse(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 2000, 2000)
	var chunks []ChunkID
	for start := RowID(1); start <= 2000; start += 100 {
		chunks = append(chunks, submitChunk(t, j, "canary", rowRange(start, start+99)))
	}

	done := make(chan struct{})
	errs := make(chan error, 3)
	go func() { // the executor
		defer close(done)
		for i, id := range chunks {
			if err := j.CompleteChunk(id, outcomes(rowRange(RowID(i*100+1), RowID(i*100+100)), UserInserted)); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() { // a compaction in the middle
		_, err := j.Compact()
		errs <- err
	}()
	go func() { // the UI, polling
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			if _, err := j.Status(10); err != nil {
				errs <- err
				return
			}
			for _, err := range j.Users(ctx, UserFilter{States: []UserState{UserInserted}}) {
				if err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for range 2 {
		must(t, <-errs)
	}
	<-done
	select {
	case err := <-errs:
		must(t, err)
	default:
	}
	st, err := j.Status(0)
	must(t, err)
	if st.Users[UserInserted] != 2000 {
		t.Errorf("inserted = %d, want 2000", st.Users[UserInserted])
	}
	requireVerified(t, j)
}
