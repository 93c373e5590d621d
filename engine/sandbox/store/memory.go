package store

import (
	"slices"
	"sync"
)

// Memory is a Store held in process memory. Update works on an overlay of
// the committed data and merges it only when fn succeeds, so a failed
// transaction leaves no trace, as in bbolt.
type Memory struct {
	mu     sync.RWMutex
	data   map[string]map[string][]byte
	closed bool
}

// NewMemory returns an empty store with the given buckets.
func NewMemory(buckets ...string) *Memory {
	m := &Memory{data: make(map[string]map[string][]byte, len(buckets))}
	for _, b := range buckets {
		m.data[b] = map[string][]byte{}
	}
	return m
}

// View runs fn on a read-only transaction.
func (m *Memory) View(fn func(Tx) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	return fn(&memTx{m: m})
}

// Update runs fn on a read-write transaction and commits its writes when
// fn returns nil.
func (m *Memory) Update(fn func(Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	tx := &memTx{m: m, writes: map[string]map[string]*[]byte{}}
	if err := fn(tx); err != nil {
		return err
	}
	for bucket, writes := range tx.writes {
		for key, v := range writes {
			if v == nil {
				delete(m.data[bucket], key)
			} else {
				m.data[bucket][key] = *v
			}
		}
	}
	return nil
}

// Close releases the data; later transactions fail with ErrClosed.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed, m.data = true, nil
	return nil
}

// memTx reads through its own pending writes to the committed data. A nil
// writes map marks a View transaction. A nil *[]byte in writes is a delete.
type memTx struct {
	m      *Memory
	writes map[string]map[string]*[]byte
}

func (tx *memTx) Get(bucket, key string) []byte {
	if w, ok := tx.writes[bucket][key]; ok {
		if w == nil {
			return nil
		}
		return slices.Clone(*w)
	}
	v, ok := tx.m.data[bucket][key]
	if !ok {
		return nil
	}
	return slices.Clone(v)
}

func (tx *memTx) Put(bucket, key string, value []byte) error {
	return tx.write(bucket, key, new(slices.Clone(value)))
}

func (tx *memTx) Delete(bucket, key string) error {
	return tx.write(bucket, key, nil)
}

func (tx *memTx) write(bucket, key string, v *[]byte) error {
	if tx.writes == nil {
		return ErrReadOnly
	}
	if _, ok := tx.m.data[bucket]; !ok {
		return unknownBucket(bucket)
	}
	if tx.writes[bucket] == nil {
		tx.writes[bucket] = map[string]*[]byte{}
	}
	if v != nil && *v == nil {
		*v = []byte{} // bbolt stores an empty value as present, not absent
	}
	tx.writes[bucket][key] = v
	return nil
}

func (tx *memTx) ForEach(bucket string, fn func(key string, value []byte) error) error {
	committed, ok := tx.m.data[bucket]
	if !ok {
		return unknownBucket(bucket)
	}
	writes := tx.writes[bucket]
	keys := make([]string, 0, len(committed)+len(writes))
	for k := range committed {
		if _, overridden := writes[k]; !overridden {
			keys = append(keys, k)
		}
	}
	for k, v := range writes {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := writes[k]
		value := committed[k]
		if ok {
			value = *v
		}
		if err := fn(k, value); err != nil {
			return err
		}
	}
	return nil
}
