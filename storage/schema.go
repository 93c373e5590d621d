package storage

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// schema is a journal layout version and the migrations that bring older
// journals up to it.
type schema struct {
	version    int
	migrations []migration
}

// migration upgrades a journal from schema `from` to from+1 inside one
// write transaction, so a crash mid-migration leaves the old version intact.
type migration struct {
	from  int
	what  string // for the event log: "index users by stage"
	apply func(tx *bolt.Tx) error
}

// currentSchema is the layout this build writes. To change the layout:
// bump version and append a migration from the previous version.
var currentSchema = schema{version: 2, migrations: []migration{usersIntoBlocks}}

// NewerSchemaError is returned by Open for a journal written by a newer
// provision, whose layout this build cannot know.
type NewerSchemaError struct {
	Path     string
	Found    int
	Readable int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("journal %s was written by a newer provision (schema v%d; this build reads up to v%d); upgrade provision to open it",
		e.Path, e.Found, e.Readable)
}

func putSchemaVersion(tx *bolt.Tx, v int) error {
	return tx.Bucket(bucketMeta).Put(keySchema, u64key(uint64(v)))
}

func readSchemaVersion(tx *bolt.Tx) (int, bool) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, false
	}
	v := b.Get(keySchema)
	if len(v) != 8 {
		return 0, false
	}
	return int(binary.BigEndian.Uint64(v)), true
}

// checkSchema refuses journals from the future and migrates ones from the past.
func (j *Journal) checkSchema(sch schema) error {
	var found int
	var ok bool
	if err := j.view(func(tx *bolt.Tx) error {
		found, ok = readSchemaVersion(tx)
		return nil
	}); err != nil {
		return fmt.Errorf("read journal %s: %w", j.path, err)
	}
	switch {
	case !ok:
		return fmt.Errorf("%s is not a provision journal (it has no journal metadata); if creating it was interrupted, delete it and start the run again", j.path)
	case found > sch.version:
		return &NewerSchemaError{Path: j.path, Found: found, Readable: sch.version}
	case found == sch.version:
		return nil
	}
	return j.migrate(found, sch)
}

// migrate applies each step in its own transaction. A backup of the
// journal as it was is kept beside it first: a migration is atomic, but a
// wrong one is only undone by the old file.
func (j *Journal) migrate(from int, sch schema) error {
	backup := fmt.Sprintf("%s.schema-v%d.bak", j.path, from)
	if err := j.Backup(context.Background(), backup); err != nil {
		return fmt.Errorf("back up journal %s before upgrading it from schema v%d: %w", j.path, from, err)
	}
	for v := from; v < sch.version; v++ {
		step, ok := findMigration(sch.migrations, v)
		if !ok {
			return fmt.Errorf("journal %s has schema v%d and this build has no upgrade from it; use the provision release that wrote it", j.path, v)
		}
		err := j.update(func(tx *bolt.Tx) error {
			if err := step.apply(tx); err != nil {
				return err
			}
			if err := putSchemaVersion(tx, v+1); err != nil {
				return err
			}
			return appendEvent(tx, Event{Kind: EventJournal, Message: fmt.Sprintf("upgraded schema v%d to v%d: %s", v, v+1, step.what)})
		})
		if err != nil {
			return fmt.Errorf("upgrade journal %s from schema v%d to v%d: %w (the journal is unchanged at v%d; a copy from before the upgrade is at %s)",
				j.path, v, v+1, err, v, backup)
		}
	}
	return nil
}

func findMigration(ms []migration, from int) (migration, bool) {
	for _, m := range ms {
		if m.from == from {
			return m, true
		}
	}
	return migration{}, false
}
