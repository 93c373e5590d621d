package sandbox_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
)

func TestJobProgressesWithTheClock(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: 100 * time.Second})
	id := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID

	steps := []struct {
		after       time.Duration
		status      string
		percent     int // -1: absent
		timeLeft    int
		wantSummary bool
	}{
		{0, "pending", -1, 0, false},
		{19 * time.Second, "pending", -1, 0, false},
		{11 * time.Second, "processing", 12, 70, false}, // 30 s in: 10 of the 80 processing seconds
		{50 * time.Second, "processing", 75, 20, false},
		{20 * time.Second, "completed", -1, 0, true},
	}
	for _, st := range steps {
		tn.clock.Advance(st.after)
		j := tn.job(id)
		if j.Status != st.status {
			t.Fatalf("at +%v: status %q, want %q", st.after, j.Status, st.status)
		}
		if st.percent < 0 {
			if j.PercentageDone != nil || j.TimeLeftSeconds != nil {
				t.Errorf("%s job shows progress %v/%v", j.Status, j.PercentageDone, j.TimeLeftSeconds)
			}
		} else if j.PercentageDone == nil || *j.PercentageDone != st.percent || *j.TimeLeftSeconds != st.timeLeft {
			t.Errorf("%s: percentage_done %v, time_left_seconds %v, want %d, %d", j.Status, j.PercentageDone, j.TimeLeftSeconds, st.percent, st.timeLeft)
		}
		if (j.Summary != nil) != st.wantSummary {
			t.Errorf("%s: summary %+v", j.Status, j.Summary)
		}
		if _, found, _ := tn.srv.UserByEmail("a@example.com"); found != (j.Status == "completed") {
			t.Errorf("%s: user present = %v", j.Status, found)
		}
	}
	if j := tn.job(id); *j.Summary != (sandbox.Summary{Inserted: 1, Total: 1}) {
		t.Errorf("summary = %+v", *j.Summary)
	}
}

func TestJobErrorsEndpoint(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: time.Minute})
	clean := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID
	dirty := tn.importJob(usersJSON(`{"email":"nope"}`), false).ID

	// Still running: the job itself comes back.
	r := tn.get("/api/v2/jobs/" + dirty + "/errors")
	var running job
	r.json(t, &running)
	if r.status != http.StatusOK || running.ID != dirty || running.Status != "pending" {
		t.Fatalf("errors of a running job = %d %s", r.status, r.body)
	}

	tn.clock.Advance(time.Minute)
	if r := tn.get("/api/v2/jobs/" + clean + "/errors"); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("errors of a clean job = %d %q, want 204 and no body", r.status, r.body)
	}
	if errs := tn.jobErrors(dirty); len(errs) != 1 || errs[0].Errors[0].Code != "FORMAT" {
		t.Errorf("errors of a job with a bad user = %+v", errs)
	}
	if r := tn.get("/api/v2/jobs/job_doesnotexist0000/errors"); r.status != http.StatusNotFound {
		t.Errorf("errors of an unknown job = %d", r.status)
	}
}

func TestUnreadableFileFailsTheJob(t *testing.T) {
	tests := []struct {
		name, file, wantStatus, wantDetails string
		wantSummary                         *sandbox.Summary
	}{
		{"not JSON", `[{"email":"a@example.com"`, "failed", "not valid JSON", nil},
		{"an object, not an array", `{"email":"a@example.com"}`, "failed", "must be a JSON array", nil},
		{"null", `null`, "failed", "must be a JSON array", nil},
		{"empty file", ``, "failed", "not valid JSON", nil},
		{"empty array", `[]`, "completed", "", &sandbox.Summary{}},
		{"with a byte order mark", "\xef\xbb\xbf[{\"email\":\"a@example.com\"}]", "completed", "", &sandbox.Summary{Inserted: 1, Total: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t, sandbox.Config{})
			j := tn.job(tn.importJob([]byte(tt.file), false).ID)
			if j.Status != tt.wantStatus || !strings.Contains(j.StatusDetails, tt.wantDetails) {
				t.Fatalf("job = %s %q, want %s with %q", j.Status, j.StatusDetails, tt.wantStatus, tt.wantDetails)
			}
			if (j.Summary == nil) != (tt.wantSummary == nil) || (j.Summary != nil && *j.Summary != *tt.wantSummary) {
				t.Errorf("summary = %+v, want %+v", j.Summary, tt.wantSummary)
			}
			if tt.wantStatus == "failed" && tn.jobErrors(j.ID) != nil {
				t.Error("a failed job has per-user errors")
			}
		})
	}
}

