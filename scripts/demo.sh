#!/usr/bin/env bash
# demo.sh — the harmonic tour, called by `./run demo` as
#     scripts/demo.sh path/to/harmonic
#
#   1. synthesise a multi-centre cardiac cohort in HOSPITAL format (local ids,
#      fake names, dates) with a known true ERR;
#   2. generate a study key and pseudonymise every hospital file (Norway with
#      dates turned into days since birth), dropping direct identifiers;
#   3. import every pooled file into a fresh SQLite registry;
#   4. print a validation summary and the per-centre completeness report;
#   5. organ doses for every procedure from its events, KAP or nothing
#      (`harmonic dose cohort` on a small conversion-coefficient library, with
#      dose realizations), E/KAP by age against the published values (PNG),
#      one RDSR's doses per event and its skin dose map;
#   6. the risk analysis on harmonic's own doses, the estimate beside the truth;
#   7. radiotherapy patients with DICOM RT courses made by harmonic: their CSVs
#      pseudonymised and imported, every course through `rt import --diagnoses`
#      into the same registry, one course's whole-body organ-dose table read
#      back from it, and the RT centres' treatment summary.
#   8. the biobank sub-study of the same cohort: each site's batch of sample
#      events (with shipment logger files) pseudonymised and loaded, the
#      inventory and deviations per centre; questionnaire items pseudonymised,
#      imported and scored, summarised per centre and instrument.
# Work folder: $HM_DEMO_DIR (default out/demo, ignored by git); it is recreated.
# Size: $HM_DEMO_PATIENTS patients (default 20000); organs: $HM_DEMO_ORGANS.
set -euo pipefail

H=${1:?usage: scripts/demo.sh path/to/harmonic}
H=$(cd "$(dirname "$H")" && pwd)/$(basename "$H")
WORK=${HM_DEMO_DIR:-out/demo}
N=${HM_DEMO_PATIENTS:-20000}
SEED=2024
# True ERR per 100 mGy of red-marrow dose for leukaemia and lymphoma: the
# EPI-CT haematological estimate (anchors.md section 4).  Marrow doses of
# catheterizations are a few mGy, so 20,000 patients estimate it only
# loosely: the demo shows the chain, not the power of the study
# (HM_DEMO_TRUE_ERR=30 shows the estimate recovering a large effect).
TRUE_ERR=${HM_DEMO_TRUE_ERR:-1.96}
# Dose realizations per procedure (the cohort run's default is 200).
REALS=${HM_DEMO_REALIZATIONS:-50}
# Organ doses written (fewer rows keep the demo near a minute); red_marrow
# drives the true ERR, brain would drive CNS tumours.
ORGANS=${HM_DEMO_ORGANS:-red_marrow,lung,heart,brain}
T0=$(date +%s)

rm -rf "$WORK"
mkdir -p "$WORK"
echo "== 1. synthetic cohort: $N patients, seed $SEED, true ERR $TRUE_ERR per 100 mGy (hospital format)"
"$H" synth --patients "$N" --seed "$SEED" --out "$WORK/hospital" --hospital-format \
    --true-err-per-100mgy "$TRUE_ERR" --organs "$ORGANS"

echo
echo "== 2. study key and pseudonymisation at each hospital"
"$H" keygen --out "$WORK/study.key" --version 1
mkdir -p "$WORK/pooled"
cp "$WORK/hospital/centres.csv" "$WORK/hospital/truth.json" "$WORK/pooled/"
# The true organ doses stay in hospital/*/truth_organ_dose.csv: the registry's
# doses are harmonic's own (step 5).
TABLES=(patient procedure irradiation_event outcome followup)
CENTRES=()
for dir in "$WORK"/hospital/*/; do
    c=$(basename "$dir")
    CENTRES+=("$c")
    mkdir -p "$WORK/pooled/$c"
    cp "$dir/centre.csv" "$WORK/pooled/$c/"
    offset=()
    # Norway sends dates as days since birth (anchors.md §1).
    [ "$c" = NO01 ] && offset=(--offset-dates)
    for t in "${TABLES[@]}"; do
        "$H" pseudonymise --key "$WORK/study.key" --table "$t" "${offset[@]}" \
            "$dir/$t.csv" "$WORK/pooled/$c/$t.csv" 2>>"$WORK/pseudonymise.log"
    done
done
echo "pseudonymised $(( ${#CENTRES[@]} * ${#TABLES[@]} )) files of ${#CENTRES[@]} centres" \
     "(log: $WORK/pseudonymise.log); columns dropped from patient files:"
grep 'patient.csv: dropped' "$WORK/pseudonymise.log" | head -n1 | sed 's/.*: dropped/  dropped/'
if grep -rqE 'family_name|national_id|local_patient_id' "$WORK/pooled"/*/*.csv; then
    echo "demo: a direct identifier reached the pooled files" >&2
    exit 1
