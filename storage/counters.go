package storage

import (
	"encoding/binary"
	"fmt"
	"maps"

	bolt "go.etcd.io/bbolt"
)

// The journal keeps a running count of users per (stage, state), updated
// in the same transaction as the users it counts. Status reads a few dozen
// counters instead of scanning a million users; Verify recounts from the
// users themselves and compares.

// UserCounts is a number of users per state. Missing states count zero.
type UserCounts map[UserState]int

// Total is the number of users counted.
func (c UserCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// WithOutcome is the number of users the target has answered for:
// inserted, updated, failed, and inserted-then-rolled-back.
func (c UserCounts) WithOutcome() int {
	return c[UserInserted] + c[UserUpdated] + c[UserFailed] + c[UserRolledBack]
}

// FailureRate is failed users over users with an outcome, 0 when none has one.
func (c UserCounts) FailureRate() float64 {
	n := c.WithOutcome()
	if n == 0 {
		return 0
	}
	return float64(c[UserFailed]) / float64(n)
}

// Add adds other into c.
func (c UserCounts) Add(other UserCounts) {
	for s, n := range other {
		c[s] += n
	}
}

// Equal reports whether both count the same users in every state.
func (c UserCounts) Equal(other UserCounts) bool {
	return maps.EqualFunc(nonZero(c), nonZero(other), func(a, b int) bool { return a == b })
}

func nonZero(c UserCounts) UserCounts {
	out := make(UserCounts, len(c))
	for s, n := range c {
		if n != 0 {
			out[s] = n
		}
	}
	return out
}

type counterKey struct {
	stage uint32 // 0: not in a stage
	state UserState
}

func (k counterKey) bytes() []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 5), k.stage)
	return append(b, byte(k.state))
}

func parseCounterKey(b []byte) (counterKey, bool) {
	if len(b) != 5 {
		return counterKey{}, false
	}
	k := counterKey{stage: binary.BigEndian.Uint32(b), state: UserState(b[4])}
	return k, k.state.valid()
}

// counterDeltas accumulates changes during a transaction; they are written
// once at its end, so a batch of 10,000 transitions costs a handful of
// counter writes.
type counterDeltas map[counterKey]int64

func (d counterDeltas) move(from, to counterKey) {
	if from == to {
		return
	}
	if from.state != 0 {
		d[from]--
	}
	d[to]++
}

func (d counterDeltas) flush(tx *bolt.Tx) error {
	b := tx.Bucket(bucketCounters)
	for k, delta := range d {
		if delta == 0 {
			continue
		}
		key := k.bytes()
		var n int64
		if v := b.Get(key); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		n += delta
		if n < 0 {
			return fmt.Errorf("user counter for stage %d, state %s would go negative; run verify to rebuild the counters", k.stage, k.state)
		}
		if n == 0 {
			if err := b.Delete(key); err != nil {
				return err
			}
			continue
		}
		if err := b.Put(key, binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(n))); err != nil {
			return err
		}
	}
	clear(d)
	return nil
}

// readCounters returns the stored counts per stage position.
func readCounters(tx *bolt.Tx) (map[uint32]UserCounts, error) {
	out := make(map[uint32]UserCounts)
	err := tx.Bucket(bucketCounters).ForEach(func(k, v []byte) error {
		key, ok := parseCounterKey(k)
		if !ok || len(v) != 8 {
			return fmt.Errorf("corrupt user counter %x", k)
		}
		if out[key.stage] == nil {
			out[key.stage] = make(UserCounts)
		}
		out[key.stage][key.state] = int(binary.BigEndian.Uint64(v))
		return nil
	})
	return out, err
}

// stageCounts returns the stored counts of one stage.
func stageCounts(tx *bolt.Tx, stage uint32) UserCounts {
	out := make(UserCounts)
	prefix := binary.BigEndian.AppendUint32(nil, stage)
	c := tx.Bucket(bucketCounters).Cursor()
	for k, v := c.Seek(prefix); len(k) == 5 && string(k[:4]) == string(prefix); k, v = c.Next() {
		if len(v) == 8 {
			out[UserState(k[4])] = int(binary.BigEndian.Uint64(v))
		}
	}
	return out
}
