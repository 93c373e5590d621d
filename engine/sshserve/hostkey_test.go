package sshserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestHostKeyCreatedPrivateAndReused(t *testing.T) {
	ws := t.TempDir()
	path := filepath.Join(ws, "ssh", HostKeyFile)
	signer, created, err := LoadOrCreateHostKey(path)
	if err != nil || !created {
		t.Fatalf("first start: created %v, %v", created, err)
	}
	if signer.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s, want ed25519", signer.PublicKey().Type())
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir, path + ".pub": 0o644} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode(), want)
		}
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pk, _, _, _, err := gossh.ParseAuthorizedKey(pub)
	if err != nil || gossh.FingerprintSHA256(pk) != gossh.FingerprintSHA256(signer.PublicKey()) {
		t.Errorf("public half does not match: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("leftover files beside the key: %v", entries)
	}

	again, created, err := LoadOrCreateHostKey(path)
	if err != nil || created {
		t.Fatalf("second start: created %v, %v", created, err)
	}
	if gossh.FingerprintSHA256(again.PublicKey()) != gossh.FingerprintSHA256(signer.PublicKey()) {
		t.Error("the host key changed on the second start")
	}
}

func TestHostKeyRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host")
	writeFile(t, path, "not a key\n", 0o600)
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "is not an SSH private key") {
		t.Errorf("garbage: %v", err)
	}
	if _, _, err := LoadOrCreateHostKey(path); err == nil {
		t.Error("garbage accepted on the second try")
	}
	os.Remove(path)
	if _, _, err := LoadOrCreateHostKey(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateHostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key: %v", err)
	}
	if _, _, err := LoadOrCreateHostKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as key: %v", err)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"alice@laptop":          "alice@laptop",
		"evil\x1b]0;pwned\x07":  "evil]0;pwned",
		"tab\there\nnewline":    "tabherenewline",
		"ünïcødé ok":            "ünïcødé ok",
		strings.Repeat("a", 40): strings.Repeat("a", 32) + "…",
	} {
		if got := Printable(in, 32); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
