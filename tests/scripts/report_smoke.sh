#!/bin/bash
# report_smoke.sh - `vtbench report` on the committed fixture documents:
# every plot in plots.json exists as a non-empty PNG (checked by its
# signature) and SVG, the HTML and Markdown exist, and the HTML references
# only files that exist in the report directory; the statistics appear in
# the Markdown, the HTML and report.json; the NMI delivery CDF is drawn from
# the fixtures' events sections and left out (without error) where a
# document has none. A headless-browser screenshot of the page is taken and
# its pixels checked: many colours, ink on the page, and the plots' bar
# colour present (the images rendered). Skipped with a reason only when no
# chromium is installed (scripts/deps.sh installs it).
set -u
cd "$(dirname "$0")/../.."
VTB=${VTBENCH:-bin/vtbench}
FIX=tests/fixtures/results
export VTBENCH_PLOTS=$PWD/plots
[ -x "$VTB" ] || { echo "report_smoke: $VTB not built (run make)"; exit 1; }
command -v gnuplot >/dev/null || { echo "report_smoke: gnuplot missing (make deps)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_report_smoke.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
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
    case "$ref" in \#*) grep -q "id=\"${ref#\#}\"" "$dir/index.html" || err "index.html: no anchor $ref"; continue ;; esac
    [ -e "$dir/$ref" ] || err "index.html references missing file $ref"
  done
  echo "report_smoke: $dir: $n plots ok"
}

"$VTB" report "$FIX/kvm_host_a.json" --compare "$FIX/kvm_host_b.json" -o "$TMP/kvm" >/dev/null ||
  err "report on kvm fixtures failed"
check_report "$TMP/kvm" 6 # time, overhead, exits, exit latency, NMI CDF, compare
grep -q "differ significantly" "$TMP/kvm/summary.md" || err "comparison finding missing"
grep -q "outlier" "$TMP/kvm/summary.md" || err "the planted outlier (pio rep 3) was not flagged"
# NMI/IRQ delivery: the CDF from the histograms, its table and finding.
[ -s "$TMP/kvm/events_nmi_kvm.png" ] || err "NMI delivery CDF plot missing"
[ "$(grep -c ',fraction$' "$TMP/kvm/events_nmi_kvm.csv")" = 2 ] || err "CDF CSV: expected 2 blocks (poll, window)"
tail -1 "$TMP/kvm/events_nmi_kvm.csv" | grep -q ',1$' || err "CDF does not end at 1"
grep -q "NMI and IRQ were switched together" "$TMP/kvm/summary.md" ||
  err "the savings table does not say why the kvm fixtures have no NMI window vs poll pair"
grep -q "NMI/IRQ delivery" "$TMP/kvm/index.html" || err "delivery table missing from the HTML"
# Every statistic in both pages, and in report.json.
for h in median "95% CI" mean stddev CV "min .. max" outliers "vs baseline" "Mann-Whitney"; do
  grep -q "$h" "$TMP/kvm/summary.md" || err "summary.md lacks '$h'"
  grep -q "$h" "$TMP/kvm/index.html" || err "index.html lacks '$h'"
done
grep -q "rep 3" "$TMP/kvm/summary.md" || err "outlier repetition not named in the table"
jq -e '[.aggregates[] | select(.metric == "ns_per_iter")] | length == 8 and
       all(has("median") and has("mean") and has("stddev") and has("cv") and has("min") and
           has("max") and has("ci95") and has("outlier_repetitions"))' "$TMP/kvm/report.json" >/dev/null ||
  err "report.json aggregates incomplete"
jq -e '[.aggregates[] | select(.ratio_to_baseline)] | length >= 4' "$TMP/kvm/report.json" >/dev/null ||
  err "report.json: no ratio_to_baseline"
jq -e '.comparison | length == 8 and all(.mann_whitney.p >= 0 and .mann_whitney.p <= 1)' \
  "$TMP/kvm/report.json" >/dev/null || err "report.json: comparison rows with Mann-Whitney missing"

"$VTB" report "$FIX/model.json" -o "$TMP/model" >/dev/null || err "report on model fixture failed"
check_report "$TMP/model" 5 # time, overhead, exits, walk refs, TLB misses
ls "$TMP/model"/events_* >/dev/null 2>&1 && err "model fixture has no events, yet a CDF was drawn"
grep -q "EPT vs shadow costs +48% (1.48x), exact" "$TMP/model/summary.md" || err "gups EPT saving finding missing"
grep -q "walk refs per TLB miss 4 -> 24" "$TMP/model/summary.md" || err "cause (walk references per TLB miss) missing"

