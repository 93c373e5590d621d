#!/usr/bin/env bash
# Validation speed and memory on a generated export, against a bare
# encoding/csv read of the same file.
#   bench/validate.sh [ROWS]      (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/provision" ./cmd/provision
go build -o "$tmp/csvread" ./bench/csvread
go run ./bench/gendata -rows "$rows" -out "$tmp/users.csv" 2>/dev/null
size=$(stat -c %s "$tmp/users.csv")

# Warm the page cache so both runs read from memory.
cat "$tmp/users.csv" >/dev/null

# Two baselines: encoding/csv as csv.NewReader makes it, and with
# ReuseRecord, the fastest it reads.
best_bare=""; best_reuse=""
for _ in 1 2 3; do
  t=$("$tmp/csvread" "$tmp/users.csv" | awk '{print $2}')
  best_bare=$(awk -v a="$t" -v b="${best_bare:-999999}" 'BEGIN{print (a<b)?a:b}')
  t=$("$tmp/csvread" -reuse "$tmp/users.csv" | awk '{print $2}')
  best_reuse=$(awk -v a="$t" -v b="${best_reuse:-999999}" 'BEGIN{print (a<b)?a:b}')
done

best_val=""; rss=0
for _ in 1 2 3; do
  set +e
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$tmp/provision" validate "$tmp/users.csv" --format json --max-findings 100 >"$tmp/report.json"
  code=$?
  set -e
  [ "$code" -le 3 ] || { echo "validate failed ($code)"; exit 1; }
  read -r t kb < <(tail -n 1 "$tmp/time")
  best_val=$(awk -v a="$t" -v b="${best_val:-999999}" 'BEGIN{print (a<b)?a:b}')
  [ "$kb" -gt "$rss" ] && rss=$kb
done

valid=$(grep -m1 '"valid"' "$tmp/report.json" | tr -dc 0-9)
quar=$(grep -m1 '"quarantined"' "$tmp/report.json" | tr -dc 0-9)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "machine: $(nproc) cores, $cpu; $(go version | awk '{print $3}')"
printf '| %-9s | %-7s | %-10s | %-12s | %-10s | %-10s | %-7s | %-13s | %-11s |\n' rows size csv_s csv_reuse_s validate_s rows_per_s ratio ratio_reuse peak_rss_mb
printf '|%s|\n' "-----------|---------|------------|--------------|------------|------------|---------|---------------|------------"
awk -v r="$rows" -v s="$size" -v b="$best_bare" -v u="$best_reuse" -v v="$best_val" -v m="$rss" 'BEGIN{
  printf "| %-9d | %-7s | %-10.2f | %-12.2f | %-10.2f | %-10d | %-7.2f | %-13.2f | %-11.0f |\n", r, sprintf("%.0fMB", s/1e6), b, u, v, r/v, v/b, v/u, m/1024 }'
echo "valid=$valid quarantined=$quar"
