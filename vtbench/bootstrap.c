/* bootstrap.c - see bootstrap.h. */
#include "bootstrap.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "stats.h"

/* ---- remembered results ------------------------------------------------ */
struct memo {
  uint64_t k[4]; /* content hashes (x twice, base twice; zero for a median) */
  uint64_t seed, level_bits;
  uint32_t n, nb, B, kind; /* kind 0: empty slot, 1: median CI, 2: ratio CI */
  int rc;
  double lo, hi;
};
static struct memo *memo;
static size_t memo_cap, memo_n;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER; /* batches run on threads */

static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Two independent hashes of the values' bits, in order. */
static void hash2(const double *x, size_t n, uint64_t *h1, uint64_t *h2) {
  uint64_t a = 0x9e3779b97f4a7c15ull ^ n, b = 0xc2b2ae3d27d4eb4full + n;
  for (size_t i = 0; i < n; i++) {
    uint64_t v;
    memcpy(&v, &x[i], sizeof(v));
    a = mix(a ^ v) + i;
    b = (b ^ v) * 0xff51afd7ed558ccdull;
    b ^= b >> 29;
  }
  *h1 = a;
  *h2 = mix(b);
}

static struct memo *memo_slot(const struct memo *key) {
  if (!memo_cap) return NULL;
  size_t i = (size_t)mix(key->k[0] ^ key->k[2] ^ key->seed ^ key->kind) & (memo_cap - 1);
  for (;; i = (i + 1) & (memo_cap - 1)) {
    struct memo *e = &memo[i];
    if (!e->kind ||
        (e->kind == key->kind && !memcmp(e->k, key->k, sizeof(e->k)) && e->seed == key->seed &&
         e->level_bits == key->level_bits && e->n == key->n && e->nb == key->nb && e->B == key->B))
      return e;
  }
}

static void memo_put(const struct memo *key, int rc, double lo, double hi) {
  pthread_mutex_lock(&memo_lock);
  if ((memo_n + 1) * 2 > memo_cap) {
    size_t cap = memo_cap ? memo_cap * 2 : 1024;
    struct memo *old = memo, *m = calloc(cap, sizeof(*m));
    if (!m) { /* not remembered: computed again when asked */
      pthread_mutex_unlock(&memo_lock);
      return;
    }
    size_t oldcap = memo_cap;
    memo = m;
    memo_cap = cap;
    for (size_t i = 0; i < oldcap; i++)
      if (old[i].kind) *memo_slot(&old[i]) = old[i];
    free(old);
  }
  struct memo *e = memo_slot(key);
  if (!e->kind) memo_n++;
  *e = *key;
  e->rc = rc;
  e->lo = lo;
  e->hi = hi;
  pthread_mutex_unlock(&memo_lock);
}

static void median_key(struct memo *k, const double *x, size_t n, unsigned B, double level,
                       uint64_t seed) {
  memset(k, 0, sizeof(*k));
  hash2(x, n, &k->k[0], &k->k[1]);
  k->kind = 1;
  k->n = (uint32_t)n;
  k->B = B;
  k->seed = seed;
  memcpy(&k->level_bits, &level, sizeof(level));
}

static void ratio_key(struct memo *k, const double *x, size_t nx, const double *base, size_t nb,
                      unsigned B, uint64_t seed) {
  memset(k, 0, sizeof(*k));
  hash2(x, nx, &k->k[0], &k->k[1]);
  hash2(base, nb, &k->k[2], &k->k[3]);
  k->kind = 2;
  k->n = (uint32_t)nx;
  k->nb = (uint32_t)nb;
  k->B = B;
  k->seed = seed;
}

bool boot__cached_median_ci(const double *x, size_t n, unsigned B, double level, uint64_t seed,
                            double *lo, double *hi) {
  if (n > UINT32_MAX) return false;
  struct memo k;
  median_key(&k, x, n, B, level, seed);
  pthread_mutex_lock(&memo_lock);
  struct memo *e = memo_slot(&k);
  bool hit = e && e->kind;
  if (hit) *lo = e->lo, *hi = e->hi;
  pthread_mutex_unlock(&memo_lock);
  return hit;
}

