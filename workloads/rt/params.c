/* params.c - boot info's "key=value key=value" text against the workload's
 * declared keys and the runtime's own (cpl=0|3, syscall=trap|syscall).
 * Numbers: decimal or 0x hex, optional k/m/g suffix (x1024^n). Any unknown
 * key, malformed value or value out of [min, max] ends the run with
 * VTB_EXIT_BAD_PARAM and a message naming the key. */
#include "kstring.h"
#include "printf.h"
#include "rt.h"

#define PARAMS_MAX 32

int rt_cpl_given;

static uint64_t vals[PARAMS_MAX];
static int nparams;

static __attribute__((noreturn)) void bad(void) {
  console_flush();
  hc_exit(VTB_EXIT_BAD_PARAM);
}

static void list_keys(void) {
  printf(" (keys:");
  for (int i = 0; i < nparams; i++)
    printf(" %s", WORKLOAD.params[i].key);
  printf(" cpl syscall)\n");
}

static int key_is(const char *k, size_t kn, const char *name) {
  return strlen(name) == kn && !strncmp(k, name, kn);
}

static void set_runtime(const char *k, size_t kn, const char *v, size_t vn) {
  if (key_is(k, kn, "syscall")) {
    if (key_is(v, vn, "trap"))
      rt_use_syscall_insn = 0;
    else if (key_is(v, vn, "syscall"))
      rt_use_syscall_insn = 1;
    else {
      printf("vtb: parameter 'syscall': value '%.*s' is not trap or syscall\n", (int)vn, v);
      bad();
    }
    return;
  }
  /* cpl */
  rt_cpl_given = 1;
  unsigned allowed = WORKLOAD.cpl_allowed ? WORKLOAD.cpl_allowed : WL_CPL3;
  if (key_is(v, vn, "0") && (allowed & WL_CPL0))
    rt_cpl = 0;
  else if (key_is(v, vn, "3") && (allowed & WL_CPL3))
    rt_cpl = 3;
  else {
    printf("vtb: parameter 'cpl': value '%.*s' not supported by workload %s (allowed:%s%s)\n",
           (int)vn, v, WORKLOAD.name, (allowed & WL_CPL0) ? " 0" : "",
           (allowed & WL_CPL3) ? " 3" : "");
    bad();
  }
}

void params__parse(void) {
  const struct vtb_param *p = WORKLOAD.params;
  for (nparams = 0; p && p[nparams].key[0]; nparams++) {
    if (nparams == PARAMS_MAX) {
      printf("vtb: workload %s declares more than %d parameters\n", WORKLOAD.name, PARAMS_MAX);
      bad();
    }
    vals[nparams] = p[nparams].def;
  }
  const char *s = rt_boot->params;
  const char *lim =
      s + (rt_boot->params_len < VTB_PARAMS_MAX ? rt_boot->params_len : VTB_PARAMS_MAX - 1);
  while (s < lim && *s) {
    while (s < lim && (*s == ' ' || *s == '\t' || *s == '\n'))
      s++;
    if (s >= lim || !*s) break;
    const char *k = s, *eq = 0;
    while (s < lim && *s && *s != ' ' && *s != '\t' && *s != '\n') {
      if (*s == '=' && !eq) eq = s;
      s++;
    }
    if (!eq) {
      printf(WL_MSG_NO_VALUE, (int)(s - k), k);
      bad();
    }
    size_t kn = eq - k, vn = s - eq - 1;
    const char *v = eq + 1;
    if (key_is(k, kn, "cpl") || key_is(k, kn, "syscall")) {
      set_runtime(k, kn, v, vn);
      continue;
    }
    int i;
    for (i = 0; i < nparams; i++)
      if (key_is(k, kn, p[i].key)) break;
    if (i == nparams) {
      printf(WL_MSG_UNKNOWN, (int)kn, k, WORKLOAD.name);
      list_keys();
      bad();
    }
    uint64_t x;
    if (wl_param__parse_u64(v, vn, &x)) {
      printf(WL_MSG_NOT_NUMBER, p[i].key, (int)vn, v);
      bad();
    }
    if (x < p[i].min || x > p[i].max) {
      printf(WL_MSG_RANGE, p[i].key, x, p[i].min, p[i].max);
      bad();
    }
    vals[i] = x;
  }
}

uint64_t param(const char *key) {
  for (int i = 0; i < nparams; i++)
    if (!strcmp(WORKLOAD.params[i].key, key)) return vals[i];
  if (!strcmp(key, "cpl")) return (uint64_t)rt_cpl;
  printf(WL_MSG_UNDECLARED, WORKLOAD.name, key);
  bad();
}
