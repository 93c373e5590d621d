package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
)

// tenant is a sandbox under test with a client holding a token.
type tenant struct {
	t     *testing.T
	base  string
	srv   *sandbox.Server
	clock *sandboxtest.Clock
	token string
}

func newTenant(t *testing.T, cfg sandbox.Config) *tenant {
	t.Helper()
	clock := sandboxtest.NewClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	base, srv := sandboxtest.Start(t, cfg)
	return &tenant{t: t, base: base, srv: srv, clock: clock, token: sandboxtest.Token(t, base, srv)}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError decodes a Management API error body.
func (r response) apiError(t *testing.T) (status int, message, code string) {
	t.Helper()
	var e struct {
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
		ErrorCode  string `json:"errorCode"`
	}
	r.json(t, &e)
	if e.StatusCode != r.status || e.Error != http.StatusText(r.status) {
		t.Errorf("error body %s does not match status %d", r.body, r.status)
	}
	return e.StatusCode, e.Message, e.ErrorCode
}

func (tn *tenant) do(method, path, contentType string, body io.Reader) response {
	tn.t.Helper()
	req, err := http.NewRequest(method, tn.base+path, body)
	if err != nil {
		tn.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tn.token != "" {
		req.Header.Set("Authorization", "Bearer "+tn.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tn.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tn.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (tn *tenant) get(path string) response { return tn.do(http.MethodGet, path, "", nil) }

func (tn *tenant) sendJSON(method, path string, v any) response {
	tn.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tn.t.Fatal(err)
	}
	return tn.do(method, path, "application/json", bytes.NewReader(b))
}

// importForm builds a users-imports body.
func importForm(t *testing.T, users []byte, fields map[string]string) (string, io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if users != nil {
		fw, err := mw.CreateFormFile("users", "users.json")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(users)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func (tn *tenant) postImport(users []byte, upsert bool) response {
	tn.t.Helper()
	ct, body := importForm(tn.t, users, map[string]string{
		"connection_id": tn.srv.ConnectionID(), "upsert": strconv.FormatBool(upsert), "send_completion_email": "false",
	})
	return tn.do(http.MethodPost, "/api/v2/jobs/users-imports", ct, body)
}

type job struct {
	ID              string           `json:"id"`
	Type            string           `json:"type"`
	Status          string           `json:"status"`
	ConnectionID    string           `json:"connection_id"`
	ExternalID      string           `json:"external_id"`
	CreatedAt       string           `json:"created_at"`
	PercentageDone  *int             `json:"percentage_done"`
	TimeLeftSeconds *int             `json:"time_left_seconds"`
	StatusDetails   string           `json:"status_details"`
	Location        string           `json:"location"`
	Summary         *sandbox.Summary `json:"summary"`
	Upsert          *bool            `json:"upsert"`
}

// importJob submits users and returns the created job.
func (tn *tenant) importJob(users []byte, upsert bool) job {
	tn.t.Helper()
	r := tn.postImport(users, upsert)
	if r.status != http.StatusCreated {
		tn.t.Fatalf("POST users-imports = %d %s, want 201", r.status, r.body)
	}
	var j job
	r.json(tn.t, &j)
	return j
}

func (tn *tenant) job(id string) job {
	tn.t.Helper()
	r := tn.get("/api/v2/jobs/" + id)
	if r.status != http.StatusOK {
		tn.t.Fatalf("GET job = %d %s", r.status, r.body)
	}
	var j job
	r.json(tn.t, &j)
	return j
}

// runImport imports users with jobs that finish at once and returns the
// finished job and its errors.
func (tn *tenant) runImport(users []byte, upsert bool) (job, []sandbox.JobUserError) {
	tn.t.Helper()
	j := tn.job(tn.importJob(users, upsert).ID)
	if j.Status != "completed" {
		tn.t.Fatalf("job status = %q (%s), want completed", j.Status, j.StatusDetails)
	}
	return j, tn.jobErrors(j.ID)
}

func (tn *tenant) jobErrors(id string) []sandbox.JobUserError {
	tn.t.Helper()
	r := tn.get("/api/v2/jobs/" + id + "/errors")
	switch r.status {
	case http.StatusNoContent:
		return nil
	case http.StatusOK:
		var errs []sandbox.JobUserError
		r.json(tn.t, &errs)
		return errs
	}
	tn.t.Fatalf("GET job errors = %d %s", r.status, r.body)
	return nil
}

func (tn *tenant) login(username, password string) response {
	tn.t.Helper()
	form := url.Values{
		"grant_type": {"http://auth0.com/oauth/grant-type/password-realm"},
		"client_id":  {tn.srv.ClientID()}, "client_secret": {tn.srv.ClientSecret()},
		"username": {username}, "password": {password}, "realm": {tn.srv.ConnectionName()},
		"scope": {"openid profile email"},
	}
	resp, err := http.PostForm(tn.base+"/oauth/token", form)
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// usersJSON builds an import file from JSON object literals.
func usersJSON(objects ...string) []byte {
	return []byte("[" + strings.Join(objects, ",") + "]")
}

func mustUser(t *testing.T, srv *sandbox.Server, email string) sandbox.User {
	t.Helper()
	u, ok, err := srv.UserByEmail(email)
	if err != nil || !ok {
		t.Fatalf("user %s: found=%v err=%v", email, ok, err)
	}
	return u
}
