package validatedata

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"provision/engine/validate"
)

// canary is a known email and password, held in memory only: it is never
// written, logged or shown (the password reads as the mask).
type canary struct {
	Email    string
	Password string
	From     string // "typed", or the file and line it came from
}

// loadCanaryFile reads an email,password CSV. The engine's reader checks
// it first, so the operator gets the same errors as on the command line.
func loadCanaryFile(path string) ([]canary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := validate.ReadCanaries(bytes.NewReader(data), filepath.Base(path)); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil || len(recs) == 0 {
		return nil, fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	ei, pi := -1, -1
	for i, h := range recs[0] {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "email":
			ei = i
		case "password":
			pi = i
		}
	}
	var out []canary
	for n, rec := range recs[1:] {
		out = append(out, canary{
			Email:    strings.ToLower(strings.TrimSpace(rec[ei])),
			Password: rec[pi],
			From:     fmt.Sprintf("%s, line %d", filepath.Base(path), n+2),
		})
	}
	return out, nil
}

// addCanaries adds cs to list; a canary for an email already there
// replaces it. It returns the new list and how many were replaced.
func addCanaries(list, cs []canary) ([]canary, int) {
	replaced := 0
	for _, c := range cs {
		c.Email = strings.ToLower(strings.TrimSpace(c.Email))
		found := false
		for i := range list {
			if list[i].Email == c.Email {
				list[i] = c
				found = true
				replaced++
				break
			}
		}
		if !found {
			list = append(list, c)
		}
	}
	return list, replaced
}

// buildCanaries turns the list into the engine's canaries, through an
// in-memory CSV: nothing touches the disk.
func buildCanaries(list []canary) (*validate.Canaries, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"email", "password"})
	for _, c := range list {
		w.Write([]string{c.Email, c.Password})
	}
	w.Flush()
	return validate.ReadCanaries(&buf, "canaries")
}
