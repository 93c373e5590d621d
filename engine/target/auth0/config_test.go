package auth0

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTargetSpec(t *testing.T) {
	tests := []struct {
		spec     string
		want     string // base URL
		audience string
		wantErr  string
	}{
		{"auth0:acme.eu.auth0.com", "https://acme.eu.auth0.com", "https://acme.eu.auth0.com/api/v2/", ""},
		{"auth0:https://acme.auth0.com/", "https://acme.auth0.com", "https://acme.auth0.com/api/v2/", ""},
		{"auth0:http://127.0.0.1:8787", "http://127.0.0.1:8787", "http://127.0.0.1:8787/api/v2/", ""},
		{"auth0:http://localhost:8787", "http://localhost:8787", "http://localhost:8787/api/v2/", ""},
		{"auth0:http://[::1]:8787", "http://[::1]:8787", "http://[::1]:8787/api/v2/", ""},
		{"auth0:http://acme.auth0.com", "", "", "plain http"},
		{"auth0:acme.auth0.com/api/v2", "", "", "without path"},
		{"auth0:https://user:pw@acme.auth0.com", "", "", "without path"},
		{"auth0:ftp://acme.auth0.com", "", "", "scheme"},
		{"auth0:", "", "", "want auth0:"},
		{"file:out", "", "", "want auth0:"},
		{"acme.auth0.com", "", "", "want auth0:"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			ep, err := ParseTargetSpec(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.BaseURL.String() != tt.want || ep.Audience() != tt.audience {
				t.Errorf("got %s (audience %s), want %s (audience %s)", ep.BaseURL, ep.Audience(), tt.want, tt.audience)
			}
		})
	}
}

func TestCredentialsFromFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"key=value", "# tenant acme\nclient_id=client-abc\nclient_secret=" + testSecret + "\n", 0o600, ""},
		{"dotenv", "export AUTH0_CLIENT_ID=\"client-abc\"\nAUTH0_CLIENT_SECRET='" + testSecret + "'\n", 0o400, ""},
		{"json", `{"client_id":"client-abc","client_secret":"` + testSecret + `"}`, 0o600, ""},
		{"group readable", "client_id=client-abc\nclient_secret=" + testSecret, 0o640, "chmod 600"},
		{"world readable", "client_id=client-abc\nclient_secret=" + testSecret, 0o644, "can be read by other users"},
		{"no secret", "client_id=client-abc\n", 0o600, "no client_secret"},
		{"unknown key", "client_id=client-abc\nclient_secert=" + testSecret, 0o600, `line 2: unknown key "client_secert"`},
		{"broken json", `{"client_id":"client-abc","client_secret":"` + testSecret + `"`, 0o600, "not valid JSON"},
		{"no equals", "client_id client-abc", 0o600, "line 1: want key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "creds")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			c, err := LoadCredentials(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Fatalf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientID != testClientID || c.ClientSecret.Reveal() != testSecret || c.Source != path {
				t.Errorf("got %q / %q from %q", c.ClientID, c.ClientSecret.Reveal(), c.Source)
			}
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{EnvClientID: testClientID, EnvClientSecret: testSecret}
	c, err := CredentialsFromEnv(func(k string) string { return env[k] })
	if err != nil || c.ClientID != testClientID || c.ClientSecret.Reveal() != testSecret {
		t.Fatalf("got %v, %v", c, err)
	}
	delete(env, EnvClientSecret)
	if _, err := CredentialsFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), EnvClientSecret) {
		t.Fatalf("err = %v, want one naming %s", err, EnvClientSecret)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	ep, _ := ParseTargetSpec("auth0:acme.auth0.com")
	cfg := Config{Endpoint: ep, Credentials: Credentials{ClientID: testClientID, ClientSecret: testSecret}, ConnectionID: testConn}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, cfg.Credentials),
			fmt.Sprintf(verb, &cfg.Credentials), fmt.Sprintf(verb, cfg.Credentials.ClientSecret))
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("config", "cfg", cfg, "creds", cfg.Credentials, "secret", cfg.Credentials.ClientSecret)
	log.Info("text", "cfg", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("text", "cfg", cfg, "creds", cfg.Credentials)
	outputs = append(outputs, logged.String())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))

	hexSecret := fmt.Sprintf("%x", testSecret)
	for _, out := range outputs {
		if strings.Contains(out, testSecret) || strings.Contains(strings.ToLower(out), hexSecret) {
			t.Errorf("secret printed: %s", out)
		}
	}
	if !strings.Contains(cfg.String(), testClientID) || !strings.Contains(cfg.String(), "*****") {
		t.Errorf("String() = %s; want the client id and a mask", cfg.String())
	}
}
