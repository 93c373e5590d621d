package storage

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// TestRandomOperationsKeepTheJournalExact drives the journal with a long,
// seeded sequence of random operations, legal and illegal, and checks that
//   - every refused operation changes nothing,
//   - every accepted one does what a simple model of user states predicts,
//   - the counters always equal a recount, and Verify finds nothing.
func TestRandomOperationsKeepTheJournalExact(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			runRandomOperations(t, seed, 1500)
		})
	}
}

type propertyRun struct {
	t      *testing.T
	rng    *rand.Rand
	j      *Journal
	model  map[RowID]UserState
	stages []string
}

func runRandomOperations(t *testing.T, seed uint64, steps int) {
	// Fsync is irrelevant to what this test checks; skipping it keeps the
	// test fast.
	p := &propertyRun{t: t, rng: rand.New(rand.NewPCG(seed, 42)), j: newJournal(t, Options{noSync: true}),
		model: make(map[RowID]UserState), stages: []string{"one", "two", "three"}}
	must(t, p.j.DefineStages([]StagePlan{
		{Name: "one", Gate: Gate{MaxFailureRate: 0.3}},
		{Name: "two", Gate: Gate{MaxFailureRate: 1, Approve: true}},
		{Name: "three", Gate: Gate{MaxFailureRate: 0.5}},
	}))
	var reg []NewUser
	for r := RowID(1); r <= 300; r++ {
		u := NewUser{Row: r, Line: int(r) + 1, Email: email(r), State: UserPending}
		switch p.rng.IntN(20) {
		case 0:
			u.State, u.ErrorCode = UserQuarantined, "FORMAT"
		case 1:
			u.State, u.ErrorCode = UserSkipped, "DUPLICATE"
		}
		reg = append(reg, u)
		p.model[r] = u.State
	}
	must(t, p.j.AddUsers(ctx, reg))

	ops := []func() (func(), error){
		p.assign, p.assign, p.start, p.plan, p.plan, p.submit, p.submit, p.jobID, p.jobID,
		p.ambiguous, p.failChunk, p.complete, p.complete, p.recordOutcomes, p.retry,
		p.finish, p.approve, p.beginRollback, p.rolledBack, p.finishRollback, p.chaos,
	}
	accepted := 0
	for step := 1; step <= steps; step++ {
		before := p.fingerprint()
		apply, err := ops[p.rng.IntN(len(ops))]()
		if err != nil {
			if after := p.fingerprint(); !reflect.DeepEqual(before, after) {
				t.Fatalf("step %d: a refused operation (%v) changed the journal:\n%+v\n%+v", step, err, before, after)
			}
		} else {
			accepted++
			if apply != nil {
				apply()
			}
		}
		if step%50 == 0 {
			p.check(step)
		}
		if step%200 == 0 {
			p.j = reopen(t, p.j)
		}
	}
	p.check(steps)
	st, err := p.j.Status(0)
	must(t, err)
	t.Logf("%d of %d operations accepted; users %v; chunks %v", accepted, steps, st.Users, st.Chunks)
	if accepted < steps/4 {
		t.Errorf("only %d of %d operations were accepted; the test explores too little", accepted, steps)
	}
}

// fingerprint is what a refused operation must leave unchanged.
type propertyFingerprint struct {
	Users  UserCounts
	Stages []StageStatus
	Chunks []Chunk
}

func (p *propertyRun) fingerprint() propertyFingerprint {
	st, err := p.j.Status(0)
	must(p.t, err)
	chunks, err := p.j.Chunks()
	must(p.t, err)
	return propertyFingerprint{Users: st.Users, Stages: st.Stages, Chunks: chunks}
}

