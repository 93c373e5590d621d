package run

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"provision/engine/chunk"
	"provision/engine/run/outcome"
	"provision/engine/target"
	"provision/engine/target/auth0"
	"provision/engine/upload"
	"provision/storage"
)

// fatalError is a failure that repeating the round cannot fix: the run
// stops with it.
type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }

// errHeld is what the held target answers for a chunk the stopper kept
// back: it was never sent.
var errHeld = errors.New("held back: the run is stopping")

// errIterStop ends the spool read when the pipeline no longer wants work.
var errIterStop = errors.New("stop reading the spool")

// pipeline runs one round of a stage through upload.Run: first the jobs
// to follow, then the chunks to rebuild and the fresh users, packed from
// the spool in row order. Chunks are planned in the journal as they are
// packed, so memory holds one open chunk plus any being rebuilt.
func (e *Engine) pipeline(ctx context.Context, s *session, stage string, w *work) error {
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.stop.attach(cancel)
	defer s.stop.detach()

	var iterErr error
	works := func(yield func(upload.Work) bool) {
		for _, f := range w.follow {
			if m, _ := s.stop.state(); m != stopNone || !yield(f) {
				return
			}
		}
		if len(w.rebuild) == 0 && w.fresh.count == 0 {
			return
		}
		p := &packing{e: e, s: s, stage: stage, w: w, yield: yield}
		if err := p.run(); err != nil && !errors.Is(err, errIterStop) {
			iterErr = err
			cancel(err)
		}
	}
	_, err := upload.Run(pctx, heldTarget{Target: e.opts.Target, s: s}, works, e.callbacks(s), upload.Options{
		Slots: e.opts.Slots, Upsert: s.meta.Settings.Upsert, Poll: e.opts.Poll,
	})
	if iterErr != nil {
		return &fatalError{iterErr}
	}
	if err != nil && errors.Is(err, errStopped) {
		return nil // the caller reads the stopper
	}
	return err
}

// packing turns spool records into chunks for one round.
type packing struct {
	e      *Engine
	s      *session
	stage  string
	w      *work
	yield  func(upload.Work) bool
	packer *chunk.Packer
	rows   []storage.RowID // users in the packer's open chunk, in order
	uids   []string
	// batch, for a local target, collects chunks instead of yield.
	batch *localBatch
}

