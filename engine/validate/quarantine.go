package validate

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"

	"provision/engine/source"
)

// QuarantineWriter writes rejected rows as a fix-and-rerun CSV: the columns
// line and reason first, then the row exactly as the source had it
// (hashes included, so a fixed file can be validated again). Cells that a
// spreadsheet would run as a formula are neutralized.
type QuarantineWriter struct {
	f      *os.File
	w      *csv.Writer
	header []string // source columns; nil until the first row
	json   bool     // the source is JSON: write the mapped fields
	rows   int
}

// CreateQuarantine creates path with mode 0600 (the file holds user data and
// password hashes), truncating an earlier one.
func CreateQuarantine(path string) (*QuarantineWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating quarantine file: %w", err)
	}
	// O_CREATE honours the umask only for new files; an existing file
	// keeps its mode, so tighten it explicitly.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("securing quarantine file %s: %w", path, err)
	}
	return &QuarantineWriter{f: f, w: csv.NewWriter(f)}, nil
}

// Start fixes the columns: the CSV header for CSV sources, nil for JSON
// sources (the mapped Auth0 fields are written instead).
func (q *QuarantineWriter) Start(sourceHeader []string) error {
	q.json = sourceHeader == nil
	cols := sourceHeader
	if q.json {
		cols = source.Fields
	}
	q.header = cols
	return q.w.Write(append([]string{"line", "reason"}, neutralizeAll(cols)...))
}

// Add writes res if it was quarantined.
func (q *QuarantineWriter) Add(res *Result) error {
	if !res.Quarantined {
		return nil
	}
	q.rows++
	rec := []string{strconv.Itoa(res.Line), neutralize(reason(res))}
	if q.json {
		rec = append(rec, neutralizeAll(rowValues(res.Row))...)
	} else {
		rec = append(rec, neutralizeAll(res.Row.RawCells)...)
	}
	return q.w.Write(rec)
}

// Rows is the number of rows written.
func (q *QuarantineWriter) Rows() int { return q.rows }

// Close flushes and closes the file.
func (q *QuarantineWriter) Close() error {
	q.w.Flush()
	err := q.w.Error()
	if cerr := q.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func reason(res *Result) string {
	var parts []string
	for _, f := range res.Findings {
		if f.Severity == SeverityError {
			parts = append(parts, fmt.Sprintf("%s: %s (%s)", f.Field, f.Message, f.Code))
		}
	}
	return strings.Join(parts, "; ")
}

// rowFields points at a row's mapped values, in source.Fields order.
func rowFields(r *source.Row) []*string {
	return []*string{&r.Email, &r.EmailVerified, &r.PhoneNumber, &r.PhoneVerified, &r.UserID, &r.Username,
		&r.GivenName, &r.FamilyName, &r.Name, &r.Nickname, &r.Picture, &r.Blocked,
		&r.AppMetadata, &r.UserMetadata, &r.MFAFactors,
		&r.PasswordHash, &r.CustomPasswordHash, &r.PasswordAlgorithm, &r.PasswordSalt, &r.SaltPosition, &r.PasswordEncoding}
}

func rowValues(r source.Row) []string {
	ptrs := rowFields(&r)
	out := make([]string, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

func neutralizeAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = neutralize(c)
	}
	return out
}

// neutralize defuses spreadsheet formula injection (a cell starting with
// = + - @, or a tab/CR that some spreadsheets skip) by prefixing a quote.
// Plain numbers such as +12125550100 or -5 are not formulas and are left
// alone, so phone numbers survive a fix-and-rerun round trip.
func neutralize(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '@', '\t', '\r':
		return "'" + cell
	case '+', '-':
		if isPlainNumber(cell[1:]) {
			return cell
		}
		return "'" + cell
	}
	return cell
}

func isPlainNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// isQuarantineFile recognises a quarantine file fed back after fixing.
func isQuarantineFile(header []string) bool {
	return len(header) >= 2 && strings.EqualFold(header[0], "line") && strings.EqualFold(header[1], "reason")
}

// unneutralizeRow undoes neutralize on a quarantine file being re-run, so a
// hash or name that starts with + - = @ comes back exactly as it was.
func unneutralizeRow(r *source.Row) {
	for _, p := range rowFields(r) {
		*p = unneutralize(*p)
	}
	for i, c := range r.RawCells {
		r.RawCells[i] = unneutralize(c)
	}
}

func unneutralize(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' && neutralize(cell[1:]) == cell {
		return cell[1:]
	}
	return cell
}
