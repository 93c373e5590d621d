// Package sshserve serves the assistant over SSH, so that a migration runs
// on the machine next to the data (a bastion) and outlives the operator's
// connection, and a colleague can watch it.
//
// One server serves one workspace. Its Hub is what every session on the
// workspace shares: who controls it, and the work that must outlive any
// session. Work started through Hub.Go runs under the hub's context, never
// a session's, so closing a session (or a laptop lid) never stops a run;
// only shutting the server down does, and then the work is asked to stop
// at a safe point and given time to.
//
// # Control
//
// One session controls the workspace; the others watch. A session
// controls when it asks to (`ssh -t HOST control`, which takes control
// from whoever has it, so operators can reclaim the workspace from the
// session a dead connection left behind) or when nobody controlled the
// workspace as it connected (plain `ssh -t HOST`). `ssh -t HOST watch`
// only ever watches. Control is never handed to a session that did not
// ask for it: when the controlling session ends, nobody controls until
// someone connects.
//
// # Security
//
//   - Public keys only, from an OpenSSH authorized_keys file that is
//     re-read when it changes. Live sessions whose key is removed are
//     ended within Config.KeepAlive.
//   - The key checked is the one the session proved. x/crypto/ssh asks the
//     key callback about every key a client offers, before any signature
//     (CVE-2024-45337), so the callback only lets a client try; the session
//     handler checks the session's own key, taken from the connection's
//     final permissions.
//   - The host key persists (created 0600 on first start, in a directory
//     created 0700), and a host key or authorized keys file that other
//     users could read or write is refused.
//   - Sessions end after Config.IdleTimeout without input and after
//     Config.MaxTimeout in all; clients that stop answering are dropped.
//   - Names chosen by clients are stripped of control characters before
//     they reach another operator's screen or the log, and keys are logged
//     by SHA256 fingerprint only.
//
// The package knows nothing of the terminal UI: an interactive session is
// handed to Config.Terminal, which runs the assistant on it with the
// session's own renderer and window size.
package sshserve
