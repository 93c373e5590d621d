package apply

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"provision/engine/sandbox"
	"provision/engine/sandbox/sandboxtest"
	"provision/engine/target/auth0"
)

func TestMerge(t *testing.T) {
	current := map[string]any{
		"passwordPolicy": "none",
		"validation":     map[string]any{"username": map[string]any{"min": 1.0, "max": 15.0}, "other": "kept"},
		"configuration":  map[string]any{"LEGACY_DB_URL": "postgres://secret"},
		"customScripts":  map[string]any{"change_email": "function changeEmail() {}"},
	}
	planned := map[string]any{
		"passwordPolicy": "good",
		"validation":     map[string]any{"username": map[string]any{"max": 20}},
		"customScripts":  map[string]any{"login": "function login() {}"},
		"import_mode":    true,
	}
	got := Merge(current, planned)
	want := map[string]any{
		"passwordPolicy": "good",
		"validation":     map[string]any{"username": map[string]any{"min": 1.0, "max": 20.0}, "other": "kept"},
		"configuration":  map[string]any{"LEGACY_DB_URL": "postgres://secret"},
		"customScripts":  map[string]any{"change_email": "function changeEmail() {}", "login": "function login() {}"},
		"import_mode":    true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge:\n got %v\nwant %v", got, want)
	}
	if current["passwordPolicy"] != "none" || current["validation"].(map[string]any)["username"].(map[string]any)["max"] != 15.0 {
		t.Error("Merge changed its input")
	}
}

func TestDiff(t *testing.T) {
	script := strings.Repeat("// a line of script\n", 10)
	before := map[string]any{
		"passwordPolicy": "none", "brute_force_protection": true, "gone": 1,
		"configuration": map[string]any{"LEGACY_DB_URL": "postgres://user:hunter2@db"},
		"validation":    map[string]any{"username": map[string]any{"max": 15}},
	}
	after := map[string]any{
		"passwordPolicy": "good", "brute_force_protection": true,
		"configuration": map[string]any{"LEGACY_DB_URL": "postgres://user:hunter3@db"},
		"validation":    map[string]any{"username": map[string]any{"max": 20, "min": 1}},
		"customScripts": map[string]any{"login": script},
		"dictionary":    []any{"acme"},
	}
	got := Diff(before, after)
	want := []Change{
		{"configuration.LEGACY_DB_URL", Changed, "*****", "*****"},
		{"customScripts.login", Added, "", "<11 lines, 200 bytes, sha256 " + got[1].After[len(got[1].After)-13:]},
		{"dictionary", Added, "", `["acme"]`},
		{"gone", Removed, "1", ""},
		{"passwordPolicy", Changed, `"none"`, `"good"`},
		{"validation.username.max", Changed, "15", "20"},
		{"validation.username.min", Added, "", "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff:\n got %+v\nwant %+v", got, want)
	}
	var b strings.Builder
	if err := WriteDiff(&b, got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter") || !strings.Contains(b.String(), `  ~ passwordPolicy: "none" -> "good"`) {
		t.Errorf("diff text:\n%s", b.String())
	}
	if d := Diff(after, after); len(d) != 0 {
		t.Errorf("no change, but %v", d)
	}
}

