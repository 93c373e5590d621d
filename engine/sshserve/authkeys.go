package sshserve

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
)

// AuthorizedKeys is an OpenSSH authorized_keys file: the public keys that
// may log in. It is re-read whenever it changes, so adding a colleague or
// revoking a key needs no restart (and no interruption of a run).
//
// Key options are not interpreted: a line with an option that would
// restrict or widen what its key may do here (from=, command=, no-pty,
// restrict, cert-authority, …) is ignored with a warning rather than
// trusted without its restriction. Options that only forbid what this
// server never offers (port, agent and X11 forwarding, user rc) are
// accepted.
type AuthorizedKeys struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	sum  [sha256.Size]byte // of the contents last parsed
	keys map[string]authorizedKey
	err  error // why no key is accepted now, when none is
}

// authorizedKey is one usable line of the file.
type authorizedKey struct {
	comment string
	line    int
}

// harmlessOptions forbid only what the server never offers anyway.
var harmlessOptions = map[string]bool{
	"no-port-forwarding":  true,
	"no-agent-forwarding": true,
	"no-x11-forwarding":   true,
	"no-user-rc":          true,
}

// LoadAuthorizedKeys reads the authorized keys file at path. It fails when
// the file is missing, unsafe or lists no usable key: a server nobody can
// log in to is a mistake to report at startup, not at the first refusal.
// log receives warnings about lines that are skipped, now and on reloads.
func LoadAuthorizedKeys(path string, log *slog.Logger) (*AuthorizedKeys, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &AuthorizedKeys{path: path, log: log}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.reloadLocked(); err != nil {
		return nil, err
	}
	return a, nil
}

// Path is the file's path.
func (a *AuthorizedKeys) Path() string { return a.path }

// Len is the number of keys accepted now.
func (a *AuthorizedKeys) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.keys)
}

// Lookup reports whether key may log in, and the comment of its line
// (often user@host). It re-reads the file when its contents changed.
// When the file has become unreadable, unsafe or empty, every key is
// refused until it is fixed: a revoked key must not keep working because
// the file that revoked it could not be read.
func (a *AuthorizedKeys) Lookup(key gossh.PublicKey) (comment string, ok bool) {
	if key == nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.reloadLocked(); err != nil {
		return "", false
	}
	k, ok := a.keys[string(key.Marshal())]
	return k.comment, ok
}

// reloadLocked re-reads the file and, if its contents changed, parses it
// again. a.mu is held.
func (a *AuthorizedKeys) reloadLocked() error {
	data, err := readAuthorizedKeys(a.path)
	if err != nil {
		a.failLocked(err)
		return err
	}
	sum := sha256.Sum256(data)
	if a.err == nil && a.keys != nil && sum == a.sum {
		return nil
	}
	keys, problems := parseAuthorizedKeys(data)
	for _, p := range problems {
		a.log.Warn("authorized keys: line skipped", "file", a.path, "line", p.Line, "reason", p.Reason)
	}
	if len(keys) == 0 {
		err := fmt.Errorf("%s lists no usable public key: add one line per operator, as ssh-keygen writes them (ssh-ed25519 AAAA… alice@laptop)", a.path)
		a.failLocked(err)
		return err
	}
	if a.keys != nil {
		a.log.Info("authorized keys reloaded", "file", a.path, "keys", len(keys))
	}
	a.sum, a.keys, a.err = sum, keys, nil
	return nil
}

// failLocked refuses every key from now on, and logs why once.
func (a *AuthorizedKeys) failLocked(err error) {
	if a.err == nil || a.err.Error() != err.Error() {
		if a.keys != nil { // at startup the caller reports it
			a.log.Error("authorized keys unusable: refusing every key until the file is fixed", "file", a.path, "err", err)
		}
	}
	a.keys, a.err = map[string]authorizedKey{}, err
}

// readAuthorizedKeys reads the file, refusing one that others could
// write: whoever can write it can log in.
func readAuthorizedKeys(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("authorized keys file %s does not exist: create it with the public keys allowed to log in (for example: cp ~/.ssh/id_ed25519.pub %s)", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("authorized keys file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("authorized keys file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("authorized keys file %s is writable by other users (mode %04o), so anyone of them could let themselves in: chmod go-w %s", path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authorized keys file: %w", err)
	}
	return data, nil
}

// KeyProblem is a line of an authorized keys file that grants nothing.
type KeyProblem struct {
	Line   int
	Reason string
}

// parseAuthorizedKeys parses the contents of an authorized_keys file,
// returning its usable keys (by their wire encoding) and the lines it
// skipped, with why. Blank lines and # comments are not problems.
func parseAuthorizedKeys(data []byte) (map[string]authorizedKey, []KeyProblem) {
	keys := map[string]authorizedKey{}
	var problems []KeyProblem
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			problems = append(problems, KeyProblem{n, "not a public key line (" + err.Error() + ")"})
			continue
		}
		if _, isCert := key.(*gossh.Certificate); isCert {
			problems = append(problems, KeyProblem{n, "certificates are not accepted: list the plain public key"})
			continue
		}
		if bad := unsupportedOption(options); bad != "" {
			problems = append(problems, KeyProblem{n, fmt.Sprintf("option %q is not supported here, and the key is not trusted without it: give this key its own line without options, or leave it out", bad)})
			continue
		}
		keys[string(key.Marshal())] = authorizedKey{comment: Printable(comment, 64), line: n}
	}
	return keys, problems
}

// unsupportedOption returns the first option that is not harmless here.
func unsupportedOption(options []string) string {
	for _, o := range options {
		name, _, _ := strings.Cut(o, "=")
		if !harmlessOptions[strings.ToLower(strings.TrimSpace(name))] {
			return o
		}
	}
	return ""
}
