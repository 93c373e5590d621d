package auth0

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/engine/target"
)

var jobPending = map[string]any{"id": "job_0123456789abcdef", "type": "users_import", "status": "pending", "connection_id": testConn}

func TestTokenIsCachedSharedAndRefreshedOnceOn401(t *testing.T) {
	f := newFakeTenant(t)
	f.handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "job_1", "status": "processing", "percentage_done": 40, "time_left_seconds": 12})
	})
	var logs bytes.Buffer
	c := f.client(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Job(ctx, "job_1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := f.count("POST /oauth/token"); n != 1 {
		t.Fatalf("20 concurrent calls fetched %d tokens, want 1", n)
	}

	f.revokeToken()
	j, err := c.Job(ctx, "job_1")
	if err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if j.Status != target.StatusProcessing || j.PercentageDone != 40 || j.TimeLeft != 12*time.Second {
		t.Errorf("job = %+v", j)
	}
	if n := f.count("POST /oauth/token"); n != 2 {
		t.Errorf("token requests = %d, want 2 (one refresh after the 401)", n)
	}

	// A token the tenant keeps refusing is refreshed once, not forever.
	f.handle("GET /api/v2/jobs/job_2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
	})
	_, err = c.Job(ctx, "job_2")
	if !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("err = %v, want ErrBadCredentials", err)
	}
	if n := f.count("GET /api/v2/jobs/job_2"); n != 2 {
		t.Errorf("refused calls = %d, want 2", n)
	}
	for _, leak := range []string{testSecret, "token-1", "token-2"} {
		if strings.Contains(logs.String(), leak) || strings.Contains(err.Error(), leak) {
			t.Errorf("log or error holds %q", leak)
		}
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFakeTenant(t)
	f.expiresIn = 600 // renewed 5 minutes early: after 300 s
	f.handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, jobPending) })
	c := f.client(t)
	now := time.Now()
	c.now = func() time.Time { return now }
	for _, step := range []struct {
		advance    time.Duration
		wantTokens int
	}{{0, 1}, {299 * time.Second, 1}, {2 * time.Second, 2}, {time.Second, 2}} {
		now = now.Add(step.advance)
		if _, err := c.Job(context.Background(), "job_1"); err != nil {
			t.Fatal(err)
		}
		if n := f.count("POST /oauth/token"); n != step.wantTokens {
			t.Fatalf("after %v more: %d token requests, want %d", step.advance, n, step.wantTokens)
		}
	}
}

func TestTokenErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name     string
		secret   Secret
		fault    *fault
		wantKind error
		wantText string
	}{
		{"wrong secret", "wrong", nil, ErrBadCredentials, "AUTH0_CLIENT_SECRET"},
		{"not authorized", testSecret, &fault{status: 403, body: `{"error":"access_denied","error_description":"Client is not authorized to access \"https://acme/api/v2/\". You need to create a \"client-grant\" associated to this API."}`},
			ErrClientNotAuthorized, "Machine To Machine Applications"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTenant(t)
			if tt.fault != nil {
				f.fail("POST /oauth/token", *tt.fault)
			}
			c := f.client(t, func(c *Config) { c.Credentials.ClientSecret = tt.secret })
			_, err := c.Job(context.Background(), "job_1")
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantKind, tt.wantText)
			}
			if strings.Contains(err.Error(), string(tt.secret)) {
				t.Fatal("error holds the secret")
			}
			if n := f.count("POST /oauth/token"); n != 1 {
				t.Errorf("token requests = %d; a refusal must not be retried", n)
			}
		})
	}
}

