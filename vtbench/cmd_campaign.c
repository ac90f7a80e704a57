/* cmd_campaign.c - `vtbench campaign ACTION`: a matrix cut into shards and
 * run by a scheduler, under a campaign directory (campaign.h):
 *
 *   init DIR --shards N MATRIX-OPTIONS   create the campaign
 *   slurm DIR [--site S] [--only LIST]   a Slurm job array + a dependent merge job
 *   parallel DIR [--site S] [-j N | --sshlogin L]  GNU parallel, then the merge
 *   shard DIR [--site S] I               one attempt at shard I (what the tasks run)
 *   status DIR                           every shard of every site, by name
 *   merge DIR [--site S] [--allow-incomplete]  a site's shards into SITE/merged-SITE.json
 *   report DIR                           the report of the sites (two compared)
 *
 * The scheduler glue is in campaign_sched.c, one attempt in campaign_task.c.
 * Children (vtbench run, merge, report, sbatch, parallel) go through spawn.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign.h"
#include "campaign_sched.h"
#include "cli_num.h"
#include "commands.h"
#include "doc_stream.h"
#include "msg.h"
#include "spawn.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench campaign ACTION DIR [OPTIONS]\n"
          "  init DIR --shards N [--matrix FILE | --quick] [--backends L] [--workloads L]\n"
          "           [--modes L] [--reps N] [--warmup N] [--model-reps N] [--timeout SEC]\n"
          "           [--cpu N] [--baseline MODE] [--allow-host-reconfig]\n"
          "      a campaign: the matrix (vtbench run's options) cut into N shards\n"
          "  slurm DIR [--site S] [--only LIST] [--merge-after any|ok] [--allow-incomplete]\n"
          "            [--no-merge] [--dry-run] [-- SBATCH-OPTIONS...]\n"
          "      submits the shards as a Slurm job array (sbatch --array) and the merge\n"
          "      as a job that depends on it\n"
          "  parallel DIR [--site S] [--only LIST] [-j N] [--sshlogin LOGINS]... [--ssh CMD]\n"
          "               [--allow-incomplete] [--no-merge] [--dry-run]\n"
          "      runs the shards through GNU parallel (local job slots, default 1, or ssh\n"
          "      logins), then merges them\n"
          "  status DIR [--site S]       what every shard did (exit 1 while not all complete)\n"
          "  merge DIR [--site S] [--allow-incomplete]\n"
          "      a site's shards into DIR/SITE/merged-SITE.json; refuses an incomplete set\n"
          "      (exit 6, naming each shard) unless --allow-incomplete\n"
          "  report DIR [--site A] [--compare-site B] [-o OUT]\n"
          "      vtbench report of a site's merged document (default DIR/report), with\n"
          "      --compare when the campaign has a second site\n"
          "  shard DIR [--site S] I      one attempt at shard I (what the scheduler runs);\n"
          "      resumes the shard's document when an earlier attempt left one\n"
          "  A site (default \"%s\") is a set of alike hosts that runs the whole matrix;\n"
          "  DIR must be at the same path on every host that runs a shard (docs/MATRIX.md,\n"
          "  \"Campaigns\").\n",
          CAMPAIGN_DEFAULT_SITE);
}

/* Run `vtbench ARGS...` (this executable) with stdout and stderr passed
 * through. Its exit status (128 + signal when killed). */
int campaign__vtbench(const char *const *args) {
  char self[PATH_MAX];
  if (campaign__self(self, sizeof(self))) {
    msg__error("cannot find this vtbench's executable (/proc/self/exe): %s", strerror(errno));
    return VTB_EXIT_IO;
  }
  size_t n = 0;
  while (args[n])
    n++;
  const char **argv = calloc(n + 2, sizeof(*argv));
  if (!argv) return VTB_EXIT_FAILED;
  argv[0] = self;
  memcpy(argv + 1, args, n * sizeof(*argv));
  struct spawn_opts o = {.argv = argv};
  struct spawn_result r;
  fflush(stdout);
  int rc;
  if (spawn__run(&o, &r)) {
    msg__error("cannot run %s %s: %s", self, args[0], strerror(r.error));
    rc = VTB_EXIT_IO;
  } else {
    rc = r.status;
  }
  spawn__result_free(&r);
  free(argv);
  return rc;
}

