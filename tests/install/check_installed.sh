#!/usr/bin/env bash
# The installed-tree test (tests/install/meson.build sets the environment):
# stage `meson install` in a temporary directory and use it as an outside
# project would. Exits non-zero with a FAIL line per problem.
set -euo pipefail
: "${MESON:?}" "${BUILD_ROOT:?}" "${SOURCE_ROOT:?}" "${CC:?}" "${HRE_PREFIX:?}"
stage=$(mktemp -d "${TMPDIR:-/tmp}/hre-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# an absolute dir option stays as it is, a relative one is under the prefix
under_prefix() { case "$1" in /*) echo "$1" ;; *) echo "$HRE_PREFIX/$1" ;; esac; }
libdir=$stage$(under_prefix "$HRE_LIBDIR")
bindir=$stage$(under_prefix "$HRE_BINDIR")
incdir=$stage$(under_prefix "$HRE_INCLUDEDIR")
mandir=$stage$(under_prefix "$HRE_MANDIR")
docdir=$stage$(under_prefix "$HRE_DATADIR")/doc/libhre

# DESTDIR staging: nothing goes to the real prefix
"$MESON" install -C "$BUILD_ROOT" --no-rebuild --destdir "$stage" --quiet >"$stage.log" 2>&1 \
    || { cat "$stage.log"; rm -f "$stage.log"; echo "FAIL: meson install"; exit 1; }
rm -f "$stage.log"
ok "meson install --destdir $stage"

# the library: versioned file, soname link, development link
real=$(cd "$libdir" && ls libhre.so.1.* 2>/dev/null | head -n1 || true)
[ -n "$real" ] || fail "no libhre.so.1.* in $libdir"
[ -L "$libdir/libhre.so.1" ] || fail "libhre.so.1 is not a symlink"
[ -L "$libdir/libhre.so" ] || fail "libhre.so is not a symlink"
soname=$(readelf -d "$libdir/libhre.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libhre.so.1 ] || fail "SONAME is '$soname', not libhre.so.1"
[ -f "$libdir/pkgconfig/libhre.pc" ] || fail "no libhre.pc"

# the headers: every public header of the source tree
while IFS= read -r h; do
    [ -f "$incdir/hre/$h" ] || fail "header hre/$h not installed"
done < <(cd "$SOURCE_ROOT/include/hre" && find . -name '*.h' | sed 's|^\./||' | sort)

# no RUNPATH / RPATH into the build tree (or anywhere) in what is installed
for f in "$libdir/libhre.so.1" "$bindir/hre"; do
    [ -f "$f" ] || { fail "$f not installed"; continue; }
    rp=$(readelf -d "$f" | grep -E '\((RUNPATH|RPATH)\)' || true)
    if [ -n "$rp" ]; then
        case "$rp" in
        *"$BUILD_ROOT"*|*"$SOURCE_ROOT"*) fail "$f has a RUNPATH into the build tree: $rp" ;;
        *) fail "$f has a RUNPATH: $rp" ;;
        esac
    fi
done
ok "no RUNPATH/RPATH in libhre.so.1 and hre"

# man pages: every hand-written man3 page, hre(1) and hre-GROUP(1)
for p in "$SOURCE_ROOT"/docs/man/*.3; do
    b=$(basename "$p")
    [ -f "$mandir/man3/$b" ] || fail "man3/$b not installed"
    cmp -s "$p" "$mandir/man3/$b" || fail "man3/$b differs from docs/man/$b"
done
n3=$(ls "$mandir/man3" | wc -l)
[ "$n3" -eq "$(ls "$SOURCE_ROOT"/docs/man/*.3 | wc -l)" ] || fail "man3 holds $n3 pages"
[ -s "$mandir/man1/hre.1" ] || fail "man1/hre.1 not installed"
for g in $HRE_MAN_GROUPS; do
    [ -s "$mandir/man1/hre-$g.1" ] || fail "man1/hre-$g.1 not installed"
done
ok "man pages: $n3 in man3, $(ls "$mandir/man1" | wc -l) in man1"

# example sources
for e in "$SOURCE_ROOT"/examples/*.c "$SOURCE_ROOT"/examples/*.h "$SOURCE_ROOT"/examples/*.py; do
    b=$(basename "$e")
    cmp -s "$e" "$docdir/examples/$b" || fail "example $b not installed (or differs)"
done
ok "example sources in $docdir/examples"

# an outside program: the installed example source, pkg-config pointed at the
# staged prefix
export PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
unset PKG_CONFIG_LIBDIR || true
flags=$(pkg-config --cflags --libs libhre) || { fail "pkg-config --cflags --libs libhre"; flags=; }
case "$flags" in *"$stage"*) ;; *) fail "pkg-config flags do not point into the stage: $flags" ;; esac
# shellcheck disable=SC2086  # CC and the flags are word lists
$CC -std=c99 -Wall -Wextra -Werror -o "$stage/outside" "$docdir/examples/outside_bitcoin.c" $flags \
    || fail "building outside_bitcoin.c against the staged tree"
if [ -x "$stage/outside" ]; then
    # it must load the staged library, not the build tree's
    loaded=$(LD_LIBRARY_PATH="$libdir" LD_TRACE_LOADED_OBJECTS=1 "$stage/outside" | grep 'libhre.so.1' || true)
    case "$loaded" in *"$libdir/"*) ;; *) fail "outside program loads libhre from: $loaded" ;; esac
    LD_LIBRARY_PATH="$libdir" "$stage/outside" >"$stage/outside.out" 2>&1 \
        || { cat "$stage/outside.out"; fail "outside_bitcoin (staged) failed"; }
    ok "outside_bitcoin built with pkg-config and run against the staged library"
fi

# the staged tool
run_hre() { LD_LIBRARY_PATH="$libdir" "$bindir/hre" "$@"; }
loaded=$(LD_LIBRARY_PATH="$libdir" LD_TRACE_LOADED_OBJECTS=1 "$bindir/hre" | grep 'libhre.so.1' || true)
case "$loaded" in *"$libdir/"*) ;; *) fail "staged hre loads libhre from: $loaded" ;; esac
v=$(run_hre --version) || fail "hre --version"
case "$v" in *"$(sed -n 's/.*#define HRE_VERSION_STRING "\(.*\)".*/\1/p' "$SOURCE_ROOT/include/hre/version.h")"*) ;;
    *) fail "hre --version printed '$v'" ;; esac
run_hre --help >"$stage/help.out" || fail "hre --help"
grep -q 'hre' "$stage/help.out" || fail "hre --help printed nothing useful"
run_hre help --man >"$stage/hre.1" || fail "hre help --man"
cmp -s "$stage/hre.1" "$mandir/man1/hre.1" || fail "installed hre.1 differs from the staged tool's"
ok "staged hre: --version ($v), --help, help --man"

if [ "$fails" -ne 0 ]; then
    echo "$fails problems"
    exit 1
fi
echo "installed tree OK"
