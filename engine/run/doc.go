// Package run is the staged executor: it takes a legacy export into a
// target in stages, with every step written ahead to the journal
// (storage), so that a run stopped at any instant, by Ctrl-C, a dropped
// SSH session, kill -9 or a power cut, resumes with every valid user
// imported exactly once.
//
// # A run
//
//  1. prepare: fingerprint the source (SHA-256) and create the journal,
//     or open it and refuse a source or settings that changed; register
//     every source row (valid, quarantined, or skipped as a duplicate) and
//     write each valid user's import JSON to the spool; assign the valid
//     users to stages (package assign: a fixed hash of the email, so the
//     same users always land in the same stages).
//  2. per stage: pack the stage's users from the spool into import files
//     (chunk), plan each as a journal chunk, and run them through the
//     upload pipeline with at most Options.Slots jobs in flight. The
//     callbacks write the journal before each side effect: "submitting"
//     before the POST, the job id as soon as it returns, every user's
//     outcome (package outcome) with the chunk's completion in one
//     transaction.
//     A local target (target.Local: a directory of import files) gets
//     chunks in batches instead (local.go): two transactions per batch,
//     before and after its files are written, and a spool kept in memory.
//  3. chunks whose job failed, or whose fate is unknown (ambiguous), are
//     sent again in later rounds, under the rules of package outcome that
//     keep a lost earlier attempt from counting twice.
//  4. verify: look a sample of the stage's users up by email and log its
//     canaries in (package verify).
//  5. gate: the stage is done when its failure rate is within its gate and
//     it needs no approval; otherwise the run stops there (or, with
//     Options.WaitForApproval, waits for Engine.Approve). A stage whose
//     failure rate is already above its gate on enough users stops early,
//     before the rest of its users are sent.
//
// # Resuming
//
// Everything the engine needs is in the journal and the spool; nothing is
// kept only in memory. On resume, a chunk left "submitting" is marked
// ambiguous; a chunk with a job id is followed to its end; a planned chunk
// is rebuilt from the spool with exactly its members; unsent users are
// packed afresh. Every journal write is idempotent, so a crash in the
// middle of any of them is repaired by doing it again.
//
// # Driving it
//
// Headless commands and the TUI use the same Engine: Run drives the run
// and returns at its end or at a gate; Pause, Abort and Approve are the
// operator's commands; typed events (Event) arrive on Options.Events.
// Rollback deletes what a stage inserted; DryRun shows what a run would
// send without a journal or a target. The reconciliation report lives in
// package reconcile.
package run