fi
echo "  check: no name, national id or local id in any pooled file"

echo
echo "== 3. import into a fresh SQLite registry ($WORK/registry.db)"
DB="$WORK/registry.db"
rows=0; files=0; rejected=0
for c in "${CENTRES[@]}"; do
    for t in centre "${TABLES[@]}"; do
        f="$WORK/pooled/$c/$t.csv"
        if "$H" import --db "$DB" --centre "$c" --report-json "$WORK/pooled/$c/$t.report.json" \
               "$t" "$f" >>"$WORK/import.log" 2>&1; then
            files=$((files + 1))
        else
            rejected=$((rejected + 1))
            echo "REJECTED: $f (see $WORK/import.log)"
        fi
    done
done
stored=$(grep -ho 'rows read, [0-9]* stored' "$WORK/import.log" | awk '{s += $3} END {print s + 0}')
errors=$(grep -ho '[0-9]* errors' "$WORK/import.log" | awk '{s += $1} END {print s + 0}')
warnings=$(grep -ho '[0-9]* warnings' "$WORK/import.log" | awk '{s += $1} END {print s + 0}')

echo
echo "== 4. validation summary"
echo "files imported: $files, rejected: $rejected; rows stored: $stored; errors: $errors; warnings: $warnings"
echo
"$H" report --db "$DB"

echo
echo "== 4b. RDSR: a biplane cath-lab dose report and its cumulative continuation"
mkdir -p "$WORK/rdsr"
C=${CENTRES[0]}
"$H" rdsr synth --out "$WORK/rdsr/p1.dcm" --events 12 --biplane --seed 7 --study-uid 2.25.424242 \
    --patient-id DEMO-1 --birth-date 20180301 --quirks gym2
"$H" rdsr synth --out "$WORK/rdsr/p1-cumulative.dcm" --events 20 --biplane --seed 7 \
    --study-uid 2.25.424242 --patient-id DEMO-1 --birth-date 20180301
"$H" rdsr show "$WORK/rdsr/p1.dcm" | head -n 12
"$H" rdsr import --db "$DB" --centre "$C" --key "$WORK/study.key" "$WORK/rdsr"

