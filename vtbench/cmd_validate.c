/* cmd_validate.c - `vtbench validate`: run the workloads on this host's KVM
 * and on the model in the same paging mode (shadow, or ept on an EPT/NPT
 * host), and put the model's timed-region counts next to KVM's timed-region
 * statistics
 * (validate.h for the method, docs/VALIDATION.md for the measured table and
 * why each row differs). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checklist.h"
#include "cli_num.h"
#include "commands.h"
#include "json_util.h"
#include "linux_guest.h"
#include "msg.h"
#include "paths.h"
#include "refvmm/kvm/kvm_host.h"
#include "results/result_doc.h"
#include "spawn.h"
#include "stats.h"
#include "validate.h"
#include "validate_time.h"

#define REPS_MAX  50
#define STATS_MAX 96 /* KVM statistics tracked (45 vcpu + 15 vm here) */

struct vopts {
  unsigned reps;
  bool quick;
  const char *out;
  const char *only;
  int timeout;
  bool time;           /* --time: modeled against measured time (validate_time.c) */
  const char *profile; /* --time: the model's cost profile */
  const char *paging;  /* "shadow" or "ept": the host's */
  const char *tlb;     /* the model's: the host's ("flush" on kvm_pvm, "vpid" with VPID/ASIDs) */
  /* The model's shadow policy (paging shadow; NULL under EPT/NPT): what the
   * host's shadow MMU does with the guest's last-level tables. A KVM that
   * runs ring 0 natively lets them go out of sync; one that emulates ring 0
   * sends every ring-0 write through its emulator's write tracking, which
   * the model's write protection reproduces (docs/VALIDATION.md). */
  const char *shadow_policy;
  enum validate_kind kind;
  const struct linux_guest *lg; /* kernel and initramfs, when a linux: workload is named */
  bool kvm_only;                /* --kvm-only: KVM's side, written for a later comparison */
  const char *kvm_runs;         /* --kvm-runs DIR: KVM's side from there, the model here */
};

/* One side: the values of every KVM statistic per repetition, or the model's
 * pair values. */
struct side {
  unsigned nrep;
  char names[STATS_MAX][48];
  unsigned nstats;
  double kvm[STATS_MAX][REPS_MAX];
  double pair_kvm[VALIDATE_PAIRS_MAX][REPS_MAX];
  double pair_model[VALIDATE_PAIRS_MAX];
  bool pair_model_ok[VALIDATE_PAIRS_MAX];
  json_t *checksum; /* borrowed from the first run (kept alive in runs) */
  char cmd[1024];
};

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: vtbench validate [--reps N] [--quick] [--out DIR] [--only W1,W2,...] [--timeout S]\n"
      "                        [--kvm-only | --kvm-runs DIR]\n"
      "  Runs each workload on KVM and on the model in the paging mode the host's KVM\n"
      "  uses (shadow: kvm_pvm, kvm_intel ept=0, kvm_amd npt=0; ept: ept=1/npt=1; the\n"
      "  model's tlb as the host's) and compares, over the guest's timed region, KVM's\n"
      "  statistics with the model's counters (model.timed: shadow MMU or EPT\n"
      "  violations, CPL0 work, exits by reason).\n"
      "  Prints a Markdown table; writes DIR/validation.md, DIR/validation.json and the\n"
      "  run records under DIR/runs/.\n"
      "  --reps N     KVM repetitions, medians taken (default 5, --quick 3)\n"
      "  --quick      smaller sizes (about 4x less work)\n"
      "  --out DIR    output directory (default validation)\n"
      "  --only LIST  these workloads only (default: all of them but the Linux guest's,\n"
      "               whose runs each boot a kernel: name them, e.g. --only linux:fork)\n"
      "  --timeout S  per run (default 120)\n"
      "  --kvm-only   KVM's side only: its runs and DIR/host.json (the host's paging,\n"
      "               tlb and kind), for a comparison made elsewhere\n"
      "  --kvm-runs D KVM's side from D (a --kvm-only output, e.g. from a KVM host\n"
      "               too slow to run the model), the model's here; --reps, --quick\n"
      "               and the host's modes are D's\n"
      "  Workloads:");
  for (size_t i = 0; i < validate_workloads_len; i++)
    fprintf(f, " %s", validate_workloads[i].name);
  fprintf(f, "\n  Then one line per check (PASS, FAIL, XFAIL: a known difference\n"
             "  docs/VALIDATION.md explains, SKIP) and \"N passed, M failed\".\n");
  fprintf(f,
          "  --time       instead: modeled against measured time per iteration, one\n"
          "               PASS/FAIL line per workload (tolerance: 25%% for ring-3 work, 35%% for\n"
          "               shadow paging), DIR/time.md and time.json; workloads:");
  for (size_t i = 0; i < vtime_workloads_len; i++)
    fprintf(f, " %s", vtime_workloads[i].name);
  fprintf(f, "\n  --profile F  --time: the model's cost profile (default: the built-in one;\n"
             "               after vtbench calibrate: results/out/calibrated-profile.json)\n");
  fprintf(f, "  exit status: 0 every check passed, 1 a check failed (a row outside the band,\n"
             "  a checksum, a run; --time: a workload outside its tolerance), 2 usage, 3 no KVM\n"
             "  or its paging mode unknown, 20 output not written, 130 interrupted\n");
}

