/* boot_info.c - fill struct vtb_boot_info at VTB_BOOTINFO_GPA: RAM facts and
 * the run's key=value parameters joined with single spaces. Parameters are
 * validated here so the guest's simple parser never sees ambiguous text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "boot_info.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static bool key_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* printable ASCII without whitespace: the guest splits on spaces */
static bool value_char(char ch) {
  return ch > ' ' && ch < 0x7f;
}

static int check_param(int i, const char *p, char *err, size_t errlen) {
  if (!p) return fail(err, errlen, "param %d is missing (NULL)", i);
  const char *eq = strchr(p, '=');
  if (!eq)
    return fail(err, errlen, "param %d '%s' has no '=', expected KEY=VALUE (e.g. n=1000)", i, p);
  if (eq == p) return fail(err, errlen, "param %d '%s' has an empty key, expected KEY=VALUE", i, p);
  for (const char *k = p; k < eq; k++)
    if (!key_char(*k))
      return fail(err, errlen,
                  "param %d '%s': key has character 0x%02x at position %d, expected only "
                  "[a-z0-9_]",
                  i, p, (unsigned char)*k, (int)(k - p));
  const char *v = eq + 1;
  if (!*v) return fail(err, errlen, "param %d '%s' has an empty value, expected KEY=VALUE", i, p);
  for (const char *c = v; *c; c++)
    if (!value_char(*c))
      return fail(err, errlen,
                  "param %d '%s': value has byte 0x%02x at position %d, expected printable "
                  "ASCII without whitespace",
                  i, p, (unsigned char)*c, (int)(c - p));
  return 0;
}

int boot_info__write(struct guest_mem *gm, uint64_t free_start, uint64_t tsc_hz, uint32_t flags,
                     const char *const *params, int nparams, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!gm || !guest_mem__ptr(gm, VTB_BOOTINFO_GPA, sizeof(struct vtb_boot_info)))
    return fail(err, errlen, "boot info at 0x%llx does not fit in guest RAM", VTB_BOOTINFO_GPA);
  if (free_start > gm->size || free_start % 4096)
    return fail(err, errlen,
                "free_start is 0x%llx, expected a page-aligned address within RAM size 0x%llx",
                (unsigned long long)free_start, (unsigned long long)gm->size);
  if (nparams < 0 || nparams > VM_PARAMS_MAX || (nparams > 0 && !params))
    return fail(err, errlen, "%d params given, expected 0..%d", nparams, VM_PARAMS_MAX);

  /* Build in a local copy: a rejected parameter leaves guest memory as it was. */
  struct vtb_boot_info bi;
  memset(&bi, 0, sizeof(bi));
  size_t len = 0;
  for (int i = 0; i < nparams; i++) {
    if (check_param(i, params[i], err, errlen)) return -1;
    size_t n = strlen(params[i]);
    size_t need = n + (i ? 1 : 0);
    if (need > sizeof(bi.params) - 1 - len)
      return fail(err, errlen,
                  "params are too long: param %d '%.40s...' brings the text past %d bytes, the "
                  "boot-info limit (VTB_PARAMS_MAX-1); pass fewer or shorter params",
                  i, params[i], VTB_PARAMS_MAX - 1);
    if (i) bi.params[len++] = ' ';
    memcpy(bi.params + len, params[i], n);
    len += n;
  }
  bi.params[len] = '\0';
  bi.magic = VTB_BOOT_MAGIC;
  bi.version = VTB_ABI_VERSION;
  bi.flags = flags;
  bi.ram_size = gm->size;
  bi.free_start = free_start;
  bi.free_end = gm->size;
  bi.tsc_hz = tsc_hz;
  bi.params_len = (uint32_t)len;
  guest_mem__write(gm, VTB_BOOTINFO_GPA, &bi, sizeof(bi)); /* in RAM: checked above */
  return 0;
}