echo
echo "== 5. organ doses for every procedure (tier 1 events, tier 2 KAP, tier 3 nothing)"
"$H" phantom show 5y --png-prefix "$WORK/phantom-5y" > /dev/null
echo "the 5-year phantom's slices: $WORK/phantom-5y-*.png"
# A small library (data/dosimetry/library_grid_demo.csv) builds in under a
# minute; `harmonic dose table` alone builds the full default one (about 10 min).
"$H" dose table --grid data/dosimetry/library_grid_demo.csv -o "$WORK/library.csv" --threads 2
"$H" dose cohort --db "$DB" --library "$WORK/library.csv" --realizations "$REALS" --run demo --quiet
"$H" dose summary --db "$DB" --run demo --png "$WORK/e_per_kap_by_age.png"
"$H" report --db "$DB" | sed -n '/^Dosimetry/,/^$/p' | head -n 9
echo
echo "one RDSR, dose per event (library) and its skin dose map:"
"$H" dose rdsr "$WORK/rdsr/p1.dcm" --library "$WORK/library.csv" --age-years 5 | head -n 8
"$H" dose skin "$WORK/rdsr/p1.dcm" --age-years 5 -o "$WORK/skin_dose_map.png"
# harmonic's doses against the generator's truth (not known to harmonic):
TRUE_MEAN=$(cat "$WORK"/hospital/*/truth_organ_dose.csv | awk -F, '$4 == "red_marrow" && $6 == 0 { s += $7; n++ } END { if (n) printf "%.3g", s / n }')
EST_MEAN=$(sqlite3 "$DB" "SELECT printf('%.3g', AVG(dose_mgy)) FROM organ_dose WHERE organ = 'red_marrow' AND realization = 0 AND method <> 'synthetic'")
echo "red-marrow dose per procedure, mean: harmonic $EST_MEAN mGy, the generator's truth $TRUE_MEAN mGy"

# ---------------------------------------------------------------------------
# Risk analysis of the synthetic cohort: tabulate person-years with lagged
# red-marrow dose, fit the linear ERR model (Poisson with profiled strata, and
# Cox on attained age), and print the estimate next to the truth in
# $WORK/pooled/truth.json.
# ---------------------------------------------------------------------------
echo
echo "== 6. risk analysis on harmonic's doses: person-years, linear ERR (Poisson and Cox), estimate next to the truth"
TRUTH=$(sed -n 's/.*"true_err_per_100mgy": *\([-0-9.eE+]*\).*/\1/p' "$WORK/pooled/truth.json")
ORGAN=$(sed -n 's/.*"err_organ": *"\([^"]*\)".*/\1/p' "$WORK/pooled/truth.json")
PYR="$WORK/pyr_haematological.csv"
BASE="cases_haematological ~ pyr(pyr) + strata(age, sex, calendar, transplant, syndrome)"
"$H" epi tabulate --db "$DB" --organ "$ORGAN" --outcome haematological --lag 2 --exclusion 0 \
    --age 0,5,10,15,20,30,40 --calendar 1975,1990,2000,2010 --tsfe none --afe none \
    --by-transplant --by-syndrome --store demo-haematological -o "$PYR"
"$H" epi fit "$PYR" --model "$BASE + err(dose_mgy)"
"$H" epi fit "$PYR" --model "$BASE + err(dose_mgy)" --format csv > "$WORK/fit_haematological.csv"
"$H" epi cox --db "$DB" --organ "$ORGAN" --outcome haematological --lag 2 --exclusion 0 \
    --strata sex --syndrome
"$H" epi plot "$PYR" --base "$BASE" -o "$WORK/dose_response.png" \
    --title "Leukaemia and lymphoma, synthetic cohort (true ERR $TRUTH per 100 mGy)"
echo "dose-response plot: $WORK/dose_response.png"
awk -F, -v truth="$TRUTH" -v organ="$ORGAN" 'NR == 2 {
    printf "ERR per 100 mGy of %s dose (leukaemia + lymphoma): estimated %.2f (95%% CI %.2f to %.2f%s); true %s\n",
           organ, 100 * $2, 100 * $4, 100 * $5, ($6 == "ok" ? "" : ", lower limit not estimable"), truth }' \
    "$WORK/fit_haematological.csv"

# ---------------------------------------------------------------------------
# Radiotherapy patients, the real chain: `harmonic synth --rt-patients` writes
# each course's DICOM RT files (phantom CT, structure set, plan, analytic dose)
# and per centre the hospital CSVs and rt_diagnosis.csv (DICOM RT has no
# diagnosis).  Each RT centre pseudonymises its CSVs with the study key (as
# step 2), imports them into the same registry, then `rt import --diagnoses`
# reads every course, computes its DVHs and whole-body organ doses and
# pseudonymises the DICOM ids, UIDs and dates itself.  The organ-dose table
# printed is the registry's (`rt list --course`), not the files'.
# ---------------------------------------------------------------------------
echo
RT_N=${HM_DEMO_RT_PATIENTS:-20}
echo "== 7. radiotherapy cohort: $RT_N synthetic patients as DICOM RT courses, pseudonymised and imported"
"$H" synth --patients 0 --rt-patients "$RT_N" --seed "$SEED" --out "$WORK/rt_hospital" \
    --hospital-format | grep -E 'synthetic cohort|radiotherapy'
