// Package target defines what a migration needs from the place users go:
// submit an import file as a job, follow the job to its end, read the
// per-user errors, and look up or delete single users. The staged executor
// drives any Target the same way; auth0/ speaks Auth0's Management API (and
// so also the local sandbox), file/ writes import files to a directory.
package target

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"provision/engine/importuser"
)

// Target is a destination for users. Implementations must be safe for
// concurrent use: the upload pipeline keeps several jobs in flight.
type Target interface {
	// Submit sends one import file as a job and returns the job as the
	// target first reports it (usually pending).
	Submit(ctx context.Context, s Submission) (Job, error)
	// Job reports a job's current state.
	Job(ctx context.Context, id string) (Job, error)
	// JobErrors lists the users a finished job did not import and why.
	// A job without per-user errors yields an empty slice and no error.
	JobErrors(ctx context.Context, id string) ([]JobUserError, error)
	// UsersByEmail finds the users the target holds under an email
	// address. None found is an empty slice, not an error.
	UsersByEmail(ctx context.Context, email string) ([]User, error)
	// DeleteUser removes one user by the target's user id. Deleting a
	// user that does not exist is not an error: the goal state holds.
	DeleteUser(ctx context.Context, userID string) error
}

// ErrUnsupported is returned (wrapped) by targets that cannot perform an
// operation at all, such as looking users up in a directory of files.
var ErrUnsupported = errors.New("not supported by this target")

// Submission is one import file ready to become a job.
type Submission struct {
	// Seq is the 1-based number of this file within the run. The file
	// target names the file after it (users-0001.json); the Auth0 target
	// uses the same name for the uploaded part, so a job in the tenant's
	// logs can be matched to a file on disk.
	Seq int
	// Data is the import file: a JSON array of users, as chunk packs it.
	Data []byte
	// Users is how many users Data holds.
	Users int
	// Upsert asks the target to update users that already exist (matched
	// on email) instead of failing them as duplicates.
	Upsert bool
	// ExternalID is an optional correlation id echoed in the job status.
	ExternalID string
	// Validated says every user in Data passed engine/validate, which
	// checks each one against Auth0's rules: a target that would check the
	// whole file against the import schema may trust it.
	Validated bool
}

// FileName is the name the file carries on disk and in the upload.
func (s Submission) FileName() string { return FileName(s.Seq) }

// FileName names the import file with the given sequence number.
func FileName(seq int) string { return fmt.Sprintf("users-%04d.json", seq) }

// JobStatus is a job's life-cycle state as Auth0 reports it.
type JobStatus string

// Auth0 documents pending, completed and failed; its older pages add
// processing and expired (docs/auth0.md §2). All five are handled.
const (
	StatusPending    JobStatus = "pending"
	StatusProcessing JobStatus = "processing"
	StatusCompleted  JobStatus = "completed"
	StatusFailed     JobStatus = "failed"
	StatusExpired    JobStatus = "expired"
)

// Terminal reports whether the job will not change any more. An unknown
// status is treated as still running, so a new Auth0 state is polled
// rather than mistaken for an outcome.
func (s JobStatus) Terminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusExpired:
		return true
	}
	return false
}

// Job is an import (or export) job as the target reports it.
type Job struct {
	ID           string
	Type         string // users_import, users_export
	Status       JobStatus
	ConnectionID string
	ExternalID   string
	CreatedAt    time.Time
	// PercentageDone and TimeLeft are progress hints Auth0 gives while a
	// job is processing; zero when absent.
	PercentageDone int
	TimeLeft       time.Duration
	// Location is where an export job's file can be downloaded (valid for
	// a short time only).
	Location string
	// StatusDetails explains a failed job, when the target says why.
	StatusDetails string
	Summary       Summary
}

// Summary counts a finished import job's users.
type Summary struct {
	Inserted int
	Updated  int
	Failed   int
	Total    int
}

// JobUserError is one user a job did not import.
type JobUserError struct {
	// User is the user as the file held it, with every secret masked
	// (importuser.User.Redacted): safe to log and journal.
	User   importuser.User
	Errors []UserError
}

// Codes lists the error codes of e, for the journal.
func (e JobUserError) Codes() []string {
	codes := make([]string, len(e.Errors))
	for i, ue := range e.Errors {
		codes[i] = ue.Code
	}
	return codes
}

// UserError is one reason a user was rejected, e.g. DUPLICATED_USER.
type UserError struct {
	Code    string
	Message string
	Path    string
}

// User is a user as the target holds it.
type User struct {
	UserID        string
	Email         string
	EmailVerified bool
	Identities    []Identity
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Identity links a user to the connection that holds its credentials.
type Identity struct {
	Connection string
	Provider   string
	UserID     string
}

// Spec is a parsed --target value such as "auth0:acme.eu.auth0.com" or
// "file:import/".
type Spec struct {
	Kind  string // "auth0" or "file"
	Value string // domain or base URL for auth0, a directory for file
}

func (s Spec) String() string { return s.Kind + ":" + s.Value }

// ParseSpec splits a target spec into its kind and value. Each kind's
// package parses the value further (auth0.ParseTargetSpec).
func ParseSpec(spec string) (Spec, error) {
	kind, value, ok := strings.Cut(spec, ":")
	if !ok || value == "" {
		return Spec{}, fmt.Errorf("target %q: want auth0:TENANT.auth0.com, auth0:http://HOST:PORT or file:DIR", spec)
	}
	switch kind {
	case "auth0", "file":
		return Spec{Kind: kind, Value: value}, nil
	}
	return Spec{}, fmt.Errorf("target %q: unknown kind %q; want auth0: or file:", spec, kind)
}

// Local is a target that does its work at once and can be given the same
// file again harmlessly, such as a directory of import files. The
// executor hands it many chunks at a time and journals them together,
// where a tenant's import jobs are journaled step by step.
type Local interface {
	Target
	// SubmitBatch submits every file and returns their jobs, in order,
	// each already finished. After an error some files may have been
	// written; submitting them again is harmless.
	SubmitBatch(ctx context.Context, subs []Submission) ([]Job, error)
}
