#!/usr/bin/env python3
"""trace_summary.py - attribute KVM's shadow-MMU statistics in one traced
run of the kvm_amd rig (bash scripts/kvm_amd/rig.sh trace: guest_plan.sh's
ktrace records the kvm/kvmmmu tracepoints and, with a kernel stack each, the
functions that count KVM's statistics, from the region's first mark on).

    python3 scripts/kvm_amd/trace_summary.py OUT/trace_linux_fork.trace.gz [OUT/kallsyms.gz]

Prints, over the timed region (up to the second mark, a port write to
0x502): the exits by reason; the calls of each traced function by caller
(e.g. kvm_flush_remote_tlbs: remote_tlb_flush_requests, kvm_mmu_pte_write:
mmu_pte_write, kvm_mmu_unprotect_page: an unprotect-and-retry); the shadow
pages zapped (mmu_shadow_zapped) by level and path, and created
(mmu_cache_miss) by level; and each #PF exit's outcome (a fill, an emulated
page-table write, an unprotect-and-retry, a fault reflected to the guest)
by the guest RIP's symbol ("no spte set": reflected to the guest or
spurious). RIPs are symbolized with the rig kernel's
kallsyms (the L1 kernel, the same image as the Linux guest's, which runs at
the unrandomized base 0xffffffff81000000)."""
import bisect
import collections
import gzip
import re
import sys

LINE = re.compile(r"^\s*\S+-\d+\s+\[\d+\]\s+\S+\s+[\d.]+: (.*)$")


def load_syms(path):
    syms = []
    base = None
    with gzip.open(path, "rt") as f:
        for ln in f:
            p = ln.split()
            if len(p) < 3:
                continue
            a = int(p[0], 16)
            if p[2] == "_text":
                base = a
            syms.append((a, p[2]))
    if base is None:
        return None
    syms = sorted((a - base + 0xFFFFFFFF81000000, n) for a, n in syms)
    return syms, [a for a, _ in syms]


def symbolize(tab, x):
    if x < 0xFFFFFFFF80000000:
        return "user:%#x" % x
    if not tab:
        return "%#x" % x
    syms, addrs = tab
    i = bisect.bisect_right(addrs, x) - 1
    return "%s+%#x" % (syms[i][1], x - syms[i][0]) if i >= 0 else "%#x" % x


def events(path):
    """(body, stack) per trace line, to the region's end mark."""
    cur = None
    with gzip.open(path, "rt") as f:
        for ln in f:
            if ln.startswith("#"):
                continue
            if ln.startswith(" => "):
                if cur is not None:
                    cur[1].append(ln[4:].strip())
                continue
            m = LINE.match(ln)
            if not m or m.group(1).startswith("<stack trace>"):
                continue
            if cur is not None:
                yield cur
            cur = (m.group(1), [])
            if "kvm_pio" in cur[0] and "at 0x502" in cur[0]:
                break
    if cur is not None:
        yield cur


def callers(stack, skip=1, n=3):
    frames = [s for s in stack if not s.startswith("0x") and "__traceiter" not in s]
    return " < ".join(frames[skip : skip + n])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    tab = load_syms(sys.argv[2]) if len(sys.argv) > 2 else None
    exits = collections.Counter()
    calls = collections.defaultdict(collections.Counter)
    zaps, pages = collections.Counter(), collections.Counter()
    outcome = collections.Counter()
    pf = None

    def close():
        if pf:
            outcome[(pf[1], pf[0])] += 1

    for body, stack in events(sys.argv[1]):
        name, _, rest = body.partition(": ")
        if " <-" in body and ": " not in body.split(" <-")[0]:
            fn = body.split(" <-")[0].strip()
            calls[fn][callers(stack, 1)] += 1
            if pf and fn == "kvm_mmu_unprotect_page":
                pf[1] = "retry (unprotect)"
            elif pf and fn == "kvm_mmu_pte_write":
                pf[1] = "emulated pt write"
            continue
        if name == "kvm_exit":
            close()
            r = re.search(r"reason (.*?) rip (\S+)", rest)
            exits[r.group(1)] += 1
            pf = [symbolize(tab, int(r.group(2), 16)), "no spte set"] if r.group(1) == "PF excp" else None
        elif name == "kvm_mmu_prepare_zap_page":
            lvl = re.search(r" l(\d) ", rest).group(1)
            state = "unsync" if rest.rstrip().endswith("unsync") else "sync"
            inv = " invalid" if " invalid " in rest else ""
            zaps["l%s %s%s via %s" % (lvl, state, inv, callers(stack, 1, 2))] += 1
        elif name == "kvm_mmu_get_page":
            lvl = re.search(r" l(\d) ", rest).group(1)
            pages["l%s %s" % (lvl, rest.split()[-1])] += 1
        elif pf and name == "kvm_inj_exception":
            pf[1] = "guest fault"
        elif pf and name == "kvm_mmu_set_spte" and pf[1] == "no spte set":
            pf[1] = "fill"
    close()

    def show(title, c):
        print("== %s (%d)" % (title, sum(c.values())))
        for k, v in c.most_common():
            print("%7d  %s" % (v, k))

    show("exits by reason", exits)
    for fn in sorted(calls):
        show("%s, by caller" % fn, calls[fn])
    show("shadow pages zapped (mmu_shadow_zapped)", zaps)
    show("shadow pages looked up (new: mmu_cache_miss)", pages)
    show("#PF exits: outcome, guest RIP", collections.Counter({"%-18s %s" % k: v for k, v in outcome.items()}))


if __name__ == "__main__":
    main()
