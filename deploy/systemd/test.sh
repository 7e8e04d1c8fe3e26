#!/usr/bin/env bash
# The systemd unit's tests (CTest runs both): `cmake --install` of the build into a scratch
# prefix, then the installed unit is checked there, with ExecStart at the installed intaked.
#
#   test.sh verify BUILD_DIR    systemd-analyze verify: no output at all on stderr. Unknown
#                               keys only warn unless --recursive-errors=yes, hence that flag.
#   test.sh security BUILD_DIR  systemd-analyze security --offline: the exposure must stay at
#                               or below $INTAKE_UNIT_MAX_EXPOSURE (default 2.0; 1.2 today)
set -euo pipefail

what=${1:?usage: $0 verify|security BUILD_DIR}
build=${2:?usage: $0 verify|security BUILD_DIR}
max_exposure=${INTAKE_UNIT_MAX_EXPOSURE:-2.0}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
unit=$scratch/prefix/lib/systemd/system/intaked.service
grep -qx "ExecStart=$scratch/prefix/bin/intaked" "$unit" || {
  echo "FAIL: the installed unit does not start the installed intaked" >&2
  exit 1
}

case "$what" in
  verify)
    errors=$(systemd-analyze verify --man=no --recursive-errors=yes "$unit" 2>&1 >/dev/null) \
      || { echo "FAIL: systemd-analyze verify: $errors" >&2; exit 1; }
    if [ -n "$errors" ]; then
      echo "FAIL: systemd-analyze verify printed:" >&2
      echo "$errors" >&2
      exit 1
    fi
    echo "systemd-analyze verify: clean"
    ;;
  security)
    # --threshold counts tenths: 2.0 is 20.
    threshold=$(awk -v e="$max_exposure" 'BEGIN { printf "%d", e * 10 }')
    report=$(systemd-analyze security --offline=yes --threshold="$threshold" "$unit" 2>&1) || {
      echo "$report" >&2
      echo "FAIL: the unit's exposure is above $max_exposure" >&2
      exit 1
    }
    echo "$report" | grep 'Overall exposure level'
    ;;
  *)
    echo "usage: $0 verify|security BUILD_DIR" >&2
    exit 2
    ;;
esac
