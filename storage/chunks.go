package storage

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Chunk is a group of one stage's users sent to the target as one import job.
type Chunk struct {
	ID       ChunkID    `json:"id"`
	Stage    string     `json:"stage"`
	State    ChunkState `json:"state"`
	Users    int        `json:"users"`
	JobID    string     `json:"job_id,omitempty"`
	Attempts int        `json:"attempts"` // times it was submitted
	// Result counts its users' outcomes once it is done.
	Result *ChunkResult `json:"result,omitempty"`
	// ErrorCode and ErrorMessage say why it failed or is ambiguous.
	ErrorCode    string    `json:"error_code,omitempty"`
	ErrorMessage string    `json:"error_message,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// ChunkResult is what happened to a done chunk's users.
type ChunkResult struct {
	Inserted int `json:"inserted"`
	Updated  int `json:"updated"`
	Failed   int `json:"failed"`
}

func chunkStateKey(s ChunkState, id ChunkID) []byte {
	return append([]byte{byte(s)}, u64key(uint64(id))...)
}

func (w *writeTx) chunk(id ChunkID) (Chunk, error) {
	return readChunk(w.tx, id)
}

func readChunk(tx *bolt.Tx, id ChunkID) (Chunk, error) {
	var c Chunk
	v := tx.Bucket(bucketChunks).Get(u64key(uint64(id)))
	if v == nil {
		return c, fmt.Errorf("chunk %d: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &c); err != nil {
		return c, fmt.Errorf("chunk %d: %w", id, err)
	}
	c.ID = id
	return c, nil
}

func chunkMembers(tx *bolt.Tx, id ChunkID) ([]RowID, error) {
	v := tx.Bucket(bucketChunkUsers).Get(u64key(uint64(id)))
	if v == nil {
		return nil, fmt.Errorf("chunk %d has no member list: %w", id, ErrNotFound)
	}
	rows, err := unpackRows(v)
	if err != nil {
		return nil, fmt.Errorf("chunk %d: %w", id, err)
	}
	return rows, nil
}

// putChunk writes c and keeps the state index in step: old is the state c
// was stored in (0 for a new chunk).
func (w *writeTx) putChunk(c Chunk, old ChunkState) error {
	c.Updated = time.Now().UTC()
	if err := putJSON(w.tx.Bucket(bucketChunks), u64key(uint64(c.ID)), c); err != nil {
		return err
	}
	idx := w.tx.Bucket(bucketChunkStates)
	if old != 0 && old != c.State {
		if err := idx.Delete(chunkStateKey(old, c.ID)); err != nil {
			return err
		}
	}
	return idx.Put(chunkStateKey(c.State, c.ID), nil)
}

// moveChunk checks and applies a chunk transition, with its event.
func (w *writeTx) moveChunk(c *Chunk, to ChunkState, note string) error {
	if !c.State.CanBecome(to) {
		return &TransitionError{Subject: fmt.Sprintf("chunk %d", c.ID), From: c.State.String(), To: to.String()}
	}
	from := c.State
	c.State = to
	if err := w.putChunk(*c, from); err != nil {
		return err
	}
	msg := fmt.Sprintf("chunk %d: %s -> %s", c.ID, from, to)
	if note != "" {
		msg += " (" + note + ")"
	}
	return appendEvent(w.tx, Event{Kind: EventChunk, Stage: c.Stage, Chunk: c.ID, Message: msg})
}

// requireRunning refuses chunk work in a stage that is not running.
func (w *writeTx) requireRunning(stage string, doing string) (Stage, error) {
	t, err := w.stageTable()
	if err != nil {
		return Stage{}, err
	}
	s, err := t.byName(stage)
	if err != nil {
		return Stage{}, err
	}
	if s.State != StageRunning {
		return s, fmt.Errorf("cannot %s: stage %q is %s, not running; start it first", doing, s.Name, s.State)
	}
	return s, nil
}

// PlanChunk groups assigned users of a running stage, not yet in any
// chunk, into a new chunk. Nothing is sent: the users stay assigned until
// MarkChunkSubmitting.
func (j *Journal) PlanChunk(stage string, rows []RowID) (ChunkID, error) {
	var id ChunkID
	err := j.update(func(tx *bolt.Tx) error {
		w := newWriteTx(tx)
		s, err := w.requireRunning(stage, "plan a chunk")
		if err != nil {
			return err
		}
		c, err := w.planChunk(s, rows)
		if err != nil {
			return err
		}
		id = c.ID
		return w.finish()
	})
	if err != nil {
		return 0, fmt.Errorf("plan chunk in stage %q: %w", stage, err)
	}
	return id, nil
}

func (w *writeTx) planChunk(s Stage, rows []RowID) (Chunk, error) {
	if len(rows) == 0 || len(rows) > maxRecordsPerTx {
		return Chunk{}, fmt.Errorf("%d users; a chunk holds 1 to %d", len(rows), maxRecordsPerTx)
	}
	seq, err := w.tx.Bucket(bucketChunks).NextSequence()
	if err != nil {
		return Chunk{}, err
	}
	id := ChunkID(seq)
	if id > maxChunkID {
		return Chunk{}, fmt.Errorf("chunk %d is beyond the %d chunks a journal holds", id, uint64(maxChunkID))
	}
	for _, row := range rows {
		b, off, v, err := w.slot(row)
		if err != nil {
			return Chunk{}, err
		}
		switch {
		case v.stage != uint32(s.Position):
			return Chunk{}, fmt.Errorf("%s is not in stage %q", w.subject(row), s.Name)
		case v.state != UserAssigned:
			return Chunk{}, fmt.Errorf("%s is %s; only assigned users can be planned into a chunk", w.subject(row), v.state)
		case v.chunk != 0:
			return Chunk{}, fmt.Errorf("%s is already in chunk %d", w.subject(row), v.chunk)
		}
		nv := v
		nv.chunk = id
		w.setSlot(b, off, v, nv)
	}
	if err := w.tx.Bucket(bucketChunkUsers).Put(u64key(seq), packRows(rows)); err != nil {
		return Chunk{}, err
	}
	c := Chunk{ID: id, Stage: s.Name, State: ChunkPlanned, Users: len(rows), Created: time.Now().UTC()}
	if err := w.putChunk(c, 0); err != nil {
		return Chunk{}, err
	}
	return c, appendEvent(w.tx, Event{Kind: EventChunk, Stage: s.Name, Chunk: id, Message: fmt.Sprintf("chunk %d planned with %d users", id, len(rows))})
}

// MarkChunkSubmitting records, before the import job is posted, that the
// chunk's users may from now on exist in the target: a planned chunk's
// users become submitted. An ambiguous or failed chunk may be submitted
// again (same users, new job); the caller must then use upsert, or treat
// "already exists" errors as confirmed only after looking each user up.
func (j *Journal) MarkChunkSubmitting(id ChunkID) error {
	return j.chunkUpdate(id, "mark submitting", func(w *writeTx, c *Chunk) error {
		if _, err := w.requireRunning(c.Stage, fmt.Sprintf("submit chunk %d", c.ID)); err != nil {
			return err
		}
		return w.markSubmitting(c)
	})
}

func (w *writeTx) markSubmitting(c *Chunk) error {
	from := c.State
	c.Attempts++
	note := fmt.Sprintf("attempt %d", c.Attempts)
	if c.JobID != "" {
		note += ", replacing job " + c.JobID
	}
	c.JobID, c.ErrorCode, c.ErrorMessage = "", "", ""
	if err := w.moveChunk(c, ChunkSubmitting, note); err != nil {
		return err
	}
	if from != ChunkPlanned {
		return nil // its users have been submitted since the first attempt
	}
	return w.eachMember(c.ID, func(row RowID, b *userBlock, off int, v slotVal) error {
		if v.state != UserAssigned {
			return w.transitionError(row, UserSubmitted, fmt.Sprintf("chunk %d is planned, so its users should be assigned", c.ID))
		}
		nv := v
		nv.state = UserSubmitted
		w.setSlot(b, off, v, nv)
		return nil
	})
}

// StartChunks plans fresh chunks of a running stage from the given rows
// and marks them, with the chunks again, submitting, all in one
// transaction: for a target that takes a batch of files at once, where a
// tenant's import jobs are planned and marked one by one. It returns the
// fresh chunks' ids in order.
func (j *Journal) StartChunks(stage string, fresh [][]RowID, again []ChunkID) ([]ChunkID, error) {
	ids := make([]ChunkID, 0, len(fresh))
	err := j.update(func(tx *bolt.Tx) error {
		w := newWriteTx(tx)
		s, err := w.requireRunning(stage, "submit chunks")
		if err != nil {
			return err
		}
		for _, rows := range fresh {
			c, err := w.planChunk(s, rows)
			if err != nil {
				return err
			}
			if err := w.markSubmitting(&c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		for _, id := range again {
			c, err := w.chunk(id)
			if err != nil {
				return err
			}
			if c.Stage != s.Name {
				return fmt.Errorf("chunk %d is in stage %q, not %q", id, c.Stage, s.Name)
			}
			if err := w.markSubmitting(&c); err != nil {
				return fmt.Errorf("chunk %d: %w", id, err)
			}
		}
		return w.finish()
	})
	if err != nil {
		return nil, fmt.Errorf("start chunks in stage %q: %w", stage, err)
	}
	return ids, nil
}

// RecordJobID records the import job created for a submitting chunk.
// Call it as soon as the POST returns; recording the same id again does
// nothing.
func (j *Journal) RecordJobID(id ChunkID, jobID string) error {
	if jobID == "" {
		return fmt.Errorf("chunk %d: record job id: the id is empty", id)
	}
	return j.chunkUpdate(id, "record job id", func(w *writeTx, c *Chunk) error {
		return w.recordJobID(c, jobID)
	})
}

func (w *writeTx) recordJobID(c *Chunk, jobID string) error {
	if c.State == ChunkSubmitted && c.JobID == jobID {
		return nil
	}
	c.JobID = jobID
	return w.moveChunk(c, ChunkSubmitted, "job "+jobID)
}

// MarkChunkAmbiguous records that it is unknown whether a chunk's job
// exists or what it did: a crash between posting and recording the job id,
// or a job whose results can no longer be read.
func (j *Journal) MarkChunkAmbiguous(id ChunkID, reason string) error {
	return j.chunkUpdate(id, "mark ambiguous", func(w *writeTx, c *Chunk) error {
		if c.State == ChunkAmbiguous {
			return nil
		}
		c.ErrorCode, c.ErrorMessage = "AMBIGUOUS", truncateMessage(reason)
		return w.moveChunk(c, ChunkAmbiguous, reason)
	})
}

// FailChunk records that a chunk's job (or its POST) failed as a whole.
// Its users stay submitted: a failed job may have imported some of them.
func (j *Journal) FailChunk(id ChunkID, code, message string) error {
	return j.chunkUpdate(id, "mark failed", func(w *writeTx, c *Chunk) error {
		if c.State == ChunkFailed {
			return nil
		}
		c.ErrorCode, c.ErrorMessage = code, truncateMessage(message)
		return w.moveChunk(c, ChunkFailed, strings.TrimSpace(code+" "+message))
	})
}

// CompleteChunk records the outcome of every user still submitted in the
// chunk and marks it done, in one transaction: a chunk is done exactly when
// its outcomes are recorded. Outcomes recorded earlier with RecordOutcomes
// need not be repeated. Completing a done chunk again with the same
// outcomes does nothing.
func (j *Journal) CompleteChunk(id ChunkID, outcomes []Outcome) error {
	if len(outcomes) > maxRecordsPerTx {
		return fmt.Errorf("chunk %d: complete: %d outcomes is more than a chunk can hold (%d)", id, len(outcomes), maxRecordsPerTx)
	}
	return j.chunkUpdate(id, "complete", func(w *writeTx, c *Chunk) error {
		return w.complete(c, outcomes)
	})
}

// ChunkCompletion is one chunk of CompleteChunks: the job that took it and
// its users' outcomes.
type ChunkCompletion struct {
	ID       ChunkID
	JobID    string
	Outcomes []Outcome
}

// CompleteChunks records, in one transaction, each chunk's job id and
// outcomes and marks it done: the end of a batch that StartChunks began.
func (j *Journal) CompleteChunks(chunks []ChunkCompletion) error {
	n := 0
	for _, c := range chunks {
		n += len(c.Outcomes)
	}
	if n > maxUsersPerBatch {
		return fmt.Errorf("complete chunks: %d outcomes in one batch, more than %d", n, maxUsersPerBatch)
	}
	err := j.update(func(tx *bolt.Tx) error {
		w := newWriteTx(tx)
		for _, cc := range chunks {
			c, err := w.chunk(cc.ID)
			if err != nil {
				return err
			}
			if c.State != ChunkDone {
				if err := w.recordJobID(&c, cc.JobID); err != nil {
					return fmt.Errorf("chunk %d: %w", c.ID, err)
				}
			}
			if err := w.complete(&c, cc.Outcomes); err != nil {
				return fmt.Errorf("chunk %d: %w", c.ID, err)
			}
		}
		return w.finish()
	})
	if err != nil {
		return fmt.Errorf("complete chunks: %w", err)
	}
	return nil
}

// maxUsersPerBatch bounds the users one batch of chunks holds: what a
// transaction may change.
const maxUsersPerBatch = 200_000

func (w *writeTx) complete(c *Chunk, outcomes []Outcome) error {
	if len(outcomes) > maxRecordsPerTx {
		return fmt.Errorf("%d outcomes is more than a chunk can hold (%d)", len(outcomes), maxRecordsPerTx)
	}
	if c.State == ChunkDone {
		return w.checkReplayedOutcomes(c.ID, outcomes)
	}
	for _, o := range outcomes {
		if err := w.recordOutcome(o, c.ID); err != nil {
			return err
		}
	}
	var result ChunkResult
	var missing []string
	rows, err := chunkMembers(w.tx, c.ID)
	if err != nil {
		return err
	}
	for _, row := range rows {
		_, _, v, err := w.slot(row)
		if err != nil {
			return err
		}
		if v.chunk != c.ID {
			continue // retried out of this chunk
		}
		switch v.state {
		case UserSubmitted:
			if len(missing) < 5 {
				missing = append(missing, fmt.Sprint(row))
			} else if len(missing) == 5 {
				missing = append(missing, "…")
			}
		case UserInserted, UserRolledBack:
			result.Inserted++
		case UserUpdated:
			result.Updated++
		case UserFailed:
			result.Failed++
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("chunk %d cannot be done: users without an outcome (rows %s); record an outcome for every user of the chunk",
			c.ID, strings.Join(missing, ", "))
	}
	c.Result = &result
	return w.moveChunk(c, ChunkDone, fmt.Sprintf("%d inserted, %d updated, %d failed", result.Inserted, result.Updated, result.Failed))
}

func (w *writeTx) checkReplayedOutcomes(id ChunkID, outcomes []Outcome) error {
	for _, o := range outcomes {
		rec, err := w.mustGet(o.Row)
		if err != nil {
			return err
		}
		if rec.chunk != id {
			return fmt.Errorf("%s is not in chunk %d", rec.subject(), id)
		}
		if rec.state != o.State {
			return userTransitionError(rec, o.State, fmt.Sprintf("chunk %d is done and recorded it as %s", id, rec.state))
		}
	}
	return nil
}

// eachMember calls fn with the slot of each user that is still in chunk
// id (a user retried out of a chunk is no longer its member).
func (w *writeTx) eachMember(id ChunkID, fn func(row RowID, b *userBlock, off int, v slotVal) error) error {
	rows, err := chunkMembers(w.tx, id)
	if err != nil {
		return err
	}
	for _, row := range rows {
		b, off, v, err := w.slot(row)
		if err != nil {
			return err
		}
		if v.chunk != id {
			continue
		}
		if err := fn(row, b, off, v); err != nil {
			return err
		}
	}
	return nil
}

// chunkUpdate runs fn on chunk id in one write transaction.
func (j *Journal) chunkUpdate(id ChunkID, what string, fn func(w *writeTx, c *Chunk) error) error {
	err := j.update(func(tx *bolt.Tx) error {
		w := newWriteTx(tx)
		c, err := w.chunk(id)
		if err != nil {
			return err
		}
		if err := fn(w, &c); err != nil {
			return err
		}
		return w.finish()
	})
	if err != nil {
		return fmt.Errorf("chunk %d: %s: %w", id, what, err)
	}
	return nil
}

// Chunk returns one chunk.
func (j *Journal) Chunk(id ChunkID) (Chunk, error) {
	var c Chunk
	err := j.view(func(tx *bolt.Tx) error {
		var err error
		c, err = readChunk(tx, id)
		return err
	})
	return c, err
}

// Chunks returns the chunks in any of the given states (all chunks when
// none is given), in id order within each state.
func (j *Journal) Chunks(states ...ChunkState) ([]Chunk, error) {
	var out []Chunk
	err := j.view(func(tx *bolt.Tx) error {
		if len(states) == 0 {
			states = ChunkStates()
		}
		for _, s := range states {
			for _, id := range chunkIDsIn(tx, s) {
				c, err := readChunk(tx, id)
				if err != nil {
					return err
				}
				out = append(out, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read chunks: %w", err)
	}
	return out, nil
}

// AmbiguousChunks returns the chunks whose jobs may or may not exist.
func (j *Journal) AmbiguousChunks() ([]Chunk, error) { return j.Chunks(ChunkAmbiguous) }

// ChunkUsers returns the users still in chunk id, in row order.
func (j *Journal) ChunkUsers(id ChunkID) ([]User, error) {
	var out []User
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		rows, err := chunkMembers(tx, id)
		if err != nil {
			return err
		}
		r := newBlockReader(tx)
		for _, row := range rows {
			rec, ok, err := r.get(row)
			if err == nil && !ok {
				err = fmt.Errorf("user row %d of chunk %d: %w", row, id, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if rec.chunk == id {
				out = append(out, rec.user(t))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk %d: read users: %w", id, err)
	}
	return out, nil
}

func chunkIDsIn(tx *bolt.Tx, s ChunkState) []ChunkID {
	var ids []ChunkID
	c := tx.Bucket(bucketChunkStates).Cursor()
	for k, _ := c.Seek([]byte{byte(s)}); len(k) == 9 && k[0] == byte(s); k, _ = c.Next() {
		ids = append(ids, ChunkID(keyU64(k[1:])))
	}
	return ids
}

func countChunksIn(tx *bolt.Tx, s ChunkState) int {
	n := 0
	c := tx.Bucket(bucketChunkStates).Cursor()
	for k, _ := c.Seek([]byte{byte(s)}); len(k) == 9 && k[0] == byte(s); k, _ = c.Next() {
		n++
	}
	return n
}
