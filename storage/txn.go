package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// maxRecordsPerTx caps the users one write transaction touches. One fsync
// per user would cap a run at a few thousand users per second; 10,000 per
// transaction amortizes the fsync to nothing while keeping each
// transaction's dirty pages to a few megabytes.
const maxRecordsPerTx = 10_000

// writeTx carries the state of one write transaction over users: the
// blocks it read or changed, the counter changes to write at the end, and
// the stage table.
type writeTx struct {
	tx       *bolt.Tx
	notes    *bolt.Bucket
	blocks   map[uint64]*userBlock
	counters counterDeltas
	stages   *stageTable
}

func newWriteTx(tx *bolt.Tx) *writeTx {
	return &writeTx{
		tx:       tx,
		notes:    tx.Bucket(bucketUserNotes),
		blocks:   make(map[uint64]*userBlock),
		counters: make(counterDeltas),
	}
}

func (w *writeTx) stageTable() (stageTable, error) {
	if w.stages == nil {
		t, err := loadStages(w.tx)
		if err != nil {
			return stageTable{}, err
		}
		w.stages = &t
	}
	return *w.stages, nil
}

// block returns the block of row, read once per transaction. Its
// registrations are parsed when first needed, which is before the
// transaction commits: until then bbolt's memory behind them stays put.
func (w *writeTx) block(row RowID) (*userBlock, int, error) {
	idx, off := blockOf(row)
	b, ok := w.blocks[idx]
	if !ok {
		var err error
		if b, err = loadBlock(w.tx, idx); err != nil {
			return nil, 0, err
		}
		w.blocks[idx] = b
	}
	return b, off, nil
}

// slot returns the slot of an existing user, for the hot paths.
func (w *writeTx) slot(row RowID) (*userBlock, int, slotVal, error) {
	b, off, err := w.block(row)
	if err != nil {
		return nil, 0, slotVal{}, err
	}
	v := b.slotVal(off)
	if v.state == 0 {
		return nil, 0, v, fmt.Errorf("user row %d: %w: register it with AddUsers first", row, ErrNotFound)
	}
	if !v.state.valid() {
		return nil, 0, v, fmt.Errorf("user row %d: %w (state %d)", row, errCorruptRecord, v.state)
	}
	return b, off, v, nil
}

// setSlot changes a user's slot (not its note) and moves it between counters.
func (w *writeTx) setSlot(b *userBlock, off int, old, v slotVal) {
	w.counters.move(counterKey{old.stage, old.state}, counterKey{v.stage, v.state})
	b.setSlot(off, v)
}

// subject names the user at row in an error, read in full.
func (w *writeTx) subject(row RowID) string {
	rec, ok, err := w.get(row)
	if err != nil || !ok {
		return fmt.Sprintf("user row %d", row)
	}
	return rec.subject()
}

// transitionError is userTransitionError for the hot paths.
func (w *writeTx) transitionError(row RowID, to UserState, reason string) error {
	rec, ok, err := w.get(row)
	if err != nil || !ok {
		return &TransitionError{Subject: fmt.Sprintf("user row %d", row), To: to.String(), Reason: reason}
	}
	return userTransitionError(rec, to, reason)
}

// get returns the user at row; ok is false when there is none.
func (w *writeTx) get(row RowID) (rec userRecord, ok bool, err error) {
	b, off, err := w.block(row)
	if err != nil {
		return userRecord{}, false, err
	}
	return b.record(off, w.notes)
}

func (w *writeTx) mustGet(row RowID) (userRecord, error) {
	rec, ok, err := w.get(row)
	if err != nil {
		return rec, err
	}
	if !ok {
		return rec, fmt.Errorf("user row %d: %w: register it with AddUsers first", row, ErrNotFound)
	}
	return rec, nil
}

// save writes rec, which was old before this transaction changed it (old
// is the zero record for a new user), and moves it between counters. The
// slot is written when the transaction finishes; a changed note at once.
func (w *writeTx) save(old, rec userRecord) error {
	w.counters.move(counterKey{old.stage, old.state}, counterKey{rec.stage, rec.state})
	b, off, err := w.block(rec.row)
	if err != nil {
		return err
	}
	// A new row's user_id is the expected one: its note, if any, holds
	// only an error.
	isNew := old.state == 0
	var oldNote, note userRecord
	if isNew {
		note = userRecord{row: rec.row, errCode: rec.errCode, errMsg: rec.errMsg}
	} else {
		if oldNote, err = b.note(off, old); err != nil {
			return err
		}
		if note, err = b.note(off, rec); err != nil {
			return err
		}
	}
	if err := b.put(off, rec, isNew, note.hasNote()); err != nil {
		return err
	}
	if note == oldNote {
		return nil
	}
	if !note.hasNote() {
		return w.notes.Delete(rowKey(rec.row))
	}
	return w.notes.Put(rowKey(rec.row), encodeNote(note))
}

// finish writes what the transaction accumulated; call it last.
func (w *writeTx) finish() error {
	for _, b := range w.blocks {
		if err := b.flush(w.tx); err != nil {
			return err
		}
	}
	return w.counters.flush(w.tx)
}

// inBatches calls fn for consecutive slices [lo, hi) of n items, each in
// its own write transaction of at most maxRecordsPerTx items. ctx is
// checked between transactions. On error, the batches before the failing
// one stay committed; every batch method is idempotent, so the caller may
// simply repeat the whole call.
func (j *Journal) inBatches(ctx context.Context, what string, n int, fn func(w *writeTx, lo, hi int) error) error {
	for lo := 0; lo < n; lo += maxRecordsPerTx {
		hi := min(lo+maxRecordsPerTx, n)
		if err := ctx.Err(); err != nil {
			return batchError(what, lo, n, err)
		}
		err := j.update(func(tx *bolt.Tx) error {
			w := newWriteTx(tx)
			if err := fn(w, lo, hi); err != nil {
				return err
			}
			return w.finish()
		})
		if err != nil {
			return batchError(what, lo, n, err)
		}
	}
	return nil
}

func batchError(what string, done, total int, err error) error {
	if done == 0 {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w (the first %d of %d were recorded; repeating the call is safe)", what, err, done, total)
}

// subject names a user in errors: row, line and email.
func (r userRecord) subject() string {
	s := fmt.Sprintf("user row %d (line %d)", r.row, r.line)
	if r.email != "" {
		s += " <" + r.email + ">"
	}
	return s
}

func userTransitionError(r userRecord, to UserState, reason string) error {
	return &TransitionError{Subject: r.subject(), From: r.state.String(), To: to.String(), Reason: reason}
}
