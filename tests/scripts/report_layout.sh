#!/bin/bash
# report_layout.sh - the report page needs no horizontal scrolling in a
# 1280 px wide window: headless Chromium lays out index.html (a copy with a
# script that writes the page's scroll width into its title once everything,
# plots included, has loaded) for three reports: the interleaved fixture
# (kvm and model), the model fixture, and a --compare of two kvm hosts (the
# widest tables). Also checks the page lists its sections in report order
# and `vtbench export --format gbench` output against Google Benchmark's
# format (and its compare.py, which scripts/deps.sh installs).
set -u
cd "$(dirname "$0")/../.."
VTB=${VTBENCH:-bin/vtbench}
FIX=tests/fixtures/results
export VTBENCH_PLOTS=$PWD/plots
[ -x "$VTB" ] || { echo "report_layout: $VTB not built (run make)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_report_layout.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
fail=0
err() { echo "report_layout: FAIL: $*"; fail=1; }

"$VTB" report "$FIX/interleaved.json" -o "$TMP/inter" >/dev/null || err "report on interleaved.json failed"
"$VTB" report "$FIX/model.json" -o "$TMP/model" >/dev/null || err "report on model.json failed"
"$VTB" report "$FIX/kvm_host_a.json" --compare "$FIX/kvm_host_b.json" -o "$TMP/cmp" >/dev/null ||
  err "report --compare failed"

# Sections in order: the savings first, then findings, then the tax.
for d in inter model cmp; do
  order=$(grep -o 'id="[a-z-]*"' "$TMP/$d/index.html" | tr '\n' ' ')
  case "$order" in
    'id="savings" '*'id="findings" '*'id="results" '*) ;;
    *) err "$d: sections out of order: $order" ;;
  esac
done
# Rows in catalog order whatever the run order: pio before cpuid? No: the
# catalog lists cpuid, then pio, cr3switch, gups, compute, nmistorm.
rows=$(sed -n '/id="results"/,/<\/table>/p' "$TMP/inter/index.html" | grep -o '<tr><td>[a-z0-9]*</td><td>[a-z0-9]*' |
  sed 's/<tr><td>//; s/<\/td><td>/ /' | awk '!seen[$0]++' | tr '\n' ',')
[ "$rows" = "kvm cpuid,kvm pio,model pio,model cr3switch,model gups,kvm compute,kvm nmistorm,model nmistorm," ] ||
  err "results table rows not in catalog order: $rows"
# The --compare page: both documents side by side, one summary line per workload.
grep -q 'What each assist saves, both documents' "$TMP/cmp/summary.md" || err "no side-by-side savings"
[ "$(grep -c 'ran .*x faster than\|no significant difference between' "$TMP/cmp/summary.md")" = 4 ] ||
  err "not one hyperfine-style line per workload (4)"
# RFC 4180: the causes hold commas, so savings.csv quotes them.
python3 - "$TMP/inter/savings.csv" <<'PY' || err "savings.csv is not RFC 4180 CSV"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert all(len(r) == len(rows[0]) for r in rows), "ragged rows"
assert any(',' in r[-1] for r in rows[1:]), "no cause with a comma: the test proves nothing"
PY

browser=$(command -v chromium chromium-browser google-chrome 2>/dev/null | head -1)
if [ -z "$browser" ]; then
  err "no chromium (make deps installs it)"
else
  for d in inter model cmp; do
    page="$TMP/$d/layout_check.html"
    sed 's|</body>|<script>addEventListener("load", function () { var e = document.documentElement; document.title = "scroll " + e.scrollWidth + " client " + e.clientWidth; });</script></body>|' \
      "$TMP/$d/index.html" >"$page"
    profile=$(mktemp -d "$TMP/chrome.XXXXXX")
    title=$(timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --window-size=1280,900 --virtual-time-budget=5000 --dump-dom \
      "file://$page" 2>"$TMP/chrome_$d.log" | grep -o '<title>scroll [0-9]* client [0-9]*</title>')
    set -- $(echo "$title" | tr -dc '0-9 ' | xargs)
    if [ $# -ne 2 ]; then
      err "$d: chromium did not report the layout (see $TMP/chrome_$d.log)"
    elif [ "$1" -gt "$2" ]; then
      err "$d: the page is $1 px wide in a $2 px viewport: it scrolls sideways"
    else
      echo "report_layout: $d: page $1 px wide, viewport $2 px: no horizontal scrolling"
    fi
  done
fi

# Google Benchmark JSON: the fields compare.py reads, one iteration entry
# per ok run and four aggregates per configuration.
"$VTB" export --format gbench "$FIX/kvm_host_a.json" -o "$TMP/a.gb.json" >/dev/null || err "export gbench failed"
"$VTB" export --format gbench "$FIX/kvm_host_b.json" -o "$TMP/b.gb.json" >/dev/null || err "export gbench failed"
jq -e '(.context | has("date") and has("host_name")) and
       ([.benchmarks[] | select(.run_type == "iteration")] | length == 40) and
       ([.benchmarks[] | select(.run_type == "aggregate")] | length == 32) and
       all(.benchmarks[]; has("name") and has("real_time") and has("cpu_time") and .time_unit == "ns")' \
  "$TMP/a.gb.json" >/dev/null || err "gbench JSON lacks what compare.py reads"
cmp_py=/usr/share/benchmark/compare.py
if [ -f "$cmp_py" ] && /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
  /usr/bin/python3 "$cmp_py" -d "$TMP/cmp.json" benchmarks "$TMP/a.gb.json" "$TMP/b.gb.json" >"$TMP/cmp.txt" 2>&1 ||
    err "compare.py failed on our export (see $TMP/cmp.txt)"
  grep -q 'pio n=1000/kvm/shadow/flush/poll/poll_pvalue' "$TMP/cmp.txt" || err "compare.py ran no U test"
else
  err "Google Benchmark's compare.py or scipy missing (make deps: libbenchmark-tools, python3-scipy)"
fi
[ $fail = 0 ] && echo "report_layout: passed"
exit $fail
