/* cmd_calibrate.c - `vtbench calibrate`: measure on this KVM host the costs
 * it can (exit round trips, the trip through refvmm, memory reference
 * latency) and write a cost profile for the model backend (refvmm
 * --profile FILE) in which every figure says whether it was measured here
 * or comes from the base profile. Measurements: calibrate_measure.c; the
 * mapping onto profile figures: calibrate_profile.c; the user's view:
 * docs/COST_MODEL.md, "Calibrating on your host".
 *
 * Exit status: 0 every measurement taken; 1 (VTB_EXIT_FAILED) some failed
 * (the profile is still written with what was measured) or none did (no
 * profile); 2 usage or a bad --base; 3 (VTB_EXIT_NOTHING) no usable
 * /dev/kvm; 20 the profile cannot be written; 130 interrupted (SIGINT,
 * SIGTERM: no profile). VTBENCH_KVM_DEVICE overrides
 * the device checked first (tests use it to see the no-KVM path). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calibrate.h"
#include "cli_num.h"
#include "commands.h"
#include "msg.h"
#include "paths.h"
#include "results/result_doc.h"
#include "scratch.h"
#include "spawn.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench calibrate [--out FILE] [--reps N] [--quick] [--base PROFILE]\n"
          "                         [--only GROUPS] [-v]\n"
          "  Measures this KVM host: VM exit round trips (vmcall and cpuid from ring 3), the\n"
          "  trip through refvmm for an I/O exit (pio), the cost of ring-0 emulation where the\n"
          "  host emulates it, instruction costs (ubench: 11 kernels of one kind each, run\n"
          "  natively in ring 3), the data caches (ptrchase, gups and memstream at L1, L2,\n"
          "  LLC and DRAM working sets), event delivery (syscall) and, under shadow paging,\n"
          "  the shadow MMU's faults (pgfault); each the median of N runs (default 5; --quick:\n"
          "  3 short runs), and each once on the model for what every figure counts. Fits the\n"
          "  figures to the times (least squares, non-negative) and writes a cost profile\n"
          "  (default results/out/calibrated-profile.json) with this host's caches and KVM\n"
          "  flavour, the rest copied from PROFILE (default: the built-in %s);\n"
          "  prints every figure marked measured (and from what) or default.\n"
          "  --only exits,insn,caches,events,shadow measures those groups only (the other\n"
          "  figures stay the base's).\n"
          "  Use it with: refvmm run IMAGE --backend model --profile FILE\n",
          cost_profile__default()->name);
}

/* The command as typed, for measured_on.command and the sources. */
static void command_line(int argc, char **argv, char *buf, size_t len) {
  size_t off = (size_t)snprintf(buf, len, "%s", argc ? argv[0] : "vtbench calibrate");
  for (int i = 1; i < argc && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, " %s", argv[i]);
  if (off >= len && len > 4) memcpy(buf + len - 4, "...", 4);
}

static int kvm_usable(char *err, size_t errlen) {
  const char *dev = getenv("VTBENCH_KVM_DEVICE");
  if (!dev || !*dev) dev = "/dev/kvm";
  int fd = open(dev, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen,
             "%s: cannot open: %s. calibrate measures this host's KVM and needs it (load "
             "kvm_intel, kvm_amd or kvm_pvm and make %s readable and writable); the model "
             "backend runs without it on the built-in profile",
             dev, strerror(errno), dev);
    return 0;
  }
  close(fd);
  return 1;
}

