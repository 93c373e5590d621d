// Package sandbox is a local Auth0-compatible tenant: the stage on which an
// operator rehearses a migration, and the real HTTP server provision's own
// tests run against. It speaks the parts of Auth0's APIs provision uses, with
// Auth0's documented shapes, limits and error codes (docs/auth0.md):
//
//	POST   /oauth/token                   client_credentials; password-realm logins
//	POST   /api/v2/jobs/users-imports     multipart import job (create:users)
//	POST   /api/v2/jobs/users-exports     NDJSON export job (read:users)
//	GET    /api/v2/jobs/{id}              job status (create:users or read:users)
//	GET    /api/v2/jobs/{id}/errors       per-user errors; 204 when none
//	GET    /api/v2/users-by-email         exact, case-sensitive (read:users)
//	GET    /api/v2/users                  page, per_page, include_totals (read:users)
//	GET    /api/v2/users/{id}             (read:users)
//	DELETE /api/v2/users/{id}             (delete:users)
//	GET    /api/v2/connections[/{id}]     (read:connections)
//	PATCH  /api/v2/connections/{id}       options validated (update:connections)
//	GET    /exports/{id}/{file}           an export's download link, valid 60 s
//
// Import jobs validate every user as Auth0 does — the published schema, the
// profile limits, duplicates in the file, existing users with and without
// upsert — and report Auth0's codes (FORMAT, DUPLICATED_USER, ...) with
// hashes masked as "*****". Password logins verify imported hashes with
// engine/hashes, so a rehearsal proves that migrated users can sign in.
//
// A tenant's clock is Config.Now: job progress, timeouts, retention, token
// expiry and the rate limit all follow it, so tests drive time instead of
// sleeping. Faults (5xx, hung requests, 429 storms, failed or slow jobs,
// expiring tokens) are injected by rate through Config or exactly through
// Server.Faults. State lives in memory or, with Config.DataDir, in a bbolt
// file that survives restarts; both go through the same store.Store.
//
// Package sandboxtest starts a tenant for tests of other packages. README.md
// beside this file lists every place where the sandbox had to guess what
// Auth0 does.
package sandbox
