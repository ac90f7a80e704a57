/* test_catalog.c - vtbench/workload_catalog.c must say exactly what each
 * guest reads: the same workloads as workloads/NAME.c, the same parameter
 * names with the same defaults as each file's `struct vtb_param params[]`
 * table (the runtime rejects any other key), `cpl` listed exactly where the
 * workload allows both rings, and the ring column starting with the
 * workload's default CPL.
 *
 * The workload sources are parsed as text (tests run from the repository
 * root or with VTB_SRCDIR set): a table entry is
 *   {"key", DEFAULT, MIN, MAX, "help"},
 * where DEFAULT is an integer literal, optionally `<< N` or `* N`, or a
 * macro #defined in the same file as such. */
#include <check.h>
#include <ctype.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/elf_loader.h"
#include "vtbench/workload_catalog.h"

#define SRC_PARAMS_MAX 32

struct src_param {
  char key[40];
  char def[80]; /* the default's C expression as written */
};

struct src_workload {
  struct src_param p[SRC_PARAMS_MAX];
  int n;
  bool cpl0, cpl3; /* WORKLOAD.cpl_allowed (0 means CPL3 only) */
  int cpl_default;
};

/* Appends one line to a mismatch list; returns 1 (one mismatch). */
static int note(char *msgs, size_t len, const char *fmt, ...) {
  size_t off = strlen(msgs);
  if (off + 1 >= len) return 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msgs + off, len - off, fmt, ap);
  va_end(ap);
  off = strlen(msgs);
  if (off + 1 < len) strcat(msgs, "\n");
  return 1;
}

static const char *skip_ws(const char *s) {
  for (;;) {
    while (isspace((unsigned char)*s))
      s++;
    if (s[0] == '/' && s[1] == '*') {
      const char *e = strstr(s + 2, "*/");
      if (!e) return s + strlen(s);
      s = e + 2;
    } else if (s[0] == '/' && s[1] == '/') {
      while (*s && *s != '\n')
        s++;
    } else {
      return s;
    }
  }
}

/* End of the string literal starting at s (s points at '"'). */
static const char *skip_string(const char *s) {
  for (s++; *s && *s != '"'; s++)
    if (*s == '\\' && s[1]) s++;
  return *s ? s + 1 : s;
}

/* Parses the `{"key", DEF, ...}` entries of the first `struct wl_param`
 * table in src. Returns 0, or -1 with the reason in msgs. */
static int parse_param_table(const char *src, struct src_workload *w, char *msgs, size_t len) {
  const char *t = strstr(src, "struct vtb_param params[]");
  if (!t) return -note(msgs, len, "no `static const struct vtb_param params[]` table");
  t = strchr(t, '{');
  if (!t) return -note(msgs, len, "params[] table has no initializer");
  t++;
  for (;;) {
    t = skip_ws(t);
    if (*t == '}') return 0;                        /* end of the table without {0}: accept */
    if (!strncmp(t, "VTB_PARAM_END", 13)) return 0; /* the end entry */
    if (*t != '{') return -note(msgs, len, "params[]: expected '{' at \"%.20s\"", t);
    const char *e = skip_ws(t + 1);
    if (*e == '0' || *e == '}') return 0; /* a {0} terminator */
    if (*e != '"') return -note(msgs, len, "params[]: expected a key string at \"%.20s\"", e);
    if (w->n == SRC_PARAMS_MAX) return -note(msgs, len, "params[]: more than %d entries", w->n);
    struct src_param *p = &w->p[w->n++];
    const char *ke = skip_string(e);
    snprintf(p->key, sizeof p->key, "%.*s", (int)(ke - e - 2), e + 1);
    e = skip_ws(ke);
    if (*e != ',') return -note(msgs, len, "params[].%s: expected ',' after the key", p->key);
    e = skip_ws(e + 1);
    const char *d = e;
    int depth = 0;
    while (*e && !(depth == 0 && (*e == ',' || *e == '}'))) {
      depth += *e == '(' ? 1 : *e == ')' ? -1 : 0;
      e++;
    }
    while (e > d && isspace((unsigned char)e[-1]))
      e--;
    snprintf(p->def, sizeof p->def, "%.*s", (int)(e - d), d);
    /* to the entry's closing brace */
    for (depth = 1, e = t + 1; *e && depth; e++) {
      if (*e == '"') e = skip_string(e) - 1;
      depth += *e == '{' ? 1 : *e == '}' ? -1 : 0;
    }
    t = skip_ws(e);
    if (*t == ',') t++;
  }
}