func TestSubmitSendsDocumentedForm(t *testing.T) {
	f := newFakeTenant(t)
	c := f.client(t)
	data := []byte(`[{"email":"ana@example.com","password_hash":"$2b$10$abc"}]`)
	j, err := c.Submit(context.Background(), target.Submission{Seq: 3, Data: data, Users: 1, Upsert: true, ExternalID: "run-7/chunk-3"})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != "job_0123456789abcdef" || j.Status != target.StatusPending || j.ExternalID != "run-7/chunk-3" || j.CreatedAt.IsZero() {
		t.Errorf("job = %+v", j)
	}
	want := map[string]string{"connection_id": testConn, "upsert": "true", "send_completion_email": "false", "external_id": "run-7/chunk-3"}
	for k, v := range want {
		if f.lastForm[k] != v {
			t.Errorf("form %s = %q, want %q", k, f.lastForm[k], v)
		}
	}
	if !bytes.Equal(f.lastFile, data) {
		t.Errorf("users part = %s, want the file unchanged", f.lastFile)
	}
	if ct := f.lastFileHdr["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("users part content type = %v", ct)
	}
	if cd := f.lastFileHdr["Content-Disposition"]; len(cd) != 1 || !strings.Contains(cd[0], `filename="users-0003.json"`) {
		t.Errorf("users part disposition = %v", cd)
	}

	c2 := f.client(t, func(c *Config) { c.SendCompletionEmail = true })
	if _, err := c2.Submit(context.Background(), target.Submission{Seq: 1, Data: data, Users: 1}); err != nil {
		t.Fatal(err)
	}
	if f.lastForm["send_completion_email"] != "true" || f.lastForm["upsert"] != "false" {
		t.Errorf("form = %v", f.lastForm)
	}
	if _, ok := f.lastForm["external_id"]; ok {
		t.Error("an empty external_id must not be sent")
	}
}

func TestSubmitOutcomes(t *testing.T) {
	sub := target.Submission{Seq: 1, Data: []byte(`[{"email":"a@example.com"}]`), Users: 1}
	tests := []struct {
		name        string
		faults      []fault
		wantErr     error // nil: success
		notErr      error
		wantPosts   int
		wantMessage string
	}{
		{"429 twice then accepted", []fault{
			{status: 429, header: map[string]string{"Retry-After": "0"}, body: `{"statusCode":429,"error":"Too Many Requests","message":"There are too many active import jobs"}`},
			{status: 429, body: `{"statusCode":429}`},
		}, nil, nil, 3, ""},
		{"500 is ambiguous", []fault{{status: 500, body: `{"statusCode":500,"error":"Internal Server Error"}`}}, ErrAmbiguousSubmit, nil, 1, "users-0001.json"},
		{"503 is ambiguous", []fault{{status: 503}}, ErrAmbiguousSubmit, nil, 1, "may exist"},
		{"hang-up after sending is ambiguous", []fault{{hangUp: true}}, ErrAmbiguousSubmit, nil, 1, "upsert"},
		// More 429s than MaxAttempts allows other requests: a submit waits
		// for a free import slot as long as MaxSubmitWait allows.
		{"429 without a wait is patient", []fault{{status: 429}, {status: 429}, {status: 429}, {status: 429}, {status: 429}}, nil, nil, 6, ""},
		{"413", []fault{{status: 413, body: `{"statusCode":413,"error":"Request Entity Too Large","message":"payload too large"}`}}, ErrFileTooLarge, ErrAmbiguousSubmit, 1, "500 KB"},
		{"400 on connection", []fault{{status: 400, body: `{"statusCode":400,"error":"Bad Request","message":"connection not found","errorCode":"invalid_body"}`}}, ErrUnknownConnection, ErrAmbiguousSubmit, 1, "--connection"},
		{"403 scope", []fault{{status: 403, body: `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: create:users","errorCode":"insufficient_scope"}`}}, ErrInsufficientScope, ErrAmbiguousSubmit, 1, "Grant create:users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTenant(t)
			f.fail("POST /api/v2/jobs/users-imports", tt.faults...)
			c := f.client(t)
			j, err := c.Submit(context.Background(), sub)
			if n := f.count("POST /api/v2/jobs/users-imports"); n != tt.wantPosts {
				t.Errorf("POSTs = %d, want %d", n, tt.wantPosts)
			}
			if tt.wantErr == nil {
				if err != nil || j.ID == "" {
					t.Fatalf("got %+v, %v; want a job", j, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMessage)
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Fatalf("err = %v must not be %v", err, tt.notErr)
			}
		})
	}
}

func TestRateLimitedUntilPatienceRunsOut(t *testing.T) {
	f := newFakeTenant(t)
	f.handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, jobPending) })
	storm := fault{status: 429, header: map[string]string{"Retry-After": "0"}, body: `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`}
	f.fail("GET /api/v2/jobs/job_1", storm, storm, storm, storm)
	f.fail("POST /api/v2/jobs/users-imports", fault{status: 429})
	c := f.client(t, func(c *Config) { c.Retry.MaxSubmitWait = time.Nanosecond })

	_, err := c.Job(context.Background(), "job_1")
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "Global limit") || f.count("GET /api/v2/jobs/job_1") != 4 {
		t.Errorf("err = %v after %d GETs; want ErrRateLimited after MaxAttempts (4)", err, f.count("GET /api/v2/jobs/job_1"))
	}
	_, err = c.Submit(context.Background(), target.Submission{Seq: 1, Data: []byte(`[]`)})
	if !errors.Is(err, ErrRateLimited) || errors.Is(err, ErrAmbiguousSubmit) || !strings.Contains(err.Error(), "wait and run again") {
		t.Errorf("err = %v; want ErrRateLimited, not ambiguous", err)
	}
}

