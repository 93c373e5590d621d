package source

import (
	"fmt"
	"sort"
	"strings"
)

// Ignore, given as the field of a mapping (--map Notes=-), drops a column
// without an unknown-column warning.
const Ignore = "-"

// ParseMapping parses "column=field" items, as given to --map, into a map
// for Options.Mapping. Field names are those in Fields (any case), or
// Ignore. A column mapped twice to different fields is an error, as is an
// unknown field name; the error lists the valid ones.
func ParseMapping(specs []string) (map[string]string, error) {
	m := make(map[string]string, len(specs))
	seen := make(map[string]string, len(specs)) // folded column -> spec
	for _, spec := range specs {
		// Field names never contain '=', so the last one separates them:
		// a column may be named "a=b".
		i := strings.LastIndexByte(spec, '=')
		if i < 0 {
			return nil, fmt.Errorf("mapping %q: want COLUMN=FIELD, e.g. --map Mail=email", spec)
		}
		col, field := strings.TrimSpace(spec[:i]), strings.ToLower(strings.TrimSpace(spec[i+1:]))
		if col == "" {
			return nil, fmt.Errorf("mapping %q: the column name is empty; want COLUMN=FIELD", spec)
		}
		if err := checkField(field); err != nil {
			return nil, fmt.Errorf("mapping %q: %w", spec, err)
		}
		key := foldName(col)
		if prev, ok := seen[key]; ok && m[prev] != field {
			return nil, fmt.Errorf("mappings %q and %q both name column %q: keep one", prev+"="+m[prev], spec, col)
		}
		seen[key] = col
		m[col] = field
	}
	return m, nil
}

// checkField reports whether field is a name a column may map to.
func checkField(field string) error {
	if field == Ignore || fieldIndex[field] > 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown field %q", field)
	if s := closest(field, Fields); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	return fmt.Errorf("%s; valid fields: %s, or %s to ignore the column", msg, strings.Join(Fields, ", "), Ignore)
}

// fieldIndex maps a field name to its index in Fields plus one, so that
// the zero value means "not a field".
var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(Fields))
	for i, f := range Fields {
		m[f] = i + 1
	}
	return m
}()

// Results of resolving a column name.
const (
	noField      = -1 // maps to nothing: an unknown column
	ignoredField = -2 // dropped on purpose: no warning
)

// How a column name matched its field. A JSON object may hold several keys
// for one field ("email" and "Email"); the better match wins.
const (
	rankMapped = iota + 1 // named in Options.Mapping
	rankExact             // equal to the field name
	rankFolded            // equal to the field name ignoring case and surrounding space
)

// columnMap resolves source column names to fields.
type columnMap struct {
	mapped  map[string]int    // Options.Mapping, with folded column names
	exact   map[string]int    // Options.Mapping, with columns as given
	columns map[string]string // folded column -> column as given, for errors
}

func newColumnMap(mapping map[string]string) (*columnMap, error) {
	c := &columnMap{
		mapped:  make(map[string]int, len(mapping)),
		exact:   make(map[string]int, len(mapping)),
		columns: make(map[string]string, len(mapping)),
	}
	// Sorted so that a conflict is reported the same way every time.
	cols := make([]string, 0, len(mapping))
	for col := range mapping {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		field := strings.ToLower(strings.TrimSpace(mapping[col]))
		if err := checkField(field); err != nil {
			return nil, fmt.Errorf("mapping %s=%s: %w", col, mapping[col], err)
		}
		f := ignoredField
		if field != Ignore {
			f = fieldIndex[field] - 1
		}
		key := foldName(col)
		if prev, ok := c.columns[key]; ok && c.mapped[key] != f {
			return nil, fmt.Errorf("mappings %s=%s and %s=%s name the same column: keep one", prev, mapping[prev], col, mapping[col])
		}
		c.mapped[key], c.exact[col], c.columns[key] = f, f, col
	}
	return c, nil
}

// resolve returns the index in Fields that the column name maps to (or
// noField, ignoredField) and how it matched.
func (c *columnMap) resolve(name string) (field, rank int) {
	if f, ok := c.exact[name]; ok {
		return f, rankMapped
	}
	key := foldName(name)
	if f, ok := c.mapped[key]; ok {
		return f, rankMapped
	}
	if i := fieldIndex[name]; i > 0 {
		return i - 1, rankExact
	}
	if i := fieldIndex[key]; i > 0 {
		return i - 1, rankFolded
	}
	// Our own quarantine files add these two columns, so that a fixed
	// quarantine file can be validated again without warnings.
	if key == "line" || key == "reason" {
		return ignoredField, rankFolded
	}
	return noField, 0
}

// foldName is the form in which column names are compared.
func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a likely typo.
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
