/* event_cdf.c - delivery latency CDFs from the runs' `events` sections. */
#include "event_cdf.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "export.h"
#include "json_util.h"
#include "stats.h"

#define CDF_POINTS_MAX 4096 /* distinct latencies per configuration kept */

static const json_t *kind_of(const json_t *run, const char *kind) {
  const json_t *k = json_object_get(json_object_get(run, "events"), kind);
  return json_is_object(k) ? k : NULL;
}

static bool has_latency(const json_t *k) {
  return json_array_size(json_object_get(k, "samples_ns")) ||
         json_array_size(json_object_get(k, "hist")) ||
         json_array_size(json_object_get(k, "histogram")) ||
         json_is_object(json_object_get(k, "latency_ns"));
}

size_t event_cdf__kinds(const struct agg_set *s, const char *backend, char names[][16],
                        size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    size_t r;
    json_t *run;
    json_array_foreach(s->g[i].runs, r, run) {
      const char *k;
      json_t *v;
      json_object_foreach(json_object_get(run, "events"), k, v) {
        if (!json_is_object(v) || !has_latency(v) || strlen(k) >= 16) continue;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
          seen = !strcmp(names[j], k);
        if (!seen && n < max) snprintf(names[n++], 16, "%s", k);
      }
    }
  }
  return n;
}

bool event_cdf__modeled(const struct agg_set *s, const char *backend) {
  for (size_t i = 0; i < s->n; i++) {
    if (strcmp(s->g[i].backend, backend)) continue;
    size_t r;
    json_t *run;
    json_array_foreach(s->g[i].runs, r, run) {
      const char *c = json_string_value(json_object_get(json_object_get(run, "events"), "clock"));
      if (c && !strcmp(c, "modeled")) return true;
    }
  }
  return false;
}

struct point {
  double x, w; /* latency (ns), weight (deliveries) */
};

static int cmp_point(const void *a, const void *b) {
  double x = ((const struct point *)a)->x, y = ((const struct point *)b)->x;
  return (x > y) - (x < y);
}

/* Pooled distribution of one configuration: samples or histogram buckets
 * (weight at the bucket's upper edge, plus a zero-weight point at the
 * lowest lower edge so the curve starts at 0). Returns the point count. */
static size_t pooled(const struct agg_group *g, const char *kind, struct point *pt, size_t max) {
  size_t n = 0, r;
  json_t *run;
  json_array_foreach(g->runs, r, run) {
    const json_t *k = kind_of(run, kind);
    const json_t *smp = json_object_get(k, "samples_ns"), *h = json_object_get(k, "hist");
    if (!json_array_size(h)) h = json_object_get(k, "histogram");
    size_t i;
    json_t *e;
    double v, lo, hi, c;
    if (json_array_size(smp)) {
      json_array_foreach(smp, i, e) if (n < max && json_util__number(e, &v) && v >= 0) pt[n++] =
          (struct point){v, 1};
    } else {
      json_array_foreach(h, i, e) {
        if (n + 2 > max || !json_util__number(json_object_get(e, "hi_ns"), &hi) ||
            !json_util__number(json_object_get(e, "count"), &c) || c <= 0 || hi <= 0)
          continue;
        if (json_util__number(json_object_get(e, "lo_ns"), &lo) && lo > 0)
          pt[n++] = (struct point){lo, 0};
        pt[n++] = (struct point){hi, c};
      }
    }
  }
  return n;
}

/* Median over the repetitions of latency_ns.Q. */
static double quantile_median(const struct agg_group *g, const char *kind, const char *q) {
  double v[256];
  size_t n = 0, r;
  json_t *run;
  json_array_foreach(g->runs, r, run) {
    const json_t *lat = json_object_get(kind_of(run, kind), "latency_ns");
    if (n < 256 && json_util__number(json_object_get(lat, q), &v[n])) n++;
  }
  return n ? stats__median(v, n) : NAN;
}

int event_cdf__write(const struct agg_set *s, const char *backend, const char *kind,
                     const char *path, int *coarse) {
  static struct point pt[CDF_POINTS_MAX];
  struct atomic_file af; /* the CSV appears complete or not at all */
  FILE *f = NULL;
  int blocks = 0;
  *coarse = 0;
  for (size_t i = 0; i < s->n; i++) {
    const struct agg_group *g = &s->g[i];
    if (strcmp(g->backend, backend)) continue;
    size_t n = pooled(g, kind, pt, CDF_POINTS_MAX);
    double total = 0;
    for (size_t k = 0; k < n; k++)
      total += pt[k].w;
    bool quant = false;
    if (total <= 0) { /* no distribution: the four quantiles, if any */
      static const char *const qs[] = {"min", "p50", "p99", "max"};
      static const double fr[] = {0, 0.5, 0.99, 1};
      n = 0;
      for (size_t k = 0; k < 4; k++) {
        double x = quantile_median(g, kind, qs[k]);
        if (!isnan(x)) pt[n++] = (struct point){x, fr[k]};
      }
      if (n < 2) continue;
      quant = true;
    }
    if (!f && !(f = atomic_file__open(&af, path))) return -1;
    char lab[200], field[200];
    snprintf(lab, sizeof(lab), "%s [%s]%s", g->label, g->mode, quant ? " (quantiles only)" : "");
    export__csv_field(lab, field, sizeof(field));
    fprintf(f, "%s%s,fraction\n", blocks ? "\n\n" : "", field);
    if (quant) {
      *coarse = 1;
      for (size_t k = 0; k < n; k++)
        fprintf(f, "%.6g,%.6g\n", pt[k].x, pt[k].w);
    } else {
      qsort(pt, n, sizeof(*pt), cmp_point);
      double cum = 0;
      for (size_t k = 0; k < n; k++) {
        cum += pt[k].w;
        if (k + 1 < n && pt[k + 1].x == pt[k].x) continue; /* one point per latency */
        fprintf(f, "%.6g,%.6g\n", pt[k].x, cum / total);
      }
    }
    blocks++;
  }
  if (f && atomic_file__commit(&af)) return -1;
  return blocks;
}
