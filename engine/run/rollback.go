package run

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"provision/engine/run/outcome"
	"provision/engine/target"
	"provision/storage"
)

// RollbackOptions configure a rollback of one stage.
type RollbackOptions struct {
	Journal string
	Target  target.Target
	Stage   string
	// Connection is the database connection's name, to find users whose
	// target id the journal does not hold by email.
	Connection string
	// Workers is how many deletions run at once (default 4); the target
	// client paces them by the tenant's rate limit.
	Workers int
	// Events receives progress; nil discards.
	Events chan<- Event
}

// RollbackResult is what a rollback did.
type RollbackResult struct {
	Stage string
	// Deleted counts users deleted by this call; AlreadyGone those the
	// target no longer held.
	Deleted, AlreadyGone int
	// RolledBack counts every user of the stage now recorded as rolled
	// back, including by earlier, interrupted calls.
	RolledBack int
	// Updated are users the stage updated (upsert): they existed before
	// the run and are left as they are.
	Updated []storage.User
}

// rollbackFlushEvery bounds how many deletions may be done but not yet
// journaled: a crash repeats at most these (deleting a deleted user is a
// no-op).
const rollbackFlushEvery = 200

// Rollback deletes from the target every user the stage inserted, by the
// target user_id the journal holds (or, when it holds none, the one found
// by email in the run's connection), and records each deletion. The stage
// is marked rolling back first, so a rollback that is interrupted, by an
// error, Ctrl-C or a crash, is finished by running it again. Users the
// stage updated are listed, not deleted: they existed before the run.
func Rollback(ctx context.Context, o RollbackOptions) (*RollbackResult, error) {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	j, err := storage.Open(o.Journal, storage.Options{})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	st, err := j.Stage(o.Stage)
	if err != nil {
		return nil, err
	}
	switch st.State {
	case storage.StagePending:
		return nil, fmt.Errorf("stage %s has not run: there is nothing to roll back", o.Stage)
	case storage.StageRollingBack, storage.StageRolledBack:
	default:
		if err := j.BeginRollback(o.Stage); err != nil {
			return nil, fmt.Errorf("%w (resume the migration until its jobs in flight finish, then roll back)", err)
		}
	}
	res := &RollbackResult{Stage: o.Stage}
	if st.State != storage.StageRolledBack {
		if err := rollbackUsers(ctx, j, o, res); err != nil {
			return res, err
		}
		if err := j.FinishRollback(o.Stage); err != nil {
			return res, err
		}
	}
	stat, err := stageStatus(j, o.Stage)
	if err != nil {
		return res, err
	}
	res.RolledBack = stat.Users[storage.UserRolledBack]
	if res.Updated, err = j.CollectUsers(ctx, storage.UserFilter{Stage: o.Stage, States: []storage.UserState{storage.UserUpdated}}); err != nil {
		return res, err
	}
	emitTo(o.Events, RolledBack{Stage: o.Stage, Deleted: res.Deleted, Total: res.Deleted, AlreadyGone: res.AlreadyGone, UpdatedNotUndone: len(res.Updated), Done: true})
	return res, nil
}

type deletion struct {
	user storage.User
	gone bool
	err  error
}

func rollbackUsers(ctx context.Context, j *storage.Journal, o RollbackOptions, res *RollbackResult) error {
	inserted, err := j.CollectUsers(ctx, storage.UserFilter{Stage: o.Stage, States: []storage.UserState{storage.UserInserted}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan storage.User)
	done := make(chan deletion)
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Go(func() {
			for u := range todo {
				gone, err := deleteUser(ctx, o, u)
				done <- deletion{user: u, gone: gone, err: err}
			}
		})
	}
	go func() {
		defer close(todo)
		for _, u := range inserted {
			select {
			case todo <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()

	var pending []storage.RowID
	var firstErr error
	last := time.Now()
	// Deletions already made are journaled even when the rollback stops:
	// with a context that outlives ctx.
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := j.MarkRolledBack(context.WithoutCancel(ctx), pending)
		pending = pending[:0]
		last = time.Now()
		return err
	}
	for d := range done {
		if d.err != nil {
			if firstErr == nil {
				firstErr = d.err
				cancel()
			}
			continue
		}
		pending = append(pending, d.user.Row)
		if d.gone {
			res.AlreadyGone++
		} else {
			res.Deleted++
		}
		if len(pending) >= rollbackFlushEvery || time.Since(last) > time.Second {
			if err := flush(); err != nil && firstErr == nil {
				firstErr = err
				cancel()
			}
			emitTo(o.Events, RolledBack{Stage: o.Stage, Deleted: res.Deleted + res.AlreadyGone, Total: len(inserted)})
		}
	}
	if err := flush(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return fmt.Errorf("roll back stage %s: %w (%d users deleted so far are recorded; run the rollback again to finish it)", o.Stage, firstErr, res.Deleted+res.AlreadyGone)
	}
	return nil
}

// deleteUser deletes one inserted user; gone reports that the target did
// not hold it any more.
func deleteUser(ctx context.Context, o RollbackOptions, u storage.User) (gone bool, err error) {
	id := u.UserID
	if id == "" {
		users, err := o.Target.UsersByEmail(ctx, u.Email)
		if err != nil {
			return false, fmt.Errorf("look up <%s>: %w", u.Email, err)
		}
		found, ok := outcome.InConnection(users, o.Connection)
		if !ok {
			return true, nil
		}
		id = found.UserID
	}
	if err := o.Target.DeleteUser(ctx, id); err != nil {
		if errors.Is(err, target.ErrUnsupported) {
			return false, fmt.Errorf("this target cannot delete users: %w", err)
		}
		return false, fmt.Errorf("delete <%s> (%s): %w", u.Email, id, err)
	}
	return false, nil
}

func emitTo(ch chan<- Event, ev Event) {
	if ch != nil {
		ch <- ev
	}
}
