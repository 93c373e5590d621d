package storage

import (
	"context"
	"fmt"
	"iter"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// User is one source row as the journal knows it.
type User struct {
	Row          RowID     `json:"row"`
	Line         int       `json:"line"`            // line where the record starts in the source
	Email        string    `json:"email"`           // normalized; may be empty for a quarantined row
	Stage        string    `json:"stage,omitempty"` // "" until assigned
	Chunk        ChunkID   `json:"chunk,omitempty"`
	State        UserState `json:"state"`
	UserID       string    `json:"user_id,omitempty"`    // the target's user_id, when known
	ErrorCode    string    `json:"error_code,omitempty"` // why it was quarantined, skipped or failed
	ErrorMessage string    `json:"error_message,omitempty"`
}

func (r userRecord) user(t stageTable) User {
	return User{
		Row: r.row, Line: r.line, Email: r.email, Stage: t.name(r.stage), Chunk: r.chunk,
		State: r.state, UserID: r.userID, ErrorCode: r.errCode, ErrorMessage: r.errMsg,
	}
}

// NewUser registers one source row.
type NewUser struct {
	Row   RowID
	Line  int
	Email string // normalized by AddUsers
	// State is UserPending for a valid row, UserQuarantined for an invalid
	// one, UserSkipped for a duplicate.
	State        UserState
	ErrorCode    string // for quarantined and skipped rows: why
	ErrorMessage string
	// UserID is the target user_id the row will get, when the source
	// decides it (Auth0 prefixes a source user_id with "auth0|"). Kept
	// with the registration, it spares recording a million user_ids as
	// outcomes arrive: an outcome with this user_id costs nothing extra.
	UserID string
}

// AddUsers registers source rows, so that every row of the source is
// accounted for. A pending row's email must not belong to another pending
// row: register duplicates as skipped. The journal keeps no email index
// (it would cost a random B+tree insert per row), so that is the caller's
// promise, which validation keeps and Verify checks. Registering a row
// again with the same line, email and kind does nothing, so a resumed run
// may repeat it.
func (j *Journal) AddUsers(ctx context.Context, users []NewUser) error {
	return j.inBatches(ctx, "register users", len(users), func(w *writeTx, lo, hi int) error {
		added := make(UserCounts)
		for _, u := range users[lo:hi] {
			isNew, err := w.addUser(u)
			if err != nil {
				return err
			}
			if isNew {
				added[u.State]++
			}
		}
		if added.Total() == 0 {
			return nil
		}
		for state, n := range added {
			w.counters[counterKey{0, state}] += int64(n)
		}
		return appendEvent(w.tx, Event{Kind: EventUsers, Message: fmt.Sprintf("registered %d rows (%d pending, %d quarantined, %d skipped)",
			added.Total(), added[UserPending], added[UserQuarantined], added[UserSkipped])})
	})
}

func (w *writeTx) addUser(u NewUser) (isNew bool, err error) {
	rec := userRecord{row: u.Row, line: u.Line, state: u.State, email: NormalizeEmail(u.Email),
		userID: u.UserID, errCode: u.ErrorCode, errMsg: truncateMessage(u.ErrorMessage)}
	switch {
	case u.Row == 0:
		return false, fmt.Errorf("line %d: row 0 is not a row; rows are numbered from 1", u.Line)
	case u.State != UserPending && u.State != UserQuarantined && u.State != UserSkipped:
		return false, fmt.Errorf("%s: a row is registered as pending, quarantined or skipped, not %s", rec.subject(), u.State)
	case u.State == UserPending && rec.email == "":
		return false, fmt.Errorf("%s: a pending row needs an email; register it as quarantined", rec.subject())
	}
	b, off, err := w.block(u.Row)
	if err != nil {
		return false, err
	}
	if b.slotVal(off).state != 0 {
		old, _, err := b.record(off, w.notes)
		if err != nil {
			return false, err
		}
		if old.line == rec.line && old.email == rec.email && registeredAs(old.state) == u.State {
			return false, nil
		}
		return false, fmt.Errorf("%s is already registered as %s (line %d <%s>); the journal belongs to a different source, or rows were numbered differently",
			rec.subject(), registeredAs(old.state), old.line, old.email)
	}
	// A new row: straight into its block, counted once per batch by the
	// caller (registration is the one step every row of a source takes).
	note := userRecord{row: rec.row, errCode: rec.errCode, errMsg: rec.errMsg}
	if err := b.put(off, rec, true, note.hasNote()); err != nil {
		return false, err
	}
	if note.hasNote() {
		return true, w.notes.Put(rowKey(rec.row), encodeNote(note))
	}
	return true, nil
}

// registeredAs is the state a user was registered in: every user beyond
// pending started as pending.
func registeredAs(s UserState) UserState {
	if s == UserQuarantined || s == UserSkipped {
		return s
	}
	return UserPending
}

// AssignUsers puts pending users into a stage. Users already in that
// stage are left as they are, so a resumed run may repeat the call.
func (j *Journal) AssignUsers(ctx context.Context, stage string, rows []RowID) error {
	return j.inBatches(ctx, fmt.Sprintf("assign users to stage %q", stage), len(rows), func(w *writeTx, lo, hi int) error {
		t, err := w.stageTable()
		if err != nil {
			return err
		}
		s, err := t.byName(stage)
		if err != nil {
			return err
		}
		if s.State == StageDone || s.State == StageRollingBack || s.State == StageRolledBack {
			return fmt.Errorf("stage %q is %s; users can only be assigned to a stage that is not finished", s.Name, s.State)
		}
		pos := uint32(s.Position)
		if pos > maxStages {
			return fmt.Errorf("stage %q is number %d; the journal holds at most %d stages", s.Name, pos, maxStages)
		}
		assigned := 0
		for _, row := range rows[lo:hi] {
			b, off, v, err := w.slot(row)
			if err != nil {
				return err
			}
			if v.stage == pos {
				continue
			}
			if v.stage != 0 {
				return w.transitionError(row, UserAssigned, fmt.Sprintf("it is in stage %q already", t.name(v.stage)))
			}
			if !v.state.CanBecome(UserAssigned) {
				return w.transitionError(row, UserAssigned, "only pending users can be assigned to a stage")
			}
			nv := v
			nv.stage, nv.state = pos, UserAssigned
			w.setSlot(b, off, v, nv)
			assigned++
		}
		if assigned == 0 {
			return nil
		}
		return appendEvent(w.tx, Event{Kind: EventUsers, Stage: s.Name, Message: fmt.Sprintf("assigned %d users to stage %s", assigned, s.Name)})
	})
}

// Outcome is what the target did with one submitted user.
type Outcome struct {
	Row          RowID
	State        UserState // UserInserted, UserUpdated or UserFailed
	UserID       string    // the target's user_id, when known
	ErrorCode    string    // required for UserFailed: the target's code (e.g. DUPLICATED_USER)
	ErrorMessage string    // must not quote password hashes or other secrets
}

// RecordOutcomes records what the target did with submitted users, in
// groups of up to maxRecordsPerTx per transaction. Recording the outcome a
// user already has is allowed (a resumed run replays them) and updates its
// user_id and error; recording a different one is a *TransitionError.
// To record the outcomes of a whole chunk and close it atomically, use
// CompleteChunk.
func (j *Journal) RecordOutcomes(ctx context.Context, outcomes []Outcome) error {
	return j.inBatches(ctx, "record outcomes", len(outcomes), func(w *writeTx, lo, hi int) error {
		tally := make(UserCounts)
		for _, o := range outcomes[lo:hi] {
			if err := w.recordOutcome(o, 0); err != nil {
				return err
			}
			tally[o.State]++
		}
		return appendEvent(w.tx, Event{Kind: EventUsers, Message: fmt.Sprintf("recorded outcomes for %d users: %d inserted, %d updated, %d failed",
			tally.Total(), tally[UserInserted], tally[UserUpdated], tally[UserFailed])})
	})
}

// recordOutcome applies one outcome; when chunk is not 0 the user must
// belong to that chunk.
func (w *writeTx) recordOutcome(o Outcome, chunk ChunkID) error {
	if done, err := w.recordPlainOutcome(o, chunk); done || err != nil {
		return err
	}
	rec, err := w.mustGet(o.Row)
	if err != nil {
		return err
	}
	switch {
	case !o.State.IsOutcome():
		return userTransitionError(rec, o.State, "an outcome is inserted, updated or failed")
	case o.State == UserFailed && o.ErrorCode == "":
		return fmt.Errorf("%s: a failed outcome needs the target's error code", rec.subject())
	case chunk != 0 && rec.chunk != chunk:
		return fmt.Errorf("%s is not in chunk %d (it is in chunk %d)", rec.subject(), chunk, rec.chunk)
	case rec.state != o.State && !rec.state.CanBecome(o.State):
		return userTransitionError(rec, o.State, "outcomes are recorded for submitted users")
	}
	old := rec
	rec.state = o.State
	if o.UserID != "" {
		rec.userID = o.UserID
	}
	rec.errCode, rec.errMsg = o.ErrorCode, truncateMessage(o.ErrorMessage)
	return w.save(old, rec)
}

// recordPlainOutcome records, on the slot alone, the common outcome: a
// user inserted or updated with its expected user_id (or none) and no
// error, who has no note. done is false when the outcome needs the full
// path: a failure, a note, or anything the checks there must explain.
func (w *writeTx) recordPlainOutcome(o Outcome, chunk ChunkID) (done bool, err error) {
	if (o.State != UserInserted && o.State != UserUpdated) || o.ErrorCode != "" || o.ErrorMessage != "" {
		return false, nil
	}
	b, off, v, err := w.slot(o.Row)
	if err != nil {
		return false, err
	}
	if v.flags&slotHasNote != 0 || (chunk != 0 && v.chunk != chunk) || (v.state != o.State && !v.state.CanBecome(o.State)) {
		return false, nil
	}
	if o.UserID != "" {
		if err := b.parseInfo(); err != nil {
			return false, err
		}
		if b.info[off].userID != o.UserID {
			return false, nil
		}
	}
	nv := v
	nv.state = o.State
	w.setSlot(b, off, v, nv)
	return true, nil
}

// RetryUsers puts failed or rolled-back users of a running stage back to
// assigned, out of their chunk, to be planned into a new one. Users
// already assigned are left as they are.
func (j *Journal) RetryUsers(ctx context.Context, rows []RowID) error {
	return j.inBatches(ctx, "retry users", len(rows), func(w *writeTx, lo, hi int) error {
		t, err := w.stageTable()
		if err != nil {
			return err
		}
		retried := 0
		for _, row := range rows[lo:hi] {
			rec, err := w.mustGet(row)
			if err != nil {
				return err
			}
			if rec.state == UserAssigned {
				continue
			}
			if !rec.state.CanBecome(UserAssigned) {
				return userTransitionError(rec, UserAssigned, "only failed or rolled-back users can be retried")
			}
			if st, _ := t.at(rec.stage); st.State != StageRunning {
				return userTransitionError(rec, UserAssigned, fmt.Sprintf("its stage %q is %s; start it again first", st.Name, st.State))
			}
			old := rec
			rec.state, rec.chunk, rec.userID, rec.errCode, rec.errMsg = UserAssigned, 0, "", "", ""
			if err := w.save(old, rec); err != nil {
				return err
			}
			retried++
		}
		if retried == 0 {
			return nil
		}
		return appendEvent(w.tx, Event{Kind: EventUsers, Message: fmt.Sprintf("%d users put back for retry", retried)})
	})
}

// MarkRolledBack records that inserted users were deleted from the target.
// Their stage must be rolling back (BeginRollback), so that a crash in the
// middle of a rollback is resumed as one. Users already rolled back are
// left as they are.
func (j *Journal) MarkRolledBack(ctx context.Context, rows []RowID) error {
	return j.inBatches(ctx, "record rollback", len(rows), func(w *writeTx, lo, hi int) error {
		t, err := w.stageTable()
		if err != nil {
			return err
		}
		n := 0
		for _, row := range rows[lo:hi] {
			rec, err := w.mustGet(row)
			if err != nil {
				return err
			}
			if rec.state == UserRolledBack {
				continue
			}
			if !rec.state.CanBecome(UserRolledBack) {
				return userTransitionError(rec, UserRolledBack, "only inserted users can be rolled back")
			}
			if st, _ := t.at(rec.stage); st.State != StageRollingBack {
				return userTransitionError(rec, UserRolledBack, fmt.Sprintf("its stage %q is %s; begin its rollback first", st.Name, st.State))
			}
			old := rec
			rec.state = UserRolledBack
			if err := w.save(old, rec); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return nil
		}
		return appendEvent(w.tx, Event{Kind: EventUsers, Message: fmt.Sprintf("%d users recorded as deleted by rollback", n)})
	})
}

// User returns one user by row.
func (j *Journal) User(row RowID) (User, error) {
	var u User
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		rec, ok, err := newBlockReader(tx).get(row)
		if err == nil && !ok {
			err = fmt.Errorf("user row %d: %w", row, ErrNotFound)
		}
		u = rec.user(t)
		return err
	})
	return u, err
}

