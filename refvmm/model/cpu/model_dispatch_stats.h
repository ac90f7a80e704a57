/* model_dispatch_stats.h - a debug histogram of the threaded dispatch
 * (model_dispatch.c): how many instructions each specialised handler ran,
 * which opcode forms fell back to exec(), the hottest guest RIPs and, by the
 * handler of the entry before, the cache lookups the next-entry memo missed, printed
 * to stderr when the process exits. What a speed change should target.
 *
 * Compiled in only with -DMODEL_DISPATCH_STATS (make
 * CFLAGS="-O2 -g -DMODEL_DISPATCH_STATS" PGO=0): without it the hooks are
 * empty macros and the run loop is unchanged. Not thread-safe (one vCPU). */
#ifndef REFVMM_MODEL_DISPATCH_STATS_H
#define REFVMM_MODEL_DISPATCH_STATS_H

#ifdef MODEL_DISPATCH_STATS
#include "model_cpu.h"
void model_dispatch_stats__count(const struct model_icache_entry *e);
void model_dispatch_stats__names(const char *const *names, unsigned n);
void model_dispatch_stats__lookup(const struct model_icache_entry *prev);
#define DSTAT_COUNT(e)        model_dispatch_stats__count(e)
#define DSTAT_LOOKUP(prev)    model_dispatch_stats__lookup(prev)
#define DSTAT_NAMES(names, n) model_dispatch_stats__names(names, n)
#else
#define DSTAT_COUNT(e)        ((void)0)
#define DSTAT_LOOKUP(prev)    ((void)0)
#define DSTAT_NAMES(names, n) ((void)0)
#endif

#endif
