package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket names. The layout is versioned by the schema number in meta.
var (
	bucketMeta        = []byte("meta")         // "schema" -> uint64; "meta" -> JSON Meta
	bucketStages      = []byte("stages")       // position (u64) -> JSON stage
	bucketUserInfo    = []byte("user_info")    // block (u64) -> rows' lines and emails (blocks.go)
	bucketUserStates  = []byte("user_states")  // block (u64) -> rows' state, stage and chunk (blocks.go)
	bucketUserNotes   = []byte("user_notes")   // row (u64) -> target user_id, error code and message
	bucketChunks      = []byte("chunks")       // chunk id (u64) -> JSON chunk
	bucketChunkUsers  = []byte("chunk_users")  // chunk id (u64) -> packed rows
	bucketChunkStates = []byte("chunk_states") // state byte + chunk id (u64) -> empty
	bucketCounters    = []byte("counters")     // stage position (u32) + state byte -> count (u64)
	bucketEvents      = []byte("events")       // sequence (u64) -> JSON event

	allBuckets = [][]byte{bucketMeta, bucketStages, bucketUserInfo, bucketUserStates, bucketUserNotes, bucketChunks,
		bucketChunkUsers, bucketChunkStates, bucketCounters, bucketEvents}

	keySchema = []byte("schema")
	keyMeta   = []byte("meta")
)

// DefaultLockTimeout is how long Open waits for another process to release
// a journal before reporting who holds it.
const DefaultLockTimeout = time.Second

// Options tune how a journal is opened. The zero value is right for
// production use.
type Options struct {
	// LockTimeout bounds the wait for another process to release the
	// journal; zero means DefaultLockTimeout. Open never waits forever.
	LockTimeout time.Duration

	// noSync skips every fsync. Only tests set it, to build large
	// fixtures quickly; it is deliberately not exported because a journal
	// that loses its last transactions on power loss breaks exactly-once.
	noSync bool

	// schema replaces the build's schema, so tests can exercise migrations.
	schema *schema
}

func (o Options) lockTimeout() time.Duration {
	if o.LockTimeout > 0 {
		return o.LockTimeout
	}
	return DefaultLockTimeout
}

func (o Options) schemaOrCurrent() schema {
	if o.schema != nil {
		return *o.schema
	}
	return currentSchema
}

// Journal is an open journal. It is safe for concurrent use; bbolt
// serializes writers.
type Journal struct {
	path string
	opts Options

	// mu guards db itself: every operation holds it shared, Close and
	// Compact hold it exclusively because they replace the handle.
	mu sync.RWMutex
	db *bolt.DB
}

// ErrClosed is returned by every method of a closed journal.
var ErrClosed = errors.New("journal is closed")

// ErrNotFound is wrapped by errors about a user, chunk or stage that the
// journal does not hold.
var ErrNotFound = errors.New("not found")

// Create makes a new journal at path (0600) for the run described by meta.
// It refuses to overwrite an existing file.
func Create(path string, meta Meta, opts Options) (*Journal, error) {
	if err := meta.validate(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("journal %s already exists: open it to resume that run, or choose another path", path)
	}
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	j, err := openLocked(path, opts)
	if err != nil {
		var inUse *InUseError
		if !errors.As(err, &inUse) {
			_ = os.Remove(path)
		}
		return nil, err
	}
	sch := opts.schemaOrCurrent()
	if meta.Created.IsZero() {
		meta.Created = time.Now()
	}
	meta.Created = meta.Created.UTC()
	err = j.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		if err := putSchemaVersion(tx, sch.version); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketMeta), keyMeta, meta); err != nil {
			return err
		}
		return appendEvent(tx, Event{Kind: EventJournal, Message: fmt.Sprintf("journal created by provision %s (schema v%d)", meta.ToolVersion, sch.version)})
	})
	if err != nil {
		_ = j.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("initialize journal %s: %w", path, err)
	}
	return j, nil
}

// Open opens an existing journal for reading and writing. If another
// process holds it, Open waits up to Options.LockTimeout and then returns
// an *InUseError that says who. A journal written by an older provision is
// migrated (after a backup beside it); one written by a newer provision is
// refused with a *NewerSchemaError.
func Open(path string, opts Options) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no journal at %s: check the workspace path, or start a new run: %w", path, err)
		}
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j, err := openLocked(path, opts)
	if err != nil {
		return nil, err
	}
	if err := j.checkSchema(opts.schemaOrCurrent()); err != nil {
		_ = j.Close()
		return nil, err
	}
	return j, nil
}

// openLocked opens the bbolt file, taking its exclusive lock, and records
// this process as the holder.
func openLocked(path string, opts Options) (*Journal, error) {
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	if err := writeLockInfo(path, currentHolder()); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Journal{path: path, opts: opts, db: db}, nil
}

// openBolt opens path with bbolt, turning a lock timeout into an
// *InUseError. bbolt locks the file it opened, so if the path was replaced
// (a compaction renamed a new file over it) while this process waited for
// the lock, it now holds a lock on a file nobody else will use: detect that
// and open the new file instead.
func openBolt(path string, opts Options) (*bolt.DB, error) {
	for attempt := 1; ; attempt++ {
		var opened *os.File
		db, err := bolt.Open(path, 0o600, &bolt.Options{
			Timeout:      opts.lockTimeout(),
			FreelistType: bolt.FreelistMapType,
			// The freelist is rebuilt from the page tree when a journal is
			// opened instead of being serialized at every commit. This is
			// crash-safe (etcd runs this way); measured on a 300,000-user
			// journal it halves the CPU cost of a commit, for ~200 ms more
			// on opening a 1M-user journal.
			NoFreelistSync: true,
			NoSync:         opts.noSync,
			NoGrowSync:     opts.noSync,
			OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
				f, err := os.OpenFile(name, flag, perm)
				if opened == nil {
					opened = f
				}
				return f, err
			},
		})
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			holder, _ := readLockInfo(path)
			return nil, &InUseError{Path: path, Holder: holder}
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
			return nil, fmt.Errorf("%s is not a provision journal or is damaged (%w): restore it from a backup", path, err)
		case err != nil:
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		same, err := sameFile(opened, path)
		if err == nil && same {
			return db, nil
		}
		_ = db.Close()
		if err != nil {
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
		if attempt == 3 {
			return nil, fmt.Errorf("open journal %s: the file keeps being replaced while opening; retry when no other provision is compacting it", path)
		}
	}
}

func sameFile(f *os.File, path string) (bool, error) {
	if f == nil {
		return false, errors.New("bbolt did not report the file it opened")
	}
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Close releases the journal. Closing twice is harmless.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.db == nil {
		return nil
	}
	// Remove the lock info while still holding the lock, so that it can
	// never delete the record of a process that took the lock after us.
	infoErr := removeLockInfo(j.path)
	err := j.db.Close()
	j.db = nil
	if err != nil {
		return fmt.Errorf("close journal %s: %w", j.path, err)
	}
	return infoErr
}

// view runs fn in a read transaction.
func (j *Journal) view(fn func(tx *bolt.Tx) error) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.db == nil {
		return ErrClosed
	}
	return j.db.View(fn)
}

// update runs fn in a write transaction, committed and fsynced when fn
// returns nil.
func (j *Journal) update(fn func(tx *bolt.Tx) error) error {
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.db == nil {
		return ErrClosed
	}
	return j.db.Update(fn)
}