/* WORKLOAD's .cpl_allowed and .cpl_default. */
static int parse_workload_cpl(const char *src, struct src_workload *w, char *msgs, size_t len) {
  const char *t = strstr(src, "const struct workload WORKLOAD");
  if (!t) return -note(msgs, len, "no `const struct workload WORKLOAD` definition");
  const char *a = strstr(t, ".cpl_allowed");
  const char *d = strstr(t, ".cpl_default");
  if (a) {
    const char *e = strchr(a, ',');
    size_t n = e ? (size_t)(e - a) : strlen(a);
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)n, a);
    w->cpl0 = strstr(buf, "WL_CPL0") != NULL;
    w->cpl3 = strstr(buf, "WL_CPL3") != NULL;
  }
  if (!w->cpl0 && !w->cpl3) w->cpl3 = true; /* rt.h: 0 means CPL3 only */
  w->cpl_default = 3;
  if (d) {
    d = strchr(d, '=');
    if (!d) return -note(msgs, len, "WORKLOAD.cpl_default without a value");
    w->cpl_default = atoi(d + 1);
  }
  return 0;
}

/* Value of a `#define NAME value` in src. */
static bool find_define(const char *src, const char *name, char *out, size_t len) {
  for (const char *t = src; (t = strstr(t, "#define ")) != NULL; t += 8) {
    const char *n = skip_ws(t + 8);
    size_t l = strlen(name);
    if (strncmp(n, name, l) || !isspace((unsigned char)n[l])) continue;
    const char *v = n + l;
    while (*v == ' ' || *v == '\t')
      v++;
    const char *e = v;
    while (*e && *e != '\n' && strncmp(e, "/*", 2))
      e++;
    while (e > v && isspace((unsigned char)e[-1]))
      e--;
    snprintf(out, len, "%.*s", (int)(e - v), v);
    return true;
  }
  return false;
}

/* One operand: an integer literal with optional u/l suffixes, a macro
 * #defined in src, or a parenthesised expression. */
static int eval_expr(const char *src, const char *expr, uint64_t *out, int depth);

static int eval_operand(const char *src, const char **s, uint64_t *out, int depth) {
  const char *p = skip_ws(*s);
  if (*p == '(') {
    const char *e = p + 1;
    int d = 1;
    while (*e && d)
      d += *e == '(' ? 1 : *e == ')' ? -1 : 0, e++;
    if (d) return -1;
    char inner[128];
    snprintf(inner, sizeof inner, "%.*s", (int)(e - p - 2), p + 1);
    *s = e;
    return eval_expr(src, inner, out, depth + 1);
  }
  if (isdigit((unsigned char)*p)) {
    char *e;
    *out = strtoull(p, &e, 0);
    while (*e == 'u' || *e == 'U' || *e == 'l' || *e == 'L')
      e++;
    *s = e;
    return 0;
  }
  if (isalpha((unsigned char)*p) || *p == '_') {
    char name[64], val[128];
    size_t n = 0;
    while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n + 1 < sizeof name)
      n++;
    snprintf(name, sizeof name, "%.*s", (int)n, p);
    if (depth > 4 || !find_define(src, name, val, sizeof val)) return -1;
    *s = p + n;
    return eval_expr(src, val, out, depth + 1);
  }
  return -1;
}