/* ---- init -------------------------------------------------------------------------- */

static int copy_file(const char *from, const char *to, char *err, size_t len) {
  FILE *in = fopen(from, "rb");
  if (!in) return msg__fail(err, len, "%s: cannot read: %s", from, strerror(errno));
  json_error_t je;
  json_t *j = json_loadf(in, 0, &je);
  fclose(in);
  if (!j)
    return msg__fail(err, len, "%s:%d:%d: not valid JSON: %s", from, je.line, je.column, je.text);
  int rc = campaign__write_json(j, to, err, len);
  json_decref(j);
  return rc;
}

/* The last line of s (without its newline) into buf. */
static void last_line(const char *s, char *buf, size_t len) {
  size_t n = s ? strlen(s) : 0;
  while (n && s[n - 1] == '\n')
    n--;
  size_t b = n;
  while (b && s[b - 1] != '\n')
    b--;
  snprintf(buf, len, "%.*s", (int)(n - b), s ? s + b : "");
}

static int act_init(int argc, char **argv) {
  static const struct option opts[] = {{"shards", required_argument, NULL, 'N'},
                                       {"matrix", required_argument, NULL, 'm'},
                                       {"quick", no_argument, NULL, 'q'},
                                       {"backends", required_argument, NULL, 'B'},
                                       {"workloads", required_argument, NULL, 'W'},
                                       {"modes", required_argument, NULL, 'M'},
                                       {"reps", required_argument, NULL, 'r'},
                                       {"warmup", required_argument, NULL, 'w'},
                                       {"model-reps", required_argument, NULL, 'D'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"cpu", required_argument, NULL, 'c'},
                                       {"baseline", required_argument, NULL, 'b'},
                                       {"allow-host-reconfig", no_argument, NULL, 'H'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  long shards = 0;
  const char *matrix = NULL;
  json_t *margs = json_array(), *rargs = json_array();
  int c, rc = VTB_EXIT_USAGE;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
    const char *name = NULL;
    for (const struct option *o = opts; o->name; o++)
      if (o->val == c) name = o->name;
    switch (c) {
    case 'N':
      if (cli__count("shards", optarg, 1, CAMPAIGN_SHARDS_MAX, &shards)) goto out;
      break;
    case 'm':
      matrix = optarg;
      break;
    case 'q':
      json_array_append_new(margs, json_string("--quick"));
      break;
    case 'B':
    case 'W':
    case 'M':
    case 'r':
    case 'w':
    case 'D':
      json_array_append_new(margs, json_sprintf("--%s", name));
      json_array_append_new(margs, json_string(optarg));
      break;
    case 't':
    case 'c':
    case 'b':
      json_array_append_new(rargs, json_sprintf("--%s", name));
      json_array_append_new(rargs, json_string(optarg));
      break;
    case 'H':
      json_array_append_new(rargs, json_string("--allow-host-reconfig"));
      break;
    case 'h':
      usage(stdout);
      rc = VTB_EXIT_OK;
      goto out;
    default:
      usage(stderr);
      goto out;
    }
  }
  if (optind >= argc) {
    msg__error("init: which directory? (vtbench campaign init DIR --shards N ...)");
    goto out;
  }
  if (optind < argc - 1) {
    msg__error("init: one directory, got '%s' too", argv[optind + 1]);
    goto out;
  }
  if (!shards) {
    msg__error("init: --shards N is required (how many tasks the matrix is cut into)");
    goto out;
  }
  const char *dir = argv[optind];
  char err[1024], path[PATH_MAX + 64], real[PATH_MAX];
  rc = VTB_EXIT_IO;
  if (mkdir(dir, 0755) && errno != EEXIST) {
    msg__error("%s: cannot create: %s", dir, strerror(errno));
    goto out;
  }
  if (!realpath(dir, real)) {
    msg__error("%s: %s", dir, strerror(errno));
    goto out;
  }
  snprintf(path, sizeof(path), "%s/campaign.json", real);
  if (!access(path, F_OK)) {
    msg__error("%s is a campaign already (%s): run it (vtbench campaign slurm|parallel %s), or "
               "init another directory",
               dir, path, dir);
    rc = VTB_EXIT_EXISTS;
    goto out;
  }
  if (matrix) { /* the tasks, on any host, read the campaign's copy */
    char copy[PATH_MAX + 64];
    snprintf(copy, sizeof(copy), "%s/matrix.json", real);
    if (copy_file(matrix, copy, err, sizeof(err))) {
      msg__error("%s", err);
      rc = VTB_EXIT_USAGE;
      goto out;
    }
    json_array_insert_new(margs, 0, json_string(copy));
    json_array_insert_new(margs, 0, json_string("--matrix"));
  }

  /* vtbench run checks the options and the matrix: --dry-run of the whole
   * matrix, as this host would run it */
  size_t nm = json_array_size(margs), nr = json_array_size(rargs);
  char self[PATH_MAX];
  const char **av = calloc(nm + nr + 4, sizeof(*av));
  if (!av || campaign__self(self, sizeof(self))) {
    msg__error("cannot run vtbench run --dry-run (/proc/self/exe)");
    free(av);
    goto out;
  }
  size_t n = 0;
  av[n++] = self;
  av[n++] = "run";
  for (size_t k = 0; k < nm; k++)
    av[n++] = json_string_value(json_array_get(margs, k));
  for (size_t k = 0; k < nr; k++)
    av[n++] = json_string_value(json_array_get(rargs, k));
  av[n++] = "--dry-run";
  struct spawn_opts so = {.argv = av, .capture = true};
  struct spawn_result r;
  spawn__run(&so, &r);
  free(av);
  char summary[256];
  last_line(r.out, summary, sizeof(summary));
  if (r.how != SPAWN_EXITED || r.code != 0) {
    if (r.err) fputs(r.err, stderr);
    msg__error("init: the matrix and options do not run (vtbench run --dry-run: %s); nothing "
               "written",
               r.how == SPAWN_EXITED ? "exit status above" : "did not run");
    rc = r.how == SPAWN_EXITED && r.code ? r.code : VTB_EXIT_USAGE;
    spawn__result_free(&r);
    if (matrix) {
      snprintf(path, sizeof(path), "%s/matrix.json", real);
      unlink(path);
    }
    goto out;
  }
  if (r.err) fputs(r.err, stderr); /* its notes (a backend this host cannot run) */
  spawn__result_free(&r);

  char cmdline[4096], now[32];
  size_t off = (size_t)snprintf(cmdline, sizeof(cmdline), "vtbench campaign");
  for (int k = 0; k < argc && off < sizeof(cmdline); k++)
    off += (size_t)snprintf(cmdline + off, sizeof(cmdline) - off, " %s", argv[k]);
  campaign__now(now, sizeof(now));
  json_t *j = json_pack("{s:{s:s,s:i},s:I,s:O,s:O,s:s,s:s}", "campaign", "name", "vtbench-campaign",
                        "version", 1, "shards", (json_int_t)shards, "matrix_options", margs,
                        "run_options", rargs, "created", now, "command_line", cmdline);
  snprintf(path, sizeof(path), "%s/campaign.json", real);
  if (!j || campaign__write_json(j, path, err, sizeof(err))) {
    msg__error("%s", j ? err : "out of memory");
    json_decref(j);
    goto out;
  }
  json_decref(j);
  printf("vtbench campaign: %s: %ld shards of %s (this host: %s)\n"
         "  run them: vtbench campaign slurm %s   or   vtbench campaign parallel %s\n",
         real, shards, matrix ? matrix : "the built-in matrix", summary, dir, dir);
  rc = VTB_EXIT_OK;
out:
  json_decref(margs);
  json_decref(rargs);
  return rc;
}

/* ---- options the other actions share ------------------------------------------ */

/* DIR and --site of an action; the rest of its options in getopt's hands. */
struct common {
  struct campaign c;
  const char *site; /* NULL: every site (status, merge) or the default one */
  bool loaded;
};

static int load_common(struct common *k, int argc, char **argv, int first) {
  char err[1024];
  if (first >= argc) {
    msg__error("%s: which campaign directory?", argv[0]);
    return VTB_EXIT_USAGE;
  }
  if (first < argc - 1) {
    msg__error("%s: one directory, got '%s' too", argv[0], argv[first + 1]);
    return VTB_EXIT_USAGE;
  }
  if (k->site && campaign__check_site(k->site, err, sizeof(err))) {
    msg__error("--site: %s", err);
    return VTB_EXIT_USAGE;
  }
  if (campaign__load(&k->c, argv[first], err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_USAGE;
  }
  k->loaded = true;
  return VTB_EXIT_OK;
}

static void free_common(struct common *k) {
  if (k->loaded) campaign__free(&k->c);
}

/* ---- shard ---------------------------------------------------------------------------- */

static int act_shard(int argc, char **argv) {
  static const struct option opts[] = {
      {"site", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0}};
  struct common k = {.site = CAMPAIGN_DEFAULT_SITE};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 's') {
      k.site = optarg;
    } else {
      usage(c == 'h' ? stdout : stderr);
      return c == 'h' ? VTB_EXIT_OK : VTB_EXIT_USAGE;
    }
  }
  if (argc - optind != 2) {
    msg__error("shard: expected DIR and the shard number (vtbench campaign shard DIR I)");
    return VTB_EXIT_USAGE;
  }
  int rc = load_common(&k, argc - 1, argv, optind);
  if (rc) return rc;
  long i;
  if (cli__count("shard", argv[optind + 1], 1, k.c.shards, &i))
    rc = VTB_EXIT_USAGE;
  else
    rc = campaign__run_shard(&k.c, k.site, (unsigned)i);
  free_common(&k);
  return rc;
}

