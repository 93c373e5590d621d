package sandbox

import (
	"encoding/json"
	"time"

	"provision/engine/importuser"
)

// Timestamp marshals as Auth0 writes times: UTC with milliseconds,
// "2026-03-01T09:30:00.000Z".
type Timestamp struct{ time.Time }

const timestampLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.UTC().Format(timestampLayout))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	t.Time = v
	return err
}

// User is a user as the Management API returns it. It never holds a
// password hash or an MFA secret.
type User struct {
	UserID        string          `json:"user_id"`
	Email         string          `json:"email"`
	EmailVerified bool            `json:"email_verified"`
	Username      string          `json:"username,omitempty"`
	PhoneNumber   string          `json:"phone_number,omitempty"`
	PhoneVerified *bool           `json:"phone_verified,omitempty"`
	GivenName     string          `json:"given_name,omitempty"`
	FamilyName    string          `json:"family_name,omitempty"`
	Name          string          `json:"name,omitempty"`
	Nickname      string          `json:"nickname,omitempty"`
	Picture       string          `json:"picture,omitempty"`
	Blocked       bool            `json:"blocked,omitempty"`
	AppMetadata   json.RawMessage `json:"app_metadata,omitempty"`
	UserMetadata  json.RawMessage `json:"user_metadata,omitempty"`
	Identities    []Identity      `json:"identities"`
	CreatedAt     Timestamp       `json:"created_at"`
	UpdatedAt     Timestamp       `json:"updated_at"`
	LastLogin     *Timestamp      `json:"last_login,omitempty"`
	LastIP        string          `json:"last_ip,omitempty"`
	LoginsCount   int             `json:"logins_count,omitempty"`
}

// Identity links a user to its connection.
type Identity struct {
	Connection string `json:"connection"`
	UserID     string `json:"user_id"`
	Provider   string `json:"provider"`
	IsSocial   bool   `json:"isSocial"`
}

// userRecord is a user as the tenant stores it: the API view plus the
// credentials, which never leave the sandbox.
type userRecord struct {
	User
	// Seq numbers users in insertion order, the order lists show them in.
	Seq                uint64                         `json:"seq"`
	ConnectionID       string                         `json:"connection_id"`
	PasswordHash       string                         `json:"password_hash,omitempty"`
	CustomPasswordHash *importuser.CustomPasswordHash `json:"custom_password_hash,omitempty"`
	MFAFactors         json.RawMessage                `json:"mfa_factors,omitempty"`
}

// hasPassword reports whether the user can log in with a password.
func (u *userRecord) hasPassword() bool {
	return u.PasswordHash != "" || u.CustomPasswordHash != nil
}

// Job statuses as Auth0 reports them.
const (
	statusPending    = "pending"
	statusProcessing = "processing"
	statusCompleted  = "completed"
	statusFailed     = "failed"
)

// Job types.
const (
	jobImport = "users_import"
	jobExport = "users_export"
)

// jobRecord is a job as stored. Bulky parts (the uploaded file, the
// per-user errors, the export file) live in buckets of their own so that
// scanning jobs stays cheap.
type jobRecord struct {
	ID                  string        `json:"id"`
	Seq                 uint64        `json:"seq"`
	Type                string        `json:"type"`
	ConnectionID        string        `json:"connection_id,omitempty"`
	Connection          string        `json:"connection,omitempty"`
	ExternalID          string        `json:"external_id,omitempty"`
	Upsert              bool          `json:"upsert,omitempty"`
	SendCompletionEmail bool          `json:"send_completion_email,omitempty"`
	CreatedAt           time.Time     `json:"created_at"`
	Duration            time.Duration `json:"duration"`
	MustFail            bool          `json:"must_fail,omitempty"`
	// Done is set when the job reached completed or failed.
	Done          bool     `json:"done,omitempty"`
	Status        string   `json:"status,omitempty"`
	StatusDetails string   `json:"status_details,omitempty"`
	Summary       *Summary `json:"summary,omitempty"`
	ErrorCount    int      `json:"error_count,omitempty"`
	// Export parameters.
	Format string        `json:"format,omitempty"`
	Limit  int           `json:"limit,omitempty"`
	Fields []exportField `json:"fields,omitempty"`
}

// Summary counts an import job's users.
type Summary struct {
	Failed   int `json:"failed"`
	Updated  int `json:"updated"`
	Inserted int `json:"inserted"`
	Total    int `json:"total"`
}

// JobUserError is one user an import job did not import: the user as the
// file held it, with secrets replaced by "*****", and the reasons.
type JobUserError struct {
	User   json.RawMessage `json:"user"`
	Errors []UserError     `json:"errors"`
}

// UserError is one reason, with Auth0's error code.
type UserError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// Codes lists the error codes of e.
func (e JobUserError) Codes() []string {
	codes := make([]string, len(e.Errors))
	for i, ue := range e.Errors {
		codes[i] = ue.Code
	}
	return codes
}

type exportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

// connectionRecord is a database connection.
type connectionRecord struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	DisplayName        string          `json:"display_name,omitempty"`
	Strategy           string          `json:"strategy"`
	Options            json.RawMessage `json:"options"`
	EnabledClients     []string        `json:"enabled_clients"`
	Realms             []string        `json:"realms"`
	IsDomainConnection bool            `json:"is_domain_connection"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
}

// connectionOptions are the options the sandbox itself acts on.
type connectionOptions struct {
	BruteForceProtection *bool `json:"brute_force_protection"`
	RequiresUsername     bool  `json:"requires_username"`
	Validation           *struct {
		Username *struct {
			Min int `json:"min"`
			Max int `json:"max"`
		} `json:"username"`
	} `json:"validation"`
}

func (c *connectionRecord) options() connectionOptions {
	var o connectionOptions
	_ = json.Unmarshal(c.Options, &o) // validated on the way in
	return o
}

// usernameLength is the allowed username length: Auth0's default 1–15,
// or the connection's validation.username.
func (o connectionOptions) usernameLength() (lo, hi int) {
	lo, hi = 1, 15
	if o.Validation != nil && o.Validation.Username != nil {
		if o.Validation.Username.Min > 0 {
			lo = o.Validation.Username.Min
		}
		if o.Validation.Username.Max > 0 {
			hi = o.Validation.Username.Max
		}
	}
	return lo, hi
}

func (o connectionOptions) bruteForceProtection() bool {
	return o.BruteForceProtection == nil || *o.BruteForceProtection
}