static bool selected(const struct vopts *o, const char *name) {
  if (!o->only) return !linux_guest__named(name); /* a boot each: only when named */
  size_t n = strlen(name);
  for (const char *p = o->only; p && *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && !strncmp(p, name, n)) return true;
    p = c ? c + 1 : NULL;
  }
  return false;
}

/* Append a word to a command line shown to users (every word here is plain:
 * no quoting needed). */
static void cmd_append(char *buf, size_t len, const char *word) {
  size_t l = strlen(buf);
  snprintf(buf + l, len - l, "%s%s", l ? " " : "", word);
}

/* Run refvmm once; return its exit status (or 128+signal, -1 when it could
 * not start). The command, as a user would type it, goes to cmd. */
static int run_refvmm(const char *refvmm, const char *img, bool model, const struct vopts *o,
                      const struct validate_workload *w, unsigned long n, const char *json_path,
                      const char *log_path, int timeout, char *cmd, size_t cmdlen) {
  char scale[96], tmo[32];
  snprintf(scale, sizeof scale, "%s=%lu", w->scale, n);
  snprintf(tmo, sizeof tmo, "%d", timeout);
  const char *argv[40];
  int a = 0;
  argv[a++] = refvmm;
  argv[a++] = "run";
  bool lx = linux_guest__named(w->name);
  char cmdline[2048];
  if (lx) { /* the parameters go on the kernel command line */
    json_t *params = json_object();
    json_object_set_new(params, w->scale, json_integer((json_int_t)n));
    for (int i = 0; i < VALIDATE_FIXED_MAX && w->fixed[i]; i++) {
      const char *eq = strchr(w->fixed[i], '=');
      char k[64];
      snprintf(k, sizeof k, "%.*s", (int)(eq - w->fixed[i]), w->fixed[i]);
      json_object_set_new(params, k, json_string(eq + 1));
    }
    int rc = linux_guest__argv(o->lg, w->name, params, argv, &a, cmdline, sizeof cmdline);
    json_decref(params);
    if (rc) {
      fprintf(stderr, "vtbench validate: %s: %s\n", w->name, cmdline);
      return -1;
    }
  } else {
    argv[a++] = img;
  }
  if (model) {
    argv[a++] = "--backend";
    argv[a++] = "model";
  }
  argv[a++] = "--paging"; /* on KVM: refvmm refuses a host that does not match */
  argv[a++] = o->paging;
  if (model) { /* on KVM the tlb mode is the host module's (refvmm records it) */
    argv[a++] = "--tlb";
    argv[a++] = o->tlb;
    if (o->shadow_policy) {
      argv[a++] = "--shadow-policy";
      argv[a++] = o->shadow_policy;
    }
  }
  if (!lx) {
    argv[a++] = "--param";
    argv[a++] = scale;
    for (int i = 0; i < VALIDATE_FIXED_MAX && w->fixed[i]; i++) {
      argv[a++] = "--param";
      argv[a++] = w->fixed[i];
    }
  }
  if (model && lx) { /* the comparison needs no native run: one boot less */
    argv[a++] = "--model-baseline";
    argv[a++] = "none";
  }
  if (!model) argv[a++] = "--no-pmu"; /* KVM statistics and exits only */
  argv[a++] = "--timeout";
  argv[a++] = tmo;
  argv[a++] = "--quiet";
  int show_end = a; /* --json FILE is shown as F */
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a] = NULL;

  cmd[0] = 0;
  cmd_append(cmd, cmdlen, "bin/refvmm run");
  if (!lx) {
    char shown[128];
    snprintf(shown, sizeof shown, "workloads/build/%s.elf", w->name);
    cmd_append(cmd, cmdlen, shown);
  }
  for (int i = lx ? 2 : 3; i < show_end; i++) {
    if (lx && i > 2 && !strcmp(argv[i - 1], "--cmdline")) {
      char q[2100]; /* the command line as one quoted word */
      snprintf(q, sizeof q, "\"%s\"", argv[i]);
      cmd_append(cmd, cmdlen, q);
    } else {
      cmd_append(cmd, cmdlen, argv[i]);
    }
  }
  cmd_append(cmd, cmdlen, "--json F");

  unlink(json_path);
  /* refvmm's own watchdog ends a run at `timeout`; the limit here is for a
   * refvmm that hangs anyway */
  struct spawn_opts so = {.argv = argv,
                          .out_file = log_path,
                          .err_to_out = true,
                          .timeout_s = timeout > 0 ? timeout + 60.0 : 0};
  struct spawn_result r;
  if (spawn__run(&so, &r)) {
    msg__error("cannot run %s: %s", refvmm, strerror(r.error));
    return -1;
  }
  return r.status;
}

static int stat_index(struct side *s, const char *name) {
  for (unsigned i = 0; i < s->nstats; i++)
    if (!strcmp(s->names[i], name)) return (int)i;
  if (s->nstats >= STATS_MAX || strlen(name) >= sizeof s->names[0]) return -1;
  snprintf(s->names[s->nstats], sizeof s->names[0], "%s", name);
  for (unsigned r = 0; r < REPS_MAX; r++)
    s->kvm[s->nstats][r] = 0;
  return (int)s->nstats++;
}

