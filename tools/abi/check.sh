#!/usr/bin/env bash
# ABI check for libhre.so.<major>, with libabigail (Debian: abigail-tools).
#
#   bash tools/abi/check.sh            compare the library built from this tree
#                                      with the committed baseline abi/libhre.so.<major>.abi
#   bash tools/abi/check.sh --update   regenerate that baseline from this tree
#
# Both modes build the library alone in build-abi/ (gcc, -O2 -g: abidw reads
# the DWARF) and describe it with abidw, keeping only the types declared in
# include/hre/ (--headers-dir, --drop-private-types) and no build paths
# (--no-corpus-path, --no-comp-dir-path), so the XML is the same for the same
# tree wherever it is built.
#
# The check fails (exit 1) when
#   - abidiff reports any ABI change against the baseline: exit bit 4 (a
#     change: added or changed functions, types, layouts) or bit 8 (an
#     incompatible one: a removed symbol ...). A compatible change fails too,
#     because the baseline must record every exported interface; otherwise a
#     later break of a new function would go unnoticed. Fix: if the change is
#     intended, run --update and commit the new baseline in the same change,
#     with a "### ABI" note in CHANGELOG.md;
#   - the baseline does not say which library version it was made for, or
#     CHANGELOG.md has no "### ABI" note under the section of that version
#     ("## [X.Y.Z]") or under "## [Unreleased]";
#   - the baseline was made for another major version (soname) than this tree.
# Exit 2: the tools are missing or abidiff itself failed.
#
# Environment: HRE_ABI_BUILD_DIR (default build-abi), HRE_ABI_CC (default gcc).
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=check
case "${1:-}" in
"") ;;
--update) mode=update ;;
-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
*) echo "usage: bash tools/abi/check.sh [--update]" >&2; exit 2 ;;
esac

for t in abidw abidiff meson ninja; do
    command -v "$t" >/dev/null || { echo "abi: $t not found (Debian: apt-get install abigail-tools meson ninja-build)" >&2; exit 2; }
done

BUILD=${HRE_ABI_BUILD_DIR:-build-abi}
ABIDW_FLAGS=(--no-corpus-path --no-comp-dir-path --headers-dir include/hre --drop-private-types)

# A dedicated, fixed configuration: the flags of the environment (CFLAGS from
# dpkg-buildflags, sanitizers, another compiler) must not leak into the ABI
# description.
if [ ! -f "$BUILD/build.ninja" ]; then
    env -u CFLAGS -u CPPFLAGS -u LDFLAGS -u CXXFLAGS CC="${HRE_ABI_CC:-gcc}" \
        meson setup "$BUILD" --buildtype=debugoptimized -Dtests=false -Db_sanitize=none >/dev/null
fi
meson compile -C "$BUILD" hre:shared_library >/dev/null

version=$(meson introspect --projectinfo "$BUILD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
major=${version%%.*}
lib="$BUILD/libhre.so.$major"
[ -e "$lib" ] || { echo "abi: $lib was not built (soname is not libhre.so.$major?)" >&2; exit 2; }
baseline="abi/libhre.so.$major.abi"
current="$BUILD/libhre.so.$major.abi"
marker_prefix='<!-- libhre ABI baseline for version '

abidw "${ABIDW_FLAGS[@]}" --out-file "$current" "$lib"

# "### ABI" under "## [$1]" or "## [Unreleased]" of CHANGELOG.md?
changelog_has_abi_note() {
    awk -v want="$1" '
        /^## \[/ {
            sec = $0; sub(/^## \[/, "", sec); sub(/\].*/, "", sec)
            insec = (sec == want || sec == "Unreleased")
            next
        }
        insec && /^### ABI[[:space:]]*$/ { found = 1 }
        END { exit found ? 0 : 1 }
    ' CHANGELOG.md
}

if [ "$mode" = update ]; then
    mkdir -p abi
    {
        cat "$current"
        # (no double hyphen inside an XML comment)
        echo "${marker_prefix}$version (soname libhre.so.$major), made by tools/abi/check.sh in update mode -->"
    } > "$baseline"
    echo "abi: wrote $baseline for libhre $version ($(grep -c '<elf-symbol ' "$baseline") symbols)"
    if ! changelog_has_abi_note "$version"; then
        echo "abi: note: CHANGELOG.md has no '### ABI' note under [$version] or [Unreleased];" \
             "the check fails until it has one" >&2
    fi
    echo "abi: commit $baseline together with the CHANGELOG.md ABI note"
    exit 0
fi

fail=0
if [ ! -f "$baseline" ]; then
    echo "abi: FAIL: no baseline $baseline for libhre.so.$major; make it with: bash tools/abi/check.sh --update" >&2
    exit 1
fi
base_version=$(sed -n "s/^${marker_prefix}\([0-9][0-9.]*\) .*/\1/p" "$baseline" | tail -n 1)
if [ -z "$base_version" ]; then
    echo "abi: FAIL: $baseline does not say which version it was made for (last line '${marker_prefix}X.Y.Z ...')" >&2
    fail=1
elif [ "${base_version%%.*}" != "$major" ]; then
    echo "abi: FAIL: $baseline was made for $base_version, this tree is $version" >&2
    fail=1
else
    echo "abi: baseline $baseline made for libhre $base_version; this tree is $version"
    if ! changelog_has_abi_note "$base_version"; then
        echo "abi: FAIL: CHANGELOG.md has no '### ABI' note under [$base_version] or [Unreleased]" >&2
        fail=1
    fi
fi

set +e
abidiff --headers-dir1 include/hre --headers-dir2 include/hre "$baseline" "$current" > "$BUILD/abidiff.txt" 2>&1
rc=$?
set -e
cat "$BUILD/abidiff.txt"
if (( rc & 3 )) || grep -q "parser error" "$BUILD/abidiff.txt"; then
    echo "abi: abidiff failed (exit $rc)" >&2
    exit 2
fi
if (( rc & 8 )); then
    echo "abi: FAIL: INCOMPATIBLE ABI change against $baseline (abidiff exit $rc)." >&2
    echo "abi: libhre.so.$major promises never to remove a symbol or change a published type." >&2
    echo "abi: If this is really intended, run 'bash tools/abi/check.sh --update' and explain it under '### ABI' in CHANGELOG.md, in the same change." >&2
    fail=1
elif (( rc & 4 )); then
    echo "abi: FAIL: the ABI differs from $baseline (abidiff exit $rc; see the report above)." >&2
    echo "abi: Additions are fine in a new HRE_1.x node, but the baseline must record them:" >&2
    echo "abi: run 'bash tools/abi/check.sh --update' and commit $baseline with a '### ABI' note in CHANGELOG.md." >&2
    fail=1
else
    echo "abi: OK: no ABI change against $baseline"
fi
exit "$fail"
