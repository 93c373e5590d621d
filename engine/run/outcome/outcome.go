// Package outcome decides what an import job did to each user of its
// chunk: inserted, updated or failed, with the target's user_id when it is
// known. It is where "exactly once" is settled after a crash, so its rules
// are spelled out here and nowhere else.
//
// # Rules
//
// A user in the job's error list failed, with the target's codes, except
// in one case: when an earlier attempt of the same chunk may have created
// a job whose results were lost (a crash between the POST and recording
// its id, an ambiguous 5xx, a failed or expired job) and the chunk was
// resubmitted without upsert, a DUPLICATED_USER or CONFLICT* error may
// only mean "the lost attempt already imported me". Such a user is looked
// up by email: if the connection holds it and it was created at or after
// Since (the earliest moment any attempt of the chunk could have reached
// the target), the lost attempt inserted it and it counts as inserted;
// otherwise it existed before the run and the failure stands.
//
// A user not in the error list was imported. Without upsert, it was
// inserted: a user that already existed would have failed as a
// duplicate. With upsert, Auth0 reports only totals (summary.inserted,
// summary.updated), not which user was which, so:
//
//   - summary.updated == 0: every imported user was inserted (an earlier
//     lost attempt cannot have inserted any, or this one would have
//     updated it);
//   - summary.inserted == 0 on a first attempt: every imported user was
//     updated;
//   - otherwise each imported user is looked up by email, and one created
//     at or after Since was inserted by this run, an older one updated.
//
// Getting "inserted" wrong would make a rollback delete a user that
// existed before the run, so where the target cannot answer a lookup the
// user is recorded as updated, which a rollback leaves alone.
package outcome

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"provision/engine/target"
	"provision/storage"
)

// Member is one user of the chunk, as the journal holds it.
type Member struct {
	Row    storage.RowID
	Email  string // normalized
	UserID string // the target user_id known in advance (from the source's user_id), or ""
}

// Input is one finished job and what is known about its chunk.
type Input struct {
	Members []Member
	Job     target.Job
	Errors  []target.JobUserError
	Upsert  bool
	// Resubmitted says an earlier attempt of this chunk may have created
	// a job whose effect is unknown.
	Resubmitted bool
	// Since is the earliest instant, on the target's clock, at which any
	// attempt of this chunk could have created a user.
	Since time.Time
}

// Finder looks users up by email; target.Target satisfies it.
type Finder interface {
	UsersByEmail(ctx context.Context, email string) ([]target.User, error)
}

// Result is the outcome of every member, in member order, and what the
// decision cost.
type Result struct {
	Outcomes []storage.Outcome
	Lookups  int
	// Notes explain anything unexpected (an error for an email not in the
	// chunk, totals that disagree with the error list). They hold emails
	// and counts, never user data beyond that.
	Notes []string
}

// Counts tallies r's outcomes.
func (r Result) Counts() (inserted, updated, failed int) {
	for _, o := range r.Outcomes {
		switch o.State {
		case storage.UserInserted:
			inserted++
		case storage.UserUpdated:
			updated++
		case storage.UserFailed:
			failed++
		}
	}
	return
}

// Options say how lookups identify the run's connection.
type Options struct {
	// Connection is the name of the database connection users are
	// imported into, as identities name it; empty accepts any database
	// ("auth0" provider) identity.
	Connection string
	// Lookups is how many lookups run at once (default 4): a chunk to
	// settle user by user can hold a thousand users, and the target's
	// client keeps to the tenant's rate limit whatever the concurrency.
	Lookups int
}

// Decide applies the package rules to one finished job. It returns an
// error only when a lookup it needs fails: the job's outcome is then
// undecided and the caller must try again later (the journal still holds
// the job id).
func Decide(ctx context.Context, in Input, find Finder, opts Options) (Result, error) {
	errs, notes := indexErrors(in.Errors, in.Members)
	res := Result{Outcomes: make([]storage.Outcome, len(in.Members)), Notes: notes}
	d := decider{ctx: ctx, in: in, find: find, opts: opts, res: &res}

	imported := 0
	var confirm []int // members whose "already exists" may be the lost attempt's insert
	for i, m := range in.Members {
		o := storage.Outcome{Row: m.Row}
		if ue, failed := errs[m.Email]; failed {
			o.State, o.ErrorCode, o.ErrorMessage = storage.UserFailed, ue.code(), ue.message()
			if d.mayBeLostInsert(ue) {
				confirm = append(confirm, i)
			}
		} else {
			imported++
			o.State, o.UserID = storage.UserInserted, m.UserID // settled below for upsert
		}
		res.Outcomes[i] = o
	}
	if err := d.confirmLostInserts(confirm); err != nil {
		return Result{}, err
	}
	if in.Upsert {
		if err := d.settleUpsert(); err != nil {
			return Result{}, err
		}
	}
	if s := in.Job.Summary; s.Total > 0 && s.Inserted+s.Updated != imported {
		res.Notes = append(res.Notes, fmt.Sprintf("job %s reports %d inserted and %d updated, but %d of its %d users are not in its error list",
			in.Job.ID, s.Inserted, s.Updated, imported, len(in.Members)))
	}
	return res, nil
}

type decider struct {
	ctx  context.Context
	in   Input
	find Finder
	opts Options
	res  *Result
}

// mayBeLostInsert: without upsert, "already exists" after a resubmission
// may be the lost attempt's own work.
func (d *decider) mayBeLostInsert(ue userErrors) bool {
	if d.in.Upsert || !d.in.Resubmitted {
		return false
	}
	for _, e := range ue {
		if e.Code == "DUPLICATED_USER" || strings.HasPrefix(e.Code, "CONFLICT") {
			return true
		}
	}
	return false
}

