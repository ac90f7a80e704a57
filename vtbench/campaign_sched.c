/* campaign_sched.c - `vtbench campaign slurm` and `vtbench campaign
 * parallel` (campaign_sched.h).
 *
 * Slurm: two batch scripts are written under DIR/SITE/sbatch/ (what each
 * task runs is readable there) and submitted with sbatch: the shards as an
 * array (--array=LIST, task I runs `vtbench campaign shard DIR I`), then
 * the merge and report as one job with --dependency=afterany:ARRAY (it
 * runs whatever the tasks did and refuses an incomplete set, naming the
 * shards, unless --allow-incomplete) or afterok:ARRAY with
 * --kill-on-invalid-dep=yes (Slurm cancels it when a task fails). Every
 * submission is appended to DIR/SITE/sbatch/submissions.json.
 *
 * GNU parallel runs the same task command, one job per shard, over local
 * job slots (-j, default 1: shards that run side by side on one host
 * disturb each other's timings) or ssh logins (--sshlogin, --ssh), with a
 * joblog under DIR/SITE/logs/; then the merge and the report run here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "campaign_sched.h"
#include "cli_num.h"
#include "commands.h"
#include "msg.h"
#include "spawn.h"

/* What the two schedulers' command lines share. */
struct sched_opts {
  struct campaign c;
  const char *site, *only;
  bool allow, no_merge, dry_run, loaded;
  bool *sel; /* the shards to run: sel[1..N] */
  char list[1024];
};

