package run

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"provision/engine/plan"
	"provision/engine/run/assign"
	"provision/engine/validate"
	"provision/storage"
)

// prepare opens (or creates) the journal and brings it to the point where
// stages can run: the source fingerprinted and checked, every row
// registered, the spool written, every valid user in a stage, and chunks
// an earlier process left half-submitted marked ambiguous. Every step is
// idempotent, so a crash anywhere in here is repaired by running it again.
func (e *Engine) prepare(ctx context.Context, s *session) error {
	o := &e.opts
	if !Exists(o.Journal) {
		if err := e.create(ctx, s); err != nil {
			return err
		}
	} else if err := e.open(ctx, s); err != nil {
		return err
	}
	notes, err := readNotes(s.j)
	if err != nil {
		return err
	}
	s.notes = notes
	if s.changed {
		if err := e.checkChangeAccepted(s); err != nil {
			return err
		}
	}
	if notes.sourceOptions != "" {
		recorded, err := parseSourceSettings(notes.sourceOptions)
		if err != nil {
			return err
		}
		e.adoptRecorded(recorded)
	}
	given := SourceSettingsOf(o)
	key := given.key()
	if notes.sourceOptions == "" {
		if _, err := s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Message: noteSourceOptions + key}); err != nil {
			return err
		}
	} else if notes.sourceOptions != key {
		recorded, err := parseSourceSettings(notes.sourceOptions)
		if err != nil {
			return err
		}
		return fmt.Errorf("this run was started reading its source with %s; resume it with the same (now %s)", recorded.describe(), given.describe())
	}
	stages, err := s.j.Stages()
	if err != nil {
		return err
	}
	s.spool, s.optionsKey = spoolPath(o.Journal, s.fp.SHA256), key
	// The spool is made again later, and only if a stage still has users
	// to send (ensureSpool): a finished run, or one that only follows jobs,
	// needs no pass over the source.
	newChange := s.changed && !slices.Contains(s.notes.accepted, s.fp.SHA256)
	if len(stages) == 0 || newChange {
		reg, err := e.register(ctx, s, key)
		if err != nil {
			return err
		}
		switch {
		case len(stages) == 0:
			if err := e.defineStages(ctx, s, reg.cands); err != nil {
				return err
			}
		case newChange:
			if err := e.acceptChange(ctx, s, reg); err != nil {
				return err
			}
		}
	}
	if err := e.assignLeftovers(ctx, s); err != nil {
		return err
	}
	if err := e.settleInterrupted(s); err != nil {
		return err
	}
	s.snap.write(true)
	return nil
}

// adoptRecorded fills the source options the caller left unset with those
// the run was started with, so that resuming needs only the workspace.
// Options the caller did set are kept, and compared by prepare.
func (e *Engine) adoptRecorded(rec SourceSettings) {
	o := &e.opts
	src := rec.Source()
	if o.SourceOptions.Format == "" {
		o.SourceOptions.Format = src.Format
	}
	if o.SourceOptions.Delimiter == 0 {
		o.SourceOptions.Delimiter = src.Delimiter
	}
	if len(o.SourceOptions.Mapping) == 0 {
		o.SourceOptions.Mapping = src.Mapping
	}
	v := rec.Validate(o.Validate.HashDefaults.Salt)
	if o.Validate.Username == (validate.UsernamePolicy{}) {
		o.Validate.Username = v.Username
	}
	if h := o.Validate.HashDefaults; h.Algorithm == "" && h.SaltPosition == "" && h.Encoding == "" {
		o.Validate.HashDefaults = v.HashDefaults
	}
	if !e.maxFileBytesSet {
		o.MaxFileBytes = rec.MaxFileBytes
	}
}

// create starts a new journal for the source.
func (e *Engine) create(ctx context.Context, s *session) error {
	o := &e.opts
	if o.Source == "" {
		return errors.New("no source: give the export to migrate")
	}
	e.emit(Preparing{Step: "fingerprinting " + o.Source})
	fp, err := Fingerprint(ctx, o.Source)
	if err != nil {
		return err
	}
	settings := o.Settings
	if settings.StageSpec == "" && o.Stages != nil {
		settings.StageSpec = plan.FormatStages(o.Stages)
	}
	j, err := storage.Create(o.Journal, storage.Meta{ToolVersion: o.ToolVersion, Source: fp, Settings: settings}, storage.Options{})
	if err != nil {
		return err
	}
	s.j, s.fp, s.meta = j, fp, storage.Meta{Source: fp, Settings: settings}
	s.snap = newSnapshotter(o.Journal, j)
	return nil
}

