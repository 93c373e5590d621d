package export

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"provision/engine/importuser"
	"provision/engine/source"
	"provision/engine/validate"
)

func sourceOf(t *testing.T, text string) source.Reader {
	t.Helper()
	r, err := source.NewReader(strings.NewReader(text), "users.csv", source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestExportAccountsForEveryRow(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,name,user_metadata\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "user%03d@example.com,User %d,\"{\"\"bio\"\":\"\"%s\"\"}\"\n", i, i, strings.Repeat("x", i%50))
	}
	b.WriteString("not-an-email,Broken,\n")
	fmt.Fprintf(&b, "huge@example.com,Huge,\"{\"\"blob\"\":\"\"%s\"\"}\"\n", strings.Repeat("y", 5000))
	dir := filepath.Join(t.TempDir(), "out")
	const limit = 4000
	sum, err := Run(context.Background(), sourceOf(t, b.String()), Options{
		Validate: validate.RunOptions{File: "users.csv"}, Dir: dir, MaxFileBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Users != 200 || sum.Report.Quarantined != 2 || sum.Users+sum.Report.Quarantined != sum.Report.Rows {
		t.Fatalf("users=%d quarantined=%d rows=%d: every row must be exported or quarantined", sum.Users, sum.Report.Quarantined, sum.Report.Rows)
	}
	if sum.Report.ByCode[validate.CodeUserTooLarge] != 1 {
		t.Errorf("a user larger than a file must be quarantined: %v", sum.Report.ByCode)
	}
	if len(sum.Files) < 5 {
		t.Fatalf("expected many files under a %d-byte limit, got %d", limit, len(sum.Files))
	}
	if sum.MeanFill < 0.95 {
		t.Errorf("mean fill %.2f, want >= 0.95", sum.MeanFill)
	}
	seen := map[string]bool{}
	for _, f := range sum.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > limit || len(data) != f.Bytes {
			t.Errorf("%s: %d bytes (manifest %d), limit %d", f.Name, len(data), f.Bytes, limit)
		}
		if err := importuser.ValidateFileJSON(data); err != nil {
			t.Errorf("%s fails Auth0's schema: %v", f.Name, err)
		}
		var users []importuser.User
		if err := json.Unmarshal(data, &users); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if seen[u.Email] {
				t.Errorf("%s exported twice", u.Email)
			}
			seen[u.Email] = true
		}
		if st, _ := os.Stat(filepath.Join(dir, f.Name)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f.Name, st.Mode().Perm())
		}
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct users in files, want 200", len(seen))
	}
	q, err := os.ReadFile(sum.Quarantine)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(q), "\n"); got != 3 { // header + 2 rows
		t.Errorf("quarantine has %d lines:\n%s", got, q)
	}
}

func TestExportRefusesAnEarlierExportsDirectory(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Validate: validate.RunOptions{File: "a.csv"}, Dir: dir}
	if _, err := Run(context.Background(), sourceOf(t, "email\na@example.com\nb@example.com\n"), opts); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), sourceOf(t, "email\nc@example.com\n"), opts)
	if err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("second export into the same directory: err = %v, want a refusal naming --overwrite", err)
	}
	opts.Overwrite = true
	sum, err := Run(context.Background(), sourceOf(t, "email\nc@example.com\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || sum.Files[0].Users != 1 || sum.Quarantine != "" {
		t.Fatalf("overwrite: %+v", sum)
	}
	if _, err := os.Stat(filepath.Join(dir, QuarantineName)); !os.IsNotExist(err) {
		t.Errorf("no row was rejected: no quarantine file expected (%v)", err)
	}
}
