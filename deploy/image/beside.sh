#!/usr/bin/env bash
# Runs the image test (make test-image) in the background beside COMMAND (CI: beside `make test`), so that the
# image's downloads and its own compile overlap the rest instead of following it. Prints the
# image test's log (build/test-image.log) at the end; fails if either failed. If COMMAND fails,
# the image test is stopped.
#
# Usage: deploy/image/beside.sh COMMAND [ARGS...]
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
log=$root/build/test-image.log
mkdir -p "$root/build"
# Its packages first, in the foreground: two apt-get at once would fight over dpkg's lock.
"$root/deploy/install-deps.sh" --image || exit 1
# Its own process group, so that stopping it stops podman and the build too.
setsid "$root/deploy/image/test.sh" >"$log" 2>&1 &
image_pid=$!
start=$(date +%s)

"$@"
status=$?
if [ $status -ne 0 ]; then
  kill -TERM -- "-$image_pid" 2>/dev/null
fi
wait "$image_pid"
image_status=$?
echo "---- image test (started with the rest, done $(($(date +%s) - start)) s later; log: $log)"
tail -n 15 "$log"
[ $status -ne 0 ] && exit $status
exit $image_status
