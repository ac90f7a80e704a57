/* cmdline.c - the workload and its parameters from the kernel command line:
 * vtb.workload=NAME picks the workload, every other vtb.KEY=VALUE word sets
 * one of its parameters (the same syntax, ranges and messages as the
 * freestanding runtime's key=value parameters, rt/params.c). Words without
 * the vtb. prefix belong to the kernel and are ignored. A key given twice
 * takes its last value, as the kernel does. Dotted words never reach init's
 * argv or envp (the kernel takes them for module parameters), hence
 * /proc/cmdline. */
#include "cmdline.h"

#define PARAMS_MAX 32
#define PREFIX     "vtb."

static const struct lx_workload *wl;
static uint64_t vals[PARAMS_MAX];
static int nparams;

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

static int key_is(const char *k, size_t kn, const char *name) {
  return strlen(name) == kn && !strncmp(k, name, kn);
}

static void list_workloads(void) {
  printf(" (workloads:");
  for (int i = 0; lx_workloads[i]; i++)
    printf(" %s", lx_workloads[i]->name);
  printf(")\n");
}

/* Calls fn on each vtb. word (prefix stripped) until it returns nonzero. */
static int each_word(const char *s, int (*fn)(const char *w, size_t n)) {
  while (*s) {
    while (is_space(*s))
      s++;
    const char *w = s;
    while (*s && !is_space(*s))
      s++;
    size_t n = (size_t)(s - w), pn = sizeof PREFIX - 1;
    if (n > pn && !strncmp(w, PREFIX, pn)) {
      int rc = fn(w + pn, n - pn);
      if (rc) return rc;
    }
  }
  return 0;
}

static const char *wl_name;
static size_t wl_name_len;

static int find_workload(const char *w, size_t n) {
  size_t kn = sizeof "workload=" - 1;
  if (n >= kn && !strncmp(w, "workload=", kn)) wl_name = w + kn, wl_name_len = n - kn;
  return 0;
}

static int set_param(const char *w, size_t n) {
  const char *eq = w;
  while (eq < w + n && *eq != '=')
    eq++;
  if (eq == w + n) {
    printf(WL_MSG_NO_VALUE, (int)n, w);
    return VTB_EXIT_BAD_PARAM;
  }
  size_t kn = (size_t)(eq - w), vn = n - kn - 1;
  const char *v = eq + 1;
  if (key_is(w, kn, "workload")) return 0;
  const struct vtb_param *p = wl->params;
  int i;
  for (i = 0; i < nparams; i++)
    if (key_is(w, kn, p[i].key)) break;
  if (i == nparams) {
    printf(WL_MSG_UNKNOWN, (int)kn, w, wl->name);
    printf(" (keys:");
    for (int j = 0; j < nparams; j++)
      printf(" %s", p[j].key);
    printf(")\n");
    return VTB_EXIT_BAD_PARAM;
  }
  uint64_t x;
  if (wl_param__parse_u64(v, vn, &x)) {
    printf(WL_MSG_NOT_NUMBER, p[i].key, (int)vn, v);
    return VTB_EXIT_BAD_PARAM;
  }
  if (x < p[i].min || x > p[i].max) {
    printf(WL_MSG_RANGE, p[i].key, x, p[i].min, p[i].max);
    return VTB_EXIT_BAD_PARAM;
  }
  vals[i] = x;
  return 0;
}

int lx_cmdline__parse(const char *text) {
  wl = 0;
  wl_name = 0;
  each_word(text, find_workload);
  if (!wl_name) {
    printf("vtb: no workload on the kernel command line: add vtb.workload=NAME");
    list_workloads();
    return VTB_EXIT_BAD_PARAM;
  }
  for (int i = 0; lx_workloads[i] && !wl; i++)
    if (key_is(wl_name, wl_name_len, lx_workloads[i]->name)) wl = lx_workloads[i];
  if (!wl) {
    printf("vtb: unknown workload '%.*s'", (int)wl_name_len, wl_name);
    list_workloads();
    return VTB_EXIT_BAD_PARAM;
  }
  for (nparams = 0; wl->params && wl->params[nparams].key[0];)
    nparams++;
  if (nparams > PARAMS_MAX) {
    printf("vtb: workload %s declares more than %d parameters\n", wl->name, PARAMS_MAX);
    return VTB_EXIT_BAD_PARAM;
  }
  for (int i = 0; i < nparams; i++)
    vals[i] = wl->params[i].def;
  return each_word(text, set_param);
}

const struct lx_workload *lx_cmdline__workload(void) {
  return wl;
}

void lx_cmdline__print(void) {
  for (int i = 0; i < nparams; i++)
    printf(" vtb.%s=%lu", wl->params[i].key, vals[i]);
}

uint64_t param(const char *key) {
  for (int i = 0; wl && i < nparams; i++)
    if (!strcmp(wl->params[i].key, key)) return vals[i];
  printf(WL_MSG_UNDECLARED, wl ? wl->name : "(none)", key);
  console_flush();
  sys_exit(VTB_EXIT_BAD_PARAM);
}
