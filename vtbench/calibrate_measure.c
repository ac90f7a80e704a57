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
#include "refvmm/kvm/kvm_host.h"
#include "refvmm_child.h"
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

static uint64_t xorshift64(uint64_t x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

/* ptrchase: Sattolo permutation from the seed, n loads from line 0. */
static int ref_ptrchase(uint64_t ws, uint64_t n, uint64_t seed, uint64_t *out) {
  uint64_t lines = ws / 64, x = seed, sum = 0, p = 0;
  uint32_t *a = malloc(lines * sizeof(*a)); /* lines <= 2^25 (ws <= 2 GiB) */
  if (!a) return -1;
  for (uint64_t i = 0; i < lines; i++)
    a[i] = (uint32_t)i;
  for (uint64_t i = lines - 1; i > 0; i--) {
    x = xorshift64(x);
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

/* gups (workloads/gups.c): n xorshift64 updates of ws/8 words. */
static int ref_gups(uint64_t ws, uint64_t n, uint64_t seed, uint64_t *out) {
  uint64_t w = ws / 8, x = seed, sum = 0;
  uint64_t *t = malloc(w * sizeof(*t));
  if (!t) return -1;
  for (uint64_t i = 0; i < w; i++)
    t[i] = i;
  for (uint64_t i = 0; i < n; i++) {
    x = xorshift64(x);
    t[x & (w - 1)] ^= x;
  }
  for (uint64_t i = 0; i < w; i++)
    sum += mix64(t[i] + i);
  free(t);
  *out = sum;
  return 0;
}

static uint64_t pow_u64(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return r;
}

/* ubench (workloads/ubench.c): R8..R15 = seed + i summed after n rounds. */
static uint64_t ref_ubench(unsigned kernel, uint64_t n, uint64_t seed) {
  uint64_t base = 8 * seed + 28; /* sum of seed + i, i < 8 */
  switch (kernel) {
  case 0: /* alu */
  case 1: /* alu_dep */
    return base + 32 * n;
  case 2: /* mov */
  case 6: /* load */
    return 36;
  case 3: /* mov_dep */
    return 8 * (seed + 7);
  case 4: /* mul */
    return base * pow_u64(3, 4 * n);
  case 5: /* mul_dep */
    return seed * pow_u64(3, 32 * n) + base - seed;
  case 7: /* load_dep: R8 - its start */
    return base - seed;
  case 8: /* branch */
    return base + 16 * n;
  default: /* stack, nop */
    return base;
  }
}

/* ---- the host ------------------------------------------------------------ */

/* Data or unified cache of `level` of CPU 0: size in bytes and ways from
 * sysfs (what the kernel was told); size from sysconf (glibc's CPUID
 * decoding, which overstates the L3 on some virtual CPUs) when sysfs has
 * none, else the fallback; ways 0 when unknown. */
static uint64_t cache_info(int level, int name, uint64_t fallback, unsigned *ways) {
  *ways = 0;
  for (int i = 0; i < 8; i++) {
    char p[96], type[32] = "", size[32] = "";
    int lvl = 0;
    unsigned w = 0;
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
    snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu0/cache/index%d/ways_of_associativity", i);
    if ((f = fopen(p, "r"))) {
      if (fscanf(f, "%u", &w) != 1) w = 0;
      fclose(f);
    }
    if (lvl != level || !strcmp(type, "Instruction")) continue;
    char *end;
    unsigned long long v = strtoull(size, &end, 10);
    if (*end == 'K')
      v <<= 10;
    else if (*end == 'M')
      v <<= 20;
    if (v) {
      *ways = w;
      return v;
    }
  }
  long v = sysconf(name);
  return v > 0 ? (uint64_t)v : fallback;
}

int calibrate__host(struct calib_host *h, char *err, size_t errlen) {
  static const int names[3] = {_SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE,
                               _SC_LEVEL3_CACHE_SIZE};
  static const uint64_t fallback[3] = {32 << 10, 1 << 20, 16 << 20};
  for (int l = 0; l < 3; l++) {
    unsigned ways;
    uint64_t size = cache_info(l + 1, names[l], fallback[l], &ways);
    /* the model takes whole sets of at least 16 (cost_model.c): else unknown */
    uint64_t kib = size >> 10;
    if (ways && ways <= 32 && kib && (kib * 16) % ways == 0 && (kib * 16) / ways >= 16) {
      h->cache[l].size_kib = (uint32_t)kib;
      h->cache[l].ways = ways;
      if (l == 2) h->llc_nominal_kib = (uint32_t)kib;
      snprintf(h->cache[l].source, sizeof(h->cache[l].source),
               "sysfs /sys/devices/system/cpu/cpu0/cache (level %d): %llu KiB, %u ways", l + 1,
               (unsigned long long)kib, ways);
    }
  }
  static struct kvm_host_info kh;
  kvm_host__detect(NULL, &kh);
  enum paging_mode pm;
  enum tlb_mode tm;
  snprintf(h->kvm, sizeof(h->kvm), "%s", kvm_flavour__name(kh.flavour));
  if (kvm_host__paging_mode(&kh, &pm) || kvm_host__tlb_mode(&kh, &tm)) {
    snprintf(err, errlen, "the paging mode of this host's KVM (%s) is unknown (vtbench host show)",
             kvm_flavour__name(kh.flavour));
    return -1;
  }
  h->shadow = pm == PAGING_SHADOW;
  h->vpid = tm == TLB_VPID;
  h->emulates_ring0 = kh.flavour == KVM_FLAVOUR_PVM;
  h->flavour_known = true;
  return 0;
}

/* ---- the plan ---------------------------------------------------------- */
struct plan_item {
  const char *label, *what, *workload;
  char params[160]; /* space-separated k=v */
  const char *mem;  /* refvmm --mem, or NULL */
  uint64_t n, ws, checksum, seed;
  bool have_checksum;
  int ref;          /* checksum computed when measuring: REF_PTRCHASE, REF_GUPS, else 0 */
  bool model;       /* run once on the model for its counts */
  const char *skip; /* not applicable on this host: why */
};
enum { REF_NONE, REF_PTRCHASE, REF_GUPS };

static uint64_t pow2_floor(uint64_t v) {
  uint64_t p = 1;
  while (p * 2 <= v)
    p *= 2;
  return p;
}

/* Working sets: well inside each level, well past the one before; then
 * 1/2, 1 and 2 x the LLC (ws[4..6]) for where it stops fitting. */
static void level_sizes(const struct calib_host *h, bool quick, uint64_t ws[7]) {
  uint64_t l1 = h->cache[0].size_kib
                    ? (uint64_t)h->cache[0].size_kib << 10
                    : cache_info(1, _SC_LEVEL1_DCACHE_SIZE, 32 << 10, &(unsigned){0});
  uint64_t l2 = h->cache[1].size_kib
                    ? (uint64_t)h->cache[1].size_kib << 10
                    : cache_info(2, _SC_LEVEL2_CACHE_SIZE, 1 << 20, &(unsigned){0});
  uint64_t l3 = h->cache[2].size_kib
                    ? (uint64_t)h->cache[2].size_kib << 10
                    : cache_info(3, _SC_LEVEL3_CACHE_SIZE, 16 << 20, &(unsigned){0});
  ws[0] = pow2_floor(l1 / 3);
  ws[1] = pow2_floor(l2 / 4);
  if (ws[1] < 4 * l1) ws[1] = pow2_floor(l2 / 2);
  ws[2] = pow2_floor(l3 / 4);
  if (ws[2] < 4 * l2) ws[2] = pow2_floor(l3 / 2);
  ws[3] = pow2_floor((quick ? 2 : 4) * l3); /* the model initialises it: --quick halves that */
  if (ws[3] < (64u << 20)) ws[3] = 64u << 20;
  if (ws[3] > (256u << 20)) ws[3] = 256u << 20;
  if (ws[0] < 4096) ws[0] = 4096;
  ws[4] = pow2_floor(l3 / 2);
  ws[5] = pow2_floor(l3);
  ws[6] = pow2_floor(2 * l3);
  if (ws[6] > (256u << 20)) ws[6] = 256u << 20;
}

/* Guest RAM for a working set (rounded to 2 MiB), its tables and the image. */
static const char *mem_for(uint64_t ws) {
  return ws > (96u << 20) ? (ws > (192u << 20) ? "768M" : "512M") : NULL;
}

/* one item: workload with n=N and the other parameters `more` ("" for none),
 * its checksum known in advance */
static void item(struct plan_item *p, const char *label, const char *what, const char *workload,
                 uint64_t n, const char *more, uint64_t checksum) {
  p->label = label;
  p->what = what;
  p->workload = workload;
  p->n = n;
  snprintf(p->params, sizeof(p->params), "n=%lu%s%s", (unsigned long)n, *more ? " " : "", more);
  p->checksum = checksum;
  p->have_checksum = true;
}

static const char *const group_names[] = {"exits", "insn", "caches", "events", "shadow"};

int calibrate__groups(const char *list, char *err, size_t errlen) {
  int g = 0;
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, ",");
    int bit = 0;
    for (size_t k = 0; k < sizeof group_names / sizeof group_names[0]; k++)
      if (strlen(group_names[k]) == n && !strncmp(p, group_names[k], n)) bit = 1 << k;
    if (!bit) {
      snprintf(err, errlen, "--only: unknown group '%.*s' (exits, insn, caches, events, shadow)",
               (int)(n > 40 ? 40 : n), p);
      return -1;
    }
    g |= bit;
    p += n + (p[n] == ',');
  }
  if (!g) snprintf(err, errlen, "--only: no group given (exits, insn, caches, events, shadow)");
  return g ? g : -1;
}

/* The group a measurement belongs to. */
static int group_of(enum calib_meas_id id) {
  if (id <= CM_EMUL0) return CG_EXITS;
  if (id >= CM_UB_ALU && id <= CM_UB_NOP) return CG_INSN;
  if (id == CM_SYSCALL3) return CG_EVENTS;
  if (id == CM_PGFAULT) return CG_SHADOW;
  return CG_CACHES;
}

static void plan(struct plan_item it[CM_COUNT], const struct calib_host *h, bool quick) {
  uint64_t ws[7];
  level_sizes(h, quick, ws);
  memset(it, 0, sizeof(struct plan_item) * CM_COUNT);
  uint64_t q = quick ? 4 : 1, n;
  struct plan_item *p;
  char more[128];

  n = 20000 / q;
  item(&it[CM_VMCALL3], "vmcall cpl=3",
       "VMCALL/VMMCALL from native ring 3, refused (-KVM_EPERM) in the host kernel", "vmcall", n,
       "cpl=3", ref_sum_i(n) - n /* r_i = 2^64 - 1 */);
  item(&it[CM_CPUID3], "cpuid cpl=3",
       "CPUID leaf 0 from native ring 3, answered in the host kernel", "cpuid", n, "cpl=3 leaf=0",
       mix64(0x6370756964ull ^ n) /* all answers equal the first */);
  n = 3000 / q;
  item(&it[CM_MMIO3], "mmio cpl=3", "MMIO write from native ring 3: exit to refvmm and back",
       "mmio", n, "cpl=3", ref_sum_i(n));
  item(&it[CM_PIO0], "pio cpl=0",
       "OUT from ring 0 (emulated on kvm_pvm): exit to refvmm and back, plus the loop", "pio", n,
       "", ref_sum_i(n));
  uint64_t hh = 1;
  for (uint64_t i = 0; i < n; i++)
    hh = ((hh << 7) | (hh >> 57)) + i;
  item(&it[CM_EMUL0], "callret cpl=0",
       "one ring-0 instruction emulated by the host (time / KVM insn_emulation)", "callret", n,
       "cpl=0 seed=1", hh);

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
    p->n = chase_n[k] / (quick ? 5 : 1);
    p->seed = 1;
    snprintf(p->params, sizeof(p->params), "n=%lu ws=%lu page=2m seed=1", (unsigned long)p->n,
             (unsigned long)p->ws);
    p->mem = mem_for(ws[k]);
    p->ref = REF_PTRCHASE;
    p->model = true;
  }

  static const char *const sweep_label[3] = {"ptrchase LLC/2", "ptrchase LLC", "ptrchase 2xLLC"};
  static const char *const sweep_what[3] = {
      "dependent load, working set half the last-level cache",
      "dependent load, working set the last-level cache's size",
      "dependent load, working set twice the last-level cache"};
  for (int k = 0; k < 3; k++) { /* KVM only: where the LLC stops holding a chase */
    p = &it[CM_CHASE_HALF + k];
    p->label = sweep_label[k];
    p->what = sweep_what[k];
    p->workload = "ptrchase";
    p->ws = ws[4 + k];
    p->n = 1000000 / (quick ? 5 : 1);
    p->seed = 1;
    snprintf(p->params, sizeof(p->params), "n=%lu ws=%lu page=2m seed=1", (unsigned long)p->n,
             (unsigned long)p->ws);
    p->mem = mem_for(p->ws);
    p->ref = REF_PTRCHASE;
  }

  static const char *const ub_label[11] = {"ubench alu",     "ubench alu_dep",  "ubench mov",
                                           "ubench mov_dep", "ubench mul",      "ubench mul_dep",
                                           "ubench load",    "ubench load_dep", "ubench branch",
                                           "ubench stack",   "ubench nop"};
  static const char *const ub_what[11] = {
      "32 independent ADDs",      "32 ADDs each on the last",
      "32 MOVs of immediates",    "32 register MOVs each from the last",
      "32 independent IMULs",     "32 IMULs each on the last",
      "32 independent L1 loads",  "32 loads each from the address the last loaded",
      "16 ADD + taken JMP pairs", "16 PUSHes and 16 POPs",
      "32 multi-byte NOPs"};
  n = quick ? 200000 : 2000000;
  for (int k = 0; k < 11; k++) {
    snprintf(more, sizeof(more), "kernel=%d seed=1", k);
    item(&it[CM_UB_ALU + k], ub_label[k], ub_what[k], "ubench", n, more,
         ref_ubench((unsigned)k, n, 1));
    it[CM_UB_ALU + k].model = true;
  }

  static const char *const gups_label[4] = {"gups L2", "gups LLC", "gups 2xLLC", "gups DRAM"};
  static const char *const stream_label[3] = {"memstream L2", "memstream LLC", "memstream DRAM"};
  static const char *const gups_what[4] = {
      "independent random update, working set inside L2",
      "independent random update, working set inside the last-level cache",
      "independent random update, working set twice the last-level cache",
      "independent random update, working set beyond the last-level cache"};
  static const char *const stream_what[3] = {
      "pass of sequential reads and writes, working set inside L2",
      "pass of sequential reads and writes, working set inside the last-level cache",
      "pass of sequential reads and writes, working set beyond the last-level cache"};
  for (int k = 0; k < 4; k++) { /* L2, LLC, 2 x LLC, DRAM */
    uint64_t w = k < 2 ? ws[k + 1] : k == 2 ? ws[6] : ws[3];
    enum calib_meas_id gid = k < 2 ? CM_GUPS_L2 + k : k == 2 ? CM_GUPS_TWO : CM_GUPS_DRAM;
    p = &it[gid];
    p->label = gups_label[k];
    p->what = gups_what[k];
    p->workload = "gups";
    p->ws = w;
    p->n = (k >= 2 ? 2000000 : 4000000) / (quick ? 20 : 1);
    p->seed = 1;
    /* 2 MiB pages keep page walks out of it; a set below 2 MiB takes 4 KiB
     * pages (it fits the TLB) */
    const char *page = w < (2u << 20) ? "4k" : "2m";
    snprintf(p->params, sizeof(p->params), "n=%lu ws=%lu page=%s seed=1", (unsigned long)p->n,
             (unsigned long)w, page);
    p->mem = mem_for(w);
    p->ref = REF_GUPS;
    p->model = true;
    if (k == 2) continue; /* no stream at 2 x LLC */

    p = &it[CM_STREAM_L2 + (k == 3 ? 2 : k)];
    p->label = stream_label[k == 3 ? 2 : k];
    p->what = stream_what[k == 3 ? 2 : k];
    p->workload = "memstream";
    p->ws = w;
    uint64_t words = w / 8;
    /* about 16 M words per run (4 M with --quick), at least one pass */
    p->n = ((quick ? 4u : 16u) << 20) / words;
    if (!p->n) p->n = 1;
    snprintf(p->params, sizeof(p->params), "passes=%lu ws=%lu page=%s", (unsigned long)p->n,
             (unsigned long)w, page);
    p->mem = mem_for(w);
    p->checksum = (p->n + 1) * (words * (words - 1) / 2) + words * (p->n * (p->n + 1) / 2);
    p->have_checksum = true;
    p->model = true;
  }

  n = quick ? 2000 : 20000;
  item(&it[CM_SYSCALL3], "syscall cpl=3",
       "system call from ring 3: #UD delivery, the guest kernel's handler, IRETQ", "syscall", n, "",
       0 - (n + n * (n - 1) / 2));
  it[CM_SYSCALL3].model = true;

  n = quick ? 300 : 2000;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; i++)
    sum += mix64(0x70676661756c74ull + i);
  item(&it[CM_PGFAULT], "pgfault",
       "demand fault: the guest's #PF handler maps a page; shadow paging adds #PF exits", "pgfault",
       n, "", sum);
  it[CM_PGFAULT].model = true;
  if (!h->shadow)
    it[CM_PGFAULT].skip = "the host's KVM uses two-dimensional paging: no shadow #PF exits";
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

