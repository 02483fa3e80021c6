#!/bin/sh
# test_mpi.sh HARMONIC SCRATCH — `harmonic dose cohort` under mpirun with 2
# ranks stores exactly what one process stores (every best estimate and
# realization, bit for bit).  Skips (77) when mpirun or MPI support is absent.
set -eu
H=$1
T=$2
command -v mpirun >/dev/null 2>&1 || { echo "mpirun not found: MPI test skipped"; exit 77; }
nm -D "$H" 2>/dev/null | grep -q MPI_Init || { echo "harmonic built without MPI: skipped"; exit 77; }
rm -rf "$T"; mkdir -p "$T"; cd "$T"
"$H" synth --patients 60 --seed 21 --out cohort >/dev/null
"$H" db init --db base.db >/dev/null
for d in cohort/*/; do "$H" import --db base.db --centre "$(basename "$d")" --dir "$d" --quiet >/dev/null 2>&1; done
cp base.db one.db; cp base.db two.db
ARGS="--realizations 8 --histories 1000 --voxel-mm 4 --max-procedures 24 --run t --quiet"
"$H" dose cohort --db one.db $ARGS >/dev/null
# As root, Open MPI needs both variables; shared memory between the ranks only.
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -np 2 --mca btl self,vader --mca btl_vader_single_copy_mechanism none \
    "$H" dose cohort --db two.db $ARGS > mpi.out 2>&1 || { cat mpi.out; exit 1; }
grep -q "rank 1 of 2" mpi.out || { echo "FAIL: no second rank"; cat mpi.out; exit 1; }
Q="SELECT centre_code, source_id, organ, method, hex(dose_mgy) FROM organ_dose_real ORDER BY 1,2,3,4;
   SELECT centre_code, source_id, organ, method, dose_mgy FROM organ_dose WHERE method <> 'synthetic' ORDER BY 1,2,3,4;"
sqlite3 one.db "$Q" > one.txt
sqlite3 two.db "$Q" > two.txt
[ "$(wc -l < one.txt)" -gt 100 ] || { echo "FAIL: too few rows"; exit 1; }
cmp one.txt two.txt || { echo "FAIL: 2 ranks differ from 1 process"; exit 1; }
echo "2 MPI ranks = 1 process: $(wc -l < one.txt) rows identical"