static int eval_expr(const char *src, const char *expr, uint64_t *out, int depth) {
  const char *s = expr;
  uint64_t v, r;
  if (eval_operand(src, &s, &v, depth)) return -1;
  for (;;) {
    s = skip_ws(s);
    if (!*s) break;
    int op = 0;
    if (!strncmp(s, "<<", 2))
      op = '<', s += 2;
    else if (*s == '*' || *s == '+' || *s == '-')
      op = *s++;
    else
      return -1;
    if (eval_operand(src, &s, &r, depth)) return -1;
    v = op == '<' ? v << r : op == '*' ? v * r : op == '+' ? v + r : v - r;
  }
  *out = v;
  return 0;
}

/* A catalog default as the guest's parser reads it: decimal or 0x hex,
 * with a k/m/g suffix (x1024^n) for words such as page=4k. */
static bool catalog_value(const struct wl_param *p, uint64_t *out) {
  char *e;
  if (!p->def || !*p->def) return false;
  *out = strtoull(p->def, &e, 0);
  if (e == p->def) return false;
  if (p->type == WLP_WORD && *e && strchr("kmg", *e)) {
    *out <<= *e == 'k' ? 10 : *e == 'm' ? 20 : 30;
    e++;
  }
  return *e == '\0';
}

/* Where workload w's source is: workloads/NAME.c, or workloads/linux/wl/NAME.c
 * for linux:NAME. */
static void src_rel(const struct wl_info *w, char *buf, size_t len) {
  if (workload_catalog__is_linux(w))
    snprintf(buf, len, "workloads/linux/wl/%s.c", w->name + strlen(WL_LINUX_PREFIX));
  else
    snprintf(buf, len, "workloads/%s.c", w->name);
}

/* Every `param("key")` the source calls names a declared key. */
static int check_param_calls(const char *name, const char *src, const struct src_workload *sw,
                             char *msgs, size_t len) {
  int bad = 0;
  for (const char *t = src; (t = strstr(t, "param(\"")) != NULL; t += 7) {
    if (t > src && (isalnum((unsigned char)t[-1]) || t[-1] == '_')) continue;
    const char *k = t + 7, *e = strchr(k, '"');
    if (!e) break;
    bool found = false;
    for (int i = 0; i < sw->n && !found; i++)
      found = strlen(sw->p[i].key) == (size_t)(e - k) && !strncmp(sw->p[i].key, k, e - k);
    if (!found && strncmp(k, "cpl", 3) && strncmp(k, "syscall", 7))
      bad += note(msgs, len, "%s reads param(\"%.*s\") but does not declare it", name, (int)(e - k),
                  k);
  }
  return bad;
}

/* Compares catalog entry w with workload source text src; appends one line
 * per disagreement to msgs and returns how many there are. */
