package storage

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Status is a snapshot of the whole run, read in one transaction. It costs
// the same for ten users as for ten million: it reads counters, the chunk
// state index and the tail of the event log, never the users.
type Status struct {
	Stages   []StageStatus      `json:"stages"`
	Unstaged UserCounts         `json:"unstaged"` // users in no stage: pending, quarantined, skipped
	Users    UserCounts         `json:"users"`    // every user, by state
	Chunks   map[ChunkState]int `json:"chunks"`
	InFlight []Chunk            `json:"in_flight"` // chunks whose jobs may be running at the target
	Events   []Event            `json:"events"`    // the latest events, oldest first
}

// StageStatus is one stage with its users' counts.
type StageStatus struct {
	Stage
	Users       UserCounts `json:"users"`
	FailureRate float64    `json:"failure_rate"` // failed over users with an outcome
}

// Status reads the run's state, with the latest `events` events.
func (j *Journal) Status(events int) (Status, error) {
	var st Status
	err := j.view(func(tx *bolt.Tx) error {
		t, err := loadStages(tx)
		if err != nil {
			return err
		}
		counts, err := readCounters(tx)
		if err != nil {
			return err
		}
		st.Users = make(UserCounts)
		st.Unstaged = make(UserCounts)
		for pos, c := range counts {
			st.Users.Add(c)
			if pos == 0 {
				st.Unstaged.Add(c)
			} else if _, ok := t.at(pos); !ok {
				return fmt.Errorf("users are counted in stage %d, which the plan does not have; run verify", pos)
			}
		}
		for _, s := range t.stages {
			c := counts[uint32(s.Position)]
			if c == nil {
				c = make(UserCounts)
			}
			st.Stages = append(st.Stages, StageStatus{Stage: s, Users: c, FailureRate: c.FailureRate()})
		}
		st.Chunks = make(map[ChunkState]int)
		for _, s := range ChunkStates() {
			if n := countChunksIn(tx, s); n > 0 {
				st.Chunks[s] = n
			}
			if s.InFlight() {
				for _, id := range chunkIDsIn(tx, s) {
					c, err := readChunk(tx, id)
					if err != nil {
						return err
					}
					st.InFlight = append(st.InFlight, c)
				}
			}
		}
		st.Events, err = latestEvents(tx, events)
		return err
	})
	if err != nil {
		return Status{}, fmt.Errorf("read journal status: %w", err)
	}
	return st, nil
}
