package file

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"provision/engine/chunk"
	"provision/engine/importuser"
	"provision/engine/target"
)

func packUsers(t *testing.T, n, maxBytes int) []chunk.Chunk {
	t.Helper()
	p, err := chunk.NewPacker(chunk.Options{MaxBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	var out []chunk.Chunk
	for i := range n {
		u := importuser.User{
			Email:        fmt.Sprintf("user%03d@example.com", i),
			Name:         fmt.Sprintf("User Number %d", i),
			PasswordHash: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
			UserMetadata: json.RawMessage(`{"plan":"pro"}`),
		}
		if c, ok, err := p.Add(u.Email, i+2, u); err != nil {
			t.Fatal(err)
		} else if ok {
			out = append(out, c)
		}
	}
	if c, ok := p.Flush(); ok {
		out = append(out, c)
	}
	return out
}

func TestSubmitWritesValidFilesAndManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "import")
	ft, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	chunks := packUsers(t, 120, 4000)
	if len(chunks) < 3 {
		t.Fatalf("want several chunks, got %d", len(chunks))
	}
	ctx := context.Background()
	for _, c := range chunks {
		job, err := ft.Submit(ctx, c.Submission(false))
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != target.StatusCompleted || job.Summary.Inserted != c.Users() || job.Summary.Total != c.Users() {
			t.Errorf("job for chunk %d = %+v, want completed with %d inserted", c.Seq, job, c.Users())
		}
		again, err := ft.Job(ctx, job.ID)
		if err != nil || again.Status != target.StatusCompleted {
			t.Errorf("Job(%q) = %+v, %v", job.ID, again, err)
		}
		errs, err := ft.JobErrors(ctx, job.ID)
		if err != nil || len(errs) != 0 {
			t.Errorf("JobErrors(%q) = %v, %v; want none", job.ID, errs, err)
		}
	}

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	m := ft.Manifest()
	if len(m.Files) != len(chunks) {
		t.Fatalf("manifest lists %d files, want %d", len(m.Files), len(chunks))
	}
	for i, e := range m.Files {
		c := chunks[i]
		path := filepath.Join(dir, e.Name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", e.Name, fi.Mode().Perm())
		}
		if err := importuser.ValidateFileJSON(data); err != nil {
			t.Errorf("%s does not validate: %v", e.Name, err)
		}
		sum := sha256.Sum256(data)
		want := FileEntry{Seq: c.Seq, Name: fmt.Sprintf("users-%04d.json", c.Seq), Users: c.Users(), Bytes: len(c.Data), SHA256: hex.EncodeToString(sum[:])}
		e.Written = want.Written
		if e != want {
			t.Errorf("manifest entry = %+v, want %+v", e, want)
		}
	}

	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, ManifestName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode = %v, want 0600", fi.Mode().Perm())
	}
	for _, leak := range []string{"@example.com", "$2b$", "User Number"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("manifest holds user data %q", leak)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestReopenResubmitAndRefusals(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ft, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := []byte(`[{"email":"a@example.com"},{"email":"b@example.com"}]`)
	if _, err := ft.Submit(ctx, target.Submission{Seq: 2, Data: good, Users: 2}); err != nil {
		t.Fatal(err)
	}

	// A resumed run sees the earlier file and may resubmit it.
	ft, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if job, err := ft.Job(ctx, "users-0002.json"); err != nil || job.Summary.Inserted != 2 {
		t.Fatalf("after reopen Job = %+v, %v", job, err)
	}
	one := []byte(`[{"email":"a@example.com"}]`)
	if _, err := ft.Submit(ctx, target.Submission{Seq: 2, Data: one, Users: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.Submit(ctx, target.Submission{Seq: 1, Data: good, Users: 2}); err != nil {
		t.Fatal(err)
	}
	m := ft.Manifest()
	if len(m.Files) != 2 || m.Files[0].Seq != 1 || m.Files[1].Seq != 2 || m.Files[1].Users != 1 {
		t.Fatalf("manifest = %+v; want seq 1 then seq 2 with 1 user", m.Files)
	}

	tests := []struct {
		name string
		sub  target.Submission
	}{
		{"not an array", target.Submission{Seq: 3, Data: []byte(`{"email":"a@example.com"}`), Users: 1}},
		{"unknown field", target.Submission{Seq: 3, Data: []byte(`[{"email":"a@example.com","password":"x"}]`), Users: 1}},
		{"no number", target.Submission{Seq: 0, Data: good, Users: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ft.Submit(ctx, tt.sub); err == nil {
				t.Fatal("want an error")
			}
			if _, err := os.Stat(filepath.Join(dir, "users-0003.json")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused file was written: %v", err)
			}
		})
	}

	if _, err := ft.UsersByEmail(ctx, "a@example.com"); !errors.Is(err, target.ErrUnsupported) {
		t.Errorf("UsersByEmail err = %v, want ErrUnsupported", err)
	}
	if err := ft.DeleteUser(ctx, "auth0|1"); !errors.Is(err, target.ErrUnsupported) {
		t.Errorf("DeleteUser err = %v, want ErrUnsupported", err)
	}
	if _, err := ft.Job(ctx, "users-0009.json"); err == nil {
		t.Error("Job of an unknown file: want an error")
	}
}

func TestOpenRefusesForeignManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"version":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "version 7") {
		t.Fatalf("Open err = %v, want a version complaint", err)
	}
}

// TestSubmitBatchTrustsValidatedFilesAfterOneCheck: a batch is written in
// one go with one manifest; of files whose users were validated one by
// one, only the first is checked against the schema, while a file nobody
// validated is always checked.
func TestSubmitBatchTrustsValidatedFilesAfterOneCheck(t *testing.T) {
	dir := t.TempDir()
	tgt, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	chunks := packUsers(t, 40, 2000)
	if len(chunks) < 3 {
		t.Fatalf("want at least 3 chunks, got %d", len(chunks))
	}
	subs := make([]target.Submission, len(chunks))
	for i, c := range chunks {
		subs[i] = c.Submission(false)
		subs[i].Validated = true
	}
	// The first validated file is checked: a broken one is refused.
	broken := subs[0]
	broken.Data = []byte(`[{"email":"not-an-email"}]`)
	if _, err := tgt.SubmitBatch(ctx, []target.Submission{broken}); err == nil || !strings.Contains(err.Error(), "would not be accepted by Auth0") {
		t.Fatalf("first validated file: got %v, want a schema refusal", err)
	}
	jobs, err := tgt.SubmitBatch(ctx, subs)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != len(subs) {
		t.Fatalf("%d jobs for %d files", len(jobs), len(subs))
	}
	for i, j := range jobs {
		if j.ID != subs[i].FileName() || j.Status != target.StatusCompleted || j.Summary.Inserted != subs[i].Users {
			t.Errorf("job %d = %+v", i, j)
		}
	}
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || len(m.Files) != len(subs) {
		t.Fatalf("manifest has %d files (%v), want %d", len(m.Files), err, len(subs))
	}
	// Once one has passed, validated files are trusted...
	broken.Seq = 90
	if _, err := tgt.SubmitBatch(ctx, []target.Submission{broken}); err != nil {
		t.Errorf("a validated file after the spot check: %v", err)
	}
	// ...but a file nobody validated is checked every time.
	broken.Seq, broken.Validated = 91, false
	if _, err := tgt.SubmitBatch(ctx, []target.Submission{broken}); err == nil {
		t.Error("an unvalidated broken file was written")
	}
	if _, err := os.Stat(filepath.Join(dir, target.FileName(91))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused file exists: %v", err)
	}
}

func TestOpenRemovesTheTempFilesOfAKilledWrite(t *testing.T) {
	dir := t.TempDir()
	stale := []string{".users-0007.json.123.tmp", "." + ManifestName + ".9.tmp"}
	kept := []string{"users-0001.json", "notes.txt"}
	for _, n := range append(slices.Clone(stale), kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("[]"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived Open: %v", n, err)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
}
