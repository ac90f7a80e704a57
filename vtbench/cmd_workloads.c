/* cmd_workloads.c - `vtbench workloads [NAME]`: the suite, its parameters,
 * what each workload stresses, where its loop runs and whether its image
 * is built; with NAME, that workload's parameters as its image declares
 * them (the table the guest and refvmm read: default, range, meaning). */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "msg.h"
#include "paths.h"
#include "refvmm/elf_loader.h"
#include "workload_catalog.h"

/* path as the user can type it: relative to the working directory when
 * inside it, else canonical. */
static void shown_path(const char *path, char *buf, size_t len) {
  char real[PATH_MAX], cwd[PATH_MAX];
  if (!realpath(path, real)) {
    snprintf(buf, len, "%s", path);
    return;
  }
  size_t n = getcwd(cwd, sizeof(cwd)) ? strlen(cwd) : 0;
  if (n && !strncmp(real, cwd, n) && real[n] == '/')
    snprintf(buf, len, "%s", real + n + 1);
  else
    snprintf(buf, len, "%s", real);
}

/* The image's parameter table, one line each. */
static int show_one(const struct wl_info *w, const char *dir, bool have_dir) {
  char img[4200], shown[4200];
  printf("%s: %s\n  stresses: %s; hot loop in ring %s\n", w->name, w->does, w->stresses, w->ring);
  if (workload_catalog__is_linux(w)) {
    printf("  parameters (kernel command line vtb.KEY=VALUE; docs/LINUX.md):");
    for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name; k++)
      printf(" %s=%s", w->params[k].name, w->params[k].def ? w->params[k].def : "(guest)");
    printf("\n");
    return VTB_EXIT_OK;
  }
  snprintf(img, sizeof(img), "%s/%s.elf", dir, w->name);
  shown_path(img, shown, sizeof(shown));
  if (!have_dir || access(img, R_OK)) {
    msg__error("%s: not built (run make)", have_dir ? shown : "workloads/build");
    return VTB_EXIT_IO;
  }
  struct guest_mem gm;
  if (guest_mem__init(&gm, VTB_MEM_MIN)) {
    msg__error("out of memory");
    return VTB_EXIT_IO;
  }
  static struct elf_image im;
  char err[512];
  int r = elf__load_file(img, &gm, &im, err, sizeof(err));
  guest_mem__destroy(&gm);
  if (r) {
    msg__error("%s", err);
    return VTB_EXIT_IO;
  }
  if (!im.params.present) {
    printf("  %s declares no parameter table (an image built before tables were kept in it)\n",
           shown);
    return VTB_EXIT_OK;
  }
  printf("  parameters (from %s; numbers: decimal or 0x hex, k/m/g suffix):\n", shown);
  printf("  %-12s %20s %20s %20s  %s\n", "key", "default", "min", "max", "meaning");
  for (int i = 0; i < im.params.n; i++) {
    const struct vtb_param *p = &im.params.p[i];
    printf("  %-12s %20" PRIu64 " %20" PRIu64 " %20" PRIu64 "  %s\n", p->key, p->def, p->min,
           p->max, p->help);
  }
  printf("  and every freestanding workload's cpl=0|3 (where the workload allows both) and "
         "syscall=trap|syscall\n");
  return VTB_EXIT_OK;
}

int cmd_workloads(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: vtbench workloads [NAME]\n"
             "  Lists the workloads: parameters with defaults, what each stresses, the ring\n"
             "  its hot loop runs in, and whether its image (workloads/build/NAME.elf; for\n"
             "  linux:NAME the Linux guest's initramfs) is built. With NAME: its parameters\n"
             "  as its image declares them (default, range, meaning), the table refvmm\n"
             "  checks --param against.\n");
      return VTB_EXIT_OK;
    }
    return VTB_EXIT_USAGE;
  }
  char dir[4096], shown[4200];
  int have_dir = !paths__workloads_dir(dir, sizeof(dir));
  if (optind < argc) {
    if (optind + 1 < argc) {
      msg__error("one workload at a time (usage: vtbench workloads [NAME])");
      return VTB_EXIT_USAGE;
    }
    const struct wl_info *w = workload_catalog__find(argv[optind]);
    if (!w) {
      msg__error("no workload '%s' (vtbench workloads lists them)", argv[optind]);
      return VTB_EXIT_USAGE;
    }
    return show_one(w, dir, have_dir);
  }
  int ws = 8; /* the stresses column as wide as its widest entry */
  for (size_t i = 0; i < workload_catalog_len; i++)
    if ((int)strlen(workload_catalog[i].stresses) > ws)
      ws = (int)strlen(workload_catalog[i].stresses);
  printf("%-15s %-7s %-6s %-*s %s\n", "workload", "ring", "image", ws, "stresses", "parameters");
  for (size_t i = 0; i < workload_catalog_len; i++) {
    const struct wl_info *w = &workload_catalog[i];
    bool lx = workload_catalog__is_linux(w);
    char img[4200], params[256];
    if (lx) /* every Linux workload is in the one initramfs */
      snprintf(img, sizeof(img), "%s/linux/initramfs.cpio", dir);
    else
      snprintf(img, sizeof(img), "%s/%s.elf", dir, w->name);
    size_t off = 0;
    params[0] = 0;
    for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name && off < sizeof(params); k++)
      off += (size_t)snprintf(params + off, sizeof(params) - off, "%s%s=%s", k ? " " : "",
                              w->params[k].name, w->params[k].def ? w->params[k].def : "(guest)");
    printf("%-15s %-7s %-6s %-*s %s\n", w->name, w->ring,
           have_dir && !access(img, R_OK) ? "built" : "-", ws, w->stresses, params);
    printf("%-15s   %s\n", "", w->does);
  }
  if (have_dir)
    shown_path(dir, shown, sizeof(shown));
  else
    snprintf(shown, sizeof(shown), "%s (not found: run make)", dir);
  printf("\nEvery freestanding workload also takes syscall=trap|syscall and cpl=0|3 (the\n"
         "runtime reads them); `vtbench workloads NAME` shows a workload's parameters\n"
         "with their ranges, from its image. Images: %s\n",
         shown);
  printf("linux:NAME workloads run under Debian's kernel with the initramfs\n"
         "%s/linux/initramfs.cpio; their parameters go on the kernel command line as\n"
         "vtb.KEY=VALUE (docs/LINUX.md).\n",
         shown);
  return VTB_EXIT_OK;
}
