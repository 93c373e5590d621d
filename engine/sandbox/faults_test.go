package sandbox_test

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"provision/engine/sandbox"
)

func TestScriptedRequestFaults(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Faults().FailNext(1, sandbox.FaultInternalError)
	tn.srv.Faults().FailNext(1, sandbox.FaultUnavailable)
	for i, want := range []int{500, 503, 200} {
		r := tn.get("/api/v2/users")
		if r.status != want {
			t.Fatalf("request %d = %d, want %d", i, r.status, want)
		}
		if want != 200 {
			r.apiError(t)
		}
	}
}

func TestHungRequestEndsWhenTheClientGivesUp(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Faults().FailNext(1, sandbox.FaultHang)
	client := &http.Client{Timeout: 100 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodGet, tn.base+"/api/v2/users", nil)
	req.Header.Set("Authorization", "Bearer "+tn.token)
	_, err := client.Do(req)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("hung request: err = %v, want a client timeout", err)
	}
	if r := tn.get("/api/v2/users"); r.status != http.StatusOK {
		t.Errorf("next request = %d", r.status)
	}
}

// The ambiguous submission: the job exists although the client saw a 500.
func TestImportFailingAfterTheJobIsCreated(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDuration: time.Minute})
	tn.srv.Faults().FailImportsAfterCreate(1)
	r := tn.postImport(usersJSON(`{"email":"a@example.com"}`), false)
	if r.status != http.StatusInternalServerError {
		t.Fatalf("POST = %d %s, want 500", r.status, r.body)
	}
	if n, _ := tn.srv.ActiveImports(); n != 1 {
		t.Fatalf("active imports = %d, want the job to exist", n)
	}
	tn.clock.Advance(time.Minute)
	mustUser(t, tn.srv, "a@example.com")

	// Resubmitting without upsert meets the user the hidden job created.
	tn.srv.Faults().SetJobDuration(0)
	j, errs := tn.runImport(usersJSON(`{"email":"a@example.com"}`), false)
	if j.Summary.Failed != 1 || errs[0].Errors[0].Code != "DUPLICATED_USER" {
		t.Errorf("resubmission = %+v %+v", *j.Summary, errs)
	}
	if c, _ := tn.srv.ImportCount("a@example.com"); c.Inserted != 1 {
		t.Errorf("user inserted %d times", c.Inserted)
	}
}

func TestFailedJobsImportNobody(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Faults().FailNextJobs(1)
	j := tn.job(tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID)
	if j.Status != "failed" || j.StatusDetails == "" || j.Summary != nil {
		t.Fatalf("job = %+v, want failed with details", j)
	}
	if tn.jobErrors(j.ID) != nil {
		t.Error("a failed job lists per-user errors")
	}
	if users, _ := tn.srv.Users(); len(users) != 0 {
		t.Errorf("a failed job imported %d users", len(users))
	}
	if j := tn.job(tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID); j.Status != "completed" {
		t.Errorf("the next job = %s", j.Status)
	}
}

func TestFaultRates(t *testing.T) {
	tn := newTenant(t, sandbox.Config{FailRate: 1, FailKinds: []sandbox.FaultKind{sandbox.FaultUnavailable}, Seed: 7})
	for range 5 {
		if r := tn.get("/api/v2/users"); r.status != http.StatusServiceUnavailable {
			t.Fatalf("with fail rate 1: %d", r.status)
		}
	}
	tn.srv.Faults().SetFailRate(0)
	tn.srv.Faults().SetJobFailRate(1)
	if j := tn.job(tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID); j.Status != "failed" {
		t.Errorf("with job fail rate 1: %s", j.Status)
	}
	tn.srv.Faults().Reset()
	if j := tn.job(tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID); j.Status != "completed" {
		t.Errorf("after Reset: %s", j.Status)
	}

	// A fractional rate fails about that share of requests.
	tn.srv.Faults().SetFailRate(0.3, sandbox.FaultInternalError)
	failed := 0
	for range 400 {
		if tn.get("/api/v2/users").status == http.StatusInternalServerError {
			failed++
		}
	}
	if failed < 80 || failed > 160 {
		t.Errorf("%d of 400 requests failed at rate 0.3", failed)
	}
}

func TestSetJobDuration(t *testing.T) {
	tn := newTenant(t, sandbox.Config{})
	tn.srv.Faults().SetJobDuration(time.Hour)
	id := tn.importJob(usersJSON(`{"email":"a@example.com"}`), false).ID
	if j := tn.job(id); j.Status != "pending" {
		t.Fatalf("slow job = %s", j.Status)
	}
	tn.clock.Advance(time.Hour)
	if j := tn.job(id); j.Status != "completed" {
		t.Errorf("slow job after an hour = %s", j.Status)
	}
}
