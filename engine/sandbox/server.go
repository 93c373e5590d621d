package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"provision/engine/sandbox/store"
)

// DataFile is the name of the state file inside Config.DataDir.
const DataFile = "sandbox.db"

// Server is one sandbox tenant. Create it with New, serve Handler (or call
// Serve / ListenAndServe), and Close it when done.
type Server struct {
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	store  store.Store
	faults *Faults

	clientSecret    string
	secretGenerated bool
	signingKey      []byte
	tokenGen        atomic.Uint64 // see Server.ExpireTokens

	limiterMu sync.Mutex
	limiter   *rate.Limiter // nil: no rate limit

	logins *bruteForce

	// advanceMu makes job processing single-file: two requests arriving
	// together must not both run the same job.
	advanceMu sync.Mutex
	nextSweep time.Time

	handler http.Handler

	stopping  chan struct{} // closed by Close: releases hung requests
	closeOnce sync.Once
}

// New opens the tenant described by cfg: in memory, or in
// cfg.DataDir/sandbox.db, creating the connection when it does not exist.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = randomUint64()
	}
	s := &Server{
		cfg:      cfg,
		now:      cfg.Now,
		log:      cfg.Logger,
		store:    st,
		faults:   newFaults(cfg, seed),
		logins:   newBruteForce(),
		stopping: make(chan struct{}),
	}
	if cfg.RateLimit > 0 {
		s.limiter = rate.NewLimiter(cfg.RateLimit, cfg.RateBurst) // starts full
	}
	if err := st.Update(s.bootstrap); err != nil {
		st.Close()
		return nil, fmt.Errorf("sandbox: prepare tenant: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

func openStore(dir string) (store.Store, error) {
	if dir == "" {
		return store.NewMemory(buckets...), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox: create data directory: %w", err)
	}
	st, err := store.OpenBolt(filepath.Join(dir, DataFile), buckets...)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return st, nil
}

// bootstrap loads or creates what a tenant needs: the token signing key,
// the client secret and the connection.
func (s *Server) bootstrap(tx store.Tx) error {
	st := state{tx}
	s.signingKey = tx.Get(bucketMeta, metaSigningKey)
	if s.signingKey == nil {
		s.signingKey = make([]byte, 32)
		rand.Read(s.signingKey)
		if err := tx.Put(bucketMeta, metaSigningKey, s.signingKey); err != nil {
			return err
		}
	}
	s.tokenGen.Store(st.counter(metaTokenGen))
	s.clientSecret = s.cfg.ClientSecret
	if s.clientSecret == "" {
		// A generated secret is kept with the tenant so a restart with the
		// same --data accepts the secret printed the first time. A secret
		// the operator chose is never written anywhere.
		if b := tx.Get(bucketMeta, metaClientSecret); b != nil {
			s.clientSecret = string(b)
		} else {
			s.clientSecret = randomString(48)
			if err := tx.Put(bucketMeta, metaClientSecret, []byte(s.clientSecret)); err != nil {
				return err
			}
		}
		s.secretGenerated = true
	}
	c, err := st.connection(s.cfg.ConnectionID)
	if err != nil || c != nil {
		if c != nil && c.Name != s.cfg.ConnectionName {
			return fmt.Errorf("connection %s is stored under the name %q, not %q; use that name or another data directory",
				c.ID, c.Name, s.cfg.ConnectionName)
		}
		return err
	}
	if other, err := st.connectionByName(s.cfg.ConnectionName); err != nil || other != nil {
		if other != nil {
			return fmt.Errorf("a connection named %q already exists with id %s; use that id or another data directory", other.Name, other.ID)
		}
		return err
	}
	return st.putConnection(&connectionRecord{
		ID:             s.cfg.ConnectionID,
		Name:           s.cfg.ConnectionName,
		Strategy:       "auth0",
		Options:        json.RawMessage(`{"brute_force_protection":true,"passwordPolicy":"good","requires_username":false}`),
		EnabledClients: []string{s.cfg.ClientID},
		Realms:         []string{s.cfg.ConnectionName},
	})
}

// Handler serves the tenant's endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Faults is the tenant's fault injector.
func (s *Server) Faults() *Faults { return s.faults }

// ClientID is the client id the tenant accepts.
func (s *Server) ClientID() string { return s.cfg.ClientID }

// ClientSecret returns the client secret, generated when Config had none.
func (s *Server) ClientSecret() string { return s.clientSecret }

// SecretGenerated reports whether the sandbox made up the client secret.
func (s *Server) SecretGenerated() bool { return s.secretGenerated }

// ConnectionID is the id of the tenant's database connection.
func (s *Server) ConnectionID() string { return s.cfg.ConnectionID }

// ConnectionName is the connection's name, also the password grant's realm.
func (s *Server) ConnectionName() string { return s.cfg.ConnectionName }

// Serve answers requests on ln until ctx is cancelled, then shuts down
// gracefully: in-flight requests get up to 5 seconds to finish and hung
// ones (FaultHang) are released at once. Serve does not close the tenant;
// call Close afterwards.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		s.runJobs(loopCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	select {
	case err := <-errc:
		stopLoop()
		<-loopDone
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	s.release()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	<-loopDone
	if err != nil {
		return fmt.Errorf("sandbox: shutdown: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return s.Serve(ctx, ln)
}

// runJobs moves jobs forward in the background so that the log shows a job
// finishing when it does, even if nobody polls it. Correctness does not
// depend on it: every request brings jobs up to date first.
func (s *Server) runJobs(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.advance(); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Error("advance jobs", "err", err)
			}
		}
	}
}

// release ends every hung request.
func (s *Server) release() {
	s.closeOnce.Do(func() { close(s.stopping) })
}

// Close releases hung requests and closes the tenant's store. With a data
// directory, everything is on disk already: every change is committed
// before the response that reports it.
func (s *Server) Close() error {
	s.release()
	return s.store.Close()
}

func randomUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random letters and digits.
func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphanumeric[randIntN(len(alphanumeric))]
	}
	return string(b)
}

func randIntN(n int) int {
	// Rejection sampling keeps the choice uniform.
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