func TestSubmitBeforeSendingIsRetriedNotAmbiguous(t *testing.T) {
	// A tenant that cannot be reached never saw the request.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ep, _ := ParseTargetSpec("auth0:http://" + addr)
	c, _ := New(Config{Endpoint: ep, Credentials: Credentials{ClientID: "x", ClientSecret: "y"}, ConnectionID: testConn,
		Retry: RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	c.tokens.token, c.tokens.renewAt = "preset", time.Now().Add(time.Hour)
	start := time.Now()
	_, err = c.Submit(context.Background(), target.Submission{Seq: 1, Data: []byte(`[]`)})
	if err == nil || errors.Is(err, ErrAmbiguousSubmit) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("err = %v; want a plain connection error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v; an unreachable tenant gets MaxAttempts, not MaxSubmitWait", took)
	}
	if _, err := c.UsersByEmail(context.Background(), "private.person@example.com"); err == nil || strings.Contains(err.Error(), "private.person") {
		t.Errorf("err = %v; want a connection error that does not repeat the email", err)
	}
}

func TestIdempotentRequestsRetry5xxAndNetworkErrors(t *testing.T) {
	f := newFakeTenant(t)
	f.handle("GET /api/v2/jobs/job_1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "job_1", "status": "completed", "summary": map[string]int{"inserted": 7, "updated": 1, "failed": 2, "total": 10}})
	})
	f.handle("DELETE /api/v2/users/auth0|abc/def", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	f.fail("GET /api/v2/jobs/job_1", fault{status: 503}, fault{hangUp: true}, fault{status: 502})
	f.fail("DELETE /api/v2/users/auth0|abc/def", fault{status: 500})
	c := f.client(t)
	j, err := c.Job(context.Background(), "job_1")
	if err != nil {
		t.Fatal(err)
	}
	if j.Summary != (target.Summary{Inserted: 7, Updated: 1, Failed: 2, Total: 10}) || !j.Status.Terminal() {
		t.Errorf("job = %+v", j)
	}
	if err := c.DeleteUser(context.Background(), "auth0|abc/def"); err != nil {
		t.Fatal(err)
	}
	if n := f.count("DELETE /api/v2/users/auth0|abc/def"); n != 2 {
		t.Errorf("DELETEs = %d, want 2", n)
	}

	f.fail("GET /api/v2/jobs/job_1", fault{status: 500}, fault{status: 500}, fault{status: 500}, fault{status: 500})
	if _, err := c.Job(context.Background(), "job_1"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want the last 500 once retries run out", err)
	}
}

func TestErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		name     string
		route    string
		call     func(*Client) error
		fault    fault
		wantKind error
		wantText []string
	}{
		{"missing scope", "GET /api/v2/users-by-email",
			func(c *Client) error { _, err := c.UsersByEmail(context.Background(), "a@b.co"); return err },
			fault{status: 403, body: `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users","errorCode":"insufficient_scope"}`},
			ErrInsufficientScope, []string{"read:users", "Permissions"}},
		{"unknown connection", "GET /api/v2/connections/" + testConn,
			func(c *Client) error { _, err := c.Connection(context.Background(), ""); return err },
			fault{status: 404, body: `{"statusCode":404,"error":"Not Found","message":"The connection does not exist","errorCode":"inexistent_connection"}`},
			ErrUnknownConnection, []string{"--connection", "inexistent_connection"}},
		{"job gone", "GET /api/v2/jobs/job_old",
			func(c *Client) error { _, err := c.Job(context.Background(), "job_old"); return err },
			fault{status: 404, body: `{"statusCode":404,"error":"Not Found","message":"The job does not exist"}`},
			ErrNotFound, []string{"get job job_old", "404"}},
		{"html error page", "GET /api/v2/jobs/job_x",
			func(c *Client) error { _, err := c.Job(context.Background(), "job_x"); return err },
			fault{status: 400, body: `<html><body>bad</body></html>`},
			nil, []string{"400 Bad Request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTenant(t)
			f.fail(tt.route, tt.fault)
			err := tt.call(f.client(t))
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("err = %v, want kind %v", err, tt.wantKind)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to mention %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("err quotes an HTML page: %v", err)
			}
		})
	}
}

