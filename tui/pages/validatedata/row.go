package validatedata

import (
	"provision/engine/source"
)

// shownRow is a source record as the finding detail shows it, with every
// secret already replaced by the mask: rows are masked when they are
// captured, so no hash is ever held for display.
type shownRow struct {
	Line   int
	Cells  []shownCell
	Broken string // why the record could not be read, if it could not
}

// shownCell is one value of a record: the source column (CSV) or the
// Auth0 field (JSON) and what it maps to.
type shownCell struct {
	Column string
	Field  string
	Value  string
}

// captureRow masks and copies row. For CSV sources the cells are shown
// against the header, so the operator sees the record as in the file;
// JSON records are shown by field.
func captureRow(row source.Row, header []string, fieldOf map[string]string) shownRow {
	out := shownRow{Line: row.Line}
	if row.Broken != nil {
		out.Broken = row.Broken.Error()
	}
	if header != nil && row.RawCells != nil {
		for i, v := range row.RawCells {
			col := ""
			if i < len(header) {
				col = header[i]
			}
			f := fieldOf[col]
			if v != "" && secret(col, f) {
				v = mask
			}
			out.Cells = append(out.Cells, shownCell{Column: col, Field: f, Value: v})
		}
		return out
	}
	for _, fv := range rowFields(&row) {
		if fv.value == "" {
			continue
		}
		v := fv.value
		if sensitive[fv.field] {
			v = mask
		}
		out.Cells = append(out.Cells, shownCell{Column: fv.field, Field: fv.field, Value: v})
	}
	return out
}

type fieldValue struct{ field, value string }

// rowFields lists a Row's values in source.Fields order.
func rowFields(r *source.Row) []fieldValue {
	vals := []string{
		r.Email, r.EmailVerified, r.PhoneNumber, r.PhoneVerified, r.UserID, r.Username,
		r.GivenName, r.FamilyName, r.Name, r.Nickname, r.Picture, r.Blocked,
		r.AppMetadata, r.UserMetadata, r.MFAFactors,
		r.PasswordHash, r.CustomPasswordHash, r.PasswordAlgorithm, r.PasswordSalt, r.SaltPosition, r.PasswordEncoding,
	}
	out := make([]fieldValue, 0, len(vals))
	for i, f := range source.Fields {
		if i < len(vals) {
			out = append(out, fieldValue{f, vals[i]})
		}
	}
	return out
}
