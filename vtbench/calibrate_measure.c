/* calibrate_measure.c - the measurements of `vtbench calibrate`: refvmm runs
 * of small workloads on /dev/kvm, each checked (status ok, checksum equal to
 * the host's own reference) and reduced to time per iteration of the timed
 * region; the median over the repetitions is the figure.
 *
 * Why these runs (docs/KVM_MODES.md, docs/PROBES.md): on kvm_pvm the guest's
 * ring 0 is emulated instruction by instruction and ring 3 runs natively, so
 * the honest exit round trips come from ring 3 (vmcall cpl=3: refused with
 * -KVM_EPERM in the host kernel, the cheapest handled exit; cpuid cpl=3;
 * mmio cpl=3: out to refvmm and back). OUT cannot run in ring 3 there, so
 * the user-space I/O path is measured from ring 0 (pio) together with the
 * cost of one emulated ring-0 instruction (callret cpl=0 over KVM's
 * insn_emulation count) to take the loop's emulation out. ptrchase gives
 * ns per dependent load at working sets sized from this host's caches. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "msg.h"
#include "results/result_doc.h"
#include "spawn.h"

/* ---- host references of the checksums (docs/ABI.md, workload headers) ---- */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t ref_sum_i(uint64_t n) { /* sum_{i<n} (i mod 2^32), n <= 2^32 */
  return n * (n - 1) / 2;
}