static int catalog__compare(const struct wl_info *w, const char *src, char *msgs, size_t len) {
  struct src_workload sw;
  memset(&sw, 0, sizeof sw);
  /* A Linux guest workload is a Linux process: ring 3, no cpl to choose. */
  bool lx = workload_catalog__is_linux(w);
  if (lx) sw.cpl3 = true, sw.cpl_default = 3;
  if (parse_param_table(src, &sw, msgs, len) || (!lx && parse_workload_cpl(src, &sw, msgs, len)))
    return note(msgs, len, "%s's source: could not parse (see above)", w->name);
  char rel[128]; /* the source's name in messages */
  src_rel(w, rel, sizeof rel);
  int bad = check_param_calls(rel, src, &sw, msgs, len);

  for (int i = 0; i < sw.n; i++) {
    const struct src_param *sp = &sw.p[i];
    const struct wl_param *cp = NULL;
    for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name && !cp; k++)
      if (!strcmp(w->params[k].name, sp->key)) cp = &w->params[k];
    if (!cp) {
      bad += note(msgs, len, "%s: %s declares \"%s\" (default %s), the catalog lacks it", w->name,
                  rel, sp->key, sp->def);
      continue;
    }
    uint64_t sv, cv;
    if (eval_expr(src, sp->def, &sv, 0)) {
      bad += note(msgs, len, "%s.%s: cannot evaluate the source default `%s` (extend eval_expr)",
                  w->name, sp->key, sp->def);
      continue;
    }
    if (!catalog_value(cp, &cv))
      bad += note(msgs, len, "%s.%s: catalog default \"%s\" is not a number; source has %s = %llu",
                  w->name, sp->key, cp->def ? cp->def : "(null)", sp->def, (unsigned long long)sv);
    else if (cv != sv)
      bad += note(msgs, len, "%s.%s: catalog default %s (= %llu), %s has %s (= %llu)", w->name,
                  sp->key, cp->def, (unsigned long long)cv, rel, sp->def, (unsigned long long)sv);
  }

  bool lists_cpl = false;
  for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name; k++) {
    const struct wl_param *cp = &w->params[k];
    if (!strcmp(cp->name, "cpl")) {
      lists_cpl = true;
      uint64_t cv;
      if (cp->def && (!catalog_value(cp, &cv) || cv != (uint64_t)sw.cpl_default))
        bad += note(msgs, len, "%s.cpl: catalog default %s, WORKLOAD.cpl_default is %d", w->name,
                    cp->def, sw.cpl_default);
      continue;
    }
    bool found = false;
    for (int i = 0; i < sw.n && !found; i++)
      found = !strcmp(sw.p[i].key, cp->name);
    if (!found)
      bad += note(msgs, len, "%s: the catalog lists \"%s\", %s does not declare it", w->name,
                  cp->name, rel);
  }
  bool both = sw.cpl0 && sw.cpl3;
  if (both != lists_cpl)
    bad += note(msgs, len, "%s: %s allows %s; the catalog %s cpl", w->name, rel,
                both ? "ring 0 and ring 3" : "one ring only", lists_cpl ? "lists" : "omits");
  if (!w->ring || w->ring[0] != '0' + sw.cpl_default)
    bad += note(msgs, len, "%s: catalog ring \"%s\", WORKLOAD.cpl_default is %d", w->name,
                w->ring ? w->ring : "(null)", sw.cpl_default);
  return bad;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static void src_path(char *buf, size_t len, const char *rel) {
  const char *src = getenv("VTB_SRCDIR");
  snprintf(buf, len, "%s%s%s", src && *src ? src : "", src && *src ? "/" : "", rel);
}

/* Every source matching `pattern` (relative) has a catalog entry prefix+NAME. */
static int sources_in_catalog(const char *pattern, const char *prefix, size_t min, char *msgs,
                              size_t len) {
  char full[4096];
  src_path(full, sizeof full, pattern);
  glob_t g;
  ck_assert_msg(glob(full, 0, NULL, &g) == 0,
                "no workload source matches %s (run from the repository root or set VTB_SRCDIR)",
                full);
  ck_assert_msg(g.gl_pathc >= min, "%zu sources match %s, expected at least %zu", g.gl_pathc,
                pattern, min);
  int bad = 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    const char *base = strrchr(g.gl_pathv[i], '/');
    char name[80];
    snprintf(name, sizeof name, "%s%s", prefix, base ? base + 1 : g.gl_pathv[i]);
    name[strcspn(name, ".")] = '\0';
    if (!workload_catalog__find(name))
      bad +=
          note(msgs, len, "%s has no entry %s in vtbench/workload_catalog.c", g.gl_pathv[i], name);
  }
  globfree(&g);
  return bad;
}

