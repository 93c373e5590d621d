package auth0

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"
)

// Endpoint is where a tenant's APIs live: https://TENANT.auth0.com for a
// real tenant, or a plain base URL such as http://127.0.0.1:8787 for the
// local sandbox, which is addressed exactly like a tenant.
type Endpoint struct {
	// BaseURL is scheme://host[:port], without a trailing slash.
	BaseURL *url.URL
}

// ParseTargetSpec reads "auth0:TENANT.auth0.com" (https implied) or
// "auth0:http://127.0.0.1:8787". Plain http is accepted only for loopback
// addresses: the client secret travels in the token request.
func ParseTargetSpec(spec string) (Endpoint, error) {
	rest, ok := strings.CutPrefix(spec, "auth0:")
	if !ok || rest == "" {
		return Endpoint{}, fmt.Errorf("target %q: want auth0:TENANT.auth0.com or auth0:http://127.0.0.1:PORT", spec)
	}
	if !strings.Contains(rest, "://") {
		rest = "https://" + rest
	}
	u, err := url.Parse(rest)
	if err != nil {
		return Endpoint{}, fmt.Errorf("target %q: %v", spec, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return Endpoint{}, fmt.Errorf("target %q: scheme %q; want https (or http for a local sandbox)", spec, u.Scheme)
	case u.Hostname() == "":
		return Endpoint{}, fmt.Errorf("target %q: no host; want auth0:TENANT.auth0.com", spec)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return Endpoint{}, fmt.Errorf("target %q: give only the tenant's domain or base URL, without path, query or user info", spec)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return Endpoint{}, fmt.Errorf("target %q: plain http would send the client secret unencrypted; use https, or http only for a sandbox on 127.0.0.1/localhost", spec)
	}
	return Endpoint{BaseURL: &url.URL{Scheme: u.Scheme, Host: u.Host}}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Audience is the Management API identifier tokens are requested for.
func (e Endpoint) Audience() string { return e.BaseURL.String() + "/api/v2/" }

func (e Endpoint) String() string {
	if e.BaseURL == nil {
		return "auth0:(unset)"
	}
	return "auth0:" + e.BaseURL.String()
}

// Secret holds a credential. Every way of printing, logging or encoding it
// shows "*****"; only Reveal gives the value, for the token request.
type Secret string

const masked = "*****"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string   { return s.mask() }
func (s Secret) GoString() string { return s.mask() }

// Format makes every fmt verb, %x and %q included, print the mask.
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.mask()) }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalJSON keeps the secret out of any JSON a config ends up in.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.mask()) }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return masked
}

// Credentials are a machine-to-machine application's client credentials.
type Credentials struct {
	ClientID     string
	ClientSecret Secret
	// Source says where they came from ("environment" or a file path),
	// for error messages.
	Source string
}

// Environment variables read by CredentialsFromEnv.
const (
	EnvClientID     = "AUTH0_CLIENT_ID"
	EnvClientSecret = "AUTH0_CLIENT_SECRET"
)

// LoadCredentials reads credentials from path when it is set, else from
// the environment. There is deliberately no way to pass a secret as a
// flag: flags end up in shell history and process listings.
func LoadCredentials(path string) (Credentials, error) {
	if path != "" {
		return CredentialsFromFile(path)
	}
	return CredentialsFromEnv(os.Getenv)
}

// CredentialsFromEnv reads AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	c := Credentials{ClientID: getenv(EnvClientID), ClientSecret: Secret(getenv(EnvClientSecret)), Source: "environment"}
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, EnvClientID)
	}
	if c.ClientSecret == "" {
		missing = append(missing, EnvClientSecret)
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("no Auth0 credentials: set %s (from the Auth0 Dashboard: Applications > your machine-to-machine application > Settings) or give a credentials file", strings.Join(missing, " and "))
	}
	return c, nil
}

// CredentialsFromFile reads a credentials file that only its owner can
// read (mode 0600 or stricter). The file holds either JSON
// {"client_id": "...", "client_secret": "..."} or lines of
// client_id=... and client_secret=... (AUTH0_CLIENT_ID=... and
// AUTH0_CLIENT_SECRET=... are accepted too; # starts a comment).
func CredentialsFromFile(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("open credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return Credentials{}, fmt.Errorf("credentials file %s is not a regular file", path)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return Credentials{}, fmt.Errorf("credentials file %s can be read by other users (mode %04o); restrict it with: chmod 600 %s", path, perm, path)
	}
	data, err := readLimited(f, 64<<10)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials file %s: %w", path, err)
	}
	c, err := parseCredentials(data)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	c.Source = path
	return c, nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes; is it the right file?", limit)
	}
	return data, nil
}

