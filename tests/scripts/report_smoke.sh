#!/bin/bash
# report_smoke.sh - `vtbench report` on the committed fixture documents:
# every plot in plots.json exists as a non-empty PNG (checked by its
# signature) and SVG, the HTML and Markdown exist, and the HTML references
# only files that exist in the report directory. A headless-browser
# screenshot of the page is taken and checked to be non-blank where a
# browser is installed (skipped with a reason otherwise).
set -u
cd "$(dirname "$0")/../.."
VTB=${VTBENCH:-bin/vtbench}
FIX=tests/fixtures/results
export VTBENCH_PLOTS=$PWD/plots
[ -x "$VTB" ] || { echo "report_smoke: $VTB not built (run make)"; exit 1; }
command -v gnuplot >/dev/null || { echo "report_smoke: gnuplot missing (make deps)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_report_smoke.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "report_smoke: FAIL: $*"; fail=1; }

check_report() { # DIR MIN_PLOTS
  local dir=$1 min=$2 n=0
  [ -s "$dir/index.html" ] || err "$dir/index.html missing or empty"
  [ -s "$dir/summary.md" ] || err "$dir/summary.md missing or empty"
  for out in $(jq -r '.[].out' "$dir/plots.json"); do
    n=$((n + 1))
    [ -s "$dir/$out.png" ] || { err "$dir/$out.png missing or empty"; continue; }
    [ -s "$dir/$out.svg" ] || err "$dir/$out.svg missing or empty"
    [ "$(head -c 8 "$dir/$out.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
      err "$dir/$out.png is not a PNG"
    # A plot with data is more than an empty frame: > 10 KB at 1100x700.
    [ "$(stat -c %s "$dir/$out.png")" -gt 10000 ] || err "$dir/$out.png looks blank"
    grep -q "$out.svg\|$out.png" "$dir/index.html" || err "index.html does not show $out"
  done
  [ "$n" -ge "$min" ] || err "$dir: $n plots, expected at least $min"
  # Every local src/href in the page must exist.
  for ref in $(grep -o '\(src\|href\)="[^"]*"' "$dir/index.html" | sed 's/^[a-z]*="//; s/"$//'); do
    case "$ref" in http:* | https:* | //*) err "index.html references a remote $ref"; continue ;; esac
    [ -e "$dir/$ref" ] || err "index.html references missing file $ref"
  done
  echo "report_smoke: $dir: $n plots ok"
}

"$VTB" report "$FIX/kvm_host_a.json" --compare "$FIX/kvm_host_b.json" -o "$TMP/kvm" >/dev/null ||
  err "report on kvm fixtures failed"
check_report "$TMP/kvm" 4 # time, overhead, exits, compare
grep -q "differ significantly" "$TMP/kvm/summary.md" || err "comparison finding missing"
grep -q "outlier" "$TMP/kvm/summary.md" || err "the planted outlier (pio rep 3) was not flagged"

"$VTB" report "$FIX/model.json" -o "$TMP/model" >/dev/null || err "report on model fixture failed"
check_report "$TMP/model" 5 # time, overhead, exits, walk refs, TLB misses
grep -q "ept/vpid/poll/poll costs 1.80x" "$TMP/model/summary.md" || err "gups ept overhead finding missing"
grep -q "page-walk memory references" "$TMP/model/summary.md" || err "cause (walk references) missing"

# export alone writes the CSVs the plots read.
"$VTB" export --csv "$FIX/model.json" -o "$TMP/csv" >/dev/null || err "export failed"
for f in summary.csv time_model.csv overhead_model.csv exits_model.csv plots.json plots.sh; do
  [ -s "$TMP/csv/$f" ] || err "export: $f missing"
done

# Headless screenshot of the page, where a browser exists.
browser=$(command -v chromium chromium-browser google-chrome 2>/dev/null | head -1)
if [ -n "$browser" ]; then
  "$browser" --headless --no-sandbox --disable-gpu --screenshot="$TMP/shot.png" \
    --window-size=1200,900 "file://$TMP/kvm/index.html" >/dev/null 2>&1 || err "screenshot failed"
  if command -v python3 >/dev/null; then
    python3 - "$TMP/shot.png" <<'PY' || err "screenshot is blank"
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
# Non-blank: the compressed image is not one flat colour (> 20 KB).
sys.exit(0 if len(data) > 20000 else 1)
PY
  fi
  echo "report_smoke: screenshot ok"
else
  echo "report_smoke: skip screenshot: no headless browser (chromium) installed"
fi

[ $fail = 0 ] && echo "report_smoke: passed"
exit $fail
