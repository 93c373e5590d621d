package sandbox_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"provision/engine/sandbox"
)

func download(t *testing.T, url string) (*http.Response, []map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatalf("export is not gzip: %v", err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("export line %q is not JSON: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return resp, lines
}

func TestExportRoundTrip(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: 10 * time.Second})
	if _, errs, err := tn.srv.Import(false,
		importUser("a@example.com", `{"plan":"gold"}`),
		importUser("b@example.com", `{"plan":"free"}`),
		importUser("c@example.com", ``)); err != nil || errs != nil {
		t.Fatalf("seed: %v %+v", err, errs)
	}

	r := tn.sendJSON(http.MethodPost, "/api/v2/jobs/users-exports", map[string]any{
		"connection_id": tn.srv.ConnectionID(), "format": "json", "limit": 5,
		"fields": []map[string]string{{"name": "email"}, {"name": "user_metadata.plan", "export_as": "plan"}, {"name": "identities[0].connection"}},
	})
	if r.status != http.StatusCreated {
		t.Fatalf("POST users-exports = %d %s", r.status, r.body)
	}
	var created map[string]any
	r.json(t, &created)
	if created["type"] != "users_export" || created["status"] != "pending" || created["format"] != "json" ||
		created["connection"] != tn.srv.ConnectionName() || created["location"] != nil {
		t.Errorf("created job = %v", created)
	}
	id := created["id"].(string)

	if j := tn.job(id); j.Status != "pending" || j.Location != "" {
		t.Fatalf("export job before its time = %+v", j)
	}
	tn.clock.Advance(10 * time.Second)
	j := tn.job(id)
	if j.Status != "completed" || j.Location == "" {
		t.Fatalf("finished export = %+v", j)
	}
	resp, lines := download(t, j.Location)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download = %d", resp.StatusCode)
	}
	want := []map[string]any{
		{"email": "a@example.com", "plan": "gold", "identities[0].connection": tn.srv.ConnectionName()},
		{"email": "b@example.com", "plan": "free", "identities[0].connection": tn.srv.ConnectionName()},
		{"email": "c@example.com", "identities[0].connection": tn.srv.ConnectionName()},
	}
	if len(lines) != len(want) {
		t.Fatalf("export has %d lines, want %d: %v", len(lines), len(want), lines)
	}
	for i := range want {
		if len(lines[i]) != len(want[i]) {
			t.Errorf("line %d = %v, want %v", i, lines[i], want[i])
		}
		for k, v := range want[i] {
			if lines[i][k] != v {
				t.Errorf("line %d %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
	}

	// The link dies after 60 s; looking at the job again gives a new one.
	tn.clock.Advance(sandbox.ExportLinkLifetime)
	if resp, _ := download(t, j.Location); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired link = %d, want 403", resp.StatusCode)
	}
	fresh := tn.job(id).Location
	if resp, lines := download(t, fresh); resp.StatusCode != http.StatusOK || len(lines) != 3 {
		t.Errorf("fresh link = %d with %d lines", resp.StatusCode, len(lines))
	}
	if resp, _ := download(t, fresh+"x"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered link = %d, want 403", resp.StatusCode)
	}
}

func TestExportWithoutFieldsHasFullProfilesAndNoSecrets(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	u := importUser("a@example.com", `{"k":"v"}`)
	u.PasswordHash = bcryptOf(t, "pw")
	tn.srv.Import(false, u)

	r := tn.sendJSON(http.MethodPost, "/api/v2/jobs/users-exports", map[string]any{"format": "json"})
	var created job
	r.json(t, &created)
	j := tn.job(created.ID)
	_, lines := download(t, j.Location)
	if len(lines) != 1 {
		t.Fatalf("lines = %v", lines)
	}
	for _, k := range []string{"user_id", "email", "identities", "created_at", "user_metadata"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("export lacks %s: %v", k, lines[0])
		}
	}
	for _, k := range []string{"password_hash", "custom_password_hash", "mfa_factors"} {
		if _, ok := lines[0][k]; ok {
			t.Errorf("export holds %s", k)
		}
	}
}

func TestExportRejectsBadRequests(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	for _, body := range []map[string]any{
		{"format": "xml"},
		{"format": "csv"},
		{"limit": 0},
		{"connection_id": "con_bad"},
		{"connection_id": "con_AAAAAAAAAAAAAAAA"},
		{"fields": []map[string]string{{"export_as": "x"}}},
		{"surprise": true},
	} {
		if r := tn.sendJSON(http.MethodPost, "/api/v2/jobs/users-exports", body); r.status != http.StatusBadRequest {
			t.Errorf("%v = %d %s, want 400", body, r.status, r.body)
		}
	}
}
