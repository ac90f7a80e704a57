/* image_params.c - --param against the image's parameter table, with the
 * guest's own number syntax (workloads/rt/wl_params.h), so a mistyped key
 * or a value out of range never starts a guest. */
#include "image_params.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../workloads/rt/wl_params.h"

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* "n ws page seed" into buf */
static void key_list(const struct elf_params *ep, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = '\0';
  for (int i = 0; i < ep->n && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", ep->p[i].key);
  if (!ep->n) snprintf(buf, len, "none");
}

static int runtime_key(const char *k, size_t kn, const char *v, char *err, size_t len,
                       const char *kv) {
  if (kn == 3 && !strncmp(k, "cpl", 3)) {
    if (!strcmp(v, "0") || !strcmp(v, "3")) return 0;
    snprintf(err, len, "--param %s: cpl is 0 or 3", kv);
    return -1;
  }
  if (!strcmp(v, "trap") || !strcmp(v, "syscall")) return 0;
  snprintf(err, len, "--param %s: syscall is trap or syscall", kv);
  return -1;
}

int image_params__check(const struct elf_params *ep, const char *image, const char *const *params,
                        int nparams, char *err, size_t len) {
  if (!ep->present) return 0;
  for (int i = 0; i < nparams; i++) {
    const char *kv = params[i], *eq = strchr(kv, '=');
    if (!eq) {
      snprintf(err, len, "--param '%s': expected KEY=VALUE (e.g. n=1000)", kv);
      return -1;
    }
    size_t kn = (size_t)(eq - kv);
    const char *v = eq + 1;
    if ((kn == 3 && !strncmp(kv, "cpl", 3)) || (kn == 7 && !strncmp(kv, "syscall", 7))) {
      if (runtime_key(kv, kn, v, err, len, kv)) return -1;
      continue;
    }
    const struct vtb_param *p = NULL;
    for (int j = 0; j < ep->n && !p; j++)
      if (strlen(ep->p[j].key) == kn && !strncmp(ep->p[j].key, kv, kn)) p = &ep->p[j];
    if (!p) {
      char keys[VTB_PARAMS_DECL * VTB_PARAM_KEY];
      key_list(ep, keys, sizeof(keys));
      snprintf(err, len,
               "--param %s: %s has no parameter '%.*s'; its parameters: %s (and every "
               "workload's cpl, syscall)",
               kv, base_name(image), (int)kn, kv, keys);
      return -1;
    }
    uint64_t x;
    if (wl_param__parse_u64(v, strlen(v), &x)) {
      snprintf(err, len,
               "--param %s: '%s' is not a number (decimal or 0x hex, optional k/m/g suffix)", kv,
               v);
      return -1;
    }
    if (x < p->min || x > p->max) {
      snprintf(err, len,
               "--param %s: %s is %" PRIu64 ", outside its range [%" PRIu64 ", %" PRIu64 "] (%s)",
               kv, p->key, x, p->min, p->max, p->help);
      return -1;
    }
  }
  return 0;
}

bool image_params__all_default(const struct elf_params *ep, const char *const *params,
                               int nparams) {
  for (int i = 0; i < nparams; i++) {
    const char *eq = strchr(params[i], '=');
    size_t kn = eq ? (size_t)(eq - params[i]) : strlen(params[i]);
    for (int j = 0; j < ep->n; j++)
      if (strlen(ep->p[j].key) == kn && !strncmp(ep->p[j].key, params[i], kn)) return false;
  }
  return true;
}