#define jpath refvmm_child__path

/* Run the item once on KVM, or on the model with `profile` in the host's
 * modes; the document (new) or NULL with err set. */
static json_t *run_refvmm(const struct calib_opts *o, const struct calib_host *h,
                          const struct plan_item *it, const char *profile, char *err,
                          size_t errlen) {
  char img[4200], json_path[4200], log_path[4200], params[160], timeout[16];
  snprintf(img, sizeof(img), "%s/%s.elf", o->images, it->workload);
  snprintf(json_path, sizeof(json_path), "%s/run.json", o->tmpdir);
  snprintf(log_path, sizeof(log_path), "%s/run.log", o->tmpdir);
  snprintf(params, sizeof(params), "%s", it->params);
  snprintf(timeout, sizeof(timeout), "%d", o->quick ? 60 : 300);
  unlink(json_path);
  const char *argv[48];
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
  if (profile) { /* the model in the host's modes: its counts of the same run */
    argv[a++] = "--backend";
    argv[a++] = "model";
    argv[a++] = "--paging";
    argv[a++] = h->shadow ? "shadow" : "ept";
    argv[a++] = "--tlb";
    argv[a++] = h->vpid ? "vpid" : "flush";
    if (h->shadow) { /* as vtbench validate pairs the model with this host */
      argv[a++] = "--shadow-policy";
      argv[a++] = h->emulates_ring0 ? "sync" : "unsync";
    }
    argv[a++] = "--profile";
    argv[a++] = profile;
    argv[a++] = "--model-baseline";
    argv[a++] = "none";
  } else {
    /* On-CPU time of the vCPU thread: unlike wall time it does not grow
     * when other processes take the CPU (a shared or small host). */
    argv[a++] = "--events";
    argv[a++] = "perf::task-clock";
  }
  argv[a++] = "--timeout";
  argv[a++] = timeout;
  argv[a++] = "--json";
  argv[a++] = json_path;
  argv[a++] = "--quiet";
  argv[a] = NULL;
  char what[200];
  snprintf(what, sizeof(what), "%s%.20s %.100s", profile ? "on the model: " : "", it->workload,
           it->params);
  /* refvmm's own watchdog ends a run at the timeout; the limit here is for
   * a refvmm that hangs anyway */
  int code = refvmm_child__run(argv, log_path, atoi(timeout) + 60.0, err, errlen);
  return code < 0 ? NULL : refvmm_child__result(what, code, json_path, log_path, err, errlen);
}