/* ptrchase: Sattolo permutation from the seed, n loads from line 0. */
static int ref_ptrchase(uint64_t ws, uint64_t n, uint64_t seed, uint64_t *out) {
  uint64_t lines = ws / 64, x = seed, sum = 0, p = 0;
  uint32_t *a = malloc(lines * sizeof(*a)); /* lines <= 2^25 (ws <= 2 GiB) */
  if (!a) return -1;
  for (uint64_t i = 0; i < lines; i++)
    a[i] = (uint32_t)i;
  for (uint64_t i = lines - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t j = x % i;
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  for (uint64_t k = 0; k < n; k++) {
    p = a[p];
    sum += p;
  }
  free(a);
  *out = sum;
  return 0;
}

/* ---- the plan ---------------------------------------------------------- */
struct plan_item {
  const char *label, *what, *workload;
  char params[128]; /* space-separated k=v */
  const char *mem;  /* refvmm --mem, or NULL */
  uint64_t n, ws, checksum;
  bool have_checksum;
};

/* Data or unified cache of `level` of CPU 0 in bytes: sysfs first (what the
 * kernel was told), then sysconf (glibc's CPUID decoding, which overstates
 * the L3 on some virtual CPUs), then the fallback. */
static uint64_t cache_size(int level, int name, uint64_t fallback) {
  for (int i = 0; i < 8; i++) {
    char p[96], type[32] = "", size[32] = "";
    int lvl = 0;
    snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    FILE *f = fopen(p, "r");
    if (!f) break;
    if (fscanf(f, "%d", &lvl) != 1) lvl = 0;
    fclose(f);
    snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    if ((f = fopen(p, "r"))) {
      if (fscanf(f, "%31s", type) != 1) type[0] = 0;
      fclose(f);
    }
    snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if ((f = fopen(p, "r"))) {
      if (fscanf(f, "%31s", size) != 1) size[0] = 0;
      fclose(f);
    }
    if (lvl != level || !strcmp(type, "Instruction")) continue;
    char *end;
    unsigned long long v = strtoull(size, &end, 10);
    if (*end == 'K')
      v <<= 10;
    else if (*end == 'M')
      v <<= 20;
    if (v) return v;
  }
  long v = sysconf(name);
  return v > 0 ? (uint64_t)v : fallback;
}

static uint64_t pow2_floor(uint64_t v) {
  uint64_t p = 1;
  while (p * 2 <= v)
    p *= 2;
  return p;
}

/* Working sets: well inside each level, well past the one before. */
static void chase_sizes(uint64_t ws[4]) {
  uint64_t l1 = cache_size(1, _SC_LEVEL1_DCACHE_SIZE, 32 << 10);
  uint64_t l2 = cache_size(2, _SC_LEVEL2_CACHE_SIZE, 1 << 20);
  uint64_t l3 = cache_size(3, _SC_LEVEL3_CACHE_SIZE, 16 << 20);
  ws[0] = pow2_floor(l1 / 3);
  ws[1] = pow2_floor(l2 / 4);
  if (ws[1] < 4 * l1) ws[1] = pow2_floor(l2 / 2);
  ws[2] = pow2_floor(l3 / 4);
  if (ws[2] < 4 * l2) ws[2] = pow2_floor(l3 / 2);
  ws[3] = pow2_floor(4 * l3);
  if (ws[3] < (64u << 20)) ws[3] = 64u << 20;
  if (ws[3] > (256u << 20)) ws[3] = 256u << 20;
  if (ws[0] < 4096) ws[0] = 4096;
}

/* one exit-path item: workload `workload` with n=N and the other parameters
 * `more` ("" for none), its checksum known in advance */
static void exit_item(struct plan_item *p, const char *label, const char *what,
                      const char *workload, uint64_t n, const char *more, uint64_t checksum) {
  p->label = label;
  p->what = what;
  p->workload = workload;
  p->n = n;
  snprintf(p->params, sizeof(p->params), "n=%lu%s%s", (unsigned long)n, *more ? " " : "", more);
  p->checksum = checksum;
  p->have_checksum = true;
}

static void plan(struct plan_item it[CM_COUNT], bool quick) {
  uint64_t ws[4];
  chase_sizes(ws);
  memset(it, 0, sizeof(struct plan_item) * CM_COUNT);
  uint64_t q = quick ? 4 : 1, n;
  struct plan_item *p;

  n = 20000 / q;
  exit_item(&it[CM_VMCALL3], "vmcall cpl=3",
            "VMCALL/VMMCALL from native ring 3, refused (-KVM_EPERM) in the host kernel", "vmcall",
            n, "cpl=3", ref_sum_i(n) - n /* r_i = 2^64 - 1 */);
  exit_item(&it[CM_CPUID3], "cpuid cpl=3",
            "CPUID leaf 0 from native ring 3, answered in the host kernel", "cpuid", n,
            "cpl=3 leaf=0", mix64(0x6370756964ull ^ n) /* all answers equal the first */);
  n = 3000 / q;
  exit_item(&it[CM_MMIO3], "mmio cpl=3", "MMIO write from native ring 3: exit to refvmm and back",
            "mmio", n, "cpl=3", ref_sum_i(n));
  exit_item(&it[CM_PIO0], "pio cpl=0",
            "OUT from ring 0 (emulated on kvm_pvm): exit to refvmm and back, plus the loop", "pio",
            n, "", ref_sum_i(n));
  uint64_t h = 1;
  for (uint64_t i = 0; i < n; i++)
    h = ((h << 7) | (h >> 57)) + i;
  exit_item(&it[CM_EMUL0], "callret cpl=0",
            "one ring-0 instruction emulated by the host (time / KVM insn_emulation)", "callret", n,
            "cpl=0 seed=1", h);

  static const char *const chase_label[4] = {"ptrchase L1", "ptrchase L2", "ptrchase LLC",
                                             "ptrchase DRAM"};
  static const char *const chase_what[4] = {
      "dependent load, working set inside L1", "dependent load, working set inside L2",
      "dependent load, working set inside the last-level cache",
      "dependent load, working set beyond the last-level cache"};
  const uint64_t chase_n[4] = {4000000, 4000000, 2000000, 1000000};
  for (int k = 0; k < 4; k++) {
    p = &it[CM_CHASE_L1 + k];
    p->label = chase_label[k];
    p->what = chase_what[k];
    p->workload = "ptrchase";
    p->ws = ws[k];
    p->n = chase_n[k] / (quick ? 20 : 1);
    snprintf(p->params, sizeof(p->params), "n=%lu ws=%lu page=2m seed=1", (unsigned long)p->n,
             (unsigned long)p->ws);
    /* Guest RAM: the set, rounded to 2 MiB, its tables, and the image's share. */
    p->mem = ws[k] > (96u << 20) ? (ws[k] > (192u << 20) ? "768M" : "512M") : NULL;
  }
}

/* ---- one refvmm run ------------------------------------------------------- */
static uint64_t json_u64(const json_t *v, bool *ok) {
  if (json_is_integer(v)) return (uint64_t)json_integer_value(v);
  if (json_is_string(v)) {
    char *end;
    const char *s = json_string_value(v);
    uint64_t u = strtoull(s, &end, 0);
    if (*s && !*end) return u;
  }
  *ok = false;
  return 0;
}

static double json_num(const json_t *v) {
  if (json_is_integer(v)) return (double)json_integer_value(v);
  if (json_is_real(v)) return json_real_value(v);
  if (json_is_string(v)) return strtod(json_string_value(v), NULL);
  return NAN;
}

static const json_t *jpath(const json_t *j, const char *path) {
  char buf[256], *save = NULL;
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *t = strtok_r(buf, ".", &save); t && j; t = strtok_r(NULL, ".", &save))
    j = json_object_get(j, t);
  return j;
}

