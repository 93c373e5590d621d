package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"provision/engine/run/verify"
	"provision/engine/target"
	"provision/storage"
)

// runStages takes the stages in plan order until one is not done.
func (e *Engine) runStages(ctx context.Context, s *session) (Result, error) {
	stages, err := s.j.Stages()
	if err != nil {
		return Result{}, err
	}
	if err := checkStageNames(stages, e.opts.Approve, e.opts.Retry); err != nil {
		return Result{}, err
	}
	for _, st := range stages {
		if r, stopped := s.stopped(st.Name); stopped {
			return r, nil
		}
		res, done, err := e.stage(ctx, s, st)
		if err != nil || !done {
			return res, err
		}
	}
	return Result{State: StateFinished}, nil
}

// checkStageNames refuses --approve or --retry of a stage the run does
// not have: silently ignoring a typo would leave the operator waiting.
func checkStageNames(stages []storage.Stage, names ...string) error {
	all := make([]string, len(stages))
	for i, st := range stages {
		all[i] = st.Name
	}
	for _, n := range names {
		if n != "" && !slices.Contains(all, n) {
			return fmt.Errorf("the run has no stage %q: its stages are %s", n, strings.Join(all, ", "))
		}
	}
	return nil
}

// stopped reports a pause or abort as the run's result.
func (s *session) stopped(stage string) (Result, bool) {
	m, reason := s.stop.state()
	if m < stopPause {
		return Result{}, false
	}
	return Result{State: StatePaused, Stage: stage, Reason: reason + "; run again to resume: jobs in flight are recorded and will be followed"}, true
}

// stage brings one stage through its gate; done reports that the next
// stage may start.
func (e *Engine) stage(ctx context.Context, s *session, st storage.Stage) (res Result, done bool, err error) {
	name := st.Name
	switch st.State {
	case storage.StageDone:
		return Result{}, true, nil
	case storage.StageRollingBack:
		return Result{State: StateStopped, Stage: name, Reason: fmt.Sprintf("stage %s is being rolled back: finish it with provision rollback --stage %s", name, name)}, false, nil
	case storage.StageRolledBack:
		if e.opts.Retry != name {
			return Result{State: StateStopped, Stage: name, Reason: fmt.Sprintf("stage %s was rolled back: run it again with --retry %s", name, name)}, false, nil
		}
		if err := e.restart(ctx, s, name, storage.UserRolledBack, storage.UserFailed); err != nil {
			return Result{}, false, err
		}
	case storage.StageGated:
		if e.opts.Retry != name {
			return e.atGate(ctx, s, name)
		}
		if err := e.restart(ctx, s, name, storage.UserFailed); err != nil {
			return Result{}, false, err
		}
	case storage.StagePending:
		if err := s.j.StartStage(name); err != nil {
			return Result{}, false, err
		}
	}

	res, settled, err := e.send(ctx, s, name)
	if err != nil || !settled {
		return res, false, err
	}
	if res, ok, err := e.verifyStage(ctx, s, name); err != nil || !ok {
		return res, false, err
	}
	state, err := s.j.FinishStage(name)
	if err != nil {
		return Result{}, false, err
	}
	after, err := s.j.Stage(name)
	if err != nil {
		return Result{}, false, err
	}
	stat, err := stageStatus(s.j, name)
	if err != nil {
		return Result{}, false, err
	}
	e.emit(StageSettled{Stage: name, State: state, FailureRate: stat.FailureRate, Reason: after.GateReason})
	s.snap.write(true)
	if state == storage.StageDone {
		return Result{}, true, nil
	}
	return e.atGate(ctx, s, name)
}

// restart runs a gated or rolled-back stage again, putting its users in
// the given states back for a new attempt.
func (e *Engine) restart(ctx context.Context, s *session, name string, states ...storage.UserState) error {
	if err := s.j.StartStage(name); err != nil {
		return err
	}
	users, err := s.j.CollectUsers(ctx, storage.UserFilter{Stage: name, States: states})
	if err != nil {
		return err
	}
	rows := make([]storage.RowID, len(users))
	for i, u := range users {
		rows[i] = u.Row
	}
	if err := s.j.RetryUsers(ctx, rows); err != nil {
		return err
	}
	e.emit(Note{Stage: name, Text: fmt.Sprintf("running the stage again: %d users put back", len(rows))})
	return nil
}

