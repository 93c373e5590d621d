package auth0_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"provision/engine/chunk"
	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target"
	"provision/engine/target/auth0"
)

// These tests run the client against the sandbox tenant over loopback
// HTTP: the same endpoints, limits and error answers the client meets on
// Auth0, served by a real server.

func sandboxClient(t *testing.T, cfg sandbox.Config, mod ...func(*auth0.Config)) (*auth0.Client, *sandbox.Server) {
	t.Helper()
	baseURL, srv := sandboxtest.Start(t, cfg)
	ep, err := auth0.ParseTargetSpec("auth0:" + baseURL)
	if err != nil {
		t.Fatal(err)
	}
	c := auth0.Config{
		Endpoint:     ep,
		Credentials:  auth0.Credentials{ClientID: srv.ClientID(), ClientSecret: auth0.Secret(srv.ClientSecret())},
		ConnectionID: srv.ConnectionID(),
		Retry: auth0.RetryPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
			MinRateLimitWait: 10 * time.Millisecond, MaxRateLimitWait: 100 * time.Millisecond,
			PollInitial: 10 * time.Millisecond, PollMax: 50 * time.Millisecond},
	}
	for _, m := range mod {
		m(&c)
	}
	client, err := auth0.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return client, srv
}

func testUsers(prefix string, n int) []importuser.User {
	yes := true
	users := make([]importuser.User, n)
	for i := range users {
		users[i] = importuser.User{
			Email:         fmt.Sprintf("%s%03d@example.com", prefix, i),
			EmailVerified: &yes,
			GivenName:     "Test",
			FamilyName:    fmt.Sprintf("User %d", i),
			PasswordHash:  "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
			AppMetadata:   json.RawMessage(fmt.Sprintf(`{"legacy_id":%d}`, i)),
		}
	}
	return users
}

func submission(t *testing.T, seq int, users []importuser.User) target.Submission {
	t.Helper()
	p, err := chunk.NewPacker(chunk.Options{FirstSeq: seq})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		if _, closed, err := p.Add(u.Email, i+2, u); err != nil || closed {
			t.Fatalf("user %d: closed=%v err=%v; the test wants one chunk", i, closed, err)
		}
	}
	c, _ := p.Flush()
	return c.Submission(false)
}