static void last_line(const char *path, char *buf, size_t len) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof(line), f))
    if (line[0] != '\n') {
      size_t k = strnlen(line, len - 1);
      memcpy(buf, line, k);
      buf[k] = 0;
    }
  fclose(f);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = 0;
}

/* Run the item once; the document (new) or NULL with err set. */
static json_t *run_refvmm(const struct calib_opts *o, const struct plan_item *it, char *err,
                          size_t errlen) {
  char img[4200], json_path[4200], log_path[4200], params[128], timeout[16];
  snprintf(img, sizeof(img), "%s/%s.elf", o->images, it->workload);
  snprintf(json_path, sizeof(json_path), "%s/run.json", o->tmpdir);
  snprintf(log_path, sizeof(log_path), "%s/run.log", o->tmpdir);
  snprintf(params, sizeof(params), "%s", it->params);
  snprintf(timeout, sizeof(timeout), "%d", o->quick ? 60 : 300);
  unlink(json_path);
  const char *argv[40];
  int a = 0;
  argv[a++] = o->refvmm;
  argv[a++] = "run";
  argv[a++] = img;
  char *save = NULL;
  for (char *t = strtok_r(params, " ", &save); t && a < 28; t = strtok_r(NULL, " ", &save)) {
    argv[a++] = "--param";
    argv[a++] = t;
  }
  if (it->mem) {
    argv[a++] = "--mem";
    argv[a++] = it->mem;
  }
  /* On-CPU time of the vCPU thread: unlike wall time it does not grow
   * when other processes take the CPU (a shared or small host). */
  argv[a++] = "--events";
  argv[a++] = "perf::task-clock";
  argv[a++] = "--timeout";
  argv[a++] = timeout;
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a++] = "--quiet";
  argv[a] = NULL;
  /* refvmm's own watchdog ends a run at the timeout; the limit here is for
   * a refvmm that hangs anyway */
  struct spawn_opts so = {
      .argv = argv, .out_file = log_path, .err_to_out = true, .timeout_s = atoi(timeout) + 60.0};
  struct spawn_result sr;
  if (spawn__run(&so, &sr)) {
    snprintf(err, errlen, "cannot run %.200s: %s", o->refvmm, strerror(sr.error));
    return NULL;
  }
  int code = sr.status;
  char rerr[512];
  json_t *doc = access(json_path, R_OK) ? NULL : result_doc__read(json_path, rerr, sizeof(rerr));
  const char *status =
      doc ? json_string_value(jpath(json_array_get(json_object_get(doc, "runs"), 0), "status"))
          : NULL;
  if (code || !status || strcmp(status, "ok")) {
    char tail[400];
    last_line(log_path, tail, sizeof(tail));
    snprintf(err, errlen, "%.20s %.90s: refvmm exit %d, status %.20s: %.120s", it->workload,
             it->params, code, status ? status : "(no result)", tail[0] ? tail : "no output");
    json_decref(doc);
    return NULL;
  }
  return doc;
}