/* ---- status and merge --------------------------------------------------------------- */

/* The shards of a site; nok: how many are complete. NULL out of memory or
 * when a document cannot be read (printed). */
static struct shard_info *site_shards(const struct campaign *c, const char *site, unsigned *nok) {
  struct shard_info *s = calloc(c->shards + 1, sizeof(*s));
  char err[1024];
  *nok = 0;
  for (unsigned i = 1; s && i <= c->shards; i++) {
    if (campaign__shard_info(c, site, i, &s[i], err, sizeof(err))) {
      msg__error("site %s: shard %u/%u: %s", site, i, c->shards, err);
      free(s);
      return NULL;
    }
    *nok += s[i].state == SHARD_COMPLETE;
  }
  return s;
}

/* The sites an action covers: the one given, or every site. */
static json_t *chosen_sites(const struct common *k) {
  if (k->site) return json_pack("[s]", k->site);
  return campaign__sites(&k->c);
}

static void print_resubmit(const struct campaign *c, const char *site, const struct shard_info *s,
                           FILE *f) {
  bool *sel = calloc(c->shards + 1, sizeof(*sel));
  if (!sel) return;
  bool any = false;
  for (unsigned i = 1; i <= c->shards; i++)
    any |= sel[i] = s[i].state != SHARD_COMPLETE && s[i].state != SHARD_RUNNING;
  if (any) {
    char list[1024];
    campaign__list_str(sel, c->shards, list, sizeof(list));
    fprintf(f,
            "  run them again (each resumes its document): vtbench campaign slurm %s --site %s "
            "--only %s\n  (or: vtbench campaign parallel %s --site %s --only %s)\n",
            c->dir, site, list, c->dir, site, list);
  }
  free(sel);
}

