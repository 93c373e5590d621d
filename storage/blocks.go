package storage

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Users are stored in blocks of blockRows consecutive rows, not one key
// per row. A million-row run registers, assigns, plans, submits and
// settles every user, and with one bbolt key per row each of those steps
// costs a B+tree update per user: measured at 58,000 rows/s for
// registration, it made a migration to files 30 times slower than
// validating the same export. With blocks a step costs one value rewrite
// per thousand rows, and a chunk's users, neighbours in the file, share a
// handful of blocks.
//
// What changes is kept apart from what does not:
//
//	user_info   block (u64) -> each registered row's line, email and expected
//	                           target user_id; written when rows are
//	                           registered, never changed after
//	user_states block (u64) -> blockRows fixed 8-byte slots: state, flags,
//	                           stage (u16), chunk (u32); rewritten per step
//	user_notes  row (u64)   -> target user_id, error code and message, only
//	                           for the rows that have one: failures,
//	                           quarantined rows, a user_id other than the
//	                           expected one
//
// so a chunk's step rewrites 8 bytes per row of the rows it spans, not the
// rows' emails. Row r lives in block r/blockRows at slot r%blockRows; a
// slot whose state is 0 holds no row.
const (
	blockRows  = 1024
	slotSize   = 8
	blockBytes = blockRows * slotSize

	slotHasNote = 1 << 0 // flags: the row has a user_notes entry

	infoFormat = 1
	noteFormat = 1

	// maxStages and maxChunkID are what a slot can hold.
	maxStages  = 1<<16 - 1
	maxChunkID = 1<<32 - 1
)

func blockKey(idx uint64) []byte { return u64key(idx) }

func blockOf(row RowID) (idx uint64, off int) {
	return uint64(row) / blockRows, int(uint64(row) % blockRows)
}

// infoEntry is one row's registration.
type infoEntry struct {
	present bool
	line    int
	email   string
	userID  string // the target user_id the row is expected to get
}

// userBlock is one block as a transaction sees it.
type userBlock struct {
	idx        uint64
	slots      []byte // blockBytes, or nil for a block with no rows yet
	owned      bool   // slots is a private copy, safe to change
	slotsDirty bool
	infoRaw    []byte      // as stored; valid during the transaction
	info       []infoEntry // parsed from infoRaw on first use
	infoDirty  bool
}

func loadBlock(tx *bolt.Tx, idx uint64) (*userBlock, error) {
	b := &userBlock{idx: idx}
	key := blockKey(idx)
	b.slots = tx.Bucket(bucketUserStates).Get(key)
	if b.slots != nil && len(b.slots) != blockBytes {
		return nil, fmt.Errorf("user block %d: %w (%d bytes of slots)", idx, errCorruptRecord, len(b.slots))
	}
	b.infoRaw = tx.Bucket(bucketUserInfo).Get(key)
	return b, nil
}

func (b *userBlock) slot(off int) []byte {
	if b.slots == nil {
		return nil
	}
	return b.slots[off*slotSize : (off+1)*slotSize]
}

// slotVal is a slot decoded: what the hot paths (assigning, planning,
// submitting, settling a chunk's users) read and change, without
// assembling the whole user.
type slotVal struct {
	state UserState
	flags byte
	stage uint32
	chunk ChunkID
}

func (b *userBlock) slotVal(off int) slotVal {
	s := b.slot(off)
	if s == nil {
		return slotVal{}
	}
	return slotVal{state: UserState(s[0]), flags: s[1], stage: uint32(binary.LittleEndian.Uint16(s[2:])), chunk: ChunkID(binary.LittleEndian.Uint32(s[4:]))}
}

func (b *userBlock) setSlot(off int, v slotVal) {
	if !b.owned {
		s := make([]byte, blockBytes)
		copy(s, b.slots)
		b.slots, b.owned = s, true
	}
	s := b.slots[off*slotSize : (off+1)*slotSize]
	s[0], s[1] = byte(v.state), v.flags
	binary.LittleEndian.PutUint16(s[2:], uint16(v.stage))
	binary.LittleEndian.PutUint32(s[4:], uint32(v.chunk))
	b.slotsDirty = true
}

