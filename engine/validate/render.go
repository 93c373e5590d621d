package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"provision/engine/importuser"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report in its script-facing form.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the summary first, then every finding with its fix.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%s (%s): %d rows, %d valid, %d quarantined", r.File, r.Format, r.Rows, r.Valid, r.Quarantined)
	if r.Duplicates > 0 {
		ew.printf(" (%d duplicates)", r.Duplicates)
	}
	ew.printf(", %d warnings\n", r.Warnings)
	if len(r.HashAlgorithms) > 0 {
		ew.printf("\nPassword hashes:\n")
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		for _, kv := range SortedCounts(r.HashAlgorithms) {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", kv.Key, kv.N, familyNote(kv.Key))
		}
		tw.Flush()
	}
	if len(r.ByCode) > 0 {
		ew.printf("\nFindings by code:\n")
		sev := r.severityByCode()
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', 0)
		for _, kv := range SortedCounts(r.ByCode) {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", kv.Key, kv.N, sev[kv.Key])
		}
		tw.Flush()
	}
	if len(r.Canaries) > 0 {
		ew.printf("\nCredential canaries: %d of %d verified\n", r.verifiedCanaries(), len(r.Canaries))
		for _, c := range r.Canaries {
			mark := "ok  "
			if !c.Verified {
				mark = "FAIL"
			}
			ew.printf("  %s %s (line %d, %s)", mark, c.Email, c.Line, c.Algorithm)
			if c.Problem != "" {
				ew.printf(": %s", c.Problem)
			}
			ew.printf("\n")
		}
	}
	if len(r.Findings) > 0 {
		ew.printf("\nFindings:\n")
		for _, f := range r.Findings {
			ew.printf("  %s:%d %s %s: %s [%s]\n", r.File, f.Line, f.Severity, f.Field, f.Message, f.Code)
			if f.Hint != "" {
				ew.printf("      fix: %s\n", f.Hint)
			}
		}
	}
	if r.FindingsOmitted > 0 {
		ew.printf("  … %d more findings not shown (raise --max-findings to see them)\n", r.FindingsOmitted)
	}
	return ew.err
}

// WriteMarkdown writes the report for a consultant's hand-over document.
func (r *Report) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("# Validation of `%s`\n\n", mdCode(r.File))
	ew.printf("| Rows | Valid | Quarantined | of which duplicates | Warnings |\n|---:|---:|---:|---:|---:|\n")
	ew.printf("| %d | %d | %d | %d | %d |\n\n", r.Rows, r.Valid, r.Quarantined, r.Duplicates, r.Warnings)
	if len(r.HashAlgorithms) > 0 {
		ew.printf("## Password hashes\n\n| Algorithm | Users | Import |\n|---|---:|---|\n")
		for _, kv := range SortedCounts(r.HashAlgorithms) {
			ew.printf("| %s | %d | %s |\n", mdCell(kv.Key), kv.N, familyNote(kv.Key))
		}
		ew.printf("\n")
	}
	if len(r.ByCode) > 0 {
		sev := r.severityByCode()
		ew.printf("## Findings by code\n\n| Code | Count | Severity |\n|---|---:|---|\n")
		for _, kv := range SortedCounts(r.ByCode) {
			ew.printf("| %s | %d | %s |\n", kv.Key, kv.N, sev[kv.Key])
		}
		ew.printf("\n")
	}
	if len(r.Canaries) > 0 {
		ew.printf("## Credential canaries (%d of %d verified)\n\n| Email | Line | Algorithm | Verified | Note |\n|---|---:|---|---|---|\n",
			r.verifiedCanaries(), len(r.Canaries))
		for _, c := range r.Canaries {
			ew.printf("| %s | %d | %s | %v | %s |\n", mdCell(c.Email), c.Line, mdCell(c.Algorithm), c.Verified, mdCell(c.Problem))
		}
		ew.printf("\n")
	}
	if len(r.Findings) > 0 {
		ew.printf("## Findings\n\n| Line | Field | Severity | Code | Problem | Fix |\n|---:|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			ew.printf("| %d | %s | %s | %s | %s | %s |\n", f.Line, mdCell(f.Field), f.Severity, f.Code, mdCell(f.Message), mdCell(f.Hint))
		}
		if r.FindingsOmitted > 0 {
			ew.printf("\n%d more findings are not listed.\n", r.FindingsOmitted)
		}
	}
	return ew.err
}

func (r *Report) verifiedCanaries() int {
	n := 0
	for _, c := range r.Canaries {
		if c.Verified {
			n++
		}
	}
	return n
}

// severityByCode: every code has a fixed severity, learned from findings.
func (r *Report) severityByCode() map[string]Severity {
	m := make(map[string]Severity, len(r.ByCode))
	for _, f := range r.Findings {
		m[f.Code] = f.Severity
	}
	for code := range r.ByCode {
		if m[code] == "" {
			m[code] = codeSeverity[code]
		}
	}
	return m
}

var codeSeverity = map[string]Severity{
	CodeUnknownColumn: SeverityWarning, CodeUserIDPrefix: SeverityWarning, CodeNameLengthDisputed: SeverityWarning,
	CodePictureInvalid: SeverityWarning, CodePasswordNotImported: SeverityWarning, CodeHashWarning: SeverityWarning,
}

func familyNote(family string) string {
	switch family {
	case "none":
		return "no password: users reset it, or use automatic migration"
	case "invalid", "conflict":
		return "rows quarantined"
	}
	if slices.Contains(importuser.Algorithms, family) {
		return "importable"
	}
	return "not importable: reset or automatic migration"
}

// Count is one entry of a report's count map (ByCode, HashAlgorithms).
type Count struct {
	Key string
	N   int
}

// SortedCounts orders a count map by count, largest first, then by key:
// the order every view of a report lists codes and algorithms in.
func SortedCounts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
