#!/usr/bin/env bash
# What the --pii_retention sweep costs (issue 11's closing note): one intaked with its data
# directory on tmpfs (/dev/shm: Intake's own latency, not the disk's) holding LEADS leads
# (default 1,000,000) created over the last 120 days, one a DUE_FRACTION of which (default
# 1/4: the oldest 30 days of them) were last submitted longer ago than the default
# --pii_retention of 2160h. intake-bench's submit mode is measured twice against it: with
# retention off (--pii_retention=0), and right after a restart with the default retention,
# whose sweep starts as intaked starts and erases the due leads meanwhile. Prints the submit
# p50/p99 of both runs, then the sweep's own report: leads erased, steps, and the longest time
# one step held the writer (the step's work inside its transaction; on tmpfs the commit it
# shares with the submissions of its batch costs next to nothing).
#
# The leads are written straight into the database (as intaked writes them: the lead with
# its sealed data, its ASSIGNED event, its submission record) rather than submitted one by
# one, which would take longer than the measurement.
#
# Usage: client/bench/retention_effect.sh [BUILD_BIN_DIR] (default build/bin)
#   LEADS: leads in the database (default 1000000)
#   BENCH_ARGS: more intake-bench flags (default --concurrency=16 --duration=10s)
set -euo pipefail

bin=${1:-build/bin}
leads=${LEADS:-1000000}
bench_args=${BENCH_ARGS:---concurrency=16 --duration=10s}
dir=$(mktemp -d /dev/shm/intake-retention-effect-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Starts intaked with the flags given; sets pid, listen and admin.
start() {
  rm -f "$dir/ports.json"
  "$bin/intaked" --data_dir="$dir/var" --listen=127.0.0.1:0 --admin_listen=127.0.0.1:0 \
    --metrics_listen= --client_rate=0 --ports_file="$dir/ports.json" "$@" \
    >/dev/null 2>"$dir/intaked.log" &
  pid=$!
  for _ in $(seq 300); do [ -s "$dir/ports.json" ] && break; sleep 0.1; done
  listen=$(sed -E 's/.*"listen": "([^"]+)".*/\1/' "$dir/ports.json")
  admin=$(sed -E 's/.*"admin_listen": "([^"]+)".*/\1/' "$dir/ports.json")
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
}

# p50 and p99 of SubmitCallback from intake-bench's JSON report.
latency() {
  python3 -c 'import json,sys; r=json.load(sys.stdin)["submit"]; print("p50 %.2f ms, p99 %.2f ms, %d calls/s" % (r["p50_ms"], r["p99_ms"], r["calls_per_s"]))'
}

# A fresh database with one provider, then the leads, oldest first, one every 120 days/LEADS.
start --pii_retention=0
"$bin/intakectl" --addr="$admin" --token_file="$dir/var/admin.token" \
  providers create --id=p --name=P >/dev/null
stop
now_us=$(($(date +%s) * 1000000))
step_us=$((120 * 86400 * 1000000 / leads))
sqlite3 "$dir/var/intake.db" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO consent_texts (sha256, text) VALUES (zeroblob(32), 'I agree to be called back.');
CREATE TEMP TABLE fill AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $leads)
  SELECT printf('lead-%016x%016x', $now_us - ($leads - i) * $step_us, abs(random())) AS lead_id,
         $now_us - ($leads - i) * $step_us AS t
  FROM n;
INSERT INTO leads (lead_id, state, phone_hash, target, provider_id, routing_reason,
                   routing_detail, region, sealed, form_id, page_url, utm_source, utm_medium,
                   utm_campaign, consent_sha256, advertisers, consent_time_us, create_time_us,
                   last_submit_time_us, submission_count)
  SELECT lead_id, 1, randomblob(32), '', 'p', 2, 'rotation: least recently assigned', 'FL',
         randomblob(190), 'sidebar', 'https://finder.example/', '', '', '', zeroblob(32),
         'Sunrise Recovery', t, t, t, 1
  FROM fill ORDER BY t;
INSERT INTO lead_events (lead_id, provider_id, type, event_time_us)
  SELECT lead_id, 'p', 1, t FROM fill ORDER BY t;
INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, lead_id,
                         create_time_us)
  SELECT 'sub-' || substr(lead_id, 6), NULL, randomblob(32), 1, lead_id, t FROM fill ORDER BY t;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
due=$(sqlite3 "$dir/var/intake.db" \
  "SELECT count(*) FROM leads WHERE last_submit_time_us < $now_us - 2160 * 3600 * 1000000")
echo "database: $leads leads, $due of them due for erasure, $(stat -c %s "$dir/var/intake.db") bytes"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

start --pii_retention=0
# shellcheck disable=SC2086
without=$("$bin/intake-bench" --target="$listen" $bench_args 2>/dev/null | latency)
echo "submit without the sweep: $without"
stop

start  # The default --pii_retention: the sweep starts now.
# shellcheck disable=SC2086
with=$("$bin/intake-bench" --target="$listen" $bench_args 2>/dev/null | latency)
echo "submit during the sweep:  $with"
if grep -q "retention sweep" "$dir/intaked.log"; then
  echo "(the sweep ended before the measurement did: raise LEADS for a longer one)"
fi
for _ in $(seq 3600); do grep -q "retention sweep" "$dir/intaked.log" && break; sleep 1; done
echo "sweep: $(grep "retention sweep" "$dir/intaked.log" | sed -E 's/^intaked: //; s/ time=.*//')"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
