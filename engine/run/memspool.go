package run

import (
	"encoding/binary"
	"fmt"

	"provision/engine/target"
	"provision/storage"
)

// A run into a local target (a directory of files) keeps its spool in
// memory when the source is small enough: such a run writes every file
// within seconds of reading the source, and writing the spool to disk and
// reading it back cost it more than validating the source did (the spool
// is as large as the import files). A crash loses nothing but the spool,
// which the resumed run makes again from the source (ensureSpool), as it
// does for a removed one. A run into a tenant, which may take hours, keeps
// the spool on disk so that a resume starts sending at once.

// memSpoolMaxSource is the largest source whose spool is kept in memory:
// the spool is about 1.7 times the size of a CSV source, so ~450 MB. (A
// variable so that tests can send a small source's spool to disk.)
var memSpoolMaxSource int64 = 256 << 20

// memSpoolArena is the size of the slabs the spool is appended to:
// records never move once written, and no slab is copied as it grows.
const memSpoolArena = 64 << 20

// spoolInMemory decides where this run's spool lives.
func (e *Engine) spoolInMemory(s *session) bool {
	_, local := e.opts.Target.(target.Local)
	return local && s.fp.Size > 0 && s.fp.Size <= memSpoolMaxSource
}

// memSpool is the spool in memory, in spool.go's record layout.
type memSpool struct {
	sha, options string
	arenas       [][]byte
	frees        []func()
	buf          []byte
	// rows and at index the records: record i is row rows[i], at offset
	// at[i]&atOffset of arena at[i]>>atArenaShift. A stage reads only its
	// users' records, skipping the rest without decoding them.
	rows []storage.RowID
	at   []uint64
}

const (
	atArenaShift = 40
	atOffset     = 1<<atArenaShift - 1
)

// spoolSink is what register writes the spool to: a file or memory.
type spoolSink interface {
	add(r spoolRecord) error
	commit() error
	abort()
}

func newMemSpool(sha, options string) *memSpool {
	return &memSpool{sha: sha, options: options}
}

func (m *memSpool) add(r spoolRecord) error {
	b := appendRecordHead(m.buf[:0], r)
	m.buf = b
	need := len(b) + len(r.JSON)
	last := len(m.arenas) - 1
	if last < 0 || cap(m.arenas[last])-len(m.arenas[last]) < need {
		slab, free := newArena(max(memSpoolArena, need))
		m.arenas, m.frees = append(m.arenas, slab), append(m.frees, free)
		last++
	}
	m.rows = append(m.rows, r.Row)
	m.at = append(m.at, uint64(last)<<atArenaShift|uint64(len(m.arenas[last])))
	a := append(m.arenas[last], b...)
	m.arenas[last] = append(a, r.JSON...)
	return nil
}

func (m *memSpool) commit() error { return nil }
func (m *memSpool) abort()        { m.release() }

// release frees the spool's memory; the spool is empty afterwards.
func (m *memSpool) release() {
	if m == nil {
		return
	}
	for _, free := range m.frees {
		free()
	}
	m.arenas, m.frees, m.sha, m.rows, m.at = nil, nil, "", nil, nil
}

// valid reports whether m is the complete spool of this source and options.
func (m *memSpool) valid(sha, options string) bool {
	return m != nil && m.sha == sha && m.options == options
}

// each calls fn for every record whose row want accepts, in the order
// written; the others are skipped without being read. rec.JSON points
// into the spool: fn must not change it.
func (m *memSpool) each(want func(storage.RowID) bool, fn func(rec *spoolRecord) error) error {
	var rec spoolRecord
	for i, row := range m.rows {
		if !want(row) {
			continue
		}
		at := m.at[i]
		d := decoder{b: m.arenas[at>>atArenaShift][at&atOffset:]}
		rec = spoolRecord{Row: storage.RowID(d.uvarint()), Line: int(d.uvarint())}
		email, userID, doc := d.bytes(), d.bytes(), d.bytes()
		if d.err || rec.Row != row {
			return fmt.Errorf("the in-memory user spool is damaged: run again")
		}
		rec.Email, rec.UserID, rec.JSON = string(email), string(userID), doc
		if err := fn(&rec); err != nil {
			return err
		}
	}
	return nil
}

// decoder reads uvarints and length-prefixed byte strings.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err, d.b = true, nil
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}
