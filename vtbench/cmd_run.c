/* cmd_run.c - `vtbench run`: run a matrix through bin/refvmm, one process
 * per run, into one result document.
 *
 * The document is rewritten atomically after every run, so a kill loses at
 * most the run in progress. Until the matrix is done it carries
 * session.status "incomplete"; --resume reads session.matrix back and skips
 * every (configuration, repetition) already present. Ctrl-C (SIGINT) and
 * SIGTERM end cleanly: the interrupted run is dropped, the file kept.
 *
 * What runs: run_plan.c; running it: run_exec.c (and --allow-host-reconfig's
 * reloads of the host's KVM module, docs/KVM_MODES.md); what a resumed
 * document holds: run_resume.c; the progress line: run_progress.c.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_num.h"
#include "commands.h"
#include "json_util.h"
#include "msg.h"
#include "results/context.h"
#include "output_lock.h"
#include "results/result_doc.h"
#include "run_exec.h"
#include "run_ids.h"
#include "run_plan.h"
#include "scratch.h"
#include "spawn.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench run [--matrix FILE | --quick] [--backends kvm,model] [--workloads LIST]\n"
          "                   [--modes LIST] [--reps N] [--warmup N] [--model-reps N] [--cpu N]\n"
          "                   [--shard I/N] [--timeout SEC] [--baseline MODE] [-o FILE]\n"
          "                   [--resume | --force] [--dry-run] [--allow-host-reconfig]\n"
          "                   [--kvm-exits]\n"
          "  Runs the cross product of a matrix interleaved into one result document.\n"
          "  --matrix FILE   the matrix (docs/MATRIX.md); default: the standard matrix,\n"
          "                  every workload at its defaults (sized for KVM; on the model\n"
          "                  a run can take minutes); --quick: the small one make demo\n"
          "                  runs, under a minute\n"
          "  --backends L    default: the matrix's (kvm,model); one not usable here is\n"
          "                  skipped with a note\n"
          "  --workloads L   default: the matrix's; vtbench workloads lists them\n"
          "  --modes L       default: the matrix's; a mode is paging/tlb/nmi/irq, e.g.\n"
          "                  ept/vpid/window/poll; parts left out have their assist off\n"
          "                  (tlb flush, nmi poll, irq poll, as refvmm's defaults); native:\n"
          "                  the model without VMX, the baseline\n"
          "  --reps N        repetitions of each kvm configuration (default: the matrix's;\n"
          "                  standard 5, quick 4)\n"
          "  --warmup N      unrecorded warm-up rounds before them (default 1)\n"
          "  --model-reps N  runs of each model configuration, no warm-up (default 1: the\n"
          "                  model is deterministic)\n"
          "  --cpu N         pin refvmm to CPU N (default: not pinned)\n"
          "  --shard I/N     run slice I of N (1-based; default 1/1); join shards with\n"
          "                  vtbench merge\n"
          "  --timeout SEC   refvmm's limit per run (default refvmm's, 300)\n"
          "  --baseline MODE what ratios are taken against (default: native on the model,\n"
          "                  the least-featured mode measured on kvm)\n"
          "  -o FILE         the result document (default results/out/session.json); one\n"
          "                  vtbench at a time writes it (FILE.lock; a second gets exit 4),\n"
          "                  and it is never replaced unless --force is given (exit 5);\n"
          "                  --resume continues it\n"
          "  --dry-run       list the jobs, run nothing\n"
          "  --allow-host-reconfig  kvm modes the host's KVM module does not run now are\n"
          "                  run by reloading it with the parameters they need (kvm_intel\n"
          "                  ept/vpid, kvm_amd npt; root, no other VM), restoring it after\n"
          "                  each group, also on Ctrl-C (docs/KVM_MODES.md)\n"
          "  --kvm-exits     kvm runs also count every VM exit KVM handles by hardware\n"
          "                  reason (refvmm --events kvm:exits; a cost per exit: their\n"
          "                  times are not comparable with runs without it; docs/PROBES.md)\n"
          "  Progress: one line on a terminal; without one, a line every 10 s\n"
          "  (VTB_PROGRESS_S). Exit status: docs/EXIT_CODES.md.\n");
}

/* The new session document: context, and the session facts that let
 * --resume rerun the matrix. NULL when out of memory. */
static json_t *new_session(int argc, char **argv, const struct run_plan *p,
                           const struct run_opts *o) {
  /* The command line as the user typed it: "vtbench run ..." (argv here
   * starts at "run"). */
  char **full = calloc((size_t)argc + 2, sizeof(*full));
  if (!full) return NULL;
  full[0] = "vtbench";
  memcpy(full + 1, argv, (size_t)argc * sizeof(*full));
  if (argc) full[1] = "run"; /* argv[0] is "vtbench run" */
  json_t *doc = result_doc__new(context__collect(argc + 1, full));
  free(full);
  if (!doc) return NULL;
  char shard[32];
  snprintf(shard, sizeof(shard), "%u/%u", p->shard_i, p->shard_n);
  json_object_set_new(doc, "session",
                      json_pack("{s:s,s:s,s:o,s:s,s:I,s:s?}", "tool", "vtbench", "status",
                                "running", "matrix", matrix__to_json(&p->m), "shard", shard, "seed",
                                (json_int_t)MATRIX_SEED, "baseline", o->baseline));
  if (o->cpu >= 0)
    json_object_set_new(json_object_get(doc, "session"), "cpu", json_integer(o->cpu));
  return doc;
}