// open resumes an existing journal, refusing settings that contradict it.
func (e *Engine) open(ctx context.Context, s *session) error {
	o := &e.opts
	j, err := storage.Open(o.Journal, storage.Options{})
	if err != nil {
		return err
	}
	s.j = j
	// From here on the snapshot is this process's, not one a killed
	// run left behind.
	s.snap = newSnapshotter(o.Journal, j)
	meta, err := j.Meta()
	if err != nil {
		return err
	}
	s.meta = meta
	if err := checkSettings(o.Settings, meta.Settings); err != nil {
		return err
	}
	path := o.Source
	if path == "" {
		path = meta.Source.Path
	}
	e.emit(Preparing{Step: "checking the source " + path})
	fp, err := Fingerprint(ctx, path)
	if err != nil {
		return fmt.Errorf("%w (the run was started with %s)", err, meta.Source.Path)
	}
	s.fp = fp
	if fp.SHA256 != meta.Source.SHA256 {
		s.changed = true
	}
	return nil
}

// checkSettings refuses a resume whose target, connection, upsert mode or
// stages differ from the journal's: half a run against another tenant,
// or with other semantics, cannot be reconciled. Empty values mean "as
// recorded"; the run always goes on with the recorded settings.
func checkSettings(given, recorded storage.RunSettings) error {
	switch {
	case given.Target != "" && given.Target != recorded.Target:
		return fmt.Errorf("this run sends to %s; it cannot be resumed against %s (start a new workspace for another target)", recorded.Target, given.Target)
	case given.ConnectionID != "" && given.ConnectionID != recorded.ConnectionID:
		return fmt.Errorf("this run imports into connection %s; it cannot be resumed into %s", recorded.ConnectionID, given.ConnectionID)
	case given.Upsert && !recorded.Upsert:
		// (Without upsert given, the run keeps the mode it was started with.)
		return fmt.Errorf("this run was started without upsert; it cannot be resumed with upsert (start a new workspace)")
	case given.StageSpec != "" && recorded.StageSpec != "" && given.StageSpec != recorded.StageSpec:
		return fmt.Errorf("this run's stages are %s; they cannot change to %s (start a new workspace for a new plan)", recorded.StageSpec, given.StageSpec)
	}
	return nil
}

// checkChangeAccepted lets a changed source through only when the operator
// said so, now or on an earlier resume.
func (e *Engine) checkChangeAccepted(s *session) error {
	if e.opts.AcceptChangedSource || slices.Contains(s.notes.accepted, s.fp.SHA256) {
		return nil
	}
	return &ChangedSourceError{Journal: e.opts.Journal, Was: s.meta.Source, Now: s.fp}
}

// defineStages sizes the plan's stages for the registered users, records
// them, and assigns every user.
func (e *Engine) defineStages(ctx context.Context, s *session, cands []assign.Candidate) error {
	plans, err := e.opts.stagePlans()
	if err != nil {
		return err
	}
	if plans == nil {
		plans = plan.DefaultStages(len(cands))
	}
	sizes := plan.Sizes(plans, len(cands))
	defs := make([]storage.StagePlan, len(plans))
	for i, p := range plans {
		defs[i] = storage.StagePlan{Name: p.Name, Planned: sizes[i], Gate: storage.Gate{MaxFailureRate: p.MaxFailureRate, Approve: p.Approve}}
	}
	if err := s.j.DefineStages(defs); err != nil {
		return err
	}
	return e.assign(ctx, s, defs, cands)
}

func (e *Engine) assign(ctx context.Context, s *session, defs []storage.StagePlan, cands []assign.Candidate) error {
	sizes := make([]int, len(defs))
	for i, d := range defs {
		sizes[i] = d.Planned
	}
	split, err := assign.Split(cands, sizes)
	if err != nil {
		return err
	}
	e.emit(Preparing{Step: "assigning users to stages"})
	sz := make([]StageSize, len(defs))
	for i, d := range defs {
		if err := s.j.AssignUsers(ctx, d.Name, split[i]); err != nil {
			return err
		}
		sz[i] = StageSize{Name: d.Name, Users: len(split[i])}
	}
	e.emit(StagesAssigned{Stages: sz})
	return nil
}

