// Package upload keeps a tenant's import slots busy: it submits chunks to
// a target with at most a few jobs in flight (Auth0 runs two import jobs
// per tenant at a time), follows each job to its end, fetches its per-user
// errors and reports every step through callbacks, which the staged
// executor uses to write its journal.
//
// The callbacks are the write-ahead points: OnSubmitting returns before
// the request is sent, so a crash can never leave a job the journal has
// not heard of without the chunk being marked as possibly submitted.
package upload

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"provision/engine/chunk"
	"provision/engine/target"
)

// Work is one chunk to upload.
type Work struct {
	Chunk chunk.Chunk
	// JobID, when set, is the job an earlier run submitted for Chunk: it
	// is followed, not submitted again.
	JobID string
	// Upsert submits with upsert, e.g. to resolve a chunk whose earlier
	// submission is ambiguous (Options.Upsert applies to all chunks).
	Upsert bool
}

// Callbacks report progress. They are never called concurrently with each
// other, so a journal needs no locking of its own; keep them short, since
// a slow callback holds up every slot. An error from any of them stops
// the pipeline and is returned by Run.
type Callbacks struct {
	// OnSubmitting is called before a chunk is sent, and the send waits
	// for it: record "submitting" here.
	OnSubmitting func(ctx context.Context, c chunk.Chunk) error
	// OnSubmitted is called once the target has accepted the chunk as a
	// job: record the job id here.
	OnSubmitted func(ctx context.Context, c chunk.Chunk, job target.Job) error
	// OnSubmitFailed is called when a submission fails, e.g. with
	// auth0.ErrAmbiguousSubmit. Return nil to go on with the other chunks
	// (the chunk stays unresolved for the caller to handle), or an error to
	// stop. Without it, any submit error stops the pipeline.
	OnSubmitFailed func(ctx context.Context, c chunk.Chunk, err error) error
	// OnProgress reports a job that is still running (optional).
	OnProgress func(ctx context.Context, c chunk.Chunk, job target.Job)
	// OnFinished reports a job that reached a final state, with the users
	// it rejected: record each user's outcome here.
	OnFinished func(ctx context.Context, c chunk.Chunk, job target.Job, userErrors []target.JobUserError) error
}

// Options tune a pipeline; zero values take defaults.
type Options struct {
	// Slots is the most jobs in flight at once (default 2, Auth0's limit
	// of concurrent import jobs per tenant).
	Slots int
	// Upsert submits every chunk with upsert.
	Upsert bool
	// Poll shapes how jobs are polled.
	Poll PollPolicy
	// MaxJobWait bounds how long one job is followed (default 2 h 15 min:
	// Auth0 fails an import job after 2 h).
	MaxJobWait time.Duration
}

// Stats summarise a run.
type Stats struct {
	Submitted int           // chunks submitted in this run
	Finished  int           // jobs followed to a final state
	Elapsed   time.Duration // from start to the last job's end
	// Busy is the sum over jobs of submit-to-final time: Busy/(Slots ×
	// Elapsed) is how well the slots were used.
	Busy time.Duration
}

// Run uploads works in order through t until all are finished, a callback
// fails, or ctx ends. Jobs already in flight when it stops are not
// followed further; their ids were reported through OnSubmitted.
func Run(ctx context.Context, t target.Target, works iter.Seq[Work], cb Callbacks, opts Options) (Stats, error) {
	if opts.Slots <= 0 {
		opts.Slots = 2
	}
	if opts.MaxJobWait <= 0 {
		opts.MaxJobWait = 2*time.Hour + 15*time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	p := &pipeline{t: t, cb: cb, opts: opts, est: &estimate{}}
	start := time.Now()

	// Submits happen here, one after another and in order, so chunks
	// reach the tenant in source order; following a job to its end runs
	// in its own goroutine and frees the slot when done.
	slots := make(chan struct{}, opts.Slots)
	var wg sync.WaitGroup
	for w := range works {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		job, ok, err := p.submit(ctx, w)
		if err != nil {
			cancel(err)
			break
		}
		if !ok { // failed, and OnSubmitFailed chose to go on
			<-slots
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := p.complete(ctx, w, job); err != nil {
				cancel(err) // p.failed already holds the first error
			}
		})
	}
	wg.Wait()

	p.stats.Elapsed = time.Since(start)
	if p.failed != nil {
		return p.stats, p.failed
	}
	return p.stats, context.Cause(parent)
}

type pipeline struct {
	t    target.Target
	cb   Callbacks
	opts Options
	est  *estimate

	mu     sync.Mutex // serialises callbacks and guards stats and failed
	stats  Stats
	failed error
}

// callback runs fn under the callback lock.
func (p *pipeline) callback(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fn()
}

func (p *pipeline) fail(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed == nil {
		p.failed = err
	}
	return err
}