/* Record every cumulative statistic of a KVM run (repetition r). */
static void take_kvm(struct side *s, const json_t *run, unsigned r) {
  const json_t *ks = json_object_get(run, "kvm_stats");
  static const char *const scopes[] = {"vcpu", "vm"};
  for (int sc = 0; sc < 2; sc++) {
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(ks, scopes[sc]), k, v) {
      const char *type = json_string_value(json_object_get(v, "type"));
      double x;
      if (!type || strcmp(type, "cumulative") ||
          !json_util__number(json_object_get(v, "value"), &x))
        continue;
      int i = stat_index(s, k);
      if (i >= 0) s->kvm[i][r] = x;
    }
  }
  for (size_t p = 0; p < validate_pairs_len; p++) {
    double x = NAN;
    if (validate__kvm_value(run, validate_pairs[p].kvm, &x)) x = NAN;
    s->pair_kvm[p][r] = x;
  }
}

static json_t *num_j(double x) {
  return isfinite(x) ? json_real(x) : json_null();
}

static double median_of(const double *x, unsigned n) {
  double tmp[REPS_MAX];
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++)
    if (!isnan(x[i])) tmp[m++] = x[i];
  return m ? stats__median(tmp, m) : NAN;
}

/* The repetitions' values of one KVM figure, as a JSON array. */
static json_t *reps_j(const double *x, unsigned n) {
  json_t *a = json_array();
  for (unsigned i = 0; i < n; i++)
    json_array_append_new(a, num_j(x[i]));
  return a;
}

static const char *status_of(const json_t *doc) {
  const char *s =
      json_string_value(json_object_get(json_array_get(json_object_get(doc, "runs"), 0), "status"));
  return s ? s : "no record";
}

/* Run one side at one size. 0, or -1 after printing why. */
static int run_side(const struct vopts *o, const char *refvmm, const char *images,
                    const struct validate_workload *w, unsigned long n, bool model, struct side *s,
                    json_t *keep, int *code_out) {
  char img[4200], jpath[4300], lpath[4300];
  snprintf(img, sizeof img, "%s/%s.elf", images, w->name);
  unsigned reps = model ? 1 : o->reps;
  s->nrep = reps;
  for (unsigned r = 0; r < reps; r++) {
    snprintf(jpath, sizeof jpath, "%s/runs/%s.%s.%s%lu.r%u.json", o->out, w->name,
             model ? "model" : "kvm", w->scale, n, r);
    snprintf(lpath, sizeof lpath, "%s/runs/%s.%s.%s%lu.r%u.log", o->out, w->name,
             model ? "model" : "kvm", w->scale, n, r);
    int code;
    if (!model && o->kvm_runs) { /* recorded on the KVM host by --kvm-only */
      snprintf(jpath, sizeof jpath, "%s/runs/%s.kvm.%s%lu.r%u.json", o->kvm_runs, w->name, w->scale,
               n, r);
      if (access(jpath, R_OK)) {
        msg__error("%s: no KVM run record %s (%s): run vtbench validate --kvm-only with the same "
                   "--only, --quick and --reps on the KVM host",
                   w->name, jpath, strerror(errno));
        return -1;
      }
      code = 0;
      snprintf(s->cmd, sizeof s->cmd, "(KVM's side: the run records in %s/runs)", o->kvm_runs);
    } else {
      code =
          run_refvmm(refvmm, img, model, o, w, n, jpath, lpath, o->timeout, s->cmd, sizeof s->cmd);
    }
    *code_out = code;
    if (spawn__caught()) return -1; /* Ctrl-C: the caller stops */
    char err[512];
    json_t *doc = access(jpath, R_OK) ? NULL : result_doc__read(jpath, err, sizeof err);
    const json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    if (code != 0 || !run || strcmp(status_of(doc), "ok")) {
      msg__error("%s on %s, %s=%lu: refvmm exit %d, status %s (log %s)%s", w->name,
                 model ? "the model" : "KVM", w->scale, n, code, status_of(doc), lpath,
                 code == 5 ? ": refvmm refused this host's paging mode" : "");
      json_decref(doc);
      return -1;
    }
    if (!r) s->checksum = json_object_get(json_object_get(run, "guest"), "checksum");
    if (model) {
      for (size_t p = 0; p < validate_pairs_len; p++)
        s->pair_model_ok[p] =
            !validate__model_value(run, validate_pairs[p].model, &s->pair_model[p]);
    } else {
      take_kvm(s, run, r);
    }
    json_array_append_new(keep, doc); /* keeps the checksum alive */
  }
  return 0;
}

struct wl_result {
  const struct validate_workload *w;
  unsigned long n;
  bool ok, checksums_equal;
  struct side kvm, model;
};

/* The median over the repetitions of a KVM statistic (0 when never seen). */
static double kvm_stat_median(const struct wl_result *res, const char *name) {
  const struct side *s = &res->kvm;
  for (unsigned i = 0; i < s->nstats; i++)
    if (!strcmp(s->names[i], name)) return median_of(s->kvm[i], s->nrep);
  return 0;
}

static bool is_paired(const char *stat, enum validate_kind emu0) {
  for (size_t p = 0; p < validate_pairs_len; p++)
    if (validate__pair_applies(&validate_pairs[p], emu0) && !strcmp(validate_pairs[p].kvm, stat))
      return true;
  return false;
}

/* One row's figures: KVM's median and the model's value (NAN when absent). */
static void pair_values(const struct wl_result *r, size_t p, double *k, double *m) {
  *k = median_of(r->kvm.pair_kvm[p], r->kvm.nrep);
  *m = r->model.pair_model_ok[p] ? r->model.pair_model[p] : NAN;
}

