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
secrets=$scratch/overlays/example/secrets
echo "test-admin-token-not-for-use" >"$secrets/admin.token"
printf '%064d\n' 0 >"$secrets/data.key"

for k in base overlays/example; do
  kubectl kustomize "$scratch/$k" >"$scratch/$(basename "$k").yaml"
done
grep -q 'secretName: intake-secrets-' "$scratch/example.yaml" || {
  echo "FAIL: the overlay's StatefulSet does not mount the generated Secret" >&2
  exit 1
}
node "$here/test/validate.mjs" "$scratch/base.yaml" "$scratch/example.yaml"
