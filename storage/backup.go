package storage

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the journal to dst (0600) while the
// journal stays in use. The copy is written beside dst and renamed into
// place, so dst is always either the previous file or a complete backup.
func (j *Journal) Backup(ctx context.Context, dst string) error {
	err := writeAtomically(dst, func(f *os.File) error {
		return j.view(func(tx *bolt.Tx) error {
			_, err := tx.WriteTo(ctxWriter{ctx, f})
			if err != nil && ctx.Err() != nil {
				return ctx.Err() // bbolt flattens the error it got from the writer
			}
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("back up journal %s to %s: %w", j.path, dst, err)
	}
	return nil
}

// ctxWriter stops a long copy when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// writeAtomically has fill write a new 0600 file next to dst, syncs it and
// renames it over dst.
func writeAtomically(dst string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CompactResult reports a compaction.
type CompactResult struct {
	Before int64 `json:"before"` // file sizes in bytes
	After  int64 `json:"after"`
}

// compactTxMaxSize bounds the memory bbolt.Compact uses by committing the
// copy every so many bytes.
const compactTxMaxSize = 64 << 20

// Compact rewrites the journal into a new file without the free pages
// that updates leave behind, and atomically replaces the journal with it.
// The journal stays open and locked throughout; other calls wait for it.
//
// The new file is opened (and so locked) before the old one is released.
// A process that was waiting for the old file's lock will get it on a file
// that no longer has a name; Open detects that and moves on to the new
// file, where it waits for this process like any other.
func (j *Journal) Compact() (CompactResult, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.db == nil {
		return CompactResult{}, ErrClosed
	}
	res, err := j.compactLocked()
	if err != nil {
		return res, fmt.Errorf("compact journal %s: %w", j.path, err)
	}
	return res, nil
}

func (j *Journal) compactLocked() (CompactResult, error) {
	var res CompactResult
	before, err := os.Stat(j.path)
	if err != nil {
		return res, err
	}
	res.Before = before.Size()

	tmpPath, err := j.compactCopy()
	defer os.Remove(tmpPath) // no-op once renamed
	if err != nil {
		return res, fmt.Errorf("%w (the journal is unchanged)", err)
	}
	// Swap: rename the copy over the journal, open it (taking its lock),
	// then release the old file.
	if err := os.Rename(tmpPath, j.path); err != nil {
		return res, fmt.Errorf("%w (the journal is unchanged)", err)
	}
	if err := syncDir(filepath.Dir(j.path)); err != nil {
		return res, err
	}
	fresh, err := openBolt(j.path, j.opts)
	if err != nil {
		// The compacted file is in place and complete; only this handle
		// is lost. Close the old one so the caller can reopen.
		_ = removeLockInfo(j.path)
		_ = j.db.Close()
		j.db = nil
		return res, fmt.Errorf("reopen after compaction: %w; the journal is compacted, open it again", err)
	}
	old := j.db
	j.db = fresh
	_ = old.Close()

	after, err := os.Stat(j.path)
	if err == nil {
		res.After = after.Size()
	}
	err = j.db.Update(func(tx *bolt.Tx) error {
		return appendEvent(tx, Event{Kind: EventJournal, Message: fmt.Sprintf("compacted from %d to %d bytes", res.Before, res.After)})
	})
	return res, err
}

// compactCopy writes a compacted copy of the journal to a new file beside
// it and returns that file's path.
func (j *Journal) compactCopy() (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), filepath.Base(j.path)+".compact-*")
	if err != nil {
		return "", err
	}
	path := tmp.Name()
	if err := tmp.Close(); err != nil {
		return path, err
	}
	// NoSync is safe here: the copy is synced once, before it is renamed
	// into place, and a crash before that leaves only a stray file.
	dst, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: j.opts.lockTimeout(), NoSync: true})
	if err != nil {
		return path, err
	}
	if err := bolt.Compact(dst, j.db, compactTxMaxSize); err != nil {
		dst.Close()
		return path, err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return path, err
	}
	return path, dst.Close()
}