// assignLeftovers finishes an assignment a crash interrupted: the same
// users go to the same stages, since the split is a function of the users.
// Rows a changed source added go to the last stage.
func (e *Engine) assignLeftovers(ctx context.Context, s *session) error {
	st, err := s.j.Status(0)
	if err != nil {
		return err
	}
	if st.Unstaged[storage.UserPending] == 0 {
		return nil
	}
	stages, err := s.j.Stages()
	if err != nil {
		return err
	}
	var original []assign.Candidate
	var added []storage.RowID
	for u, err := range s.j.Users(ctx, storage.UserFilter{}) {
		if err != nil {
			return err
		}
		if u.State == storage.UserQuarantined || u.State == storage.UserSkipped {
			continue
		}
		if s.notes.sourceRows > 0 && int(u.Row) > s.notes.sourceRows {
			if u.State == storage.UserPending {
				added = append(added, u.Row)
			}
			continue
		}
		original = append(original, assign.Candidate{Row: u.Row, Rank: assign.Rank(u.Email)})
	}
	defs := make([]storage.StagePlan, len(stages))
	for i, st := range stages {
		defs[i] = storage.StagePlan{Name: st.Name, Planned: st.Planned, Gate: st.Gate}
	}
	if err := e.assign(ctx, s, defs, original); err != nil {
		return fmt.Errorf("finish assigning users to stages: %w", err)
	}
	if len(added) > 0 {
		return e.assignAdded(ctx, s, added)
	}
	return nil
}

// assignAdded puts the rows a changed source added into the last stage,
// which must not have finished.
func (e *Engine) assignAdded(ctx context.Context, s *session, rows []storage.RowID) error {
	stages, err := s.j.Stages()
	if err != nil {
		return err
	}
	last := stages[len(stages)-1]
	switch last.State {
	case storage.StageDone, storage.StageRollingBack, storage.StageRolledBack:
		return fmt.Errorf("the changed source has %d new users, but the last stage %q is %s: migrate them in a new workspace", len(rows), last.Name, last.State)
	}
	return s.j.AssignUsers(ctx, last.Name, rows)
}

// acceptChange records that the operator accepted a changed source, once
// its new rows are registered and assigned.
func (e *Engine) acceptChange(ctx context.Context, s *session, reg *registration) error {
	if slices.Contains(s.notes.accepted, s.fp.SHA256) {
		return nil
	}
	rows := make([]storage.RowID, len(reg.cands))
	for i, c := range reg.cands {
		rows[i] = c.Row
	}
	if len(rows) > 0 {
		if err := e.assignAdded(ctx, s, rows); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("%ssha256 %s, %d rows added (was sha256 %s)", noteSourceChange, s.fp.SHA256, reg.added, s.meta.Source.SHA256)
	if _, err := s.j.AppendEvent(storage.Event{Kind: storage.EventNote, Message: msg}); err != nil {
		return err
	}
	s.notes.accepted = append(s.notes.accepted, s.fp.SHA256)
	e.emit(SourceAccepted{Was: s.meta.Source, Now: s.fp, Added: reg.added})
	return nil
}

// ensureSpool makes the spool again when a round needs users' data and a
// finished run, a crash or an operator removed it. Registering again is
// harmless: every row is already in the journal. A pause stops it.
func (e *Engine) ensureSpool(ctx context.Context, s *session) error {
	if s.spoolReady() {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stop.paused:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := e.register(ctx, s, s.optionsKey)
	return err
}

// settleInterrupted marks chunks that a previous process left between
// "submitting" and "job id recorded": their job may or may not exist.
func (e *Engine) settleInterrupted(s *session) error {
	chunks, err := s.j.Chunks(storage.ChunkSubmitting)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if err := s.j.MarkChunkAmbiguous(c.ID, "the previous run stopped while submitting it"); err != nil {
			return err
		}
		e.emit(ChunkUnsettled{Stage: c.Stage, Chunk: c.ID, State: storage.ChunkAmbiguous, Reason: "the previous run stopped while submitting it"})
	}
	return nil
}
