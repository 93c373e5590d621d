package run

import (
	"context"
	"fmt"
	"strings"

	"provision/engine/run/assign"
	"provision/engine/source"
	"provision/engine/validate"
	"provision/storage"
)

// registration is what a pass over the source found.
type registration struct {
	rows, pending, quarantined, skipped int
	// cands are the valid users to place in stages: every one on a first
	// registration, only the added ones for a changed source.
	cands []assign.Candidate
	added int // rows a changed source added
}

// registerBatch is how many rows go to the journal at once: one
// transaction of the journal's largest size.
const registerBatch = 10_000

// register reads and validates the whole source once: every row goes into
// the journal (valid, quarantined or skipped as a duplicate) and every
// valid user's import JSON into the spool. Validation and journal writes
// overlap: a goroutine commits each batch while the next is validated.
//
// For a changed source, rows are matched to the journal by email: a row
// whose email the journal holds keeps its row number (the spool gets its
// current data), a row with a new email is added after the journal's last
// row, and rows without an email cannot be matched and are left out.
func (e *Engine) register(ctx context.Context, s *session, optionsKey string) (*registration, error) {
	o := &e.opts
	known, next, err := e.knownRows(ctx, s)
	if err != nil {
		return nil, err
	}
	r, closer, err := source.Open(s.fp.Path, o.SourceOptions)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	var spool spoolSink
	var mem *memSpool
	if e.spoolInMemory(s) {
		mem = newMemSpool(s.fp.SHA256, optionsKey)
		spool = mem
	} else if spool, err = createSpool(s.spool, s.fp.SHA256, optionsKey); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			spool.abort()
		}
	}()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []storage.NewUser, 2)
	written := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err == nil {
				if err = s.j.AddUsers(ctx, b); err != nil {
					cancel(err)
				}
			}
		}
		written <- err
	}()

	reg := &registration{}
	batch := make([]storage.NewUser, 0, registerBatch)
	pos := 0
	vopts := validate.RunOptions{
		Options: o.Validate, File: s.fp.Path, MaxFindings: 100, Canaries: o.Canaries,
		ProgressEvery: 100_000,
		OnProgress: func(rows int) {
			e.emit(Registered{Rows: rows, Pending: reg.pending, Quarantined: reg.quarantined, Skipped: reg.skipped})
		},
	}
	vopts.MaxUserBytes = o.MaxFileBytes
	// Sized up front, the duplicate index is never rebuilt as it fills.
	vopts.ExpectedRows = validate.ExpectedRows(s.fp.Size)
	vopts.OnResult = func(res *validate.Result) error {
		pos++
		reg.rows++
		nu := newUser(res)
		row := storage.RowID(pos)
		if known != nil {
			if r, ok := known[nu.Email]; ok {
				if nu.State == storage.UserPending {
					return spool.add(spoolRecord{Row: r, Line: res.Line, Email: nu.Email, UserID: res.User.UserID, JSON: res.JSON})
				}
				return nil
			}
			if nu.Email == "" {
				return nil
			}
			row = next
			next++
			reg.added++
		}
		nu.Row = row
		switch nu.State {
		case storage.UserPending:
			reg.pending++
			reg.cands = append(reg.cands, assign.Candidate{Row: row, Rank: assign.Rank(nu.Email)})
			if err := spool.add(spoolRecord{Row: row, Line: res.Line, Email: nu.Email, UserID: res.User.UserID, JSON: res.JSON}); err != nil {
				return err
			}
		case storage.UserQuarantined:
			reg.quarantined++
		case storage.UserSkipped:
			reg.skipped++
		}
		batch = append(batch, nu)
		if len(batch) == registerBatch {
			select {
			case batches <- batch:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			batch = make([]storage.NewUser, 0, registerBatch)
		}
		return nil
	}
	e.emit(Preparing{Step: "registering every row of " + s.fp.Path})
	rep, verr := validate.Run(ctx, r, vopts)
	if verr == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	werr := <-written
	switch {
	case werr != nil:
		return nil, fmt.Errorf("register the source's rows: %w", werr)
	case verr != nil:
		return nil, verr
	}
	if err := spool.commit(); err != nil {
		return nil, err
	}
	committed = true
	if mem != nil {
		s.mem.release() // a spool made before, now replaced
		s.mem = mem
	}
	if known == nil && s.notes.sourceRows == 0 {
		msg := fmt.Sprintf("%s%d rows, sha256 %s", noteSourceRows, reg.rows, s.fp.SHA256)
		if _, err := s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Message: msg}); err != nil {
			return nil, err
		}
		s.notes.sourceRows = reg.rows
	}
	e.emit(Registered{Rows: reg.rows, Pending: reg.pending, Quarantined: reg.quarantined, Skipped: reg.skipped, Done: true})
	if err := e.checkCanaries(s, rep); err != nil {
		return nil, err
	}
	return reg, nil
}