// submit records and sends w's chunk, or, for work resumed with a job
// id, only names the job. ok is false when the submission failed but
// OnSubmitFailed chose to go on.
func (p *pipeline) submit(ctx context.Context, w Work) (job target.Job, ok bool, err error) {
	c := w.Chunk
	if w.JobID != "" {
		return target.Job{ID: w.JobID}, true, nil
	}
	if p.cb.OnSubmitting != nil {
		if err := p.callback(func() error { return p.cb.OnSubmitting(ctx, c) }); err != nil {
			return job, false, p.fail(fmt.Errorf("chunk %d: before submitting: %w", c.Seq, err))
		}
	}
	job, err = p.t.Submit(ctx, c.Submission(p.opts.Upsert || w.Upsert))
	if err != nil {
		return job, false, p.submitFailed(ctx, c, err)
	}
	p.mu.Lock()
	p.stats.Submitted++
	p.mu.Unlock()
	if p.cb.OnSubmitted != nil {
		if err := p.callback(func() error { return p.cb.OnSubmitted(ctx, c, job) }); err != nil {
			return job, false, p.fail(fmt.Errorf("chunk %d: after submitting as job %s: %w", c.Seq, job.ID, err))
		}
	}
	return job, true, nil
}

// complete follows a submitted job to its end and reports it.
func (p *pipeline) complete(ctx context.Context, w Work, job target.Job) error {
	started := time.Now()
	if !job.Status.Terminal() {
		var err error
		// Only a job followed from its submit shows how long jobs take.
		if job, err = p.follow(ctx, w.Chunk, job.ID, w.JobID == ""); err != nil {
			return p.fail(err)
		}
	}
	return p.finish(ctx, w.Chunk, job, started)
}

func (p *pipeline) submitFailed(ctx context.Context, c chunk.Chunk, err error) error {
	err = fmt.Errorf("chunk %d: %w", c.Seq, err)
	if p.cb.OnSubmitFailed == nil {
		return p.fail(err)
	}
	if cbErr := p.callback(func() error { return p.cb.OnSubmitFailed(ctx, c, err) }); cbErr != nil {
		return p.fail(cbErr)
	}
	return nil
}

func (p *pipeline) finish(ctx context.Context, c chunk.Chunk, job target.Job, started time.Time) error {
	var userErrors []target.JobUserError
	// An expired job's data is gone; a completed one whose summary counts
	// no failure has nothing to fetch.
	clean := job.Status == target.StatusCompleted && job.Summary.Total > 0 && job.Summary.Failed == 0
	if job.Status != target.StatusExpired && !clean {
		var err error
		if userErrors, err = p.t.JobErrors(ctx, job.ID); err != nil {
			return p.fail(fmt.Errorf("chunk %d: job %s: fetch its errors: %w", c.Seq, job.ID, err))
		}
	}
	p.mu.Lock()
	p.stats.Finished++
	p.stats.Busy += time.Since(started)
	p.mu.Unlock()
	if p.cb.OnFinished != nil {
		if err := p.callback(func() error { return p.cb.OnFinished(ctx, c, job, userErrors) }); err != nil {
			return p.fail(fmt.Errorf("chunk %d: after job %s finished: %w", c.Seq, job.ID, err))
		}
	}
	return nil
}

var errRunning = errors.New("job still running")

// follow polls a job until it is final, on the schedule of poll.go.
func (p *pipeline) follow(ctx context.Context, c chunk.Chunk, jobID string, learn bool) (target.Job, error) {
	sched := newSchedule(p.opts.Poll, p.est)
	start := time.Now()
	first := time.NewTimer(sched.first())
	defer first.Stop()
	select {
	case <-first.C:
	case <-ctx.Done():
		return target.Job{}, context.Cause(ctx)
	}
	var notDoneAt time.Duration // when the job was last seen running
	job, err := backoff.Retry(ctx, func() (target.Job, error) {
		polledAt := time.Since(start)
		job, err := p.t.Job(ctx, jobID)
		if err != nil {
			return job, backoff.Permanent(err) // the target has retried what it could
		}
		if !job.Status.Terminal() {
			notDoneAt = polledAt
			sched.sawRunning(polledAt)
			if p.cb.OnProgress != nil {
				p.callback(func() error { p.cb.OnProgress(ctx, c, job); return nil })
			}
			return job, errRunning
		}
		return job, nil
	}, backoff.WithBackOff(sched), backoff.WithMaxElapsedTime(p.opts.MaxJobWait))
	switch {
	case errors.Is(err, errRunning):
		return job, fmt.Errorf("chunk %d: job %s still %s after %v; Auth0 fails import jobs after 2 h, so check the tenant's logs", c.Seq, jobID, job.Status, p.opts.MaxJobWait)
	case err != nil:
		return job, fmt.Errorf("chunk %d: follow job %s: %w", c.Seq, jobID, err)
	}
	if learn {
		p.est.observe(notDoneAt)
	}
	return job, nil
}
