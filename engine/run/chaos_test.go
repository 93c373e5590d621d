package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"provision/engine/run/reconcile"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/storage"
)

// TestChaosKillAndResume is the exactly-once guarantee under fire: the
// real provision binary migrates a few thousand users into a sandbox that
// fails a tenth of its requests and runs jobs slowly, and is killed with
// SIGKILL at random moments, again and again, then resumed until done.
// Wherever the kills land, afterwards every valid user is in the tenant
// exactly once, none was ever imported twice, and the reconciliation adds
// up to the source's rows. bench/chaos.sh runs a longer version.
func TestChaosKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the provision binary; skipped with -short")
	}
	// About 50 import files of slow jobs: several seconds of work for the
	// kills to land in, whatever the machine. bench/chaos.sh raises every
	// number through the environment.
	users := chaosParam(t, "CHAOS_USERS", 3000)
	maxKills := chaosParam(t, "CHAOS_KILLS", 30)
	jobDuration := time.Duration(chaosParam(t, "CHAOS_JOB_MS", 250)) * time.Millisecond
	fileBytes := chaosParam(t, "CHAOS_FILE_BYTES", 6000)
	maxKillDelay := chaosParam(t, "CHAOS_MAX_KILL_MS", 800)
	budget := time.Duration(chaosParam(t, "CHAOS_BUDGET_S", 100)) * time.Second
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (kill moments only; the assertions hold for any)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	bin := buildProvision(t)
	base, srv := sandboxtest.Start(t, sandbox.Config{
		FailRate: 0.1, FailKinds: []sandbox.FaultKind{sandbox.FaultInternalError, sandbox.FaultUnavailable},
		JobDuration: jobDuration,
	})
	dir := t.TempDir()
	src, valid := writeChaosSource(t, dir, users)
	ws := filepath.Join(dir, "ws")
	args := []string{"migrate", src, "--workspace", ws, "--yes",
		"--target", "auth0:" + base, "--connection", srv.ConnectionID(),
		"--stages", "canary:100,wave:20%,rest", "--max-file-size", strconv.Itoa(fileBytes), "--format", "json"}
	env := append(os.Environ(), "AUTH0_CLIENT_ID="+srv.ClientID(), "AUTH0_CLIENT_SECRET="+srv.ClientSecret())

	// A third of the runs also meet an import whose job is created but
	// whose answer is lost: the ambiguity a crash after the POST leaves.
	// (Reset first: a run killed before its first POST would pass its
	// fault on to the next.)
	beforeRun := func() {
		srv.Faults().Reset()
		srv.Faults().SetFailRate(0.1, sandbox.FaultInternalError, sandbox.FaultUnavailable)
		if rng.IntN(3) == 0 {
			srv.Faults().FailImportsAfterCreate(1)
		}
	}
	runs, killed, logs := killUntilDone(t, killer{
		bin: bin, args: args, env: env, maxKills: maxKills, deadline: time.Now().Add(budget), before: beforeRun,
		delay:      func() time.Duration { return time.Duration(20+rng.IntN(maxKillDelay)) * time.Millisecond },
		runAgainOn: 4, // paused: the target failed too often in a row
	})
	t.Logf("%d runs, %d killed", runs, killed)
	if os.Getenv("CHAOS_LOG") != "" {
		_ = os.WriteFile(os.Getenv("CHAOS_LOG"), logs.Bytes(), 0o600)
	}
	if killed < 5 {
		t.Errorf("only %d runs were killed before the migration finished: make it longer", killed)
	}

	// Every valid user exactly once, inserted exactly once.
	tenant, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, u := range tenant {
		seen[strings.ToLower(u.Email)]++
	}
	counts, err := srv.ImportCounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range valid {
		if seen[email] != 1 || counts[email].Inserted != 1 {
			t.Errorf("<%s>: %d in the tenant, inserted %d times; want 1 and 1", email, seen[email], counts[email].Inserted)
		}
	}
	if len(tenant) != len(valid) || len(counts) != len(valid) {
		t.Errorf("the tenant holds %d users and imported %d emails, want %d", len(tenant), len(counts), len(valid))
	}

	// The report adds up, through the binary as an operator would run it.
	cmd := exec.Command(bin, "report", "--workspace", ws, "--format", "json", "--no-fix-file")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	var rep reconcile.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Sum() != users+2 || rep.Rows != users+2 || rep.Buckets[reconcile.Inserted] != len(valid) || !rep.Complete {
		t.Errorf("report: %d rows, buckets %v, complete %t; want %d rows with %d inserted", rep.Rows, rep.Buckets, rep.Complete, users+2, len(valid))
	}
	j, err := storage.Open(filepath.Join(ws, "journal.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if v, err := j.Verify(t.Context()); err != nil || !v.OK() {
		t.Errorf("journal verify: %v %v", err, v.Problems)
	}
}

// killer describes runs of the provision binary to kill at random moments.
type killer struct {
	bin        string
	args, env  []string
	maxKills   int                  // after that many kills, runs finish
	delay      func() time.Duration // when to kill a run
	deadline   time.Time
	before     func() // before each run, if set
	runAgainOn int    // an exit status that means "run again", if not 0
}

// killUntilDone runs k.bin again and again, killing each run with SIGKILL
// after k.delay(), until one finishes on its own.
func killUntilDone(t *testing.T, k killer) (runs, killed int, logs *bytes.Buffer) {
	t.Helper()
	logs = &bytes.Buffer{}
	for finished := false; !finished; {
		if time.Now().After(k.deadline) {
			t.Fatalf("no finished run after %d runs and %d kills; last output:\n%s", runs, killed, tail(logs.String(), 3000))
		}
		runs++
		if k.before != nil {
			k.before()
		}
		cmd := exec.Command(k.bin, k.args...)
		cmd.Env = k.env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var err error
		if killed < k.maxKills {
			select {
			case err = <-exited:
			case <-time.After(k.delay()):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				err = <-exited
			}
		} else {
			err = <-exited
		}
		fmt.Fprintf(logs, "--- run %d (%v)\n%s", runs, err, out.String())
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished = true
		case errors.As(err, &exit) && k.runAgainOn != 0 && exit.ExitCode() == k.runAgainOn:
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
			killed++
		default:
			t.Fatalf("run %d failed: %v\n%s", runs, err, tail(logs.String(), 3000))
		}
	}
	return runs, killed, logs
}

// chaosParam reads a size of the chaos test from the environment.
func chaosParam(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// buildProvision builds the provision binary once for the test.
func buildProvision(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "provision")
	cmd := exec.Command("go", "build", "-o", bin, "provision/cmd/provision")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeChaosSource writes n valid users, one invalid row and one duplicate.
func writeChaosSource(t *testing.T, dir string, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,given_name,family_name,user_metadata\n")
	valid := make([]string, 0, n)
	for i := range n {
		email := fmt.Sprintf("chaos%05d@example.com", i)
		valid = append(valid, email)
		fmt.Fprintf(&b, "%s,Given%d,Family%d,\"{\"\"n\"\":%d}\"\n", email, i, i, i)
		if i == n/3 {
			b.WriteString("broken-email,X,Y,\n")
			fmt.Fprintf(&b, "%s,Twin,Twin,\n", strings.ToUpper(email))
		}
	}
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, valid
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
