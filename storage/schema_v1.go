package storage

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Schema v1 kept one key per user (row -> binary record) and an index of
// valid users by email. v2 keeps users in blocks (blocks.go) and no email
// index. The upgrade rewrites every user into its block in one
// transaction; counters, stages, chunks and events keep their layout.

var (
	bucketV1Users  = []byte("users")
	bucketV1Emails = []byte("emails")
)

var usersIntoBlocks = migration{
	from: 1,
	what: "store users in blocks of 1,024 rows",
	apply: func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketUserInfo, bucketUserStates, bucketUserNotes} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		w := newWriteTx(tx)
		old := tx.Bucket(bucketV1Users)
		if old == nil {
			return fmt.Errorf("the journal has no %q bucket", bucketV1Users)
		}
		err := old.ForEach(func(k, v []byte) error {
			rec, err := decodeV1UserRecord(RowID(keyU64(k)), v)
			if err != nil {
				return err
			}
			b, off, err := w.block(rec.row)
			if err != nil {
				return err
			}
			// The user_id v1 recorded becomes the expected one.
			note := userRecord{row: rec.row, errCode: rec.errCode, errMsg: rec.errMsg}
			if err := b.put(off, rec, true, note.hasNote()); err != nil {
				return err
			}
			if note.hasNote() {
				return w.notes.Put(rowKey(rec.row), encodeNote(note))
			}
			return nil
		})
		if err != nil {
			return err
		}
		clear(w.counters) // the users keep their stages and states
		if err := w.finish(); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketV1Users); err != nil {
			return err
		}
		return tx.DeleteBucket(bucketV1Emails)
	},
}

// decodeV1UserRecord parses a schema v1 user: format byte 1, state byte,
// uvarints line, stage, chunk, then length-prefixed email, target user_id,
// error code and error message.
func decodeV1UserRecord(row RowID, b []byte) (userRecord, error) {
	r := userRecord{row: row}
	if len(b) < 2 || b[0] != 1 {
		return r, fmt.Errorf("user row %d: %w (format byte %v)", row, errCorruptRecord, b[:min(len(b), 1)])
	}
	r.state = UserState(b[1])
	if !r.state.valid() {
		return r, fmt.Errorf("user row %d: %w (state %d)", row, errCorruptRecord, b[1])
	}
	d := decoder{b: b[2:]}
	line, stage, chunk := d.uvarint(), d.uvarint(), d.uvarint()
	r.email, r.userID, r.errCode, r.errMsg = d.str(), d.str(), d.str(), d.str()
	if d.err || len(d.b) != 0 || line > 1<<40 || stage > 1<<31 {
		return r, fmt.Errorf("user row %d: %w", row, errCorruptRecord)
	}
	r.line, r.stage, r.chunk = int(line), uint32(stage), ChunkID(chunk)
	return r, nil
}