// atGate handles a stage stopped at its gate: approved, waited for, or
// reported.
func (e *Engine) atGate(ctx context.Context, s *session, name string) (Result, bool, error) {
	for {
		st, err := stageStatus(s.j, name)
		if err != nil {
			return Result{}, false, err
		}
		if a, ok := e.approvalFor(name); ok {
			if err := s.j.ApproveStage(name, a.by, a.note); err != nil {
				return Result{}, false, err
			}
			e.emit(StageSettled{Stage: name, State: storage.StageDone, FailureRate: st.FailureRate, Reason: "approved by " + a.by})
			return Result{}, true, nil
		}
		state, reason := StateAwaitingApproval, st.GateReason
		if st.FailureRate > st.Gate.MaxFailureRate {
			state = StateGated
			reason += fmt.Sprintf("; see the failures with provision report, then approve anyway (--approve %s), retry its failed users (--retry %s) or roll it back (provision rollback --stage %s)", name, name, name)
		} else {
			reason += fmt.Sprintf("; check it, then approve it with --approve %s (or roll it back with provision rollback --stage %s)", name, name)
		}
		if !e.opts.WaitForApproval {
			return Result{State: state, Stage: name, Reason: reason}, false, nil
		}
		e.emit(AwaitingApproval{Stage: name, Reason: reason})
		select {
		case <-e.approved:
		case <-s.stop.paused:
			r, _ := s.stopped(name)
			return r, false, nil
		}
	}
}

func stageStatus(j *storage.Journal, name string) (storage.StageStatus, error) {
	st, err := j.Status(0)
	if err != nil {
		return storage.StageStatus{}, err
	}
	for _, ss := range st.Stages {
		if ss.Name == name {
			return ss, nil
		}
	}
	return storage.StageStatus{}, fmt.Errorf("stage %q: %w", name, storage.ErrNotFound)
}

// maxFailingRounds is how many rounds in a row may end in a target error
// before the run pauses.
const maxFailingRounds = 4

// send submits the stage's users until every one has an outcome. Each
// round collects what is left (jobs to follow, chunks to send again, users
// to pack) and runs it through the upload pipeline; a round normally
// settles everything, and the next ones mop up chunks whose jobs failed
// or whose fate was unknown. settled reports every user with an outcome.
func (e *Engine) send(ctx context.Context, s *session, name string) (res Result, settled bool, err error) {
	failing := 0
	for round := 1; ; round++ {
		if r, stopped := s.stopped(name); stopped {
			return r, false, nil
		}
		if r, ok := e.failureGate(s, name); !ok {
			return r, false, nil
		}
		w, err := e.collectWork(ctx, s, name)
		if err != nil {
			return Result{}, false, err
		}
		if w.empty() {
			if len(w.exhausted) > 0 {
				return Result{State: StateStopped, Stage: name, Reason: exhaustedReason(w.exhausted, e.opts.MaxAttempts)}, false, nil
			}
			return Result{}, true, nil
		}
		if round == 1 {
			stat, err := stageStatus(s.j, name)
			if err != nil {
				return Result{}, false, err
			}
			e.emit(StageStarted{Stage: name, Users: stat.Users.Total(), Remaining: w.fresh.count + w.rebuildUsers()})
			s.snap.write(true)
		}
		if len(w.rebuild) > 0 || w.fresh.count > 0 {
			if err := e.ensureSpool(ctx, s); err != nil {
				if r, stopped := s.stopped(name); stopped {
					return r, false, nil
				}
				return Result{}, false, err
			}
		}
		if local, ok := e.opts.Target.(target.Local); ok {
			err = e.localRound(ctx, s, name, w, local)
		} else {
			err = e.pipeline(ctx, s, name, w)
		}
		if m, reason := s.stop.state(); m == stopDrain {
			return Result{State: StateGated, Stage: name, Reason: reason}, false, nil
		}
		if r, stopped := s.stopped(name); stopped {
			return r, false, nil
		}
		var fatal *fatalError
		switch {
		case err == nil:
			failing = 0
		case errors.As(err, &fatal):
			return Result{}, false, fatal.err
		default:
			failing++
			if failing >= maxFailingRounds {
				return Result{State: StatePaused, Stage: name, Reason: fmt.Sprintf("the target keeps failing (%v); run again to resume", err)}, false, nil
			}
			e.emit(Note{Stage: name, Text: fmt.Sprintf("round %d stopped: %v; trying again", round, err)})
			if !s.sleep(time.Duration(failing) * 2 * time.Second) {
				r, _ := s.stopped(name)
				return r, false, nil
			}
		}
	}
}

// sleep waits d unless the run is paused first.
func (s *session) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop.paused:
		return false
	}
}

