/* cmd_merge.c - `vtbench merge -o OUT.json A.json B.json...`: join shards
 * (or sessions) into one document. Runs are concatenated; a configuration
 * and repetition present twice is an error (the same shard merged twice).
 * The first document's context is kept; every input's context is listed
 * under session.merged_from. Aggregates are recomputed. */
#include <stdio.h>
#include <string.h>

#include "aggregate.h"
#include "commands.h"
#include "json_util.h"
#include "msg.h"
#include "report_opts.h"
#include "results/result_doc.h"

static void usage(FILE *out) {
  fprintf(out, "usage: vtbench merge -o OUT.json [--baseline MODE] IN.json...\n");
}

int cmd_merge(int argc, char **argv) {
  struct report_opts o = {0};
  int rc = report_opts__parse(&o, argc, argv, usage);
  if (rc != REPORT_OPTS_CONTINUE) return rc;
  const char *out = o.output, *baseline = o.baseline;
  if (!out || optind >= argc) {
    usage(stderr);
    return VTB_EXIT_USAGE;
  }
  json_t *merged = NULL, *from = json_array(), *seen = json_object();
  rc = VTB_EXIT_OK;
  bool complete = true;
  for (int i = optind; i < argc && rc == VTB_EXIT_OK; i++) {
    json_t *doc = json_util__load_doc(argv[i]);
    if (!doc) {
      rc = VTB_EXIT_IO;
      break;
    }
    json_t *session = json_object_get(doc, "session");
    const char *st = json_string_value(json_object_get(session, "status"));
    if (st && strcmp(st, "complete")) {
      msg__note("%s is %s (resume it with vtbench run --resume)", argv[i], st);
      complete = false;
    }
    json_array_append_new(from, json_pack("{s:s,s:O,s:O}", "file", argv[i], "context",
                                          json_object_get(doc, "context"), "session",
                                          session ? session : json_null()));
    if (!merged) merged = result_doc__new(json_deep_copy(json_object_get(doc, "context")));
    size_t k;
    json_t *run;
    json_array_foreach(json_object_get(doc, "runs"), k, run) {
      char key[300], id[340];
      aggregate__run_key(run, key, sizeof(key));
      snprintf(id, sizeof(id), "%s #%lld", key,
               (long long)json_integer_value(json_object_get(run, "repetition")));
      if (json_object_get(seen, id)) {
        msg__error("%s: runs[%zu]: %s already came from %s (same shard twice?)", argv[i], k, id,
                   json_string_value(json_object_get(seen, id)));
        rc = VTB_EXIT_USAGE;
        break;
      }
      json_object_set_new(seen, id, json_string(argv[i]));
      result_doc__add_run(merged, json_deep_copy(run));
    }
    json_decref(doc);
  }
  if (rc == VTB_EXIT_OK) {
    struct agg_set s;
    aggregate__group(merged, &s);
    json_object_set_new(merged, "aggregates", aggregate__compute(&s, baseline));
    aggregate__free(&s);
    json_object_set_new(merged, "session",
                        json_pack("{s:s,s:s,s:o}", "tool", "vtbench", "status",
                                  complete ? "complete" : "incomplete", "merged_from", from));
    from = NULL;
    int w = result_doc__write(merged, out);
    if (w) {
      msg__error("%s: cannot write: %s", out, strerror(-w));
      rc = VTB_EXIT_IO;
    } else {
      printf("vtbench merge: %zu runs from %d files -> %s\n",
             json_array_size(json_object_get(merged, "runs")), argc - optind, out);
    }
  }
  json_decref(from);
  json_decref(seen);
  json_decref(merged);
  return rc;
}
