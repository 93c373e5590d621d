package reconcile

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"provision/storage"
)

// listLimit caps the rows a markdown report lists per bucket; the JSON
// report and the CSV carry all of them.
const listLimit = 100

// WriteJSON writes the report for scripts.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report for the client's hand-over document.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := &errWriter{w: w}
	bw.printf("# Migration reconciliation\n\n")
	bw.printf("- Source: `%s` (%d bytes, sha256 `%s`)\n", r.Source.Path, r.Source.Size, r.Source.SHA256)
	bw.printf("- Target: `%s`%s\n", r.Target, map[bool]string{true: " (upsert)", false: ""}[r.Upsert])
	bw.printf("- Generated: %s\n", r.Generated.Format("2006-01-02 15:04 MST"))
	if r.Complete {
		bw.printf("- Status: **complete**: every row has its final outcome\n\n")
	} else {
		bw.printf("- Status: **in progress**: %d rows are not migrated yet\n\n", r.Buckets[NotMigrated])
	}
	bw.printf("Every one of the source's **%d rows** is in exactly one bucket:\n\n", r.Rows)
	bw.printf("| Bucket | Rows | Share |\n|---|---:|---:|\n")
	for _, b := range Buckets {
		n := r.Buckets[b]
		if n == 0 && (b == NotMigrated || b == RolledBack) {
			continue
		}
		bw.printf("| %s | %d | %s |\n", bucketTitle(b), n, share(n, r.Rows))
	}
	bw.printf("| **Total** | **%d** | 100%% |\n\n", r.Sum())

	if len(r.Stages) > 0 {
		bw.printf("## Stages\n\n| Stage | State | Inserted | Updated | Failed | Not migrated | Rolled back |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, s := range r.Stages {
			bw.printf("| %s | %s | %d | %d | %d | %d | %d |\n", mdCell(s.Name), s.State,
				s.Buckets[Inserted], s.Buckets[Updated], s.Buckets[Failed], s.Buckets[NotMigrated], s.Buckets[RolledBack])
		}
		bw.printf("\n")
	}
	r.writeRows(bw, "Failed", "rejected by Auth0; fix them and import them again (the fix-and-rerun file lists them with the source's own columns)", r.FailedByCode, r.Failed)
	r.writeRows(bw, "Quarantined", "rejected by validation before anything was sent", r.QuarantinedByCode, r.Quarantined)
	if len(r.Skipped) > 0 {
		bw.printf("## Skipped duplicates (%d)\n\nRows that repeat an earlier row's email, username or user_id; the first row was imported.\n\n", len(r.Skipped))
		writeRowTable(bw, r.Skipped)
	}
	return bw.err
}

func (r *Report) writeRows(bw *errWriter, title, what string, byCode map[string]int, rows []Row) {
	if len(rows) == 0 {
		return
	}
	bw.printf("## %s (%d)\n\nRows %s.\n\n| Code | Rows |\n|---|---:|\n", title, len(rows), what)
	for _, c := range codes(byCode) {
		bw.printf("| %s | %d |\n", mdCell(c), byCode[c])
	}
	bw.printf("\n")
	writeRowTable(bw, rows)
}

func writeRowTable(bw *errWriter, rows []Row) {
	bw.printf("| Line | Email | Stage | Code | Reason |\n|---:|---|---|---|---|\n")
	for i, row := range rows {
		if i == listLimit {
			bw.printf("\n…and %d more (all of them are in `provision report --format json` and `--format csv`).\n", len(rows)-listLimit)
			break
		}
		bw.printf("| %d | %s | %s | %s | %s |\n", row.Line, mdCell(row.Email), mdCell(row.Stage), mdCell(row.Code), mdCell(row.Message))
	}
	bw.printf("\n")
}

func bucketTitle(b Bucket) string {
	switch b {
	case NotMigrated:
		return "Not migrated yet"
	case RolledBack:
		return "Rolled back"
	case Skipped:
		return "Skipped (duplicate)"
	}
	return strings.ToUpper(string(b[:1])) + string(b[1:])
}

func share(n, total int) string {
	if total == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// mdCell keeps a value from breaking the table it sits in.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// CSVHeader is the header of the per-row CSV.
var CSVHeader = []string{"row", "line", "email", "stage", "bucket", "user_id", "code", "message"}

// WriteCSV writes one line per source row, in row order, streaming from
// the journal: every row with its bucket, for a spreadsheet. Cells a
// spreadsheet would run as a formula are neutralized.
func WriteCSV(ctx context.Context, j *storage.Journal, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for u, err := range j.Users(ctx, storage.UserFilter{}) {
		if err != nil {
			return err
		}
		rec := []string{strconv.FormatUint(uint64(u.Row), 10), strconv.Itoa(u.Line), u.Email, u.Stage,
			string(BucketOf(u.State)), u.UserID, u.ErrorCode, u.ErrorMessage}
		for i := range rec {
			rec[i] = Neutralize(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Neutralize keeps a spreadsheet from running a cell as a formula: a cell
// starting with = + - @ (or a tab or carriage return, which some
// spreadsheets skip) gets a leading apostrophe.
func Neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
