/* main.c - the refvmm command line: run one guest once. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../results/context.h"
#include "../results/result_doc.h"
#include "backend.h"
#include "exit_codes.h"
#include "session.h"

#define DEFAULT_MEM       (256ull << 20)
#define DEFAULT_TIMEOUT_S 300.0

static void usage(FILE *out) {
  char names[128];
  backend__names(names, sizeof names, "|", "|", NULL);
  fprintf(
      out,
      "usage: refvmm run IMAGE.elf [options]\n"
      "       refvmm run --kernel BZIMAGE [--initrd FILE] [--cmdline TEXT] [options]\n"
      "       refvmm --help | --version\n"
      "\n"
      "Run one freestanding guest workload, or boot a Linux kernel, once; print its\n"
      "console output and a summary of VM exits by reason, optionally write a JSON\n"
      "result.\n"
      "\n"
      "options:\n"
      "  --kernel BZIMAGE          boot this x86-64 Linux bzImage (64-bit boot protocol)\n"
      "                            instead of IMAGE.elf (docs/LINUX.md)\n"
      "  --initrd FILE             with --kernel: the initramfs (a newc cpio archive)\n"
      "  --cmdline TEXT            with --kernel: the kernel command line\n"
      "  --backend %-15s backend (default kvm)\n"
      "  --paging shadow|ept|native  paging mode (default: kvm the host module's, which it\n"
      "                            must match; model native, no VMX)\n"
      "  --tlb flush|vpid          TLB mode (default: kvm the host module's, which it must\n"
      "                            match; model flush)\n"
      "  --nmi poll|window         NMI delivery policy (default poll)\n"
      "  --irq poll|window         IRQ delivery policy (default poll)\n"
      "  --poll-us US              poll policy: kick interval while an event waits (default 100)\n"
      "  --nmi-rate HZ             raise NMIs from a VMM timer at HZ (default none)\n"
      "  --irq-rate HZ             raise IRQs from a VMM timer at HZ (default none)\n"
      "  --irq-vector V            vector of --irq-rate's IRQs, 32..255 (default 0x40)\n"
      "  --param K=V               workload parameter (repeatable), e.g. n=1000\n"
      "  --mem SIZE                guest RAM, K/M/G suffixes (default 256M, 8M..3G)\n"
      "  --timeout SECONDS         stop the guest after this long (default %.0f, 0 = never,\n"
      "                            at most 1e7)\n"
      "  --json FILE               write the result document to FILE (atomically; default\n"
      "                            none)\n"
      "  --quiet                   no console echo, no summary, no progress lines\n"
      "  --events LIST             PMU events (libpfm4 names, comma-separated; default:\n"
      "                            the host's default set)\n"
      "                            kvm:exits adds KVM's exits by reason (docs/PROBES.md)\n"
      "  --no-pmu                  no PMU counters (KVM stats and exits still taken)\n"
      "  --no-probes               no exit accounting, KVM stats or PMU (overhead baseline)\n"
      "  --profile FILE            model: cycle cost profile (default: the built-in\n"
      "                            intel-skylake profile; docs/COST_MODEL.md)\n"
      "  --model-baseline run|none model, paging ept|shadow: run the image natively first\n"
      "                            for overhead_vs_native (default run)\n"
      "  --shadow-policy sync|unsync|flood  model, paging shadow: guest last-level page\n"
      "                            tables stay write-protected (sync, default), go out of\n"
      "                            sync as KVM's shadow MMU lets them (unsync), or stay\n"
      "                            write-protected until written 3 times with no fault\n"
      "                            through them (flood; docs/MODEL.md)\n"
      "\n"
      "A mode axis left out has its assist off (tlb flush, nmi poll, irq poll), as in\n"
      "vtbench's modes; paging and tlb on kvm are the host module's, and the model\n"
      "without --paging runs the guest natively (no VMX: the baseline). A\n"
      "parameter left out is the image's default (vtbench workloads NAME), sized for\n"
      "KVM: the model interprets the guest, tens of times slower, and says every 10 s\n"
      "that it is still running.\n"
      "\n"
      "exit codes: 0 ok, 2 usage, 3 image rejected, 4 host problem, 5 unsupported\n"
      "mode, 10 guest failed, 11 guest exception, 12 triple fault, 13 timeout,\n"
      "14 internal error, 15 failed entry, 16 bad hypercall, 20 result not written\n"
      "(docs/EXIT_CODES.md).\n",
      names, DEFAULT_TIMEOUT_S);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "refvmm: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (see refvmm --help)\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* "256M", "1G", "65536K", "268435456" -> bytes; -1 on a malformed value. */