/* Run the plan into doc; the exit status. */
static int run_session(const struct run_opts *o, const struct run_plan *p, json_t *doc,
                       const char *tmpdir) {
  struct run_session S = {.o = o, .p = p, .doc = doc, .tmpdir = tmpdir};
  S.backend_off = calloc(p->m.nbackends, sizeof(bool));
  S.cfg_off = calloc(p->ncfg + 1, sizeof(bool));
  if (!S.backend_off || !S.cfg_off ||
      run_todo__init(&S.todo, doc, p->jobs, p->njobs, p->cfgs, p->ncfg)) {
    msg__error("out of memory");
    free(S.backend_off);
    free(S.cfg_off);
    return VTB_EXIT_FAILED;
  }
  json_object_set_new(json_object_get(doc, "session"), "jobs_total",
                      json_integer((json_int_t)p->njobs));
  run_progress__start(&S.progress, S.todo.todo);
  int rc = run_exec__save(doc, o->out, "incomplete", o->baseline, true) ? VTB_EXIT_IO : VTB_EXIT_OK;
  if (rc == VTB_EXIT_OK) rc = run_exec__all(&S);
  run_progress__end(&S.progress);
  bool stopped = run_exec__stopped();
  bool all_off = true;
  for (size_t b = 0; b < p->m.nbackends; b++)
    all_off &= S.backend_off[b];
  if (run_exec__save(doc, o->out, !stopped && rc == VTB_EXIT_OK ? "complete" : "incomplete",
                     o->baseline, true))
    rc = VTB_EXIT_IO;
  char el[32];
  run_progress__fmt_secs(run_progress__elapsed(&S.progress), el, sizeof(el));
  size_t nruns = json_array_size(json_object_get(doc, "runs"));
  if (stopped) {
    msg__error("interrupted after %zu runs (%s): %s kept, marked incomplete; continue with: "
               "vtbench run --resume -o %s",
               nruns, el, o->out, o->out);
    rc = VTB_EXIT_INTERRUPTED;
  } else {
    printf("vtbench run: %zu runs in %s (%zu failed%s) -> %s\n", nruns, el, S.failed,
           S.skipped ? ", earlier runs kept" : "", o->out);
    if (rc == VTB_EXIT_OK && S.failed) rc = VTB_EXIT_FAILED;
    if (!nruns && all_off) {
      msg__error("nothing could run: refvmm supports none of the backends asked for on this host");
      rc = VTB_EXIT_NOTHING;
    }
  }
  run_todo__free(&S.todo);
  free(S.backend_off);
  free(S.cfg_off);
  return rc;
}

/* OUT.tmp.PID files next to OUT: what result_doc__write left when its
 * vtbench was killed while writing. Called with the lock held, so no
 * writer of OUT is alive. */
static void remove_stale_temporaries(const char *out) {
  char dir[PATH_MAX], prefix[NAME_MAX + 8];
  const char *slash = strrchr(out, '/');
  snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - out) + (slash == out) : 1,
           slash ? out : ".");
  snprintf(prefix, sizeof(prefix), "%s.tmp.", slash ? slash + 1 : out);
  DIR *d = opendir(dir);
  if (!d) return;
  size_t pl = strlen(prefix);
  for (struct dirent *e; (e = readdir(d));) {
    const char *rest = e->d_name + pl;
    if (strncmp(e->d_name, prefix, pl) || !*rest || strspn(rest, "0123456789") != strlen(rest))
      continue;
    if (!unlinkat(dirfd(d), e->d_name, 0))
      msg__note("removed %s/%s (left by a killed run)", dir, e->d_name);
  }
  closedir(d);
}

/* Before anything runs: the output can be written (a full disk is reported
 * now, not after the first run; also on --resume), no other vtbench writes
 * it (the lock is held until the end), and an existing document is
 * replaced only with --force. VTB_EXIT_OK or the exit status. */
