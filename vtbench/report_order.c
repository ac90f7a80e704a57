/* report_order.c - canonical order and colours of configurations. */
#include "report_order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload_catalog.h"

int report_order__parse(const char *mode, struct mode_axes *out) {
  char p[16], t[16], n[16], i[16], extra;
  if (!mode || sscanf(mode, "%15[^/]/%15[^/]/%15[^/]/%15[^/]%c", p, t, n, i, &extra) != 4)
    return -1;
  if (!strcmp(p, "native"))
    out->paging = 0;
  else if (!strcmp(p, "shadow"))
    out->paging = 1;
  else if (!strcmp(p, "ept"))
    out->paging = 2;
  else
    return -1;
  const char *words[3][2] = {{"flush", "vpid"}, {"poll", "window"}, {"poll", "window"}};
  const char *got[3] = {t, n, i};
  int *dst[3] = {&out->tlb, &out->nmi, &out->irq};
  for (int k = 0; k < 3; k++) {
    if (!strcmp(got[k], words[k][0]))
      *dst[k] = 0;
    else if (!strcmp(got[k], words[k][1]))
      *dst[k] = 1;
    else
      return -1;
  }
  return 0;
}

int report_order__axis(const struct mode_axes *m, int axis) {
  switch (axis) {
  case MODE_AXIS_PAGING:
    return m->paging;
  case MODE_AXIS_TLB:
    return m->tlb;
  case MODE_AXIS_NMI:
    return m->nmi;
  default:
    return m->irq;
  }
}

/* native, shadow/flush, shadow/vpid, ept/flush, ept/vpid: 0..4 */
static int paging_tlb(const struct mode_axes *m) {
  return m->paging == 0 ? 0 : 1 + 2 * (m->paging - 1) + m->tlb;
}

int report_order__mode_rank(const char *mode) {
  struct mode_axes m;
  if (report_order__parse(mode, &m)) return 1000;
  return paging_tlb(&m) * 4 + m.nmi * 2 + m.irq;
}

const char *report_order__colour(const char *mode) {
  /* hues: grey, orange, yellow-brown, teal, purple (ColorBrewer Dark2 family) */
  static const unsigned base[5] = {0x666666, 0xd95f02, 0xb8860b, 0x1b9e77, 0x7570b3};
  static char table[5][4][8];
  static const char *unknown = "#999999";
  struct mode_axes m;
  if (report_order__parse(mode, &m)) return unknown;
  int pt = paging_tlb(&m), ev = m.nmi * 2 + m.irq;
  if (!table[pt][ev][0]) {
    /* poll/poll: the hue; poll/window lighter; window/poll and window/window darker */
    static const double mix[4] = {0, 0.40, -0.30, -0.50};
    unsigned rgb = 0;
    for (int c = 0; c < 3; c++) {
      double v = (base[pt] >> (16 - 8 * c)) & 0xff;
      v = mix[ev] >= 0 ? v + (255 - v) * mix[ev] : v * (1 + mix[ev]);
      rgb = rgb << 8 | (unsigned)(v + 0.5);
    }
    snprintf(table[pt][ev], sizeof(table[pt][ev]), "#%06x", rgb);
  }
  return table[pt][ev];
}

int report_order__workload_rank(const char *workload) {
  for (size_t i = 0; i < workload_catalog_len; i++)
    if (!strcmp(workload_catalog[i].name, workload)) return (int)i;
  return (int)workload_catalog_len;
}

int report_order__cmp(const struct agg_group *a, const struct agg_group *b) {
  int c = report_order__workload_rank(a->workload) - report_order__workload_rank(b->workload);
  if (!c) c = strcmp(a->workload, b->workload);
  if (!c) c = strcmp(a->backend, b->backend);
  if (!c) c = strcmp(a->label, b->label);
  if (!c) c = report_order__mode_rank(a->mode) - report_order__mode_rank(b->mode);
  if (!c) c = strcmp(a->mode, b->mode);
  return c;
}

static int cmp_idx(const void *x, const void *y, void *ctx) {
  const struct agg_group *g = ctx;
  size_t i = *(const size_t *)x, j = *(const size_t *)y;
  int c = report_order__cmp(&g[i], &g[j]);
  return c ? c : (i > j) - (i < j);
}

void report_order__sort(struct agg_set *s) {
  if (s->n < 2) return;
  size_t *idx = malloc(s->n * sizeof(*idx));
  struct agg_group *tmp = malloc(s->n * sizeof(*tmp));
  if (!idx || !tmp) {
    free(idx), free(tmp);
    return;
  }
  for (size_t i = 0; i < s->n; i++)
    idx[i] = i;
  qsort_r(idx, s->n, sizeof(*idx), cmp_idx, s->g);
  for (size_t i = 0; i < s->n; i++)
    tmp[i] = s->g[idx[i]];
  memcpy(s->g, tmp, s->n * sizeof(*tmp));
  aggregate__reindex(s); /* the set finds its groups by key */
  free(tmp);
  free(idx);
}
