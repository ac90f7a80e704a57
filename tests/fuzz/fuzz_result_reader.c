/* fuzz_result_reader.c - libFuzzer harness for the result readers
 * (results/result_doc.c result_doc__read, and vtbench/doc_stream.c, which
 * must accept and refuse the same documents and hand over the same runs)
 * and what vtbench does with a document it accepted: group its runs,
 * compute aggregates and findings, compare it with itself
 * (vtbench/aggregate.c, findings.c, compare.c). A
 * result file may come from another version, another host, or a disk that
 * filled up: whatever it holds, vtbench must refuse it with a message
 * naming the file, or process it, never crash (ASan/UBSan).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... (see Makefile `fuzz`) */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "results/result_doc.h"
#include "vtbench/aggregate.h"
#include "vtbench/compare.h"
#include "vtbench/export.h"
#include "vtbench/findings.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fd < 0) {
    fd = memfd_create("fuzz_result", 0);
    if (fd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  char err[512] = "", serr[512] = "";
  json_t *doc = result_doc__read(path, err, sizeof err);
  struct agg_set ss;
  json_t *env = NULL;
  int srd = aggregate__load(path, &ss, &env, serr, sizeof serr);
  if (!doc) {
    if (!strstr(err, path)) abort(); /* the message must name the file */
    if (!srd) abort();               /* the stream accepted what the reader refused */
    if (!strstr(serr, path)) abort();
    return 0;
  }
  /* the reader lets a later top-level key replace an earlier one; the
   * stream refuses a repeated key */
  if (srd == AGG_LOAD_BAD && !strstr(serr, "appears twice")) abort();
  struct agg_set s;
  memset(&s, 0, sizeof s);
  int grouped = aggregate__group(doc, &s);
  if (!srd) {
    if (grouped || ss.n != s.n || ss.nruns != s.nruns) abort(); /* the same runs, grouped */
    json_t *a = aggregate__compute(&s, NULL), *b = aggregate__compute(&ss, NULL);
    if (!json_equal(a, b)) abort();
    json_decref(a);
    json_decref(b);
    aggregate__free(&ss);
    json_decref(env);
  } else if (srd == AGG_LOAD_DUPLICATE && !grouped) {
    abort(); /* both see the same duplicates */
  }
  if (!grouped) {
    json_t *f = findings__compute(&s, &s, NULL, NULL, 0);
    json_decref(f);
    struct compare_row *rows = NULL;
    compare__rows(&s, &s, &rows);
    free(rows);
  }
  aggregate__free(&s);
  json_decref(doc);
  return 0;
}
