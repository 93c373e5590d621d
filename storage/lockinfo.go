package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// bbolt's flock makes a second writer wait, but cannot say who holds the
// lock. So the holder also writes a small sidecar file, PATH.lockinfo, once
// it has the lock, and removes it on Close. The sidecar is information
// only: the flock is what excludes. A sidecar left by a crashed process is
// therefore harmless: the next Open gets the lock and overwrites it.

// LockHolder is the process that has a journal open.
type LockHolder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// InUseError is returned by Open when another process holds the journal.
type InUseError struct {
	Path   string
	Holder *LockHolder // nil when the holder did not say who it is
}

func (e *InUseError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("journal %s is in use by another process (it did not record who); wait for it to finish or stop it", e.Path)
	}
	return fmt.Sprintf("journal %s is in use by PID %d on %s since %s; wait for it to finish or stop it",
		e.Path, e.Holder.PID, e.Holder.Host, e.Holder.Since.Local().Format(time.RFC3339))
}

func lockInfoPath(journal string) string { return journal + ".lockinfo" }

func currentHolder() LockHolder {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	return LockHolder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)}
}

// writeLockInfo replaces the sidecar atomically, so a concurrent reader
// sees the old holder or the new one, never half a file.
func writeLockInfo(journal string, h LockHolder) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	path := lockInfoPath(journal)
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("record journal holder: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("record journal holder: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("record journal holder: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("record journal holder: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("record journal holder: %w", err)
	}
	return nil
}

// readLockInfo returns nil, nil when there is no sidecar.
func readLockInfo(journal string) (*LockHolder, error) {
	data, err := os.ReadFile(lockInfoPath(journal))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h LockHolder
	if err := json.Unmarshal(data, &h); err != nil || h.PID == 0 {
		return nil, fmt.Errorf("unreadable %s", lockInfoPath(journal))
	}
	return &h, nil
}

func removeLockInfo(journal string) error {
	err := os.Remove(lockInfoPath(journal))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal holder record: %w", err)
	}
	return nil
}