static int parse_site_only(int argc, char **argv, struct common *k, bool *allow) {
  static const struct option opts[] = {{"site", required_argument, NULL, 's'},
                                       {"allow-incomplete", no_argument, NULL, 'A'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 's')
      k->site = optarg;
    else if (c == 'A' && allow)
      *allow = true;
    else {
      usage(c == 'h' ? stdout : stderr);
      return c == 'h' ? VTB_EXIT_OK : VTB_EXIT_USAGE;
    }
  }
  return load_common(k, argc, argv, optind);
}

static int act_status(int argc, char **argv) {
  struct common k = {0};
  int rc = parse_site_only(argc, argv, &k, NULL);
  if (rc) return rc;
  json_t *sites = chosen_sites(&k);
  size_t x;
  json_t *v;
  if (!json_array_size(sites))
    printf("%s: %u shards, no site has run any yet\n", k.c.dir, k.c.shards);
  rc = json_array_size(sites) ? VTB_EXIT_OK : VTB_EXIT_FAILED;
  json_array_foreach(sites, x, v) {
    const char *site = json_string_value(v);
    unsigned nok;
    struct shard_info *s = site_shards(&k.c, site, &nok);
    if (!s) {
      rc = VTB_EXIT_IO;
      continue;
    }
    char merged[PATH_MAX + 64];
    campaign__merged_doc(&k.c, site, merged, sizeof(merged));
    printf("site %s: %u of %u shards complete%s\n", site, nok, k.c.shards,
           access(merged, F_OK) ? "" : " (merged)");
    for (unsigned i = 1; i <= k.c.shards; i++) {
      char line[2048];
      campaign__describe(&s[i], line, sizeof(line));
      printf("  %s\n", line);
    }
    print_resubmit(&k.c, site, s, stdout);
    if (nok != k.c.shards && rc == VTB_EXIT_OK) rc = VTB_EXIT_FAILED;
    free(s);
  }
  json_decref(sites);
  free_common(&k);
  return rc;
}

