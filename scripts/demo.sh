#!/bin/bash
# demo.sh - what `make demo` runs after building: the quick matrix on every
# backend this host supports, a report, and where to find it.
#
#   kvm    needs a usable /dev/kvm
#   model  needs refvmm built with the model backend (vtbench skips it with
#          a note when refvmm says it is not built)
#
# Output: results/out/demo.json and report/index.html (report/summary.md).
set -u
cd "$(dirname "$0")/.."
VTB=bin/vtbench
OUT=results/out/demo.json
REPORT=report

[ -x "$VTB" ] && [ -x bin/refvmm ] || { echo "demo: bin/vtbench or bin/refvmm missing: run make"; exit 1; }

backends=()
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  backends+=(kvm)
else
  echo "demo: /dev/kvm is not usable on this host: the kvm backend is skipped"
fi
backends+=(model) # vtbench probes it and skips it if refvmm lacks the model backend

mkdir -p "$(dirname "$OUT")"
echo "demo: vtbench run --quick on: ${backends[*]} (about a minute)"
"$VTB" run --quick --backends "$(IFS=,; echo "${backends[*]}")" -o "$OUT"
rc=$?
case $rc in
  0) ;;
  1) echo "demo: some runs failed (their status is in $OUT); reporting the rest" ;;
  3)
    echo "demo: nothing can run on this host: no /dev/kvm and refvmm has no model backend."
    echo "demo: use a machine with KVM, or build refvmm with the model backend."
    exit 1
    ;;
  130) echo "demo: interrupted; continue with: $VTB run --resume -o $OUT"; exit 130 ;;
  *) echo "demo: vtbench run failed (exit $rc)"; exit 1 ;;
esac

"$VTB" report "$OUT" -o "$REPORT" || { echo "demo: vtbench report failed"; exit 1; }
echo
echo "demo: results: $OUT"
echo "demo: report:  $PWD/$REPORT/index.html  (summary: $REPORT/summary.md)"
sed -n '/^## Findings/,/^## Results/p' "$REPORT/summary.md" | sed '1d;$d' | head -20