static int finish_opts(struct sched_opts *s, int argc, char **argv, const char *action) {
  char err[1024];
  if (optind >= argc) {
    msg__error("%s: which campaign directory?", action);
    return VTB_EXIT_USAGE;
  }
  if (optind < argc - 1) {
    msg__error("%s: one directory, got '%s' too (options for the scheduler go after --)", action,
               argv[optind + 1]);
    return VTB_EXIT_USAGE;
  }
  if (campaign__check_site(s->site, err, sizeof(err))) {
    msg__error("--site: %s", err);
    return VTB_EXIT_USAGE;
  }
  if (campaign__load(&s->c, argv[optind], err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_USAGE;
  }
  s->loaded = true;
  s->sel = calloc(s->c.shards + 1, sizeof(*s->sel));
  if (!s->sel) return VTB_EXIT_FAILED;
  if (s->only) {
    if (campaign__parse_list(s->only, s->c.shards, s->sel, err, sizeof(err))) {
      msg__error("--only: %s", err);
      return VTB_EXIT_USAGE;
    }
  } else {
    for (unsigned i = 1; i <= s->c.shards; i++)
      s->sel[i] = true;
  }
  campaign__list_str(s->sel, s->c.shards, s->list, sizeof(s->list));
  if (!s->dry_run && campaign__make_site(&s->c, s->site, err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  return -1;
}

static void free_opts(struct sched_opts *s) {
  if (s->loaded) campaign__free(&s->c);
  free(s->sel);
}

/* s in single quotes for a shell script. */
static void shq(const char *s, char *buf, size_t len) {
  size_t o = 0;
  if (len < 3) return;
  buf[o++] = '\'';
  for (; *s && o + 5 < len; s++) {
    if (*s == '\'') {
      memcpy(buf + o, "'\\''", 4);
      o += 4;
    } else {
      buf[o++] = *s;
    }
  }
  buf[o++] = '\'';
  buf[o] = '\0';
}

/* ---- Slurm -------------------------------------------------------------------------- */

static int write_text(const char *path, const char *text) {
  struct atomic_file af;
  FILE *f = atomic_file__open(&af, path);
  if (f) fputs(text, f);
  if (!f || atomic_file__commit(&af)) {
    msg__error("%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* sbatch ARGS: the job id it printed (--parsable: "ID" or "ID;CLUSTER"),
 * or -1 after printing why. */
static long sbatch(const char *const *argv) {
  struct spawn_opts o = {.argv = argv, .search_path = true, .capture = true};
  struct spawn_result r;
  long id = -1;
  if (spawn__run(&o, &r)) {
    msg__error("cannot run sbatch: %s (Slurm's client: Debian package slurm-client)",
               strerror(r.error));
    return -1;
  }
  char how[96];
  if (r.how == SPAWN_EXITED && r.code == 0 && r.out) {
    char *end;
    id = strtol(r.out, &end, 10);
    if (end == r.out || (*end && *end != ';' && *end != '\n')) id = -1;
  }
  if (id < 0)
    msg__error("sbatch %s: %s%s%s", argv[1], spawn__describe(&r, how, sizeof(how)),
               r.err && *r.err ? ": " : "", r.err ? r.err : "");
  spawn__result_free(&r);
  return id;
}

int campaign__cmd_slurm(int argc, char **argv) {
  static const struct option opts[] = {{"site", required_argument, NULL, 's'},
                                       {"only", required_argument, NULL, 'O'},
                                       {"merge-after", required_argument, NULL, 'a'},
                                       {"allow-incomplete", no_argument, NULL, 'A'},
                                       {"no-merge", no_argument, NULL, 'n'},
                                       {"dry-run", no_argument, NULL, 'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  struct sched_opts s = {.site = CAMPAIGN_DEFAULT_SITE};
  const char *after = "any";
  /* sbatch's own options follow "--" */
  int own = argc;
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--")) {
      own = i;
      break;
    }
  int c, rc = VTB_EXIT_USAGE;
  optind = 1;
  while ((c = getopt_long(own, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      s.site = optarg;
      break;
    case 'O':
      s.only = optarg;
      break;
    case 'a':
      after = optarg;
      break;
    case 'A':
      s.allow = true;
      break;
    case 'n':
      s.no_merge = true;
      break;
    case 'd':
      s.dry_run = true;
      break;
    case 'h':
      fprintf(stdout, "usage: vtbench campaign slurm DIR [--site S] [--only LIST] [--merge-after "
                      "any|ok] [--allow-incomplete] [--no-merge] [--dry-run] [-- SBATCH-OPTIONS]\n"
                      "  (vtbench campaign --help)\n");
      return VTB_EXIT_OK;
    default:
      return VTB_EXIT_USAGE;
    }
  }
  if (strcmp(after, "any") && strcmp(after, "ok")) {
    msg__error("--merge-after %s: expected any (merge whatever the tasks did; an incomplete set is "
               "refused unless --allow-incomplete) or ok (only when every task succeeded)",
               after);
    return VTB_EXIT_USAGE;
  }
  if ((rc = finish_opts(&s, own, argv, "slurm")) != -1) goto out;
  rc = VTB_EXIT_IO;

  char self[PATH_MAX], dir[PATH_MAX + 128], q_self[3 * PATH_MAX], q_dir[3 * PATH_MAX];
  char q_site[3 * CAMPAIGN_SITE_MAX], shard_sh[PATH_MAX + 256], merge_sh[PATH_MAX + 256];
  if (campaign__self(self, sizeof(self))) {
    msg__error("cannot find this vtbench's executable (/proc/self/exe)");
    goto out;
  }
  snprintf(dir, sizeof(dir), "%s/%s/sbatch", s.c.dir, s.site);
  if (!s.dry_run && mkdir(dir, 0755) && errno != EEXIST) {
    msg__error("%s: cannot create: %s", dir, strerror(errno));
    goto out;
  }
  shq(self, q_self, sizeof(q_self));
  shq(s.c.dir, q_dir, sizeof(q_dir));
  shq(s.site, q_site, sizeof(q_site));
  snprintf(shard_sh, sizeof(shard_sh), "%s/shard.sbatch", dir);
  snprintf(merge_sh, sizeof(merge_sh), "%s/merge.sbatch", dir);
  char *text = NULL, *mtext = NULL;
  size_t tlen, mlen;
  FILE *t = open_memstream(&text, &tlen), *m = open_memstream(&mtext, &mlen);
  if (t)
    fprintf(t,
            "#!/bin/bash\n"
            "# One task of a vtbench campaign (written by vtbench campaign slurm): array task I\n"
            "# runs shard I/%u of %s at site %s; it resumes the shard's document when an\n"
            "# earlier attempt left one.\n"
            "#SBATCH --job-name=vtb-%s\n"
            "#SBATCH --output=%s/%s/logs/slurm-%%A_%%a.out\n"
            "exec %s campaign shard %s --site %s \"$SLURM_ARRAY_TASK_ID\"\n",
            s.c.shards, s.c.dir, s.site, s.site, s.c.dir, s.site, q_self, q_dir, q_site);
  if (m)
    fprintf(m,
            "#!/bin/bash\n"
            "# The merge of a vtbench campaign's site (written by vtbench campaign slurm): runs\n"
            "# after the shards' array job, merges the site's shards into %s/%s/merged-%s.json\n"
            "# (an incomplete set is %s) and writes the campaign's report.\n"
            "#SBATCH --job-name=vtb-%s-merge\n"
            "#SBATCH --output=%s/%s/logs/slurm-merge-%%j.out\n"
            "%s campaign merge %s --site %s%s || exit\n"
            "exec %s campaign report %s\n",
            s.c.dir, s.site, s.site,
            s.allow ? "merged anyway, marked incomplete" : "refused, naming each shard", s.site,
            s.c.dir, s.site, q_self, q_dir, q_site, s.allow ? " --allow-incomplete" : "", q_self,
            q_dir);
  bool ok = t && m;
  if (t) ok &= !fclose(t);
  if (m) ok &= !fclose(m);
  if (!ok) {
    msg__error("out of memory");
  } else if (s.dry_run) {
    printf("# %s\n%s\n# %s\n%s", shard_sh, text, merge_sh, mtext);
  } else if (write_text(shard_sh, text) || write_text(merge_sh, mtext)) {
    ok = false;
  }
  free(text);
  free(mtext);
  if (!ok) goto out;

  int nx = argc - own - (own < argc);
  const char **av = calloc((size_t)nx + 12, sizeof(*av));
  if (!av) goto out;
  char array[1100], dep[64], name[CAMPAIGN_SITE_MAX + 16];
  snprintf(array, sizeof(array), "--array=%s", s.list);
  size_t n = 0;
  av[n++] = "sbatch";
  av[n++] = "--parsable";
  av[n++] = array;
  for (int i = own + 1; i < argc; i++)
    av[n++] = argv[i];
  av[n++] = shard_sh;
  if (s.dry_run) {
    printf("# submit:\n");
    for (size_t i = 0; i < n; i++)
      printf("%s%s", i ? " " : "", av[i]);
    printf("\n");
    if (!s.no_merge) {
      printf("sbatch --parsable --dependency=after%s:ARRAY_JOB%s", after,
             strcmp(after, "ok") ? "" : " --kill-on-invalid-dep=yes");
      for (int i = own + 1; i < argc; i++)
        printf(" %s", argv[i]);
      printf(" %s\n", merge_sh);
    }
    free(av);
    rc = VTB_EXIT_OK;
    goto out;
  }
  long job = sbatch(av);
  if (job < 0) {
    free(av);
    rc = VTB_EXIT_FAILED;
    goto out;
  }
  printf("vtbench campaign: site %s: shards %s (of %u) submitted as Slurm array job %ld (%s)\n",
         s.site, s.list, s.c.shards, job, shard_sh);
  long mjob = -1;
  if (!s.no_merge) {
    snprintf(dep, sizeof(dep), "--dependency=after%s:%ld", after, job);
    snprintf(name, sizeof(name), "%s", s.site);
    n = 0;
    av[n++] = "sbatch";
    av[n++] = "--parsable";
    av[n++] = dep;
    if (!strcmp(after, "ok")) av[n++] = "--kill-on-invalid-dep=yes";
    for (int i = own + 1; i < argc; i++)
      av[n++] = argv[i];
    av[n++] = merge_sh;
    av[n] = NULL;
    mjob = sbatch(av);
    if (mjob < 0) {
      msg__error("site %s: the shards run (array job %ld) but the merge was not submitted: merge "
                 "them when they end (vtbench campaign merge %s --site %s)",
                 s.site, job, s.c.dir, s.site);
    } else {
      printf("vtbench campaign: site %s: merge and report as job %ld (%s), after the array ends "
             "(%s)\n",
             s.site, mjob, merge_sh, dep + 2);
    }
  }
  free(av);
  printf("  follow it: squeue; vtbench campaign status %s\n", s.c.dir);

  /* the submission, for the record */
  char rec_path[PATH_MAX + 256], now[32], err[1024];
  snprintf(rec_path, sizeof(rec_path), "%s/submissions.json", dir);
  json_t *recs = json_load_file(rec_path, 0, NULL);
  if (!json_is_array(recs)) {
    json_decref(recs);
    recs = json_array();
  }
  campaign__now(now, sizeof(now));
  json_t *sb = json_array();
  for (int i = own + 1; i < argc; i++)
    json_array_append_new(sb, json_string(argv[i]));
  json_array_append_new(recs,
                        json_pack("{s:s,s:s,s:I,s:I,s:s,s:o}", "submitted", now, "shards", s.list,
                                  "array_job", (json_int_t)job, "merge_job", (json_int_t)mjob,
                                  "merge_after", after, "sbatch_options", sb));
  if (campaign__write_json(recs, rec_path, err, sizeof(err))) msg__note("%s", err);
  json_decref(recs);
  rc = s.no_merge || mjob >= 0 ? VTB_EXIT_OK : VTB_EXIT_FAILED;
out:
  free_opts(&s);
  return rc;
}

/* ---- GNU parallel --------------------------------------------------------------------- */

int campaign__cmd_parallel(int argc, char **argv) {
  static const struct option opts[] = {
      {"site", required_argument, NULL, 's'}, {"only", required_argument, NULL, 'O'},
      {"jobs", required_argument, NULL, 'j'}, {"sshlogin", required_argument, NULL, 'S'},
      {"ssh", required_argument, NULL, 'x'},  {"allow-incomplete", no_argument, NULL, 'A'},
      {"no-merge", no_argument, NULL, 'n'},   {"dry-run", no_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},       {0}};
  struct sched_opts s = {.site = CAMPAIGN_DEFAULT_SITE};
  const char *jobs = NULL, *ssh = NULL, **logins = calloc((size_t)argc + 1, sizeof(*logins));
  size_t nlogins = 0;
  long jv;
  int c, rc = VTB_EXIT_USAGE;
  if (!logins) return VTB_EXIT_FAILED;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hj:S:", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      s.site = optarg;
      break;
    case 'O':
      s.only = optarg;
      break;
    case 'j':
      if (cli__count("jobs", optarg, 1, 4096, &jv)) goto out;
      jobs = optarg;
      break;
    case 'S':
      logins[nlogins++] = optarg;
      break;
    case 'x':
      ssh = optarg;
      break;
    case 'A':
      s.allow = true;
      break;
    case 'n':
      s.no_merge = true;
      break;
    case 'd':
      s.dry_run = true;
      break;
    case 'h':
      fprintf(stdout, "usage: vtbench campaign parallel DIR [--site S] [--only LIST] [-j N] "
                      "[--sshlogin LOGINS]... [--ssh CMD] [--allow-incomplete] [--no-merge] "
                      "[--dry-run]\n  (vtbench campaign --help)\n");
      rc = VTB_EXIT_OK;
      goto out;
    default:
      goto out;
    }
  }
  if ((rc = finish_opts(&s, argc, argv, "parallel")) != -1) goto out;
  rc = VTB_EXIT_FAILED;
  char self[PATH_MAX], joblog[PATH_MAX + 128], now[32];
  if (campaign__self(self, sizeof(self))) {
    msg__error("cannot find this vtbench's executable (/proc/self/exe)");
    goto out;
  }
  campaign__now(now, sizeof(now));
  snprintf(joblog, sizeof(joblog), "%s/%s/logs/parallel-%s.joblog", s.c.dir, s.site, now);
  size_t cap = 24 + 2 * nlogins + s.c.shards;
  const char **av = calloc(cap, sizeof(*av));
  char(*nums)[12] = calloc(s.c.shards + 1, sizeof(*nums));
  if (!av || !nums) {
    free(av);
    free(nums);
    goto out;
  }
  size_t n = 0;
  av[n++] = "parallel";
  av[n++] = "--will-cite";
  av[n++] = "--quote"; /* the command's words are passed as they are, also over ssh */
  av[n++] = "--joblog";
  av[n++] = joblog;
  if (jobs || !nlogins) {
    av[n++] = "-j";
    av[n++] = jobs ? jobs : "1";
  }
  for (size_t i = 0; i < nlogins; i++) {
    av[n++] = "--sshlogin";
    av[n++] = logins[i];
  }
  if (ssh) {
    av[n++] = "--ssh";
    av[n++] = ssh;
  }
  av[n++] = self;
  av[n++] = "campaign";
  av[n++] = "shard";
  av[n++] = s.c.dir;
  av[n++] = "--site";
  av[n++] = s.site;
  av[n++] = "{}";
  av[n++] = ":::";
  for (unsigned i = 1; i <= s.c.shards; i++)
    if (s.sel[i]) {
      snprintf(nums[i], sizeof(nums[i]), "%u", i);
      av[n++] = nums[i];
    }
  if (s.dry_run) {
    for (size_t i = 0; i < n; i++)
      printf("%s%s", i ? " " : "", av[i]);
    printf("\n");
    free(av);
    free(nums);
    rc = VTB_EXIT_OK;
    goto out;
  }
  printf("vtbench campaign: site %s: shards %s (of %u) through GNU parallel (%s; joblog %s)\n",
         s.site, s.list, s.c.shards, nlogins ? "ssh logins" : "local job slots", joblog);
  fflush(stdout);
  struct spawn_opts so = {.argv = av, .search_path = true};
  struct spawn_result r;
  spawn__catch_signals();
  int started = spawn__run(&so, &r);
  spawn__restore_signals();
  free(av);
  free(nums);
  if (started) {
    msg__error("cannot run parallel: %s (GNU parallel: Debian package parallel)",
               strerror(r.error));
    goto out;
  }
  char how[96];
  spawn__describe(&r, how, sizeof(how));
  bool interrupted = r.interrupted, counted = r.how == SPAWN_EXITED && r.code < 101;
  int pstatus = r.status;
  spawn__result_free(&r);
  if (pstatus)
    msg__error("site %s: GNU parallel ended with %s (%s)", s.site, how,
               counted ? "that many shards failed" : "see above");
  if (interrupted) {
    msg__error("interrupted: the shards keep what they finished; run them again with vtbench "
               "campaign parallel %s --site %s",
               s.c.dir, s.site);
    rc = VTB_EXIT_INTERRUPTED;
    goto out;
  }
  if (s.no_merge) {
    rc = pstatus ? VTB_EXIT_FAILED : VTB_EXIT_OK;
    goto out;
  }
  rc = campaign__merge_site(&s.c, s.site, s.allow);
  if (rc == VTB_EXIT_OK) rc = campaign__report(&s.c, NULL, NULL, NULL);
out:
  free(logins);
  free_opts(&s);
  return rc;
}