// parseInfo decodes the block's registrations; the emails are copies, so
// they outlive the transaction.
func (b *userBlock) parseInfo() error {
	if b.info != nil {
		return nil
	}
	b.info = make([]infoEntry, blockRows)
	if b.infoRaw == nil {
		return nil
	}
	corrupt := func(why string) error {
		return fmt.Errorf("user block %d: %w (registrations: %s)", b.idx, errCorruptRecord, why)
	}
	if len(b.infoRaw) == 0 || b.infoRaw[0] != infoFormat {
		return corrupt("unknown format")
	}
	all := string(b.infoRaw) // one copy; the emails are slices of it
	d := decoder{b: b.infoRaw[1:]}
	pos := 1
	prev := -1
	for len(d.b) > 0 {
		before := len(d.b)
		off, line, n := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err || off >= blockRows || int(off) <= prev || n > uint64(len(d.b)) || line > 1<<40 {
			return corrupt(fmt.Sprintf("bad entry at byte %d", pos))
		}
		pos += before - len(d.b)
		e := infoEntry{present: true, line: int(line), email: all[pos : pos+int(n)]}
		d.b = d.b[n:]
		pos += int(n)
		before = len(d.b)
		if n = d.uvarint(); d.err || n > uint64(len(d.b)) {
			return corrupt(fmt.Sprintf("bad user_id at byte %d", pos))
		}
		pos += before - len(d.b)
		e.userID = all[pos : pos+int(n)]
		d.b = d.b[n:]
		pos += int(n)
		b.info[off] = e
		prev = int(off)
	}
	return nil
}

func (b *userBlock) encodeInfo() []byte {
	out := make([]byte, 1, 32*blockRows)
	out[0] = infoFormat
	for off, e := range b.info {
		if !e.present {
			continue
		}
		out = binary.AppendUvarint(out, uint64(off))
		out = binary.AppendUvarint(out, uint64(e.line))
		out = binary.AppendUvarint(out, uint64(len(e.email)))
		out = append(out, e.email...)
		out = binary.AppendUvarint(out, uint64(len(e.userID)))
		out = append(out, e.userID...)
	}
	return out
}

// record assembles the user at off; ok is false when the slot is empty.
func (b *userBlock) record(off int, notes *bolt.Bucket) (rec userRecord, ok bool, err error) {
	row := RowID(b.idx*blockRows + uint64(off))
	s := b.slot(off)
	if s == nil || s[0] == 0 {
		return userRecord{}, false, nil
	}
	rec = userRecord{row: row, state: UserState(s[0]),
		stage: uint32(binary.LittleEndian.Uint16(s[2:])), chunk: ChunkID(binary.LittleEndian.Uint32(s[4:]))}
	if !rec.state.valid() {
		return rec, false, fmt.Errorf("user row %d: %w (state %d)", row, errCorruptRecord, s[0])
	}
	if err := b.parseInfo(); err != nil {
		return rec, false, err
	}
	e := b.info[off]
	if !e.present {
		return rec, false, fmt.Errorf("user row %d: %w (a state but no registration)", row, errCorruptRecord)
	}
	rec.line, rec.email, rec.userID = e.line, e.email, e.userID
	if s[1]&slotHasNote != 0 {
		v := notes.Get(rowKey(row))
		if v == nil {
			return rec, false, fmt.Errorf("user row %d: %w (its note is missing)", row, errCorruptRecord)
		}
		var noteID string
		if noteID, rec.errCode, rec.errMsg, err = decodeNote(row, v); err != nil {
			return rec, false, err
		}
		if noteID != "" {
			rec.userID = noteID
		}
	}
	return rec, true, nil
}

// note is what of rec its note must hold: its user_id only when it is not
// the expected one, which the registration holds.
func (b *userBlock) note(off int, rec userRecord) (userRecord, error) {
	if err := b.parseInfo(); err != nil {
		return userRecord{}, err
	}
	n := userRecord{row: rec.row, errCode: rec.errCode, errMsg: rec.errMsg}
	if rec.userID != b.info[off].userID {
		n.userID = rec.userID
	}
	return n, nil
}

// put stores rec's slot and, for a row registered in this transaction, its
// registration (with rec.userID as the expected user_id). The note is the
// caller's: hasNote says whether there is one.
func (b *userBlock) put(off int, rec userRecord, isNew, hasNote bool) error {
	if rec.stage > maxStages || rec.chunk > maxChunkID {
		return fmt.Errorf("%s: stage %d or chunk %d is beyond what the journal can hold", rec.subject(), rec.stage, rec.chunk)
	}
	v := slotVal{state: rec.state, stage: rec.stage, chunk: rec.chunk}
	if hasNote {
		v.flags = slotHasNote
	}
	if isNew {
		if err := b.parseInfo(); err != nil {
			return err
		}
		b.info[off] = infoEntry{present: true, line: rec.line, email: rec.email, userID: rec.userID}
		b.infoDirty = true
	}
	b.setSlot(off, v)
	return nil
}

