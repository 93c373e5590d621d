package remaining

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/engine/importuser"
	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/source"
	"provision/engine/target/auth0"
)

func sandboxWith(t *testing.T, emails ...string) (*auth0.Client, *sandbox.Server) {
	t.Helper()
	baseURL, srv := sandboxtest.Start(t, sandbox.Config{})
	var users []importuser.User
	for _, e := range emails {
		users = append(users, importuser.User{Email: e})
	}
	if len(users) > 0 {
		if _, errs, err := srv.Import(false, users...); err != nil || len(errs) > 0 {
			t.Fatalf("import: %v %v", errs, err)
		}
	}
	ep, _ := auth0.ParseTargetSpec("auth0:" + baseURL)
	c, err := auth0.New(auth0.Config{Endpoint: ep, ConnectionID: srv.ConnectionID(),
		Credentials: auth0.Credentials{ClientID: srv.ClientID(), ClientSecret: auth0.Secret(srv.ClientSecret())},
		Retry:       auth0.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestRemainingCSV(t *testing.T) {
	c, srv := sandboxWith(t, "ada@example.com", "bob@example.com", "signup@example.com")
	dir := t.TempDir()
	src := filepath.Join(dir, "legacy.csv")
	// Semicolons, a capitalised email that Auth0 has, a phone number and a
	// formula-looking cell that must survive byte for byte, a row without
	// an email and one with a missing cell.
	text := "Email;user_id;password_hash;phone_number;notes\n" +
		"ADA@example.com;1;$1$ddvnrIEG$u9YljnnmFr0UY2YaSCGx//;+441234567890;\n" +
		"carl@example.com;2;$1$ddvnrIEG$u9YljnnmFr0UY2YaSCGx//;+33612345678;=1+1\n" +
		"bob@example.com;3;;;\n" +
		";4;;;no email\n" +
		"dora@example.com;5;\n" +
		"\"eve@example.com\";6;\"x;y\";;\"two\nlines\"\n"
	if err := os.WriteFile(src, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, CSVFile)
	res, err := Run(context.Background(), c, Options{Source: src, ConnectionID: srv.ConnectionID(), Dir: dir,
		SourceOptions: source.Options{Mapping: map[string]string{"notes": "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Exported: 3, Rows: 6, InAuth0: 2, Remaining: 2, NoEmail: 1, Broken: 1, File: out, Format: source.FormatCSV, Delimiter: ","}
	if res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if res.InAuth0+res.Remaining+res.NoEmail+res.Broken != res.Rows {
		t.Error("every row must be counted exactly once")
	}
	got, _ := os.ReadFile(out)
	wantText := "Email,user_id,password_hash,phone_number,notes\n" +
		"carl@example.com,2,$1$ddvnrIEG$u9YljnnmFr0UY2YaSCGx//,+33612345678,=1+1\n" +
		"eve@example.com,6,x;y,,\"two\nlines\"\n"
	if string(got) != wantText {
		t.Errorf("remainder:\n%s\nwant:\n%s", got, wantText)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v: the remainder holds password hashes, want 0600", st.Mode().Perm())
	}
	// It reads back as a source with the same columns.
	r, closer, err := source.Open(out, source.Options{Mapping: map[string]string{"notes": "-"}})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for _, email := range []string{"carl@example.com", "eve@example.com"} {
		row, err := r.Next()
		if err != nil || row.Email != email || row.Broken != nil {
			t.Errorf("read back: %+v %v", row, err)
		}
	}
}

func TestRemainingNDJSON(t *testing.T) {
	c, srv := sandboxWith(t, "ada@example.com")
	dir := t.TempDir()
	src := filepath.Join(dir, "legacy.json")
	if err := os.WriteFile(src, []byte(`[{"email":"ada@example.com","user_id":"1"},{"email":"bob@example.com","user_id":"2","extra":{"a":1}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, NDJSONFile)
	res, err := Run(context.Background(), c, Options{Source: src, ConnectionID: srv.ConnectionID(), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Remaining != 1 || res.InAuth0 != 1 || res.Format != source.FormatNDJSON || res.File != out {
		t.Errorf("result %+v", res)
	}
	if got, _ := os.ReadFile(out); string(got) != `{"email":"bob@example.com","user_id":"2","extra":{"a":1}}`+"\n" {
		t.Errorf("remainder %q", got)
	}
}

type failingExport struct{}

func (failingExport) ExportUsers(_ context.Context, _ auth0.ExportRequest, w io.Writer) error {
	w.Write([]byte(`{"email":"ada@example.com"}` + "\n"))
	return errors.New("export job job_1 ended failed")
}

func TestRemainingExportFails(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "legacy.csv")
	os.WriteFile(src, []byte("email\nada@example.com\n"), 0o600)
	out := filepath.Join(dir, CSVFile)
	_, err := Run(context.Background(), failingExport{}, Options{Source: src, ConnectionID: "con_x", Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "export the connection's users: export job job_1 ended failed") {
		t.Errorf("error %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Error("a remainder was written from a partial export")
	}
}
