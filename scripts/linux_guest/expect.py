#!/usr/bin/env python3
"""expect.py - the checksum a Linux guest workload must report, computed on
the host from the workload's definition (the formulas in docs/LINUX.md and
in each workloads/linux/wl/NAME.c), independently of the guest's code.

    python3 scripts/linux_guest/expect.py WORKLOAD KEY=VALUE...

Every parameter must be given (the guest's result line lists them all, as
vtb.KEY=VALUE; the prefix is accepted). Prints the checksum in decimal.
Exit 0, 2 for an unknown workload or a missing parameter.
"""
import sys

M = (1 << 64) - 1


def mix64(z):
    z &= M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def xorshift(x):
    x ^= (x << 13) & M
    x ^= x >> 7
    x ^= (x << 17) & M
    return x


def null(p):
    return p["n"]  # getppid() of the workload process: init, PID 1


def fork(p):
    return sum(mix64(0x666F726B + i) & 0xFF for i in range(p["n"]))


def forkexec(p):
    return sum(mix64(0x666F726B65786563 + i) % 100 for i in range(p["n"]))


def pgfault(p):
    return sum(mix64(0x70676661756C74 + i) for i in range(p["n"]))


def mprotect(p):
    pages, words, s = p["pages"], [0] * p["pages"], 0
    for t in range(p["n"]):
        s += sum(words)
        words[t % pages] = t + 1
    return s


def ctx(p):
    w = p["ws"] // 8
    touch = w * (w - 1) // 2
    x = 0x637478
    for _ in range(p["n"]):
        y = mix64(x + touch)
        x = mix64(y + touch)
    return x


def ptrchase(p):
    lines, x = p["ws"] // 64, p["seed"]
    a = list(range(lines))
    for i in range(lines - 1, 0, -1):
        x = xorshift(x)
        j = x % i
        a[i], a[j] = a[j], a[i]
    s, q = 0, 0
    for _ in range(p["n"]):
        q = a[q]
        s += q
    return s


def gups(p):
    words, x = p["ws"] // 8, p["seed"]
    t = list(range(words))
    for _ in range(p["n"]):
        x = xorshift(x)
        t[x & (words - 1)] ^= x
    return sum(mix64(v + i) for i, v in enumerate(t))


def make(p):
    total = 0
    sources = [[mix64(0x6D616B65 ^ (j << 32) ^ k) for k in range(p["size"] // 8)]
               for j in range(p["files"])]
    for r in range(p["n"]):
        link = 0
        for words in sources:
            h = r
            for w in words:
                h = mix64(h ^ w)
            link = mix64(link + h)
        total += link
    return total


WORKLOADS = {
    "null": (null, ["n"]),
    "fork": (fork, ["n"]),
    "forkexec": (forkexec, ["n"]),
    "pgfault": (pgfault, ["n"]),
    "mprotect": (mprotect, ["n", "pages"]),
    "ctx": (ctx, ["n", "ws"]),
    "ptrchase": (ptrchase, ["n", "ws", "seed"]),
    "gups": (gups, ["n", "ws", "seed"]),
    "make": (make, ["n", "files", "size"]),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in WORKLOADS:
        print("expect.py: usage: expect.py WORKLOAD KEY=VALUE... (workloads: %s)"
              % " ".join(WORKLOADS), file=sys.stderr)
        return 2
    fn, needs = WORKLOADS[argv[1]]
    p = {}
    for kv in argv[2:]:
        k, _, v = kv.partition("=")
        p[k[4:] if k.startswith("vtb.") else k] = int(v, 0)
    missing = [k for k in needs if k not in p]
    if missing:
        print("expect.py: %s needs %s" % (argv[1], ", ".join(missing)), file=sys.stderr)
        return 2
    print(fn(p) & M)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
