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

// userFillPercent: users are added in row order, so bbolt's default of
// half-full pages (tuned for random inserts) would waste half the file. But
// a record grows by about a third when its outcome arrives (a user_id, an
// error), and a full page that grows splits in two half-empty ones. 0.7
// leaves room for that growth: measured on 1M users, the settled file is
// 176 MB at 0.7, against 209 MB at 0.5 and 237 MB at 0.8.
const userFillPercent = 0.7

// writeTx carries the state of one write transaction over users: bucket
// handles, the counter changes to write at the end, the stage table, and
// an arena for encoded records.
type writeTx struct {
	tx       *bolt.Tx
	users    *bolt.Bucket
	emails   *bolt.Bucket
	counters counterDeltas
	stages   *stageTable

	// bbolt keeps a reference to every value passed to Put until the
	// transaction ends, so encoded records cannot share a reusable
	// buffer. They are appended to an arena instead: one allocation per
	// few hundred records rather than one per record. When append grows
	// the arena, the old backing array stays alive through bbolt's
	// references.
	arena []byte
}

func newWriteTx(tx *bolt.Tx) *writeTx {
	w := &writeTx{
		tx:       tx,
		users:    tx.Bucket(bucketUsers),
		emails:   tx.Bucket(bucketEmails),
		counters: make(counterDeltas),
	}
	w.users.FillPercent = userFillPercent
	return w
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

// get returns the user at row; ok is false when there is none.
func (w *writeTx) get(row RowID) (rec userRecord, ok bool, err error) {
	v := w.users.Get(rowKey(row))
	if v == nil {
		return userRecord{}, false, nil
	}
	rec, err = decodeUserRecord(row, v)
	return rec, err == nil, err
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
// is the zero record for a new user), and moves it between counters.
func (w *writeTx) save(old, rec userRecord) error {
	w.counters.move(counterKey{old.stage, old.state}, counterKey{rec.stage, rec.state})
	if need := rec.maxEncodedLen(); cap(w.arena)-len(w.arena) < need {
		w.arena = make([]byte, 0, max(64<<10, need))
	}
	start := len(w.arena)
	w.arena = rec.appendBinary(w.arena)
	return w.users.Put(rowKey(rec.row), w.arena[start:len(w.arena):len(w.arena)])
}

// finish writes what the transaction accumulated; call it last.
func (w *writeTx) finish() error { return w.counters.flush(w.tx) }

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
