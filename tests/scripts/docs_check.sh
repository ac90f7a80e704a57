#!/bin/bash
# docs_check.sh - documents for users, as they are:
#  - no document (README.md, docs/*.md) and no --help text names an issue
#    number ("issue 8", "issue #8": the history of the code, not its use);
#  - every file docs/ARCHITECTURE.md cites in backticks is in the
#    repository: `dir/file.c`, siblings after it in the same cell
#    (`refvmm/vm.h`, `modes.c`), brace lists (`x.{c,h}`), globs
#    (`cmd_*.c`) and NAME placeholders (`workloads/NAME.c`) match at least
#    one tracked file; directories (`probes/`) exist.
# Prints PASS/FAIL per check; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.."
REFVMM=${REFVMM:-bin/refvmm}
VTB=${VTBENCH:-bin/vtbench}
[ -x "$REFVMM" ] && [ -x "$VTB" ] || { echo "docs_check: build first (make)"; exit 1; }
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

re='[Ii]ssues? #?[0-9]+'
if hits=$(grep -nE "$re" README.md docs/*.md); then
  fail "documents name issue numbers:"; echo "$hits" | sed 's/^/    /'
else pass "no document names an issue number"; fi

help=$("$REFVMM" --help 2>&1; "$VTB" --help 2>&1)
for c in $("$VTB" --help 2>&1 | awk '/^  [a-z]/ {print $1}'); do
  help+=$'\n'$("$VTB" "$c" --help 2>&1 </dev/null)
done
if hits=$(grep -E "$re" <<<"$help"); then
  fail "--help texts name issue numbers:"; echo "$hits" | sed 's/^/    /'
else pass "no --help text names an issue number"; fi

if missing=$(git ls-files >/tmp/docs_check.$$ 2>/dev/null && python3 - /tmp/docs_check.$$ <<'PY'
import fnmatch, os, re, sys
tracked = set(open(sys.argv[1]).read().split('\n')) - {''}
dirs = {os.path.dirname(f) for f in tracked}
for f in list(dirs):
    while f:
        f = os.path.dirname(f); dirs.add(f)
def exists(p):
    p = p.replace('NAME', '*')
    if p.endswith('/'):
        return p.rstrip('/') in dirs
    if '*' in p or '?' in p:
        return any(fnmatch.fnmatch(t, p) for t in tracked)
    return p in tracked
def expand(tok):  # x.{c,h} -> x.c, x.h
    m = re.match(r'^(.*)\{([^}]*)\}(.*)$', tok)
    return [m.group(1) + a + m.group(3) for a in m.group(2).split(',')] if m else [tok]
bad = []
def anywhere(p):  # a bare name in prose: some tracked file of that name
    p = p.replace('NAME', '*')
    return any(fnmatch.fnmatch(t, '*/' + p) or fnmatch.fnmatch(t, p) for t in tracked) or \
        any(d.endswith('/' + p.rstrip('/')) for d in dirs)
for n, line in enumerate(open('docs/ARCHITECTURE.md'), 1):
    base = ''  # the folder the row's (or sentence's) first path names
    for tok in re.findall(r'`([^`]+)`', line):
        if ' ' in tok or '$(' in tok or tok.startswith('-') or \
                not re.search(r'\.[A-Za-z]{1,4}(\}|$)|/$|\.\{', tok):
            continue  # not a path: a command, a symbol, a word
        for c in expand(tok):
            if exists(c):
                if '/' in c.rstrip('/'):
                    base = c.rstrip('/') if c.endswith('/') else os.path.dirname(c)
                continue
            if base and exists(os.path.join(base, c)):
                continue
            if anywhere(c):  # a path relative to a folder named earlier in the text
                continue
            bad.append('docs/ARCHITECTURE.md:%d: `%s` (%s) is not in the repository' % (n, tok, c))
print('\n'.join(bad))
sys.exit(1 if bad else 0)
PY
); then pass "docs/ARCHITECTURE.md cites only files in the repository"
else fail "docs/ARCHITECTURE.md cites files that are not in the repository:"; echo "$missing" | sed 's/^/    /'; fi
rm -f /tmp/docs_check.$$

echo "docs_check: $failed failed"
[ "$failed" = 0 ]