/* Notes when the shards of a site ran on hosts that differ (campaign.h:
 * a site is one kind of host). */
static void check_hosts(const char *site, const char *const *docs, size_t n) {
  char first[512] = "", other[512] = "", err[512];
  size_t nfirst = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *env = doc_stream__read(docs[i], NULL, NULL, NULL, err, sizeof(err));
    char h[512];
    campaign__host_of(json_object_get(env, "context"), h, sizeof(h));
    json_decref(env);
    if (!first[0]) snprintf(first, sizeof(first), "%s", h);
    if (!strcmp(h, first))
      nfirst++;
    else if (!other[0])
      snprintf(other, sizeof(other), "%s", h);
  }
  if (other[0])
    msg__note("site %s: its shards ran on different hosts (%zu of %zu on %s; others on %s, ...): "
              "savings compare configurations of different shards, so they mix the hosts; give "
              "each kind of host its own --site",
              site, nfirst, n, first, other);
}

int campaign__merge_site(const struct campaign *c, const char *site, bool allow) {
  unsigned nok;
  struct shard_info *s = site_shards(c, site, &nok);
  if (!s) return VTB_EXIT_IO;
  const char **av = calloc(c->shards + 8, sizeof(*av));
  char(*docs)[PATH_MAX + 64] = calloc(c->shards + 1, sizeof(*docs));
  char merged[PATH_MAX + 64];
  int rc = VTB_EXIT_FAILED;
  if (!av || !docs) goto out;
  size_t n = 0, ndocs = 0;
  av[n++] = "merge";
  av[n++] = "-o";
  campaign__merged_doc(c, site, merged, sizeof(merged));
  av[n++] = merged;
  if (nok < c->shards) {
    for (unsigned i = 1; i <= c->shards; i++) {
      char line[2048];
      if (s[i].state == SHARD_COMPLETE) continue;
      campaign__describe(&s[i], line, sizeof(line));
      msg__error("site %s: %s", site, line);
    }
    if (!allow) {
      msg__error("site %s: %u of %u shards complete: not merged; run the others again, or "
                 "merge with --allow-incomplete (the document says which shards are missing)",
                 site, nok, c->shards);
      print_resubmit(c, site, s, stderr);
      rc = VTB_EXIT_DATA;
      goto out;
    }
    av[n++] = "--allow-incomplete";
  }
  for (unsigned i = 1; i <= c->shards; i++) {
    if (!s[i].have_doc || s[i].state == SHARD_RUNNING) continue;
    campaign__shard_doc(c, site, i, docs[ndocs], sizeof(docs[ndocs]));
    av[n++] = docs[ndocs++];
  }
  if (!ndocs) {
    msg__error("site %s: no shard has written a document: nothing to merge", site);
    rc = VTB_EXIT_DATA;
    goto out;
  }
  const char **dl = calloc(ndocs, sizeof(*dl));
  for (size_t i = 0; dl && i < ndocs; i++)
    dl[i] = docs[i];
  if (dl) check_hosts(site, dl, ndocs);
  free(dl);
  rc = campaign__vtbench(av);
out:
  free(av);
  free(docs);
  free(s);
  return rc;
}

