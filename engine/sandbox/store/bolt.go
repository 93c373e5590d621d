package store

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is a Store in a bbolt file.
type Bolt struct {
	db      *bolt.DB
	buckets map[string]bool
}

// lockWait is how long Open waits for another process to release the file.
// bbolt locks the whole file; a second sandbox on the same data directory
// must fail fast with a clear message rather than hang.
const lockWait = time.Second

// OpenBolt opens (creating if needed, mode 0600) the bbolt file at path
// and makes sure every bucket exists.
func OpenBolt(path string, buckets ...string) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: the file is locked by another process (is another sandbox using this --data directory?); stop it or choose another directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	b := &Bolt{db: db, buckets: map[string]bool{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
			b.buckets[name] = true
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare %s: %w", path, err)
	}
	return b, nil
}

// View runs fn on a read-only bbolt transaction.
func (b *Bolt) View(fn func(Tx) error) error {
	return b.translate(b.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx, b.buckets}) }))
}

// Update runs fn on a read-write bbolt transaction.
func (b *Bolt) Update(fn func(Tx) error) error {
	return b.translate(b.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx, b.buckets}) }))
}

func (b *Bolt) translate(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Close closes the file.
func (b *Bolt) Close() error { return b.db.Close() }

type boltTx struct {
	tx      *bolt.Tx
	buckets map[string]bool
}

func (t boltTx) bucket(name string) (*bolt.Bucket, error) {
	if !t.buckets[name] {
		return nil, unknownBucket(name)
	}
	return t.tx.Bucket([]byte(name)), nil
}

func (t boltTx) Get(bucket, key string) []byte {
	b, err := t.bucket(bucket)
	if err != nil {
		return nil
	}
	// bbolt's slice points into the memory map and dies with the
	// transaction: hand out a copy.
	v := b.Get([]byte(key))
	if v == nil {
		return nil
	}
	return slices.Clone(v)
}

func (t boltTx) Put(bucket, key string, value []byte) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	return b.Put([]byte(key), value)
}

func (t boltTx) Delete(bucket, key string) error {
	if !t.tx.Writable() {
		return ErrReadOnly
	}
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	return b.Delete([]byte(key))
}

func (t boltTx) ForEach(bucket string, fn func(key string, value []byte) error) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	return b.ForEach(func(k, v []byte) error { return fn(string(k), v) })
}
