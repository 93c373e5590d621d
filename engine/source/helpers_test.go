package source

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll reads every row of text, as a file called name, failing the test
// on any error other than io.EOF.
func readAll(t *testing.T, name, text string, opts Options) ([]Row, Reader) {
	t.Helper()
	r, err := NewReader(strings.NewReader(text), name, opts)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", name, err)
	}
	rows, err := drain(r)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return rows, r
}

// drain reads r to the end, returning the rows read and the error that
// ended reading, nil for io.EOF.
func drain(r Reader) ([]Row, error) {
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// summary is the part of a row most tests compare.
type summary struct {
	Line   int
	Email  string
	Broken bool
}

func summarize(rows []Row) []summary {
	out := make([]summary, len(rows))
	for i, r := range rows {
		out[i] = summary{r.Line, r.Email, r.Broken != nil}
	}
	return out
}

// reason is the Broken reason of row, or "".
func reason(row Row) string {
	var re *RecordError
	if errors.As(row.Broken, &re) {
		return re.Reason
	}
	return ""
}
