#!/usr/bin/env bash
# Measures how well the upload pipeline keeps a tenant's import slots busy:
# starts a sandbox tenant whose import jobs each take JOB_DURATION, uploads
# CHUNKS chunks through the real Auth0 client over loopback HTTP with each
# number of slots in SLOTS, and prints a table. Utilisation is the ideal
# time (CHUNKS x JOB_DURATION / slots) over the measured time.
#
#   bench/upload.sh                      # 100 chunks, 1 s jobs, 1 and 2 slots
#   CHUNKS=40 JOB_DURATION=500ms SLOTS=2 bench/upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CHUNKS=${CHUNKS:-100}
JOB_DURATION=${JOB_DURATION:-1s}
SLOTS=${SLOTS:-"1 2"}

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
	if [[ -n $sandbox_pid ]]; then
		kill "$sandbox_pid" 2>/dev/null || true
		wait "$sandbox_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/provision" ./cmd/provision

# The secret reaches the sandbox through its environment and the client
# through a 0600 file: never a command-line argument.
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
umask 077
printf 'client_id=provision-sandbox\nclient_secret=%s\n' "$secret" >"$work/credentials"

# The sandbox allows Auth0's 2 concurrent import jobs.
SANDBOX_CLIENT_SECRET=$secret "$work/provision" sandbox --addr 127.0.0.1:0 \
	--job-duration "$JOB_DURATION" >"$work/banner" 2>"$work/sandbox.log" &
sandbox_pid=$!

base=""
for _ in $(seq 100); do
	base=$(sed -n 's/^Auth0 sandbox tenant at //p' "$work/banner" 2>/dev/null || true)
	[[ -n $base ]] && break
	kill -0 "$sandbox_pid" 2>/dev/null || { cat "$work/sandbox.log" >&2; exit 1; }
	sleep 0.1
done
[[ -n $base ]] || { echo "sandbox did not start; its log:" >&2; cat "$work/sandbox.log" >&2; exit 1; }
connection=$(sed -n 's/^  connection *\(con_[A-Za-z0-9]*\).*/\1/p' "$work/banner")

echo "upload pipeline against the sandbox at $base ($(go env GOOS)/$(go env GOARCH), $(nproc) CPUs)"
echo
echo "| chunks | slots | job duration | elapsed | utilisation |"
echo "|-------:|------:|-------------:|--------:|------------:|"
for slots in $SLOTS; do
	PROVISION_BENCH_TARGET="auth0:$base" \
	PROVISION_BENCH_CREDENTIALS="$work/credentials" \
	PROVISION_BENCH_CONNECTION="$connection" \
	PROVISION_BENCH_CHUNKS="$CHUNKS" \
	PROVISION_BENCH_SLOTS="$slots" \
	PROVISION_BENCH_JOB_DURATION="$JOB_DURATION" \
		go test -v -count=1 -timeout 30m -run '^TestUploadBench$' ./engine/upload | grep '^|' ||
		{ echo "run with $slots slots failed" >&2; exit 1; }
done
