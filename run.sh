#!/usr/bin/env bash
# libhre top-level driver. On a fresh Debian 12 machine (as root, or with sudo):
#   bash run.sh demo    install missing dependencies, build, run the demo
#   bash run.sh test    install missing dependencies, build, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

BUILD=${HRE_BUILD_DIR:-build}
PKGS=(meson ninja-build gcc g++ pkg-config libssl-dev zlib1g-dev check python3 python3-cryptography)

install_deps() {
    local missing=()
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "run.sh: installing missing packages: ${missing[*]}"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
    fi
}

build() {
    if [ ! -f "$BUILD/build.ninja" ]; then
        # -Werror for the project's own builds (meson.build leaves it off
        # for packagers); see README "Building and testing".
        meson setup "$BUILD" --buildtype=debugoptimized -Dwerror=true
    fi
    ninja -C "$BUILD"
}

case "${1:-}" in
demo)
    install_deps
    build
    exec "$BUILD/examples/hre_demo" "${@:2}"
    ;;
test)
    install_deps
    build
    meson test -C "$BUILD" --print-errorlogs --num-processes "$(nproc)"
    ;;
*)
    echo "usage: bash run.sh demo|test" >&2
    exit 2
    ;;
esac
