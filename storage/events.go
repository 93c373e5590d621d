package storage

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// EventKind groups events for filtering in the audit log and the UI.
type EventKind string

const (
	EventJournal EventKind = "journal" // created, upgraded, compacted
	EventStage   EventKind = "stage"   // a stage changed state
	EventChunk   EventKind = "chunk"   // a chunk changed state
	EventUsers   EventKind = "users"   // a batch of users was registered, assigned or given outcomes
	EventNote    EventKind = "note"    // anything the executor or the operator adds
)

// Event is one line of the audit log. The journal writes an event in the
// same transaction as each change it describes, so the log never claims a
// change that did not happen, nor misses one that did.
type Event struct {
	Seq     uint64    `json:"seq"` // position in the log, from 1; set by the journal
	Time    time.Time `json:"time"`
	Kind    EventKind `json:"kind"`
	Stage   string    `json:"stage,omitempty"`
	Chunk   ChunkID   `json:"chunk,omitempty"`
	Message string    `json:"message"`
}

// AppendEvent adds an event of the caller's own (a gate decision, a pause,
// an operator's note) and returns its sequence number.
func (j *Journal) AppendEvent(e Event) (uint64, error) {
	if e.Kind == "" {
		e.Kind = EventNote
	}
	var seq uint64
	err := j.update(func(tx *bolt.Tx) error {
		var err error
		seq, err = appendEventSeq(tx, e)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("append event: %w", err)
	}
	return seq, nil
}

func appendEvent(tx *bolt.Tx, e Event) error {
	_, err := appendEventSeq(tx, e)
	return err
}

func appendEventSeq(tx *bolt.Tx, e Event) (uint64, error) {
	b := tx.Bucket(bucketEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	e.Seq = seq
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Message = truncateMessage(e.Message)
	data, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	b.FillPercent = 0.9 // append-only: fuller pages, smaller file
	return seq, b.Put(u64key(seq), data)
}

// Events returns up to limit events after sequence number after, oldest
// first: Events(0, 100) reads from the start, and a UI follows the log by
// passing the last Seq it has seen.
func (j *Journal) Events(after uint64, limit int) ([]Event, error) {
	var out []Event
	err := j.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(u64key(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			e, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// LatestEvents returns the last n events, oldest first.
func (j *Journal) LatestEvents(n int) ([]Event, error) {
	var out []Event
	err := j.view(func(tx *bolt.Tx) error {
		var err error
		out, err = latestEvents(tx, n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

func latestEvents(tx *bolt.Tx, n int) ([]Event, error) {
	if n <= 0 {
		return nil, nil
	}
	out := make([]Event, 0, n)
	c := tx.Bucket(bucketEvents).Cursor()
	for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
		e, err := decodeEvent(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func decodeEvent(k, v []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("event %d: %w", keyU64(k), err)
	}
	e.Seq = keyU64(k)
	return e, nil
}
