package verify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"provision/storage"
)

// Canaries are known email/password pairs from a credentials file (CSV
// with the columns email and password, the format provision validate
// --credentials reads). They stay in memory; printing them shows only
// how many there are.
type Canaries struct {
	emails    []string
	passwords map[string]string
}

// ReadCanaries reads a credentials file. It refuses a file that others
// may read: it holds passwords.
func ReadCanaries(path string) (*Canaries, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read canaries: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read canaries: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s holds passwords but others may read it (mode %v): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return parseCanaries(f, path)
}

func parseCanaries(r io.Reader, name string) (*Canaries, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read the header: %w", name, err)
	}
	ei, pi := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "email":
			ei = i
		case "password":
			pi = i
		}
	}
	if ei < 0 || pi < 0 {
		return nil, fmt.Errorf("%s, line 1: the header must name the columns email and password", name)
	}
	c := &Canaries{passwords: map[string]string{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil || len(rec) != len(header) {
			// Never echo the record: it holds a password.
			return nil, fmt.Errorf("%s, line %d: not a record of %d fields", name, line, len(header))
		}
		email := storage.NormalizeEmail(rec[ei])
		if email == "" || rec[pi] == "" {
			return nil, fmt.Errorf("%s, line %d: every canary needs an email and a password", name, line)
		}
		if _, dup := c.passwords[email]; dup {
			return nil, fmt.Errorf("%s, line %d: <%s> is given twice", name, line, email)
		}
		c.emails = append(c.emails, email)
		c.passwords[email] = rec[pi]
	}
	return c, nil
}

// Len is the number of canaries.
func (c *Canaries) Len() int {
	if c == nil {
		return 0
	}
	return len(c.emails)
}

// Emails lists the canaries' normalized emails, in file order.
func (c *Canaries) Emails() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.emails)
}

func (c *Canaries) password(email string) (string, bool) {
	if c == nil {
		return "", false
	}
	p, ok := c.passwords[storage.NormalizeEmail(email)]
	return p, ok
}

// String never shows a password.
func (c *Canaries) String() string { return fmt.Sprintf("%d canaries", c.Len()) }

// GoString keeps %#v as safe as %v.
func (c *Canaries) GoString() string { return c.String() }
