package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"provision/storage"
)

// Fingerprint pins a source file: its absolute path, size and SHA-256.
func Fingerprint(ctx context.Context, path string) (storage.SourceFingerprint, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return storage.SourceFingerprint{}, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return storage.SourceFingerprint{}, fmt.Errorf("fingerprint the source: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return storage.SourceFingerprint{}, fmt.Errorf("fingerprint %s: %w", abs, err)
	}
	return storage.SourceFingerprint{Path: abs, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// LocalOperator names the person at this terminal (user@host) for the audit
// log, when no other name is known.
func LocalOperator() string {
	user := os.Getenv("USER")
	if user == "" {
		user = "operator"
	}
	if host, err := os.Hostname(); err == nil {
		return user + "@" + host
	}
	return user
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ChangedSourceError refuses to resume against a source that is not the
// one the journal was started with: rows would point at other users.
type ChangedSourceError struct {
	Journal  string
	Was, Now storage.SourceFingerprint
}

func (e *ChangedSourceError) Error() string {
	return fmt.Sprintf("the source changed since this run started (%s: %d bytes, sha256 %.12s…; now %d bytes, sha256 %.12s…): "+
		"resume with the original file, or pass --accept-changed-source to add only the rows with new emails",
		e.Now.Path, e.Was.Size, e.Was.SHA256, e.Now.Size, e.Now.SHA256)
}

// Notes the engine leaves in the journal's audit log, where resumes and
// reports read them back. They are part of the journal's format: keep the
// prefixes.
const (
	noteSourceRows    = "source registered: "      // "<rows> rows, sha256 <hex>"
	noteSourceOptions = "source options: "         // SourceSettings as JSON
	noteSourceChange  = "source change accepted: " // "sha256 <hex>, <n> rows added"
	noteNoPassword    = "canary without an importable password: "
)

// journalNotes is what the engine's notes say about the run.
type journalNotes struct {
	sourceRows    int      // rows of the original source; 0 before registration finished
	sourceOptions string   // as the run was started
	accepted      []string // digests of changed sources the operator accepted
	added         int      // rows those changed sources added
	// noPassword are canaries imported without a password: they cannot
	// log in, and that is not the migration's fault.
	noPassword map[string]bool
}

// readNotes scans the audit log for the engine's notes. The log grows by a
// few events per chunk, so even a run of millions of users reads it in
// milliseconds.
func readNotes(j *storage.Journal) (journalNotes, error) {
	var n journalNotes
	var after uint64
	for {
		evs, err := j.Events(after, 5000)
		if err != nil {
			return n, err
		}
		for _, e := range evs {
			after = e.Seq
			if e.Kind != storage.EventNote {
				continue
			}
			switch {
			case strings.HasPrefix(e.Message, noteSourceRows):
				rows, _, _ := strings.Cut(strings.TrimPrefix(e.Message, noteSourceRows), " ")
				if v, err := strconv.Atoi(rows); err == nil {
					n.sourceRows = v
				}
			case strings.HasPrefix(e.Message, noteNoPassword):
				if n.noPassword == nil {
					n.noPassword = map[string]bool{}
				}
				n.noPassword[strings.TrimPrefix(e.Message, noteNoPassword)] = true
			case strings.HasPrefix(e.Message, noteSourceOptions) && n.sourceOptions == "":
				n.sourceOptions = strings.TrimPrefix(e.Message, noteSourceOptions)
			case strings.HasPrefix(e.Message, noteSourceChange):
				rest := strings.TrimPrefix(strings.TrimPrefix(e.Message, noteSourceChange), "sha256 ")
				sha, counts, _ := strings.Cut(rest, ", ")
				n.accepted = append(n.accepted, sha)
				if added, _, ok := strings.Cut(counts, " rows added"); ok {
					if v, err := strconv.Atoi(added); err == nil {
						n.added += v
					}
				}
			}
		}
		if len(evs) < 5000 {
			return n, nil
		}
	}
}

// SourceRows is how many source rows the run accounts for: the rows of
// the source it was started with, plus those that accepted changes of the
// source added (0 if registration never finished). The reconciliation
// report checks its buckets against it.
func SourceRows(j *storage.Journal) (int, error) {
	n, err := readNotes(j)
	if n.sourceRows == 0 {
		return 0, err
	}
	return n.sourceRows + n.added, err
}

// Recorded is how a run was started, as its journal says.
type Recorded struct {
	storage.Meta
	// SourceSettings is nil when the first run stopped before recording
	// them.
	SourceSettings *SourceSettings
}

// Inspect reads how a run was started (source, target, connection,
// source options) without keeping the journal open, so a command can
// resume it from the journal's record instead of the operator's memory.
func Inspect(path string) (Recorded, error) {
	j, err := storage.Open(path, storage.Options{})
	if err != nil {
		return Recorded{}, err
	}
	defer j.Close()
	meta, err := j.Meta()
	if err != nil {
		return Recorded{}, err
	}
	r := Recorded{Meta: meta}
	n, err := readNotes(j)
	if err != nil {
		return r, err
	}
	if n.sourceOptions != "" {
		ss, err := parseSourceSettings(n.sourceOptions)
		if err != nil {
			return r, err
		}
		r.SourceSettings = &ss
	}
	return r, nil
}

// Exists reports whether a journal exists at path.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