# kvm and model in one document (merged): exit latency per reason and the
# model-vs-KVM side-by-side plot appear too.
"$VTB" merge -o "$TMP/both.json" "$FIX/kvm_host_a.json" "$FIX/model.json" >/dev/null || err "merge failed"
"$VTB" report "$TMP/both.json" -o "$TMP/both" >/dev/null || err "report on the merged fixtures failed"
check_report "$TMP/both" 11
for out in latency_kvm model_vs_kvm model_walk_refs_model model_tlb_misses_model exits_model; do
  [ -s "$TMP/both/$out.png" ] || err "merged report lacks $out.png"
done

# export alone writes the CSVs the plots read.
"$VTB" export --csv "$FIX/model.json" -o "$TMP/csv" >/dev/null || err "export failed"
for f in summary.csv time_model.csv overhead_model.csv exits_model.csv plots.json plots.sh; do
  [ -s "$TMP/csv/$f" ] || err "export: $f missing"
done

# Headless screenshot of the page, checked pixel by pixel.
browser=$(command -v chromium chromium-browser google-chrome 2>/dev/null | head -1)
if [ -z "$browser" ]; then
  echo "report_smoke: skip screenshot: no headless browser (chromium; make deps installs it)"
elif ! command -v python3 >/dev/null; then
  echo "report_smoke: skip screenshot: python3 missing (needed to read the PNG)"
else
  profile=$(mktemp -d "$TMP/chrome.XXXXXX")
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$TMP/shot.png" --window-size=1280,2400 \
    "file://$TMP/model/index.html" >"$TMP/chrome.log" 2>&1 || err "screenshot failed (see chromium output)"
  # Decode the PNG (zlib + the five row filters) and count: distinct
    # colours, non-white pixels, pixels of the model's colour in the savings
  # plots near the top (#7570b3 points), which only a rendered plot has.
  python3 - "$TMP/shot.png" <<'PY' || err "screenshot is blank or the plots did not render"
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', "not a PNG"
pos, idat, hdr = 8, [], None
while pos < len(d):
    n, typ = struct.unpack('>I4s', d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n
    if typ == b'IHDR': hdr = struct.unpack('>IIBBBBB', body)
    elif typ == b'IDAT': idat.append(body)
    elif typ == b'IEND': break
w, h, depth, ctype, _, _, interlace = hdr
assert depth == 8 and ctype in (2, 6) and not interlace, "unsupported PNG %r" % (hdr,)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(b''.join(idat)), w * bpp
prev, colours, ink, bar = bytearray(stride), set(), 0, 0
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride): line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride): line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp):
        r, g, b = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, b)); ink += (r, g, b) != (255, 255, 255)
        bar += abs(r - 117) <= 14 and abs(g - 112) <= 14 and abs(b - 179) <= 14
frac = ink / (w * h)
print("report_smoke: screenshot %dx%d: %d colours, %.1f%% non-white, %d bar pixels" % (w, h, len(colours), 100 * frac, bar))
sys.exit(0 if len(colours) >= 32 and frac >= 0.03 and bar >= 300 else 1)
PY
  [ $fail = 0 ] && echo "report_smoke: screenshot ok"
fi

# Ctrl-C (SIGINT) or SIGTERM while gnuplot draws: the report stops (exit
# 130), gnuplot is ended, no temporary plot stays and the previous pages
# stay as they were. A slow fake gnuplot writes its temporaries, then waits.
mkdir -p "$TMP/slowbin"
cat >"$TMP/slowbin/gnuplot" <<'SLOW'
#!/bin/bash
base=$(echo "$2" | sed -n "s/.*outbase='\([^']*\)'.*/\1/p")
echo partial >"$base.png"; echo partial >"$base.svg"
echo $$ >>"$SLOW_PIDS"
sleep 30
SLOW
chmod +x "$TMP/slowbin/gnuplot"
for sig in INT TERM; do
  rm -rf "$TMP/slow" && mkdir "$TMP/slow" && echo "previous page" >"$TMP/slow/index.html"
  : >"$TMP/pids"
  SLOW_PIDS=$TMP/pids PATH=$TMP/slowbin:$PATH "$VTB" report "$FIX/model.json" -o "$TMP/slow" >/dev/null 2>"$TMP/slow.err" &
  pid=$!
  for _ in $(seq 100); do [ -s "$TMP/pids" ] && break; sleep 0.05; done
  kill -$sig $pid
  wait $pid
  rc=$?
  [ $rc = 130 ] || err "report after SIG$sig: exit $rc, expected 130: $(cat "$TMP/slow.err")"
  sleep 0.2
  for g in $(cat "$TMP/pids"); do kill -0 "$g" 2>/dev/null && err "gnuplot $g still runs after SIG$sig"; done
  [ -z "$(ls "$TMP/slow" | grep '\.tmp\.')" ] || err "temporaries left after SIG$sig: $(ls "$TMP/slow")"
  [ "$(cat "$TMP/slow/index.html")" = "previous page" ] || err "index.html changed after SIG$sig"
done

[ $fail = 0 ] && echo "report_smoke: passed"
exit $fail
