package auth0

import (
	"strings"
	"testing"
)

func FuzzParseCredentials(f *testing.F) {
	f.Add([]byte("client_id=a\nclient_secret=" + testSecret + "\n"))
	f.Add([]byte(`{"client_id":"a","client_secret":"` + testSecret + `"}`))
	f.Add([]byte("export AUTH0_CLIENT_SECRET='" + testSecret + "'\n# c\n"))
	f.Add([]byte(`{"client_secret":"` + testSecret + `",`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCredentials(data)
		if err == nil && (c.ClientID == "" || c.ClientSecret == "") {
			t.Fatalf("accepted credentials without id or secret: %q", data)
		}
		// Whatever the file holds, an error never repeats a value
		// long enough to be a secret.
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Fatalf("error repeats the secret: %v", err)
		}
	})
}

func FuzzParseTargetSpec(f *testing.F) {
	for _, s := range []string{"auth0:acme.auth0.com", "auth0:http://127.0.0.1:8787", "auth0:http://evil.com", "auth0:https://a/b?c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ep, err := ParseTargetSpec(spec)
		if err != nil {
			return
		}
		u := ep.BaseURL
		if u.Path != "" || u.RawQuery != "" || u.User != nil || (u.Scheme == "http" && !isLoopback(u.Hostname())) || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("accepted %q as %s", spec, u)
		}
		if !strings.HasSuffix(ep.Audience(), "/api/v2/") {
			t.Fatalf("audience %q", ep.Audience())
		}
	})
}