static int claim_output(const struct run_opts *o, struct output_lock *lock) {
  char err[1024];
  if (result_doc__check_writable(o->out, err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  int busy = output_lock__take(lock, o->out, err, sizeof(err));
  if (busy) {
    msg__error("%s", err);
    return busy > 0 ? VTB_EXIT_BUSY : VTB_EXIT_IO;
  }
  remove_stale_temporaries(o->out);
  struct stat st;
  if (!o->resume && !o->force && !stat(o->out, &st) && st.st_size > 0) {
    msg__error("%s exists (%lld bytes): continue it with --resume, replace it with --force, or "
               "write to another -o",
               o->out, (long long)st.st_size);
    return VTB_EXIT_EXISTS;
  }
  return VTB_EXIT_OK;
}

#define OPTS_OK (-1)

/* The command line into o: OPTS_OK, or the exit status (after --help or a
 * bad option). */
static int parse_opts(int argc, char **argv, struct run_opts *o) {
  static const struct option opts[] = {{"matrix", required_argument, NULL, 'm'},
                                       {"quick", no_argument, NULL, 'q'},
                                       {"backends", required_argument, NULL, 'B'},
                                       {"workloads", required_argument, NULL, 'W'},
                                       {"modes", required_argument, NULL, 'M'},
                                       {"reps", required_argument, NULL, 'r'},
                                       {"warmup", required_argument, NULL, 'w'},
                                       {"cpu", required_argument, NULL, 'c'},
                                       {"shard", required_argument, NULL, 's'},
                                       {"output", required_argument, NULL, 'o'},
                                       {"resume", no_argument, NULL, 'R'},
                                       {"force", no_argument, NULL, 'F'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"baseline", required_argument, NULL, 'b'},
                                       {"dry-run", no_argument, NULL, 'n'},
                                       {"allow-host-reconfig", no_argument, NULL, 'H'},
                                       {"model-reps", required_argument, NULL, 'D'},
                                       {"kvm-exits", no_argument, NULL, 'K'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  int c;
  long v;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:qB:W:M:r:w:c:s:o:Rt:b:nh", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      o->matrix_file = optarg;
      break;
    case 'q':
      o->quick = true;
      break;
    case 'B':
      o->backends = optarg;
      break;
    case 'W':
      o->workloads = optarg;
      break;
    case 'M':
      o->modes = optarg;
      break;
    case 'r':
      if (cli__count("reps", optarg, 1, MATRIX_REPS_MAX, &v)) return VTB_EXIT_USAGE;
      o->reps = (int)v;
      break;
    case 'w':
      if (cli__count("warmup", optarg, 0, MATRIX_WARMUP_MAX, &v)) return VTB_EXIT_USAGE;
      o->warmup = (int)v;
      break;
    case 'D':
      if (cli__count("model-reps", optarg, 1, MATRIX_REPS_MAX, &v)) return VTB_EXIT_USAGE;
      o->model_reps = (int)v;
      break;
    case 'c':
      if (cli__count("cpu", optarg, 0, CPU_SETSIZE - 1, &v)) return VTB_EXIT_USAGE;
      o->cpu = (int)v;
      break;
    case 's':
      o->shard = optarg;
      break;
    case 'o':
      o->out = optarg;
      break;
    case 'R':
      o->resume = true;
      break;
    case 'F':
      o->force = true;
      break;
    case 't': /* refvmm's own bound (refvmm --help) */
      if (cli__count("timeout", optarg, 0, 10000000, &v)) return VTB_EXIT_USAGE;
      o->timeout = (int)v;
      break;
    case 'b':
      o->baseline = optarg;
      break;
    case 'n':
      o->dry_run = true;
      break;
    case 'H':
      o->allow_host_reconfig = true;
      break;
    case 'K':
      o->kvm_exits = true;
      break;
    case 'h':
      usage(stdout);
      return VTB_EXIT_OK;
    default:
      usage(stderr);
      return VTB_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    msg__error("unexpected argument '%s'", argv[optind]);
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  return OPTS_OK;
}

int cmd_run(int argc, char **argv) {
  struct run_opts o = {
      .out = "results/out/session.json", .reps = -1, .warmup = -1, .model_reps = -1, .cpu = -1};
  int rc = parse_opts(argc, argv, &o);
  if (rc != OPTS_OK) return rc;
  json_t *doc = NULL;
  struct run_plan plan;
  struct scratch tmp = {.fd = -1};
  struct output_lock lock = {.fd = -1};
  bool have_plan = false;
  char err[512];
  if (!o.dry_run && (rc = claim_output(&o, &lock)) != VTB_EXIT_OK) goto out;
  if (o.resume && !(doc = json_util__load_doc(o.out))) {
    rc = VTB_EXIT_IO;
    goto out;
  }
  if (doc &&
      run_ids__check_doc(doc, err, sizeof(err))) { /* resuming would keep counting it twice */
    msg__error("%s: %s", o.out, err);
    rc = VTB_EXIT_DATA;
    goto out;
  }
  if ((rc = run_plan__build(&plan, &o, doc)) != VTB_EXIT_OK) goto out;
  have_plan = true;
  if (o.dry_run) {
    run_plan__print(&plan);
    goto out;
  }
  if (!doc && !(doc = new_session(argc, argv, &plan, &o))) {
    msg__error("out of memory");
    rc = VTB_EXIT_FAILED;
    goto out;
  }
  if (scratch__create(&tmp, "run", err, sizeof(err))) {
    msg__error("%s", err);
    rc = VTB_EXIT_IO;
    goto out;
  }
  spawn__catch_signals();
  rc = run_session(&o, &plan, doc, tmp.path);
  spawn__restore_signals();
out:
  scratch__remove(&tmp);
  output_lock__release(&lock);
  if (have_plan) run_plan__free(&plan);
  json_decref(doc);
  return rc;
}
