#!/bin/bash
# shard_hosts.sh - a configuration is in the same shard on every host. The
# shards of one matrix may run on hosts that leave out different
# configurations (kvm modes the host's KVM module cannot run, no KVM at
# all); shards are cut from the whole cross product, so every host's shard
# I/N holds the same configurations of what it runs, and the shards of each
# host together are its whole matrix. Dry runs (nothing runs) with the
# host's KVM read from the sysfs fixtures (tests/fixtures/sysfs/*).
set -u
cd "$(dirname "$0")/../.."
VTB=$PWD/${VTBENCH:-bin/vtbench}
[ -x "$VTB" ] || { echo "shard_hosts: FAIL: $VTB not built (run make)"; exit 1; }
TMP=$(mktemp -d /tmp/vtb_shard_hosts.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail=0
err() { echo "shard_hosts: FAIL: $*"; fail=1; }
cat >"$TMP/matrix.json" <<'M'
{"backends": ["kvm", "model"], "workloads": ["pio", "cpuid", "pgfault"],
 "modes": ["shadow/flush", "ept/vpid", "native", "shadow/flush/window/poll"], "reps": 1, "warmup": 0}
M
N=4
for h in tests/fixtures/sysfs/*/; do
  h=$(basename "$h")
  VTBENCH_HOST_SYSFS=$PWD/tests/fixtures/sysfs/$h "$VTB" run --matrix "$TMP/matrix.json" --dry-run 2>/dev/null |
    grep ' #0$' | sort >"$TMP/$h.all"
  : >"$TMP/$h.union"
  for s in $(seq $N); do
    VTBENCH_HOST_SYSFS=$PWD/tests/fixtures/sysfs/$h "$VTB" run --matrix "$TMP/matrix.json" --shard $s/$N --dry-run 2>/dev/null |
      grep ' #0$' | sed "s|^|$s |" >>"$TMP/$h.union"
  done
  cut -d' ' -f2- "$TMP/$h.union" | sort | cmp -s - "$TMP/$h.all" || err "$h: the $N shards are not the whole matrix"
  grep '^[0-9] model ' "$TMP/$h.union" | sort >"$TMP/$h.model"
done
# the model runs everywhere: each of its configurations in one shard, the same on every host
first=
for f in "$TMP"/*.model; do
  [ -s "$f" ] || err "$(basename "$f" .model): no model configuration in any shard"
  if [ -z "$first" ]; then first=$f; continue; fi
  cmp -s "$first" "$f" || {
    err "$(basename "$f" .model) puts the model's configurations in other shards than $(basename "$first" .model):"
    diff "$first" "$f" | head -6
  }
done
[ $fail = 0 ] && echo "shard_hosts: $(ls "$TMP"/*.model | wc -l) hosts agree on the shard of each configuration; each host's $N shards are its whole matrix"
exit $fail
