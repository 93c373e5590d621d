package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	Users    int      `json:"users"`    // users scanned
	Chunks   int      `json:"chunks"`   // chunks scanned
	Problems []string `json:"problems"` // empty when the journal is consistent
	Omitted  int      `json:"omitted"`  // problems found beyond the ones listed
}

// OK reports whether Verify found nothing wrong.
func (r VerifyReport) OK() bool { return len(r.Problems) == 0 }

const maxListedProblems = 100

func (r *VerifyReport) problem(format string, args ...any) {
	if len(r.Problems) < maxListedProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else {
		r.Omitted++
	}
}

// Verify scans every user and chunk and cross-checks what the journal
// keeps twice: the counters against a recount, valid users' emails for
// uniqueness, users' notes against their slots, chunk member lists against the users' chunks, the chunk state
// index against the chunks, and users' states against their chunks'. It
// reads one consistent snapshot and changes nothing.
func (j *Journal) Verify(ctx context.Context) (VerifyReport, error) {
	var r VerifyReport
	err := j.view(func(tx *bolt.Tx) error {
		var err error
		r, err = verify(ctx, tx)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("verify journal %s: %w", j.path, err)
	}
	return r, nil
}

func verify(ctx context.Context, tx *bolt.Tx) (VerifyReport, error) {
	var r VerifyReport
	t, err := loadStages(tx)
	if err != nil {
		return r, err
	}

	chunks := make(map[ChunkID]Chunk)
	err = tx.Bucket(bucketChunks).ForEach(func(k, v []byte) error {
		var c Chunk
		if err := json.Unmarshal(v, &c); err != nil {
			r.problem("chunk %d: unreadable: %v", keyU64(k), err)
			return nil
		}
		c.ID = ChunkID(keyU64(k))
		chunks[c.ID] = c
		if tx.Bucket(bucketChunkStates).Get(chunkStateKey(c.State, c.ID)) == nil {
			r.problem("chunk %d is %s but missing from the chunk state index", c.ID, c.State)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	r.Chunks = len(chunks)
	indexed := 0
	_ = tx.Bucket(bucketChunkStates).ForEach(func(k, _ []byte) error {
		indexed++
		return nil
	})
	if indexed != len(chunks) {
		r.problem("the chunk state index has %d entries for %d chunks", indexed, len(chunks))
	}

	recount := make(map[uint32]UserCounts)
	claimed := make(map[ChunkID]int) // users naming each chunk as theirs
	emails := make(map[string]RowID) // valid users' emails, which must be unique
	noted, err := eachStoredUser(ctx, tx, &r, func(rec userRecord) {
		r.Users++
		if recount[rec.stage] == nil {
			recount[rec.stage] = make(UserCounts)
		}
		recount[rec.stage][rec.state]++

		unstaged := rec.state == UserPending || rec.state == UserQuarantined || rec.state == UserSkipped
		if _, ok := t.at(rec.stage); ok == unstaged {
			r.problem("%s is %s in stage %d", rec.subject(), rec.state, rec.stage)
		}
		if rec.state != UserQuarantined && rec.state != UserSkipped {
			if rec.email == "" {
				r.problem("%s is %s but has no email", rec.subject(), rec.state)
			} else if other, dup := emails[rec.email]; dup {
				r.problem("%s has the email of row %d; only one valid row may have it", rec.subject(), other)
			} else {
				emails[rec.email] = rec.row
			}
		}
		if rec.chunk != 0 {
			claimed[rec.chunk]++
			verifyUserInChunk(&r, t, rec, chunks)
		} else if rec.state == UserSubmitted || rec.state.IsOutcome() {
			r.problem("%s is %s but in no chunk", rec.subject(), rec.state)
		}
	})
	if err != nil {
		return r, err
	}
	if n := tx.Bucket(bucketUserNotes).Stats().KeyN; n != noted {
		r.problem("the journal holds %d user notes where %d users say they have one", n, noted)
	}

	reader := newBlockReader(tx)
	for _, id := range slices.Sorted(maps.Keys(chunks)) {
		rows, err := chunkMembers(tx, id)
		if err != nil {
			r.problem("%v", err)
			continue
		}
		confirmed := 0
		for _, row := range rows {
			if rec, ok, err := reader.get(row); err == nil && ok && rec.chunk == id {
				confirmed++
			}
		}
		if confirmed != claimed[id] {
			r.problem("chunk %d: %d users name it as their chunk but only %d of them are in its member list", id, claimed[id], confirmed)
		}
	}

	stored, err := readCounters(tx)
	if err != nil {
		r.problem("%v", err)
		return r, nil
	}
	for _, pos := range slices.Sorted(maps.Keys(unionKeys(stored, recount))) {
		if !stored[pos].Equal(recount[pos]) {
			r.problem("counters of %s say %v, the users say %v; RebuildCounters fixes this", stageLabel(t, pos), nonZero(stored[pos]), nonZero(recount[pos]))
		}
	}
	return r, nil
}

// eachStoredUser calls fn for every user that can be read, in row order,
// and reports the ones that cannot, and registrations without a state. It
// returns how many slots say their user has a note.
func eachStoredUser(ctx context.Context, tx *bolt.Tx, r *VerifyReport, fn func(userRecord)) (noted int, err error) {
	notes := tx.Bucket(bucketUserNotes)
	info := tx.Bucket(bucketUserInfo)
	blocks := 0
	err = info.ForEach(func(k, _ []byte) error {
		if tx.Bucket(bucketUserStates).Get(k) == nil {
			r.problem("user block %d has registrations but no states", keyU64(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	c := tx.Bucket(bucketUserStates).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if blocks++; blocks%16 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		b, err := loadBlock(tx, keyU64(k))
		if err != nil {
			r.problem("%v", err)
			continue
		}
		if err := b.parseInfo(); err != nil {
			r.problem("%v", err)
			continue
		}
		for off := range blockRows {
			if s := b.slot(off); s != nil && s[1]&slotHasNote != 0 {
				noted++
			}
			rec, ok, err := b.record(off, notes)
			switch {
			case err != nil:
				r.problem("%v", err)
			case ok:
				fn(rec)
			case b.info[off].present:
				r.problem("user row %d is registered (line %d) but has no state", b.idx*blockRows+uint64(off), b.info[off].line)
			}
		}
	}
	return noted, nil
}

func verifyUserInChunk(r *VerifyReport, t stageTable, rec userRecord, chunks map[ChunkID]Chunk) {
	ch, ok := chunks[rec.chunk]
	if !ok {
		r.problem("%s is in chunk %d, which does not exist", rec.subject(), rec.chunk)
		return
	}
	if ch.Stage != t.name(rec.stage) {
		r.problem("%s is in stage %q but its chunk %d is in stage %q", rec.subject(), t.name(rec.stage), ch.ID, ch.Stage)
	}
	var fine bool
	switch rec.state {
	case UserAssigned:
		fine = ch.State == ChunkPlanned
	case UserSubmitted:
		fine = ch.State != ChunkPlanned && ch.State != ChunkDone
	case UserInserted, UserUpdated, UserFailed, UserRolledBack:
		fine = ch.State != ChunkPlanned
	}
	if !fine {
		r.problem("%s is %s but its chunk %d is %s", rec.subject(), rec.state, ch.ID, ch.State)
	}
}

func stageLabel(t stageTable, pos uint32) string {
	if s, ok := t.at(pos); ok {
		return fmt.Sprintf("stage %q", s.Name)
	}
	if pos == 0 {
		return "users in no stage"
	}
	return fmt.Sprintf("unknown stage %d", pos)
}

func unionKeys(a, b map[uint32]UserCounts) map[uint32]bool {
	out := make(map[uint32]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// RebuildCounters recounts every user and replaces the stored counters:
// the repair for a counter mismatch that Verify reports. The scan and the
// rewrite share one transaction, so no change can slip in between.
func (j *Journal) RebuildCounters(ctx context.Context) error {
	err := j.update(func(tx *bolt.Tx) error {
		fresh := make(counterDeltas)
		n := 0
		err := eachSlot(ctx, tx, 0, func(_ RowID, sv slotVal) (bool, error) {
			n++
			fresh[counterKey{sv.stage, sv.state}]++
			return true, nil
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketCounters); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketCounters); err != nil {
			return err
		}
		if err := fresh.flush(tx); err != nil {
			return err
		}
		return appendEvent(tx, Event{Kind: EventJournal, Message: fmt.Sprintf("counters rebuilt from %d users", n)})
	})
	if err != nil {
		return fmt.Errorf("rebuild counters of journal %s: %w", j.path, err)
	}
	return nil
}
