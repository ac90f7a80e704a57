/* run_ids.c - see run_ids.h. Keys are interned in a jansson object (key ->
 * index); an identity is index << 32 | repetition in an open-addressing
 * table of 64-bit words. Repetitions outside 0..2^32-2 go to a second
 * object as "index #rep" (never written by vtbench run). */
#include "run_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "msg.h"

#define EMPTY UINT64_MAX

struct run_ids {
  json_t *keys;  /* key -> integer index */
  json_t *other; /* "index #rep" -> tag, for repetitions the table cannot pack */
  uint64_t *slot;
  uint32_t *tag;
  size_t cap, n; /* cap: a power of two */
};

struct run_ids *run_ids__new(void) {
  struct run_ids *s = calloc(1, sizeof(*s));
  if (!s) return NULL;
  s->keys = json_object();
  s->other = json_object();
  if (!s->keys || !s->other) {
    run_ids__free(s);
    return NULL;
  }
  return s;
}

void run_ids__free(struct run_ids *s) {
  if (!s) return;
  json_decref(s->keys);
  json_decref(s->other);
  free(s->slot);
  free(s->tag);
  free(s);
}

size_t run_ids__count(const struct run_ids *s) {
  return s->n + json_object_size(s->other);
}

static uint64_t mix(uint64_t z) { /* splitmix64's finaliser */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* The slot holding v, or the empty one where it would go. */
static size_t find(const struct run_ids *s, uint64_t v) {
  size_t i = (size_t)mix(v) & (s->cap - 1);
  while (s->slot[i] != EMPTY && s->slot[i] != v)
    i = (i + 1) & (s->cap - 1);
  return i;
}

static int grow(struct run_ids *s) {
  size_t cap = s->cap ? s->cap * 2 : 1024;
  uint64_t *slot = malloc(cap * sizeof(*slot));
  uint32_t *tag = malloc(cap * sizeof(*tag));
  if (!slot || !tag) {
    free(slot);
    free(tag);
    return -1;
  }
  memset(slot, 0xff, cap * sizeof(*slot));
  struct run_ids old = *s;
  s->slot = slot;
  s->tag = tag;
  s->cap = cap;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slot[i] != EMPTY) {
      size_t k = find(s, old.slot[i]);
      s->slot[k] = old.slot[i];
      s->tag[k] = old.tag[i];
    }
  free(old.slot);
  free(old.tag);
  return 0;
}

/* The key's index; -1 when unknown and !add, or out of memory. */
static long long key_index(struct run_ids *s, const char *key, bool add) {
  json_t *v = json_object_get(s->keys, key);
  if (v) return json_integer_value(v);
  if (!add) return -1;
  long long i = (long long)json_object_size(s->keys);
  return json_object_set_new(s->keys, key, json_integer(i)) ? -1 : i;
}

static bool packable(long long rep) {
  return rep >= 0 && rep < (long long)UINT32_MAX;
}

int run_ids__add(struct run_ids *s, const char *key, long long rep, uint32_t tag,
                 uint32_t *first_tag) {
  long long k = key_index(s, key, true);
  if (k < 0) return -1;
  if (!packable(rep)) {
    char id[64];
    snprintf(id, sizeof(id), "%lld #%lld", k, rep);
    json_t *t = json_object_get(s->other, id);
    if (t) {
      if (first_tag) *first_tag = (uint32_t)json_integer_value(t);
      return 1;
    }
    return json_object_set_new(s->other, id, json_integer(tag)) ? -1 : 0;
  }
  if ((s->n + 1) * 2 > s->cap && grow(s)) return -1;
  uint64_t v = (uint64_t)k << 32 | (uint64_t)rep;
  size_t i = find(s, v);
  if (s->slot[i] == v) {
    if (first_tag) *first_tag = s->tag[i];
    return 1;
  }
  s->slot[i] = v;
  s->tag[i] = tag;
  s->n++;
  return 0;
}

bool run_ids__has(const struct run_ids *s, const char *key, long long rep) {
  long long k = key_index((struct run_ids *)s, key, false);
  if (k < 0) return false;
  if (!packable(rep)) {
    char id[64];
    snprintf(id, sizeof(id), "%lld #%lld", k, rep);
    return json_object_get(s->other, id) != NULL;
  }
  if (!s->cap) return false;
  uint64_t v = (uint64_t)k << 32 | (uint64_t)rep;
  return s->slot[find(s, v)] == v;
}

bool run_ids__of(const json_t *run, char *key, size_t len, long long *rep) {
  const json_t *r = json_object_get(run, "repetition");
  if (!json_is_integer(r)) return false;
  *rep = json_integer_value(r);
  aggregate__run_key(run, key, len);
  return true;
}

int run_ids__check_doc(const json_t *doc, char *err, size_t len) {
  struct run_ids *s = run_ids__new();
  if (!s) return msg__fail(err, len, "out of memory");
  size_t i;
  json_t *run;
  int rc = 0;
  json_array_foreach(json_object_get(doc, "runs"), i, run) {
    char key[256];
    long long rep;
    uint32_t first;
    if (!run_ids__of(run, key, sizeof(key), &rep)) continue;
    int d = run_ids__add(s, key, rep, (uint32_t)i, &first);
    if (d) {
      rc = d < 0 ? msg__fail(err, len, "out of memory")
                 : msg__fail(err, len,
                             "runs[%zu] is runs[%u] again (configuration %s, repetition %lld): a "
                             "document holds each run once",
                             i, first, key, rep);
      break;
    }
  }
  run_ids__free(s);
  return rc;
}