func TestJobTimeoutAndRetention(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: 3 * time.Hour})
	id := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID

	tn.clock.Advance(2*time.Hour - time.Second)
	if j := tn.job(id); j.Status != "processing" {
		t.Fatalf("before the timeout: %s", j.Status)
	}
	tn.clock.Advance(time.Second)
	j := tn.job(id)
	if j.Status != "failed" || !strings.Contains(j.StatusDetails, "2 hours") {
		t.Fatalf("after 2 h: %s %q, want failed for timing out", j.Status, j.StatusDetails)
	}
	if _, found, _ := tn.srv.UserByEmail("a@example.com"); found {
		t.Error("a timed-out job imported its user")
	}

	tn.clock.Advance(22*time.Hour - time.Second)
	if r := tn.get("/api/v2/jobs/" + id); r.status != http.StatusOK {
		t.Fatalf("before 24 h: %d", r.status)
	}
	tn.clock.Advance(time.Second)
	tn.token = sandboxtest.Token(t, tn.base, tn.srv) // the first one lived 24 h too
	r := tn.get("/api/v2/jobs/" + id)
	if _, msg, code := r.apiError(t); r.status != http.StatusNotFound || code != "inexistent_job" {
		t.Errorf("after 24 h: %d %q %q, want 404 inexistent_job", r.status, msg, code)
	}
}

func TestOnlyTwoImportJobsAtOnce(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: time.Hour})
	file := usersJSON(`{"email":"a@example.com"}`)
	tn.importJob(file, false)
	tn.importJob(file, false)

	r := tn.postImport(file, false)
	_, msg, _ := r.apiError(t)
	if r.status != http.StatusTooManyRequests ||
		msg != "There are 2 active import users jobs, please wait until some of them are finished and try again" {
		t.Fatalf("third job = %d %q", r.status, msg)
	}
	if n, _ := tn.srv.ActiveImports(); n != 2 {
		t.Errorf("active imports = %d, want 2 (the refused job must not exist)", n)
	}
	tn.clock.Advance(time.Hour)
	tn.importJob(file, false)
}

func TestFileSizeLimit(t *testing.T) {
	const limit = 2000
	tn := newTenant(t, sandbox.Config{MaxFileSize: limit})
	fileOf := func(size int) []byte {
		head := `[{"email":"a@example.com","user_metadata":{"pad":"`
		tail := `"}}]`
		return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
	}
	if r := tn.postImport(fileOf(limit), false); r.status != http.StatusCreated {
		t.Fatalf("file of exactly %d bytes = %d %s, want 201", limit, r.status, r.body)
	}
	tn.clock.Advance(time.Second)
	r := tn.postImport(fileOf(limit+1), false)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("file of %d bytes = %d %s, want 413", limit+1, r.status, r.body)
	}
	if _, msg, _ := r.apiError(t); msg != "Payload content length greater than maximum allowed: "+strconv.Itoa(limit) {
		t.Errorf("message = %q", msg)
	}
	// A huge body is refused by its declared length before it is read.
	ct, body := importForm(t, bytes.Repeat([]byte("x"), 100<<10), map[string]string{"connection_id": tn.srv.ConnectionID()})
	if r := tn.do(http.MethodPost, "/api/v2/jobs/users-imports", ct, body); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 KiB body = %d", r.status)
	}
}

func TestRateLimitHeadersAndRefusal(t *testing.T) {
	tn := newTenant(t, sandbox.Config{RateLimit: 2, RateBurst: 2})
	start := tn.clock.Now().Unix()
	steps := []struct {
		advance       time.Duration
		wantStatus    int
		wantRemaining string
		wantReset     int64 // seconds after start
	}{
		{0, 200, "1", 1},
		{0, 200, "0", 1},
		{0, 429, "0", 1},
		{500 * time.Millisecond, 200, "0", 2}, // one token back after half a second; full again 1 s later
		{time.Second, 200, "1", 2},
	}
	for i, st := range steps {
		tn.clock.Advance(st.advance)
		r := tn.get("/api/v2/users")
		h := r.header
		if r.status != st.wantStatus || h.Get("x-ratelimit-limit") != "2" || h.Get("x-ratelimit-remaining") != st.wantRemaining ||
			h.Get("x-ratelimit-reset") != strconv.FormatInt(start+st.wantReset, 10) {
			t.Errorf("request %d: %d limit=%s remaining=%s reset=%s, want %d remaining=%s reset=%d",
				i, r.status, h.Get("x-ratelimit-limit"), h.Get("x-ratelimit-remaining"), h.Get("x-ratelimit-reset"),
				st.wantStatus, st.wantRemaining, start+st.wantReset)
		}
		if r.status == http.StatusTooManyRequests {
			if _, _, code := r.apiError(t); code != "too_many_requests" {
				t.Errorf("429 errorCode = %q", code)
			}
		}
	}
	// The token endpoint is not part of the Management API's bucket.
	for tn.get("/api/v2/users").status != http.StatusTooManyRequests {
	}
	sandboxtest.Token(t, tn.base, tn.srv)
}

func TestRateLimitStorm(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Faults().RateLimitNext(2)
	for i, want := range []int{429, 429, 200} {
		r := tn.get("/api/v2/users")
		if r.status != want {
			t.Errorf("request %d = %d, want %d", i, r.status, want)
		}
		if want == 429 && (r.header.Get("x-ratelimit-remaining") != "0" || r.header.Get("x-ratelimit-reset") == "") {
			t.Errorf("storm 429 headers: %v", r.header)
		}
	}
}