static void fmt_num(char *buf, size_t len, double x) {
  if (isnan(x))
    snprintf(buf, len, "n/a");
  else if (isinf(x))
    snprintf(buf, len, "inf");
  else if (x == floor(x) && fabs(x) < 1e15)
    snprintf(buf, len, "%.0f", x);
  else
    snprintf(buf, len, "%.3f", x);
}

/* The model counter of a row as shown (without the "model.timed." and
 * "shadow.by_cpl." prefixes). */
static void shown_counter(char *shown, size_t len, const char *expr) {
  shown[0] = 0;
  for (const char *t = expr; *t;) {
    if (!strncmp(t, "model.timed.", 12)) t += 12;
    if (!strncmp(t, "shadow.by_cpl.", 14)) t += 14;
    size_t l = strlen(shown);
    if (l + 1 < len) shown[l] = *t, shown[l + 1] = 0;
    t++;
  }
}

/* The verdict of row p: KVM's host noise (VALIDATE_NOISE_STATS, medians)
 * widens the band of a row that counts exits. */
static enum validate_verdict row_verdict(const struct wl_result *r, size_t p, double k, double m,
                                         double *noise) {
  static const char *const stats[] = {VALIDATE_NOISE_STATS};
  *noise = 0;
  if (validate_pairs[p].host_noise)
    for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++)
      *noise += kvm_stat_median(r, stats[i]);
  return validate__verdict_noise(k, m, *noise);
}

/* One PASS/FAIL line per compared row and per checksum, then the summary:
 * a row outside the band fails unless docs/VALIDATION.md explains it (a
 * known difference). Rows where both sides are 0 are not checks. */
static bool write_checks(FILE *f, const struct wl_result *res, size_t nres, enum validate_kind kind,
                         const char *out_dir) {
  struct checklist c;
  checklist__init(&c, f);
  fprintf(f, "\n");
  for (size_t i = 0; i < nres; i++) {
    const struct wl_result *r = &res[i];
    if (!r->ok) {
      checklist__add(&c, CHECK_FAIL, "%s %s=%lu: a run failed (its log is in %s/runs/)", r->w->name,
                     r->w->scale, r->n, out_dir);
      continue;
    }
    checklist__check(&c, r->checksums_equal, "%s checksum: KVM and the model %s", r->w->name,
                     r->checksums_equal ? "agree" : "differ");
    for (size_t p = 0; p < validate_pairs_len; p++) {
      if (!validate__pair_applies(&validate_pairs[p], kind)) continue;
      const char *label = validate_pairs[p].label;
      double k, m;
      pair_values(r, p, &k, &m);
      if (k == 0 && m == 0) continue;
      if (isnan(k) || isnan(m)) {
        checklist__add(&c, CHECK_SKIP, "%s %s: no %s figure", r->w->name, label,
                       isnan(k) ? "KVM" : "model");
        continue;
      }
      double noise;
      row_verdict(r, p, k, m, &noise);
      char text[400];
      enum check_result cr =
          validate__row_check(r->w->name, label, kind, k, m, noise, text, sizeof text);
      checklist__add(&c, cr, "%s", text);
    }
  }
  checklist__summary(&c);
  return checklist__ok(&c);
}

