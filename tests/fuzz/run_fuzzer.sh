#!/bin/sh
# Runs one libFuzzer target: run_fuzzer.sh FUZZER SEED_DIR WORK_DIR
# For FUZZ_SECONDS (default 30) seconds, from the committed seeds in SEED_DIR plus what the
# fuzzer finds, which it keeps in WORK_DIR/corpus (the seeds are only read). A crash, leak,
# sanitizer report, broken property or an input slower than 10 s fails the run; the input is
# saved as WORK_DIR/crash-*, leak-* or timeout-* (rerun it: FUZZER WORK_DIR/crash-...).
# FUZZ_KEEP=1 keeps WORK_DIR/corpus from earlier runs (make fuzz); by default each run starts
# from the seeds alone, so a test run does not depend on the last one.
set -eu
fuzzer=$1 seeds=$2 work=$3
[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"
mkdir -p "$work/corpus"
set -- -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/"
[ -f "$seeds.dict" ] && set -- "$@" -dict="$seeds.dict"
exec "$fuzzer" "$@" "$work/corpus" "$seeds"
