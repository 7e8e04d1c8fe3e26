#!/usr/bin/env bash
# The Kubernetes manifests' test (CTest runs it): kubectl kustomize renders the base and the
# example overlay (with throwaway secrets), and every rendered object validates against the
# Kubernetes schemas offline (test/validate.mjs: types, required fields, unknown fields).
# test/'s pinned npm packages are installed with `npm ci` when missing or out of date.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$here/test/node_modules/.package-lock.json" ] ||
   [ "$here/test/package-lock.json" -nt "$here/test/node_modules/.package-lock.json" ]; then
  (cd "$here/test" && npm ci --no-audit --no-fund --silent)
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/base" "$here/overlays" "$scratch/"
for overlay in example postgres; do
  secrets=$scratch/overlays/$overlay/secrets
  echo "test-admin-token-not-for-use" >"$secrets/admin.token"
  printf '%064d\n' 0 >"$secrets/data.key"
done
echo "test-database-password-not-for-use" >"$scratch/overlays/postgres/secrets/database.password"
echo "test-ca-not-for-use" >"$scratch/overlays/postgres/secrets/database-ca.crt"

for k in base overlays/example overlays/postgres; do
  kubectl kustomize "$scratch/$k" >"$scratch/$(basename "$k").yaml"
done
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
grep -q 'secretName: intake-secrets-' "$scratch/example.yaml" ||
  fail "the overlay's StatefulSet does not mount the generated Secret"

# The PostgreSQL overlay: a Deployment of several replicas in place of the StatefulSet, its
# data directory the generated Secret mounted read-only, the password from a Secret through
# the environment and never in the rendered manifests' commands or the database URI.
pg=$scratch/postgres.yaml
grep -q '^kind: StatefulSet' "$pg" && fail "the PostgreSQL overlay still has the SQLite StatefulSet"
grep -q '^kind: Deployment' "$pg" || fail "the PostgreSQL overlay has no Deployment"
replicas=$(sed -n 's/^  replicas: \([0-9]*\)$/\1/p' "$pg")
[ "${replicas:-0}" -ge 2 ] || fail "the PostgreSQL Deployment runs ${replicas:-no} replicas"
grep -A1 'name: INTAKE_DATA_DIR' "$pg" | grep -q 'value: /etc/intake/secrets' ||
  fail "the data directory is not the mounted Secret"
grep -A2 'mountPath: /etc/intake/secrets' "$pg" | grep -q 'readOnly: true' ||
  fail "the Secret holding the data directory is not mounted read-only"
grep -q 'secretName: intake-secrets-' "$pg" || fail "the Deployment does not mount the generated Secret"
grep -A4 'name: PGPASSWORD' "$pg" | grep -q 'name: intake-database-' ||
  fail "PGPASSWORD does not come from the generated intake-database Secret"
grep -q 'test-database-password-not-for-use' "$pg" && fail "the password is in the manifests in clear"
grep -A1 'name: INTAKE_DATABASE' "$pg" | grep -qE '//[^/@:]+:[^/@]*@' &&
  fail "the database URI carries a password"
grep -qE '^ +(command|args):' "$pg" && fail "a command line in the PostgreSQL overlay"

node "$here/test/validate.mjs" "$scratch/base.yaml" "$scratch/example.yaml" "$pg"
