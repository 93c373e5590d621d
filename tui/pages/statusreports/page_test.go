package statusreports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/engine/run"
	"provision/engine/run/reconcile"
	"provision/storage"
	"provision/tui/internal/tuitest"
)

func mustContain(t *testing.T, view string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(view, w) {
			t.Errorf("the page lacks %q:\n%s", w, view)
		}
	}
}

func TestReconciliationOfTheDemoRun(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	tuitest.DemoRun(t, ws)
	m := New(tuitest.Common(ws))
	m.SetSize(78, 21)
	m.Update(m.Init()())
	r := m.data.report
	if r == nil {
		t.Fatalf("no report: %v", m.data.err)
	}
	if r.Sum() != 300 || r.Rows != 300 || r.Buckets[reconcile.Inserted] != 284 {
		t.Fatalf("buckets %v of %d rows", r.Buckets, r.Rows)
	}
	mustContain(t, m.View(), "The run is finished", "exports/demo-users.csv", "✓ inserted", "284", "quarantined", "13",
		"skipped", "source rows", "300", "every row in exactly one bucket", "canary", "rest")

	// The tabs: failed by code, quarantined by code, failed users.
	m.Update(tuitest.Key("tab"))
	mustContain(t, m.View(), "ERROR CODE", "No user failed at the target.")
	m.Update(tuitest.Key("tab"))
	mustContain(t, m.View(), "FINDING CODE", "EMAIL_INVALID")
	if got := len(m.tables[tabQuarantinedCodes].Rows()); got != len(r.QuarantinedByCode) {
		t.Errorf("%d codes shown, %d in the report", got, len(r.QuarantinedByCode))
	}
	m.Update(tuitest.Key("tab"))
	m.Update(tuitest.Key("tab"))
	if m.tab != tabStages {
		t.Errorf("tab wraps around to %d", m.tab)
	}
}

func TestExportEveryFormat(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	tuitest.DemoRun(t, ws)
	m := New(tuitest.Common(ws))
	m.SetSize(78, 21)
	m.Update(m.Init()())
	m.Update(tuitest.Key("e"))
	if m.form == nil || !m.Capturing() {
		t.Fatal("e should offer the formats")
	}
	mustContain(t, m.View(), "Export the reconciliation", "Markdown", "JSON", "CSV")
	m.formFormat = "all"
	_, cmd := m.Update(formDoneMsg{})
	m.Update(cmd())
	if m.flashError {
		t.Fatal(m.flash)
	}
	mustContain(t, m.View(), "Wrote reconciliation.md, reconciliation.json, reconciliation.csv")
	for _, name := range []string{"reconciliation.md", "reconciliation.json", "reconciliation.csv"} {
		path := filepath.Join(ws.Dir(), ReportsDir, name)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v, want 0600", name, st.Mode().Perm())
		}
	}
	csv, _ := os.ReadFile(filepath.Join(ws.Dir(), ReportsDir, "reconciliation.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != 301 {
		t.Errorf("the CSV has %d lines, want a header and 300 rows", lines)
	}
	md, _ := os.ReadFile(filepath.Join(ws.Dir(), ReportsDir, "reconciliation.md"))
	if !strings.Contains(string(md), "284") {
		t.Errorf("the Markdown report lacks the inserted count:\n%s", md)
	}
}

func TestNoRunYet(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	m := New(tuitest.Common(ws))
	m.SetSize(78, 21)
	m.Update(m.Init()())
	mustContain(t, m.View(), "No run yet")
	if _, cmd := m.Update(tuitest.Key("e")); cmd != nil || m.form != nil {
		t.Error("nothing to export without a run")
	}
}

// While a run of this process holds the journal and has published no
// status yet, the page says so instead of blocking.
func TestJournalInUse(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	tuitest.DemoRun(t, ws)
	j, err := storage.Open(ws.JournalPath(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	m := New(tuitest.Common(ws))
	m.SetSize(78, 21)
	m.Update(m.Init()())
	if m.data.report != nil {
		t.Fatal("a held journal cannot be reconciled")
	}
	mustContain(t, m.View(), "A run is starting", "r refreshes")
}

// A running migration's published status stands in for the journal it
// holds: counts by bucket, and the reconciliation when it stops.
func TestLiveStatusFromTheSnapshot(t *testing.T) {
	tuitest.Chdir(t)
	ws := tuitest.DemoWorkspace(t)
	tuitest.DemoRun(t, ws)
	j, err := storage.Open(ws.JournalPath(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	st, err := j.Status(0)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := json.Marshal(run.Snapshot{PID: os.Getpid(), Host: "here", Written: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), Status: st})
	if err := os.WriteFile(run.SnapshotPath(ws.JournalPath()), snap, 0o600); err != nil {
		t.Fatal(err)
	}
	tuitest.FixedZone()
	m := New(tuitest.Common(ws))
	m.SetSize(100, 30)
	m.Update(m.Init()())
	if m.data.live == nil {
		t.Fatalf("no live status: %v", m.data.err)
	}
	mustContain(t, m.View(), "A run is active (Run migration, here); its status as of 09:30:00", "rows so far", "284", "registered so far", "Stages 2")
	m.Update(tuitest.Key("e"))
	if m.form != nil || !m.flashError {
		t.Error("no export while the run holds the journal")
	}
}
