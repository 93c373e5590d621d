package run

import (
	"context"
	"errors"

	"provision/engine/chunk"
	"provision/engine/run/outcome"
	"provision/engine/target"
	"provision/storage"
)

// A local target (target.Local: a directory of import files) finishes a
// submission at once and takes the same file again harmlessly. Its round
// sends chunks in batches, each journaled in two transactions: started
// (planned and submitting) before its files are written, completed (job
// ids and every user's outcome) after. A tenant's chunks take four
// transactions each, one per step of a job that runs for minutes; for a
// file written in a millisecond those fsyncs would be most of the run.
// The write-ahead rule is the same: a crash after StartChunks leaves the
// chunks submitting, they are marked ambiguous on resume and their files
// written again.

// localBatchBytes, localBatchChunks and localBatchUsers bound a batch:
// enough to make the two commits per batch negligible, small enough that a
// pause waits for little and that the journal's transactions stay modest
// (CompleteChunks takes at most 200,000 outcomes).
const (
	localBatchBytes  = 32 << 20
	localBatchChunks = 64
	localBatchUsers  = 100_000
)

// localBatch collects packed chunks until they are sent together. One
// batch is sent in the background while the next is packed: packing is
// memory work, sending is mostly the disk's.
type localBatch struct {
	e     *Engine
	s     *session
	stage string
	tgt   target.Local

	open    batchChunks
	pending chan error // the batch being sent; nil when none
}

// batchChunks are one batch's chunks.
type batchChunks struct {
	fresh    []chunk.Chunk
	freshRow [][]storage.RowID
	freshUID [][]string
	again    []chunk.Chunk // Seq is the chunk id
	bytes    int
	users    int
}

func (b *localBatch) addFresh(c chunk.Chunk, rows []storage.RowID, uids []string) error {
	o := &b.open
	o.fresh, o.freshRow, o.freshUID = append(o.fresh, c), append(o.freshRow, rows), append(o.freshUID, uids)
	return b.added(c)
}

func (b *localBatch) addAgain(c chunk.Chunk) error {
	b.open.again = append(b.open.again, c)
	return b.added(c)
}

func (b *localBatch) added(c chunk.Chunk) error {
	o := &b.open
	o.bytes += len(c.Data)
	o.users += c.Users()
	if o.bytes >= localBatchBytes || o.users >= localBatchUsers || len(o.fresh)+len(o.again) >= localBatchChunks {
		return b.flush()
	}
	return nil
}

// flush starts sending the open batch, once the one before it is sent.
func (b *localBatch) flush() error {
	if len(b.open.fresh)+len(b.open.again) == 0 {
		return nil
	}
	if err := b.wait(); err != nil {
		return err
	}
	if m, _ := b.s.stop.state(); m != stopNone {
		return errIterStop // unsent chunks stay as they are: fresh users, or chunks to send again
	}
	batch := b.open
	b.open = batchChunks{}
	done := make(chan error, 1)
	b.pending = done
	go func() { done <- b.send(batch) }()
	return nil
}

// wait returns once no batch is being sent, with its error.
func (b *localBatch) wait() error {
	if b.pending == nil {
		return nil
	}
	err := <-b.pending
	b.pending = nil
	return err
}

// send sends one batch: journal, write, journal.
func (b *localBatch) send(batch batchChunks) error {
	e, s := b.e, b.s
	againIDs := make([]storage.ChunkID, len(batch.again))
	for i, c := range batch.again {
		againIDs[i] = storage.ChunkID(c.Seq)
	}
	ids, err := s.j.StartChunks(b.stage, batch.freshRow, againIDs)
	if err != nil {
		return &fatalError{err}
	}
	now := e.opts.Now()
	chunks := make([]chunk.Chunk, 0, len(batch.fresh)+len(batch.again))
	s.mu.Lock()
	for i, c := range batch.fresh {
		c.Seq = int(ids[i])
		s.chunks[ids[i]] = &chunkInfo{stage: b.stage, members: batch.freshRow[i], emails: c.Keys, userIDs: batch.freshUID[i], planned: now}
		chunks = append(chunks, c)
	}
	chunks = append(chunks, batch.again...)
	for _, c := range chunks {
		s.tries[storage.ChunkID(c.Seq)]++
	}
	s.mu.Unlock()

	subs := make([]target.Submission, len(chunks))
	for i, c := range chunks {
		subs[i] = c.Submission(s.meta.Settings.Upsert)
	}
	jobs, err := b.tgt.SubmitBatch(context.Background(), subs)
	if err != nil {
		// Some files may be written: the chunks are sent again next round.
		for _, c := range chunks {
			id := storage.ChunkID(c.Seq)
			if ferr := s.j.FailChunk(id, "SUBMIT_FAILED", err.Error()); ferr != nil {
				return &fatalError{ferr}
			}
			e.emit(ChunkUnsettled{Stage: b.stage, Chunk: id, State: storage.ChunkFailed, Reason: err.Error()})
		}
		return err
	}
	done := make([]storage.ChunkCompletion, len(chunks))
	results := make([]outcome.Result, len(chunks))
	for i, c := range chunks {
		id := storage.ChunkID(c.Seq)
		e.emit(ChunkSubmitted{Stage: b.stage, Chunk: id, Job: jobs[i].ID, Users: c.Users(), Attempt: s.triesOf(id)})
		in, res, err := e.decide(context.Background(), s, id, jobs[i], nil)
		if err != nil {
			return err
		}
		results[i] = res
		done[i] = storage.ChunkCompletion{ID: id, JobID: jobs[i].ID, Outcomes: toJournal(in, res)}
	}
	if err := s.j.CompleteChunks(done); err != nil {
		return &fatalError{err}
	}
	for i, c := range chunks {
		id := storage.ChunkID(c.Seq)
		e.chunkFinished(b.stage, id, jobs[i], results[i])
		s.forget(id)
	}
	return e.settled(s, b.stage)
}

// localRound is pipeline's counterpart for a local target.
func (e *Engine) localRound(ctx context.Context, s *session, stage string, w *work, tgt target.Local) error {
	// A chunk with a job id: the file was written, only its completion
	// was not recorded.
	for _, f := range w.follow {
		if m, _ := s.stop.state(); m != stopNone {
			return nil
		}
		id := storage.ChunkID(f.Chunk.Seq)
		job, err := tgt.Job(ctx, f.JobID)
		if err != nil {
			return err
		}
		if err := e.finished(ctx, s, id, job, nil); err != nil {
			return err
		}
		s.forget(id)
	}
	if len(w.rebuild) == 0 && w.fresh.count == 0 {
		return nil
	}
	b := &localBatch{e: e, s: s, stage: stage, tgt: tgt}
	p := &packing{e: e, s: s, stage: stage, w: w, batch: b}
	err := p.run()
	if err == nil {
		err = b.flush()
	}
	if werr := b.wait(); err == nil || errors.Is(err, errIterStop) && werr != nil {
		err = werr
	}
	if errors.Is(err, errIterStop) {
		return nil // the caller reads the stopper
	}
	return err
}
