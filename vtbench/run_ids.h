/* run_ids.h - the identities of a document's runs: a run is its
 * configuration key (aggregate__run_key: `config`, or backend, workload,
 * parameters and modes) and its repetition number. vtbench run uses them
 * to skip what a resumed document holds; merge, report, export and the
 * aggregates refuse a document that holds one identity twice (the same
 * run counted twice narrows every interval). A run without a repetition
 * number has no identity and is never a duplicate.
 *
 * A set of 10^6 identities takes about 40 MB (the keys are interned: a
 * configuration's key is stored once). */
#ifndef VTBENCH_RUN_IDS_H
#define VTBENCH_RUN_IDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct run_ids;

struct run_ids *run_ids__new(void);
void run_ids__free(struct run_ids *s);

/* Add (key, rep) with a caller's tag (e.g. the input file's index): 0 when
 * new, 1 when present already (*first_tag: the tag it was added with), -1
 * out of memory. */
int run_ids__add(struct run_ids *s, const char *key, long long rep, uint32_t tag,
                 uint32_t *first_tag);
bool run_ids__has(const struct run_ids *s, const char *key, long long rep);
/* Identities held. */
size_t run_ids__count(const struct run_ids *s);

/* 0 when no two runs of doc have one identity; else -1 with "runs[J] is
 * runs[I] again (configuration K, repetition R)" in err. */
int run_ids__check_doc(const json_t *doc, char *err, size_t len);

/* A run's identity: its key into key[len] and its repetition; false when it
 * has no repetition number (then it has no identity). */
bool run_ids__of(const json_t *run, char *key, size_t len, long long *rep);

#endif