/* The whole table, Markdown, to f. */
static void write_markdown(FILE *f, const struct wl_result *res, size_t nres, const char *host,
                           enum validate_kind emu0, const struct vopts *o, json_t *moved,
                           json_t *still) {
  fprintf(f, "## Model (%s, tlb %s%s%s) vs KVM (%s)\n\n", o->paging, o->tlb,
          o->shadow_policy ? ", shadow policy " : "", o->shadow_policy ? o->shadow_policy : "",
          host);
  fprintf(f,
          "Both sides count the guest's timed region (between its marks): KVM's statistics "
          "(median over %u repetitions) and the model's `model.timed` counters (one run: it is "
          "deterministic). Pairs for a host that %s. Verdict: exact, agree (|model - KVM| <= "
          "max(%.0f, %.0f%% of KVM)) or differ. Rows where both sides are 0 are left out (they "
          "are in the JSON).\n\n",
          o->reps,
          emu0 == VALIDATE_KIND_EMU0     ? "emulates the guest's ring 0 (kvm_pvm)"
          : emu0 == VALIDATE_KIND_NATIVE ? "runs the guest's ring 0 natively with shadow paging"
                                         : "uses two-dimensional paging (EPT/NPT)",
          VALIDATE_TOL_ABS, VALIDATE_TOL_REL * 100);
  fprintf(f, "| workload | N | KVM stat | model counter | KVM | model | model/KVM | verdict |\n");
  fprintf(f, "|---|---|---|---|---:|---:|---:|---|\n");
  for (size_t i = 0; i < nres; i++) {
    const struct wl_result *r = &res[i];
    if (!r->ok) {
      fprintf(f, "| %s | %s=%lu | (run failed) | | | | | |\n", r->w->name, r->w->scale, r->n);
      continue;
    }
    for (size_t p = 0; p < validate_pairs_len; p++) {
      if (!validate__pair_applies(&validate_pairs[p], emu0)) continue;
      double k, m, noise;
      pair_values(r, p, &k, &m);
      if (k == 0 && m == 0) continue;
      char ks[32], ms[32], rs[32], shown[200];
      fmt_num(ks, sizeof ks, k);
      fmt_num(ms, sizeof ms, m);
      double ratio = isnan(k) || isnan(m) ? NAN : validate__ratio(k, m);
      if (isfinite(ratio))
        snprintf(rs, sizeof rs, "%.3f", ratio);
      else
        fmt_num(rs, sizeof rs, ratio);
      shown_counter(shown, sizeof shown, validate_pairs[p].model);
      fprintf(f, "| %s | %s=%lu | %s | %s | %s | %s | %s | %s |\n", r->w->name, r->w->scale, r->n,
              validate_pairs[p].label, shown, ks, ms, rs,
              isnan(k) || isnan(m) ? "n/a"
                                   : validate__verdict_name(row_verdict(r, p, k, m, &noise)));
    }
    if (!r->checksums_equal)
      fprintf(f, "| %s | | **checksums differ between KVM and the model** | | | | | |\n",
              r->w->name);
  }
  fprintf(f, "\n### KVM statistics with no model counterpart (timed region, medians)\n\n");
  fprintf(f, "| workload | statistics that moved |\n|---|---|\n");
  for (size_t i = 0; i < nres; i++) {
    const struct wl_result *r = &res[i];
    if (!r->ok) continue;
    fprintf(f, "| %s |", r->w->name);
    int any = 0;
    for (unsigned s = 0; s < r->kvm.nstats; s++) {
      const char *name = r->kvm.names[s];
      if (is_paired(name, emu0)) continue;
      double d = kvm_stat_median(r, name);
      if (d == 0 || isnan(d)) continue;
      char b[32];
      fmt_num(b, sizeof b, d);
      fprintf(f, "%s %s %s", any++ ? "," : "", name, b);
    }
    fprintf(f, "%s |\n", any ? "" : " none");
  }
  fprintf(f, "\nKVM statistics that moved in some timed region here: ");
  size_t k;
  json_t *v;
  json_array_foreach(moved, k, v) fprintf(f, "%s%s", k ? ", " : "", json_string_value(v));
  fprintf(f, ".\n\nCumulative statistics that stayed 0 in every timed region: ");
  json_array_foreach(still, k, v) fprintf(f, "%s%s", k ? ", " : "", json_string_value(v));
  fprintf(f, ".\n\n### Commands\n\n```\n");
  for (size_t i = 0; i < nres; i++) {
    const struct wl_result *r = &res[i];
    if (r->kvm.cmd[0]) fprintf(f, "%s\n", r->kvm.cmd);
    if (r->model.cmd[0]) fprintf(f, "%s\n", r->model.cmd);
  }
  fprintf(f, "```\n");
}

static json_t *to_json(const struct wl_result *res, size_t nres, const char *host,
                       enum validate_kind emu0, const struct vopts *o, json_t *moved, json_t *still,
                       const char *argline) {
  json_t *wls = json_array();
  for (size_t i = 0; i < nres; i++) {
    const struct wl_result *r = &res[i];
    json_t *params = json_object();
    json_object_set_new(params, r->w->scale, json_integer((json_int_t)r->n));
    for (int f = 0; f < VALIDATE_FIXED_MAX && r->w->fixed[f]; f++) {
      const char *eq = strchr(r->w->fixed[f], '=');
      if (!eq) continue;
      char key[64];
      snprintf(key, sizeof key, "%.*s", (int)(eq - r->w->fixed[f]), r->w->fixed[f]);
      json_object_set_new(params, key, json_string(eq + 1));
    }
    json_t *cmds = json_array();
    if (r->kvm.cmd[0]) json_array_append_new(cmds, json_string(r->kvm.cmd));
    if (r->model.cmd[0]) json_array_append_new(cmds, json_string(r->model.cmd));
    json_t *pairs = json_array(), *others = json_object();
    for (size_t p = 0; r->ok && p < validate_pairs_len; p++) {
      if (!validate__pair_applies(&validate_pairs[p], emu0)) continue;
      double k, m, noise;
      pair_values(r, p, &k, &m);
      bool have = !isnan(k) && !isnan(m);
      json_array_append_new(
          pairs,
          json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "stat", validate_pairs[p].label,
                    "kvm_stat", validate_pairs[p].kvm, "model", validate_pairs[p].model, "kvm",
                    num_j(k), "model_value", num_j(m), "ratio",
                    have ? num_j(validate__ratio(k, m)) : json_null(), "verdict",
                    have ? json_string(validate__verdict_name(row_verdict(r, p, k, m, &noise)))
                         : json_null(),
                    "kvm_reps", reps_j(r->kvm.pair_kvm[p], r->kvm.nrep)));
    }
    for (unsigned s = 0; r->ok && s < r->kvm.nstats; s++) {
      const char *name = r->kvm.names[s];
      double d = kvm_stat_median(r, name);
      if (!is_paired(name, emu0) && d != 0 && !isnan(d))
        json_object_set_new(others, name, num_j(d));
    }
    json_array_append_new(wls,
                          json_pack("{s:s,s:s,s:I,s:o,s:b,s:b,s:o,s:o,s:o}", "name", r->w->name,
                                    "scale", r->w->scale, "n", (json_int_t)r->n, "params", params,
                                    "ok", r->ok, "checksums_equal", r->checksums_equal, "pairs",
                                    pairs, "kvm_only", others, "commands", cmds));
  }
  return json_pack("{s:s,s:i,s:s,s:b,s:s,s:s,s:s,s:s?,s:s,s:i,s:b,s:{s:f,s:f},s:s,s:o,s:O,s:O}",
                   "schema", "vtbench-validation", "version", 3, "host", host, "ring0_emulated",
                   emu0 == VALIDATE_KIND_EMU0, "host_kind", validate__kind_name(emu0), "paging",
                   o->paging, "model_tlb", o->tlb, "model_shadow_policy", o->shadow_policy,
                   "command", argline, "reps", (int)o->reps, "quick", o->quick, "tolerance", "abs",
                   VALIDATE_TOL_ABS, "rel", VALIDATE_TOL_REL, "method",
                   "the guest's timed region on both sides: KVM: median over reps of kvm_stats "
                   "deltas between the marks; model: model.timed (its counters' deltas between "
                   "the same marks)",
                   "workloads", wls, "kvm_stats_moved", moved, "kvm_stats_never_moved", still);
}

