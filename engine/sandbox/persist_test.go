package sandbox_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := sandboxtest.NewClock()
	cfg := sandbox.Config{DataDir: dir, Now: clock.Now, JobDuration: time.Hour}

	tn := &tenant{t: t, clock: clock}
	tn.base, tn.srv = sandboxtest.Start(t, cfg)
	tn.token = sandboxtest.Token(t, tn.base, tn.srv)
	secret := tn.srv.ClientSecret()
	done := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID
	clock.Advance(time.Hour)
	if j := tn.job(done); j.Status != "completed" {
		t.Fatalf("first job = %s", j.Status)
	}
	running := tn.importJob(usersJSON(`{"email":"b@example.com"}`), false).ID
	clock.Advance(30 * time.Minute)
	tn.sendJSON(http.MethodPatch, "/api/v2/connections/"+tn.srv.ConnectionID(),
		map[string]any{"options": map[string]any{"passwordPolicy": "fair"}})
	if err := tn.srv.Close(); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(filepath.Join(dir, sandbox.DataFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("data file: %v, mode %v", err, info.Mode())
	}

	// The restarted tenant keeps its secret and signing key: the token
	// issued before the restart still works.
	second := &tenant{t: t, clock: clock, token: tn.token}
	second.base, second.srv = sandboxtest.Start(t, cfg)
	if second.srv.ClientSecret() != secret {
		t.Error("the generated client secret changed across the restart")
	}
	mustUser(t, second.srv, "a@example.com")
	if j := second.job(done); j.Status != "completed" || j.Summary.Inserted != 1 {
		t.Errorf("finished job after restart = %+v", j)
	}
	// The running job resumes where the clock says it is.
	if j := second.job(running); j.Status != "processing" || *j.PercentageDone != 37 {
		t.Errorf("running job after restart = %s %v", j.Status, j.PercentageDone)
	}
	clock.Advance(30 * time.Minute)
	if j := second.job(running); j.Status != "completed" {
		t.Errorf("resumed job = %s", j.Status)
	}
	mustUser(t, second.srv, "b@example.com")
	var conn struct{ Options map[string]any }
	second.get("/api/v2/connections/"+second.srv.ConnectionID()).json(t, &conn)
	if conn.Options["passwordPolicy"] != "fair" {
		t.Errorf("connection options after restart = %v", conn.Options)
	}
}

func TestJobsThatTimedOutWhileDownFail(t *testing.T) {
	dir := t.TempDir()
	clock := sandboxtest.NewClock()
	cfg := sandbox.Config{DataDir: dir, Now: clock.Now, JobDuration: 5 * time.Hour}
	tn := &tenant{t: t, clock: clock}
	tn.base, tn.srv = sandboxtest.Start(t, cfg)
	tn.token = sandboxtest.Token(t, tn.base, tn.srv)
	id := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID
	tn.srv.Close()

	clock.Advance(3 * time.Hour)
	tn.base, tn.srv = sandboxtest.Start(t, cfg)
	if j := tn.job(id); j.Status != "failed" {
		t.Errorf("job after 3 h down = %s, want failed (timed out)", j.Status)
	}
}

func TestSecondSandboxOnTheSameDataIsRefused(t *testing.T) {
	dir := t.TempDir()
	sandboxtest.Start(t, sandbox.Config{DataDir: dir})
	_, err := sandbox.New(sandbox.Config{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second sandbox on %s: %v", dir, err)
	}
}

func TestStoredConnectionMustMatchTheFlags(t *testing.T) {
	dir := t.TempDir()
	srv, err := sandbox.New(sandbox.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err = sandbox.New(sandbox.Config{DataDir: dir, ConnectionName: "Other"})
	if err == nil || !strings.Contains(err.Error(), `stored under the name "Username-Password-Authentication"`) {
		t.Errorf("renamed connection: %v", err)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	srv, err := sandbox.New(sandbox.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	token := sandboxtest.Token(t, base, srv)

	srv.Faults().FailNext(1, sandbox.FaultHang)
	hung := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v2/users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			err = errors.New("got a response: " + resp.Status)
		}
		hung <- err
	}()
	// Give the request time to reach the handler. Should it arrive after
	// the shutdown began instead, it is refused, which the checks below
	// accept as well: either way no answer may come back.
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := <-hung; err == nil {
		t.Error("the hung request got an answer")
	}
	if _, err := http.Get(base + "/api/v2/users"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}
