package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// Where the host key lives by default: WORKSPACE/ssh/host_ed25519.
const (
	HostKeyDir  = "ssh"
	HostKeyFile = "host_ed25519"
)

// LoadOrCreateHostKey returns the server's host key from path, creating an
// ed25519 key there on first start: mode 0600, in a directory created
// 0700 if missing, with its public half beside it (path + ".pub", to pin
// in known_hosts). The key must persist: a server whose key changed on
// restart makes every client warn of an attack, and teaches operators to
// ignore that warning. A key file that other users can read is refused,
// as sshd refuses it, since whoever reads it can impersonate the server.
func LoadOrCreateHostKey(path string) (signer gossh.Signer, created bool, err error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := createHostKey(path); err != nil {
			return nil, false, fmt.Errorf("create the SSH host key %s: %w", path, err)
		}
		created = true
	case err != nil:
		return nil, false, fmt.Errorf("SSH host key: %w", err)
	case !st.Mode().IsRegular():
		return nil, false, fmt.Errorf("SSH host key %s is not a regular file", path)
	case st.Mode().Perm()&0o077 != 0:
		return nil, false, fmt.Errorf("SSH host key %s can be read or written by other users (mode %04o), who could impersonate this server: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("SSH host key: %w", err)
	}
	signer, err = gossh.ParsePrivateKey(data)
	var pass *gossh.PassphraseMissingError
	if errors.As(err, &pass) {
		return nil, false, fmt.Errorf("SSH host key %s is protected by a passphrase: give an unprotected key file readable only by this user (mode 0600)", path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("SSH host key %s is not an SSH private key (%v): move it away and a new key is created on the next start", path, err)
	}
	return signer, created, nil
}

// createHostKey writes a new ed25519 key to path. It writes a temporary
// file and links it into place, so a crash never leaves half a key under
// the real name and two servers starting at once never overwrite each
// other's key: the second link fails and that server loads the first key.
func createHostKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := gossh.MarshalPrivateKey(priv, "provision host key")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; say so rather than rely on it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	// The public half is for operators to compare or pin; failing to
	// write it does not stop the server.
	_ = os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(sshPub), 0o644)
	return nil
}