/* The guest's checksum and iterations of a run; -1 with m->err (or err) set
 * when absent, not the planned iterations or not the host's reference. */
static int check_run(const json_t *run, const struct plan_item *it, char *err, size_t errlen) {
  bool ok = true;
  uint64_t sum = json_u64(jpath(run, "guest.checksum"), &ok);
  uint64_t iters = json_u64(jpath(run, "guest.iterations"), &ok);
  if (!ok || iters != it->n) {
    snprintf(err, errlen, "%.20s %.100s: result lacks the checksum or %lu iterations", it->workload,
             it->params, (unsigned long)it->n);
    return -1;
  }
  if (it->have_checksum && sum != it->checksum) {
    snprintf(err, errlen, "%.20s %.100s: guest checksum %#llx, host reference %#llx", it->workload,
             it->params, (unsigned long long)sum, (unsigned long long)it->checksum);
    return -1;
  }
  return 0;
}

/* Fill rep `k` of m from one KVM run document; 0 or -1 with m->err set. */
static int take(struct calib_meas *m, const struct plan_item *it, enum calib_meas_id id,
                const json_t *doc, struct calib_host *h) {
  const json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
  const json_t *ctx = json_object_get(doc, "context");
  if (check_run(run, it, m->err, sizeof(m->err))) return -1;
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
  if (!(wall > 0)) {
    snprintf(m->err, sizeof(m->err), "%.20s %.100s: result lacks timed.wall_ns", it->workload,
             it->params);
    return -1;
  }
  double iters = (double)it->n;
  int k = m->nrep;
  m->ns[k] = wall / iters;
  m->emul[k] = isnan(emul) ? 0 : emul / iters;
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
    if (s) snprintf(h->kvm, sizeof(h->kvm), "%s", s);
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

/* What each figure counts per iteration, from a model run. */
static int take_model(struct calib_meas *m, const struct plan_item *it, const json_t *doc) {
  const json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
  if (check_run(run, it, m->model_err, sizeof(m->model_err))) return -1;
  const json_t *counts = jpath(run, "model.counts_by_figure");
  if (!json_is_object(counts) ||
      strcmp(json_string_value(jpath(run, "model.modeled_cycles_scope")) ?: "", "timed_region")) {
    snprintf(m->model_err, sizeof(m->model_err),
             "%.20s %.100s on the model: no counts of a timed region (model.counts_by_figure)",
             it->workload, it->params);
    return -1;
  }
  for (int f = 0; f < CF_COUNT; f++) {
    bool ok = true;
    uint64_t v = json_u64(json_object_get(counts, cost_fig__path((enum cost_fig)f)), &ok);
    if (!ok) {
      snprintf(m->model_err, sizeof(m->model_err), "model.counts_by_figure lacks '%s'",
               cost_fig__path((enum cost_fig)f));
      return -1;
    }
    m->feat[f] = (double)v / (double)it->n;
  }
  m->modeled = true;
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

/* The LLC as this host's dependent loads see it (a VM shares it with its
 * neighbours; a victim LLC fills only from L2): the working set at which
 * the chase's latency crosses the midpoint between the LLC's (at a quarter
 * of its nominal size) and DRAM's (at 4 x), interpolated on a log scale
 * between the sweep's sizes. The model's LRU caches lose a cyclic chase
 * entirely past their size, so this is where its cliff goes. */
static void llc_from_sweep(struct calib_host *h, const struct calib_meas *m) {
  static const enum calib_meas_id pts[] = {CM_CHASE_LLC, CM_CHASE_HALF, CM_CHASE_ONE, CM_CHASE_TWO,
                                           CM_CHASE_DRAM};
  const size_t np = sizeof pts / sizeof pts[0];
  for (size_t i = 0; i < np; i++)
    if (!m[pts[i]].ok || !(m[pts[i]].median > 0) || !m[pts[i]].ws) return;
  double lo = m[CM_CHASE_LLC].median, hi = m[CM_CHASE_DRAM].median, mid = (lo + hi) / 2;
  if (!h->cache[2].ways || !(hi > 2 * lo)) return; /* no clear knee */
  size_t k = 1;
  while (k < np && m[pts[k]].median <= mid)
    k++;
  if (k == np) return;
  const struct calib_meas *a = &m[pts[k - 1]], *b = &m[pts[k]];
  double f = (mid - a->median) / (b->median - a->median);
  double ws = (double)a->ws * pow((double)b->ws / (double)a->ws, f);
  uint32_t ways = h->cache[2].ways, kib = (uint32_t)(ws / 1024 / ways) * ways;
  uint32_t floor_kib = 2 * h->cache[1].size_kib;
  if (kib < floor_kib) kib = (floor_kib + ways - 1) / ways * ways;
  if (h->llc_nominal_kib && kib > h->llc_nominal_kib) kib = h->llc_nominal_kib;
  h->cache[2].size_kib = kib;
  snprintf(h->cache[2].source, sizeof(h->cache[2].source),
           "ptrchase sweep: %.0f ns per load at %llu KiB, %.0f at %llu KiB crosses the midpoint "
           "%.0f ns between the LLC's %.0f and DRAM's %.0f ns at %u KiB, %u ways (sysfs: %u "
           "KiB)",
           a->median, (unsigned long long)(a->ws >> 10), b->median,
           (unsigned long long)(b->ws >> 10), mid, lo, hi, kib, ways, h->llc_nominal_kib);
}

/* The profile the model runs are charged with: the base's figures on this
 * host's caches (the counts depend on the caches' geometry, not on costs). */
static int write_model_profile(const struct calib_opts *o, const struct calib_result *r, char *path,
                               size_t len, char *err, size_t errlen) {
  snprintf(path, len, "%s/model-profile.json", o->tmpdir);
  json_t *doc = calibrate__profile_json(o->base, r, NULL, 0, "vtbench calibrate (model runs)");
  int rc = calibrate__write(doc, path, err, errlen);
  json_decref(doc);
  return rc;
}

int calibrate__measure(const struct calib_opts *o, struct calib_result *r) {
  struct plan_item items[CM_COUNT];
  plan(items, &r->host, o->quick);
  for (int i = 0; i < CM_COUNT; i++)
    if (o->groups && !(o->groups & group_of((enum calib_meas_id)i)))
      items[i].skip = "not selected (--only)";
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(r->host.date, sizeof(r->host.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
  for (int i = 0; i < CM_COUNT; i++) {
    struct calib_meas *m = &r->m[i];
    struct plan_item *it = &items[i];
    m->label = it->label;
    m->what = it->what;
    m->ws = it->ws;
    m->ok = true;
    snprintf(m->args, sizeof(m->args), "%s %s%s%s", it->workload, it->params,
             it->mem ? " --mem " : "", it->mem ? it->mem : "");
    if (it->skip) {
      m->ok = false;
      m->na = true;
      snprintf(m->err, sizeof(m->err), "%s", it->skip);
      continue;
    }
    if (it->ref) { /* the host replays the workload once */
      int rc = it->ref == REF_PTRCHASE ? ref_ptrchase(it->ws, it->n, it->seed, &it->checksum)
                                       : ref_gups(it->ws, it->n, it->seed, &it->checksum);
      if (rc) {
        m->ok = false;
        snprintf(m->err, sizeof(m->err), "out of host memory for the %s reference", it->workload);
      }
      it->have_checksum = true;
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
      json_t *doc = run_refvmm(o, &r->host, &items[i], NULL, err, sizeof(err));
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
  llc_from_sweep(&r->host, r->m);
  /* Each measured workload once on the model: what every figure counts. */
  char profile[4300], err[512];
  if (!r->host.flavour_known) {
    for (int i = 0; i < CM_COUNT; i++)
      snprintf(r->m[i].model_err, sizeof(r->m[i].model_err),
               "not run on the model: this host's paging mode is unknown");
  } else if (write_model_profile(o, r, profile, sizeof(profile), err, sizeof(err))) {
    for (int i = 0; i < CM_COUNT; i++)
      snprintf(r->m[i].model_err, sizeof(r->m[i].model_err), "%.300s", err);
  } else {
    for (int i = 0; i < CM_COUNT && !spawn__caught(); i++) {
      struct calib_meas *m = &r->m[i];
      if (!m->ok || !items[i].model) continue;
      json_t *doc = run_refvmm(o, &r->host, &items[i], profile, m->model_err, sizeof(m->model_err));
      if (doc) take_model(m, &items[i], doc);
      json_decref(doc);
      if (o->verbose)
        fprintf(stderr, "calibrate: model %-14s %s\n", m->label, m->modeled ? "ok" : m->model_err);
    }
  }
  if (spawn__caught()) return -1;
  return good ? 0 : -1;
}
