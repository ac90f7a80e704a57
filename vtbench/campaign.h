/* campaign.h - a measurement campaign: one matrix cut into N shards, run by
 * a scheduler (a Slurm job array, GNU parallel over local job slots or ssh
 * logins) at one or more sites, and merged per site.
 *
 * A site is a set of alike hosts that runs the whole matrix: every shard of
 * a site is cut from the same configurations, and the savings pairs of a
 * merged document compare configurations measured on one kind of host.
 * Two sites (two machines, two kernels) are compared by the report of the
 * campaign (vtbench report A --compare B).
 *
 * The campaign directory, shared by every host that runs a task (on a
 * cluster: a shared file system):
 *
 *   DIR/campaign.json            shards N and vtbench run's options
 *   DIR/matrix.json              the matrix file, copied (what tasks read)
 *   DIR/SITE/shards/shard-I.json shard I/N as vtbench run writes it: atomically
 *                                after every run, locked while written
 *   DIR/SITE/tasks/shard-I.json  every attempt at shard I: host, times, exit
 *   DIR/SITE/logs/shard-I.K.log  attempt K's output
 *   DIR/SITE/merged-SITE.json    the site's shards merged (vtbench merge)
 *   DIR/report/                  the campaign's report
 *
 * A task (campaign__run_shard) resumes the shard's document when one is
 * there, so a failed or killed shard is run again alone and keeps every
 * run it finished. */
#ifndef VTBENCH_CAMPAIGN_H
#define VTBENCH_CAMPAIGN_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define CAMPAIGN_SHARDS_MAX   10000
#define CAMPAIGN_SITE_MAX     64 /* bytes of a site's name, with its NUL */
#define CAMPAIGN_DEFAULT_SITE "default"

struct campaign {
  char dir[PATH_MAX]; /* absolute */
  unsigned shards;
  json_t *matrix_args; /* strings: vtbench run's options that make the matrix (--matrix...) */
  json_t *run_args;    /* strings: its other options (--timeout, --cpu, ...) */
};

/* Load DIR/campaign.json. 0, or -1 with a message naming the file. */
int campaign__load(struct campaign *c, const char *dir, char *err, size_t len);
void campaign__free(struct campaign *c);

/* A site's name is a path component: [A-Za-z0-9][A-Za-z0-9._-]*, below
 * CAMPAIGN_SITE_MAX bytes, not "report". 0, or -1 with the reason. */
int campaign__check_site(const char *site, char *err, size_t len);
/* The sites of the campaign (directories holding shards/ or tasks/), sorted
 * by name, as a new array of strings. */
json_t *campaign__sites(const struct campaign *c);

/* DIR/SITE/shards/shard-I.json, DIR/SITE/tasks/shard-I.json,
 * DIR/SITE/merged-SITE.json (named after the site: reports label documents
 * by file name). */
void campaign__shard_doc(const struct campaign *c, const char *site, unsigned i, char *buf,
                         size_t len);
void campaign__task_file(const struct campaign *c, const char *site, unsigned i, char *buf,
                         size_t len);
void campaign__merged_doc(const struct campaign *c, const char *site, char *buf, size_t len);
/* mkdir -p DIR/SITE/{shards,tasks,logs}. 0, or -1 with the reason. */
int campaign__make_site(const struct campaign *c, const char *site, char *err, size_t len);

/* A shard list "1-3,5" (Slurm's --array syntax without steps) into sel[1..n]
 * (sel has n + 1 entries). 0, or -1 with the reason. */
int campaign__parse_list(const char *s, unsigned n, bool *sel, char *err, size_t len);
/* sel[1..n] back into the shortest such list ("1-3,5"). */
void campaign__list_str(const bool *sel, unsigned n, char *buf, size_t len);

/* ---- the state of one shard ------------------------------------------------ */

enum shard_state {
  SHARD_NOT_RUN,  /* no document, no attempt */
  SHARD_RUNNING,  /* its document is being written (the output's lock is held) */
  SHARD_COMPLETE, /* the document is complete (some of its runs may have failed) */
  SHARD_PARTIAL,  /* a document holding some runs, incomplete: interrupted or killed */
  SHARD_FAILED,   /* attempts ended without a document */
};

struct shard_info {
  unsigned i, n;
  enum shard_state state;
  bool have_doc;
  char doc_status[16];   /* the document's session.status */
  size_t runs, runs_bad; /* runs in the document; those not "ok" */
  long long jobs_total;  /* session.jobs_total (runs the shard will hold), -1 unknown */
  unsigned attempts;
  /* the last attempt, from the task record */
  bool ended;         /* it recorded its end */
  int exit_status;    /* as a shell shows it; -1 when it did not end */
  char how[96];       /* "exit 0", "killed by SIGKILL", ... */
  char host[128];     /* where it ran */
  char started[32];   /* ISO 8601 UTC */
  char log[PATH_MAX]; /* its output */
  char sched[128];    /* "slurm job 12_3", "parallel job 3", or "" */
};

/* Classify from what is on disk: the document's envelope and run counts,
 * whether its lock is held, the task record (NULL: none). Pure apart from
 * its inputs, for the tests. */
void campaign__classify(struct shard_info *s, const json_t *doc_env, bool locked,
                        const json_t *record);
/* Read shard i of a site from disk into s. 0, or -1 when the document
 * exists and cannot be read (the message in err). */
int campaign__shard_info(const struct campaign *c, const char *site, unsigned i,
                         struct shard_info *s, char *err, size_t len);
/* One line: "shard 2/4: interrupted after 5 of 12 runs (killed by SIGKILL on vm,
 * attempt 1, slurm job 7_2; log DIR/...)". */
void campaign__describe(const struct shard_info *s, char *buf, size_t len);
const char *campaign__state_name(enum shard_state st);

/* ---- the hosts of a site -------------------------------------------------- */

/* What makes two hosts give different figures: host name, CPU model, kernel
 * release, KVM flavour and paging/TLB modes, from a document's context, as
 * "vm: AMD EPYC 7B13, kernel 6.1.0, kvm_pvm shadow/flush". */
void campaign__host_of(const json_t *context, char *buf, size_t len);

/* ---- a task: one attempt at one shard -------------------------------------- */

/* Run shard i of the site: `vtbench run OPTIONS --shard I/N -o DOC`, with
 * --resume when DOC holds runs already (nothing when it is complete),
 * recording the attempt in the task file and its output in a log. The exit
 * status (vtbench run's; 128 + signal when it was killed). */
int campaign__run_shard(const struct campaign *c, const char *site, unsigned i);

/* The time now as ISO 8601 UTC. */
void campaign__now(char *buf, size_t len);
/* Write j to path atomically. 0, or -1 with the reason. */
int campaign__write_json(const json_t *j, const char *path, char *err, size_t len);
/* This vtbench's executable (/proc/self/exe) into buf. 0 or -1. */
int campaign__self(char *buf, size_t len);

#endif
