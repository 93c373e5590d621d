package advisor

import (
	"unicode/utf8"

	"provision/engine/plan/policy"
	"provision/engine/validate"
)

// Tally gathers the per-row numbers that the validation report does not
// keep (users without a user_id or a username, the range of username
// lengths). Pass its Add as validate.RunOptions.OnResult, then call Data
// with the report.
type Tally struct {
	// Username is the rule usernames are counted against.
	Username policy.Username

	noUserID, noUsername int
	userMin, userMax     int
	tooShort, tooLong    int
}

// Add counts one validated row.
func (t *Tally) Add(res *validate.Result) error {
	if res.Row.Broken != nil {
		return nil
	}
	if res.Row.UserID == "" {
		t.noUserID++
	}
	if res.Row.Username == "" {
		t.noUsername++
		return nil
	}
	n := utf8.RuneCountInString(res.Row.Username)
	if t.userMin == 0 || n < t.userMin {
		t.userMin = n
	}
	t.userMax = max(t.userMax, n)
	switch {
	case t.Username.Min > 0 && n < t.Username.Min:
		t.tooShort++
	case t.Username.Max > 0 && n > t.Username.Max:
		t.tooLong++
	}
	return nil
}

// Data summarises a validation report and the tally of the same run.
func (t *Tally) Data(r *validate.Report) Data {
	return Data{
		File: r.File, Rows: r.Rows, Valid: r.Valid, Quarantined: r.Quarantined,
		Duplicates: r.Duplicates, Warnings: r.Warnings,
		Hashes: r.HashAlgorithms, Codes: r.ByCode,
		NoUserID: t.noUserID, NoUsername: t.noUsername, UsernameMin: t.userMin, UsernameMax: t.userMax,
		UsernameTooShort: t.tooShort, UsernameTooLong: t.tooLong,
	}
}