// flush writes what changed in the block.
func (b *userBlock) flush(tx *bolt.Tx) error {
	key := blockKey(b.idx)
	if b.slotsDirty {
		if err := tx.Bucket(bucketUserStates).Put(key, b.slots); err != nil {
			return err
		}
		b.slotsDirty = false
		b.owned = false // bbolt now refers to it: the next change copies
	}
	if b.infoDirty {
		if err := tx.Bucket(bucketUserInfo).Put(key, b.encodeInfo()); err != nil {
			return err
		}
		b.infoDirty = false
	}
	return nil
}

func (r userRecord) hasNote() bool { return r.userID != "" || r.errCode != "" || r.errMsg != "" }

// A note: format byte, then user_id, error code and error message, each a
// uvarint length and bytes.
func encodeNote(r userRecord) []byte {
	out := make([]byte, 1, 4+len(r.userID)+len(r.errCode)+len(r.errMsg)+3*binary.MaxVarintLen64)
	out[0] = noteFormat
	for _, s := range [...]string{r.userID, r.errCode, r.errMsg} {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

func decodeNote(row RowID, b []byte) (userID, code, msg string, err error) {
	if len(b) < 1 || b[0] != noteFormat {
		return "", "", "", fmt.Errorf("user row %d: %w (note format %v)", row, errCorruptRecord, b[:min(len(b), 1)])
	}
	d := decoder{b: b[1:]}
	userID, code, msg = d.str(), d.str(), d.str()
	if d.err || len(d.b) != 0 {
		return "", "", "", fmt.Errorf("user row %d: %w (note)", row, errCorruptRecord)
	}
	return userID, code, msg, nil
}

// blockReader reads users in a read transaction, one block at a time.
type blockReader struct {
	tx    *bolt.Tx
	notes *bolt.Bucket
	cur   *userBlock
}

func newBlockReader(tx *bolt.Tx) *blockReader {
	return &blockReader{tx: tx, notes: tx.Bucket(bucketUserNotes)}
}

func (r *blockReader) block(idx uint64) (*userBlock, error) {
	if r.cur == nil || r.cur.idx != idx {
		b, err := loadBlock(r.tx, idx)
		if err != nil {
			return nil, err
		}
		r.cur = b
	}
	return r.cur, nil
}

func (r *blockReader) get(row RowID) (userRecord, bool, error) {
	idx, off := blockOf(row)
	b, err := r.block(idx)
	if err != nil {
		return userRecord{}, false, err
	}
	return b.record(off, r.notes)
}

// each calls fn for every stored user with a row after `after`, in row
// order, letting keep look at a user's state and stage before it is
// assembled. fn returns false to stop.
func (r *blockReader) each(after RowID, keep func(state UserState, stage uint32) bool, fn func(rec userRecord) (bool, error)) error {
	var b *userBlock // the block being read in full, once a user in it is kept
	return eachSlot(context.Background(), r.tx, after, func(row RowID, sv slotVal) (bool, error) {
		if keep != nil && !keep(sv.state, sv.stage) {
			return true, nil
		}
		idx, off := blockOf(row)
		if b == nil || b.idx != idx {
			var err error
			if b, err = loadBlock(r.tx, idx); err != nil {
				return false, err
			}
		}
		rec, _, err := b.record(off, r.notes)
		if err != nil {
			return false, err
		}
		return fn(rec)
	})
}

// eachSlot calls fn with the slot of every stored user with a row after
// `after`, in row order, reading slots only. fn returns false to stop;
// ctx is checked between blocks.
func eachSlot(ctx context.Context, tx *bolt.Tx, after RowID, fn func(row RowID, sv slotVal) (bool, error)) error {
	start, _ := blockOf(after + 1)
	c := tx.Bucket(bucketUserStates).Cursor()
	n := 0
	for k, v := c.Seek(blockKey(start)); k != nil; k, v = c.Next() {
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		slots := &userBlock{idx: keyU64(k), slots: v}
		if len(v) != blockBytes {
			return fmt.Errorf("user block %d: %w (%d bytes of slots)", slots.idx, errCorruptRecord, len(v))
		}
		for off := range blockRows {
			sv := slots.slotVal(off)
			row := RowID(slots.idx*blockRows + uint64(off))
			if sv.state == 0 || row <= after {
				continue
			}
			if !sv.state.valid() {
				return fmt.Errorf("user row %d: %w (state %d)", row, errCorruptRecord, sv.state)
			}
			if more, err := fn(row, sv); err != nil || !more {
				return err
			}
		}
	}
	return nil
}