/* Fill rep `k` of m from one run document; 0 or -1 with m->err set. */
static int take(struct calib_meas *m, const struct plan_item *it, enum calib_meas_id id,
                const json_t *doc, struct calib_host *h) {
  const json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
  const json_t *ctx = json_object_get(doc, "context");
  bool ok = true;
  uint64_t sum = json_u64(jpath(run, "guest.checksum"), &ok);
  uint64_t iters = json_u64(jpath(run, "guest.iterations"), &ok);
  double wall = json_num(jpath(run, "timed.wall_ns"));
  double emul = json_num(jpath(run, "kvm_stats.vcpu.insn_emulation.value"));
  const json_t *tc = jpath(run, "pmu.perf::task-clock");
  double task = json_is_true(json_object_get(tc, "supported"))
                    ? json_num(json_object_get(tc, "scaled"))
                    : NAN;
  if (task > 0) {
    wall = task;
    m->task_clock++;
  }
  if (!ok || iters != it->n || !(wall > 0)) {
    snprintf(m->err, sizeof(m->err),
             "%.20s %.100s: result lacks checksum, iterations or timed.wall_ns", it->workload,
             it->params);
    return -1;
  }
  if (it->have_checksum && sum != it->checksum) {
    snprintf(m->err, sizeof(m->err), "%.20s %.100s: guest checksum %#llx, host reference %#llx",
             it->workload, it->params, (unsigned long long)sum, (unsigned long long)it->checksum);
    return -1;
  }
  int k = m->nrep;
  m->ns[k] = wall / (double)iters;
  m->emul[k] = isnan(emul) ? 0 : emul / (double)iters;
  m->handling_ns[k] = NAN;
  const json_t *br = jpath(run, "exits.by_reason");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)br, key, v) {
    if (!strcmp(key, "IO") || !strcmp(key, "MMIO"))
      m->handling_ns[k] = json_num(jpath(v, "latency_ns.p50"));
  }
  if (id == CM_EMUL0) {
    if (!(emul > 0)) {
      snprintf(m->err, sizeof(m->err),
               "%.20s %.100s: KVM counted no emulated instructions: this host runs ring 0 "
               "natively (not needed there)",
               it->workload, it->params);
      m->na = true;
      return -1;
    }
    m->ns[k] = wall / emul;
  }
  if (!h->host[0]) {
    const char *s = json_string_value(json_object_get(ctx, "host"));
    snprintf(h->host, sizeof(h->host), "%s", s ? s : "unknown-host");
    s = json_string_value(jpath(ctx, "kvm.flavour"));
    snprintf(h->kvm, sizeof(h->kvm), "%s", s ? s : "unknown");
    const char *vendor = json_string_value(jpath(ctx, "cpu.vendor"));
    s = json_string_value(jpath(ctx, "cpu.model_name"));
    snprintf(h->cpu, sizeof(h->cpu), "%s (%s family %d model %d), %d MHz, host of %s", s ? s : "?",
             vendor ? vendor : "?", (int)json_integer_value(jpath(ctx, "cpu.family")),
             (int)json_integer_value(jpath(ctx, "cpu.model")),
             (int)json_integer_value(json_object_get(ctx, "mhz_per_cpu")), h->kvm);
    h->tsc_hz = json_num(json_object_get(ctx, "tsc_hz"));
  }
  m->nrep++;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_of(const double *v, int n, double *lo, double *hi) {
  double s[CALIB_REPS_MAX];
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(v[i])) s[k++] = v[i];
  if (!k) return NAN;
  qsort(s, (size_t)k, sizeof(double), cmp_double);
  if (lo) *lo = s[0];
  if (hi) *hi = s[k - 1];
  return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

int calibrate__measure(const struct calib_opts *o, struct calib_result *r) {
  struct plan_item items[CM_COUNT];
  plan(items, o->quick);
  memset(r, 0, sizeof(*r));
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(r->host.date, sizeof(r->host.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
  for (int i = 0; i < CM_COUNT; i++) {
    struct calib_meas *m = &r->m[i];
    m->label = items[i].label;
    m->what = items[i].what;
    m->ws = items[i].ws;
    m->ok = true;
    snprintf(m->args, sizeof(m->args), "%s %s%s%s", items[i].workload, items[i].params,
             items[i].mem ? " --mem " : "", items[i].mem ? items[i].mem : "");
    if (items[i].ws) { /* the host replays the chase once */
      if (ref_ptrchase(items[i].ws, items[i].n, 1, &items[i].checksum)) {
        m->ok = false;
        snprintf(m->err, sizeof(m->err), "out of host memory for the ptrchase reference");
      }
      items[i].have_checksum = true;
    }
  }
  int reps = o->reps < 1 ? 1 : o->reps > CALIB_REPS_MAX ? CALIB_REPS_MAX : o->reps;
  /* Repetitions interleaved, so a slow phase of the host hits every figure
   * a little rather than one figure entirely. */
  for (int rep = 0; rep < reps && !spawn__caught(); rep++) {
    for (int i = 0; i < CM_COUNT && !spawn__caught(); i++) {
      struct calib_meas *m = &r->m[i];
      if (!m->ok) continue;
      char err[sizeof(m->err)];
      json_t *doc = run_refvmm(o, &items[i], err, sizeof(err));
      if (!doc) {
        m->ok = false;
        memcpy(m->err, err, sizeof(m->err));
      } else {
        if (take(m, &items[i], (enum calib_meas_id)i, doc, &r->host)) m->ok = false;
        json_decref(doc);
      }
      if (o->verbose)
        fprintf(stderr, "calibrate: rep %d/%d %-14s %s\n", rep + 1, reps, m->label,
                m->ok ? "ok" : m->err);
    }
  }
  if (spawn__caught()) return -1;
  int good = 0;
  for (int i = 0; i < CM_COUNT; i++) {
    struct calib_meas *m = &r->m[i];
    if (!m->ok || !m->nrep) {
      m->ok = false;
      continue;
    }
    m->median = median_of(m->ns, m->nrep, &m->lo, &m->hi);
    m->emul_median = median_of(m->emul, m->nrep, NULL, NULL);
    m->handling_median = median_of(m->handling_ns, m->nrep, NULL, NULL);
    good++;
  }
  return good ? 0 : -1;
}