func TestSandboxImportLifecycle(t *testing.T) {
	c, srv := sandboxClient(t, sandbox.Config{JobDuration: 50 * time.Millisecond})
	ctx := context.Background()
	users := testUsers("life", 25)
	sub := submission(t, 1, users)

	job, err := c.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.Status != target.StatusPending || job.ConnectionID != srv.ConnectionID() {
		t.Fatalf("submitted job = %+v", job)
	}
	done, err := c.WaitJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != target.StatusCompleted || done.Summary.Inserted != 25 || done.Summary.Total != 25 {
		t.Fatalf("finished job = %+v", done)
	}
	if errs, err := c.JobErrors(ctx, job.ID); err != nil || len(errs) != 0 {
		t.Fatalf("errors of a clean job = %v, %v", errs, err)
	}

	// The same file again, without upsert: every user is a duplicate.
	again, err := c.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if again, err = c.WaitJob(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	errs, err := c.JobErrors(ctx, again.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Summary.Failed != 25 || len(errs) != 25 {
		t.Fatalf("resubmission: summary %+v, %d errors; want 25 duplicates", again.Summary, len(errs))
	}
	for _, e := range errs {
		if !strings.HasPrefix(e.User.Email, "life") || e.User.PasswordHash == users[0].PasswordHash {
			t.Fatalf("error user %+v: want the email and a masked hash", e.User)
		}
		if codes := strings.Join(e.Codes(), ","); !strings.Contains(codes, "DUPLICATED_USER") && !strings.Contains(codes, "CONFLICT") {
			t.Fatalf("codes %s, want a duplicate", codes)
		}
	}

	// With upsert they are updated.
	sub.Upsert = true
	up, err := c.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if up, err = c.WaitJob(ctx, up.ID); err != nil || up.Summary.Updated != 25 {
		t.Fatalf("upsert job = %+v, %v; want 25 updated", up, err)
	}

	// Look one up (in any case), delete it, and it is gone.
	found, err := c.UsersByEmail(ctx, "LIFE007@Example.com")
	if err != nil || len(found) != 1 || found[0].Email != "life007@example.com" || found[0].UserID == "" {
		t.Fatalf("lookup = %+v, %v", found, err)
	}
	if err := c.DeleteUser(ctx, found[0].UserID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, found[0].UserID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if found, err := c.UsersByEmail(ctx, "life007@example.com"); err != nil || len(found) != 0 {
		t.Fatalf("after delete: %+v, %v", found, err)
	}

	page, err := c.ListUsers(ctx, auth0.ListUsersOptions{PerPage: 10})
	if err != nil || page.Total != 24 || len(page.Users) != 10 {
		t.Fatalf("list = total %d, %d users, %v; want 24 in all, 10 on the page", page.Total, len(page.Users), err)
	}

	conn, err := c.Connection(ctx, "")
	if err != nil || conn.ID != srv.ConnectionID() || conn.Name != srv.ConnectionName() {
		t.Fatalf("connection = %+v, %v", conn, err)
	}

	var out bytes.Buffer
	if err := c.ExportUsers(ctx, auth0.ExportRequest{ConnectionID: srv.ConnectionID(),
		Fields: []auth0.ExportField{{Name: "user_id"}, {Name: "email"}}}, &out); err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); lines++ {
		var u struct{ Email string }
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil || !strings.HasPrefix(u.Email, "life") {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
	}
	if lines != 24 {
		t.Errorf("export has %d users, want 24", lines)
	}
}

func TestSandboxAmbiguousSubmit(t *testing.T) {
	c, srv := sandboxClient(t, sandbox.Config{})
	srv.Faults().FailImportsAfterCreate(1)
	ctx := context.Background()
	_, err := c.Submit(ctx, submission(t, 4, testUsers("amb", 3)))
	if !errors.Is(err, auth0.ErrAmbiguousSubmit) || !strings.Contains(err.Error(), "users-0004.json") {
		t.Fatalf("err = %v, want ErrAmbiguousSubmit naming the file", err)
	}
	// The job did exist: its users arrive although the client heard 500.
	var found []target.User
	for range 50 {
		if found, err = c.UsersByEmail(ctx, "amb001@example.com"); err != nil || len(found) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || len(found) != 1 {
		t.Fatalf("the ambiguous job's user: %+v, %v", found, err)
	}
}

func TestSandboxFaultsAreRetried(t *testing.T) {
	c, srv := sandboxClient(t, sandbox.Config{})
	ctx := context.Background()
	job, err := c.Submit(ctx, submission(t, 1, testUsers("flt", 2)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Faults().FailNext(2, sandbox.FaultUnavailable)
	srv.Faults().RateLimitNext(2)
	if _, err := c.WaitJob(ctx, job.ID); err != nil {
		t.Fatalf("after two 503s and two 429s: %v", err)
	}
	// An expired token is replaced on the 401.
	if err := srv.ExpireTokens(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Job(ctx, job.ID); err != nil {
		t.Fatalf("after token expiry: %v", err)
	}
	// Too many concurrent jobs: the second waits for a slot.
	srv.Faults().SetJobDuration(150 * time.Millisecond)
	start := time.Now()
	for i := range 3 {
		if _, err := c.Submit(ctx, submission(t, 10+i, testUsers(fmt.Sprintf("slot%d-", i), 1))); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("three submits to a 2-job tenant took %v; the third should have waited for a slot", took)
	}
}

func TestSandboxRateLimitHeadersPace(t *testing.T) {
	var logs bytes.Buffer
	c, _ := sandboxClient(t, sandbox.Config{RateLimit: 8, RateBurst: 4}, func(c *auth0.Config) {
		c.Retry.MaxRateLimitWait = 2 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	start := time.Now()
	const n = 12
	for i := range n {
		if _, err := c.UsersByEmail(ctx, fmt.Sprintf("nobody%d@example.com", i)); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// A bucket of 4 refilled at 8/s: the client spends it, then waits for
	// the reset the tenant names, and is never refused.
	took := time.Since(start)
	if refused := strings.Count(logs.String(), "status=429"); refused > 0 || took < 900*time.Millisecond || took > 4*time.Second {
		t.Errorf("%d requests took %v with %d refusals; want about 2 s of pacing and none", n, took, refused)
	}
}

func TestSandboxRefusalsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name     string
		cfg      sandbox.Config
		mod      func(*auth0.Config)
		call     func(*auth0.Client) error
		wantKind error
		wantText string
	}{
		{"wrong secret", sandbox.Config{}, func(c *auth0.Config) { c.Credentials.ClientSecret = "wrong" },
			func(c *auth0.Client) error { _, err := c.Job(context.Background(), "job_x"); return err },
			auth0.ErrBadCredentials, auth0.EnvClientSecret},
		{"missing scope", sandbox.Config{Scopes: []string{sandbox.ScopeReadUsers}}, nil,
			func(c *auth0.Client) error {
				_, err := c.Submit(context.Background(), target.Submission{Seq: 1, Data: []byte(`[{"email":"a@example.com"}]`), Users: 1})
				return err
			},
			auth0.ErrInsufficientScope, "create:users"},
		{"wrong connection", sandbox.Config{}, func(c *auth0.Config) { c.ConnectionID = "con_0000000000000000" },
			func(c *auth0.Client) error {
				_, err := c.Submit(context.Background(), target.Submission{Seq: 1, Data: []byte(`[{"email":"a@example.com"}]`), Users: 1})
				return err
			},
			auth0.ErrUnknownConnection, "--connection"},
		{"file too large", sandbox.Config{MaxFileSize: 100}, nil,
			func(c *auth0.Client) error {
				data, _ := json.Marshal(testUsers("big", 3))
				_, err := c.Submit(context.Background(), target.Submission{Seq: 1, Data: data, Users: 3})
				return err
			},
			auth0.ErrFileTooLarge, "500 KB"},
		{"unknown job", sandbox.Config{}, nil,
			func(c *auth0.Client) error { _, err := c.Job(context.Background(), "job_doesnotexist00"); return err },
			auth0.ErrNotFound, "job_doesnotexist00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*auth0.Config)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			c, srv := sandboxClient(t, tt.cfg, mods...)
			err := tt.call(c)
			if !errors.Is(err, tt.wantKind) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantKind, tt.wantText)
			}
			if strings.Contains(err.Error(), srv.ClientSecret()) {
				t.Fatal("error holds the secret")
			}
		})
	}
}
