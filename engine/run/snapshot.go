package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"provision/storage"
)

// A running migration holds its journal's lock for hours, and bbolt lets
// no other process open the file meanwhile, not even to read. So the run
// publishes a snapshot of its status beside the journal after every chunk
// (at most a few times a second), and provision status shows it while the
// journal is busy. The snapshot holds what Status holds: counts, stage
// and chunk states, job ids and the latest audit events; no user data.

// SnapshotName is the snapshot's file name beside the journal.
const SnapshotName = "run-status.json"

// Snapshot is a running migration's published status.
type Snapshot struct {
	PID     int            `json:"pid"`
	Host    string         `json:"host"`
	Written time.Time      `json:"written"`
	Status  storage.Status `json:"status"`
}

// SnapshotPath is where the run on this journal publishes its status.
func SnapshotPath(journal string) string { return filepath.Join(filepath.Dir(journal), SnapshotName) }

// ReadSnapshot reads the status a running migration published. It returns
// an error wrapping fs.ErrNotExist when there is none.
func ReadSnapshot(journal string) (*Snapshot, error) {
	b, err := os.ReadFile(SnapshotPath(journal))
	if err != nil {
		return nil, err
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read %s: %w", SnapshotPath(journal), err)
	}
	return &s, nil
}

// snapshotEvery bounds how often the snapshot is rewritten.
const snapshotEvery = 500 * time.Millisecond

type snapshotter struct {
	path string
	j    *storage.Journal

	mu   sync.Mutex
	last time.Time
}

func newSnapshotter(journal string, j *storage.Journal) *snapshotter {
	sn := &snapshotter{path: SnapshotPath(journal), j: j}
	sn.write(true)
	return sn
}

// write publishes the journal's status; unless forced, at most once per
// snapshotEvery. A snapshot is a convenience: failing to write one never
// stops the run.
func (sn *snapshotter) write(force bool) {
	if sn == nil {
		return
	}
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if !force && time.Since(sn.last) < snapshotEvery {
		return
	}
	st, err := sn.j.Status(30)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	b, err := json.Marshal(Snapshot{PID: os.Getpid(), Host: host, Written: time.Now().UTC(), Status: st})
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(sn.path), ".run-status-*.tmp")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), sn.path) != nil {
		os.Remove(tmp.Name())
		return
	}
	sn.last = time.Now()
}

func (sn *snapshotter) remove() { _ = os.Remove(sn.path) }
