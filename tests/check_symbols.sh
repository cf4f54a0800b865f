#!/bin/sh
# usage: check_symbols.sh LIBHRE_SO VERSION_SCRIPT INCLUDE_DIR
# Fails when libhre.so exports a symbol that is not hre_*, when the exported
# set differs from the version script, or from the HRE_API declarations in the
# public headers, or when an export is not in a known version node (HRE_1.0,
# HRE_1.1).
set -eu
so=$1; map=$2; incdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' > "$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort -u > "$tmp/exported"
grep -oE '\bhre_[a-z0-9_]+\b' "$map" | sort -u > "$tmp/map"
# Declarations: "HRE_API <type> <name>(" possibly with '*' in the type.
find "$incdir" -name '*.h' -exec cat {} + |
  grep -E '^HRE_API' | grep -oE '\bhre_[a-z0-9_]+[[:space:]]*\(' |
  sed 's/[[:space:]]*(//' | sort -u > "$tmp/declared"

rc=0
bad=$(grep -vE '^hre_' "$tmp/exported" || true)
if [ -n "$bad" ]; then echo "exported symbols outside hre_*:"; echo "$bad"; rc=1; fi
unversioned=$(grep -vE '@@?HRE_1\.[01]$' "$tmp/raw" || true)
if [ -n "$unversioned" ]; then echo "exports not in the HRE_1.0 or HRE_1.1 node:"; echo "$unversioned"; rc=1; fi
if ! diff -u "$tmp/map" "$tmp/exported" > "$tmp/d1"; then
  echo "version script (-) and exported symbols (+) differ:"; cat "$tmp/d1"; rc=1; fi
if ! diff -u "$tmp/declared" "$tmp/exported" > "$tmp/d2"; then
  echo "HRE_API declarations (-) and exported symbols (+) differ:"; cat "$tmp/d2"; rc=1; fi
n=$(wc -l < "$tmp/exported")
[ "$rc" -eq 0 ] && echo "symbols: $n exports, all hre_*, all in HRE_1.0/HRE_1.1, matching map and headers"
exit $rc