func (p *propertyRun) check(step int) {
	t := p.t
	requireVerified(t, p.j)
	users, err := p.j.CollectUsers(ctx, UserFilter{})
	must(t, err)
	recount := make(map[string]UserCounts)
	for _, u := range users {
		if recount[u.Stage] == nil {
			recount[u.Stage] = make(UserCounts)
		}
		recount[u.Stage][u.State]++
		if p.model[u.Row] != u.State {
			t.Fatalf("step %d: row %d is %s, the model says %s", step, u.Row, u.State, p.model[u.Row])
		}
	}
	if len(users) != len(p.model) {
		t.Fatalf("step %d: %d users, want %d", step, len(users), len(p.model))
	}
	st, err := p.j.Status(0)
	must(t, err)
	if !st.Unstaged.Equal(recount[""]) {
		t.Fatalf("step %d: unstaged counters %v, recount %v", step, st.Unstaged, recount[""])
	}
	for _, s := range st.Stages {
		if !s.Users.Equal(recount[s.Name]) {
			t.Fatalf("step %d: stage %s counters %v, recount %v", step, s.Name, s.Users, recount[s.Name])
		}
	}
}

func (p *propertyRun) users(f UserFilter) []User {
	users, err := p.j.CollectUsers(ctx, f)
	must(p.t, err)
	return users
}

// pick returns up to n random elements of xs.
func pick[T any](rng *rand.Rand, xs []T, n int) []T {
	xs = append([]T(nil), xs...)
	rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return xs[:min(n, len(xs))]
}

func rows(users []User) []RowID {
	out := make([]RowID, len(users))
	for i, u := range users {
		out[i] = u.Row
	}
	return out
}

// stage picks a stage, mostly one in one of the given states so that
// operations are mostly legal and runs get somewhere.
func (p *propertyRun) stage(prefer ...StageState) string {
	if p.rng.IntN(5) != 0 {
		stages, err := p.j.Stages()
		must(p.t, err)
		var fit []string
		for _, s := range stages {
			for _, want := range prefer {
				if s.State == want {
					fit = append(fit, s.Name)
				}
			}
		}
		if len(fit) > 0 {
			return fit[p.rng.IntN(len(fit))]
		}
	}
	return p.stages[p.rng.IntN(len(p.stages))]
}

func (p *propertyRun) setAll(rs []RowID, s UserState) func() {
	return func() {
		for _, r := range rs {
			p.model[r] = s
		}
	}
}

func (p *propertyRun) assign() (func(), error) {
	rs := rows(pick(p.rng, p.users(UserFilter{States: []UserState{UserPending}}), 1+p.rng.IntN(30)))
	return p.setAll(rs, UserAssigned), p.j.AssignUsers(ctx, p.stage(StagePending, StageRunning), rs)
}

func (p *propertyRun) start() (func(), error) {
	return nil, p.j.StartStage(p.stage(StagePending, StageGated, StageRolledBack))
}

func (p *propertyRun) plan() (func(), error) {
	stage := p.stage(StageRunning)
	var free []User
	for _, u := range p.users(UserFilter{Stage: stage, States: []UserState{UserAssigned}}) {
		if u.Chunk == 0 {
			free = append(free, u)
		}
	}
	_, err := p.j.PlanChunk(stage, rows(pick(p.rng, free, 1+p.rng.IntN(25))))
	return nil, err
}

// chunk picks a chunk, mostly one in one of the given states.
func (p *propertyRun) chunk(prefer ...ChunkState) ChunkID {
	if p.rng.IntN(5) == 0 {
		prefer = nil
	}
	chunks, err := p.j.Chunks(prefer...)
	must(p.t, err)
	if len(chunks) == 0 {
		chunks, err = p.j.Chunks()
		must(p.t, err)
	}
	if len(chunks) == 0 {
		return 1
	}
	return chunks[p.rng.IntN(len(chunks))].ID
}

func (p *propertyRun) submit() (func(), error) {
	id := p.chunk(ChunkPlanned, ChunkAmbiguous, ChunkFailed)
	members, _ := p.j.ChunkUsers(id)
	var assigned []RowID
	for _, u := range members {
		if u.State == UserAssigned {
			assigned = append(assigned, u.Row)
		}
	}
	return p.setAll(assigned, UserSubmitted), p.j.MarkChunkSubmitting(id)
}