RT_TABLES=(patient chemotherapy surgery stem_cell_transplant followup)
RT_CENTRES=()
for dir in "$WORK"/rt_hospital/*/; do
    c=$(basename "$dir")
    RT_CENTRES+=("$c")
    mkdir -p "$WORK/rt_pooled/$c"
    cp "$dir/centre.csv" "$WORK/rt_pooled/$c/"
    for t in "${RT_TABLES[@]}"; do
        "$H" pseudonymise --key "$WORK/study.key" --table "$t" "$dir/$t.csv" \
            "$WORK/rt_pooled/$c/$t.csv" 2>>"$WORK/pseudonymise.log"
    done
done
if grep -rqE 'family_name|national_id|local_patient_id' "$WORK/rt_pooled"/*/*.csv; then
    echo "demo: a direct identifier reached the pooled RT files" >&2
    exit 1
fi
echo "pseudonymised $(( ${#RT_CENTRES[@]} * ${#RT_TABLES[@]} )) files of ${#RT_CENTRES[@]} RT centres; check: no name, national id or local id in them"
rt_courses=0
for c in "${RT_CENTRES[@]}"; do
    for t in centre "${RT_TABLES[@]}"; do
        if ! "$H" import --db "$DB" --centre "$c" "$t" "$WORK/rt_pooled/$c/$t.csv" \
               >>"$WORK/import.log" 2>&1; then
            rejected=$((rejected + 1))
            echo "REJECTED: $WORK/rt_pooled/$c/$t.csv (see $WORK/import.log)"
        fi
    done
done
# Every course in one `rt import`: the target organ, age and prescription come
# from the files (docs/rt.md "Courses"); the diagnoses from each centre's file.
for c in "${RT_CENTRES[@]}"; do
    "$H" rt import --db "$DB" --centre "$c" --key "$WORK/study.key" \
        --diagnoses "$WORK/rt_hospital/$c/rt_diagnosis.csv" "$WORK/rt_hospital/$c/rt" \
        >>"$WORK/rt_import.log" 2>&1 \
        || { echo "REJECTED: RT courses of $c (see $WORK/rt_import.log)"; rejected=$((rejected + 1)); }
done
grep -h 'course file set' "$WORK/rt_import.log" | awk '{ n += $1; s += $5 } END { printf "rt import: %d courses read, %d stored (log: '"$WORK"'/rt_import.log)\n", n, s }'
# The DICOM files carry the hospital's ids (<centre>-Rnnnnnnn): none may reach the registry.
if grep -aqE '[A-Z]{2}[0-9]{2}-R[0-9]{7}' "$DB"; then
    echo "demo: a local patient id reached the registry" >&2
    exit 1
fi
echo "  check: no local patient id in $DB"
"$H" rt list --db "$DB"
RT_COURSE=$(sqlite3 "$DB" "SELECT course_id FROM rt_course ORDER BY centre_code, course_id LIMIT 1")
echo
echo "whole-body organ doses of course ${RT_COURSE:0:16} from the registry (in field: RT Dose; out of field: model):"
"$H" rt list --db "$DB" --course "${RT_COURSE:0:16}"
echo
echo "treatment summary of the RT centres (CED: cyclophosphamide-equivalent, DIE: doxorubicin isotoxic equivalent, mg/m2):"
RT_RE=$(IFS='|'; echo "${RT_CENTRES[*]}")
"$H" report --db "$DB" | sed -n '/^Treatment/,/^$/p' | grep -E "^($RT_RE) "
echo "exact organ means of the synthetic dose fields: $WORK/rt_hospital/rt_truth.csv"

# ---------------------------------------------------------------------------
# Biobank and quality of life: `synth --biobank` on the same patients (same
# seed and size: the same local ids, so the same pseudonyms) writes each
# site's LIMS export of sample events with a logger CSV per shipment, and the
# PedsQL questionnaire items, in hospital format.  Each site pseudonymises
# them with the study key; the registry loads each batch in one transaction
# and imports and scores the questionnaires.
# ---------------------------------------------------------------------------
echo
echo "== 8. biobank and quality of life of the cardiac cohort: sample events, shipments, deviations, PedsQL scores"
BIO="$WORK/bio_hospital"
"$H" synth --patients "$N" --seed "$SEED" --out "$BIO" --hospital-format --biobank \
    --organs red_marrow --no-events | grep -E '^ *biobank'
