package sshserve

import (
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestParseAuthorizedKeys(t *testing.T) {
	alice, bob, carol, ca := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	cert := &gossh.Certificate{Key: carol.PublicKey(), CertType: gossh.UserCert, ValidPrincipals: []string{"carol"}, ValidBefore: gossh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	data := "# operators\n\n" +
		authorizedLine(alice, "alice@laptop") +
		"  \t\n" +
		`no-port-forwarding,no-agent-forwarding,no-X11-forwarding ` + authorizedLine(bob, "bob@desk") +
		`from="10.0.0.0/8" ` + authorizedLine(carol, "carol@vpn") +
		"ssh-ed25519 AAAAnotbase64 broken@line\r\n" +
		`cert-authority ` + authorizedLine(ca, "our CA") +
		strings.TrimSpace(string(gossh.MarshalAuthorizedKey(cert))) + " carol-cert\n" +
		`command="/bin/date",restrict ` + authorizedLine(carol, "carol@batch") +
		authorizedLine(carol, "carol\x1b[2J@home")
	keys, problems := parseAuthorizedKeys([]byte(data))

	if k, ok := keys[string(alice.PublicKey().Marshal())]; !ok || k.comment != "alice@laptop" || k.line != 3 {
		t.Errorf("alice: %+v, %v", k, ok)
	}
	if k, ok := keys[string(bob.PublicKey().Marshal())]; !ok || k.comment != "bob@desk" {
		t.Errorf("bob, with options that forbid only what the server never offers: %+v, %v", k, ok)
	}
	// carol's plain line, last in the file, is what lets her in; its
	// comment loses the escape sequence.
	if k, ok := keys[string(carol.PublicKey().Marshal())]; !ok || k.comment != "carol[2J@home" || k.line != 11 {
		t.Errorf("carol: %+v, %v", k, ok)
	}
	if _, ok := keys[string(ca.PublicKey().Marshal())]; ok {
		t.Error("a cert-authority line authorizes the CA's own key")
	}
	if len(keys) != 3 {
		t.Errorf("%d keys, want 3", len(keys))
	}
	want := []struct {
		line int
		says string
	}{
		{6, `option "from=\"10.0.0.0/8\"" is not supported here`},
		{7, "not a public key line"},
		{8, `option "cert-authority" is not supported here`},
		{9, "certificates are not accepted"},
		{10, `option "command=\"/bin/date\"" is not supported here`},
	}
	if len(problems) != len(want) {
		t.Fatalf("problems: %+v", problems)
	}
	for i, w := range want {
		if p := problems[i]; p.Line != w.line || !strings.Contains(p.Reason, w.says) {
			t.Errorf("problem %d: %+v, want line %d saying %q", i, p, w.line, w.says)
		}
	}
}

func TestAuthorizedKeysReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authorized_keys")
	alice, bob := newSigner(t), newSigner(t)
	writeFile(t, path, authorizedLine(alice, "alice"), 0o600)
	var log syncBuffer
	a, err := LoadAuthorizedKeys(path, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := a.Lookup(alice.PublicKey()); !ok || c != "alice" {
		t.Fatalf("alice: %q %v", c, ok)
	}
	if _, ok := a.Lookup(bob.PublicKey()); ok {
		t.Fatal("bob let in before being added")
	}

	// Same size, other key: the change is seen although nothing but the
	// contents moved.
	writeFile(t, path, authorizedLine(bob, "alice"), 0o600)
	if _, ok := a.Lookup(bob.PublicKey()); !ok {
		t.Error("bob not let in after being added")
	}
	if _, ok := a.Lookup(alice.PublicKey()); ok {
		t.Error("alice still let in after removal")
	}

	// Fail closed while the file is gone, unsafe or empty; recover when it
	// is fixed.
	for name, break_ := range map[string]func(){
		"removed":   func() { os.Remove(path) },
		"writable":  func() { writeFile(t, path, authorizedLine(bob, "bob"), 0o622) },
		"emptied":   func() { writeFile(t, path, "", 0o600) },
		"not a key": func() { writeFile(t, path, "bob\n", 0o600) },
	} {
		break_()
		if _, ok := a.Lookup(bob.PublicKey()); ok {
			t.Errorf("%s: bob still let in", name)
		}
		writeFile(t, path, authorizedLine(bob, "bob"), 0o600)
		if _, ok := a.Lookup(bob.PublicKey()); !ok {
			t.Errorf("%s: bob not let in once the file is fixed", name)
		}
	}
	if !strings.Contains(log.String(), "refusing every key until the file is fixed") {
		t.Errorf("the unusable file was not logged:\n%s", log.String())
	}
	if _, ok := a.Lookup(nil); ok {
		t.Error("a nil key was let in")
	}
}

func FuzzParseAuthorizedKeys(f *testing.F) {
	s := newSigner(f)
	f.Add([]byte(authorizedLine(s, "alice@laptop")))
	f.Add([]byte(`no-pty,from="a,b" ` + authorizedLine(s, "x")))
	f.Add([]byte("# c\n\nssh-rsa AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, problems := parseAuthorizedKeys(data)
		for wire, k := range keys {
			key, err := gossh.ParsePublicKey([]byte(wire))
			if err != nil {
				t.Fatalf("accepted key does not parse: %v", err)
			}
			if _, cert := key.(*gossh.Certificate); cert {
				t.Fatal("accepted a certificate")
			}
			if k.line < 1 || strings.ContainsFunc(k.comment, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("bad entry %+v", k)
			}
		}
		for _, p := range problems {
			if p.Line < 1 || p.Reason == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
