/* context.c - collect the result document's `context`.
 *
 * Names follow Google Benchmark's context where one fits (date, executable,
 * num_cpus, mhz_per_cpu, load_avg); the rest are spelled out with units.
 * CPU identity comes from the CPUID instruction itself (what the guest's
 * hardware really is, as far as a VM lets us see), flags the kernel derives
 * (ept, npt, vnmi, ...) from /proc/cpuinfo.
 */
#include "results/context.h"

#include <cpuid.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probes/pmu.h"
#include "probes/timing.h"
#include "refvmm/kvm/kvm_host.h"

#ifndef VTB_VERSION
#define VTB_VERSION "unknown"
#endif
#ifndef VTB_GIT_REV
#define VTB_GIT_REV "unknown"
#endif

/* json_string() refuses invalid UTF-8 (argv may hold any bytes): replace
 * such bytes with '?' rather than lose the field. */
static json_t *str_json(const char *s) {
  if (!s) return json_null();
  json_t *j = json_string(s);
  if (j) return j;
  char *copy = strdup(s);
  if (!copy) return json_null();
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20) *p = '?';
  j = json_string(copy);
  free(copy);
  return j ? j : json_null();
}

static bool shell_safe(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *s))
      return false;
  return true;
}

void context__join_argv(int argc, char **argv, char *buf, size_t len) {
  size_t o = 0;
  if (!len) return;
  buf[0] = '\0';
#define PUT(c)                                                                                     \
  do {                                                                                             \
    if (o + 1 < len) buf[o++] = (c);                                                               \
  } while (0)
  for (int i = 0; i < argc && argv[i]; i++) {
    const char *a = argv[i];
    if (i) PUT(' ');
    if (shell_safe(a)) {
      for (; *a; a++)
        PUT(*a);
      continue;
    }
    PUT('\'');
    for (; *a; a++) {
      if (*a == '\'') {
        PUT('\'');
        PUT('\\');
        PUT('\'');
        PUT('\'');
      } else {
        PUT(*a);
      }
    }
    PUT('\'');
  }
#undef PUT
  buf[o] = '\0';
}

/* First line of `path` that starts with `key`, value after the separator,
 * quotes and whitespace trimmed. 0 when found. */
static int read_keyed(const char *path, const char *key, char sep, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  char line[4096];
  int rc = -1;
  if (!f) return -1;
  size_t klen = strlen(key);
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, key, klen) != 0) continue;
    char *p = line + klen;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p != sep) continue;
    p++;
    while (*p == ' ' || *p == '\t' || *p == '"')
      p++;
    size_t n = strcspn(p, "\n");
    while (n && (p[n - 1] == '"' || p[n - 1] == ' '))
      n--;
    snprintf(out, len, "%.*s", (int)n, p);
    rc = 0;
    break;
  }
  fclose(f);
  return rc;
}

static bool has_word(const char *list, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = list; (p = strstr(p, word)); p += wl) {
    bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
    bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
    if (start && end) return true;
  }
  return false;
}