// confirmLostInserts looks up the members at idx, whose duplicate error
// may be the lost attempt's own insert.
func (d *decider) confirmLostInserts(idx []int) error {
	found, err := d.lookupAll(idx)
	if errors.Is(err, target.ErrUnsupported) {
		return nil // cannot confirm: the target's refusal stands
	}
	if err != nil {
		return err
	}
	for k, i := range idx {
		if u := found[k]; u != nil && !u.CreatedAt.Before(d.in.Since) {
			d.res.Outcomes[i] = storage.Outcome{Row: d.in.Members[i].Row, State: storage.UserInserted, UserID: u.UserID}
		}
	}
	return nil
}

// settleUpsert splits the imported users of an upsert job into inserted
// and updated.
func (d *decider) settleUpsert() error {
	s := d.in.Job.Summary
	switch {
	case s.Updated == 0:
		return nil // all inserted, as recorded
	case s.Inserted == 0 && !d.in.Resubmitted:
		d.setImported(storage.UserUpdated)
		return nil
	}
	var idx []int
	for i, o := range d.res.Outcomes {
		if o.State == storage.UserInserted {
			idx = append(idx, i)
		}
	}
	found, err := d.lookupAll(idx)
	if errors.Is(err, target.ErrUnsupported) {
		d.res.Notes = append(d.res.Notes, "the target cannot look users up, so users of a mixed upsert job are recorded as updated (a rollback will not delete them)")
		d.setImported(storage.UserUpdated)
		return nil
	}
	if err != nil {
		return err
	}
	for k, i := range idx {
		o, u := &d.res.Outcomes[i], found[k]
		switch {
		case u == nil:
			// Imported, yet not there: recorded as inserted without an id,
			// so a rollback looks it up again and finds nothing to delete.
			d.res.Notes = append(d.res.Notes, fmt.Sprintf("<%s> was imported by job %s but is not found by email", d.in.Members[i].Email, d.in.Job.ID))
		case u.CreatedAt.Before(d.in.Since):
			o.State, o.UserID = storage.UserUpdated, u.UserID
		default:
			o.UserID = u.UserID
		}
	}
	return nil
}

func (d *decider) setImported(state storage.UserState) {
	for i := range d.res.Outcomes {
		if o := &d.res.Outcomes[i]; o.State == storage.UserInserted || o.State == storage.UserUpdated {
			o.State = state
		}
	}
}

// lookupAll finds, for the members at idx, the user of the run's
// connection with their email (nil when there is none), a few lookups at
// a time. The first error stops it.
func (d *decider) lookupAll(idx []int) ([]*target.User, error) {
	out := make([]*target.User, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	d.res.Lookups += len(idx)
	workers := d.opts.Lookups
	if workers <= 0 {
		workers = 4
	}
	ctx, cancel := context.WithCancelCause(d.ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(idx)) {
		wg.Go(func() {
			for k := range next {
				email := d.in.Members[idx[k]].Email
				users, err := d.find.UsersByEmail(ctx, email)
				if err != nil {
					cancel(fmt.Errorf("look up <%s> to settle job %s: %w", email, d.in.Job.ID, err))
					continue
				}
				if u, ok := InConnection(users, d.opts.Connection); ok {
					out[k] = &u
				}
			}
		})
	}
	for k := range idx {
		select {
		case next <- k:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// InConnection picks, among users found by email, the one whose identity
// is in the named database connection (any database connection when
// connection is empty).
func InConnection(users []target.User, connection string) (target.User, bool) {
	for _, u := range users {
		for _, id := range u.Identities {
			if connection != "" && id.Connection == connection || connection == "" && (id.Provider == "auth0" || id.Provider == "") {
				return u, true
			}
		}
		if len(u.Identities) == 0 && connection == "" {
			return u, true
		}
	}
	return target.User{}, false
}

type userErrors []target.UserError

func (ue userErrors) code() string {
	if len(ue) == 0 {
		return "UNKNOWN"
	}
	return ue[0].Code
}

// message joins every reason, so the report shows all of them: "FORMAT:
// Object didn't pass validation for format email (email); PATTERN: ...".
// A reason about a field that holds a secret keeps only its code and path:
// validators quote the offending value, and Auth0 redacts hashes in the
// user it echoes but says nothing of its messages.
func (ue userErrors) message() string {
	parts := make([]string, 0, len(ue))
	for _, e := range ue {
		msg := e.Message
		if secretPath(e.Path) {
			msg = "the value was rejected (the message is withheld: it may quote a secret)"
		}
		p := e.Code + ": " + msg
		if e.Path != "" {
			p += " (" + e.Path + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// secretPath reports whether a job error's path is inside a field that
// holds a secret: a password hash, its salt or key, or an MFA secret.
func secretPath(path string) bool {
	for _, prefix := range []string{"password_hash", "custom_password_hash", "mfa_factors"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// indexErrors maps job errors to member emails. Auth0 echoes the user as
// the file held it, so the email is the key the chunk was built with.
func indexErrors(errs []target.JobUserError, members []Member) (map[string]userErrors, []string) {
	in := make(map[string]bool, len(members))
	for _, m := range members {
		in[m.Email] = true
	}
	out := make(map[string]userErrors, len(errs))
	var notes []string
	for _, e := range errs {
		email := storage.NormalizeEmail(e.User.Email)
		if !in[email] {
			notes = append(notes, fmt.Sprintf("the job reported an error for <%s>, who is not in this chunk (%s)", email, strings.Join(e.Codes(), ", ")))
			continue
		}
		ue := userErrors(e.Errors)
		if len(ue) == 0 {
			ue = userErrors{{Code: "UNKNOWN", Message: "the target listed the user as failed without a reason"}}
		}
		out[email] = append(out[email], ue...)
	}
	return out, notes
}
