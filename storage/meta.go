package storage

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Meta describes the run a journal belongs to: enough to resume it and to
// refuse resuming it against a different source. It holds no secrets.
type Meta struct {
	Schema      int               `json:"-"` // filled in on read
	ToolVersion string            `json:"tool_version"`
	Created     time.Time         `json:"created"`
	Source      SourceFingerprint `json:"source"`
	Settings    RunSettings       `json:"settings"`
}

// SourceFingerprint pins the source export: a resume against a file with a
// different digest would map rows to the wrong users.
type SourceFingerprint struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex digest of the whole file
}

// RunSettings are the choices the executor needs to resume a run the way
// it was started.
type RunSettings struct {
	Target       string `json:"target"`        // e.g. "auth0:https://example.eu.auth0.com"; never with credentials
	ConnectionID string `json:"connection_id"` // con_...
	Upsert       bool   `json:"upsert"`
	StageSpec    string `json:"stage_spec"` // as given in the plan, e.g. "1%,10%,rest"
}

func (m Meta) validate() error {
	if m.Source.SHA256 == "" {
		return fmt.Errorf("journal metadata: the source fingerprint has no sha256; fingerprint the source file before creating the journal")
	}
	// A target URL can carry credentials (scheme://user:secret@host);
	// they must never reach the journal.
	spec := m.Settings.Target
	if i := strings.Index(spec, ":"); i >= 0 && !strings.Contains(spec[:i], "/") && strings.Contains(spec[i+1:], "://") {
		spec = spec[i+1:] // "auth0:https://..." -> "https://..."
	}
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		return fmt.Errorf("journal metadata: the target %q has credentials in its URL; pass them through the environment instead", redactURL(u))
	}
	return nil
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = url.User("*****")
	return c.String()
}

// Meta returns the run's metadata.
func (j *Journal) Meta() (Meta, error) {
	var m Meta
	err := j.view(func(tx *bolt.Tx) error {
		v, _ := readSchemaVersion(tx)
		m.Schema = v
		return getJSON(tx.Bucket(bucketMeta), keyMeta, &m)
	})
	if err != nil {
		return Meta{}, fmt.Errorf("read journal metadata: %w", err)
	}
	return m, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// getJSON decodes the value at key; json.Unmarshal copies what it keeps,
// so the result outlives the transaction.
func getJSON(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return fmt.Errorf("key %q: %w", key, ErrNotFound)
	}
	return json.Unmarshal(data, v)
}
