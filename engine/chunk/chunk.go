// Package chunk packs users into Auth0 import files: JSON arrays no larger
// than a byte limit, filled in source order. Packing is streaming and
// greedy: one chunk is open at a time and is closed when the next user does
// not fit, so memory stays at one chunk whatever the size of the source,
// and a chunk holds a contiguous run of source rows, which keeps the
// journal's "which rows went in which job" simple.
package chunk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"provision/engine/importuser"
	"provision/engine/target"
)

// DefaultMaxBytes is the import file limit. Auth0 documents "500 KB"
// without saying whether a KB is 1,000 or 1,024 bytes; we take the smaller
// reading, 500×1000 bytes, so no file is rejected whichever Auth0 means.
const DefaultMaxBytes = 500 * 1000

// ErrUserTooLarge is returned (wrapped in *TooLargeError) when one user
// alone exceeds the limit. It concerns that user only: quarantine it and
// go on packing.
var ErrUserTooLarge = errors.New("user does not fit in an import file")

// TooLargeError says which user did not fit and by how much.
type TooLargeError struct {
	Key      string
	Line     int
	Size     int // bytes the user needs, brackets included
	MaxBytes int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("line %d (%s): user is %d bytes as an import file, over the %d-byte limit; shorten app_metadata/user_metadata or import this user on its own through the Management API",
		e.Line, e.Key, e.Size, e.MaxBytes)
}

func (e *TooLargeError) Unwrap() error { return ErrUserTooLarge }

// Chunk is one import file and the users it holds, in source order.
type Chunk struct {
	// Seq numbers chunks from Options.FirstSeq upward.
	Seq int
	// Data is a JSON array of users, at most MaxBytes long. The chunk
	// owns it: the packer never writes to it again.
	Data []byte
	// Keys and Lines hold, per user, the key the caller gave (the
	// normalized email the journal files users under) and the source line.
	Keys  []string
	Lines []int
	// Validated: every user came from engine/validate (Options.Validated).
	Validated bool
}

// Users is the number of users in c.
func (c Chunk) Users() int { return len(c.Keys) }

// Submission turns c into what a target submits.
func (c Chunk) Submission(upsert bool) target.Submission {
	return target.Submission{Seq: c.Seq, Data: c.Data, Users: c.Users(), Upsert: upsert, Validated: c.Validated}
}

// Options configure a Packer.
type Options struct {
	// MaxBytes caps a chunk's size (default DefaultMaxBytes). The sandbox
	// and tests set a smaller one.
	MaxBytes int
	// FirstSeq is the Seq of the first chunk (default 1); a resumed run
	// continues its numbering.
	FirstSeq int
	// Validated promises that every user given to AddJSON was marshalled
	// by engine/validate after passing its checks; the chunks say so to
	// the target (Chunk.Validated).
	Validated bool
}

// Packer fills chunks one user at a time. It is not safe for concurrent
// use; one packer serves one stream of users.
type Packer struct {
	max  int
	seq  int
	buf  []byte // the open chunk's array, without the closing bracket
	keys []string
	line []int
	enc  *json.Encoder
	tmp  bytes.Buffer
	// validated: Options.Validated; unchecked: the open chunk holds a
	// user given to Add, which validation never saw.
	validated, unchecked bool
}

// NewPacker returns a packer with no open chunk.
func NewPacker(opts Options) (*Packer, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxBytes < len("[{}]") {
		return nil, fmt.Errorf("chunk size %d bytes is too small to hold any user", opts.MaxBytes)
	}
	if opts.FirstSeq == 0 {
		opts.FirstSeq = 1
	}
	p := &Packer{max: opts.MaxBytes, seq: opts.FirstSeq, validated: opts.Validated}
	p.enc = json.NewEncoder(&p.tmp)
	// Auth0 reads the file as JSON, where <, > and & need no escaping;
	// escaping them would only spend bytes of the limit.
	p.enc.SetEscapeHTML(false)
	return p, nil
}

// Add marshals u and packs it. See AddJSON for the results.
func (p *Packer) Add(key string, line int, u importuser.User) (Chunk, bool, error) {
	p.tmp.Reset()
	if err := p.enc.Encode(u); err != nil {
		return Chunk{}, false, fmt.Errorf("line %d (%s): marshal user: %w", line, key, err)
	}
	doc := bytes.TrimSuffix(p.tmp.Bytes(), []byte("\n"))
	closed, ok, err := p.AddJSON(key, line, doc)
	if err == nil {
		p.unchecked = true
	}
	return closed, ok, err
}

// AddJSON packs one marshalled user (a JSON object, as importuser.User
// marshals). When the user does not fit in the open chunk, that chunk is
// closed and returned with ok=true, and the user opens the next one. A
// user too large for any chunk returns a *TooLargeError and leaves the
// packer as it was. doc is copied; the caller may reuse it.
func (p *Packer) AddJSON(key string, line int, doc []byte) (closed Chunk, ok bool, err error) {
	if need := len(doc) + 2; need > p.max {
		return Chunk{}, false, &TooLargeError{Key: key, Line: line, Size: need, MaxBytes: p.max}
	}
	// The open array is "[u1,u2" and will gain "," + doc + "]".
	if len(p.keys) > 0 && len(p.buf)+1+len(doc)+1 > p.max {
		closed, ok = p.close(), true
	}
	if len(p.keys) == 0 {
		if p.buf == nil {
			p.buf = make([]byte, 0, p.max)
		}
		p.buf = append(p.buf[:0], '[')
	} else {
		p.buf = append(p.buf, ',')
	}
	p.buf = append(p.buf, doc...)
	p.keys = append(p.keys, key)
	p.line = append(p.line, line)
	return closed, ok, nil
}

// Flush closes and returns the open chunk, if it holds any user.
func (p *Packer) Flush() (Chunk, bool) {
	if len(p.keys) == 0 {
		return Chunk{}, false
	}
	return p.close(), true
}

// Pending is the number of users in the open chunk.
func (p *Packer) Pending() int { return len(p.keys) }

func (p *Packer) close() Chunk {
	// The chunk takes the buffer (it has room for the bracket: a chunk is
	// at most max bytes) and the next chunk gets a new one, rather than a
	// copy of every file's bytes.
	data := append(p.buf, ']')
	p.buf = nil
	c := Chunk{Seq: p.seq, Data: data, Keys: p.keys, Lines: p.line, Validated: p.validated && !p.unchecked}
	p.seq++
	p.unchecked = false
	// The closed chunk keeps its slices; the next chunk starts fresh ones
	// sized like this one, which is what the next will most likely hold.
	p.keys = make([]string, 0, len(c.Keys))
	p.line = make([]int, 0, len(c.Lines))
	return c
}
