#!/usr/bin/env python3
"""linux_tables.py - the Markdown tables of docs/LINUX.md from run records.

  python3 bench/linux_tables.py boot [--workload W] FILE...
                                                  boot to user space, per mode
  python3 bench/linux_tables.py workloads DOC     per workload and mode, savings

FILE is a refvmm --json record or a vtbench document (every run in it is
taken); DOC is a vtbench document such as make bench-linux's linux.json.
Only the model's records carry the figures (model.boot_to_user, model.timed).
"""
import json
import sys


def runs_of(path):
    with open(path) as f:
        return json.load(f).get("runs", [])


def mode_name(run):
    m = run.get("modes", {})
    if m.get("paging") == "native":
        return "native"
    return "%s/%s/%s/%s" % (m.get("paging"), m.get("tlb"), m.get("nmi"), m.get("irq"))


def exits_text(ex, per=1.0, top=None):
    items = sorted(ex.items(), key=lambda kv: -kv[1])
    if top:
        items = items[:top]
    if not items:
        return "none"
    fmt = "%s %d" if per == 1.0 else "%s %.3g"
    return ", ".join(fmt % (k, v / per) for k, v in items)


def boot(paths, only=None):
    print("| mode | workload | instructions to user space | modeled | wall | VM exits | exits by SDM reason |")
    print("|---|---|---:|---:|---:|---:|---|")
    for p in paths:
        for run in runs_of(p):
            b = (run.get("model") or {}).get("boot_to_user")
            if not b or (only and run.get("workload") != only):
                continue
            ex = b.get("exits", {})
            print("| %s | %s | %.3f G | %.0f ms | %.1f s | %d | %s |" % (
                mode_name(run), run.get("workload", "?"), b["instructions"] / 1e9,
                b["modeled_ns"] / 1e6, b["wall_ns"] / 1e9, sum(ex.values()), exits_text(ex)))


MODE_ORDER = ["native", "shadow/flush", "shadow/vpid", "ept/flush", "ept/vpid"]


def short_mode(run):
    n = mode_name(run)
    if n == "native":
        return n
    p = n.split("/")
    return "%s/%s" % (p[0], p[1]) + ("" if p[3] == "window" else " irq %s" % p[3])


def workloads(doc):
    rows = {}
    order = []
    for run in runs_of(doc):
        if run.get("backend") != "model" or run.get("status") != "ok":
            continue
        m = run["model"]
        t = m["timed"]
        it = run["guest"]["iterations"] or 1
        key = (run["workload"], short_mode(run))
        if run["workload"] not in order:
            order.append(run["workload"])
        irq = (m.get("events") or {}).get("irq") or {}
        lat = (irq.get("latency_cycles") or {}).get("p50")
        rows[key] = dict(it=it, ns=m["modeled_ns"] / it, insn=t["instructions"] / it,
                         exits=t.get("exits", {}), refs=t["walks"]["refs"] / it,
                         irq=irq.get("delivered"), lat=lat, boot=m.get("boot_to_user", {}))
    print("| workload | mode | iterations | modeled ns/iter | instructions/iter | exits/iter | "
          "main exits/iter (SDM reason) | walk refs/iter |")
    print("|---|---|---:|---:|---:|---:|---|---:|")
    modes = MODE_ORDER + sorted({k[1] for k in rows} - set(MODE_ORDER))
    for w in order:
        for md in modes:
            r = rows.get((w, md))
            if not r:
                continue
            print("| %s | %s | %d | %.0f | %.0f | %.2f | %s | %.1f |" % (
                w, md, r["it"], r["ns"], r["insn"], sum(r["exits"].values()) / r["it"],
                exits_text(r["exits"], r["it"], 3), r["refs"]))
    print()
    print("Savings of each assist (modeled time per iteration; saving = 1 - with/without):")
    print()
    print("| workload | EPT vs shadow (flush) | EPT vs shadow (vpid) | VPID vs flush (shadow) | "
          "VPID vs flush (ept) | IRQ window vs poll (ept/vpid) |")
    print("|---|---:|---:|---:|---:|---:|")

    def saving(w, with_m, without_m):
        a, b = rows.get((w, with_m)), rows.get((w, without_m))
        if not a or not b:
            return "-"
        return "%+.1f%%" % (100.0 * (1.0 - a["ns"] / b["ns"]))

    for w in order:
        irqcol = saving(w, "ept/vpid", "ept/vpid irq poll")
        a, b = rows.get((w, "ept/vpid")), rows.get((w, "ept/vpid irq poll"))
        if a and b and a["lat"] is not None and b["lat"] is not None:
            irqcol += " (IRQ latency p50 %.0f vs %.0f cycles)" % (a["lat"], b["lat"])
        print("| %s | %s | %s | %s | %s | %s |" % (
            w, saving(w, "ept/flush", "shadow/flush"), saving(w, "ept/vpid", "shadow/vpid"),
            saving(w, "shadow/vpid", "shadow/flush"), saving(w, "ept/vpid", "ept/flush"), irqcol))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("boot", "workloads"):
        sys.exit(__doc__)
    if sys.argv[1] == "boot":
        args = sys.argv[2:]
        only = None
        if args[:1] == ["--workload"] and len(args) > 2:
            only, args = args[1], args[2:]
        boot(args, only)
    else:
        workloads(sys.argv[2])


if __name__ == "__main__":
    main()
