package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"provision/engine/chunk"
	"provision/engine/target"
	"provision/engine/target/auth0"
	"provision/engine/upload"
	"provision/storage"
)

// work is what one round of a stage has to do.
type work struct {
	// follow are chunks whose job exists: only its end is awaited.
	follow []upload.Work
	// rebuild are chunks to send (again) with exactly their members:
	// planned but never sent, or sent with an unknown or failed outcome.
	rebuild map[storage.ChunkID]*rebuildChunk
	// member maps each rebuild chunk's rows to it.
	member map[storage.RowID]storage.ChunkID
	// fresh are the stage's users in no chunk yet.
	fresh rowSet
	// exhausted chunks failed too often in this run to be sent again.
	exhausted []storage.Chunk
}

func (w *work) empty() bool { return len(w.follow) == 0 && len(w.rebuild) == 0 && w.fresh.count == 0 }

func (w *work) rebuildUsers() int {
	n := 0
	for _, r := range w.rebuild {
		n += len(r.rows)
	}
	return n
}

// rebuildChunk collects a chunk's users from the spool.
type rebuildChunk struct {
	id      storage.ChunkID
	rows    []storage.RowID
	got     int
	data    []byte
	keys    []string
	lines   []int
	userIDs []string
}

// rowSet is a bitset of rows.
type rowSet struct {
	bits  []uint64
	count int
}

func (r *rowSet) add(row storage.RowID) {
	i := int(row / 64)
	if i >= len(r.bits) {
		r.bits = append(r.bits, make([]uint64, i+1-len(r.bits))...)
	}
	if r.bits[i]&(1<<(row%64)) == 0 {
		r.bits[i] |= 1 << (row % 64)
		r.count++
	}
}

func (r *rowSet) has(row storage.RowID) bool {
	i := int(row / 64)
	return i < len(r.bits) && r.bits[i]&(1<<(row%64)) != 0
}

func (r *rowSet) remove(row storage.RowID) {
	if r.has(row) {
		r.bits[row/64] &^= 1 << (row % 64)
		r.count--
	}
}

// chunkInfo is what the run knows about a chunk beyond the journal, for
// deciding its outcome.
type chunkInfo struct {
	stage   string
	members []storage.RowID
	emails  []string
	userIDs []string // target user_ids known from the source, "" when none
	// planned is when the chunk was planned (local clock): no attempt of
	// it can have reached the target earlier.
	planned time.Time
	// resubmitted: an earlier attempt may have created a job whose
	// effects are unknown.
	resubmitted bool
	// submittedAt is when (local clock) its current job's id was
	// recorded; with the job's created_at it gives the target's clock.
	submittedAt time.Time
}

// collectWork reads from the journal what is left of a stage.
func (e *Engine) collectWork(ctx context.Context, s *session, stage string) (*work, error) {
	w := &work{rebuild: map[storage.ChunkID]*rebuildChunk{}, member: map[storage.RowID]storage.ChunkID{}}
	chunks, err := s.j.Chunks(storage.ChunkPlanned, storage.ChunkSubmitted, storage.ChunkAmbiguous, storage.ChunkFailed)
	if err != nil {
		return nil, err
	}
	for _, c := range chunks {
		if c.Stage != stage {
			continue
		}
		if c.State == storage.ChunkSubmitted {
			ok, err := e.jobStillReadable(ctx, s, c)
			if err != nil {
				return nil, err
			}
			if ok {
				info, err := s.loadChunk(c)
				if err != nil {
					return nil, err
				}
				info.submittedAt = c.Updated // RecordJobID was its last change
				w.follow = append(w.follow, upload.Work{JobID: c.JobID, Chunk: chunk.Chunk{Seq: int(c.ID), Keys: info.emails}})
				continue
			}
			c.State = storage.ChunkAmbiguous
		}
		if (c.State == storage.ChunkAmbiguous || c.State == storage.ChunkFailed) && s.triesOf(c.ID) >= e.opts.MaxAttempts {
			w.exhausted = append(w.exhausted, c)
			continue
		}
		info, err := s.loadChunk(c)
		if err != nil {
			return nil, err
		}
		rb := &rebuildChunk{id: c.ID, rows: info.members}
		w.rebuild[c.ID] = rb
		for _, r := range info.members {
			w.member[r] = c.ID
		}
	}
	waiting, err := s.j.WaitingRows(ctx, stage)
	if err != nil {
		return nil, err
	}
	for _, row := range waiting {
		w.fresh.add(row)
	}
	return w, nil
}

// jobStillReadable checks, before following a job an earlier process
// submitted, that the target still has it: Auth0 deletes jobs after 24
// hours, and a chunk whose job is gone is ambiguous.
func (e *Engine) jobStillReadable(ctx context.Context, s *session, c storage.Chunk) (bool, error) {
	job, err := e.opts.Target.Job(ctx, c.JobID)
	switch {
	case errors.Is(err, auth0.ErrNotFound):
		reason := fmt.Sprintf("job %s no longer exists at the target (jobs are deleted 24 h after creation)", c.JobID)
		if err := s.j.MarkChunkAmbiguous(c.ID, reason); err != nil {
			return false, err
		}
		e.emit(ChunkUnsettled{Stage: c.Stage, Chunk: c.ID, State: storage.ChunkAmbiguous, Reason: reason})
		return false, nil
	case err != nil:
		// Unreachable for now: follow it, and let the pipeline's retries
		// and rounds deal with the target.
		e.opts.Logger.Debug("check job before following it", "chunk", c.ID, "job", c.JobID, "err", err)
		return true, nil
	case job.Status == target.StatusExpired:
		reason := fmt.Sprintf("job %s expired before its results were read", c.JobID)
		if err := s.j.MarkChunkAmbiguous(c.ID, reason); err != nil {
			return false, err
		}
		e.emit(ChunkUnsettled{Stage: c.Stage, Chunk: c.ID, State: storage.ChunkAmbiguous, Reason: reason})
		return false, nil
	}
	return true, nil
}

// loadChunk reads a chunk's members from the journal into the session.
func (s *session) loadChunk(c storage.Chunk) (*chunkInfo, error) {
	users, err := s.j.ChunkUsers(c.ID)
	if err != nil {
		return nil, err
	}
	info := &chunkInfo{stage: c.Stage, planned: c.Created, resubmitted: c.Attempts > 1 || c.State == storage.ChunkAmbiguous || c.State == storage.ChunkFailed,
		members: make([]storage.RowID, len(users)), emails: make([]string, len(users)), userIDs: make([]string, len(users))}
	for i, u := range users {
		info.members[i], info.emails[i], info.userIDs[i] = u.Row, u.Email, u.UserID
	}
	s.mu.Lock()
	s.chunks[c.ID] = info
	s.mu.Unlock()
	return info, nil
}

func (s *session) chunkInfo(id storage.ChunkID) *chunkInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chunks[id]
}

// forget drops what the run knows of a chunk whose job has ended: its
// members are in the journal, and a later round reloads them if the chunk
// is sent again.
func (s *session) forget(id storage.ChunkID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.chunks, id)
}

func (s *session) triesOf(id storage.ChunkID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries[id]
}
