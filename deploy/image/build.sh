#!/usr/bin/env bash
# Builds Intake's container image with podman from deploy/Containerfile (`make image`).
#
# No image registry is reachable here, so when debian:bookworm-slim is missing from podman's
# storage it is made with mmdebstrap from the Debian archive (minbase, with the slim image's
# dpkg excludes: no manuals, docs or locales) and imported under that name; the build then
# never pulls (--pull=never). The Containerfile stays the one anyone builds anywhere.
#
# Usage: deploy/image/build.sh [TAG]        TAG defaults to localhost/intake:latest
# Environment: podman's own (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, ...); the image test
# sets them to keep its engine settings and storage in folders of its own.
# INTAKE_IMAGE_CACHE: where the base image's tarball is kept (default ~/.cache/intake-image).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tag=${1:-localhost/intake:latest}
base=docker.io/library/debian:bookworm-slim
cache=${INTAKE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/intake-image}
tarball=$cache/debian-bookworm-slim.tar

if ! podman image exists "$base"; then
  # A week-old base is remade: the build stage installs today's packages either way, but the
  # runtime stage keeps what the base holds.
  if [ ! -f "$tarball" ] || [ -n "$(find "$tarball" -mtime +7)" ]; then
    echo "image: making $base with mmdebstrap from the Debian archive" >&2
    mkdir -p "$cache"
    mmdebstrap --quiet --variant=minbase \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --aptopt='APT::Install-Recommends "false"' \
      bookworm "$cache/partial.tar"  # mmdebstrap picks its output format by the extension.
    mv "$cache/partial.tar" "$tarball"
  fi
  podman import --quiet --change 'CMD ["bash"]' "$tarball" "$base" >/dev/null
fi

# The host's CA certificates for npm in the build stage, in case the host reaches the npm
# registry through a TLS-inspecting proxy that it trusts (the standard ones are in it too).
build_args=()
host_ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$host_ca" ]; then
  build_args+=(--volume "$host_ca:/run/intake-build/ca.crt:ro"
               --build-arg NPM_CONFIG_CAFILE=/run/intake-build/ca.crt)
fi

# --network=host: the build stage installs packages (the bridge network leaves state behind
# on some hosts). --format=docker: OCI images have no HEALTHCHECK.
podman build --pull=never --network=host --format=docker "${build_args[@]}" \
  -f "$root/deploy/Containerfile" -t "$tag" "$root"
