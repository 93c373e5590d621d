package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"provision/engine/sandbox"
)

// sandboxSecretEnv holds the sandbox's client secret, so it stays out of
// shell history.
const sandboxSecretEnv = "SANDBOX_CLIENT_SECRET"

func newSandboxCmd() *cobra.Command {
	var (
		addr, clientID, clientSecret string
		connID, connName, dataDir    string
		failRate, jobFailRate        float64
		failKinds, rateLimit         string
		rateBurst                    int
		jobDuration                  time.Duration
		maxFileSize                  int64
		verbose                      bool
	)
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a local Auth0-compatible tenant to rehearse migrations against",
		Long: `Sandbox runs a local tenant that speaks the parts of Auth0's Management and
Authentication APIs provision uses: client-credentials tokens, import jobs
(with Auth0's file size, concurrency, timeout and per-user validation rules
and error codes), job errors, user lookups and deletion, export jobs,
connection options, and password logins that check imported hashes.

It can misbehave on purpose: --fail-rate answers a share of Management API
requests with 500, 503 or never; --job-fail-rate fails import jobs;
--job-duration slows jobs down (past 2 hours they time out, as on Auth0);
--rate-limit applies a token bucket with Auth0's x-ratelimit-* headers.

The client secret is read from ` + sandboxSecretEnv + `, or generated and printed
when unset. Without --data the tenant lives in memory and is gone on exit;
with it, users, jobs and connections are kept in DIR/` + sandbox.DataFile + ` and jobs
in progress resume on restart.`,
		Example: `  provision sandbox
  provision sandbox --data .sandbox --job-duration 20s --rate-limit 2/s
  provision sandbox --fail-rate 0.05 --fail-kinds 500,503 --job-fail-rate 0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			limit, err := sandbox.ParseRate(rateLimit)
			if err != nil {
				return usageError("--rate-limit: %v", err)
			}
			kinds, err := sandbox.ParseFaultKinds(failKinds)
			if err != nil {
				return usageError("--fail-kinds: %v", err)
			}
			stderr := cmd.ErrOrStderr()
			secretSource := ""
			switch {
			case cmd.Flags().Changed("client-secret"):
				fmt.Fprintf(stderr, "warning: --client-secret is kept in your shell history; prefer %s\n", sandboxSecretEnv)
				secretSource = "--client-secret"
			case os.Getenv(sandboxSecretEnv) != "":
				clientSecret = os.Getenv(sandboxSecretEnv)
				secretSource = sandboxSecretEnv
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			srv, err := sandbox.New(sandbox.Config{
				ClientID: clientID, ClientSecret: clientSecret,
				ConnectionID: connID, ConnectionName: connName,
				DataDir: dataDir, MaxFileSize: maxFileSize, JobDuration: jobDuration,
				RateLimit: limit, RateBurst: rateBurst,
				FailRate: failRate, FailKinds: kinds, JobFailRate: jobFailRate,
				Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
			})
			if err != nil {
				return err
			}
			defer srv.Close()

			var lc net.ListenConfig
			ln, err := lc.Listen(cmd.Context(), "tcp", addr)
			if err != nil {
				return fmt.Errorf("sandbox: listen on %s: %w (is another sandbox running? try --addr 127.0.0.1:0)", addr, err)
			}
			printSandboxBanner(cmd.OutOrStdout(), srv, ln.Addr().String(), dataDir, secretSource)
			if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
				fmt.Fprintln(stderr, "warning: the sandbox serves plain HTTP and prints its secret; keep it on a loopback address")
			}
			if err := srv.Serve(cmd.Context(), ln); err != nil {
				return err
			}
			return context.Cause(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8787", "address to listen on (port 0 picks a free one)")
	f.StringVar(&clientID, "client-id", sandbox.DefaultClientID, "client id the tenant accepts")
	f.StringVar(&clientSecret, "client-secret", "", "client secret the tenant accepts (prefer "+sandboxSecretEnv+"; generated when neither is set)")
	f.StringVar(&connID, "connection-id", sandbox.DefaultConnectionID, "id of the database connection, as Auth0 shapes them: con_ and 16 letters or digits")
	f.StringVar(&connName, "connection-name", sandbox.DefaultConnectionName, "name of the database connection (the realm for password logins)")
	f.StringVar(&dataDir, "data", "", "keep the tenant in `DIR` across restarts (default: in memory)")
	f.Float64Var(&failRate, "fail-rate", 0, "fraction of Management API requests that fail (see --fail-kinds)")
	f.StringVar(&failKinds, "fail-kinds", "500,503,hang", "how failing requests fail: 500, 503, hang (never answered)")
	f.Float64Var(&jobFailRate, "job-fail-rate", 0, "fraction of import jobs that end failed, importing nobody")
	f.DurationVar(&jobDuration, "job-duration", 5*time.Second, "how long a job takes from creation to its end")
	f.StringVar(&rateLimit, "rate-limit", "", "Management API rate, e.g. 2/s (Auth0 development tenants) or 16/s; empty: no limit")
	f.IntVar(&rateBurst, "rate-burst", 0, "rate-limit bucket size (default: one second's worth, at least 1)")
	f.Int64Var(&maxFileSize, "max-file-size", sandbox.DefaultMaxFileSize, "largest users file accepted, in `BYTES`")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every request (method, path, status; never bodies)")
	return cmd
}

func printSandboxBanner(w io.Writer, srv *sandbox.Server, addr, dataDir, secretSource string) {
	base := "http://" + addr
	storage := "in memory: gone when the sandbox stops"
	if dataDir != "" {
		storage = filepath.Join(dataDir, sandbox.DataFile)
	}
	secret, exportSecret := srv.ClientSecret(), srv.ClientSecret()
	switch {
	case secretSource == sandboxSecretEnv:
		secret, exportSecret = "from "+sandboxSecretEnv, `"$`+sandboxSecretEnv+`"`
	case secretSource != "":
		secret, exportSecret = "from "+secretSource, "<the secret you gave>"
	case dataDir != "":
		secret += "  (generated; kept with the tenant data)"
	default:
		secret += "  (generated for this run)"
	}
	fmt.Fprintf(w, `Auth0 sandbox tenant at %s
  client id      %s
  client secret  %s
  connection     %s (%s)
  data           %s

Point provision at it:
  export AUTH0_CLIENT_ID=%s
  export AUTH0_CLIENT_SECRET=%s
  provision … --target auth0:%s --connection %s

Stop with Ctrl-C.
`, base, srv.ClientID(), secret, srv.ConnectionID(), srv.ConnectionName(), storage,
		srv.ClientID(), exportSecret, base, srv.ConnectionID())
}