func TestJobErrorsShapes(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []target.JobUserError
	}{
		{"array", 200, `[{"user":{"email":"ana@example.com","user_id":"u1","custom_password_hash":{"algorithm":"md5","hash":{"value":"5f4dcc3b5aa765d61d8327deb882cf99","encoding":"hex"}}},
			"errors":[{"code":"DUPLICATED_USER","message":"The user already exist","path":"email"}]},
			{"user":{"email":"bob@example.com","email_verified":"yes"},"errors":[{"code":"INVALID_TYPE","message":"Expected boolean","path":"email_verified"},{"code":"FORMAT","message":"x","path":""}]}]`,
			[]target.JobUserError{
				{Errors: []target.UserError{{Code: "DUPLICATED_USER", Message: "The user already exist", Path: "email"}}},
				{Errors: []target.UserError{{Code: "INVALID_TYPE", Message: "Expected boolean", Path: "email_verified"}, {Code: "FORMAT", Message: "x"}}},
			}},
		{"job object", 200, `{"id":"job_1","status":"failed","status_details":"connection disabled"}`, []target.JobUserError{}},
		{"no content", 204, ``, []target.JobUserError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTenant(t)
			f.handle("GET /api/v2/jobs/job_1/errors", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			got, err := f.client(t).JobErrors(context.Background(), "job_1")
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != len(tt.want) {
				t.Fatalf("got %d errors (%v), want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if strings.Join(got[i].Codes(), ",") != strings.Join(tt.want[i].Codes(), ",") || got[i].Errors[0] != tt.want[i].Errors[0] {
					t.Errorf("error %d = %+v, want %+v", i, got[i].Errors, tt.want[i].Errors)
				}
			}
			if tt.name == "array" {
				if got[0].User.Email != "ana@example.com" || got[0].User.UserID != "u1" || got[1].User.Email != "bob@example.com" {
					t.Errorf("users = %+v / %+v", got[0].User, got[1].User)
				}
				if h := got[0].User.CustomPasswordHash; h == nil || h.Hash.Value != "*****" {
					t.Errorf("hash not masked: %+v", h)
				}
			}
		})
	}
}

func TestUsersByEmailListUsersAndDelete(t *testing.T) {
	f := newFakeTenant(t)
	f.handle("GET /api/v2/users-by-email", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("email"); got != "ana.o'brien+x@example.com" {
			t.Errorf("email = %q, want it lower-cased and intact", got)
		}
		io.WriteString(w, `[{"user_id":"auth0|u1","email":"ana.o'brien+x@example.com","email_verified":true,"created_at":"2026-01-02T03:04:05.678Z",
			"identities":[{"connection":"Username-Password-Authentication","provider":"auth0","user_id":"u1"},{"connection":"github","provider":"github","user_id":12345}]}]`)
	})
	f.handle("GET /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("page") != "2" || q.Get("per_page") != "100" || q.Get("include_totals") != "true" || q.Get("search_engine") != "v3" || q.Get("q") != `identities.connection:"db"` {
			t.Errorf("query = %v", q)
		}
		io.WriteString(w, `{"start":200,"limit":100,"length":1,"total":201,"users":[{"user_id":"auth0|u9","email":"z@example.com"}]}`)
	})
	f.handle("DELETE /api/v2/users/auth0|gone", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"statusCode": 404, "message": "The user does not exist."})
	})
	c := f.client(t)
	ctx := context.Background()

	users, err := c.UsersByEmail(ctx, "Ana.O'Brien+x@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].UserID != "auth0|u1" || !users[0].EmailVerified || users[0].CreatedAt.Year() != 2026 ||
		len(users[0].Identities) != 2 || users[0].Identities[1].UserID != "12345" {
		t.Errorf("users = %+v", users)
	}
	page, err := c.ListUsers(ctx, ListUsersOptions{Page: 2, PerPage: 100, Query: `identities.connection:"db"`})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 201 || page.Start != 200 || len(page.Users) != 1 || page.Users[0].Email != "z@example.com" {
		t.Errorf("page = %+v", page)
	}
	if _, err := c.ListUsers(ctx, ListUsersOptions{PerPage: 101}); err == nil {
		t.Error("per page 101: want an error")
	}
	if err := c.DeleteUser(ctx, "auth0|gone"); err != nil {
		t.Errorf("deleting a missing user: %v, want nil", err)
	}
}