// knownRows maps the emails the journal holds to their rows, for matching
// a changed source; nil when the source is the journal's own.
func (e *Engine) knownRows(ctx context.Context, s *session) (map[string]storage.RowID, storage.RowID, error) {
	if !s.changed {
		return nil, 0, nil
	}
	known := map[string]storage.RowID{}
	var last storage.RowID
	for u, err := range s.j.Users(ctx, storage.UserFilter{}) {
		if err != nil {
			return nil, 0, err
		}
		last = max(last, u.Row)
		if u.Email == "" {
			continue
		}
		if _, dup := known[u.Email]; !dup || u.State != storage.UserQuarantined && u.State != storage.UserSkipped {
			known[u.Email] = u.Row // the valid row wins over a quarantined twin
		}
	}
	return known, last + 1, nil
}

// newUser turns a validation result into a journal registration (without
// its row number).
func newUser(res *validate.Result) storage.NewUser {
	nu := storage.NewUser{Line: res.Line}
	if !res.Quarantined {
		nu.State, nu.Email = storage.UserPending, storage.NormalizeEmail(res.User.Email)
		nu.UserID = targetUserID(res.User.UserID)
		return nu
	}
	nu.State, nu.Email = storage.UserQuarantined, storage.NormalizeEmail(res.Row.Email)
	if res.Duplicate {
		nu.State = storage.UserSkipped
	}
	var reasons []string
	for _, f := range res.Findings {
		if f.Severity != validate.SeverityError {
			continue
		}
		if nu.ErrorCode == "" {
			nu.ErrorCode = f.Code
		}
		reasons = append(reasons, fmt.Sprintf("%s: %s", f.Field, f.Message))
	}
	if nu.ErrorCode == "" {
		nu.ErrorCode = "INVALID"
	}
	nu.ErrorMessage = strings.Join(reasons, "; ")
	return nu
}

// checkCanaries reports the offline check of the canaries' known
// passwords against their converted hashes. A canary that does not verify
// is a warning here rather than a refusal: the stage that holds it will
// fail its login check and stop at its gate, where the operator can look,
// roll back or approve.
func (e *Engine) checkCanaries(s *session, rep *validate.Report) error {
	ok := 0
	for _, c := range rep.Canaries {
		switch {
		case c.Verified:
			ok++
		case c.Importable:
			e.emit(Note{Text: fmt.Sprintf("WARNING: canary <%s> (line %d, %s): its known password does not verify against the converted hash: %s; its stage will stop at the login check",
				c.Email, c.Line, c.Algorithm, c.Problem)})
		default:
			e.emit(Note{Text: fmt.Sprintf("canary <%s> not checked: %s", c.Email, c.Problem)})
			if c.Line > 0 && !s.notes.noPassword[c.Email] {
				// Remembered, so that its stage does not count the login
				// it cannot make as a failure.
				if _, err := s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Message: noteNoPassword + c.Email}); err != nil {
					return err
				}
			}
		}
	}
	if len(rep.Canaries) > 0 {
		e.emit(Note{Text: fmt.Sprintf("canaries: %d of %d known passwords verify against their converted hashes", ok, len(rep.Canaries))})
	}
	return nil
}
