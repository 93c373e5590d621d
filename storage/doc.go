// Package storage is the journal of a staged migration run: one bbolt file
// per workspace that is the single source of truth for what was planned,
// what was sent to the target, and what came back. Nothing else in
// provision touches bbolt.
//
// # Model
//
// Every source row has exactly one user record, keyed by its RowID (its
// position in the source), so reconciliation can account for every row,
// including rows without a usable email. Records live in blocks of 1,024
// consecutive rows (blocks.go), what never changes (line, email, expected
// user_id) apart from what each step changes (state, stage, chunk), so a
// step over a chunk's users rewrites a few kilobytes. There is no email
// index: emails are unique among valid rows by the caller's promise, which
// Verify checks. A user moves through
//
//	pending -> assigned -> submitted -> inserted | updated | failed
//
// or is registered as quarantined (invalid) or skipped (duplicate) and
// never moves. failed users may be retried, inserted users rolled back.
// Stages hold users; chunks group a stage's users into one import job.
// Every transition is checked against the tables in states.go: an illegal
// one is refused with a *TransitionError naming the user, chunk or stage,
// so a bug in the caller cannot silently corrupt the reconciliation.
//
// # Write-ahead
//
// The API is shaped so that a state change is committed before the side
// effect it permits, and every crash leaves a state from which the caller
// can resume:
//
//	id, _ := j.PlanChunk(stage, rows)  // users chosen, nothing sent
//	j.MarkChunkSubmitting(id)           // users -> submitted: from here they may exist in the target
//	job := POST /api/v2/jobs/users-imports
//	j.RecordJobID(id, job)              // a crash before this line leaves the chunk "submitting"
//	... poll, fetch errors ...
//	j.CompleteChunk(id, outcomes)       // outcomes and chunk done in one transaction
//
// On resume, a chunk still in submitting is ambiguous (MarkChunkAmbiguous):
// its job may or may not exist, and the caller resubmits it with upsert or
// confirms each user at the target before recording outcomes.
//
// # Durability and speed
//
// Every transaction is fsynced. Speed comes from grouping: the batch
// methods (AddUsers, AssignUsers, RecordOutcomes, ...) write up to 10,000
// users per transaction, and per-stage, per-state
// counters are updated in the same transactions as the users they count,
// so Status never scans users. Verify recounts and cross-checks them.
//
// Batches larger than one transaction are not atomic, but every batch
// method is idempotent: repeating a batch after a crash completes it
// without error. Methods that may run for more than one transaction or scan
// the whole journal take a context and stop between transactions.
//
// # Secrets
//
// The journal stores emails, row and line numbers, stage and chunk ids,
// states, job ids, target user_ids and error codes and messages. It has no
// field for passwords, hashes or client secrets; callers must not put them
// into error messages or event text either. Journal files are created 0600.
package storage