func (p *propertyRun) jobID() (func(), error) {
	id := p.chunk(ChunkSubmitting)
	return nil, p.j.RecordJobID(id, fmt.Sprintf("job_%d_%d", id, p.rng.IntN(2)))
}

func (p *propertyRun) ambiguous() (func(), error) {
	return nil, p.j.MarkChunkAmbiguous(p.chunk(ChunkSubmitting), "test")
}

func (p *propertyRun) failChunk() (func(), error) {
	return nil, p.j.FailChunk(p.chunk(ChunkSubmitting, ChunkSubmitted), "JOB_FAILED", "test")
}

func (p *propertyRun) randomOutcome() UserState {
	return [...]UserState{UserInserted, UserInserted, UserUpdated, UserFailed}[p.rng.IntN(4)]
}

func (p *propertyRun) complete() (func(), error) {
	id := p.chunk(ChunkSubmitted, ChunkSubmitted, ChunkAmbiguous, ChunkFailed)
	members, _ := p.j.ChunkUsers(id)
	var res []Outcome
	for _, u := range members {
		if u.State == UserSubmitted && p.rng.IntN(30) != 0 { // now and then, forget one
			res = append(res, outcomes([]RowID{u.Row}, p.randomOutcome())...)
		}
	}
	return p.applyOutcomes(res), p.j.CompleteChunk(id, res)
}

func (p *propertyRun) applyOutcomes(res []Outcome) func() {
	return func() {
		for _, o := range res {
			p.model[o.Row] = o.State
		}
	}
}

func (p *propertyRun) recordOutcomes() (func(), error) {
	var res []Outcome
	for _, u := range pick(p.rng, p.users(UserFilter{States: []UserState{UserSubmitted}}), 1+p.rng.IntN(10)) {
		res = append(res, outcomes([]RowID{u.Row}, p.randomOutcome())...)
	}
	return p.applyOutcomes(res), p.j.RecordOutcomes(ctx, res)
}

func (p *propertyRun) retry() (func(), error) {
	rs := rows(pick(p.rng, p.users(UserFilter{States: []UserState{UserFailed, UserRolledBack}}), 1+p.rng.IntN(10)))
	return p.setAll(rs, UserAssigned), p.j.RetryUsers(ctx, rs)
}

func (p *propertyRun) finish() (func(), error) {
	_, err := p.j.FinishStage(p.stage(StageRunning))
	return nil, err
}

func (p *propertyRun) approve() (func(), error) {
	return nil, p.j.ApproveStage(p.stage(StageGated), "test", "")
}

func (p *propertyRun) beginRollback() (func(), error) {
	if p.rng.IntN(4) != 0 { // rollbacks are rare, or little else would happen
		return nil, fmt.Errorf("skipped")
	}
	return nil, p.j.BeginRollback(p.stage(StageGated, StageDone))
}

func (p *propertyRun) rolledBack() (func(), error) {
	rs := rows(pick(p.rng, p.users(UserFilter{Stage: p.stage(StageRollingBack), States: []UserState{UserInserted}}), 1+p.rng.IntN(20)))
	return p.setAll(rs, UserRolledBack), p.j.MarkRolledBack(ctx, rs)
}

func (p *propertyRun) finishRollback() (func(), error) {
	return nil, p.j.FinishRollback(p.stage(StageRollingBack))
}

// chaos asks for an arbitrary outcome for an arbitrary row: usually illegal.
func (p *propertyRun) chaos() (func(), error) {
	row := RowID(1 + p.rng.IntN(len(p.model)+5))
	o := outcomes([]RowID{row}, p.randomOutcome())
	return p.applyOutcomes(o), p.j.RecordOutcomes(ctx, o)
}