static int mkdir_p(const char *dir) {
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static int write_outputs(const char *dir, json_t *doc, const struct wl_result *res, size_t nres,
                         const char *host, enum validate_kind emu0, const struct vopts *o,
                         json_t *moved, json_t *still) {
  char path[4300];
  struct atomic_file af;
  snprintf(path, sizeof path, "%s/validation.md", dir);
  FILE *f = atomic_file__open(&af, path);
  if (!f) goto fail;
  write_markdown(f, res, nres, host, emu0, o, moved, still);
  if (atomic_file__commit(&af)) goto fail;
  snprintf(path, sizeof path, "%s/validation.json", dir);
  f = atomic_file__open(&af, path);
  if (!f) goto fail;
  if (json_dumpf(doc, f, JSON_INDENT(2)) || fputc('\n', f) == EOF) {
    atomic_file__abort(&af);
    goto fail;
  }
  if (atomic_file__commit(&af)) goto fail;
  return 0;
fail:
  msg__error("cannot write %s: %s", path, strerror(errno));
  return -1;
}

/* This host's KVM: its paging and tlb modes (the model runs in them) and
 * kind. 0, or -1 after saying why there is nothing to validate against. */
static int detect_host(struct vopts *o, char *host, size_t hostlen) {
  static struct kvm_host_info h;
  kvm_host__detect(NULL, &h);
  if (!h.dev_openable) {
    msg__error("/dev/kvm cannot be opened (%s): there is no KVM to validate against on this host",
               h.dev_present ? strerror(h.dev_errno) : "no such device");
    return -1;
  }
  enum paging_mode pm;
  enum tlb_mode tm;
  if (kvm_host__paging_mode(&h, &pm) || kvm_host__tlb_mode(&h, &tm) || h.tdp < 0) {
    msg__error("the paging mode of this host's KVM (%s) is unknown (vtbench host show): nothing "
               "to pair the model with",
               kvm_flavour__name(h.flavour));
    return -1;
  }
  o->paging = pm == PAGING_EPT ? "ept" : "shadow";
  o->tlb = tm == TLB_VPID ? "vpid" : "flush";
  o->kind = pm == PAGING_EPT               ? VALIDATE_KIND_TDP
            : h.flavour == KVM_FLAVOUR_PVM ? VALIDATE_KIND_EMU0 /* ring 0 in KVM's emulator */
                                           : VALIDATE_KIND_NATIVE;
  struct utsname u;
  uname(&u);
  snprintf(host, hostlen, "%s, Linux %s", kvm_flavour__name(h.flavour), u.release);
  return 0;
}

/* --kvm-only's DIR/host.json: what the model side needs to know of the KVM
 * host, written next to its runs. */
static int write_host_json(const struct vopts *o, const char *host) {
  char path[4300];
  snprintf(path, sizeof path, "%s/host.json", o->out);
  json_t *j =
      json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:b}", "schema", "vtbench-validation-host", "version",
                1, "host", host, "host_kind", validate__kind_name(o->kind), "paging", o->paging,
                "tlb", o->tlb, "reps", (int)o->reps, "quick", o->quick);
  struct atomic_file af;
  FILE *f = j ? atomic_file__open(&af, path) : NULL;
  int rc = -1;
  if (f) {
    if (json_dumpf(j, f, JSON_INDENT(2)) || fputc('\n', f) == EOF)
      atomic_file__abort(&af);
    else
      rc = atomic_file__commit(&af) ? -1 : 0;
  }
  if (rc) msg__error("cannot write %s: %s", path, strerror(errno));
  json_decref(j);
  return rc;
}