func TestExportUsersDownloadsWithoutCredentials(t *testing.T) {
	f := newFakeTenant(t)
	ndjson := `{"user_id":"auth0|1","email":"a@example.com"}` + "\n" + `{"user_id":"auth0|2","email":"b@example.com"}` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(ndjson))
	zw.Close()

	polls := 0
	f.handle("POST /api/v2/jobs/users-exports", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"format":"json"`) || !strings.Contains(string(b), `"connection_id":"`+testConn+`"`) {
			t.Errorf("export body = %s", b)
		}
		writeJSON(w, 201, map[string]any{"id": "job_exp", "type": "users_export", "status": "pending"})
	})
	f.handle("GET /api/v2/jobs/job_exp", func(w http.ResponseWriter, r *http.Request) {
		polls++
		if polls < 2 {
			writeJSON(w, 200, map[string]any{"id": "job_exp", "status": "processing"})
			return
		}
		writeJSON(w, 200, map[string]any{"id": "job_exp", "status": "completed", "location": f.srv.URL + "/download/export.json.gz"})
	})
	// The download route sits outside the API: serve it before the auth check.
	f.fail("GET /download/export.json.gz", fault{status: 200, body: gz.String()})

	var out bytes.Buffer
	c := f.client(t)
	if err := c.ExportUsers(context.Background(), ExportRequest{ConnectionID: testConn}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != ndjson {
		t.Errorf("export = %q, want %q", out.String(), ndjson)
	}
}

func TestDownloadSendsNoAuthorization(t *testing.T) {
	f := newFakeTenant(t)
	var sawAuth string
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = r.Header.Get("Authorization")
		io.WriteString(w, "{}\n")
	})
	c := f.client(t)
	c.tokens.token, c.tokens.renewAt = "preset", time.Now().Add(time.Hour)
	rc, err := c.DownloadExport(context.Background(), target.Job{ID: "job_1", Location: f.srv.URL + "/file"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "{}\n" || sawAuth != "" {
		t.Errorf("body %q, Authorization %q; want plain body and no credentials", b, sawAuth)
	}
	if _, err := c.DownloadExport(context.Background(), target.Job{ID: "job_1", Location: "http://storage.example.com/x"}); err == nil {
		t.Error("plain http to a remote host: want an error")
	}
}

func TestPatchConnection(t *testing.T) {
	f := newFakeTenant(t)
	f.handle("PATCH /api/v2/connections/"+testConn, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"options":{"import_mode":true}}` || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("patch body %s (%s)", b, r.Header.Get("Content-Type"))
		}
		writeJSON(w, 200, map[string]any{"id": testConn, "name": "db", "strategy": "auth0", "options": map[string]any{"import_mode": true}})
	})
	conn, err := f.client(t).PatchConnection(context.Background(), "", map[string]any{"options": map[string]any{"import_mode": true}})
	if err != nil {
		t.Fatal(err)
	}
	if conn.ID != testConn || conn.Strategy != "auth0" || string(conn.Options) != `{"import_mode":true}` {
		t.Errorf("connection = %+v", conn)
	}
}

func TestContextCancellationStopsEveryWait(t *testing.T) {
	f := newFakeTenant(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	block := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	f.handle("GET /api/v2/jobs/job_slow", block)
	f.handle("POST /api/v2/jobs/users-imports", block)
	c := f.client(t, func(c *Config) {
		c.Retry.MinRateLimitWait, c.Retry.MaxRateLimitWait, c.Retry.MaxElapsed = time.Hour, time.Hour, 2*time.Hour
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Job(ctx, "job_slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Job err = %v, want deadline exceeded", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Submit(ctx, target.Submission{Seq: 1, Data: []byte(`[]`)})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrAmbiguousSubmit) {
		t.Errorf("Submit err = %v, want deadline exceeded and ambiguous (the request was sent)", err)
	}

	// A 429 asking for an hour's wait ends with the context, not the hour.
	f.fail("GET /api/v2/jobs/job_1", fault{status: 429, header: map[string]string{"Retry-After": "3600"}})
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Job(ctx, "job_1"); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Job err = %v after %v, want deadline exceeded promptly", err, time.Since(start))
	}
}
