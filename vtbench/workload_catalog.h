/* workload_catalog.h - what vtbench knows about each workload (the
 * suite): parameters with their types, what it stresses and where its hot
 * loop runs. Used by `vtbench workloads` and to validate matrix files. */
#ifndef VTBENCH_WORKLOAD_CATALOG_H
#define VTBENCH_WORKLOAD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

enum wl_param_type { WLP_INT, WLP_WORD };

struct wl_param {
  const char *name;
  enum wl_param_type type;
  const char *def; /* default as text; NULL: the guest's own */
  const char *help;
};

#define WL_PARAMS_MAX 10 /* irqstorm: 8 of its own plus cpl */

struct wl_info {
  const char *name;
  const char *does;
  const char *stresses;
  const char *ring; /* where the hot loop runs: "0", "3", "3 -> 0" */
  struct wl_param params[WL_PARAMS_MAX];
};

/* Workloads of the Linux guest are named linux:NAME (workloads/linux/wl/NAME.c). */
#define WL_LINUX_PREFIX "linux:"

extern const struct wl_info workload_catalog[];
extern const size_t workload_catalog_len;

const struct wl_info *workload_catalog__find(const char *name);
/* True for a workload of the Linux guest (runs under a Linux kernel). */
bool workload_catalog__is_linux(const struct wl_info *w);
/* A measurement tool of vtbench calibrate (ubench), left out of the
 * standard matrix. */
bool workload_catalog__is_tool(const struct wl_info *w);
/* Parameter `key` of workload `w` (the freestanding runtime's common ones
 * included), or NULL. */
const struct wl_param *workload_catalog__param(const struct wl_info *w, const char *key);
/* Comma-separated list of the parameter names of `w` into buf. */
void workload_catalog__param_names(const struct wl_info *w, char *buf, size_t len);

#endif
