// Package file is the target that writes Auth0 import files to a directory
// instead of uploading them: users-0001.json, users-0002.json, … and a
// manifest.json listing each file's user count, size and SHA-256, for an
// operator to upload by hand (Dashboard or Management API) and to check
// that nothing changed on the way. The manifest holds no user data.
//
// A migration runs against "file:DIR" exactly as against a tenant: a
// submit writes the file and yields a job that is already completed with
// every user counted as inserted. The executor gives it files in batches
// (SubmitBatch): they are written in parallel, and the manifest once per
// batch, so writing a million users' files costs little more than the
// bytes.
package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"provision/engine/atomicfile"
	"provision/engine/importuser"
	"provision/engine/target"
)

// ManifestName is the manifest's file name inside the directory.
const ManifestName = "manifest.json"

// Manifest describes the import files in a directory.
type Manifest struct {
	Version int         `json:"version"`
	Files   []FileEntry `json:"files"`
}

// FileEntry describes one import file.
type FileEntry struct {
	Seq     int       `json:"seq"`
	Name    string    `json:"name"`
	Users   int       `json:"users"`
	Bytes   int       `json:"bytes"`
	SHA256  string    `json:"sha256"`
	Written time.Time `json:"written"`
}

const manifestVersion = 1

// Target writes import files into one directory. It is safe for
// concurrent use.
type Target struct {
	dir string
	now func() time.Time

	mu       sync.Mutex
	manifest Manifest
	// spotChecked: a file of validated users was checked against the
	// schema (see check).
	spotChecked bool
}

var _ target.Local = (*Target)(nil)

// Open prepares dir (created 0700 if missing) and reads the manifest a
// previous run left there, so a resumed run adds to it.
func Open(dir string) (*Target, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create import file directory: %w", err)
	}
	removeStaleTemps(dir)
	t := &Target{dir: dir, now: time.Now, manifest: Manifest{Version: manifestVersion}}
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("read import manifest: %w", err)
	}
	if err := json.Unmarshal(b, &t.manifest); err != nil {
		return nil, fmt.Errorf("%s is not a manifest this tool wrote (%v); move it away or choose another directory", filepath.Join(dir, ManifestName), err)
	}
	if t.manifest.Version != manifestVersion {
		return nil, fmt.Errorf("%s has version %d, this tool writes version %d; choose another directory", filepath.Join(dir, ManifestName), t.manifest.Version, manifestVersion)
	}
	return t, nil
}

// removeStaleTemps removes the temporary files of writes a killed process
// left half done: whatever they held is written again (the journal says
// which files are not done), and an operator must not mistake one for an
// import file.
func removeStaleTemps(dir string) {
	for _, pattern := range []string{".users-*.json.*.tmp", "." + ManifestName + ".*.tmp"} {
		stale, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range stale {
			_ = os.Remove(f)
		}
	}
}

// Dir is the directory files are written to.
func (t *Target) Dir() string { return t.dir }

// Manifest returns a copy of the current manifest.
func (t *Target) Manifest() Manifest {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.manifest
	m.Files = slices.Clone(m.Files)
	return m
}

// Submit writes one file; see SubmitBatch.
func (t *Target) Submit(ctx context.Context, s target.Submission) (target.Job, error) {
	jobs, err := t.SubmitBatch(ctx, []target.Submission{s})
	if err != nil {
		return target.Job{}, err
	}
	return jobs[0], nil
}

// writers is how many files are checked, hashed and written at once:
// enough to overlap one file's fsync with the next one's writing.
const writers = 4