START_TEST(test_catalog_matches_sources) {
  static char msgs[16384];
  msgs[0] = '\0';
  int bad = 0;
  char path[4096];
  bad += sources_in_catalog("workloads/*.c", "", 17, msgs, sizeof msgs);
  bad += sources_in_catalog("workloads/linux/wl/*.c", WL_LINUX_PREFIX, 9, msgs, sizeof msgs);
  for (size_t i = 0; i < workload_catalog_len; i++) {
    const struct wl_info *w = &workload_catalog[i];
    char rel[128];
    src_rel(w, rel, sizeof rel);
    src_path(path, sizeof path, rel);
    char *src = read_text(path);
    if (!src) {
      bad += note(msgs, sizeof msgs, "catalog entry %s: cannot read %s", w->name, path);
      continue;
    }
    bad += catalog__compare(w, src, msgs, sizeof msgs);
    free(src);
  }
  ck_assert_msg(bad == 0, "vtbench/workload_catalog.c disagrees with workloads/*.c (%d):\n%s", bad,
                msgs);
}
END_TEST

/* The comparison can fail: a source whose table drifted from the catalog
 * entry (renamed key, changed default, undeclared read, one ring only). */
START_TEST(test_compare_reports_drift) {
  static const struct wl_info entry = {"demo",
                                       "d",
                                       "s",
                                       "3",
                                       {{"n", WLP_INT, "200", "h"},
                                        {"cpl", WLP_INT, "3", "h"},
                                        {"page", WLP_WORD, "4k", "h"},
                                        {"block", WLP_INT, "50", "h"}}};
  static const char agree[] =
      "#define MAXN 4096\n"
      "static const struct vtb_param params[] VTB_PARAM_TABLE = {\n"
      "    {\"n\", 200, 1, MAXN, \"events, {braced}, help\"},\n"
      "    {\"page\", 4 << 10, 4096, 2ull << 20, \"page size\"},\n"
      "    {\"block\", (10 * 5), 0, 100, \"percent\"},\n"
      "    VTB_PARAM_END,\n"
      "};\n"
      "static int run(void) { return (int)param(\"n\") + (int)param(\"block\"); }\n"
      "const struct workload WORKLOAD = {\n"
      "    .cpl_allowed = WL_CPL0 | WL_CPL3,\n"
      "    .cpl_default = 3,\n"
      "};\n";
  static const char drift[] = "static const struct vtb_param params[] VTB_PARAM_TABLE = {\n"
                              "    {\"n\", 100, 1, 1000, \"events\"},\n"
                              "    {\"page\", 2ull << 20, 4096, 2ull << 20, \"page size\"},\n"
                              "    {\"block_us\", 500, 0, 1000000, \"spin\"},\n"
                              "    VTB_PARAM_END,\n"
                              "};\n"
                              "static int run(void) { return (int)param(\"period_us\"); }\n"
                              "const struct workload WORKLOAD = {\n"
                              "    .cpl_allowed = WL_CPL3,\n"
                              "    .cpl_default = 0,\n"
                              "};\n";
  char msgs[4096] = "";
  ck_assert_msg(catalog__compare(&entry, agree, msgs, sizeof msgs) == 0, "%s", msgs);
  msgs[0] = '\0';
  int bad = catalog__compare(&entry, drift, msgs, sizeof msgs);
  /* n's default, page's default, block_us missing, block not declared,
   * param("period_us") undeclared, cpl listed for a one-ring workload, cpl's
   * default and the ring column. */
  ck_assert_msg(bad == 8, "expected 8 disagreements, got %d:\n%s", bad, msgs);
  ck_assert_ptr_nonnull(strstr(msgs, "demo.n: catalog default 200"));
  ck_assert_ptr_nonnull(strstr(msgs, "declares \"block_us\""));
  ck_assert_ptr_nonnull(strstr(msgs, "lists \"block\""));
  ck_assert_ptr_nonnull(strstr(msgs, "param(\"period_us\")"));
}
END_TEST

/* A Linux guest entry is compared with its table alone (no WORKLOAD, no
 * cpl): a changed default and a cpl it cannot take are disagreements. */
