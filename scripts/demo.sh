#!/bin/bash
# demo.sh - what `make demo` runs after building: the quick matrix on every
# backend this host supports, a report, and where to find it.
#
#   kvm    needs a usable /dev/kvm
#   model  needs refvmm built with the model backend (vtbench skips it with
#          a note when refvmm says it is not built)
#
# Output: results/out/demo.json and report/index.html (report/summary.md).
# Environment: DEMO_OUT (result file), DEMO_REPORT (report directory).
set -u
cd "$(dirname "$0")/.."
VTB=bin/vtbench
OUT=${DEMO_OUT:-results/out/demo.json}
REPORT=${DEMO_REPORT:-report}
start=$SECONDS

[ -x "$VTB" ] && [ -x bin/refvmm ] || { echo "demo: bin/vtbench or bin/refvmm missing: run make"; exit 1; }

backends=()
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  backends+=(kvm)
else
  echo "demo: /dev/kvm is not usable on this host: the kvm backend is skipped"
fi
backends+=(model) # vtbench probes it and skips it if refvmm lacks the model backend

mkdir -p "$(dirname "$OUT")"
echo "demo: step 1/2: vtbench run --quick --backends $(IFS=,; echo "${backends[*]}") -o $OUT"
echo "demo:   7 workloads x the modes each backend supports; kvm 4 repetitions after a warm-up"
echo "demo:   round, the model once (it is deterministic); under a minute on an idle 2-core host."
echo "demo:   Ctrl-C keeps what finished (resume: --resume)."
# --force: each demo replaces the previous demo's document (vtbench run
# refuses to replace an existing document without it).
"$VTB" run --quick --backends "$(IFS=,; echo "${backends[*]}")" --force -o "$OUT"
rc=$?
case $rc in
  0) ;;
  1) echo "demo: some runs failed (their status is in $OUT); reporting the rest" ;;
  3)
    echo "demo: nothing can run on this host: no /dev/kvm and refvmm has no model backend."
    echo "demo: use a machine with KVM, or build refvmm with the model backend."
    exit 1
    ;;
  4) echo "demo: another vtbench is writing $OUT (another make demo?); try again when it ends"; exit 1 ;;
  130) echo "demo: interrupted; continue with: $VTB run --resume -o $OUT"; exit 130 ;;
  *) echo "demo: vtbench run failed (exit $rc)"; exit 1 ;;
esac

echo "demo: step 2/2: vtbench report $OUT -o $REPORT"
"$VTB" report "$OUT" -o "$REPORT" || { echo "demo: vtbench report failed"; exit 1; }
echo
echo "Findings (from $REPORT/summary.md):"
sed -n '/^## Findings/,/^## Overhead/p' "$REPORT/summary.md" | sed '1d;$d' | sed '/^$/d' | head -20
echo
echo "demo: done in $((SECONDS - start)) s"
echo "  results:  $OUT   (JSON: runs[], aggregates[]; schema in docs/RESULTS.md)"
echo "  report:   file://$PWD/$REPORT/index.html"
echo "  summary:  $REPORT/summary.md   plots: $(ls "$REPORT"/*.png 2>/dev/null | wc -l) PNG + SVG in $REPORT/"
echo "  next:     docs/REPORTS.md (reading and restyling the plots), docs/MATRIX.md (your own matrix),"
echo "            $VTB report $OUT --compare OTHER.json   (compare with another host or build)"
