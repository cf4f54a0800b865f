#!/usr/bin/env bash
# Run the seeded (randomised) Check suites again with extra seeds.
#
#   bash tests/seeds.sh [BUILD_DIR [N]]     N random seeds (default 8) in BUILD_DIR (default build)
#   HRE_SEEDS="79 1011" bash tests/seeds.sh build    exactly these seeds
#
# Every seeded test must hold for every seed, so any failure here is a bug
# (in the test or in the library). Each seed is printed before its run; replay
# one with:  HRE_SEED=<seed> meson test -C BUILD_DIR --suite whitebox
# The white-box runner has every test the black-box one has, plus the
# internals, so the extra seeds run it only. Exit status: 1 if any seed failed
# (all seeds are run; the failing ones are listed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
N=${2:-8}
[ -f "$BUILD/build.ninja" ] || { echo "seeds.sh: $BUILD is not a configured build directory" >&2; exit 2; }

if [ -n "${HRE_SEEDS:-}" ]; then
    read -r -a seeds <<< "$HRE_SEEDS"
else
    seeds=()
    for ((i = 0; i < N; i++)); do
        seeds+=("$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')")
    done
fi

echo "seeds.sh: ${#seeds[@]} extra seeds over the white-box suites in $BUILD: ${seeds[*]}"
failed=()
for s in "${seeds[@]}"; do
    echo "=== seeds.sh: HRE_SEED=$s"
    if ! HRE_SEED=$s meson test -C "$BUILD" --suite whitebox --print-errorlogs \
            --num-processes 2; then
        failed+=("$s")
    fi
done
if ((${#failed[@]})); then
    echo "seeds.sh: FAILED for seed(s): ${failed[*]}" >&2
    echo "seeds.sh: replay: HRE_SEED=<seed> meson test -C $BUILD --suite whitebox --print-errorlogs" >&2
    exit 1
fi
echo "seeds.sh: all ${#seeds[@]} seeds passed"