START_TEST(test_compare_linux_entry) {
  static const struct wl_info ok = {"linux:demo", "d", "s", "3 -> 0", {{"n", WLP_INT, "300", "h"}}};
  static const struct wl_info bad_entry = {
      "linux:demo", "d", "s", "0", {{"n", WLP_INT, "30", "h"}, {"cpl", WLP_INT, "0", "h"}}};
  static const char src[] = "static const struct vtb_param params[] VTB_PARAM_TABLE = {\n"
                            "    {\"n\", 300, 1, 1ull << 32, \"rounds\"},\n"
                            "    VTB_PARAM_END,\n"
                            "};\n"
                            "static int run(void) { return (int)param(\"n\"); }\n"
                            "const struct lx_workload lx_wl_demo = {.name = \"demo\"};\n";
  char msgs[4096] = "";
  ck_assert_msg(catalog__compare(&ok, src, msgs, sizeof msgs) == 0, "%s", msgs);
  msgs[0] = '\0';
  int bad = catalog__compare(&bad_entry, src, msgs, sizeof msgs);
  /* n's default, cpl listed (and its default), the ring column */
  ck_assert_msg(bad == 4, "expected 4 disagreements, got %d:\n%s", bad, msgs);
  ck_assert_ptr_nonnull(strstr(msgs, "linux:demo.n: catalog default 30"));
}
END_TEST

/* The images carry the tables the guests and refvmm read: every built
 * freestanding image's table matches the catalog, key for key and default
 * for default (cpl is the runtime's, not in the table). */
START_TEST(test_catalog_matches_images) {
  static char msgs[8192];
  msgs[0] = '\0';
  int bad = 0, checked = 0;
  struct guest_mem gm;
  ck_assert_int_eq(guest_mem__init(&gm, VTB_MEM_MIN), 0);
  for (size_t i = 0; i < workload_catalog_len; i++) {
    const struct wl_info *w = &workload_catalog[i];
    if (workload_catalog__is_linux(w)) continue;
    char rel[128], path[4096], err[512];
    snprintf(rel, sizeof rel, "workloads/build/%s.elf", w->name);
    src_path(path, sizeof path, rel);
    static struct elf_image im;
    if (elf__load_file(path, &gm, &im, err, sizeof err)) {
      bad += note(msgs, sizeof msgs, "%s (run make first)", err);
      continue;
    }
    checked++;
    if (!im.params.present) {
      bad += note(msgs, sizeof msgs, "%s: no parameter table in the image", path);
      continue;
    }
    int listed = 0;
    for (int k = 0; k < WL_PARAMS_MAX && w->params[k].name; k++) {
      if (!strcmp(w->params[k].name, "cpl")) continue;
      listed++;
      const struct vtb_param *p = NULL;
      for (int j = 0; j < im.params.n && !p; j++)
        if (!strcmp(im.params.p[j].key, w->params[k].name)) p = &im.params.p[j];
      uint64_t cv;
      if (!p)
        bad += note(msgs, sizeof msgs, "%s: the catalog lists %s, the image does not", w->name,
                    w->params[k].name);
      else if (!catalog_value(&w->params[k], &cv) || cv != p->def)
        bad +=
            note(msgs, sizeof msgs, "%s.%s: catalog default %s, the image's %llu", w->name, p->key,
                 w->params[k].def ? w->params[k].def : "(null)", (unsigned long long)p->def);
    }
    if (listed != im.params.n)
      bad += note(msgs, sizeof msgs, "%s: the catalog lists %d parameters, the image declares %d",
                  w->name, listed, im.params.n);
  }
  guest_mem__destroy(&gm);
  ck_assert_int_ge(checked, 17);
  ck_assert_msg(bad == 0, "vtbench/workload_catalog.c disagrees with the images (%d):\n%s", bad,
                msgs);
}
END_TEST

Suite *suite_catalog(void) {
  Suite *s = suite_create("catalog");
  TCase *tc = tcase_create("sources");
  tcase_add_test(tc, test_catalog_matches_sources);
  tcase_add_test(tc, test_catalog_matches_images);
  tcase_add_test(tc, test_compare_reports_drift);
  tcase_add_test(tc, test_compare_linux_entry);
  suite_add_tcase(s, tc);
  return s;
}
