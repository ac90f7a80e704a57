/* cmd_workloads.c - `vtbench workloads`: the suite, its parameters, what
 * each workload stresses, where its loop runs and whether its image is
 * built. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "paths.h"
#include "workload_catalog.h"

int cmd_workloads(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h') {
      printf("usage: vtbench workloads\n  Lists the workloads: parameters with defaults, what "
             "each stresses, the ring its hot loop runs in, and whether its image "
             "(workloads/build/NAME.elf; for linux:NAME the Linux guest's initramfs) is built.\n");
      return VTB_EXIT_OK;
    }
    return VTB_EXIT_USAGE;
  }
  char dir[4096];
  int have_dir = !paths__workloads_dir(dir, sizeof(dir));
  printf("%-15s %-7s %-6s %-45s %s\n", "workload", "ring", "image", "stresses", "parameters");
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
    printf("%-15s %-7s %-6s %-45s %s\n", w->name, w->ring,
           have_dir && !access(img, R_OK) ? "built" : "-", w->stresses, params);
    printf("%-15s   %s\n", "", w->does);
  }
  printf("\nEvery freestanding workload also takes syscall=trap|syscall and cpl=0|3 (the runtime "
         "reads them). Images: %s%s\n",
         dir, have_dir ? "" : " (not found: run make)");
  printf("linux:NAME workloads run under Debian's kernel with the initramfs %s/linux/"
         "initramfs.cpio; their parameters go on the kernel command line as vtb.KEY=VALUE "
         "(docs/LINUX.md). vtbench runs them once refvmm boots Linux.\n",
         dir);
  return VTB_EXIT_OK;
}
