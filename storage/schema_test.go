package storage

import (
	"encoding/binary"
	"errors"

	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// setSchemaVersion rewrites a closed journal's schema number behind the
// journal's back.
func setSchemaVersion(t *testing.T, path string, v int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	defer db.Close()
	must(t, db.Update(func(tx *bolt.Tx) error { return putSchemaVersion(tx, v) }))
}

func TestNewerSchemaIsRefused(t *testing.T) {
	j := newJournal(t)
	path := j.Path()
	must(t, j.Close())
	setSchemaVersion(t, path, currentSchema.version+1)

	_, err := Open(path, Options{})
	var newer *NewerSchemaError
	if !errors.As(err, &newer) || newer.Found != currentSchema.version+1 {
		t.Fatalf("got %v, want a *NewerSchemaError", err)
	}
	for _, want := range []string{"written by a newer provision", "upgrade provision", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if _, err := os.Stat(lockInfoPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused open must release the journal")
	}
}

var bucketStageUsers = []byte("stage_users")

// v2ToV3 is a migration of the kind a later schema would add: an index
// of users by stage (stage position + row -> empty), built from the users
// themselves.
var v2ToV3 = migration{
	from: 2,
	what: "index users by stage",
	apply: func(tx *bolt.Tx) error {
		idx, err := tx.CreateBucket(bucketStageUsers)
		if err != nil {
			return err
		}
		return newBlockReader(tx).each(0, nil, func(rec userRecord) (bool, error) {
			if rec.stage == 0 {
				return true, nil
			}
			return true, idx.Put(binary.BigEndian.AppendUint32(rowKey(rec.row), rec.stage), nil)
		})
	},
}

func TestMigrationIsApplied(t *testing.T) {
	v2 := &schema{version: 2}
	j := newJournal(t, Options{schema: v2})
	startedRun(t, j, 30, 10)
	before := takeSnapshot(t, j)
	must(t, j.Close())

	v3 := &schema{version: 3, migrations: []migration{v2ToV3}}
	j, err := Open(j.Path(), Options{schema: v3})
	must(t, err)
	defer j.Close()

	meta, err := j.Meta()
	must(t, err)
	if meta.Schema != 3 {
		t.Errorf("schema after migration = %d, want 3", meta.Schema)
	}
	var indexed int
	must(t, j.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketStageUsers)
		if b == nil {
			return errors.New("the migration did not create its bucket")
		}
		indexed = b.Stats().KeyN
		return nil
	}))
	if indexed != 30 {
		t.Errorf("stage index holds %d users, want 30", indexed)
	}
	events, err := j.LatestEvents(1)
	must(t, err)
	if len(events) != 1 || events[0].Message != "upgraded schema v2 to v3: index users by stage" {
		t.Errorf("last event = %+v", events)
	}
	// The data the migration did not touch is unchanged.
	after := takeSnapshot(t, j)
	if len(after.Users) != len(before.Users) || !after.Status.Users.Equal(before.Status.Users) {
		t.Errorf("users changed in migration: %v -> %v", before.Status.Users, after.Status.Users)
	}

	// The pre-migration backup is a v2 journal that a v2 build opens.
	backup := j.Path() + ".schema-v2.bak"
	old, err := Open(backup, Options{schema: v2})
	if err != nil {
		t.Fatalf("open the pre-migration backup: %v", err)
	}
	defer old.Close()
	requireSameSnapshot(t, takeSnapshot(t, old), before)

	// Opening again does not migrate twice.
	must(t, j.Close())
	j, err = Open(j.Path(), Options{schema: v3})
	must(t, err)
	defer j.Close()
	if again := takeSnapshot(t, j); len(again.Events) != len(after.Events) || again.Meta.Schema != 3 {
		t.Errorf("reopening a migrated journal changed it: %d events (was %d), schema v%d",
			len(again.Events), len(after.Events), again.Meta.Schema)
	}
}

func TestFailedMigrationLeavesTheJournalAsItWas(t *testing.T) {
	v2 := &schema{version: 2}
	j := newJournal(t, Options{schema: v2})
	startedRun(t, j, 5, 5)
	path := j.Path()
	must(t, j.Close())

	broken := migration{from: 2, what: "break", apply: func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketUserStates); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}}
	_, err := Open(path, Options{schema: &schema{version: 3, migrations: []migration{broken}}})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "unchanged at v2") {
		t.Fatalf("got %v", err)
	}
	j, err = Open(path, Options{schema: v2})
	must(t, err)
	defer j.Close()
	users, err := j.CollectUsers(ctx, UserFilter{})
	must(t, err)
	if len(users) != 5 {
		t.Errorf("after a failed migration the journal has %d users, want 5", len(users))
	}
}

func TestMissingMigrationIsReported(t *testing.T) {
	v2 := &schema{version: 2}
	j := newJournal(t, Options{schema: v2})
	path := j.Path()
	must(t, j.Close())
	_, err := Open(path, Options{schema: &schema{version: 4, migrations: []migration{v2ToV3}}})
	if err == nil || !strings.Contains(err.Error(), "no upgrade from it") {
		t.Fatalf("got %v, want no upgrade from v3", err)
	}
}
