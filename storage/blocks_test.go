package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestNoteRoundTrip(t *testing.T) {
	for _, rec := range []userRecord{
		{row: 1, userID: "auth0|abc"},
		{row: 2, errCode: "CONFLICT", errMsg: strings.Repeat("ü", 400)},
		{row: 3, userID: "x", errCode: "y", errMsg: "z"},
	} {
		id, code, msg, err := decodeNote(rec.row, encodeNote(rec))
		if err != nil || id != rec.userID || code != rec.errCode || msg != rec.errMsg {
			t.Errorf("round trip of %+v: %q %q %q %v", rec, id, code, msg, err)
		}
	}
	good := encodeNote(userRecord{userID: "a", errCode: "b"})
	for name, b := range map[string][]byte{
		"empty":          nil,
		"unknown format": append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(slices.Clone(good), 0),
	} {
		if _, _, _, err := decodeNote(7, b); !errors.Is(err, errCorruptRecord) || !strings.Contains(err.Error(), "user row 7") {
			t.Errorf("%s: got %v, want a corrupt-record error naming row 7", name, err)
		}
	}
}

func FuzzDecodeNote(f *testing.F) {
	f.Add(encodeNote(userRecord{userID: "auth0|1", errCode: "X", errMsg: "m"}))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, code, msg, err := decodeNote(1, b)
		if err != nil {
			return
		}
		// What decodes must encode back to the same bytes.
		if again := encodeNote(userRecord{userID: id, errCode: code, errMsg: msg}); string(again) != string(b) {
			t.Fatalf("decode/encode changed %x to %x", b, again)
		}
	})
}

// TestUsersSurviveEveryBlockShape stores users across block boundaries,
// with gaps, notes and the largest stage and chunk a slot holds, and reads
// them back through a fresh journal handle.
func TestUsersSurviveEveryBlockShape(t *testing.T) {
	j := newJournal(t)
	rows := []RowID{1, 2, blockRows - 1, blockRows, blockRows + 1, 3*blockRows + 7}
	var users []NewUser
	for i, r := range rows {
		nu := NewUser{Row: r, Line: int(r) + 1, Email: email(r), State: UserPending}
		if i%3 == 2 {
			nu.State, nu.ErrorCode, nu.ErrorMessage = UserQuarantined, "BAD_EMAIL", "email: not an address"
		}
		users = append(users, nu)
	}
	must(t, j.AddUsers(ctx, users))
	j = reopen(t, j)
	got, err := j.CollectUsers(ctx, UserFilter{})
	must(t, err)
	if len(got) != len(rows) {
		t.Fatalf("read %d users, want %d", len(got), len(rows))
	}
	for i, u := range got {
		want := users[i]
		if u.Row != want.Row || u.Line != want.Line || u.Email != NormalizeEmail(want.Email) || u.State != want.State || u.ErrorCode != want.ErrorCode || u.ErrorMessage != want.ErrorMessage {
			t.Errorf("user %d = %+v, want %+v", i, u, want)
		}
	}
	if _, err := j.User(3); !errors.Is(err, ErrNotFound) {
		t.Errorf("a gap in a block: got %v, want ErrNotFound", err)
	}
	// A registration repeated across a block boundary changes nothing.
	must(t, j.AddUsers(ctx, users[2:5]))
	requireVerified(t, j)

	// The widest values a slot holds.
	w := userRecord{row: 5, line: 6, state: UserFailed, stage: maxStages, chunk: maxChunkID, email: "a@b.c"}
	b := &userBlock{idx: 0}
	must(t, b.put(5, w, true, false))
	rec, ok, err := b.record(5, nil)
	if err != nil || !ok || rec.stage != maxStages || rec.chunk != maxChunkID || rec.email != "a@b.c" {
		t.Errorf("widest slot read back as %+v %v %v", rec, ok, err)
	}
	if err := b.put(5, userRecord{row: 5, stage: maxStages + 1, state: UserAssigned}, false, false); err == nil {
		t.Error("a stage beyond what a slot holds was accepted")
	}
}

func TestCorruptBlocksAreReported(t *testing.T) {
	j := newJournal(t)
	must(t, j.AddUsers(ctx, pendingUsers(1, 10)))
	breakIt := func(fn func(tx *bolt.Tx) error) {
		t.Helper()
		must(t, j.update(fn))
	}
	// A slot whose state says it has a note that is missing.
	breakIt(func(tx *bolt.Tx) error {
		v := slices.Clone(tx.Bucket(bucketUserStates).Get(blockKey(0)))
		v[4*slotSize+1] |= slotHasNote
		return tx.Bucket(bucketUserStates).Put(blockKey(0), v)
	})
	if _, err := j.User(4); !errors.Is(err, errCorruptRecord) {
		t.Errorf("missing note: got %v", err)
	}
	rep, err := j.Verify(ctx)
	must(t, err)
	if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "user row 4") {
		t.Errorf("Verify missed the missing note: %v", rep.Problems)
	}
	// Registrations cut short.
	breakIt(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUserInfo).Get(blockKey(0))
		return tx.Bucket(bucketUserInfo).Put(blockKey(0), slices.Clone(v[:len(v)-3]))
	})
	if _, err := j.User(2); !errors.Is(err, errCorruptRecord) {
		t.Errorf("cut registrations: got %v", err)
	}
	// Slots of the wrong size.
	breakIt(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUserStates).Put(blockKey(0), make([]byte, 10))
	})
	if _, err := j.CollectUsers(ctx, UserFilter{}); !errors.Is(err, errCorruptRecord) {
		t.Errorf("short slots: got %v", err)
	}
}

