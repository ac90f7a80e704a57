/* checklist.c - PASS/FAIL lines and their summary (checklist.h). */
#include "checklist.h"

void checklist__init(struct checklist *c, FILE *out) {
  *c = (struct checklist){.out = out};
}

const char *checklist__word(enum check_result r) {
  static const char *const w[] = {"PASS", "FAIL", "XFAIL", "SKIP"};
  return (unsigned)r < 4 ? w[r] : "FAIL";
}

static void vadd(struct checklist *c, enum check_result r, const char *fmt, va_list ap) {
  if ((unsigned)r > CHECK_SKIP) r = CHECK_FAIL;
  c->n[r]++;
  fprintf(c->out, "%s ", checklist__word(r));
  vfprintf(c->out, fmt, ap);
  fputc('\n', c->out);
}

void checklist__add(struct checklist *c, enum check_result r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(c, r, fmt, ap);
  va_end(ap);
}

void checklist__check(struct checklist *c, bool ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(c, ok ? CHECK_PASS : CHECK_FAIL, fmt, ap);
  va_end(ap);
}

void checklist__summary(const struct checklist *c) {
  fprintf(c->out, "%u passed, %u failed", c->n[CHECK_PASS], c->n[CHECK_FAIL]);
  unsigned x = c->n[CHECK_XFAIL], s = c->n[CHECK_SKIP];
  if (x || s) {
    fprintf(c->out, " (");
    if (x) fprintf(c->out, "%u known difference%s", x, x == 1 ? "" : "s");
    if (s) fprintf(c->out, "%s%u skipped", x ? ", " : "", s);
    fprintf(c->out, ")");
  }
  fputc('\n', c->out);
}

bool checklist__ok(const struct checklist *c) {
  return c->n[CHECK_FAIL] == 0;
}
