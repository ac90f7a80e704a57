/* fuzz_matrix.c - libFuzzer harness for the matrix/config parser
 * (vtbench/matrix.c). The input is a matrix file (JSON) as a user would
 * write it; a parsed matrix is expanded into configurations and job lists
 * (every shard of 1..4), written back to JSON and parsed again, which must
 * succeed and give the same expansion. The mode and shard strings of the
 * command line are fuzzed from the same bytes. Whatever the file holds,
 * vtbench must answer with a message, never crash (ASan/UBSan).
 *
 *   clang -fsanitize=fuzzer,address,undefined ... (see Makefile `fuzz`) */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtbench/matrix.h"

static void expand(const struct matrix *m, size_t *nconfigs, size_t *njobs) {
  struct matrix_config *cfgs = NULL;
  size_t n = matrix__configs(m, NULL, NULL, &cfgs);
  *nconfigs = n;
  *njobs = 0;
  for (size_t i = 0; i < n; i++) {
    char key[256];
    matrix__config_key(m, &cfgs[i], key, sizeof key);
    if (!memchr(key, '\0', sizeof key)) abort();
  }
  for (unsigned sn = 1; sn <= 4; sn++) {
    for (unsigned si = 1; si <= sn; si++) {
      struct matrix_job *jobs = NULL;
      size_t nj = matrix__jobs(m, n, si, sn, MATRIX_SEED, &jobs);
      for (size_t j = 0; j < nj; j++)
        if (jobs[j].config >= n) abort(); /* a job outside the configuration list */
      if (sn == 1) *njobs = nj;
      free(jobs);
    }
  }
  free(cfgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  /* The command-line strings: the first line of the input. */
  char line[64];
  size_t l = 0;
  while (l < size && l < sizeof line - 1 && data[l] != '\n') {
    line[l] = (char)data[l];
    l++;
  }
  line[l] = '\0';
  struct matrix_mode mode;
  if (matrix__parse_mode(line, &mode, err, sizeof err) == 0) {
    char buf[64];
    matrix__mode_str(&mode, buf, sizeof buf);
  }
  unsigned si, sn;
  if (matrix__parse_shard(line, &si, &sn) == 0 && (si < 1 || si > sn)) abort();

  /* The matrix file. */
  json_error_t jerr;
  json_t *j = json_loadb((const char *)data, size, 0, &jerr);
  if (!j) return 0;
  struct matrix m;
  memset(&m, 0, sizeof m);
  if (matrix__from_json(&m, j, "fuzz.json", err, sizeof err) == 0) {
    /* Keep the expansion affordable: reps and sizes are fuzzer-controlled. */
    size_t cost = (size_t)m.nbackends * m.nworkloads * m.nmodes * ((size_t)m.reps + m.warmup);
    if (cost <= 20000) {
      size_t nc, nj;
      expand(&m, &nc, &nj);
      json_t *back = matrix__to_json(&m);
      struct matrix m2;
      memset(&m2, 0, sizeof m2);
      if (matrix__from_json(&m2, back, "roundtrip", err, sizeof err) != 0) abort();
      size_t nc2, nj2;
      expand(&m2, &nc2, &nj2);
      if (nc != nc2 || nj != nj2) abort(); /* to_json lost or added something */
      matrix__free(&m2);
      json_decref(back);
    }
    matrix__free(&m);
  } else if (!err[0]) {
    abort(); /* a refusal must say why */
  }
  json_decref(j);
  return 0;
}