static int parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || s[0] == '-') return -1;
  unsigned shift = 0;
  switch (*end) {
  case 'k':
  case 'K':
    shift = 10;
    end++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    end++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    end++;
    break;
  case 't':
  case 'T':
    shift = 40;
    end++;
    break;
  case '\0':
    break;
  default:
    return -1;
  }
  if (*end == 'i' && end[1] == 'B')
    end += 2; /* "256MiB" */
  else if (*end == 'B' && shift)
    end++; /* "256MB" (binary anyway) */
  if (*end) return -1;
  if (shift && v > (UINT64_MAX >> shift)) return -1;
  *out = (uint64_t)v << shift;
  return 0;
}

enum {
  OPT_BACKEND = 256,
  OPT_PAGING,
  OPT_TLB,
  OPT_NMI,
  OPT_IRQ,
  OPT_PARAM,
  OPT_MEM,
  OPT_TIMEOUT,
  OPT_JSON,
  OPT_QUIET,
  OPT_HELP,
  OPT_VERSION,
  OPT_EVENTS,
  OPT_NO_PMU,
  OPT_NO_PROBES,
  OPT_POLL_US,
  OPT_NMI_RATE,
  OPT_IRQ_RATE,
  OPT_IRQ_VECTOR,
  OPT_PROFILE,
  OPT_MODEL_BASELINE,
  OPT_KERNEL,
  OPT_INITRD,
  OPT_CMDLINE,
  OPT_SHADOW_POLICY
};

static const struct option long_opts[] = {
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"paging", required_argument, NULL, OPT_PAGING},
    {"tlb", required_argument, NULL, OPT_TLB},
    {"nmi", required_argument, NULL, OPT_NMI},
    {"irq", required_argument, NULL, OPT_IRQ},
    {"param", required_argument, NULL, OPT_PARAM},
    {"mem", required_argument, NULL, OPT_MEM},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", required_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"no-pmu", no_argument, NULL, OPT_NO_PMU},
    {"no-probes", no_argument, NULL, OPT_NO_PROBES},
    {"poll-us", required_argument, NULL, OPT_POLL_US},
    {"nmi-rate", required_argument, NULL, OPT_NMI_RATE},
    {"irq-rate", required_argument, NULL, OPT_IRQ_RATE},
    {"irq-vector", required_argument, NULL, OPT_IRQ_VECTOR},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"model-baseline", required_argument, NULL, OPT_MODEL_BASELINE},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"shadow-policy", required_argument, NULL, OPT_SHADOW_POLICY},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Fill cfg from `refvmm run ...`; 0, -1 for --help/--version done, or an
 * exit code > 0. */