# Deviations are judged as of the end of the synthetic study period.
AS_OF=2022-12-31T23:59
for dir in "$BIO"/biobank/*/; do
    c=$(basename "$dir")
    mkdir -p "$WORK/pooled/$c/biobank"
    cp -r "$dir/loggers" "$WORK/pooled/$c/biobank/"
    "$H" biobank pseudonymise --key "$WORK/study.key" "$dir/events.csv" \
        "$WORK/pooled/$c/biobank/events.csv" 2>>"$WORK/pseudonymise.log"
    "$H" biobank load --db "$DB" "$WORK/pooled/$c/biobank/events.csv" >>"$WORK/biobank.log"
done
echo "loaded: $(awk '{n += $2} END {print n}' "$WORK/biobank.log") events of $(wc -l < "$WORK/biobank.log") centres (log: $WORK/biobank.log)"
"$H" biobank inventory --db "$DB" > "$WORK/biobank_inventory.csv"
"$H" biobank deviations --db "$DB" --as-of "$AS_OF" > "$WORK/biobank_deviations.csv"
echo "inventory ($WORK/biobank_inventory.csv), first rows:"
head -n 4 "$WORK/biobank_inventory.csv"
echo "aliquots per centre: by status, at the central biobank (CB), marked for destruction (consent withdrawn):"
awk -F, 'NR > 1 { n[$1 "," $7]++; cb[$1] += ($8 == "CB"); m[$1] += $11; c[$1] = 1 }
         END { for (k in c) { printf "  %s:", k; for (s in n) { split(s, p, ","); if (p[1] == k) printf " %s %d", p[2], n[s] }
                              printf ", at CB %d, marked %d\n", cb[k], m[k] } }' "$WORK/biobank_inventory.csv" | sort
echo "deviations per centre as of $AS_OF, open flags by kind ($WORK/biobank_deviations.csv):"
awk -F, 'BEGIN { nf = split("processing_delay freezing_delay transport_temperature transport_time qc_below_threshold use_after_withdrawal missing_timepoint", f, " ") }
         !/^#/ && NR > 1 && $5 == "open" { n[$1 "," $4]++; c[$1] = 1 }
         END { for (k in c) { printf "  %s:", k; for (i = 1; i <= nf; i++) printf " %s %d", f[i], n[k "," f[i]]
                              printf "\n" } }' "$WORK/biobank_deviations.csv" | sort
qrows=0
for f in "$BIO"/*/qol_item.csv; do
    c=$(basename "$(dirname "$f")")
    offset=()
    [ "$c" = NO01 ] && offset=(--offset-dates)
    "$H" pseudonymise --key "$WORK/study.key" --table qol_item "${offset[@]}" "$f" \
        "$WORK/pooled/$c/qol_item.csv" 2>>"$WORK/pseudonymise.log"
    if "$H" import --db "$DB" --centre "$c" qol_item "$WORK/pooled/$c/qol_item.csv" >>"$WORK/import.log" 2>&1; then
        qrows=$((qrows + $(wc -l < "$f") - 1))
    else
        rejected=$((rejected + 1))
        echo "REJECTED: $WORK/pooled/$c/qol_item.csv (see $WORK/import.log)"
    fi
done
echo "questionnaire items imported: $qrows"
"$H" qol score --db "$DB" | tail -n 3
echo "PedsQL total score per centre, instrument and respondent (mean, SD, assessments scored):"
sqlite3 -separator ' ' "$DB" "SELECT '  ' || centre_code, instrument, respondent,
        printf('%.1f', AVG(score)), printf('%.1f', sqrt(AVG(score * score) - AVG(score) * AVG(score))), COUNT(score)
    FROM qol_score WHERE scale IN ('total', 'fatigue_total')
    GROUP BY centre_code, instrument, respondent ORDER BY centre_code, instrument, respondent"

echo
echo "demo finished in $(( $(date +%s) - T0 )) s; work folder $WORK"
[ "$rejected" -eq 0 ]
