package upload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"provision/engine/chunk"
	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target"
	"provision/engine/target/auth0"
	"provision/engine/upload"
)

// packed makes n chunks of `per` users each, numbered from 1, with emails
// starting with prefix.
func packed(t testing.TB, prefix string, n, per int) []chunk.Chunk {
	t.Helper()
	p, err := chunk.NewPacker(chunk.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var out []chunk.Chunk
	for i := range n * per {
		u := importuser.User{Email: fmt.Sprintf("%s%06d@example.com", prefix, i), Name: fmt.Sprintf("Bench User %d", i),
			AppMetadata: json.RawMessage(`{"plan":"pro"}`)}
		if _, _, err := p.Add(u.Email, i+2, u); err != nil {
			t.Fatal(err)
		}
		if (i+1)%per == 0 {
			c, _ := p.Flush()
			out = append(out, c)
		}
	}
	return out
}

func works(cs []chunk.Chunk) iter.Seq[upload.Work] {
	return func(yield func(upload.Work) bool) {
		for _, c := range cs {
			if !yield(upload.Work{Chunk: c}) {
				return
			}
		}
	}
}

func clientFor(t testing.TB, baseURL, clientID, secret, connection string, log *slog.Logger) *auth0.Client {
	t.Helper()
	ep, err := auth0.ParseTargetSpec("auth0:" + baseURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth0.New(auth0.Config{Endpoint: ep, ConnectionID: connection, Logger: log,
		Credentials: auth0.Credentials{ClientID: clientID, ClientSecret: auth0.Secret(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUploadThroughSandbox runs the whole chain, pipeline to client to a
// sandbox tenant over loopback HTTP, and checks that every user arrives
// and the tenant's two import slots are used without one refusal.
func TestUploadThroughSandbox(t *testing.T) {
	const jobDuration = 200 * time.Millisecond
	baseURL, srv := sandboxtest.Start(t, sandbox.Config{JobDuration: jobDuration})
	var logs bytes.Buffer
	client := clientFor(t, baseURL, srv.ClientID(), srv.ClientSecret(), srv.ConnectionID(),
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	cs := packed(t, "chain", 12, 5)
	finished := map[int]target.Job{}
	stats, err := upload.Run(context.Background(), client, works(cs), upload.Callbacks{
		OnFinished: func(ctx context.Context, c chunk.Chunk, job target.Job, errs []target.JobUserError) error {
			if len(errs) != 0 {
				t.Errorf("chunk %d: %d user errors: %+v", c.Seq, len(errs), errs[0])
			}
			finished[c.Seq] = job
			return nil
		},
	}, upload.Options{})
	if err != nil {
		t.Fatal(err)
	}
	users, err := srv.Users()
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 60 || len(finished) != 12 {
		t.Fatalf("%d users in the tenant, %d jobs finished; want 60 and 12", len(users), len(finished))
	}
	for seq, job := range finished {
		if job.Status != target.StatusCompleted || job.Summary.Inserted != 5 {
			t.Errorf("chunk %d: job %+v", seq, job)
		}
	}
	if refused := strings.Count(logs.String(), "status=429"); refused > 0 {
		t.Errorf("the tenant refused %d requests; the pipeline must stay within its slots", refused)
	}
	// Real time on a shared machine: reported, not asserted; the exact
	// bound is TestKeepsTwoSlotsBusy's.
	t.Logf("12 chunks, 200 ms jobs, 2 slots: %v, utilisation %.0f%%", stats.Elapsed, 100*float64(12/2*jobDuration)/float64(stats.Elapsed))
}

// TestUploadBench measures the pipeline against a tenant: a sandbox
// started by bench/upload.sh (PROVISION_BENCH_TARGET=auth0:http://…, with
// AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET and PROVISION_BENCH_CONNECTION), or
// else one started here. It only runs when PROVISION_BENCH_CHUNKS is set,
// and prints one table row.
func TestUploadBench(t *testing.T) {
	chunks, _ := strconv.Atoi(os.Getenv("PROVISION_BENCH_CHUNKS"))
	if chunks <= 0 {
		t.Skip("set PROVISION_BENCH_CHUNKS (bench/upload.sh does)")
	}
	slots := envInt("PROVISION_BENCH_SLOTS", 2)
	jobDuration, err := time.ParseDuration(envOr("PROVISION_BENCH_JOB_DURATION", "1s"))
	if err != nil {
		t.Fatal(err)
	}
	var client *auth0.Client
	if spec := os.Getenv("PROVISION_BENCH_TARGET"); spec != "" {
		creds, err := auth0.LoadCredentials(os.Getenv("PROVISION_BENCH_CREDENTIALS"))
		if err != nil {
			t.Fatal(err)
		}
		client = clientFor(t, strings.TrimPrefix(spec, "auth0:"), creds.ClientID, creds.ClientSecret.Reveal(), os.Getenv("PROVISION_BENCH_CONNECTION"), nil)
	} else {
		baseURL, srv := sandboxtest.Start(t, sandbox.Config{JobDuration: jobDuration, MaxConcurrentImports: slots})
		client = clientFor(t, baseURL, srv.ClientID(), srv.ClientSecret(), srv.ConnectionID(), nil)
	}
	stats, err := upload.Run(context.Background(), client, works(packed(t, fmt.Sprintf("bench-%d-%d-", slots, time.Now().UnixNano()), chunks, 10)), upload.Callbacks{}, upload.Options{Slots: slots})
	if err != nil {
		t.Fatal(err)
	}
	ideal := time.Duration(float64(jobDuration) * float64(chunks) / float64(slots))
	fmt.Printf("| %d | %d | %v | %.1f s | %.1f%% |\n", chunks, slots, jobDuration, stats.Elapsed.Seconds(), 100*float64(ideal)/float64(stats.Elapsed))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}
