package workspace

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"provision/fixtures"
)

func TestInitDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".provision")
	if Exists(dir) {
		t.Fatal("Exists before creation")
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing workspace: %v", err)
	}
	w, err := InitDemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !Exists(dir) {
		t.Fatal("no workspace after InitDemo")
	}
	for _, d := range []string{dir, w.ExportsPath(), w.CredentialsPath(), filepath.Dir(w.QuarantinePath("x.csv")), filepath.Dir(w.LogPath())} {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v; want 0700", d, err, st.Mode().Perm())
		}
	}
	for path, want := range map[string][]byte{w.DemoExportPath(): fixtures.DemoUsers, w.DemoCredentialsPath(): fixtures.DemoCredentials} {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v, %d bytes; want the embedded fixture", path, err, len(got))
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", path, st.Mode().Perm())
		}
	}
	st := w.Status()
	if !st.Demo || st.Plan.Exists || st.Journal.Exists {
		t.Errorf("status = %+v", st)
	}
	if !reflect.DeepEqual(st.Exports, []string{DemoExportName}) || !reflect.DeepEqual(st.Credentials, []string{DemoCredentialsName}) {
		t.Errorf("exports %v, credentials %v", st.Exports, st.Credentials)
	}
}

func TestInitDemoKeepsEditedFiles(t *testing.T) {
	dir := t.TempDir()
	w, err := InitDemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.DemoCredentialsPath(), []byte("email,password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := InitDemo(dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(w.DemoCredentialsPath()); string(got) != "email,password\n" {
		t.Errorf("InitDemo overwrote an edited file: %q", got)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(w.CredentialsPath())
	if len(entries) != 1 {
		t.Errorf("credentials/ holds %d files", len(entries))
	}
}

func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	os.WriteFile(path, nil, 0o600)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open of a file: %v", err)
	}
}

func TestStatusSeesPlanAndJournal(t *testing.T) {
	w, err := Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(w.PlanPath(), []byte("version: 1\n"), 0o600)
	os.WriteFile(w.JournalPath(), make([]byte, 4096), 0o600)
	st := w.Status()
	if !st.Plan.Exists || !st.Journal.Exists || st.Journal.Size != 4096 || st.Demo {
		t.Errorf("status = %+v", st)
	}
}

func TestLoggerWaitsForWorkspace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	log, closer := Logger(dir, slog.LevelInfo)
	defer closer.Close()
	log.Info("before")
	if Exists(dir) {
		t.Fatal("logging created the workspace")
	}
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("after", "rows", 3)
	data, err := os.ReadFile(w.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "before") || !strings.Contains(string(data), "msg=after rows=3") {
		t.Errorf("log = %q", data)
	}
	if st, _ := os.Stat(w.LogPath()); st.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", st.Mode().Perm())
	}
}