int cmd_calibrate(int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},  {"reps", required_argument, NULL, 'r'},
      {"quick", no_argument, NULL, 'q'},      {"base", required_argument, NULL, 'b'},
      {"only", required_argument, NULL, 'O'}, {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},       {0}};
  const char *out = "results/out/calibrated-profile.json", *base_path = NULL;
  struct calib_opts o = {.reps = 0};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:r:qb:O:vh", opts, NULL)) != -1) {
    switch (c) {
    case 'o':
      out = optarg;
      break;
    case 'r': {
      long v;
      if (cli__count("reps", optarg, 1, CALIB_REPS_MAX, &v)) return VTB_EXIT_USAGE;
      o.reps = (int)v;
      break;
    }
    case 'q':
      o.quick = true;
      break;
    case 'b':
      base_path = optarg;
      break;
    case 'O': {
      char gerr[200];
      o.groups = calibrate__groups(optarg, gerr, sizeof gerr);
      if (o.groups < 0) {
        msg__error("%s", gerr);
        return VTB_EXIT_USAGE;
      }
      break;
    }
    case 'v':
      o.verbose = true;
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
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  if (!o.reps) o.reps = o.quick ? 3 : 5;

  /* Everything that can fail cheaply fails before the first run. */
  static struct cost_profile loaded;
  const struct cost_profile *base = cost_profile__default();
  char err[1024];
  if (base_path) {
    if (cost_profile__load(base_path, &loaded, err, sizeof(err))) {
      msg__error("--base: %s", err);
      return VTB_EXIT_USAGE;
    }
    base = &loaded;
  }
  if (!kvm_usable(err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_NOTHING;
  }
  if (result_doc__check_writable(out, err, sizeof(err))) {
    msg__error("--out: %s", err);
    return VTB_EXIT_IO;
  }
  char refvmm[4200], images[4200];
  if (paths__refvmm(refvmm, sizeof(refvmm))) {
    msg__error("%s: not found or not executable (run make, or set VTBENCH_REFVMM)", refvmm);
    return VTB_EXIT_FAILED;
  }
  if (paths__workloads_dir(images, sizeof(images))) {
    msg__error("%s: no workload images (run make, or set VTBENCH_WORKLOADS)", images);
    return VTB_EXIT_FAILED;
  }
  struct scratch tmp;
  if (scratch__create(&tmp, "calibrate", err, sizeof(err))) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  o.refvmm = refvmm;
  o.images = images;
  o.tmpdir = tmp.path;

  /* Ctrl-C: the running refvmm gets it too; stop after it, clean up. */
  spawn__catch_signals();
  static struct calib_result r;
  memset(&r, 0, sizeof(r));
  o.base = base;
  if (calibrate__host(&r.host, err, sizeof(err)))
    fprintf(stderr,
            "vtbench calibrate: %s: the model runs (instruction and cache figures) are "
            "left out\n",
            err);
  int rc = calibrate__measure(&o, &r);
  spawn__restore_signals();
  scratch__remove(&tmp);
  if (spawn__caught()) {
    msg__error("interrupted: no profile written");
    return VTB_EXIT_INTERRUPTED;
  }
  int failed = 0;
  for (int i = 0; i < CM_COUNT; i++)
    if (!r.m[i].ok && !r.m[i].na) {
      failed++;
      msg__error("%s not measured: %s", r.m[i].label, r.m[i].err);
    }
  struct calib_figure figs[CF_COUNT];
  int nf = rc ? 0 : calibrate__derive(&r, base, figs, CF_COUNT);
  if (rc || !nf || !(r.host.tsc_hz > 0)) {
    msg__error("nothing measured on this host: no profile written");
    return VTB_EXIT_FAILED;
  }
  char cmd[256];
  command_line(argc, argv, cmd, sizeof(cmd));
  json_t *doc = calibrate__profile_json(base, &r, figs, nf, cmd);

  /* What we write must load: check it with the model's own loader first. */
  char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  static struct cost_profile check;
  int bad = !text || cost_profile__parse(text, strlen(text), out, &check, err, sizeof(err));
  free(text);
  if (bad) {
    msg__error("internal error: the profile does not load: %s", err);
    json_decref(doc);
    return VTB_EXIT_FAILED;
  }
  calibrate__print(stdout, base, &r, figs, nf);
  int wrc = calibrate__write(doc, out, err, sizeof(err));
  json_decref(doc);
  if (wrc) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  printf("profile written to %s (refvmm run IMAGE --backend model --profile %s)\n", out, out);
  return failed ? VTB_EXIT_FAILED : VTB_EXIT_OK;
}