/* --kvm-runs DIR: the KVM host's facts from DIR/host.json. */
static int read_host_json(struct vopts *o, char *host, size_t hostlen) {
  static char path[4300], paging[16], tlb[16];
  snprintf(path, sizeof path, "%s/host.json", o->kvm_runs);
  json_error_t e;
  json_t *j = json_load_file(path, 0, &e);
  if (!j) {
    msg__error("--kvm-runs: cannot read %s (%s): give the --out directory of a vtbench validate "
               "--kvm-only",
               path, e.text);
    return -1;
  }
  const char *h = json_string_value(json_object_get(j, "host"));
  const char *kind = json_string_value(json_object_get(j, "host_kind"));
  const char *pg = json_string_value(json_object_get(j, "paging"));
  const char *tl = json_string_value(json_object_get(j, "tlb"));
  json_int_t reps = json_integer_value(json_object_get(j, "reps"));
  int rc = -1;
  if (!h || !kind || !pg || !tl || reps < 1 || reps > REPS_MAX ||
      !json_is_boolean(json_object_get(j, "quick")) ||
      (strcmp(pg, "ept") && strcmp(pg, "shadow")) || (strcmp(tl, "vpid") && strcmp(tl, "flush"))) {
    msg__error("--kvm-runs: %s lacks host, host_kind, paging (ept|shadow), tlb (vpid|flush), reps "
               "(1..%d) or quick: not written by vtbench validate --kvm-only",
               path, REPS_MAX);
  } else {
    o->kind = !strcmp(kind, "emu0")  ? VALIDATE_KIND_EMU0
              : !strcmp(kind, "tdp") ? VALIDATE_KIND_TDP
                                     : VALIDATE_KIND_NATIVE;
    if (strcmp(kind, validate__kind_name(o->kind))) {
      msg__error("--kvm-runs: %s: host_kind '%s' is not emu0, native or tdp", path, kind);
    } else {
      snprintf(host, hostlen, "%s", h);
      snprintf(paging, sizeof paging, "%s", pg);
      snprintf(tlb, sizeof tlb, "%s", tl);
      o->paging = paging;
      o->tlb = tlb;
      o->reps = (unsigned)reps;
      o->quick = json_is_true(json_object_get(j, "quick"));
      rc = 0;
    }
  }
  json_decref(j);
  return rc;
}