json_t *context__cpu(void) {
  json_t *cpu = json_object();
  unsigned a, b, c, d, max_leaf, max_ext;
  char vendor[13] = "";
  bool vmx = false, hyp = false, svm = false;

  if (__get_cpuid(0, &max_leaf, &b, &c, &d)) {
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    json_object_set_new(cpu, "vendor", json_string(vendor));
  } else {
    max_leaf = 0;
    json_object_set_new(cpu, "vendor", json_null());
  }
  if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    unsigned family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    unsigned model = (base_family == 0x6 || base_family == 0xf)
                         ? (((a >> 16) & 0xf) << 4) | base_model
                         : base_model;
    json_object_set_new(cpu, "family", json_integer(family));
    json_object_set_new(cpu, "model", json_integer(model));
    json_object_set_new(cpu, "stepping", json_integer(a & 0xf));
    vmx = c & (1u << 5);
    hyp = c & (1u << 31);
  } else {
    json_object_set_new(cpu, "family", json_null());
    json_object_set_new(cpu, "model", json_null());
    json_object_set_new(cpu, "stepping", json_null());
  }

  char name[49] = "";
  max_ext = __get_cpuid_max(0x80000000u, NULL);
  if (max_ext >= 0x80000001u && __get_cpuid(0x80000001u, &a, &b, &c, &d)) svm = c & (1u << 2);
  if (max_ext >= 0x80000004u) {
    for (unsigned i = 0; i < 3; i++) {
      __cpuid(0x80000002u + i, a, b, c, d);
      memcpy(name + 16 * i, &a, 4);
      memcpy(name + 16 * i + 4, &b, 4);
      memcpy(name + 16 * i + 8, &c, 4);
      memcpy(name + 16 * i + 12, &d, 4);
    }
    name[48] = '\0';
  }
  char *n = name;
  while (*n == ' ')
    n++;
  for (size_t l = strlen(n); l && n[l - 1] == ' '; l--)
    n[l - 1] = '\0';
  if (!*n) read_keyed("/proc/cpuinfo", "model name", ':', name, sizeof(name)), n = name;
  json_object_set_new(cpu, "model_name", *n ? json_string(n) : json_null());

  if (hyp) {
    char hv[13] = "";
    __cpuid(0x40000000u, a, b, c, d);
    memcpy(hv, &b, 4);
    memcpy(hv + 4, &c, 4);
    memcpy(hv + 8, &d, 4);
    json_object_set_new(cpu, "hypervisor_vendor", json_string(hv));
    /* QEMU's TCG translates every instruction: counts are exact, but times
     * are the emulator's, not the named CPU's. */
    bool tcg = !strcmp(hv, "TCGTCGTCGTCG");
    json_object_set_new(cpu, "emulated", json_boolean(tcg));
    if (tcg)
      json_object_set_new(cpu, "emulated_note",
                          json_string("this CPU is emulated by QEMU TCG (hypervisor vendor "
                                      "TCGTCGTCGTCG): counts are exact, timings are the "
                                      "emulator's and are not hardware figures"));
  } else {
    json_object_set_new(cpu, "hypervisor_vendor", json_null());
    json_object_set_new(cpu, "emulated", json_false());
  }

  /* Flags of interest: vmx/svm/hypervisor straight from CPUID, the
   * virtualization features the kernel derives from /proc/cpuinfo. */
  json_t *flags = json_object();
  json_object_set_new(flags, "vmx", json_boolean(vmx));
  json_object_set_new(flags, "svm", json_boolean(svm));
  json_object_set_new(flags, "hypervisor", json_boolean(hyp));
  char line[16384];
  if (read_keyed("/proc/cpuinfo", "flags", ':', line, sizeof(line)) == 0) {
    static const char *const kernel_flags[] = {
        "ept",     "vpid",         "npt",         "vnmi",           "pcid",  "invpcid",
        "pdpe1gb", "constant_tsc", "nonstop_tsc", "tsc_known_freq", "x2apic"};
    for (size_t i = 0; i < sizeof(kernel_flags) / sizeof(kernel_flags[0]); i++)
      json_object_set_new(flags, kernel_flags[i], json_boolean(has_word(line, kernel_flags[i])));
  }
  json_object_set_new(cpu, "flags", flags);
  return cpu;
}

static json_t *kernel_json(void) {
  struct utsname u;
  json_t *k = json_object();
  if (uname(&u) == 0) {
    json_object_set_new(k, "release", json_string(u.release));
    json_object_set_new(k, "version", str_json(u.version));
    json_object_set_new(k, "machine", json_string(u.machine));
  }
  return k;
}

static json_t *tool_json(void) {
  json_t *t = json_object();
  json_object_set_new(t, "name", json_string("vtbench"));
  json_object_set_new(t, "version", json_string(VTB_VERSION));
  json_object_set_new(t, "git_revision", json_string(VTB_GIT_REV));
#ifdef __OPTIMIZE__
  json_object_set_new(t, "build_type", json_string("release"));
#else
  json_object_set_new(t, "build_type", json_string("debug"));
#endif
  bool san = false;
#if defined(__SANITIZE_ADDRESS__)
  san = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  san = true;
#endif
#endif
  json_object_set_new(t, "sanitizers", json_boolean(san));
#if defined(__clang__)
  json_object_set_new(t, "compiler", json_string("clang " __clang_version__));
#elif defined(__GNUC__)
  json_object_set_new(t, "compiler", json_string("gcc " __VERSION__));
#else
  json_object_set_new(t, "compiler", json_string(__VERSION__));
#endif
  return t;
}

