#!/usr/bin/env bash
# `make run`: intaked and the web gateway (intake-web) side by side, for trying Intake out on
# one machine. Prints both addresses; Ctrl-C (or either one ending) stops both.
#   DATA_DIR    intaked's data directory (default ./var)
#   WEB_LISTEN  the gateway's address (default 127.0.0.1:8080)
# Any INTAKE_* / INTAKE_WEB_* variable configures intaked / intake-web as usual.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="${DATA_DIR:-./var}"
mkdir -p "$data_dir"
ports_file="$data_dir/ports.json"
rm -f "$ports_file"

pids=()
# Ctrl-C reaches intaked and intake-web from the terminal (one process group), and each drains
# on its own: only wait. Otherwise (SIGTERM, or one of them ended) stop the other.
on_interrupt() {
  trap - INT TERM EXIT
  wait
}
stop() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  wait
}
trap on_interrupt INT
trap stop TERM EXIT

./build/bin/intaked --data_dir="$data_dir" --ports_file="$ports_file" &
pids+=($!)

# Waits until the process with pid $1 has written its ports file $2, and prints the value of
# key $3 from it.
bound() {
  for _ in $(seq 400); do
    [ -s "$2" ] && break
    kill -0 "$1" 2>/dev/null || exit 1
    sleep 0.05
  done
  sed -n "s/.*\"$3\": *\"\([^\"]*\)\".*/\1/p" "$2"
}

listen=$(bound "${pids[0]}" "$ports_file" listen)
admin=$(bound "${pids[0]}" "$ports_file" admin_listen)
[ -n "$listen" ] || { echo "run-local: intaked wrote no address to $ports_file" >&2; exit 1; }
# The gateway talks to the public listener intaked actually bound.
intaked_addr="${listen/0.0.0.0:/127.0.0.1:}"
intaked_addr="${intaked_addr/\[::\]:/[::1]:}"

web_ports_file="$data_dir/web-ports.json"
rm -f "$web_ports_file"
./build/bin/intake-web --intaked="$intaked_addr" --listen="${WEB_LISTEN:-${INTAKE_WEB_LISTEN:-127.0.0.1:8080}}" \
  --ports_file="$web_ports_file" &
pids+=($!)
web=$(bound "${pids[1]}" "$web_ports_file" listen)
[ -n "$web" ] || { echo "run-local: intake-web did not start" >&2; exit 1; }

cat >&2 <<MSG
run-local: intaked: gRPC on $listen, admin on $admin
run-local: intake-web: http://$web  (callback pages /  /l/<listing_id>, provider dashboard /dashboard)
run-local: Ctrl-C stops both
MSG
wait -n