bool boot__cached_ratio_ci(const double *x, size_t nx, const double *base, size_t nb, unsigned B,
                           uint64_t seed, int *rc, double *lo, double *hi) {
  if (nx > UINT32_MAX || nb > UINT32_MAX) return false;
  struct memo k;
  ratio_key(&k, x, nx, base, nb, B, seed);
  pthread_mutex_lock(&memo_lock);
  struct memo *e = memo_slot(&k);
  bool hit = e && e->kind;
  if (hit) {
    *rc = e->rc;
    if (!e->rc) *lo = e->lo, *hi = e->hi;
  }
  pthread_mutex_unlock(&memo_lock);
  return hit;
}

void boot__forget(void) {
  pthread_mutex_lock(&memo_lock);
  free(memo);
  memo = NULL;
  memo_cap = memo_n = 0;
  pthread_mutex_unlock(&memo_lock);
}

/* ---- one sample, prepared for counting --------------------------------- */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

struct ranked {
  double v;
  uint32_t i;
};
static int cmp_ranked(const void *a, const void *b) {
  return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

struct member {
  const double *x;
  double *s;      /* the values sorted */
  uint32_t *perm; /* perm[q]: the index in x of the q-th smallest */
  void *mask;     /* per index of x: all ones where its rank is below the window */
  size_t lo, hi;  /* the window of ranks [lo, hi) */
  bool nan;       /* resampled the original way */
};

/* Counts of draws per index: 16 bits while n < 2^16 (no count can pass n). */
struct counts {
  size_t n;
  bool wide;
  void *c;
};

static size_t window_override;

void boot__set_window(size_t half) {
  window_override = half;
}

static size_t window_half(size_t n) {
  return window_override ? window_override : (size_t)(4.0 * sqrt((double)n)) + 16;
}

static int member_prep(struct member *m, const double *x, size_t n, bool wide) {
  memset(m, 0, sizeof(*m));
  m->x = x;
  for (size_t i = 0; i < n; i++)
    if (isnan(x[i])) m->nan = true;
  if (m->nan) return 0;
  struct ranked *r = malloc(n * sizeof(*r));
  m->s = malloc(n * sizeof(*m->s));
  m->perm = malloc(n * sizeof(*m->perm));
  m->mask = calloc(n, wide ? 4 : 2);
  if (!r || !m->s || !m->perm || !m->mask) {
    free(r);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    r[i] = (struct ranked){x[i], (uint32_t)i};
  qsort(r, n, sizeof(*r), cmp_ranked);
  size_t k1 = (n - 1) / 2, k2 = n / 2, h = window_half(n);
  m->lo = k1 > h ? k1 - h : 0;
  m->hi = k2 + h + 1 < n ? k2 + h + 1 : n;
  for (size_t q = 0; q < n; q++) {
    m->s[q] = r[q].v;
    m->perm[q] = r[q].i;
    if (q < m->lo) {
      if (wide)
        ((uint32_t *)m->mask)[r[q].i] = UINT32_MAX;
      else
        ((uint16_t *)m->mask)[r[q].i] = UINT16_MAX;
    }
  }
  free(r);
  return 0;
}

static void member_free(struct member *m) {
  free(m->s);
  free(m->perm);
  free(m->mask);
}

/* Draws below the window: sum of the counts under the mask, eight counts
 * per SSE2 register (four, two per 64-bit word elsewhere); no lane can
 * carry (every lane sums at most n, below 2^16 for 16-bit counts). */
static size_t below_window(const struct counts *c, const struct member *m) {
  uint64_t acc = 0;
  size_t i = 0, n = c->n, sum = 0;
  if (!c->wide) {
    const uint16_t *a = c->c, *b = m->mask;
#ifdef __SSE2__
    __m128i v = _mm_setzero_si128(); /* eight 16-bit lanes */
    for (; i + 8 <= n; i += 8)
      v = _mm_add_epi16(v, _mm_and_si128(_mm_loadu_si128((const __m128i *)(a + i)),
                                         _mm_loadu_si128((const __m128i *)(b + i))));
    uint16_t lanes[8];
    _mm_storeu_si128((__m128i *)lanes, v);
    for (int l = 0; l < 8; l++)
      sum += lanes[l];
#endif
    for (; i + 4 <= n; i += 4) {
      uint64_t x, y;
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      acc += x & y;
    }
    sum += (acc & 0xffff) + (acc >> 16 & 0xffff) + (acc >> 32 & 0xffff) + (acc >> 48);
    for (; i < n; i++)
      sum += a[i] & b[i];
  } else {
    const uint32_t *a = c->c, *b = m->mask;
    for (; i + 2 <= n; i += 2) {
      uint64_t x, y;
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      acc += x & y;
    }
    sum = (acc & 0xffffffffu) + (acc >> 32);
    for (; i < n; i++)
      sum += a[i] & b[i];
  }
  return sum;
}

static inline size_t count_at(const struct counts *c, uint32_t i) {
  return c->wide ? ((const uint32_t *)c->c)[i] : ((const uint16_t *)c->c)[i];
}

/* Median of the resample the counts describe. */
static double member_median(const struct member *m, const struct counts *c) {
  size_t n = c->n, k1 = (n - 1) / 2, k2 = n / 2;
  size_t from = m->lo, acc = m->lo ? below_window(c, m) : 0, to = m->hi;
  if (acc > k1) from = 0, acc = 0, to = n; /* the median lies below the window */
  for (int pass = 0; pass < 2; pass++) {
    size_t p1 = SIZE_MAX;
    for (size_t q = from; q < to; q++) {
      acc += count_at(c, m->perm[q]);
      if (p1 == SIZE_MAX && acc > k1) p1 = q;
      if (acc > k2) return n % 2 ? m->s[p1] : (m->s[p1] + m->s[q]) / 2;
    }
    from = 0, acc = 0, to = n; /* above the window: walk every rank */
  }
  return NAN; /* not reached: the counts add up to n */
}

/* The original way, for a sample with NaN: the resample's values in draw
 * order, sorted. */
static double nan_median(const double *x, const uint32_t *draws, size_t n, double *buf) {
  for (size_t j = 0; j < n; j++)
    buf[j] = x[draws[j]];
  qsort(buf, n, sizeof(*buf), cmp_double);
  return n % 2 ? buf[n / 2] : (buf[n / 2 - 1] + buf[n / 2]) / 2;
}

/* One resample of size n: counts (and, when a member needs them, the draws
 * in order). */
static void draw(struct counts *c, uint32_t *draws, struct stats_rng *r) {
  size_t n = c->n;
  memset(c->c, 0, n * (c->wide ? 4 : 2));
  if (c->wide) {
    uint32_t *a = c->c;
    for (size_t j = 0; j < n; j++) {
      size_t i = stats_rng__below(r, n);
      a[i]++;
      if (draws) draws[j] = (uint32_t)i;
    }
  } else {
    uint16_t *a = c->c;
    for (size_t j = 0; j < n; j++) {
      size_t i = stats_rng__below(r, n);
      a[i]++;
      if (draws) draws[j] = (uint32_t)i;
    }
  }
}

/* Everything one size of sample needs. */
struct side {
  struct counts c;
  struct member *mem;
  size_t m;
  uint32_t *draws; /* when a member has NaN */
  double *buf;
};

static int side_init(struct side *sd, const double *const *xs, size_t m, size_t n) {
  memset(sd, 0, sizeof(*sd));
  sd->c.n = n;
  sd->c.wide = n >= 65536;
  sd->c.c = malloc(n * (sd->c.wide ? 4 : 2));
  sd->mem = calloc(m, sizeof(*sd->mem));
  sd->m = m;
  if (!sd->c.c || !sd->mem) return -1;
  bool nan = false;
  for (size_t i = 0; i < m; i++) {
    if (member_prep(&sd->mem[i], xs[i], n, sd->c.wide)) return -1;
    nan |= sd->mem[i].nan;
  }
  if (nan) {
    sd->draws = malloc(n * sizeof(*sd->draws));
    sd->buf = malloc(n * sizeof(*sd->buf));
    if (!sd->draws || !sd->buf) return -1;
  }
  return 0;
}

static void side_free(struct side *sd) {
  for (size_t i = 0; sd->mem && i < sd->m; i++)
    member_free(&sd->mem[i]);
  free(sd->mem);
  free(sd->c.c);
  free(sd->draws);
  free(sd->buf);
}

static double side_median(const struct side *sd, size_t i) {
  const struct member *m = &sd->mem[i];
  return m->nan ? nan_median(m->x, sd->draws, sd->c.n, sd->buf) : member_median(m, &sd->c);
}

/* ---- the batches --------------------------------------------------------- */
/* Two quantiles of the resamples' medians: selected (thousands of members
 * each have B medians); with a NaN among them, sorted once as before. */
static void two_quantiles(double *v, size_t n, double q1, double q2, double *a, double *b) {
  for (size_t i = 0; i < n; i++)
    if (isnan(v[i])) {
      qsort(v, n, sizeof(*v), cmp_double);
      *a = stats__quantile_sorted(v, n, q1);
      *b = stats__quantile_sorted(v, n, q2);
      return;
    }
  *a = stats__quantile_select(v, n, q1);
  *b = stats__quantile_select(v, n, q2);
}

int boot__median_cis(const double *const *xs, size_t m, size_t n, unsigned B, double level,
                     uint64_t seed, double *lo, double *hi) {
  if (!n || !B || n > UINT32_MAX) return -1;
  struct side sd;
  double *meds = malloc((size_t)B * m * sizeof(*meds));
  int rc = -1;
  if (side_init(&sd, xs, m, n) || !meds) goto out;
  struct stats_rng r;
  stats_rng__seed(&r, seed);
  for (unsigned b = 0; b < B; b++) {
    draw(&sd.c, sd.draws, &r);
    for (size_t i = 0; i < m; i++)
      meds[i * B + b] = side_median(&sd, i);
  }
  for (size_t i = 0; i < m; i++) {
    two_quantiles(&meds[i * B], B, (1 - level) / 2, (1 + level) / 2, &lo[i], &hi[i]);
    struct memo k;
    median_key(&k, xs[i], n, B, level, seed);
    memo_put(&k, 0, lo[i], hi[i]);
  }
  rc = 0;
out:
  side_free(&sd);
  free(meds);
  return rc;
}

int boot__ratio_cis(const double *const *xs, const double *const *bases, size_t m, size_t nx,
                    size_t nb, unsigned B, uint64_t seed, bool *ok, double *lo, double *hi) {
  if (!nx || !nb || !B || nx > UINT32_MAX || nb > UINT32_MAX) return -1;
  struct side sx, sb;
  double *rs = malloc((size_t)B * m * sizeof(*rs));
  size_t *k = calloc(m, sizeof(*k));
  int rc = -1;
  int ix = side_init(&sx, xs, m, nx), ib = side_init(&sb, bases, m, nb);
  if (ix || ib || !rs || !k) goto out;
  for (size_t i = 0; i < m; i++) { /* stats__ratio_ci's own refusal: a zero or NaN base median */
    double mb = stats__median(bases[i], nb);
    ok[i] = mb != 0 && !isnan(mb);
  }
  struct stats_rng r;
  stats_rng__seed(&r, seed);
  for (unsigned b = 0; b < B; b++) {
    draw(&sx.c, sx.draws, &r);
    draw(&sb.c, sb.draws, &r);
    for (size_t i = 0; i < m; i++) {
      if (!ok[i]) continue;
      double mx = side_median(&sx, i), mbb = side_median(&sb, i);
      if (mbb != 0) rs[i * B + k[i]++] = mx / mbb;
    }
  }
  for (size_t i = 0; i < m; i++) {
    struct memo key;
    ratio_key(&key, xs[i], nx, bases[i], nb, B, seed);
    if (!ok[i] || !k[i]) {
      ok[i] = false;
      memo_put(&key, -1, 0, 0);
      continue;
    }
    two_quantiles(&rs[i * B], k[i], 0.025, 0.975, &lo[i], &hi[i]);
    memo_put(&key, 0, lo[i], hi[i]);
  }
  rc = 0;
out:
  side_free(&sx);
  side_free(&sb);
  free(rs);
  free(k);
  return rc;
}