/* The host's transparent-huge-page mode, the bracketed word of
 * /sys/kernel/mm/transparent_hugepage/enabled ("always", "madvise" or
 * "never"; guest RAM is advised, so either of the first two backs it with
 * huge pages), or null where the kernel has no THP. */
static json_t *thp_json(void) {
  char buf[256];
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return json_null();
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;
  if (!b || b - a < 2) return json_null();
  *b = '\0';
  return str_json(a + 1);
}

json_t *context__collect(int argc, char **argv) {
  json_t *ctx = json_object();
  if (!ctx) return NULL;
  char buf[4096];

  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_object_set_new(ctx, "date", json_string(buf));

  if (gethostname(buf, sizeof(buf)) == 0) {
    buf[sizeof(buf) - 1] = '\0';
    json_object_set_new(ctx, "host", str_json(buf));
  } else {
    json_object_set_new(ctx, "host", json_null());
  }
  if (read_keyed("/etc/os-release", "PRETTY_NAME", '=', buf, sizeof(buf)) == 0)
    json_object_set_new(ctx, "os", str_json(buf));
  else
    json_object_set_new(ctx, "os", json_null());
  json_object_set_new(ctx, "kernel", kernel_json());
  json_object_set_new(ctx, "cpu", context__cpu());

  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  json_object_set_new(ctx, "num_cpus", ncpu > 0 ? json_integer(ncpu) : json_null());
  if (read_keyed("/proc/cpuinfo", "cpu MHz", ':', buf, sizeof(buf)) == 0)
    json_object_set_new(ctx, "mhz_per_cpu", json_integer((json_int_t)(strtod(buf, NULL) + 0.5)));
  else
    json_object_set_new(ctx, "mhz_per_cpu", json_null());
  if (read_keyed("/proc/meminfo", "MemTotal", ':', buf, sizeof(buf)) == 0)
    json_object_set_new(ctx, "mem_total_bytes", json_integer(strtoll(buf, NULL, 10) * 1024));
  else
    json_object_set_new(ctx, "mem_total_bytes", json_null());
  json_object_set_new(ctx, "thp", thp_json());
  double load[3];
  if (getloadavg(load, 3) == 3) {
    json_t *la = json_array();
    for (int i = 0; i < 3; i++)
      json_array_append_new(la, json_real(load[i]));
    json_object_set_new(ctx, "load_avg", la);
  }

  json_object_set_new(ctx, "tool", tool_json());
  json_object_set_new(ctx, "executable",
                      argc > 0 && argv && argv[0] ? str_json(argv[0]) : json_null());
  char joined[16384];
  context__join_argv(argc, argv, joined, sizeof(joined));
  json_object_set_new(ctx, "command_line", str_json(joined));
  json_t *av = json_array();
  for (int i = 0; i < argc && argv && argv[i]; i++)
    json_array_append_new(av, str_json(argv[i]));
  json_object_set_new(ctx, "argv", av);

  struct kvm_host_info *h = malloc(sizeof(*h));
  if (h && kvm_host__detect(NULL, h) == 0) {
    json_object_set_new(ctx, "kvm", kvm_host__to_json(h));
  } else {
    json_t *k = json_object();
    json_object_set_new(k, "flavour", json_string("unknown"));
    json_object_set_new(k, "detail", json_string("cannot read /sys"));
    json_object_set_new(ctx, "kvm", k);
  }
  free(h);

  /* TSC frequency with where it came from, and what the PMU can count:
   * refvmm replaces tsc_hz/tsc with the vCPU's own when KVM reports it. */
  json_t *tsc = timing__tsc_json();
  json_object_set_new(ctx, "tsc_hz", json_integer(json_integer_value(json_object_get(tsc, "hz"))));
  json_object_set_new(ctx, "tsc", tsc);
  json_object_set_new(ctx, "pmu", pmu__context_json());
  return ctx;
}
