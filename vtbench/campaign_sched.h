/* campaign_sched.h - the schedulers a campaign's shards run under:
 * `vtbench campaign slurm` (a job array, one task per shard, and the merge
 * as a job that depends on it) and `vtbench campaign parallel` (GNU
 * parallel over local job slots or ssh logins, then the merge); and what
 * both share with cmd_campaign.c. */
#ifndef VTBENCH_CAMPAIGN_SCHED_H
#define VTBENCH_CAMPAIGN_SCHED_H

#include <stdbool.h>

#include "campaign.h"

int campaign__cmd_slurm(int argc, char **argv);
int campaign__cmd_parallel(int argc, char **argv);

/* cmd_campaign.c: `vtbench ARGS...` (this executable), output passed
 * through; its exit status. */
int campaign__vtbench(const char *const *args);
/* Merge a site's shards into DIR/SITE/merged.json: refused (exit 6, each
 * shard that is not complete named) unless allow_incomplete. */
int campaign__merge_site(const struct campaign *c, const char *site, bool allow_incomplete);
/* vtbench report of site a's merged document (NULL: the first merged
 * site) compared with site b's (NULL: the next merged site, if any) into
 * out (NULL: DIR/report). */
int campaign__report(const struct campaign *c, const char *a, const char *b, const char *out);

#endif
