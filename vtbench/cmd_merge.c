/* cmd_merge.c - `vtbench merge -o OUT.json A.json B.json...`: join shards
 * (or whole sessions) into one document.
 *
 * First every input's envelope is read (its runs only skipped over,
 * doc_stream.h) to check that they fit together: shards (session.shard
 * I/N with N > 1) of one matrix must all be there, once each, and every
 * input must be complete; otherwise merge names what is missing and stops,
 * unless --allow-incomplete (then the result says "incomplete" and lists
 * the missing shards in session.missing_shards). Then the runs are
 * streamed from the inputs into OUT (one run per line) without holding
 * them: memory is the aggregates' samples and the runs' identities. A run
 * (configuration and repetition) present twice is an error (the same shard
 * merged twice). The first document's context is kept; every input's
 * context is listed under session.merged_from. Aggregates are recomputed.
 * OUT is written through atomic_file.h: a failed or killed merge leaves
 * the previous OUT and no temporary. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "atomic_file.h"
#include "commands.h"
#include "doc_stream.h"
#include "matrix.h"
#include "msg.h"
#include "report_opts.h"
#include "run_ids.h"
#include "spawn.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: vtbench merge -o OUT.json [--baseline MODE] [--allow-incomplete] IN.json...\n"
          "  Joins shards (vtbench run --shard I/N) or sessions into one document. The\n"
          "  shards of a matrix must all be there and complete, or merge says which are\n"
          "  missing and stops (exit 6); --allow-incomplete writes them anyway, marked\n"
          "  incomplete. A run present twice is an error (exit 6).\n");
}

/* One input's envelope and what it says about itself. */
struct input {
  const char *path;
  json_t *env;
  const char *status;
  unsigned shard_i, shard_n; /* 0: not a shard of a larger matrix */
  char *matrix;              /* session.matrix as sorted compact JSON, or NULL */
  size_t set;                /* index of its shard set */
};

/* The inputs' shard sets (one per matrix and N): which shards are there.
 * Appends what is wrong to why (one clause per problem) and the missing
 * shards to `missing`; true when everything fits. */
static bool check_sets(struct input *in, size_t n, json_t *missing, char *why, size_t len) {
  size_t off = 0, nsets = 0;
  bool ok = true;
#define SAY(...)                                                                                   \
  do {                                                                                             \
    if (off < len) off += (size_t)snprintf(why + off, len - off, __VA_ARGS__);                     \
  } while (0)
  for (size_t i = 0; i < n; i++) {
    if (in[i].status && strcmp(in[i].status, "complete")) {
      SAY("%s%s is %s (finish it: vtbench run --resume -o %s)", ok ? "" : "; ", in[i].path,
          in[i].status, in[i].path);
      ok = false;
    }
    if (!in[i].shard_n) continue;
    size_t k = 0;
    while (k < i &&
           (!in[k].shard_n || in[k].shard_n != in[i].shard_n || strcmp(in[k].matrix, in[i].matrix)))
      k++;
    in[i].set = k < i ? in[k].set : nsets++;
  }
  for (size_t set = 0; set < nsets; set++) {
    const struct input *first = NULL;
    unsigned N = 0;
    char have[512] = "", gone[512] = "";
    size_t ho = 0, go = 0, nmissing = 0;
    for (size_t i = 0; i < n; i++)
      if (in[i].shard_n && in[i].set == set && !first) first = &in[i], N = in[i].shard_n;
    for (unsigned s = 1; s <= N; s++) {
      const struct input *at = NULL;
      for (size_t i = 0; i < n; i++) {
        if (!in[i].shard_n || in[i].set != set || in[i].shard_i != s) continue;
        if (at) {
          SAY("%s%s and %s are both shard %u/%u of one matrix", ok ? "" : "; ", at->path,
              in[i].path, s, N);
          ok = false;
        }
        at = &in[i];
      }
      char name[32];
      snprintf(name, sizeof(name), "%u/%u", s, N);
      if (at) {
        if (ho < sizeof(have))
          ho += (size_t)snprintf(have + ho, sizeof(have) - ho, "%s%s", ho ? ", " : "", name);
      } else {
        nmissing++;
        json_array_append_new(missing, json_string(name));
        if (go < sizeof(gone))
          go += (size_t)snprintf(gone + go, sizeof(gone) - go, "%s%s", go ? ", " : "", name);
      }
    }
    if (nmissing) {
      SAY("%sshard%s %s of the matrix of %s %s missing (given: %s)", ok ? "" : "; ",
          nmissing > 1 ? "s" : "", gone, first->path, nmissing > 1 ? "are" : "is", have);
      ok = false;
    }
  }
  if (nsets > 1 && !ok) SAY(" (the inputs hold shards of %zu different matrices)", nsets);
#undef SAY
  return ok;
}

