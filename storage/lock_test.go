package storage

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestSecondOpenSaysWhoHoldsTheJournal(t *testing.T) {
	j := newJournal(t)
	start := time.Now()
	_, err := Open(j.Path(), Options{LockTimeout: 100 * time.Millisecond})
	within(t, 2*time.Second, start, "refusing a held journal")

	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("second open: got %v, want an *InUseError", err)
	}
	host, _ := os.Hostname()
	if inUse.Holder == nil || inUse.Holder.PID != os.Getpid() || inUse.Holder.Host != host {
		t.Fatalf("holder = %+v, want pid %d on %s", inUse.Holder, os.Getpid(), host)
	}
	for _, want := range []string{"journal " + j.Path() + " is in use by PID ", " on " + host + " since "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	// The refused Open must not disturb the holder.
	must(t, j.DefineStages([]StagePlan{{Name: "all", Gate: Gate{MaxFailureRate: 1}}}))
}

func TestLockInfoLifecycle(t *testing.T) {
	j := newJournal(t)
	info, err := os.Stat(lockInfoPath(j.Path()))
	must(t, err)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("lock info mode %v, want 0600", info.Mode().Perm())
	}
	must(t, j.Close())
	if _, err := os.Stat(lockInfoPath(j.Path())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock info should be removed on close, stat says %v", err)
	}
}

func TestStaleLockInfoDoesNotBlockOpen(t *testing.T) {
	j := newJournal(t)
	path := j.Path()
	must(t, j.Close())
	// A holder that died without closing leaves its record behind.
	stale := LockHolder{PID: 999999, Host: "elsewhere", Since: time.Now().Add(-time.Hour)}
	must(t, writeLockInfo(path, stale))

	j2, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open with a stale lock record: %v", err)
	}
	defer j2.Close()
	h, err := readLockInfo(path)
	if err != nil || h == nil || h.PID != os.Getpid() {
		t.Errorf("lock record after open = %+v, %v; want this process", h, err)
	}
}

func TestInUseWithoutLockInfo(t *testing.T) {
	j := newJournal(t)
	must(t, removeLockInfo(j.Path()))
	_, err := Open(j.Path(), Options{LockTimeout: 50 * time.Millisecond})
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Holder != nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("got %v, want in use by an unknown process", err)
	}
}

const holdJournalEnv = "PROVISION_STORAGE_TEST_HOLD_JOURNAL"

// holdJournalProcess runs in a child process: it opens the journal, says
// "holding", and keeps it until stdin closes or it is killed.
func holdJournalProcess(path string) int {
	j, err := Open(path, Options{})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("holding\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := j.Close(); err != nil {
		return 1
	}
	return 0
}

func startHolder(t *testing.T, path string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdJournalEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("holder process said %q, %v", line, err)
	}
	return cmd, stdin
}

func TestJournalHeldByAnotherProcess(t *testing.T) {
	j := newJournal(t)
	path := j.Path()
	must(t, j.Close())

	t.Run("refused with the holder's pid, then free after it closes", func(t *testing.T) {
		cmd, stdin := startHolder(t, path)
		_, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
		var inUse *InUseError
		if !errors.As(err, &inUse) || inUse.Holder == nil || inUse.Holder.PID != cmd.Process.Pid {
			t.Fatalf("got %v; want in use by PID %d", err, cmd.Process.Pid)
		}
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("holder exited with %v", err)
		}
		j, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
		must(t, err)
		must(t, j.Close())
	})

	t.Run("a holder killed with SIGKILL leaves nothing that blocks", func(t *testing.T) {
		cmd, _ := startHolder(t, path)
		must(t, cmd.Process.Kill())
		_ = cmd.Wait()
		if h, _ := readLockInfo(path); h == nil || h.PID != cmd.Process.Pid {
			t.Fatalf("expected the killed holder's record to remain, got %+v", h)
		}
		j, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("open after the holder was killed: %v", err)
		}
		defer j.Close()
		if h, _ := readLockInfo(path); h == nil || h.PID != os.Getpid() {
			t.Errorf("lock record = %+v, want this process", h)
		}
	})
}
