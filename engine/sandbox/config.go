package sandbox

import (
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for Config. Limits follow docs/auth0.md §2–§5.
const (
	DefaultClientID       = "provision-sandbox"
	DefaultConnectionID   = "con_sandbox000000001"
	DefaultConnectionName = "Username-Password-Authentication"
	// DefaultMaxFileSize is Auth0's "500 KB" import file limit, read as
	// 500×1000 bytes: the stricter reading, so a file the sandbox accepts
	// is never too big for Auth0 whichever unit Auth0 means.
	DefaultMaxFileSize   = 500 * 1000
	DefaultMaxJobs       = 2
	DefaultJobTimeout    = 2 * time.Hour
	DefaultJobRetention  = 24 * time.Hour
	DefaultTokenLifetime = 24 * time.Hour
	// DefaultBruteForceThreshold is Auth0's default: 10 failed logins from
	// one IP address to one account.
	DefaultBruteForceThreshold = 10
	// ExportLinkLifetime is how long an export's download link works.
	ExportLinkLifetime = 60 * time.Second
)

// Management API scopes the sandbox checks.
const (
	ScopeCreateUsers       = "create:users"
	ScopeReadUsers         = "read:users"
	ScopeUpdateUsers       = "update:users"
	ScopeDeleteUsers       = "delete:users"
	ScopeReadConnections   = "read:connections"
	ScopeUpdateConnections = "update:connections"
)

// DefaultScopes are granted to the client when Config.Scopes is nil: all
// that provision needs.
var DefaultScopes = []string{
	ScopeCreateUsers, ScopeReadUsers, ScopeUpdateUsers, ScopeDeleteUsers,
	ScopeReadConnections, ScopeUpdateConnections,
}

// connectionIDPattern is the form Auth0 requires of connection_id.
var connectionIDPattern = regexp.MustCompile(`^con_[A-Za-z0-9]{16}$`)

// Config describes a sandbox tenant. The zero value is usable: an
// in-memory tenant with default credentials, a generated secret, no rate
// limit, no faults and jobs that finish as soon as they are next looked at.
type Config struct {
	// ClientID and ClientSecret are the machine-to-machine credentials the
	// tenant accepts. An empty secret is generated; with DataDir it is
	// kept there, so a restarted sandbox accepts the same one.
	ClientID     string
	ClientSecret string
	// Scopes granted to the client (nil: DefaultScopes). Tokens carry the
	// scopes asked for, or all granted ones when none are asked for.
	Scopes []string

	// ConnectionID and ConnectionName name the database connection users
	// are imported into. The ID must match ^con_[A-Za-z0-9]{16}$ as on
	// Auth0.
	ConnectionID   string
	ConnectionName string

	// DataDir keeps the tenant in DataDir/sandbox.db (created 0600) so
	// users, jobs and connections survive a restart. Empty: in memory only,
	// no file at all.
	DataDir string

	// MaxFileSize is the largest users file accepted (413 above it).
	MaxFileSize int64
	// MaxConcurrentImports is how many import jobs may be pending or
	// processing at once; one more is refused with 429.
	MaxConcurrentImports int
	// JobDuration is how long a job takes from creation to its end: a
	// fifth of it pending, the rest processing. Zero: jobs end the first
	// time anything looks at them after creation.
	JobDuration time.Duration
	// JobTimeout fails a job that has not finished after this long.
	JobTimeout time.Duration
	// JobRetention deletes a job and its results this long after creation.
	JobRetention time.Duration
	// TokenLifetime is the expires_in of issued tokens.
	TokenLifetime time.Duration

	// RateLimit is the Management API token bucket's refill rate and
	// RateBurst its size; a zero RateLimit turns rate limiting off. A zero
	// burst means a bucket of one second's refill (at least 1).
	RateLimit rate.Limit
	RateBurst int

	// FailRate is the fraction of Management API requests answered with
	// one of FailKinds (all kinds when empty), chosen at random.
	FailRate  float64
	FailKinds []FaultKind
	// JobFailRate is the fraction of import jobs that end failed.
	JobFailRate float64
	// Seed seeds the random choices of FailRate and JobFailRate; zero
	// seeds from the system's random source.
	Seed uint64

	// BruteForceThreshold is how many failed logins from one IP address to
	// one account block further attempts (429 too_many_attempts).
	BruteForceThreshold int

	// Now is the tenant's clock (time.Now when nil). Job progress, token
	// expiry, rate limiting and retention all read it, so tests can drive
	// time instead of sleeping.
	Now func() time.Time
	// Logger receives job outcomes and injected faults at Info, one line
	// per request at Debug; secrets and request bodies are never logged.
	// Nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Scopes == nil {
		c.Scopes = DefaultScopes
	}
	if c.ConnectionID == "" {
		c.ConnectionID = DefaultConnectionID
	}
	if c.ConnectionName == "" {
		c.ConnectionName = DefaultConnectionName
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.MaxConcurrentImports == 0 {
		c.MaxConcurrentImports = DefaultMaxJobs
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.JobRetention == 0 {
		c.JobRetention = DefaultJobRetention
	}
	if c.TokenLifetime == 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.RateLimit > 0 && c.RateBurst == 0 {
		c.RateBurst = max(1, int(c.RateLimit))
	}
	if len(c.FailKinds) == 0 {
		c.FailKinds = []FaultKind{FaultInternalError, FaultUnavailable, FaultHang}
	}
	if c.BruteForceThreshold == 0 {
		c.BruteForceThreshold = DefaultBruteForceThreshold
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	if !connectionIDPattern.MatchString(c.ConnectionID) {
		return fmt.Errorf("connection id %q does not match Auth0's pattern ^con_[A-Za-z0-9]{16}$ (\"con_\" and 16 letters or digits, e.g. %s)", c.ConnectionID, DefaultConnectionID)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"fail rate", c.FailRate}, {"job fail rate", c.JobFailRate}} {
		if f.v < 0 || f.v > 1 {
			return fmt.Errorf("%s %v is not a fraction between 0 and 1", f.name, f.v)
		}
	}
	switch {
	case c.MaxFileSize < 0:
		return fmt.Errorf("max file size %d is negative", c.MaxFileSize)
	case c.MaxConcurrentImports < 0:
		return fmt.Errorf("max concurrent imports %d is negative", c.MaxConcurrentImports)
	case c.JobDuration < 0:
		return fmt.Errorf("job duration %v is negative", c.JobDuration)
	case c.RateLimit < 0:
		return fmt.Errorf("rate limit %v is negative", c.RateLimit)
	case c.TokenLifetime < 0:
		return fmt.Errorf("token lifetime %v is negative", c.TokenLifetime)
	}
	for _, k := range c.FailKinds {
		if !k.valid() {
			return fmt.Errorf("unknown fault kind %d", int(k))
		}
	}
	return nil
}

// ParseRate reads a rate such as "16/s", "120/m" or "2" (per second).
// "0" and "" mean no limit.
func ParseRate(s string) (rate.Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	per := time.Second
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			return 0, fmt.Errorf("rate %q: unit must be s, m or h, as in 16/s", s)
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("rate %q: want a number of requests per unit, as in 16/s", s)
	}
	return rate.Limit(n / per.Seconds()), nil
}
