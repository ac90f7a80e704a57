#!/usr/bin/env python3
"""same_runs.py A.json B.json - do two result documents hold the same runs,
timings aside? Used by the campaign tests: a merged campaign must equal an
unsharded run of the same matrix.

Runs are matched by (config, repetition); both documents must hold the same
set, each once. For every pair, every field must be equal except what
measures host time: the run's `timed` section (wall_ns, tsc, ...), exit
handling latencies (`latency_ns`, `hist`), `tsc_hz`, and the `image` path.
On the kvm backend, what the host's KVM counts besides the guest's own
exits (kvm_stats, pmu, exits by reason, io.exits_whole_run) depends on the
host's timer and scheduling, so kvm runs are compared on their status,
guest results (checksum, iterations, reports) and configuration; model runs
(deterministic) on everything else. Both documents' aggregates must cover
the same configurations, and for model configurations give the same value
for every metric whose name is not a time.

Exit 0 and one line when equal; 1 with the differences (at most 20).
"""
import json
import sys

TIME_KEYS = {"timed", "latency_ns", "hist", "tsc_hz", "image", "wall_ns", "console"}
KVM_KEYS = {"workload", "params", "backend", "modes", "status", "exit_code", "guest", "config",
            "repetition"}


def leaves(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            if k in TIME_KEYS:
                continue
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, x


def runs_by_id(doc, name, problems):
    out = {}
    for r in doc.get("runs", []):
        key = (r.get("config"), r.get("repetition"))
        if key in out:
            problems.append(f"{name}: {key[0]} #{key[1]} twice")
        out[key] = r
    return out


def time_metric(m):
    """A metric measured in host time (modeled time is the model's, exact)."""
    if m.startswith("modeled"):
        return False
    return m.endswith("_ns") or "_ns." in m or m.endswith("ns_per_iter") or "tsc" in m or \
        "latency" in m or m.startswith("wall")


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n")[0], file=sys.stderr)
        return 2
    a_path, b_path = sys.argv[1:]
    a, b = (json.load(open(p)) for p in (a_path, b_path))
    problems = []
    ra, rb = runs_by_id(a, a_path, problems), runs_by_id(b, b_path, problems)
    for k in sorted(set(ra) - set(rb), key=str):
        problems.append(f"{k[0]} #{k[1]}: only in {a_path}")
    for k in sorted(set(rb) - set(ra), key=str):
        problems.append(f"{k[0]} #{k[1]}: only in {b_path}")
    for k in sorted(set(ra) & set(rb), key=str):
        x, y = ra[k], rb[k]
        if x.get("backend") == "kvm":
            x = {f: x.get(f) for f in KVM_KEYS}
            y = {f: y.get(f) for f in KVM_KEYS}
        lx, ly = dict(leaves(x)), dict(leaves(y))
        for p in sorted(set(lx) | set(ly)):
            if lx.get(p) != ly.get(p):
                problems.append(f"{k[0]} #{k[1]}: {p}: {lx.get(p)!r} vs {ly.get(p)!r}")
    aggs = [{(g.get("config"), g.get("metric")): g for g in d.get("aggregates", [])} for d in (a, b)]
    configs = {c for c, _ in aggs[0]}
    if configs != {c for c, _ in aggs[1]}:
        problems.append(f"aggregates: configurations differ: "
                        f"{sorted(configs ^ {c for c, _ in aggs[1]})}")
    for k in sorted(set(aggs[0]) | set(aggs[1]), key=str):
        ga, gb = aggs[0].get(k), aggs[1].get(k)
        if (ga or gb).get("backend") != "model" or time_metric(k[1]):
            continue
        if not ga or not gb:
            problems.append(f"aggregates {k[0]}: {k[1]} only in {a_path if ga else b_path}")
            continue
        for f in ("n", "median", "mean", "min", "max"):
            if ga.get(f) != gb.get(f):
                problems.append(f"aggregates {k[0]}: {k[1]}.{f}: {ga.get(f)!r} vs {gb.get(f)!r}")
    if problems:
        print(f"same_runs: {a_path} and {b_path} differ ({len(problems)}):")
        for p in problems[:20]:
            print("  " + p)
        return 1
    nk = sum(1 for r in ra.values() if r.get("backend") == "kvm")
    print(f"same_runs: {len(ra)} runs in {len(configs)} configurations identical "
          f"({len(ra) - nk} model runs field by field, {nk} kvm runs by status and guest results; "
          f"{len(aggs[0])} aggregates; "
          f"timings aside)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