func (p *packing) run() error {
	var err error
	// The spool holds only users validation marshalled.
	p.packer, err = chunk.NewPacker(chunk.Options{MaxBytes: p.e.opts.MaxFileBytes, Validated: true})
	if err != nil {
		return err
	}
	wanted := func(row storage.RowID) bool {
		_, rebuild := p.w.member[row]
		return rebuild || p.w.fresh.has(row)
	}
	err = p.s.readSpool(wanted, func(rec *spoolRecord) error {
		if m, _ := p.s.stop.state(); m != stopNone {
			return errIterStop
		}
		if id, ok := p.w.member[rec.Row]; ok {
			return p.addRebuild(p.w.rebuild[id], rec)
		}
		if p.w.fresh.has(rec.Row) {
			p.w.fresh.remove(rec.Row)
			return p.addFresh(rec)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c, ok := p.packer.Flush(); ok {
		if err := p.send(c); err != nil {
			return err
		}
	}
	return p.checkComplete()
}

func (p *packing) addFresh(rec *spoolRecord) error {
	if p.packer.Pending() == maxChunkUsers {
		c, _ := p.packer.Flush()
		if err := p.send(c); err != nil {
			return err
		}
	}
	closed, ok, err := p.packer.AddJSON(rec.Email, rec.Line, rec.JSON)
	if err != nil {
		return fmt.Errorf("row %d (line %d): %w", rec.Row, rec.Line, err)
	}
	p.rows = append(p.rows, rec.Row)
	p.uids = append(p.uids, targetUserID(rec.UserID))
	if ok {
		return p.send(closed)
	}
	return nil
}

// send plans a packed chunk in the journal and hands it to the pipeline.
func (p *packing) send(c chunk.Chunk) error {
	n := c.Users()
	rows, uids := p.rows[:n:n], p.uids[:n:n]
	p.rows, p.uids = slices.Clone(p.rows[n:]), slices.Clone(p.uids[n:])
	if p.batch != nil {
		return p.batch.addFresh(c, rows, uids)
	}
	id, err := p.s.j.PlanChunk(p.stage, rows)
	if err != nil {
		return err
	}
	p.s.mu.Lock()
	p.s.chunks[id] = &chunkInfo{stage: p.stage, members: rows, emails: c.Keys, userIDs: uids, planned: p.e.opts.Now()}
	p.s.mu.Unlock()
	c.Seq = int(id)
	if !p.yield(upload.Work{Chunk: c}) {
		return errIterStop
	}
	return nil
}

func (p *packing) addRebuild(rb *rebuildChunk, rec *spoolRecord) error {
	if rb.got == 0 {
		rb.data = append(make([]byte, 0, p.e.opts.MaxFileBytes), '[')
	} else {
		rb.data = append(rb.data, ',')
	}
	rb.data = append(rb.data, rec.JSON...)
	rb.keys = append(rb.keys, rec.Email)
	rb.lines = append(rb.lines, rec.Line)
	rb.userIDs = append(rb.userIDs, targetUserID(rec.UserID))
	rb.got++
	if rb.got < len(rb.rows) {
		return nil
	}
	rb.data = append(rb.data, ']')
	if len(rb.data) > p.e.opts.MaxFileBytes {
		return fmt.Errorf("chunk %d cannot be sent again: its users now take %d bytes, over the %d-byte limit (the source changed); resume with the original source", rb.id, len(rb.data), p.e.opts.MaxFileBytes)
	}
	info := p.s.chunkInfo(rb.id)
	// The spool's order is the journal's member order only for an
	// unchanged source; key the ids by email to be safe.
	ids := make(map[string]string, len(rb.keys))
	for i, k := range rb.keys {
		ids[k] = rb.userIDs[i]
	}
	for i, email := range info.emails {
		if info.userIDs[i] == "" {
			info.userIDs[i] = ids[email]
		}
	}
	delete(p.w.rebuild, rb.id)
	c := chunk.Chunk{Seq: int(rb.id), Data: rb.data, Keys: rb.keys, Lines: rb.lines, Validated: true}
	if p.batch != nil {
		return p.batch.addAgain(c)
	}
	if !p.yield(upload.Work{Chunk: c}) {
		return errIterStop
	}
	return nil
}

// checkComplete refuses a round in which some users of the plan were not
// found in the spool: their data is gone from the source.
func (p *packing) checkComplete() error {
	var missing []string
	for id, rb := range p.w.rebuild {
		missing = append(missing, fmt.Sprintf("%d users of chunk %d", len(rb.rows)-rb.got, id))
	}
	if p.w.fresh.count > 0 {
		missing = append(missing, fmt.Sprintf("%d users not sent yet", p.w.fresh.count))
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("stage %s: the source no longer holds %s: resume with the source this run was started with", p.stage, strings.Join(missing, " and "))
}

// targetUserID is the user_id Auth0 gives a user imported with a user_id:
// the database connection's strategy, "auth0", as a prefix (docs/auth0.md §2).
func targetUserID(sourceID string) string {
	if sourceID == "" {
		return ""
	}
	return "auth0|" + sourceID
}

// heldTarget answers errHeld, without sending, for chunks the stopper
// kept back after the pipeline had already taken them.
type heldTarget struct {
	target.Target
	s *session
}

func (h heldTarget) Submit(ctx context.Context, sub target.Submission) (target.Job, error) {
	h.s.mu.Lock()
	held := h.s.held[sub.Seq]
	h.s.mu.Unlock()
	if held {
		return target.Job{}, errHeld
	}
	return h.Target.Submit(ctx, sub)
}

// callbacks write the journal at each step of a chunk's life, before the
// step's side effect where there is one.
func (e *Engine) callbacks(s *session) upload.Callbacks {
	return upload.Callbacks{
		OnSubmitting: func(ctx context.Context, c chunk.Chunk) error {
			id := storage.ChunkID(c.Seq)
			if !s.stop.beginSubmit() {
				s.mu.Lock()
				if s.held == nil {
					s.held = map[int]bool{}
				}
				s.held[c.Seq] = true
				s.mu.Unlock()
				return nil
			}
			if err := s.j.MarkChunkSubmitting(id); err != nil {
				s.stop.endSubmit()
				return &fatalError{err}
			}
			s.mu.Lock()
			s.tries[id]++
			s.mu.Unlock()
			return nil
		},
		OnSubmitted: func(ctx context.Context, c chunk.Chunk, job target.Job) error {
			defer s.stop.endSubmit()
			id := storage.ChunkID(c.Seq)
			if err := s.j.RecordJobID(id, job.ID); err != nil {
				return &fatalError{err}
			}
			info := s.chunkInfo(id)
			info.submittedAt = e.opts.Now()
			e.emit(ChunkSubmitted{Stage: info.stage, Chunk: id, Job: job.ID, Users: c.Users(), Attempt: s.triesOf(id)})
			s.snap.write(false)
			return nil
		},
		OnSubmitFailed: func(ctx context.Context, c chunk.Chunk, err error) error {
			if errors.Is(err, errHeld) {
				return nil
			}
			defer s.stop.endSubmit()
			defer s.forget(storage.ChunkID(c.Seq))
			return e.submitFailed(ctx, s, storage.ChunkID(c.Seq), err)
		},
		OnProgress: func(ctx context.Context, c chunk.Chunk, job target.Job) {
			id := storage.ChunkID(c.Seq)
			e.emit(JobProgress{Stage: s.chunkInfo(id).stage, Chunk: id, Job: job.ID, Percent: job.PercentageDone})
		},
		OnFinished: func(ctx context.Context, c chunk.Chunk, job target.Job, errs []target.JobUserError) error {
			err := e.finished(ctx, s, storage.ChunkID(c.Seq), job, errs)
			if err == nil {
				s.forget(storage.ChunkID(c.Seq))
			}
			return err
		},
	}
}

// submitFailed records a submission that did not yield a job id.
func (e *Engine) submitFailed(ctx context.Context, s *session, id storage.ChunkID, err error) error {
	stage := s.chunkInfo(id).stage
	reason := err.Error()
	switch {
	case errors.Is(err, auth0.ErrAmbiguousSubmit), ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		reason = "no clear answer to the submission, so the job may or may not exist"
		var apiErr *auth0.APIError
		if errors.As(err, &apiErr) {
			reason = fmt.Sprintf("the submission was answered %d %s, so the job may or may not exist", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		}
		if ctx.Err() != nil {
			reason = "interrupted while submitting"
		}
		if err := s.j.MarkChunkAmbiguous(id, reason); err != nil {
			return &fatalError{err}
		}
		e.emit(ChunkUnsettled{Stage: stage, Chunk: id, State: storage.ChunkAmbiguous, Reason: reason})
		return nil
	case errors.Is(err, auth0.ErrBadCredentials), errors.Is(err, auth0.ErrClientNotAuthorized),
		errors.Is(err, auth0.ErrInsufficientScope), errors.Is(err, auth0.ErrUnknownConnection), errors.Is(err, auth0.ErrFileTooLarge):
		if ferr := s.j.FailChunk(id, "SUBMIT_REFUSED", reason); ferr != nil {
			return &fatalError{ferr}
		}
		return &fatalError{err}
	}
	if ferr := s.j.FailChunk(id, "SUBMIT_FAILED", reason); ferr != nil {
		return &fatalError{ferr}
	}
	e.emit(ChunkUnsettled{Stage: stage, Chunk: id, State: storage.ChunkFailed, Reason: reason})
	if errors.Is(err, auth0.ErrRateLimited) {
		return err // the round ends; the next one waits a little first
	}
	return nil
}

// finished records what a job did to each of its users.
func (e *Engine) finished(ctx context.Context, s *session, id storage.ChunkID, job target.Job, errs []target.JobUserError) error {
	info := s.chunkInfo(id)
	switch job.Status {
	case target.StatusFailed:
		reason := "the job failed: " + orDefault(job.StatusDetails, "the target gave no reason")
		if err := s.j.FailChunk(id, "JOB_FAILED", reason); err != nil {
			return &fatalError{err}
		}
		e.emit(ChunkUnsettled{Stage: info.stage, Chunk: id, State: storage.ChunkFailed, Reason: reason})
		return nil
	case target.StatusExpired:
		reason := fmt.Sprintf("job %s expired before its results were read", job.ID)
		if err := s.j.MarkChunkAmbiguous(id, reason); err != nil {
			return &fatalError{err}
		}
		e.emit(ChunkUnsettled{Stage: info.stage, Chunk: id, State: storage.ChunkAmbiguous, Reason: reason})
		return nil
	}
	in, res, err := e.decide(ctx, s, id, job, errs)
	if err != nil {
		return err
	}
	if err := s.j.CompleteChunk(id, toJournal(in, res)); err != nil {
		return &fatalError{err}
	}
	e.chunkFinished(info.stage, id, job, res)
	return e.settled(s, info.stage)
}

// decide works out what a finished job did to each user of chunk id.
func (e *Engine) decide(ctx context.Context, s *session, id storage.ChunkID, job target.Job, errs []target.JobUserError) (outcome.Input, outcome.Result, error) {
	info := s.chunkInfo(id)
	in := outcome.Input{Job: job, Errors: errs, Upsert: s.meta.Settings.Upsert, Resubmitted: info.resubmitted, Since: since(info, job)}
	in.Members = make([]outcome.Member, len(info.members))
	for i, row := range info.members {
		in.Members[i] = outcome.Member{Row: row, Email: info.emails[i], UserID: info.userIDs[i]}
	}
	res, err := outcome.Decide(ctx, in, e.opts.Target, outcome.Options{Connection: e.opts.Verify.Connection})
	if err != nil {
		return in, res, fmt.Errorf("chunk %d: %w", id, err)
	}
	return in, res, nil
}

// chunkFinished announces a chunk whose outcomes are recorded.
func (e *Engine) chunkFinished(stage string, id storage.ChunkID, job target.Job, res outcome.Result) {
	for _, n := range res.Notes {
		e.emit(Note{Stage: stage, Text: fmt.Sprintf("chunk %d: %s", id, n)})
	}
	ins, upd, fail := res.Counts()
	e.emit(ChunkFinished{Stage: stage, Chunk: id, Job: job.ID, Inserted: ins, Updated: upd, Failed: fail, Lookups: res.Lookups})
}

// settled reports a stage's progress after chunks settled, publishes the
// status, and stops a stage whose failure rate is already above its gate.
func (e *Engine) settled(s *session, stage string) error {
	st, err := stageStatus(s.j, stage)
	if err != nil {
		return &fatalError{err}
	}
	e.emit(StageProgress{Stage: stage, Users: st.Users.Total(), Counts: st.Users})
	s.snap.write(false)
	if _, approved := e.approvalFor(stage); !approved {
		if reason := earlyGateReason(st); reason != "" {
			s.stop.request(stopDrain, reason)
		}
	}
	return nil
}

// toJournal is what the journal needs of a chunk's outcomes: a user_id
// it registered as expected (the source's, prefixed) is left out, which
// spares the journal comparing a million of them.
func toJournal(in outcome.Input, res outcome.Result) []storage.Outcome {
	out := res.Outcomes
	for i := range out {
		if i < len(in.Members) && out[i].Row == in.Members[i].Row && out[i].UserID == in.Members[i].UserID {
			out[i].UserID = ""
		}
	}
	return out
}

// since is the earliest instant, on the target's clock, at which the
// chunk's users can have been created by this run. For a first attempt
// that is the job's own creation. For a chunk sent again it is when the
// chunk was planned, moved onto the target's clock by the offset between
// this job's created_at and the moment its id was recorded here.
func since(info *chunkInfo, job target.Job) (t time.Time) {
	if job.CreatedAt.IsZero() {
		return info.planned
	}
	if !info.resubmitted {
		return job.CreatedAt
	}
	skew := time.Duration(0)
	if !info.submittedAt.IsZero() {
		skew = job.CreatedAt.Sub(info.submittedAt)
	}
	return info.planned.Add(skew)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