int cmd_validate(int argc, char **argv) {
  static const struct option opts[] = {{"reps", required_argument, NULL, 'r'},
                                       {"quick", no_argument, NULL, 'q'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"only", required_argument, NULL, 'w'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"kvm-only", no_argument, NULL, 'K'},
                                       {"kvm-runs", required_argument, NULL, 'R'},
                                       {"time", no_argument, NULL, 'T'},
                                       {"profile", required_argument, NULL, 'p'},
                                       {"help", no_argument, NULL, 'h'},
                                       {0}};
  struct vopts o = {.reps = 0, .out = "validation", .timeout = 120};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "r:qo:w:t:Tp:h", opts, NULL)) != -1) {
    switch (c) {
    case 'r': {
      long v;
      if (cli__count("reps", optarg, 1, REPS_MAX, &v)) return VTB_EXIT_USAGE;
      o.reps = (unsigned)v;
      break;
    }
    case 'q':
      o.quick = true;
      break;
    case 'o':
      o.out = optarg;
      break;
    case 'w':
      o.only = optarg;
      break;
    case 't': { /* seconds, 0 = none; refvmm's own bound (refvmm --help) */
      long v;
      if (cli__count("timeout", optarg, 0, 10000000, &v)) return VTB_EXIT_USAGE;
      o.timeout = (int)v;
      break;
    }
    case 'K':
      o.kvm_only = true;
      break;
    case 'R':
      o.kvm_runs = optarg;
      break;
    case 'T':
      o.time = true;
      break;
    case 'p':
      o.profile = optarg;
      break;
    case 'h':
      usage(stdout);
      return VTB_EXIT_OK;
    default:
      usage(stderr);
      return VTB_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    msg__error("unexpected argument '%s'", argv[optind]);
    return VTB_EXIT_USAGE;
  }
  if (o.kvm_only && o.kvm_runs) {
    msg__error("--kvm-only and --kvm-runs exclude each other (one writes KVM's side, the other "
               "reads it)");
    return VTB_EXIT_USAGE;
  }
  static char host[256];
  if (o.kvm_runs) { /* the KVM host's facts, as --kvm-only wrote them */
    if (o.reps || o.quick) {
      msg__error("--kvm-runs %s: --reps and --quick are the KVM side's (%s/host.json)", o.kvm_runs,
                 o.kvm_runs);
      return VTB_EXIT_USAGE;
    }
    if (read_host_json(&o, host, sizeof host)) return VTB_EXIT_NOTHING;
  }
  if (!o.reps) o.reps = o.quick ? 3 : 5;
  if (o.profile && !o.time) {
    fprintf(stderr, "vtbench validate: --profile goes with --time (the counts do not depend on "
                    "costs)\n");
    return VTB_EXIT_USAGE;
  }
  for (const char *p = o.only; p && *p;) { /* every name given must exist */
    const char *cm = strchr(p, ',');
    size_t len = cm ? (size_t)(cm - p) : strlen(p);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p);
    if (o.time ? !vtime__workload(name) : !validate__workload(name)) {
      msg__error("--only: unknown workload '%s' (vtbench validate --help lists them)", name);
      return VTB_EXIT_USAGE;
    }
    p = cm ? cm + 1 : NULL;
  }

  if (o.time) {
    struct vtime_opts to = {.out = o.out,
                            .only = o.only,
                            .profile = o.profile,
                            .reps = o.reps,
                            .quick = o.quick,
                            .timeout = o.timeout};
    return validate_time__run(&to, argc, argv);
  }
  if (!o.kvm_runs && detect_host(&o, host, sizeof host)) return VTB_EXIT_NOTHING;
  /* the model's shadow MMU as KVM's on this kind of host */
  o.shadow_policy = o.kind == VALIDATE_KIND_TDP      ? NULL
                    : o.kind == VALIDATE_KIND_NATIVE ? "unsync"
                                                     : "sync";
  char refvmm[4096], images[4096];
  if (paths__refvmm(refvmm, sizeof refvmm) || paths__workloads_dir(images, sizeof images)) {
    msg__error("bin/refvmm or workloads/build not found next to vtbench: run make");
    return VTB_EXIT_NOTHING;
  }
  static struct linux_guest lg;
  bool any_linux = false;
  for (size_t i = 0; i < validate_workloads_len; i++)
    any_linux |=
        selected(&o, validate_workloads[i].name) && linux_guest__named(validate_workloads[i].name);
  if (any_linux) { /* the kernel, the initramfs and a refvmm that boots them */
    linux_guest__find(&lg, refvmm, images);
    if (!lg.ready) {
      fprintf(stderr, "vtbench validate: the Linux guest's workloads cannot run here: missing %s\n",
              lg.missing);
      return VTB_EXIT_NOTHING;
    }
    o.lg = &lg;
  }
  char runs_dir[4200];
  snprintf(runs_dir, sizeof runs_dir, "%s/runs", o.out);
  if (mkdir_p(runs_dir)) {
    msg__error("cannot create %s: %s", runs_dir, strerror(errno));
    return VTB_EXIT_IO;
  }
  enum validate_kind emu0 = o.kind;
  char argline[1024] = "vtbench validate"; /* argv[0] */
  for (int i = 1; i < argc; i++)
    cmd_append(argline, sizeof argline, argv[i]);

  size_t nres = 0;
  struct wl_result *res = calloc(validate_workloads_len, sizeof *res);
  json_t *keep = json_array();
  if (!res || !keep) return VTB_EXIT_FAILED;
  bool failed = false;
  int code = 0;
  spawn__catch_signals(); /* Ctrl-C ends the refvmm run and then the command */
  for (size_t i = 0; i < validate_workloads_len && !spawn__caught(); i++) {
    const struct validate_workload *w = &validate_workloads[i];
    if (!selected(&o, w->name)) continue;
    struct wl_result *r = &res[nres++];
    r->w = w;
    r->n = o.quick ? w->quick : w->base;
    msg__info("%s %s=%lu: KVM x%u%s, model (--paging %s --tlb %s%s%s)%s", w->name, w->scale, r->n,
              o.reps, o.kvm_runs ? " (recorded)" : "", o.paging, o.tlb,
              o.shadow_policy ? " --shadow-policy " : "", o.shadow_policy ? o.shadow_policy : "",
              o.kvm_only ? ": later (--kvm-only)" : "");
    r->ok = !run_side(&o, refvmm, images, w, r->n, false, &r->kvm, keep, &code) &&
            (o.kvm_only || !run_side(&o, refvmm, images, w, r->n, true, &r->model, keep, &code));
    if (code == 5) { /* refused the mode: the host changed under us */
      msg__error("refvmm refused --paging %s on KVM here", o.paging);
      json_decref(keep);
      free(res);
      return VTB_EXIT_NOTHING;
    }
    r->checksums_equal = r->ok && (o.kvm_only || json_equal(r->kvm.checksum, r->model.checksum));
    if (!r->ok || !r->checksums_equal) failed = true;
    if (r->ok && !r->checksums_equal)
      msg__error("%s: the guest checksums of KVM and the model differ", w->name);
  }

  spawn__restore_signals();
  if (spawn__caught()) {
    msg__error("interrupted: %s/validation.md and .json not written", o.out);
    json_decref(keep);
    free(res);
    return VTB_EXIT_INTERRUPTED;
  }
  if (o.kvm_only) { /* the comparison is made where the model runs (--kvm-runs) */
    json_decref(keep);
    free(res);
    if (write_host_json(&o, host)) return VTB_EXIT_IO;
    msg__info("KVM's side in %s/runs and %s/host.json; compare with: vtbench validate --kvm-runs "
              "%s%s%s",
              o.out, o.out, o.out, o.only ? " --only " : "", o.only ? o.only : "");
    return failed ? VTB_EXIT_FAILED : VTB_EXIT_OK;
  }

  /* Which statistics move here at all (any size, any repetition). */
  json_t *moved = json_array(), *still = json_array();
  const struct side *names = NULL;
  for (size_t i = 0; i < nres && !names; i++)
    if (res[i].ok) names = &res[i].kvm;
  for (unsigned s = 0; names && s < names->nstats; s++) {
    bool any = false;
    for (size_t i = 0; i < nres && !any; i++)
      for (unsigned k = 0; res[i].ok && k < res[i].kvm.nstats && !any; k++)
        if (!strcmp(res[i].kvm.names[k], names->names[s]))
          for (unsigned rr = 0; rr < res[i].kvm.nrep; rr++)
            if (res[i].kvm.kvm[k][rr] != 0) any = true;
    json_array_append_new(any ? moved : still, json_string(names->names[s]));
  }

  write_markdown(stdout, res, nres, host, emu0, &o, moved, still);
  if (!write_checks(stdout, res, nres, emu0, o.out)) failed = true;
  fflush(stdout);
  json_t *doc = to_json(res, nres, host, emu0, &o, moved, still, argline);
  int rc = write_outputs(o.out, doc, res, nres, host, emu0, &o, moved, still) ? VTB_EXIT_IO
           : failed                                                           ? VTB_EXIT_FAILED
                                                                              : VTB_EXIT_OK;
  if (rc != VTB_EXIT_IO) msg__info("wrote %s/validation.md and .json", o.out);
  json_decref(doc);
  json_decref(moved);
  json_decref(still);
  json_decref(keep);
  free(res);
  return rc;
}
