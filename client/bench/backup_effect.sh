#!/usr/bin/env bash
# The backup's effect on submit latency (issue 14's closing note): one intaked with its data
# directory on tmpfs (/dev/shm: Intake's own latency, not the disk's), filled by a first
# intake-bench run, then intake-bench's submit mode measured twice against it: without a
# backup, and with `intakectl backup` running back to back for the whole run. Prints the
# submit p50/p99 of both runs, the backups made and their size.
#
# Usage: client/bench/backup_effect.sh [BUILD_BIN_DIR] (default build/bin)
#   BENCH_ARGS: more intake-bench flags (default --concurrency=16 --duration=10s)
set -euo pipefail

bin=${1:-build/bin}
bench_args=${BENCH_ARGS:---concurrency=16 --duration=10s}
dir=$(mktemp -d /dev/shm/intake-backup-effect-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$bin/intaked" --data_dir="$dir/var" --listen=127.0.0.1:0 --admin_listen=127.0.0.1:0 \
  --client_rate=0 --ports_file="$dir/ports.json" >/dev/null 2>"$dir/intaked.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/ports.json" ] && break; sleep 0.1; done
listen=$(sed -E 's/.*"listen": "([^"]+)".*/\1/' "$dir/ports.json")
admin=$(sed -E 's/.*"admin_listen": "([^"]+)".*/\1/' "$dir/ports.json")
ctl=("$bin/intakectl" --addr="$admin" --token_file="$dir/var/admin.token")

# p50 and p99 of SubmitCallback from intake-bench's JSON report.
latency() {
  python3 -c 'import json,sys; r=json.load(sys.stdin)["submit"]; print("p50 %.2f ms, p99 %.2f ms, %d calls/s" % (r["p50_ms"], r["p99_ms"], r["calls_per_s"]))'
}

# shellcheck disable=SC2086
"$bin/intake-bench" --target="$listen" --concurrency=64 --duration=20s >"$dir/fill.json" 2>/dev/null
"${ctl[@]}" backup --out="$dir/first.db" >/dev/null 2>&1
echo "database: $(stat -c %s "$dir/first.db") bytes after the fill"

# shellcheck disable=SC2086
without=$("$bin/intake-bench" --target="$listen" $bench_args 2>/dev/null | latency)
echo "submit without a backup: $without"

(
  n=0
  while [ ! -f "$dir/stop" ]; do
    "${ctl[@]}" backup --out="$dir/copy.db" >/dev/null 2>&1 && n=$((n + 1))
  done
  echo "$n" >"$dir/backups"
) &
pids+=($!)
# shellcheck disable=SC2086
with=$("$bin/intake-bench" --target="$listen" $bench_args 2>/dev/null | latency)
touch "$dir/stop"
wait "${pids[-1]}"
echo "submit during back-to-back backups: $with"
echo "backups made meanwhile: $(cat "$dir/backups") of $(stat -c %s "$dir/copy.db") bytes each"
