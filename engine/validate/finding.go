// Package validate checks legacy user records against Auth0's import rules
// and turns each valid one into the importuser.User that will be sent. It
// streams: one row in, one Result out, with a compact duplicate index as the
// only state that grows with the file.
package validate

import "fmt"

// Severity of a finding. Errors quarantine the row; warnings don't.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one problem in one record. Line is where the record starts in
// the source (a CSV header is line 1); Field is the Auth0 field name, or "*"
// for the whole record. Message names the offending value (never a secret);
// Hint says how to fix it.
type Finding struct {
	Line     int      `json:"line"`
	Field    string   `json:"field"`
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("line %d, field %s: %s [%s]", f.Line, f.Field, f.Message, f.Code)
	if f.Hint != "" {
		s += "; fix: " + f.Hint
	}
	return s
}

// Finding codes. They are stable: scripts and reports key on them.
const (
	CodeBrokenRecord        = "BROKEN_RECORD"
	CodeUnknownColumn       = "UNKNOWN_COLUMN"
	CodeEmailMissing        = "EMAIL_MISSING"
	CodeEmailInvalid        = "EMAIL_INVALID"
	CodeEmailTooLong        = "EMAIL_TOO_LONG"
	CodeDuplicateEmail      = "DUPLICATE_EMAIL"
	CodeDuplicateUsername   = "DUPLICATE_USERNAME"
	CodeDuplicateUserID     = "DUPLICATE_USER_ID"
	CodeUsernameLength      = "USERNAME_LENGTH"
	CodeUsernameChars       = "USERNAME_CHARACTERS"
	CodeUsernameIsEmail     = "USERNAME_IS_EMAIL"
	CodeInvalidBoolean      = "INVALID_BOOLEAN"
	CodeUserIDInvalid       = "USER_ID_INVALID"
	CodeUserIDPrefix        = "USER_ID_PREFIX"
	CodePhoneInvalid        = "PHONE_INVALID"
	CodeMetadataInvalid     = "METADATA_INVALID"
	CodeMetadataReservedKey = "METADATA_RESERVED_KEY"
	CodeNameLength          = "NAME_LENGTH"
	CodeNameLengthDisputed  = "NAME_LENGTH_DISPUTED"
	CodePictureInvalid      = "PICTURE_INVALID"
	CodeMFAInvalid          = "MFA_FACTORS_INVALID"
	CodeHashConflict        = "HASH_CONFLICT"
	CodeHashInvalid         = "HASH_INVALID"
	CodePasswordNotImported = "PASSWORD_NOT_IMPORTABLE"
	CodeHashWarning         = "HASH_ASSUMPTION"
	CodeUserTooLarge        = "USER_TOO_LARGE"
)