func parseCredentials(data []byte) (Credentials, error) {
	var c Credentials
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		var doc struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			// The decoder's message could quote part of the file; say
			// only where it broke.
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				return Credentials{}, fmt.Errorf("not valid JSON (at byte %d)", syn.Offset)
			}
			return Credentials{}, errors.New(`not valid JSON; want {"client_id": "...", "client_secret": "..."}`)
		}
		c.ClientID, c.ClientSecret = doc.ClientID, Secret(doc.ClientSecret)
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			key, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok {
				return Credentials{}, fmt.Errorf("line %d: want key=value", n)
			}
			value = strings.Trim(strings.TrimSpace(value), `"'`)
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "client_id", "auth0_client_id":
				c.ClientID = value
			case "client_secret", "auth0_client_secret":
				c.ClientSecret = Secret(value)
			default:
				return Credentials{}, fmt.Errorf("line %d: unknown key %q; want client_id or client_secret", n, strings.TrimSpace(key))
			}
		}
	}
	switch {
	case c.ClientID == "":
		return Credentials{}, errors.New("no client_id")
	case c.ClientSecret == "":
		return Credentials{}, errors.New("no client_secret")
	}
	return c, nil
}

// Config configures a Client.
type Config struct {
	Endpoint    Endpoint
	Credentials Credentials
	// ConnectionID is the database connection users are imported into
	// (con_…).
	ConnectionID string
	// SendCompletionEmail asks Auth0 to e-mail every tenant administrator
	// when an import job finishes. Auth0's own default is true, which for a
	// migration of many chunks means one e-mail per job; this client sends
	// false unless this is set.
	SendCompletionEmail bool
	// HTTPClient carries API requests (default: a client with sane
	// timeouts). Export files are fetched with a separate, credential-free
	// request through the same transport.
	HTTPClient *http.Client
	// Retry tunes retries and waits; zero fields take defaults.
	Retry RetryPolicy
	// Logger receives one debug line per request (method, path, status,
	// attempt); never tokens, secrets or bodies. Default: discard.
	Logger *slog.Logger
	// UserAgent is sent with every request (default "provision").
	UserAgent string
}

// RetryPolicy bounds how a request is retried.
type RetryPolicy struct {
	// MaxAttempts per request, the first included (default 6).
	MaxAttempts int
	// MaxElapsed bounds the retries of one request (default 2 minutes).
	MaxElapsed time.Duration
	// MaxSubmitWait bounds how long an import POST keeps being refused
	// with 429 before giving up (default 15 minutes): the tenant's import
	// slots can be taken by someone else's jobs, which take minutes.
	MaxSubmitWait time.Duration
	// InitialBackoff and MaxBackoff shape the exponential backoff after a
	// 5xx or network error (defaults 500 ms and 30 s).
	InitialBackoff, MaxBackoff time.Duration
	// MinRateLimitWait and MaxRateLimitWait clamp the wait after a 429
	// that Retry-After or x-ratelimit-reset asks for (defaults 1 s, 60 s).
	// A 429 that names no wait is backed off exponentially instead.
	MinRateLimitWait, MaxRateLimitWait time.Duration
	// PollInitial and PollMax shape WaitJob's polling (defaults 1 s, 30 s).
	PollInitial, PollMax time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	def(&p.MaxElapsed, 2*time.Minute)
	def(&p.MaxSubmitWait, 15*time.Minute)
	def(&p.PollInitial, time.Second)
	def(&p.PollMax, 30*time.Second)
	def(&p.InitialBackoff, 500*time.Millisecond)
	def(&p.MaxBackoff, 30*time.Second)
	def(&p.MinRateLimitWait, time.Second)
	def(&p.MaxRateLimitWait, time.Minute)
	return p
}

// String describes the config without its secret.
func (c Config) String() string {
	return fmt.Sprintf("auth0.Config{Endpoint: %s, ClientID: %s, ClientSecret: %s, Connection: %s, SendCompletionEmail: %t}",
		c.Endpoint, c.Credentials.ClientID, c.Credentials.ClientSecret.mask(), c.ConnectionID, c.SendCompletionEmail)
}

// GoString makes %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// LogValue makes slog print the config without its secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint.String()),
		slog.String("client_id", c.Credentials.ClientID),
		slog.String("client_secret", c.Credentials.ClientSecret.mask()),
		slog.String("connection_id", c.ConnectionID),
	)
}
