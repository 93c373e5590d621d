package validate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"provision/engine/hashes"
)

// CanaryResult says whether a known password verifies against the hash
// object that will be sent for that user. It never carries the password.
type CanaryResult struct {
	Email      string `json:"email"`
	Line       int    `json:"line"` // the user's line in the source; 0 when not found
	Algorithm  string `json:"algorithm"`
	Importable bool   `json:"importable"`
	Verified   bool   `json:"verified"`
	// Problem explains a canary that could not be checked.
	Problem string `json:"problem,omitempty"`
}

// Canaries are known email/password pairs, held in memory only.
type Canaries struct {
	file     string
	order    []string
	password map[string]string
	line     map[string]int // line in the credentials file
}

// ReadCanaries parses a CSV with columns email,password (a header row is
// required; extra columns are an error so a misaligned file isn't trusted).
func ReadCanaries(r io.Reader, file string) (*Canaries, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ei, okE := col["email"]
	pi, okP := col["password"]
	if !okE || !okP {
		return nil, fmt.Errorf("%s, line 1: the header must name the columns email and password (found %q)", file, strings.Join(header, ","))
	}
	c := &Canaries{file: file, password: map[string]string{}, line: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, fmt.Errorf("%s, line %d: not a valid CSV record; quote values that contain commas or quotes", file, line)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s, line %d: has %d fields, the header has %d", file, line, len(rec), len(header))
		}
		email := strings.ToLower(strings.TrimSpace(rec[ei]))
		if email == "" {
			return nil, fmt.Errorf("%s, line %d, field email: empty; every canary needs the email of a user in the export", file, line)
		}
		if rec[pi] == "" {
			return nil, fmt.Errorf("%s, line %d, field password: empty; give the user's known password", file, line)
		}
		if first, dup := c.line[email]; dup {
			return nil, fmt.Errorf("%s, line %d, field email: %q already given on line %d", file, line, email, first)
		}
		c.order = append(c.order, email)
		c.password[email] = rec[pi]
		c.line[email] = line
	}
	return c, nil
}

// Len is the number of canaries.
func (c *Canaries) Len() int {
	if c == nil {
		return 0
	}
	return len(c.order)
}

// canaryChecker verifies canaries as their users stream past.
type canaryChecker struct {
	c       *Canaries
	results map[string]*CanaryResult
}

func newCanaryChecker(c *Canaries) *canaryChecker {
	if c.Len() == 0 {
		return nil
	}
	return &canaryChecker{c: c, results: map[string]*CanaryResult{}}
}

func (k *canaryChecker) observe(res *Result) {
	if k == nil || res.Row.Broken != nil {
		return
	}
	email := strings.ToLower(strings.TrimSpace(res.Row.Email))
	pw, ok := k.c.password[email]
	if !ok || k.results[email] != nil {
		return // not a canary, or a later duplicate of one already checked
	}
	r := &CanaryResult{Email: email, Line: res.Line, Algorithm: res.Hash.Family, Importable: res.Hash.Importable}
	k.results[email] = r
	switch {
	case res.Hash.Family == "none":
		r.Problem = "the user has no password hash in the source"
	case !res.Hash.Importable:
		r.Problem = "the hash cannot be imported, so there is nothing to verify"
	default:
		ok, err := hashes.Verify(res.Hash.PasswordHash, res.Hash.Custom, pw)
		r.Verified = ok
		if err != nil {
			r.Problem = err.Error()
		} else if !ok {
			r.Problem = "the password does not match the converted hash: check password_algorithm, password_salt, salt_position and password_encoding"
		}
	}
}

// finish lists results in the credentials file's order, including canaries
// whose email never appeared in the source.
func (k *canaryChecker) finish() []CanaryResult {
	if k == nil {
		return []CanaryResult{}
	}
	out := make([]CanaryResult, 0, len(k.c.order))
	for _, email := range k.c.order {
		if r := k.results[email]; r != nil {
			out = append(out, *r)
			continue
		}
		out = append(out, CanaryResult{Email: email, Algorithm: "none",
			Problem: fmt.Sprintf("%s, line %d: no user with this email in the source", k.c.file, k.c.line[email])})
	}
	return out
}
