#!/usr/bin/env bash
# Migration speed on a generated export, against validation of the same
# file (best of three runs each), and the cost of the pieces: the file target (export), the engine
# and journal alone (a target that accepts everything at once), status and
# report on the resulting journal, and the journal's outcome recording.
#   bench/migrate.sh [ROWS]      (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/provision" ./cmd/provision
go run ./bench/gendata -rows "$rows" -out "$tmp/users.csv" 2>/dev/null
size=$(stat -c %s "$tmp/users.csv")
cat "$tmp/users.csv" >/dev/null # warm the page cache

# secs CMD...: wall seconds of one run (exit 3, quarantined rows, is fine).
secs() {
  local code=0
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || code=$?
  [ "$code" -le 3 ] || { echo "failed ($code): $*" >&2; cat "$tmp/err" >&2; exit 1; }
  tail -n1 "$tmp/time" | awk '{print $1}' # time prefixes a line when the exit status is not 0
}
best() { local b=""; for _ in 1 2 3; do t=$("$@"); b=$(awk -v a="$t" -v b="${b:-1e9}" 'BEGIN{print (a<b)?a:b}'); done; echo "$b"; }

validate=$(best secs "$tmp/provision" validate "$tmp/users.csv" --format json --max-findings 10)
# fresh CMD...: secs of CMD in a new workspace and output directory.
fresh() { rm -rf "$tmp/ws" "$tmp/out" "$tmp/export"; secs "$@"; }
export_s=$(best fresh "$tmp/provision" export "$tmp/users.csv" --out "$tmp/export" --format json)
migrate=$(best fresh "$tmp/provision" migrate "$tmp/users.csv" --workspace "$tmp/ws" --target "file:$tmp/out" --stages canary:50,wave:10%,rest --yes --no-verify --format json)
migrate_rss=$(tail -n1 "$tmp/time" | awk '{printf "%.0f", $2/1024}')
grep -E 'fingerprinting|registered|stages:|stage [a-z]+ done|finished' "$tmp/err" | sed 's/^/  migrate: /' >"$tmp/timeline" || true
status=$(best secs "$tmp/provision" status --workspace "$tmp/ws")
report=$(secs "$tmp/provision" report --workspace "$tmp/ws" --format json --no-fix-file)
journal_mb=$(stat -c %s "$tmp/ws/journal.db" | awk '{printf "%.0f", $1/1e6}')

engine=$(PROVISION_BENCH_USERS=$rows go test ./engine/run/ -run '^$' -bench '^BenchmarkRunNullTarget$' -benchtime 1x |
  awk '/BenchmarkRunNullTarget/{for(i=1;i<=NF;i++) if($(i+1)=="ns/op") printf "%.2f", $i/1e9}')
outcomes=$(go test ./storage/ -run '^$' -bench '^BenchmarkRecordOutcomes1M$' -benchtime 1x |
  awk '/BenchmarkRecordOutcomes1M/{for(i=1;i<=NF;i++) if($(i+1) ~ /outcomes\/s|recorded\/s|users\/s/) print $i}' | head -1)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; $(go version | awk '{print $3}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "source: $rows rows, $(awk -v s="$size" 'BEGIN{printf "%.0f MB", s/1e6}')"
printf '| %-44s | %10s | %12s |\n' measure seconds "x validate"
printf '|%s|%s|%s|\n' "----------------------------------------------" "------------" "--------------"
row() { printf '| %-44s | %10s | %12s |\n' "$1" "$2" "$(awk -v a="$2" -v b="$validate" 'BEGIN{if (a=="") print "-"; else printf "%.1f", a/b}')"; }
row "validate" "$validate"
row "export (validate + file target, no journal)" "$export_s"
row "migrate --target file:DIR (3 stages)" "$migrate"
row "engine + journal, null target (go test)" "$engine"
row "status on the migrated journal" "$status"
row "report --format json" "$report"
echo "migrate peak RSS: ${migrate_rss} MB; journal: ${journal_mb} MB; timeline:"
cat "$tmp/timeline"
echo "journal outcome recording (storage BenchmarkRecordOutcomes1M): ${outcomes:-see go test ./storage -bench RecordOutcomes1M}"
