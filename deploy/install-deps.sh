#!/usr/bin/env bash
# Installs what building and testing Intake needs on Debian 12: the Debian packages below and,
# from the npm registry, pinned tools kept outside the source tree in $INTAKE_TOOLS_DIR.
# Idempotent, and quick when everything is already present.
#
#   install-deps.sh               everything `make build` and `make test` need
#   install-deps.sh --build-only  only what compiling intaked and intakectl needs (the
#                                 container image's build stage, deploy/Containerfile)
#   install-deps.sh --image       what `make image` and `make test-image` need besides
#   install-deps.sh --soak        only what `make soak` adds (gnuplot, for its plot)
set -euo pipefail

tools_dir="${INTAKE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/intake-tools}"
mode=all
case "${1:-}" in
  "") ;;
  --build-only) mode=build ;;
  --image) mode=image ;;
  --soak) mode=soak ;;
  *) echo "usage: $0 [--build-only | --image | --soak]" >&2; exit 2 ;;
esac

# What compiling intaked and intakectl needs: a library the server links goes here.
# (GoogleTest too: the build configures its tests even when it does not build them.)
build_packages=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev
  libsqlitecpp-dev libsqlite3-dev
  libphonenumber-dev libsodium-dev prometheus-cpp-dev nlohmann-json3-dev
  libssl-dev openssl
  prometheus
  libgtest-dev libgmock-dev
  # PostgreSQL mode: libpq.
  libpq-dev
)
# What developing and testing adds.
dev_packages=(
  git clang clang-format clang-tidy sqlite3
  # The asan preset is a clang build with libFuzzer targets: clang's sanitizer runtimes.
  libclang-rt-14-dev
  # The web side's browser tests: Debian's chromium driven by playwright-core (no downloaded
  # browser), a throwaway TLS certificate from openssl, setpriv (util-linux) to tie test
  # processes to the test.
  chromium openssl util-linux
  # PostgreSQL mode: the server the tests start privately.
  postgresql-15
  # The Python example provider client: gRPC for Debian's python3, and its code generator.
  python3-grpcio python3-grpc-tools
  # systemd-analyze, which checks the systemd unit (deploy/systemd/test.sh).
  systemd
  # Fault tests mount a small tmpfs and a loop-device ext4 (tests/testing/scratch_filesystem.h).
  mount e2fsprogs
  # intake-soak's plot, which its short run in make test checks (tests/e2e/soak_test.cc).
  gnuplot-nox
)
# What building and running the container image needs (deploy/image/build.sh): podman with
# runc, and mmdebstrap to make the Debian base image where no registry can be reached.
image_packages=(
  podman runc mmdebstrap uidmap slirp4netns fuse-overlayfs
)

# Exact versions: a new release must be a reviewed change, never a surprise in CI.
build_npm_packages=(
  "google-proto-files@6.0.1"
)
dev_npm_packages=(
  "@bufbuild/buf@1.75.0"
)

case "$mode" in
  all)
    debian_packages=("${build_packages[@]}" "${dev_packages[@]}")
    npm_packages=("${dev_npm_packages[@]}" "${build_npm_packages[@]}")
    # kubectl renders the Kubernetes manifests (kubectl kustomize): any recent one will do,
    # else Debian's.
    command -v kubectl >/dev/null 2>&1 || debian_packages+=(kubernetes-client)
    ;;
  build)
    debian_packages=("${build_packages[@]}")
    npm_packages=("${build_npm_packages[@]}")
    ;;
  image)
    debian_packages=("${image_packages[@]}")
    npm_packages=()
    ;;
  soak)
    debian_packages=(gnuplot-nox)
    npm_packages=()
    ;;
esac

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Some images ship Node.js from elsewhere with npm bundled; Debian's are only needed without one.
if [ ${#npm_packages[@]} -gt 0 ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  # PostgreSQL's tests start private servers of their own (tests/testing/pg_server.h) as the
  # `postgres` account that postgresql-common creates; the system-wide cluster the package
  # would otherwise create and start is not needed.
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
      postgresql-common >/dev/null
    "${sudo_cmd[@]}" sed -i 's/^#\?create_main_cluster *=.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ ${#npm_packages[@]} -gt 0 ] || exit 0
# client/web's pinned packages (Connect 2.1, protoc-gen-es 2.13) need Node.js 20 or newer;
# Debian 12's own nodejs is 18, which is enough for the build alone.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$mode" = all ] && [ "$node_major" -lt 20 ]; then
  echo "install-deps: Node.js $(node --version) is too old: client/web needs Node.js 20 or newer" >&2
  exit 1
fi

stamp="$tools_dir/.installed"
want="${npm_packages[*]}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "install-deps: installing ${want} into $tools_dir" >&2
  mkdir -p "$tools_dir"
  [ -f "$tools_dir/package.json" ] || echo '{"private": true}' >"$tools_dir/package.json"
  npm install --prefix "$tools_dir" --no-audit --no-fund --silent --save-exact "${npm_packages[@]}"
  echo "$want" >"$stamp"
fi
