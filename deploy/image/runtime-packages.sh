#!/bin/sh
# Prints the Debian packages that hold the shared libraries the given binaries load, one per
# line: what the image's runtime stage installs (deploy/Containerfile).
set -eu
for lib in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
  real=$(readlink -f "$lib")
  # usrmerge: dpkg may know a library under /lib or /usr/lib.
  for path in "$lib" "$real" "/usr$lib" "${lib#/usr}" "/usr$real" "${real#/usr}"; do
    if owner=$(dpkg-query -S "$path" 2>/dev/null); then
      echo "${owner%%:*}"
      continue 2
    fi
  done
  echo "runtime-packages: no package holds $lib" >&2
  exit 1
done | sort -u
