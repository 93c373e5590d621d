package run

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"provision/storage"
)

// TestChaosKillFileTarget kills a migration into a directory of import
// files at random moments, where a batch of files is journaled in two
// transactions around writing them, and resumes it until done. Afterwards
// the manifest lists exactly the files in the directory, each intact, and
// together they hold every valid user exactly once.
func TestChaosKillFileTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the provision binary; skipped with -short")
	}
	users := chaosParam(t, "CHAOS_FILE_USERS", 40000)
	maxKills := chaosParam(t, "CHAOS_KILLS", 30)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (kill moments only; the assertions hold for any)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	bin := buildProvision(t)
	dir := t.TempDir()
	src, valid := writeChaosSource(t, dir, users)
	ws, out := filepath.Join(dir, "ws"), filepath.Join(dir, "out")
	args := []string{"migrate", src, "--workspace", ws, "--yes", "--target", "file:" + out,
		"--stages", "canary:100,wave:20%,rest", "--max-file-size", "4000", "--no-verify", "--format", "json"}

	runs, killed, logs := killUntilDone(t, killer{
		bin: bin, args: args, env: os.Environ(), maxKills: maxKills, deadline: time.Now().Add(2 * time.Minute),
		delay: func() time.Duration { return time.Duration(5+rng.IntN(250)) * time.Millisecond },
	})
	if os.Getenv("CHAOS_LOG") != "" {
		_ = os.WriteFile(os.Getenv("CHAOS_LOG"), logs.Bytes(), 0o600)
	}
	t.Logf("%d runs, %d killed", runs, killed)
	if killed < 5 {
		t.Errorf("only %d runs were killed before the migration finished: make it longer", killed)
	}

	requireEachOnce(t, filesHold(t, out), valid)

	j, err := storage.Open(filepath.Join(ws, "journal.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if v, err := j.Verify(t.Context()); err != nil || !v.OK() {
		t.Errorf("journal verify: %v %v", err, v.Problems)
	}
	st, err := j.Status(0)
	if err != nil {
		t.Fatal(err)
	}
	var total storage.UserCounts = storage.UserCounts{}
	for _, s := range st.Stages {
		total.Add(s.Users)
	}
	if total[storage.UserInserted] != len(valid) {
		t.Errorf("journal: %v inserted, want %d (%s)", total, len(valid), strconv.Itoa(users))
	}
}