func exhaustedReason(chunks []storage.Chunk, attempts int) string {
	parts := make([]string, 0, 3)
	for i, c := range chunks {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(chunks)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("chunk %d (%s %s)", c.ID, c.ErrorCode, c.ErrorMessage))
	}
	return fmt.Sprintf("%s failed %d times in this run: %s; run again to retry them, or roll the stage back", plural(len(chunks), "chunk"), attempts, strings.Join(parts, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// earlyGateMin is how many outcomes a stage needs before its failure rate
// can stop it early: enough that a few failures among the first users do
// not decide for a stage of thousands.
func earlyGateMin(stageUsers int) int { return min(stageUsers, max(500, stageUsers/20)) }

// failureGate stops a stage whose failure rate is already above its gate
// on enough users, before more are sent, unless the operator approved it.
func (e *Engine) failureGate(s *session, name string) (Result, bool) {
	if _, ok := e.approvalFor(name); ok {
		return Result{}, true
	}
	st, err := stageStatus(s.j, name)
	if err != nil {
		return Result{}, true // the pipeline will meet the same error and report it
	}
	if reason := earlyGateReason(st); reason != "" {
		return Result{State: StateGated, Stage: name, Reason: reason}, false
	}
	return Result{}, true
}

func earlyGateReason(st storage.StageStatus) string {
	n, total := st.Users.WithOutcome(), st.Users.Total()
	if n == total || n < earlyGateMin(total) || st.FailureRate <= st.Gate.MaxFailureRate {
		return ""
	}
	return fmt.Sprintf("stage %s stopped early: failure rate %.1f%% (%d of %d users so far) is above its gate's %.1f%%; see the failures with provision report, then continue anyway (--approve %s) or roll it back (provision rollback --stage %s)",
		st.Name, 100*st.FailureRate, st.Users[storage.UserFailed], n, 100*st.Gate.MaxFailureRate, st.Name, st.Name)
}

// verifyStage checks a settled stage against the target. ok is false when
// the run must stop: a problem found (unless approved) or the target not
// answering.
func (e *Engine) verifyStage(ctx context.Context, s *session, name string) (Result, bool, error) {
	vo := e.opts.Verify
	if vo.Disabled {
		return Result{}, true, nil
	}
	stat, err := stageStatus(s.j, name)
	if err != nil {
		return Result{}, false, err
	}
	imported := stat.Users[storage.UserInserted] + stat.Users[storage.UserUpdated]
	picks := verify.Spread(imported, vo.Sample)
	var sample []verify.User
	states := map[storage.RowID]storage.UserState{}
	i := 0
	for u, err := range s.j.Users(ctx, storage.UserFilter{Stage: name, States: []storage.UserState{storage.UserInserted, storage.UserUpdated}}) {
		if err != nil {
			return Result{}, false, err
		}
		if len(picks) > 0 && picks[0] == i {
			picks = picks[1:]
			sample = append(sample, verify.User{Row: u.Row, Email: u.Email, UserID: u.UserID})
			states[u.Row] = u.State
		}
		i++
		if len(picks) == 0 {
			break
		}
	}
	var canaries []verify.User
	emails := vo.Canaries.Emails()
	var known map[string]storage.User
	if len(emails) > 0 {
		if known, err = s.j.UsersByEmail(ctx, emails); err != nil {
			return Result{}, false, err
		}
	}
	for _, email := range emails {
		u, ok := known[storage.NormalizeEmail(email)]
		if !ok || u.Stage != name || (u.State != storage.UserInserted && u.State != storage.UserUpdated) {
			continue
		}
		if s.notes.noPassword[u.Email] {
			e.emit(Note{Stage: name, Text: fmt.Sprintf("canary <%s> was imported without a password (its hash cannot be imported): not logged in", u.Email)})
			continue
		}
		canaries = append(canaries, verify.User{Row: u.Row, Email: u.Email, UserID: u.UserID})
	}
	if len(sample) == 0 && len(canaries) == 0 {
		return Result{}, true, nil
	}
	checker := verify.Checker{Target: e.opts.Target, Connection: vo.Connection, Login: vo.Login, Canaries: vo.Canaries}
	rep, err := checker.Check(ctx, sample, canaries)
	if err != nil {
		return Result{State: StatePaused, Stage: name, Reason: fmt.Sprintf("verifying stage %s failed: %v; run again to verify it", name, err)}, false, nil
	}
	if len(rep.UserIDs) > 0 {
		learned := make([]storage.Outcome, 0, len(rep.UserIDs))
		for row, id := range rep.UserIDs {
			learned = append(learned, storage.Outcome{Row: row, State: states[row], UserID: id})
		}
		if err := s.j.RecordOutcomes(ctx, learned); err != nil {
			return Result{}, false, err
		}
	}
	e.emit(Verified{Stage: name, Report: rep})
	_, _ = s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Stage: name, Message: Verified{Stage: name, Report: rep}.String()})
	if rep.OK() {
		return Result{}, true, nil
	}
	problems := strings.Join(rep.Problems(), "; ")
	if a, ok := e.approvalFor(name); ok {
		e.emit(Note{Stage: name, Text: fmt.Sprintf("verification problems accepted by %s: %s", a.by, problems)})
		return Result{}, true, nil
	}
	return Result{State: StateGated, Stage: name, Reason: fmt.Sprintf("verification of stage %s found problems: %s; investigate, then approve it anyway (--approve %s) or roll it back (provision rollback --stage %s)", name, problems, name, name)}, false, nil
}
