#!/usr/bin/env bash
# The container image's test (make test-image): builds the image (deploy/image/build.sh), runs
# intaked in it on a named volume, checks the image's health check and its non-root user,
# submits a lead, stops the container with SIGTERM (exit 0, drained), starts a new container
# on the same volume and finds the lead there; then runs one with TLS on, whose health check
# still passes (it asks the plaintext health listener).
#
# Everything podman keeps goes to folders of the test's own: engine settings from
# deploy/image/containers.conf, storage under $INTAKE_IMAGE_CACHE (default
# ~/.cache/intake-image: kept between runs so a rebuild reuses its layers), state in a scratch
# folder. The containers use no network at all (--network=none: each has its own loopback,
# so no port is shared with anything on the host); the clients run inside them with
# `podman exec`, the image's own intakectl.
#
# Usage: deploy/image/test.sh [--no-build]   (--no-build: test the image already built)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${INTAKE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/intake-image}
export INTAKE_IMAGE_CACHE=$cache
tag=localhost/intake:test
run_id=intake-image-test-$$
scratch=$(mktemp -d)
mkdir -p "$cache/storage"

export CONTAINERS_CONF=$root/deploy/image/containers.conf
export CONTAINERS_STORAGE_CONF=$scratch/storage.conf
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$cache/storage"
runroot = "$scratch/run"
CONF
# Image and layer data are shared by runs; containers and volumes are this run's.
cleanup() {
  podman rm --force --time 0 "$run_id-1" "$run_id-2" "$run_id-3" >/dev/null 2>&1 || true
  podman volume rm --force "$run_id" "$run_id-tls" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for c in "$run_id-1" "$run_id-2" "$run_id-3"; do
    podman logs "$c" 2>/dev/null | sed "s/^/  $c: /" >&2 || true
  done
  exit 1
}

if [ "${1:-}" != "--no-build" ]; then
  start=$(date +%s)
  "$root/deploy/image/build.sh" "$tag"
  echo "image test: built $tag in $(($(date +%s) - start)) s"
fi
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "image test: $tag is $((size / 1000000)) MB"

# Waits (at most 60 s) until the image's own HEALTHCHECK passes in container $1.
wait_healthy() {
  for _ in $(seq 120); do
    podman healthcheck run "$1" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "$1 never became healthy"
}
# podman without a systemd to run health check timers says so at every start and stop; the
# test runs the checks itself (podman healthcheck run).
quiet_podman() {
  podman "$@" 2> >(grep -v 'systemd connection' >&2)
}
ctl() {
  local c=$1
  shift
  podman exec "$c" intakectl --token_file=/var/lib/intake/admin.token "$@"
}

podman volume create "$run_id" >/dev/null
quiet_podman run -d --name "$run_id-1" --network=none --health-interval=disable \
  -v "$run_id:/var/lib/intake" "$tag" >/dev/null
wait_healthy "$run_id-1"
[ "$(podman exec "$run_id-1" id -u)" = 10001 ] || fail "intaked does not run as user 10001"
perms=$(podman exec "$run_id-1" stat -c '%a %u' /var/lib/intake /var/lib/intake/data.key)
[ "$perms" = $'700 10001\n600 10001' ] || fail "the data directory and key are not private: $perms"

submitted=$(podman exec "$run_id-1" intakectl submit --output=json --phone="(305) 736-5000" \
  --name=Sam --region=FL --consent_text="I agree to be called back.") || fail "submit failed"
lead=$(ctl "$run_id-1" leads list --quiet | head -n 1)
[ -n "$lead" ] || fail "no lead after the submission ($submitted)"
echo "image test: lead $lead stored"

quiet_podman stop --time 30 "$run_id-1" >/dev/null
exit_code=$(podman inspect "$run_id-1" --format '{{.State.ExitCode}}')
[ "$exit_code" = 0 ] || fail "intaked exited $exit_code on SIGTERM, not 0"
# Exit 0 on SIGTERM comes only from the drain; its log lines too (conmon may still be writing
# them out on a loaded machine, hence the wait).
drained=false
for _ in $(seq 30); do
  logs=$(podman logs "$run_id-1" 2>&1)
  if grep -q 'intaked: draining signal=SIGTERM' <<<"$logs" && grep -q 'intaked: stopped' <<<"$logs"; then
    drained=true
    break
  fi
  sleep 0.5
done
$drained || fail "intaked's log does not show the drain"
echo "image test: SIGTERM drained, exit 0"

quiet_podman run -d --name "$run_id-2" --network=none --health-interval=disable \
  -v "$run_id:/var/lib/intake" "$tag" >/dev/null
wait_healthy "$run_id-2"
found=$(ctl "$run_id-2" leads get --lead="$lead" --output=json) || fail "lead $lead is gone"
grep -q '"+13057365000"' <<<"$found" || fail "lead $lead lost its caller: $found"
echo "image test: lead $lead found by a new container on the same volume"

# TLS on (a throwaway certificate for 127.0.0.1): the public port refuses plaintext, answers
# a client that trusts the certificate, and the image's health check passes all the same.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=intake-image-test \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$scratch/tls.key" -out "$scratch/tls.crt" \
  2>/dev/null
chmod 0644 "$scratch/tls.key" # read by the container's user 10001; the folder is private
quiet_podman run -d --name "$run_id-3" --network=none --health-interval=disable \
  -v "$run_id-tls:/var/lib/intake" -v "$scratch/tls.crt:/etc/intake/tls.crt:ro" \
  -v "$scratch/tls.key:/etc/intake/tls.key:ro" \
  -e INTAKE_TLS_CERT=/etc/intake/tls.crt -e INTAKE_TLS_KEY=/etc/intake/tls.key "$tag" >/dev/null
wait_healthy "$run_id-3"
if podman exec "$run_id-3" intakectl health --timeout=3s --addr=127.0.0.1:50051 >/dev/null 2>&1; then
  fail "the public listener answered a plaintext client with TLS on"
fi
podman exec "$run_id-3" intakectl health --timeout=3s --addr=127.0.0.1:50051 \
  --tls_ca=/etc/intake/tls.crt >/dev/null || fail "the public listener does not serve TLS"
echo "image test: with TLS on, healthy through the health listener"
echo "image-test: 1 passed, 0 failed"
