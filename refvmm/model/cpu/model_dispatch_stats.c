/* model_dispatch_stats.c - the dispatch histogram (model_dispatch_stats.h);
 * empty unless built with -DMODEL_DISPATCH_STATS. */
#include "model_dispatch_stats.h"

#ifdef MODEL_DISPATCH_STATS
#include <stdio.h>
#include <stdlib.h>

#define NH    256
#define NFORM 0x8000 /* generic forms: op (10 bits) | osz (4) | mod3 */
#define NRIP  (1u << 16)
_Static_assert(NRIP >= NFORM && NRIP >= NH, "the sort buffer holds every list");

static const char *const *hnames;
static unsigned nhnames;
static uint64_t by_handler[NH], lookups_after[NH];
static uint64_t by_form[NFORM];
static struct {
  uint64_t rip, n;
  uint16_t op;
  uint8_t handler, osz, mod3, modrm;
} rips[NRIP];
static uint64_t rips_dropped;

static int cmp_desc(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

static void report(void) {
  uint64_t total = 0;
  for (unsigned i = 0; i < NH; i++)
    total += by_handler[i];
  if (!total) return;
  fprintf(stderr, "dispatch stats: %llu instructions\n", (unsigned long long)total);
  /* handlers, sorted: pairs (count, index) */
  static uint64_t pairs[NRIP * 2]; /* NRIP >= NFORM, NH */
  unsigned n = 0;
  for (unsigned i = 0; i < NH; i++)
    if (by_handler[i]) pairs[2 * n] = by_handler[i], pairs[2 * n + 1] = i, n++;
  qsort(pairs, n, 16, cmp_desc);
  for (unsigned i = 0; i < n; i++)
    fprintf(stderr, "  handler %-16s %14llu %6.2f%%\n",
            pairs[2 * i + 1] < nhnames ? hnames[pairs[2 * i + 1]] : "?",
            (unsigned long long)pairs[2 * i], 100.0 * pairs[2 * i] / total);
  n = 0;
  for (unsigned i = 0; i < NH; i++)
    if (lookups_after[i]) pairs[2 * n] = lookups_after[i], pairs[2 * n + 1] = i, n++;
  qsort(pairs, n, 16, cmp_desc);
  for (unsigned i = 0; i < n && i < 30; i++)
    fprintf(stderr, "  memo miss after %-16s %14llu\n",
            pairs[2 * i + 1] < nhnames ? hnames[pairs[2 * i + 1]] : "?",
            (unsigned long long)pairs[2 * i]);
  n = 0;
  for (unsigned i = 0; i < NFORM; i++)
    if (by_form[i]) pairs[2 * n] = by_form[i], pairs[2 * n + 1] = i, n++;
  qsort(pairs, n, 16, cmp_desc);
  for (unsigned i = 0; i < n && i < 60; i++) {
    unsigned k = (unsigned)pairs[2 * i + 1];
    fprintf(stderr, "  exec op %03x osz %u %s %14llu %6.2f%%\n", k >> 5, (k >> 1) & 15,
            k & 1 ? "reg" : "mem", (unsigned long long)pairs[2 * i], 100.0 * pairs[2 * i] / total);
  }
  n = 0;
  for (unsigned i = 0; i < NRIP; i++)
    if (rips[i].n) pairs[2 * n] = rips[i].n, pairs[2 * n + 1] = i, n++;
  qsort(pairs, n, 16, cmp_desc);
  for (unsigned pass = 0; pass < 2; pass++) /* all, then those exec() ran */
    for (unsigned i = 0, shown = 0; i < n && shown < 100; i++) {
      unsigned k = (unsigned)pairs[2 * i + 1];
      if (pass && rips[k].handler) continue;
      shown++;
      fprintf(stderr, "  %s %016llx %12llu op %03x modrm %02x osz %u %s %s\n",
              pass ? "exec-rip" : "rip", (unsigned long long)rips[k].rip,
              (unsigned long long)rips[k].n, rips[k].op, rips[k].modrm, rips[k].osz,
              rips[k].mod3 ? "reg" : "mem",
              rips[k].handler < nhnames ? hnames[rips[k].handler] : "?");
    }
  fprintf(stderr, "  rips not tracked: %llu\n", (unsigned long long)rips_dropped);
}

void model_dispatch_stats__names(const char *const *names, unsigned n) {
  if (!hnames) atexit(report);
  hnames = names;
  nhnames = n;
}

void model_dispatch_stats__lookup(const struct model_icache_entry *prev) {
  lookups_after[prev->handler]++;
}

void model_dispatch_stats__count(const struct model_icache_entry *e) {
  const struct model_insn *d = &e->insn;
  by_handler[e->handler]++;
  if (!e->handler) by_form[((d->op & 0x3ff) << 5) | ((d->osz & 15) << 1) | (d->mod3 & 1)]++;
  uint64_t rip = e->rip;
  unsigned h = (unsigned)((rip * 0x9e3779b97f4a7c15ull) >> 48) & (NRIP - 1);
  for (unsigned p = 0; p < 64; p++, h = (h + 1) & (NRIP - 1)) {
    if (rips[h].n && rips[h].rip != rip) continue;
    if (!rips[h].n) {
      rips[h].rip = rip;
      rips[h].op = d->op;
      rips[h].handler = e->handler;
      rips[h].osz = d->osz;
      rips[h].mod3 = d->mod3;
      rips[h].modrm = d->modrm;
    }
    rips[h].n++;
    return;
  }
  rips_dropped++;
}
#else
typedef int model_dispatch_stats_empty; /* ISO C: a translation unit is not empty */
#endif