func sandboxClient(t *testing.T) (*auth0.Client, *sandbox.Server) {
	t.Helper()
	baseURL, srv := sandboxtest.Start(t, sandbox.Config{})
	ep, err := auth0.ParseTargetSpec("auth0:" + baseURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth0.New(auth0.Config{Endpoint: ep, ConnectionID: srv.ConnectionID(),
		Credentials: auth0.Credentials{ClientID: srv.ClientID(), ClientSecret: auth0.Secret(srv.ClientSecret())},
		Retry:       auth0.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestApplyOnSandbox(t *testing.T) {
	c, srv := sandboxClient(t)
	ctx := context.Background()
	id := srv.ConnectionID()
	// Options already on the connection that the plan does not mention.
	if _, err := c.PatchConnection(ctx, id, map[string]any{"options": map[string]any{
		"configuration": map[string]any{"LEGACY_DB_URL": "postgres://app:s3cr3t@db/app"}, "passwordPolicy": "low"}}); err != nil {
		t.Fatal(err)
	}
	planned := map[string]any{
		"passwordPolicy": "good", "requires_username": true,
		"validation":                   map[string]any{"username": map[string]any{"min": 3, "max": 20}},
		"password_history":             map[string]any{"enable": true, "size": 5},
		"enabledDatabaseCustomization": true, "import_mode": true,
		"customScripts": map[string]any{"login": "function login(u, p, cb) { cb(null, null); }"},
	}

	// Declined: nothing is sent.
	var shown []Change
	res, err := Apply(ctx, c, id, planned, func(conn auth0.Connection, changes []Change) (bool, error) {
		shown = changes
		return false, nil
	})
	if err != nil || res.Applied || len(res.Changes) == 0 || !reflect.DeepEqual(shown, res.Changes) {
		t.Fatalf("declined: %+v, %v", res, err)
	}
	if conn, _ := c.Connection(ctx, id); strings.Contains(string(conn.Options), "import_mode") {
		t.Fatal("a declined change reached the connection")
	}

	// Confirmed: patched, and the options the plan does not name are kept.
	res, err = Apply(ctx, c, id, planned, func(auth0.Connection, []Change) (bool, error) { return true, nil })
	if err != nil || !res.Applied {
		t.Fatalf("confirmed: %+v, %v", res, err)
	}
	conn, err := c.Connection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var opts map[string]any
	if err := json.Unmarshal(conn.Options, &opts); err != nil {
		t.Fatal(err)
	}
	if opts["passwordPolicy"] != "good" || opts["import_mode"] != true ||
		opts["configuration"].(map[string]any)["LEGACY_DB_URL"] != "postgres://app:s3cr3t@db/app" {
		t.Errorf("options after apply: %v", opts)
	}

	// Again: nothing to do, and confirm is not asked.
	res, err = Apply(ctx, c, id, planned, func(auth0.Connection, []Change) (bool, error) {
		t.Error("asked to confirm no change")
		return false, nil
	})
	if err != nil || len(res.Changes) != 0 {
		t.Errorf("second apply: %+v, %v", res, err)
	}

	// Options Auth0 refuses come back as the API's error, nothing applied.
	_, err = Apply(ctx, c, id, map[string]any{"passwordPolicy": "strong"}, func(auth0.Connection, []Change) (bool, error) { return true, nil })
	var apiErr *auth0.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("refused options: %v", err)
	}

	// A connection that does not exist.
	if _, err := Apply(ctx, c, "con_0000000000000000", planned, nil); !errors.Is(err, auth0.ErrUnknownConnection) && !errors.Is(err, auth0.ErrNotFound) {
		t.Errorf("unknown connection: %v", err)
	}
}

// staticConn serves one connection, for the cases the sandbox cannot play.
type staticConn struct {
	conn    auth0.Connection
	keep    func(map[string]any) map[string]any
	patched bool
}

func (s *staticConn) Connection(context.Context, string) (auth0.Connection, error) {
	return s.conn, nil
}

func (s *staticConn) PatchConnection(_ context.Context, _ string, patch any) (auth0.Connection, error) {
	s.patched = true
	opts := patch.(map[string]any)["options"].(map[string]any)
	if s.keep != nil {
		opts = s.keep(opts)
	}
	raw, _ := json.Marshal(opts)
	s.conn.Options = raw
	return s.conn, nil
}

func TestApplyRefuses(t *testing.T) {
	yes := func(auth0.Connection, []Change) (bool, error) { return true, nil }
	social := &staticConn{conn: auth0.Connection{ID: "con_x", Name: "google-oauth2", Strategy: "google-oauth2"}}
	if _, err := Apply(context.Background(), social, "con_x", map[string]any{"passwordPolicy": "good"}, yes); err == nil ||
		!strings.Contains(err.Error(), "is a google-oauth2 connection") || social.patched {
		t.Errorf("a social connection: %v", err)
	}
	// A tenant that silently drops an option is caught.
	dropping := &staticConn{conn: auth0.Connection{ID: "con_x", Strategy: "auth0", Options: json.RawMessage(`{}`)},
		keep: func(o map[string]any) map[string]any { delete(o, "import_mode"); return o }}
	if _, err := Apply(context.Background(), dropping, "con_x", map[string]any{"import_mode": true}, yes); err == nil ||
		!strings.Contains(err.Error(), "did not keep import_mode") {
		t.Errorf("a dropped option: %v", err)
	}
}
