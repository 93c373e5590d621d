package storage

import (
	"encoding/binary"
	"errors"
	"strings"
)

// RowID identifies one source record: its 1-based position in the source
// (the Nth record read). It is stable across resumes because the journal
// pins the source by fingerprint, and unlike the email it exists for every
// row: a row with a missing or duplicated email still needs its own entry,
// or reconciliation could not account for it.
type RowID uint64

// ChunkID identifies one chunk; the journal assigns them in planning order.
type ChunkID uint64

// NormalizeEmail is the form under which the journal indexes emails:
// trimmed and lower-cased, as Auth0's database connections store them.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// maxMessageLen bounds error messages kept per user: enough for any
// Auth0 error, small enough that a million failures stay cheap.
const maxMessageLen = 1024

func truncateMessage(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && s[cut]&0xC0 == 0x80 { // don't split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// userRecord is one user as the journal's code sees it, assembled from
// its block (blocks.go): registration, slot and note.
type userRecord struct {
	row     RowID
	line    int
	stage   uint32 // position of the stage (1-based); 0 before assignment
	chunk   ChunkID
	state   UserState
	email   string
	userID  string // the target's user_id, when known
	errCode string
	errMsg  string
}

var errCorruptRecord = errors.New("corrupt user record")

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Keys. Every integer key is 8-byte big-endian so that bbolt's byte order
// is numeric order: rows iterate in source order, events in sequence order.

func u64key(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

func rowKey(r RowID) []byte { return u64key(uint64(r)) }

func keyU64(k []byte) uint64 {
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k)
}

// packRows stores a chunk's rows as delta-encoded uvarints: a 1,000-user
// chunk of consecutive rows takes ~1 KB instead of 8 KB.
func packRows(rows []RowID) []byte {
	out := make([]byte, 0, len(rows)*2+binary.MaxVarintLen64)
	out = binary.AppendUvarint(out, uint64(len(rows)))
	var prev uint64
	for _, r := range rows {
		out = binary.AppendVarint(out, int64(uint64(r)-prev))
		prev = uint64(r)
	}
	return out
}

func unpackRows(b []byte) ([]RowID, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("corrupt chunk member list")
	}
	b = b[k:]
	rows := make([]RowID, 0, n)
	var prev uint64
	for range n {
		d, k := binary.Varint(b)
		if k <= 0 {
			return nil, errors.New("corrupt chunk member list")
		}
		b = b[k:]
		prev += uint64(d)
		rows = append(rows, RowID(prev))
	}
	if len(b) != 0 {
		return nil, errors.New("corrupt chunk member list")
	}
	return rows, nil
}
