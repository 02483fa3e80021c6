#!/bin/bash
# bench_vs_rev.sh — the engine on the built-in voxel phantoms against an earlier
# revision of harmonic, side by side (issue 11's "1.5x faster" target: the
# engine at the issue's filing is f5be714).
#
#   bench/mc/bench_vs_rev.sh [--rev REV] [--histories N] [--reps R] [--ages "1y 5y"] [NEW_HARMONIC]
#
# Builds REV's `harmonic` (RelWithDebInfo, as ./run builds) in a throw-away
# git worktree under /tmp, then runs `harmonic phantom dose AGE --voxel-mm 4
# --threads 1` (the frontal cardiac beam, 4 mm voxels, one thread) with the
# old and the new binary alternately, R times each, and prints per age the
# transport seconds each reported ("N histories in T s"; older binaries print
# T to 0.1 s, hence the default of 10^7 histories), histories/s and the ratio
# of medians and of minima.  Alternating in one window is what makes the ratio
# trustworthy on a machine whose speed drifts with its host's load.
set -euo pipefail
REV=f5be714
HIST=10000000
REPS=3
AGES="newborn 1y 5y 10y adult"
NEW=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rev) REV=$2; shift 2 ;;
        --histories) HIST=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --ages) AGES=$2; shift 2 ;;
        -h|--help) sed -n 2,16p "$0"; exit 0 ;;
        *) NEW=$1; shift ;;
    esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NEW=${NEW:-$ROOT/build/src/cli/harmonic}
[ -x "$NEW" ] || { echo "bench_vs_rev: no $NEW; build first (./run build) or pass the binary" >&2; exit 2; }
WT=/tmp/harmonic-rev-$REV
if [ ! -x "$WT/build/src/cli/harmonic" ]; then
    git -C "$ROOT" worktree add -f "$WT" "$REV" >/dev/null
    cmake -S "$WT" -B "$WT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$WT/build" -j"$(nproc)" --target harmonic >/dev/null
fi
OLD=$WT/build/src/cli/harmonic
CACHE=$(mktemp -d /tmp/harmonic-bench-cache.XXXXXX)
trap 'rm -rf "$CACHE"' EXIT
secs() {   # BIN AGE SUBDIR -> transport seconds
    "$1" phantom dose "$2" --voxel-mm 4 --threads 1 --histories "$HIST" --cache-dir "$CACHE/$3" 2>&1 |
        grep -o 'histories in [0-9.]* s' | head -1 | awk '{print $3}'
}
stat() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
echo "engine on the voxel phantoms (4 mm, cardiac beam, 1 thread, $HIST histories, $REPS alternating runs)"
echo "old: $REV ($OLD)   new: $NEW"
printf "%-8s %10s %10s %12s %12s %9s %9s\n" age old_min_s new_min_s old_h/s new_h/s med_ratio min_ratio
for age in $AGES; do
    to=""; tn=""
    for r in $(seq "$REPS"); do
        to="$to $(secs "$OLD" "$age" old)"
        tn="$tn $(secs "$NEW" "$age" new)"
    done
    read -r omin omed <<<"$(echo "$to" | stat)"
    read -r nmin nmed <<<"$(echo "$tn" | stat)"
    awk -v a="$age" -v omin="$omin" -v omed="$omed" -v nmin="$nmin" -v nmed="$nmed" -v h="$HIST" \
        'BEGIN {printf "%-8s %10.2f %10.2f %12.3g %12.3g %9.3f %9.3f\n", a, omin, nmin, h/omed, h/nmed, omed/nmed, omin/nmin}'
done
