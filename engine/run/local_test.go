package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"provision/engine/sandbox"
	"provision/engine/target"
	"provision/engine/target/file"
	"provision/storage"
)

// flakyFiles is a directory target whose first batch of several files
// writes half of them and then fails, as a full disk would.
type flakyFiles struct {
	*file.Target
	batches int
	failed  bool
}

func (f *flakyFiles) SubmitBatch(ctx context.Context, subs []target.Submission) ([]target.Job, error) {
	f.batches++
	if !f.failed && len(subs) > 1 {
		f.failed = true
		if _, err := f.Target.SubmitBatch(ctx, subs[:len(subs)/2]); err != nil {
			return nil, err
		}
		return nil, errors.New("no space left on device")
	}
	return f.Target.SubmitBatch(ctx, subs)
}

// filesHold reads every file the manifest of dir lists, checks it against
// its entry and that the directory holds nothing else, and counts each
// email.
func filesHold(t *testing.T, dir string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var m file.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{file.ManifestName: true}
	seen := map[string]int{}
	for _, f := range m.Files {
		listed[f.Name] = true
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatalf("the manifest lists %s: %v", f.Name, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 || len(data) != f.Bytes {
			t.Errorf("%s does not match its manifest entry", f.Name)
		}
		var users []struct{ Email string }
		if err := json.Unmarshal(data, &users); err != nil || len(users) != f.Users {
			t.Fatalf("%s: %d users (%v), the manifest says %d", f.Name, len(users), err, f.Users)
		}
		for _, u := range users {
			seen[strings.ToLower(u.Email)]++
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("%s is in the directory but not in the manifest", e.Name())
		}
	}
	return seen
}

// requireEachOnce asserts that the files hold every valid user once and
// nobody else.
func requireEachOnce(t *testing.T, seen map[string]int, valid []string) {
	t.Helper()
	for _, email := range valid {
		if seen[email] != 1 {
			t.Errorf("<%s> is in %d files, want 1", email, seen[email])
		}
	}
	if len(seen) != len(valid) {
		t.Errorf("the files hold %d users, want %d", len(seen), len(valid))
	}
}

// intoFiles is the options of a run of the fixture into a directory of
// import files, its file target and the directory.
func (f *fixture) intoFiles(stages string) (Options, *file.Target, string) {
	f.t.Helper()
	out := filepath.Join(f.dir, "out")
	ft, err := file.Open(out)
	if err != nil {
		f.t.Fatal(err)
	}
	o := f.opts(stages)
	o.Target, o.Settings.Target, o.Settings.ConnectionID = ft, "file:"+out, ""
	o.Verify.Disabled = true // a directory holds no users to look up
	return o, ft, out
}

func TestLocalRunSurvivesAFailedBatch(t *testing.T) {
	f := newFixture(t, 400, sandbox.Config{})
	o, ft, out := f.intoFiles("canary:20,rest")
	flaky := &flakyFiles{Target: ft}
	o.Target = flaky
	res := f.run(o)
	if res.State != StateFinished {
		t.Fatalf("run: %s (%s)", res.State, res.Reason)
	}
	if !flaky.failed || flaky.batches < 3 {
		t.Errorf("%d batches, one failed: %t; want the failed one sent again", flaky.batches, flaky.failed)
	}
	requireEachOnce(t, filesHold(t, out), f.valid)
	j := f.openJournal()
	if v, err := j.Verify(t.Context()); err != nil || !v.OK() {
		t.Fatalf("verify: %v %v", err, v.Problems)
	}
	u, err := j.UserByEmail(f.valid[7])
	if err != nil || u.State != storage.UserInserted || u.UserID != "auth0|u7" {
		t.Errorf("user 7 = %+v, %v; want inserted as auth0|u7", u, err)
	}
}

// TestLocalRunResumesWithoutItsSpool: a run into files keeps its spool in
// memory, so a run stopped at a gate has none on disk, and the resumed run
// makes it again from the source.
func TestLocalRunResumesWithoutItsSpool(t *testing.T) {
	f := newFixture(t, 300, sandbox.Config{})
	o, _, out := f.intoFiles("canary:20:approve,rest")
	if res := f.run(o); res.State != StateAwaitingApproval || res.Stage != "canary" {
		t.Fatalf("first run: %s at %s (%s)", res.State, res.Stage, res.Reason)
	}
	if spools, _ := filepath.Glob(filepath.Join(filepath.Dir(f.journal()), "spool-*")); len(spools) != 0 {
		t.Errorf("a run into files left a spool with password hashes on disk: %v", spools)
	}
	if seen := filesHold(t, out); len(seen) != 20 {
		t.Errorf("after the canary the files hold %d users, want 20", len(seen))
	}
	o.Approve = "canary"
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("resumed run: %s (%s)", res.State, res.Reason)
	}
	requireEachOnce(t, filesHold(t, out), f.valid)
}

// TestLocalRunWithItsSpoolOnDisk: a source too large for the memory spool
// takes the disk spool, with the same batches.
func TestLocalRunWithItsSpoolOnDisk(t *testing.T) {
	defer func(was int64) { memSpoolMaxSource = was }(memSpoolMaxSource)
	memSpoolMaxSource = 1
	f := newFixture(t, 300, sandbox.Config{})
	o, _, out := f.intoFiles("canary:20:approve,rest")
	if res := f.run(o); res.State != StateAwaitingApproval {
		t.Fatalf("first run: %s (%s)", res.State, res.Reason)
	}
	spools, _ := filepath.Glob(filepath.Join(filepath.Dir(f.journal()), "spool-*.bin"))
	if len(spools) != 1 {
		t.Fatalf("spools on disk at the gate: %v, want one", spools)
	}
	o.Approve = "canary"
	if res := f.run(o); res.State != StateFinished {
		t.Fatalf("resumed run: %s (%s)", res.State, res.Reason)
	}
	requireEachOnce(t, filesHold(t, out), f.valid)
	if _, err := os.Stat(spools[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the finished run left its spool: %v", err)
	}
}
