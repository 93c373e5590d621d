// Package verify checks, after a stage, that its users really are in the
// target: a sample of them is looked up by email, and canaries (users
// whose passwords the operator knows) log in with the password-realm
// grant, which proves that their imported password hash works. Passwords
// live in memory only and never appear in a result, error or log.
package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"provision/engine/run/outcome"
	"provision/engine/target"
	"provision/storage"
)

// Logger logs a user in with a password. It returns nil on success,
// ErrWrongPassword when the target refuses the password,
// ErrLoginUnavailable when the target does not offer password logins to
// this client, and any other error when the attempt says nothing either
// way.
type Logger interface {
	Login(ctx context.Context, email, password string) error
}

var (
	// ErrWrongPassword: the target refused the password. For an imported
	// user this means its hash did not survive the migration.
	ErrWrongPassword = errors.New("wrong email or password")
	// ErrLoginUnavailable: the tenant does not allow the password-realm
	// grant for this application; logins are skipped, not failed.
	ErrLoginUnavailable = errors.New("password logins are not enabled for this application")
)

// Checker verifies stages against one target.
type Checker struct {
	Target target.Target
	// Connection is the database connection's name, to tell its users
	// from same-email users of other connections ("" accepts any
	// database connection).
	Connection string
	// Login is nil when no logins are possible (no canaries, or a target
	// without a login endpoint).
	Login    Logger
	Canaries *Canaries
}

// User is one user to check, as the journal holds it.
type User struct {
	Row    storage.RowID
	Email  string
	UserID string
}

// Report is what a stage's verification found. It names users by email
// only.
type Report struct {
	Sampled int
	Found   int
	// Missing lists sampled users the target does not hold.
	Missing []string
	// UserIDs are the target ids of found users whose id the journal did
	// not know yet, by row.
	UserIDs map[storage.RowID]string
	// Logins counts canary login attempts, LoginsOK those that worked.
	Logins, LoginsOK int
	// LoginFailures say which canary could not log in, and why.
	LoginFailures []string
	// Notes say what could not be checked and why.
	Notes []string
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return len(r.Missing) == 0 && len(r.LoginFailures) == 0 }

// Problems lists what was found wrong, for a gate's reason.
func (r Report) Problems() []string {
	var out []string
	for _, m := range r.Missing {
		out = append(out, fmt.Sprintf("<%s> is not in the target", m))
	}
	return append(out, r.LoginFailures...)
}

// Check looks every sampled user up by email and logs every canary in.
// An error means the target could not be asked (network, rate limit): the
// verification is incomplete rather than failed, and may be repeated.
func (c *Checker) Check(ctx context.Context, sample, canaries []User) (Report, error) {
	r := Report{UserIDs: map[storage.RowID]string{}}
	for _, u := range sample {
		users, err := c.Target.UsersByEmail(ctx, u.Email)
		if errors.Is(err, target.ErrUnsupported) {
			r.Notes = append(r.Notes, "the target cannot look users up; nothing was verified")
			r.Sampled = 0
			break
		}
		if err != nil {
			return r, fmt.Errorf("verify <%s>: %w", u.Email, err)
		}
		r.Sampled++
		found, ok := outcome.InConnection(users, c.Connection)
		if !ok {
			r.Missing = append(r.Missing, u.Email)
			continue
		}
		r.Found++
		if u.UserID == "" && found.UserID != "" {
			r.UserIDs[u.Row] = found.UserID
		}
	}
	if len(canaries) == 0 {
		return r, nil
	}
	if c.Login == nil {
		r.Notes = append(r.Notes, fmt.Sprintf("%d canaries not logged in: the target has no login endpoint", len(canaries)))
		return r, nil
	}
	for _, u := range canaries {
		pw, ok := c.Canaries.password(u.Email)
		if !ok {
			continue
		}
		r.Logins++
		err := c.Login.Login(ctx, u.Email, pw)
		switch {
		case err == nil:
			r.LoginsOK++
		case errors.Is(err, ErrLoginUnavailable):
			r.Logins--
			r.Notes = append(r.Notes, "canary logins skipped: "+err.Error())
			return r, nil
		case errors.Is(err, ErrWrongPassword):
			r.LoginFailures = append(r.LoginFailures, fmt.Sprintf("canary <%s> cannot log in: the target refused its known password (check the hash conversion with provision validate --credentials)", u.Email))
		case ctx.Err() != nil:
			return r, ctx.Err()
		default:
			r.Notes = append(r.Notes, fmt.Sprintf("canary <%s> not verified: %v", u.Email, err))
			r.Logins--
		}
	}
	return r, nil
}

// Spread picks up to n of total positions (0-based), evenly spaced, so
// that a sample covers the whole stage. The same total and n always give
// the same positions.
func Spread(total, n int) []int {
	if n <= 0 || total <= 0 {
		return nil
	}
	n = min(n, total)
	out := make([]int, 0, n)
	for i := range n {
		p := i * total / n
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return slices.Clip(out)
}
