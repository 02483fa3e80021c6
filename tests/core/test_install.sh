#!/bin/sh
# test_install.sh BUILD_DIR SCRATCH — `cmake --install` into a scratch prefix,
# then the installed harmonic, run from another folder with no HARMONIC_DATA,
# must find the installed data files (not the source tree's) and work.
set -eu
build=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch/elsewhere"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
exe="$scratch/prefix/bin/harmonic"
[ -x "$exe" ] || { echo "FAIL: $exe not installed"; exit 1; }
[ -f "$scratch/prefix/share/harmonic/dictionary.csv" ] || { echo "FAIL: data not installed"; exit 1; }
cd "$scratch/elsewhere"
unset HARMONIC_DATA
out=$("$exe" version)
echo "$out"
want="data: $scratch/prefix/share/harmonic"
echo "$out" | grep -qxF "$want" || { echo "FAIL: expected '$want'"; exit 1; }
# The installed command does real work with the installed data.
"$exe" dictionary --format csv > dict.csv
grep -q '^patient,pseudonym,' dict.csv || { echo "FAIL: dictionary output"; exit 1; }
"$exe" mc spectrum --kvp 80 --al-mm 2.5 > spectrum.csv
grep -q '^# HVL1' spectrum.csv || { echo "FAIL: spectrum output"; exit 1; }
# A moved install still finds its own data (relocatable: beside bin/).
mv "$scratch/prefix" "$scratch/moved"
out=$("$scratch/moved/bin/harmonic" version)
echo "$out" | grep -qxF "data: $scratch/moved/share/harmonic" || { echo "FAIL: moved install: $out"; exit 1; }
echo "install test passed"
