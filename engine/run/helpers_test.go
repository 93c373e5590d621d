package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target/auth0"
	"provision/engine/upload"
	"provision/engine/validate"
	"provision/storage"
)

// fixture is a sandbox tenant, a source and a workspace for one test.
type fixture struct {
	t      *testing.T
	srv    *sandbox.Server
	base   string
	client *auth0.Client
	dir    string
	source string
	valid  []string // emails of the valid rows, in source order
	rows   int
	events []Event
}

// newFixture writes a CSV of n valid users plus one invalid row and one
// duplicate, and starts a sandbox tenant for it.
func newFixture(t *testing.T, n int, cfg sandbox.Config) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	f.base, f.srv = sandboxtest.Start(t, cfg)
	ep, err := auth0.ParseTargetSpec("auth0:" + f.base)
	if err != nil {
		t.Fatal(err)
	}
	f.client, err = auth0.New(auth0.Config{
		Endpoint:     ep,
		Credentials:  auth0.Credentials{ClientID: f.srv.ClientID(), ClientSecret: auth0.Secret(f.srv.ClientSecret())},
		ConnectionID: f.srv.ConnectionID(),
		Retry: auth0.RetryPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			MinRateLimitWait: 5 * time.Millisecond, MaxRateLimitWait: 50 * time.Millisecond, MaxSubmitWait: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("email,given_name,user_id\n")
	for i := range n {
		email := fmt.Sprintf("user%04d@example.com", i)
		f.valid = append(f.valid, email)
		fmt.Fprintf(&b, "%s,User %d,u%d\n", email, i, i)
		f.rows++
		if i == n/2 {
			b.WriteString("not-an-email,Broken,\n")               // quarantined
			fmt.Fprintf(&b, "%s,Twin,\n", strings.ToUpper(email)) // duplicate: skipped
			f.rows += 2
		}
	}
	f.source = filepath.Join(f.dir, "users.csv")
	if err := os.WriteFile(f.source, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) journal() string { return filepath.Join(f.dir, "ws", "journal.db") }

// opts are the options of a run of the fixture with the given stages.
func (f *fixture) opts(stages string) Options {
	if err := os.MkdirAll(filepath.Dir(f.journal()), 0o700); err != nil {
		f.t.Fatal(err)
	}
	o := Options{
		Journal: f.journal(), Source: f.source, Target: f.client,
		Validate:     validate.Options{Username: validate.DefaultUsernamePolicy},
		Settings:     storage.RunSettings{Target: "auth0:" + f.base, ConnectionID: f.srv.ConnectionID(), StageSpec: stages},
		MaxFileBytes: 2000, // a few users per file, so stages have several chunks
		Poll:         upload.PollPolicy{Initial: 2 * time.Millisecond, Min: 2 * time.Millisecond, Max: 20 * time.Millisecond},
		Verify:       VerifyOptions{Connection: f.srv.ConnectionName(), Sample: 5},
	}
	return o
}

// run runs the engine once with o, collecting its events.
func (f *fixture) run(o Options) Result {
	f.t.Helper()
	res, err := f.tryRun(context.Background(), o)
	if err != nil {
		f.t.Fatalf("run: %v", err)
	}
	return res
}

func (f *fixture) tryRun(ctx context.Context, o Options) (Result, error) {
	ch := make(chan Event, 64)
	o.Events = ch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			f.events = append(f.events, ev)
		}
	}()
	e, err := New(o)
	if err != nil {
		close(ch)
		<-done
		return Result{}, err
	}
	res, err := e.Run(ctx)
	close(ch)
	<-done
	return res, err
}

// openJournal opens the fixture's journal for inspection.
func (f *fixture) openJournal() *storage.Journal {
	f.t.Helper()
	j, err := storage.Open(f.journal(), storage.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { j.Close() })
	return j
}

// checkExactlyOnce asserts the invariant the whole engine exists for:
// every valid user is in the tenant exactly once and was inserted exactly
// once (by the run, or by the test seeding the tenant), and nobody else is
// there.
func (f *fixture) checkExactlyOnce() {
	f.t.Helper()
	users, err := f.srv.Users()
	if err != nil {
		f.t.Fatal(err)
	}
	seen := map[string]int{}
	for _, u := range users {
		seen[strings.ToLower(u.Email)]++
	}
	counts, err := f.srv.ImportCounts()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, email := range f.valid {
		if seen[email] != 1 {
			f.t.Errorf("<%s> is in the tenant %d times, want 1", email, seen[email])
		}
		if c := counts[email]; c.Inserted != 1 {
			f.t.Errorf("<%s> was inserted %d times, want 1", email, c.Inserted)
		}
	}
	if len(users) != len(f.valid) {
		f.t.Errorf("the tenant holds %d users, want %d", len(users), len(f.valid))
	}
}