/* Pass 2: every run of every input into OUT and the aggregates. */
struct stream_ctx {
  FILE *f;
  struct agg_set *s;
  struct run_ids *ids;
  const struct input *in;
  size_t input, total;
  bool duplicate; /* the reading stopped at a run seen before */
};

static int stream_run(json_t *run, size_t index, void *arg, char *err, size_t len) {
  struct stream_ctx *c = arg;
  if (spawn__caught()) return msg__fail(err, len, "interrupted");
  char key[256];
  long long rep;
  uint32_t from;
  if (run_ids__of(run, key, sizeof(key), &rep) &&
      run_ids__add(c->ids, key, rep, (uint32_t)c->input, &from) == 1) {
    c->duplicate = true;
    return msg__fail(err, len,
                     "runs[%zu]: configuration %s repetition %lld already came from %s (the same "
                     "shard twice?)",
                     index, key, rep, c->in[from].path);
  }
  if (aggregate__add_run(c->s, run, c->total)) return msg__fail(err, len, "%s", c->s->error);
  char *text = json_dumps(run, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (!text) return msg__fail(err, len, "out of memory");
  fprintf(c->f, "%s\n    %s", c->total ? "," : "", text);
  free(text);
  c->total++;
  return 0;
}

/* "  \"KEY\": VALUE" with VALUE indented as result_doc__write does. */
static void put_member(FILE *f, const char *key, const json_t *v, bool comma) {
  char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  fprintf(f, "%s\n  \"%s\": ", comma ? "," : "", key);
  for (const char *p = text ? text : "null"; *p; p++) { /* nested one level deeper */
    fputc(*p, f);
    if (*p == '\n') fputs("  ", f);
  }
  free(text);
}

int cmd_merge(int argc, char **argv) {
  bool allow_incomplete = false;
  /* --allow-incomplete is merge's own: take it out before the shared options */
  char **args = calloc((size_t)argc + 1, sizeof(*args));
  int nargs = 0;
  if (!args) return VTB_EXIT_FAILED;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--allow-incomplete"))
      allow_incomplete = true;
    else
      args[nargs++] = argv[i];
  }
  struct report_opts o = {0};
  int rc = report_opts__parse(&o, nargs, args, usage);
  if (rc != REPORT_OPTS_CONTINUE) {
    free(args);
    return rc;
  }
  const char *out = o.output, *baseline = o.baseline;
  int first = optind;
  if (!out || first >= nargs) {
    msg__error("%s", !out ? "-o OUT.json missing: where should the merged document go?"
                          : "no input document (IN.json...)");
    usage(stderr);
    free(args);
    return VTB_EXIT_USAGE;
  }
  size_t n = (size_t)(nargs - first);
  struct input *in = calloc(n, sizeof(*in));
  json_t *from = json_array(), *missing = json_array();
  struct agg_set s = {0};
  struct run_ids *ids = NULL;
  struct atomic_file af = {.fd = -1};
  char err[1024], why[2048];
  bool have_set = false;
  rc = VTB_EXIT_OK;
  if (!in || !from || !missing) {
    rc = VTB_EXIT_FAILED;
    goto out;
  }

  /* pass 1: the envelopes */
  for (size_t i = 0; i < n; i++) {
    in[i].path = args[first + (int)i];
    if (!(in[i].env = doc_stream__read(in[i].path, NULL, NULL, NULL, err, sizeof(err)))) {
      msg__error("%s", err);
      rc = VTB_EXIT_IO;
      goto out;
    }
    json_t *session = json_object_get(in[i].env, "session");
    in[i].status = json_string_value(json_object_get(session, "status"));
    const char *sh = json_string_value(json_object_get(session, "shard"));
    const json_t *m = json_object_get(session, "matrix");
    unsigned si, sn;
    if (sh && m && !matrix__parse_shard(sh, &si, &sn) && sn > 1) {
      in[i].shard_i = si;
      in[i].shard_n = sn;
      in[i].matrix = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
      if (!in[i].matrix) {
        rc = VTB_EXIT_FAILED;
        goto out;
      }
    }
    json_array_append_new(from, json_pack("{s:s,s:O,s:O}", "file", in[i].path, "context",
                                          json_object_get(in[i].env, "context"), "session",
                                          session ? session : json_null()));
  }
  bool complete = check_sets(in, n, missing, why, sizeof(why));
  if (!complete && !allow_incomplete) {
    msg__error("the inputs are not a whole session: %s; merge them all, or pass "
               "--allow-incomplete to write an incomplete document",
               why);
    rc = VTB_EXIT_DATA;
    goto out;
  }
  if (!complete) msg__note("writing an incomplete document: %s", why);

  /* pass 2: the runs, streamed */
  if (aggregate__init(&s) || !(ids = run_ids__new())) {
    rc = VTB_EXIT_FAILED;
    goto out;
  }
  have_set = true;
  FILE *f = atomic_file__open(&af, out);
  if (!f) {
    msg__error("%s: cannot write: %s", out, strerror(errno));
    rc = VTB_EXIT_IO;
    goto out;
  }
  spawn__catch_signals(); /* Ctrl-C: stop, no half-written OUT */
  json_t *schema = json_pack("{s:s,s:i}", "name", "vtbench-result", "version", 1);
  fputs("{", f);
  put_member(f, "schema", schema, false);
  json_decref(schema);
  put_member(f, "context", json_object_get(in[0].env, "context"), true);
  fputs(",\n  \"runs\": [", f);
  struct stream_ctx sc = {.f = f, .s = &s, .ids = ids, .in = in};
  for (size_t i = 0; i < n && rc == VTB_EXIT_OK; i++) {
    sc.input = i;
    json_t *env = doc_stream__read(in[i].path, stream_run, &sc, NULL, err, sizeof(err));
    if (!env && spawn__caught()) {
      msg__error("interrupted: %s not written", out);
      rc = VTB_EXIT_INTERRUPTED;
    } else if (!env) {
      msg__error("%s", err);
      rc = sc.duplicate ? VTB_EXIT_DATA : VTB_EXIT_IO;
    }
    json_decref(env);
  }
  spawn__restore_signals();
  if (rc != VTB_EXIT_OK) {
    atomic_file__abort(&af);
    goto out;
  }
  fputs(sc.total ? "\n  ]" : "]", f);
  json_t *aggs = aggregate__compute(&s, baseline);
  put_member(f, "aggregates", aggs, true);
  json_decref(aggs);
  json_t *session = json_pack("{s:s,s:s,s:O}", "tool", "vtbench", "status",
                              complete ? "complete" : "incomplete", "merged_from", from);
  if (json_array_size(missing)) json_object_set(session, "missing_shards", missing);
  put_member(f, "session", session, true);
  json_decref(session);
  fputs("\n}\n", f);
  if (atomic_file__commit(&af)) {
    msg__error("%s: cannot write: %s", out, strerror(errno));
    rc = VTB_EXIT_IO;
    goto out;
  }
  printf("vtbench merge: %zu runs from %zu files -> %s%s\n", sc.total, n, out,
         complete ? "" : " (incomplete)");
out:
  for (size_t i = 0; in && i < n; i++) {
    json_decref(in[i].env);
    free(in[i].matrix);
  }
  free(in);
  if (have_set) aggregate__free(&s);
  run_ids__free(ids);
  json_decref(from);
  json_decref(missing);
  free(args);
  return rc;
}