// UserByEmail returns the valid (not quarantined or skipped) user with
// this email. It reads every registration: use UsersByEmail for several.
func (j *Journal) UserByEmail(email string) (User, error) {
	found, err := j.UsersByEmail(context.Background(), []string{email})
	if err != nil {
		return User{}, err
	}
	u, ok := found[NormalizeEmail(email)]
	if !ok {
		return User{}, fmt.Errorf("user <%s>: %w", NormalizeEmail(email), ErrNotFound)
	}
	return u, nil
}

// UsersByEmail returns the valid users with any of these emails, keyed by
// normalized email, in one pass over the journal.
func (j *Journal) UsersByEmail(ctx context.Context, emails []string) (map[string]User, error) {
	want := make(map[string]bool, len(emails))
	for _, e := range emails {
		want[NormalizeEmail(e)] = true
	}
	found := make(map[string]User, len(emails))
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		r := newBlockReader(tx)
		c := tx.Bucket(bucketUserInfo).Cursor()
		n := 0
		for k, _ := c.First(); k != nil && len(found) < len(want); k, _ = c.Next() {
			if n++; n%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			b, err := r.block(keyU64(k))
			if err != nil {
				return err
			}
			if err := b.parseInfo(); err != nil {
				return err
			}
			for off, e := range b.info {
				if !e.present || !want[e.email] {
					continue
				}
				if st := b.slotVal(off).state; st == UserQuarantined || st == UserSkipped {
					continue
				}
				rec, _, err := b.record(off, r.notes)
				if err != nil {
					return err
				}
				found[e.email] = rec.user(t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	return found, nil
}

// UserFilter selects users. The zero value selects every user.
type UserFilter struct {
	Stage  string      // only users of this stage; "" for any
	States []UserState // only users in one of these states; empty for any
}

// usersPageSize is how many users one read transaction collects. Pages
// keep read transactions short, so the caller may write to the journal
// while iterating: bbolt cannot grow its file while a read transaction is
// open, and a writer waiting on the caller's own read would deadlock.
const usersPageSize = 1000

// Users iterates over the users that match f, in row order. The caller may
// change the journal while iterating: each user is visited once, as it was
// when its page was read.
func (j *Journal) Users(ctx context.Context, f UserFilter) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		var after RowID
		for {
			if err := ctx.Err(); err != nil {
				yield(User{}, err)
				return
			}
			page, next, err := j.usersPage(f, after)
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range page {
				if !yield(u, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			after = next
		}
	}
}

// usersPage returns up to usersPageSize matching users after row `after`,
// and the row to continue after (0 at the end).
func (j *Journal) usersPage(f UserFilter, after RowID) ([]User, RowID, error) {
	var page []User
	var next RowID
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		var stage uint32
		if f.Stage != "" {
			s, err := t.byName(f.Stage)
			if err != nil {
				return err
			}
			stage = uint32(s.Position)
		}
		var want [numUserStates + 1]bool
		for _, s := range f.States {
			if s.valid() {
				want[s] = true
			}
		}
		keep := func(st UserState, s uint32) bool {
			return (len(f.States) == 0 || want[st]) && (stage == 0 || s == stage)
		}
		return newBlockReader(tx).each(after, keep, func(rec userRecord) (bool, error) {
			page = append(page, rec.user(t))
			if len(page) == usersPageSize {
				next = rec.row
				return false, nil
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read users: %w", err)
	}
	return page, next, nil
}

// CollectUsers gathers Users(ctx, f) into a slice: convenient for small
// selections and tests.
func (j *Journal) CollectUsers(ctx context.Context, f UserFilter) ([]User, error) {
	var out []User
	for u, err := range j.Users(ctx, f) {
		if err != nil {
			return out, err
		}
		out = append(out, u)
	}
	return slices.Clip(out), nil
}

// WaitingRows returns the rows of a stage's users that wait for a chunk
// (assigned, in none), in row order. It reads the users' slots only, so
// a million-user stage is listed in milliseconds.
func (j *Journal) WaitingRows(ctx context.Context, stage string) ([]RowID, error) {
	var rows []RowID
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		s, err := t.byName(stage)
		if err != nil {
			return err
		}
		pos := uint32(s.Position)
		return eachSlot(ctx, tx, 0, func(row RowID, sv slotVal) (bool, error) {
			if sv.state == UserAssigned && sv.stage == pos && sv.chunk == 0 {
				rows = append(rows, row)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the users of stage %q waiting for a chunk: %w", stage, err)
	}
	return rows, nil
}