// TestSchemaV1JournalIsUpgraded writes a journal in the v1 layout (one key
// per user, an email index), opens it, and finds every user as it was.
func TestSchemaV1JournalIsUpgraded(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 2*blockRows+30, 40)
	must(t, j.AddUsers(ctx, []NewUser{{Row: 2*blockRows + 31, Line: 9000, Email: "bad", State: UserQuarantined, ErrorCode: "BAD_EMAIL", ErrorMessage: "not an address"}}))
	id := submitChunk(t, j, "canary", rowRange(1, 40))
	outcomes := make([]Outcome, 0, 40)
	for r := RowID(1); r <= 40; r++ {
		o := Outcome{Row: r, State: UserInserted, UserID: "auth0|" + string(rune('a'+r%26))}
		if r%10 == 0 {
			o = Outcome{Row: r, State: UserFailed, ErrorCode: "DUPLICATED_USER", ErrorMessage: "The user already exists."}
		}
		outcomes = append(outcomes, o)
	}
	must(t, j.CompleteChunk(id, outcomes))
	before := takeSnapshot(t, j)
	path := j.Path()
	must(t, j.Close())

	// Rewrite it as v1 would have stored it.
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, db.Update(func(tx *bolt.Tx) error {
		users, err := tx.CreateBucket(bucketV1Users)
		if err != nil {
			return err
		}
		emails, err := tx.CreateBucket(bucketV1Emails)
		if err != nil {
			return err
		}
		err = newBlockReader(tx).each(0, nil, func(rec userRecord) (bool, error) {
			if rec.state != UserQuarantined && rec.state != UserSkipped {
				if err := emails.Put([]byte(rec.email), rowKey(rec.row)); err != nil {
					return false, err
				}
			}
			return true, users.Put(rowKey(rec.row), appendV1UserRecord(nil, rec))
		})
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketUserInfo, bucketUserStates, bucketUserNotes} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return putSchemaVersion(tx, 1)
	}))
	must(t, db.Close())

	j, err = Open(path, Options{})
	must(t, err)
	defer j.Close()
	after := takeSnapshot(t, j)
	if after.Meta.Schema != currentSchema.version {
		t.Errorf("schema after upgrade = %d", after.Meta.Schema)
	}
	if !slices.Equal(after.Users, before.Users) {
		t.Errorf("users changed in the upgrade")
	}
	if !after.Status.Users.Equal(before.Status.Users) {
		t.Errorf("counts changed in the upgrade: %v -> %v", before.Status.Users, after.Status.Users)
	}
	requireVerified(t, j)
	must(t, j.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketV1Users) != nil || tx.Bucket(bucketV1Emails) != nil {
			t.Error("the v1 buckets are still there")
		}
		return nil
	}))
}

// appendV1UserRecord is decodeV1UserRecord's inverse.
func appendV1UserRecord(dst []byte, r userRecord) []byte {
	dst = append(dst, 1, byte(r.state))
	dst = binary.AppendUvarint(dst, uint64(r.line))
	dst = binary.AppendUvarint(dst, uint64(r.stage))
	dst = binary.AppendUvarint(dst, uint64(r.chunk))
	for _, s := range [...]string{r.email, r.userID, r.errCode, r.errMsg} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// TestExpectedUserIDsNeedNoNotes: a user_id given at registration is what
// the user reads back, and an outcome that confirms it stores nothing
// more; only a different one does.
func TestExpectedUserIDsNeedNoNotes(t *testing.T) {
	j := newJournal(t)
	must(t, j.DefineStages([]StagePlan{{Name: "all", Planned: 3, Gate: Gate{MaxFailureRate: 1}}}))
	users := pendingUsers(1, 3)
	for i := range users {
		users[i].UserID = fmt.Sprintf("auth0|src%d", i+1)
	}
	must(t, j.AddUsers(ctx, users))
	must(t, j.AssignUsers(ctx, "all", rowRange(1, 3)))
	must(t, j.StartStage("all"))
	id := submitChunk(t, j, "all", rowRange(1, 3))
	must(t, j.CompleteChunk(id, []Outcome{
		{Row: 1, State: UserInserted, UserID: "auth0|src1"},
		{Row: 2, State: UserInserted, UserID: "auth0|other"},
		{Row: 3, State: UserFailed, ErrorCode: "CONFLICT", ErrorMessage: "taken"},
	}))
	notes := 0
	must(t, j.view(func(tx *bolt.Tx) error {
		notes = tx.Bucket(bucketUserNotes).Stats().KeyN
		return nil
	}))
	if notes != 2 {
		t.Errorf("%d notes, want 2 (row 2's other user_id, row 3's error)", notes)
	}
	for row, want := range map[RowID]string{1: "auth0|src1", 2: "auth0|other", 3: "auth0|src3"} {
		u, err := j.User(row)
		must(t, err)
		if u.UserID != want {
			t.Errorf("row %d user_id = %q, want %q", row, u.UserID, want)
		}
	}
	requireVerified(t, j)
	// Registering again, as a resumed run does, is still a no-op.
	must(t, j.AddUsers(ctx, users))
}