// SubmitBatch checks each file against Auth0's schema (see check), writes
// it as users-NNNN.json (replacing a file of the same number, which makes
// a resubmit after a crash idempotent), durably, and then records the
// batch in the manifest.
func (t *Target) SubmitBatch(ctx context.Context, subs []target.Submission) ([]target.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, s := range subs {
		if s.Seq < 1 {
			return nil, fmt.Errorf("import file number %d: numbers start at 1", s.Seq)
		}
	}
	entries := make([]FileEntry, len(subs))
	files := make([]atomicfile.File, len(subs))
	errs := make([]error, len(subs))
	parallelFor(len(subs), func(i int) {
		entries[i], errs[i] = t.entry(subs[i])
		files[i] = atomicfile.File{Path: filepath.Join(t.dir, subs[i].FileName()), Data: subs[i].Data}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteMany(t.dir, files, 0o600, writers); err != nil {
		return nil, fmt.Errorf("write import files: %w", err)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.manifest
	m.Files = slices.Clone(m.Files)
	for _, entry := range entries {
		i, found := slices.BinarySearchFunc(m.Files, entry.Seq, func(e FileEntry, seq int) int { return e.Seq - seq })
		if found {
			m.Files[i] = entry
		} else {
			m.Files = slices.Insert(m.Files, i, entry)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(t.dir, ManifestName), append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", ManifestName, err)
	}
	t.manifest = m
	jobs := make([]target.Job, len(entries))
	for i, e := range entries {
		jobs[i] = jobFor(e)
	}
	return jobs, nil
}

// entry checks a file and describes it for the manifest.
func (t *Target) entry(s target.Submission) (FileEntry, error) {
	name := s.FileName()
	if err := t.check(s); err != nil {
		return FileEntry{}, fmt.Errorf("%s would not be accepted by Auth0: %w", name, err)
	}
	sum := sha256.Sum256(s.Data)
	return FileEntry{Seq: s.Seq, Name: name, Users: s.Users, Bytes: len(s.Data), SHA256: hex.EncodeToString(sum[:]), Written: t.now().UTC()}, nil
}

// parallelFor calls fn(0..n-1) on up to `writers` goroutines.
func parallelFor(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(writers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// check validates a file against Auth0's import schema: a file Auth0
// would refuse is better caught here than by the person uploading it
// later. A file of validated users (Submission.Validated) was checked
// user by user against the same rules, and a schema pass over it costs
// more than validating the source did (~20 µs per user), so only the
// first such file is checked: a guard against validation and the schema
// drifting apart.
func (t *Target) check(s target.Submission) error {
	t.mu.Lock()
	trusted := s.Validated && t.spotChecked
	t.mu.Unlock()
	if trusted {
		return nil
	}
	if err := importuser.ValidateFileJSON(s.Data); err != nil {
		return err
	}
	if s.Validated {
		t.mu.Lock()
		t.spotChecked = true
		t.mu.Unlock()
	}
	return nil
}

// Job reports the job of a written file; its id is the file name.
func (t *Target) Job(ctx context.Context, id string) (target.Job, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.manifest.Files {
		if e.Name == id {
			return jobFor(e), nil
		}
	}
	return target.Job{}, fmt.Errorf("job %q: no such file in %s", id, filepath.Join(t.dir, ManifestName))
}

// JobErrors is always empty: a written file has no per-user outcome.
func (t *Target) JobErrors(ctx context.Context, id string) ([]target.JobUserError, error) {
	if _, err := t.Job(ctx, id); err != nil {
		return nil, err
	}
	return []target.JobUserError{}, nil
}

// UsersByEmail is unsupported: a directory of files holds no user store.
func (t *Target) UsersByEmail(context.Context, string) ([]target.User, error) {
	return nil, fmt.Errorf("look up a user in %s: %w", t.dir, target.ErrUnsupported)
}

// DeleteUser is unsupported: users are deleted in the tenant they were
// uploaded to, not in a file.
func (t *Target) DeleteUser(context.Context, string) error {
	return fmt.Errorf("delete a user in %s: %w", t.dir, target.ErrUnsupported)
}

func jobFor(e FileEntry) target.Job {
	return target.Job{
		ID:             e.Name,
		Type:           "users_import",
		Status:         target.StatusCompleted,
		CreatedAt:      e.Written,
		PercentageDone: 100,
		Summary:        target.Summary{Inserted: e.Users, Total: e.Users},
	}
}
