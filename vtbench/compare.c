/* compare.c - see compare.h. */
#include "compare.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"

size_t compare__rows(const struct agg_set *a, const struct agg_set *b, struct compare_row **out) {
  struct compare_row *rows = calloc(a->n + 1, sizeof(*rows));
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++) {
    const struct agg_group *ga = &a->g[i], *gb = NULL;
    const json_t *at = json_object_get(b->index, ga->key);
    if (at) gb = &b->g[json_integer_value(at)];
    if (!gb) /* shards and other hosts may lack `config`: match on the fields */
      for (size_t k = 0; k < b->n && !gb; k++)
        if (!strcmp(b->g[k].backend, ga->backend) && !strcmp(b->g[k].label, ga->label) &&
            !strcmp(b->g[k].mode, ga->mode))
          gb = &b->g[k];
    if (!gb) continue;
    const char *metric = agg_group__time_metric(ga);
    double *va, *vb;
    size_t na = agg_group__values(ga, metric, &va, NULL),
           nb = agg_group__values(gb, metric, &vb, NULL);
    struct compare_row *r = &rows[n];
    struct mwu_result m;
    if (na && nb &&
        !stats__ratio_ci(vb, nb, va, na, STATS_BOOT_B, STATS_SEED, &r->ratio, &r->lo, &r->hi) &&
        !stats__mann_whitney(va, na, vb, nb, &m)) {
      r->a = ga;
      r->b = gb;
      r->metric = metric;
      r->med_a = stats__median(va, na);
      r->med_b = stats__median(vb, nb);
      r->p = m.p;
      r->u = m.u;
      r->exact = m.exact;
      r->na = na;
      r->nb = nb;
      r->significant = m.p < 0.05;
      n++;
    }
    free(va);
    free(vb);
  }
  *out = rows;
  return n;
}
