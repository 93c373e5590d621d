#!/usr/bin/env bash
# The long chaos run: the in-suite TestChaosKillAndResume at a larger
# scale. The provision binary migrates USERS users into a sandbox tenant
# that fails 10% of its Management API requests (500 and 503) and runs
# every import job slowly; it is killed with SIGKILL at random moments up
# to KILLS times and resumed until it finishes. Then the tenant must hold
# every valid user exactly once, each inserted by exactly one import, and
# the reconciliation must add up to the source's rows.
#
#   bench/chaos.sh [USERS] [KILLS]      (default 20000 users, 150 kills)
#
# Environment: CHAOS_JOB_MS (job duration, default 400), CHAOS_FILE_BYTES
# (import file size, default 20000), CHAOS_MAX_KILL_MS (latest kill after a
# start, default 2500), CHAOS_LOG (write every run's output there).
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-20000}
kills=${2:-150}
export CHAOS_USERS=$users CHAOS_KILLS=$kills
export CHAOS_JOB_MS=${CHAOS_JOB_MS:-400}
export CHAOS_FILE_BYTES=${CHAOS_FILE_BYTES:-20000}
export CHAOS_MAX_KILL_MS=${CHAOS_MAX_KILL_MS:-2500}
export CHAOS_BUDGET_S=${CHAOS_BUDGET_S:-3000}
echo "chaos: $users users, up to $kills kills, jobs of ${CHAOS_JOB_MS} ms, files of ${CHAOS_FILE_BYTES} bytes"
start=$(date +%s)
go test ./engine/run/ -run '^TestChaosKillAndResume$' -count=1 -v -timeout 60m | grep -E '^(=== RUN|--- |    chaos_test|ok|FAIL|PASS)'
echo "chaos: passed in $(( $(date +%s) - start )) s"