static int act_merge(int argc, char **argv) {
  struct common k = {0};
  bool allow = false;
  int rc = parse_site_only(argc, argv, &k, &allow);
  if (rc) return rc;
  json_t *sites = chosen_sites(&k);
  size_t x;
  json_t *v;
  if (!json_array_size(sites)) {
    msg__error("%s: no site has run a shard yet: nothing to merge", k.c.dir);
    rc = VTB_EXIT_DATA;
  }
  json_array_foreach(sites, x, v) {
    int r = campaign__merge_site(&k.c, json_string_value(v), allow);
    if (r && !rc) rc = r;
  }
  json_decref(sites);
  free_common(&k);
  return rc;
}

/* ---- report ----------------------------------------------------------------------------- */

int campaign__report(const struct campaign *c, const char *a, const char *b, const char *out) {
  json_t *sites = campaign__sites(c);
  json_t *merged = json_array();
  size_t x;
  json_t *v;
  json_array_foreach(sites, x, v) {
    char p[PATH_MAX + 64];
    campaign__merged_doc(c, json_string_value(v), p, sizeof(p));
    if (!access(p, R_OK)) json_array_append(merged, v);
  }
  int rc = VTB_EXIT_OK;
  if (!a) a = json_string_value(json_array_get(merged, 0));
  if (!b) {
    for (size_t k = 0; k < json_array_size(merged) && !b; k++)
      if (strcmp(json_string_value(json_array_get(merged, k)), a))
        b = json_string_value(json_array_get(merged, k));
  }
  if (!a) {
    msg__error("%s: no site is merged yet (vtbench campaign merge %s)", c->dir, c->dir);
    rc = VTB_EXIT_DATA;
    goto out;
  }
  char pa[PATH_MAX + 64], pb[PATH_MAX + 64], dir[PATH_MAX + 16];
  campaign__merged_doc(c, a, pa, sizeof(pa));
  if (b) campaign__merged_doc(c, b, pb, sizeof(pb));
  snprintf(dir, sizeof(dir), "%s/report", c->dir);
  if (!out) out = dir;
  if (json_array_size(merged) > 2)
    msg__note("the campaign has %zu merged sites; this report compares %s with %s (others: "
              "vtbench campaign report %s --site A --compare-site B -o OUT)",
              json_array_size(merged), a, b, c->dir);
  const char *av[] = {"report", pa, "-o", out, b ? "--compare" : NULL, b ? pb : NULL, NULL};
  rc = campaign__vtbench(av);
out:
  json_decref(merged);
  json_decref(sites);
  return rc;
}

static int act_report(int argc, char **argv) {
  static const struct option opts[] = {{"site", required_argument, NULL, 's'},
                                       {"compare-site", required_argument, NULL, 'C'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  struct common k = {0};
  const char *b = NULL, *out = NULL;
  char err[512];
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
    if (c == 's')
      k.site = optarg;
    else if (c == 'C')
      b = optarg;
    else if (c == 'o')
      out = optarg;
    else {
      usage(c == 'h' ? stdout : stderr);
      return c == 'h' ? VTB_EXIT_OK : VTB_EXIT_USAGE;
    }
  }
  if (b && campaign__check_site(b, err, sizeof(err))) {
    msg__error("--compare-site: %s", err);
    return VTB_EXIT_USAGE;
  }
  int rc = load_common(&k, argc, argv, optind);
  if (rc) return rc;
  rc = campaign__report(&k.c, k.site, b, out);
  free_common(&k);
  return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

int cmd_campaign(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } actions[] = {
      {"init", act_init},    {"slurm", campaign__cmd_slurm}, {"parallel", campaign__cmd_parallel},
      {"shard", act_shard},  {"status", act_status},         {"merge", act_merge},
      {"report", act_report}};
  if (argc < 2) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(stdout);
    return VTB_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
    if (!strcmp(argv[1], actions[i].name)) return actions[i].fn(argc - 1, argv + 1);
  msg__error("unknown action '%s' (init, slurm, parallel, shard, status, merge, report)", argv[1]);
  usage(stderr);
  return VTB_EXIT_USAGE;
}
