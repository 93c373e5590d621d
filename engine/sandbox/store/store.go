// Package store keeps the sandbox tenant's state: a handful of named
// buckets of byte values under string keys, read and written in
// transactions. Two implementations share the interface: Memory, for a
// tenant that vanishes with the process (and for tests), and Bolt, a bbolt
// file that survives restarts. The sandbox code above runs the same path
// over either, so a rehearsal with --data behaves exactly like one without.
package store

import (
	"errors"
	"fmt"
)

// Store runs transactions over the buckets it was opened with. Update
// transactions are serialised and atomic: when fn returns an error, none of
// its writes are kept. View transactions see a consistent snapshot.
type Store interface {
	View(fn func(Tx) error) error
	Update(fn func(Tx) error) error
	Close() error
}

// Tx is one transaction. Keys are ordered bytewise, as in bbolt.
type Tx interface {
	// Get returns a copy of the value under key, or nil when there is none.
	Get(bucket, key string) []byte
	// Put stores value under key. It fails in a View transaction.
	Put(bucket, key string, value []byte) error
	// Delete removes key; removing an absent key is not an error.
	Delete(bucket, key string) error
	// ForEach calls fn for every key in order. value is only valid during
	// the call, and fn must not modify the bucket it is iterating; collect
	// keys first and change them afterwards. An error from fn stops the
	// iteration and is returned.
	ForEach(bucket string, fn func(key string, value []byte) error) error
}

// ErrReadOnly is returned by Put and Delete inside View.
var ErrReadOnly = errors.New("store: write in a read-only transaction")

// ErrClosed is returned by transactions on a closed store.
var ErrClosed = errors.New("store: closed")

func unknownBucket(name string) error {
	return fmt.Errorf("store: unknown bucket %q (buckets are fixed when the store is opened)", name)
}