static int parse_run(int argc, char **argv, struct vm_config *cfg, struct session_opts *opts) {
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
    switch (c) {
    case OPT_BACKEND: {
      char names[128];
      if (!backend__find(optarg))
        return usage_error("--backend '%s': expected %s", optarg,
                           backend__names(names, sizeof names, ", ", " or ", NULL));
      cfg->backend = optarg;
      break;
    }
    case OPT_PAGING:
      if (paging_mode__parse(optarg, &cfg->modes.paging))
        return usage_error("--paging '%s': expected shadow, ept or native", optarg);
      cfg->modes.paging_set = true;
      break;
    case OPT_TLB:
      if (tlb_mode__parse(optarg, &cfg->modes.tlb))
        return usage_error("--tlb '%s': expected flush or vpid", optarg);
      cfg->modes.tlb_set = true;
      break;
    case OPT_NMI:
      if (event_mode__parse(optarg, &cfg->modes.nmi))
        return usage_error("--nmi '%s': expected poll or window", optarg);
      cfg->modes.nmi_set = true;
      break;
    case OPT_IRQ:
      if (event_mode__parse(optarg, &cfg->modes.irq))
        return usage_error("--irq '%s': expected poll or window", optarg);
      cfg->modes.irq_set = true;
      break;
    case OPT_PARAM:
      if (!strchr(optarg, '=') || optarg[0] == '=')
        return usage_error("--param '%s': expected KEY=VALUE (e.g. n=1000)", optarg);
      if (cfg->nparams >= VM_PARAMS_MAX)
        return usage_error("--param '%s': more than %d parameters", optarg, VM_PARAMS_MAX);
      cfg->params[cfg->nparams++] = optarg;
      break;
    case OPT_MEM:
      if (parse_size(optarg, &cfg->mem_size))
        return usage_error("--mem '%s': expected a size like 256M or 1G", optarg);
      if (cfg->mem_size < VTB_MEM_MIN || cfg->mem_size > VTB_MEM_MAX)
        return usage_error("--mem '%s': outside the range refvmm gives a guest, 8M to 3G (the "
                           "MMIO window and the VMM's reserved pages bound it)",
                           optarg);
      if (cfg->mem_size % 4096)
        return usage_error("--mem '%s': not a multiple of 4K (the guest's page size)", optarg);
      break;
    case OPT_TIMEOUT: {
      char *end;
      errno = 0;
      double t = strtod(optarg, &end);
      if (errno || end == optarg || *end || !(t >= 0) || t > 1e7)
        return usage_error("--timeout '%s': expected seconds from 0 to 1e7 (0 = never)", optarg);
      cfg->timeout_s = t;
      break;
    }
    case OPT_JSON:
      if (!optarg[0]) return usage_error("--json '': expected a file name");
      cfg->json_path = optarg;
      break;
    case OPT_QUIET:
      cfg->quiet = true;
      break;
    case OPT_EVENTS:
      opts->pmu_events = optarg;
      break;
    case OPT_NO_PMU:
      opts->no_pmu = true;
      break;
    case OPT_NO_PROBES:
      opts->no_probes = true;
      break;
    case OPT_POLL_US:
    case OPT_NMI_RATE:
    case OPT_IRQ_RATE: {
      /* events (refvmm/events.h): positive numbers within reason */
      char *end;
      errno = 0;
      double v = strtod(optarg, &end);
      double lo = c == OPT_POLL_US ? 1 : 0.001, hi = 1e6;
      if (errno || end == optarg || *end || !(v >= lo && v <= hi))
        return usage_error("%s '%s': expected a number from %g to %g",
                           c == OPT_POLL_US    ? "--poll-us"
                           : c == OPT_NMI_RATE ? "--nmi-rate"
                                               : "--irq-rate",
                           optarg, lo, hi);
      if (c == OPT_POLL_US) cfg->poll_us = v;
      if (c == OPT_NMI_RATE) cfg->nmi_rate_hz = v;
      if (c == OPT_IRQ_RATE) cfg->irq_rate_hz = v;
      break;
    }
    case OPT_IRQ_VECTOR: {
      char *end;
      errno = 0;
      unsigned long v = strtoul(optarg, &end, 0);
      if (errno || end == optarg || *end || v < 32 || v > 255)
        return usage_error("--irq-vector '%s': expected 32..255", optarg);
      cfg->irq_vector = (uint32_t)v;
      break;
    }
    case OPT_PROFILE:
      if (!optarg[0]) return usage_error("--profile '': expected a cost profile JSON file");
      opts->profile_path = optarg;
      break;
    case OPT_MODEL_BASELINE:
      if (strcmp(optarg, "run") && strcmp(optarg, "none"))
        return usage_error("--model-baseline '%s': expected run or none", optarg);
      opts->model_baseline = strcmp(optarg, "run") == 0;
      break;
    case OPT_KERNEL:
      if (!optarg[0]) return usage_error("--kernel '': expected a bzImage file");
      cfg->kernel = optarg;
      break;
    case OPT_INITRD:
      if (!optarg[0]) return usage_error("--initrd '': expected a cpio archive");
      cfg->initrd = optarg;
      break;
    case OPT_CMDLINE:
      cfg->cmdline = optarg;
      break;
    case OPT_SHADOW_POLICY:
      if (strcmp(optarg, "sync") && strcmp(optarg, "unsync") && strcmp(optarg, "flood"))
        return usage_error("--shadow-policy '%s': expected sync, unsync or flood", optarg);
      cfg->shadow_policy = !strcmp(optarg, "unsync") ? 1 : !strcmp(optarg, "flood") ? 2 : 0;
      cfg->shadow_policy_set = true;
      break;
    case OPT_HELP:
      usage(stdout);
      return -1;
    case OPT_VERSION:
      printf("refvmm %s (git %s)\n", VTB_VERSION, VTB_GIT_REV);
      return -1;
    case ':':
      return usage_error("option '%s' needs a value", argv[optind - 1]);
    default:
      return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (cfg->kernel) {
    if (optind < argc)
      return usage_error("run: '%s' with --kernel: a kernel boot takes no IMAGE.elf", argv[optind]);
    if (cfg->nparams)
      return usage_error("--param %s with --kernel: give the guest's parameters on --cmdline "
                         "(e.g. vtb.n=1000)",
                         cfg->params[0]);
    return 0;
  }
  if (cfg->initrd || cfg->cmdline)
    return usage_error("%s without --kernel: it belongs to a Linux boot",
                       cfg->initrd ? "--initrd" : "--cmdline");
  if (optind >= argc) return usage_error("run: missing IMAGE.elf (or --kernel BZIMAGE)");
  if (optind + 1 < argc) return usage_error("run: unexpected argument '%s'", argv[optind + 1]);
  cfg->image = argv[optind];
  return 0;
}

static int write_json(const struct session *s, const struct vm_config *cfg) {
  json_t *ctx = context__collect(cfg->argc, cfg->argv);
  /* context.tsc/tsc_hz: the rate the session converted ticks with
   * (probes/timing.h; session.c seeds it with the vCPU's KVM rate). */
  if (ctx && s->vm.tsc_hz)
    json_object_set_new(ctx, "tsc_hz", json_integer((json_int_t)s->vm.tsc_hz));
  json_t *doc = result_doc__new(ctx);
  if (!doc) {
    fprintf(stderr, "refvmm: --json %s: out of memory building the result\n", cfg->json_path);
    return EXIT_OUTPUT;
  }
  result_doc__add_run(doc, run_record__to_json(s));
  int rc = result_doc__write(doc, cfg->json_path);
  json_decref(doc);
  if (rc) {
    fprintf(stderr, "refvmm: --json %s: cannot write the result: %s\n", cfg->json_path,
            strerror(-rc));
    return EXIT_OUTPUT;
  }
  return 0;
}

static bool has_cost_model(const struct backend_ops *ops) {
  return ops->load_profile != NULL;
}

static bool has_shadow_policies(const struct backend_ops *ops) {
  return ops->shadow_policies;
}

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv) {
  struct vm_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.backend = "kvm";
  cfg.mem_size = DEFAULT_MEM;
  cfg.timeout_s = DEFAULT_TIMEOUT_S;
  cfg.argc = full_argc;
  cfg.argv = full_argv;
  struct session_opts opts;
  memset(&opts, 0, sizeof opts);
  opts.model_baseline = true; /* --model-baseline run */
  int rc = parse_run(argc, argv, &cfg, &opts);
  if (rc) return rc < 0 ? EXIT_OK : rc;

  const struct backend_ops *be = backend__find(cfg.backend);
  if (!be) {
    fprintf(stderr, "refvmm: backend '%s' is not built into this refvmm\n", cfg.backend);
    return EXIT_UNSUPPORTED;
  }
  if (opts.profile_path && !be->load_profile) {
    char names[128];
    return usage_error("--profile %s: cost profiles apply to --backend %s only (the %s backend "
                       "measures real cycles)",
                       opts.profile_path,
                       backend__names(names, sizeof names, ", ", " or ", has_cost_model),
                       cfg.backend);
  }
  if (cfg.shadow_policy_set && !be->shadow_policies) {
    char names[128];
    return usage_error("--shadow-policy: applies to --backend %s only (the %s backend's shadow "
                       "MMU is the host's)",
                       backend__names(names, sizeof names, ", ", " or ", has_shadow_policies),
                       cfg.backend);
  }
  if (cfg.json_path) {
    char err[512];
    if (result_doc__check_writable(cfg.json_path, err, sizeof err)) {
      fprintf(stderr, "refvmm: --json %s: %s\n", cfg.json_path, err);
      return EXIT_OUTPUT;
    }
  }

  struct session *s = session__new(&cfg, &opts);
  if (!s) {
    fprintf(stderr, "refvmm: out of memory\n");
    return EXIT_HOST;
  }
  int code = session__prepare(s);
  if (code) {
    fprintf(stderr, "%s\n", s->err);
    /* A host problem is a run outcome too (vtbench records it); usage,
     * image and mode refusals are not runs. */
    if (code == EXIT_HOST && cfg.json_path) {
      s->vm.status = RUN_HOST_ERROR;
      snprintf(s->vm.status_detail, sizeof s->vm.status_detail, "%.500s", s->err);
      write_json(s, &cfg);
    }
    session__free(s);
    return code;
  }
  enum run_status st = session__run(s);
  if (!cfg.quiet) summary__print(s, stdout);
  fflush(stdout);
  if (st != RUN_OK) summary__print_status(s, stderr);
  code = run_status__exit_code(st);
  if (cfg.json_path) {
    int jc = write_json(s, &cfg);
    if (jc && code == EXIT_OK) code = jc;
  }
  session__free(s);
  return code;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("refvmm %s (git %s)\n", VTB_VERSION, VTB_GIT_REV);
    return EXIT_OK;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 1, argv + 1, argc, argv);
  return usage_error("unknown command '%s': expected run", argv[1]);
}
