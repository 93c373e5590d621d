package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestBackupOpensAndMatches(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j)
	backup := filepath.Join(t.TempDir(), "journal.bak")
	must(t, j.Backup(ctx, backup))
	want := takeSnapshot(t, j)

	// The journal keeps working after (and while) it is backed up.
	must(t, j.RecordJobID(2, "job_2")) // a replay: no change
	must(t, j.CompleteChunk(2, outcomes(rowRange(5, 7), UserInserted)))

	b, err := Open(backup, Options{})
	must(t, err)
	defer b.Close()
	requireSameSnapshot(t, takeSnapshot(t, b), want)
	requireVerified(t, b)

	// Backing up over an older backup replaces it.
	must(t, j.Backup(ctx, filepath.Join(filepath.Dir(backup), "second.bak")))
	must(t, b.Close())
	must(t, j.Backup(ctx, backup))
	b, err = Open(backup, Options{})
	must(t, err)
	defer b.Close()
	requireSameSnapshot(t, takeSnapshot(t, b), takeSnapshot(t, j))
}

func TestBackupStopsWhenCancelled(t *testing.T) {
	j := newJournal(t)
	smallRun(t, j)
	backup := filepath.Join(t.TempDir(), "journal.bak")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := j.Backup(cctx, backup); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(backup)); len(entries) != 0 {
		t.Errorf("a cancelled backup left %v", entries)
	}
}

func TestCompactPreservesDataAndLock(t *testing.T) {
	j := newJournal(t)
	startedRun(t, j, 3000, 3000)
	for start := RowID(1); start <= 3000; start += 1000 {
		id := submitChunk(t, j, "canary", rowRange(start, start+999))
		must(t, j.CompleteChunk(id, outcomes(rowRange(start, start+999), UserInserted)))
	}
	// Data written and deleted leaves free pages behind.
	must(t, j.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("scratch"))
		if err != nil {
			return err
		}
		for i := range 2000 {
			if err := b.Put(u64key(uint64(i)), make([]byte, 4000)); err != nil {
				return err
			}
		}
		return nil
	}))
	must(t, j.update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("scratch")) }))
	want := takeSnapshot(t, j)

	res, err := j.Compact()
	must(t, err)
	if res.After <= 0 || res.After >= res.Before {
		t.Errorf("compaction went from %d to %d bytes; want smaller", res.Before, res.After)
	}
	got := takeSnapshot(t, j)
	n := len(got.Events)
	if n != len(want.Events)+1 || got.Events[n-1].Kind != EventJournal {
		t.Fatalf("want one compaction event added, got %d events (was %d)", n, len(want.Events))
	}
	lastSeq := got.Events[n-1].Seq
	got.Events, want.Events = nil, nil
	got.Status.Events, want.Status.Events = nil, nil
	requireSameSnapshot(t, got, want)
	requireVerified(t, j)

	// Still locked, still writable, and the sequences go on where they were.
	if _, err := Open(j.Path(), Options{LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("a compacted journal must stay locked by its holder")
	}
	if seq, err := j.AppendEvent(Event{Message: "after compaction"}); err != nil || seq != lastSeq+1 {
		t.Errorf("event after compaction got sequence %d, %v; want %d", seq, err, lastSeq+1)
	}
	if s, err := j.FinishStage("canary"); err != nil || s != StageDone {
		t.Fatalf("finish canary: %v, %v", s, err)
	}
	must(t, j.AddUsers(ctx, pendingUsers(3001, 3001)))
	must(t, j.AssignUsers(ctx, "rest", []RowID{3001}))
	must(t, j.StartStage("rest"))
	if id, err := j.PlanChunk("rest", []RowID{3001}); err != nil || id != 4 {
		t.Errorf("chunk after compaction = %d, %v; want 4", id, err)
	}
	j = reopen(t, j)
	requireVerified(t, j)
}
