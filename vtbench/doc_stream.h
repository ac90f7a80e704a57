/* doc_stream.h - read a result document without holding its runs in
 * memory: `vtbench report`, `export` and `merge` take documents of a
 * million runs (hundreds of MB) in memory bounded by the largest run.
 *
 * The file is read in blocks; the top-level object is taken apart here,
 * and every value in it is parsed by jansson on its own: each element of
 * `runs` is handed to a callback as soon as it is parsed and released
 * afterwards, the elements of `aggregates` are parsed (so a document is
 * exactly as valid as for result_doc__read) and dropped (every reader
 * recomputes them), everything else (schema, context, session) is kept.
 * The same checks and messages as result_doc__read (results/result_doc.h):
 * a file that is not JSON names its line and column, a wrong or newer
 * schema is refused, a directory is said to be one. */
#ifndef VTBENCH_DOC_STREAM_H
#define VTBENCH_DOC_STREAM_H

#include <jansson.h>
#include <stddef.h>

/* Called for runs[index] (borrowed: json_incref to keep it). 0 to go on;
 * anything else stops the reading (its message in err[len], which
 * doc_stream__read prefixes with the file's name). */
typedef int (*doc_stream_run_fn)(json_t *run, size_t index, void *ctx, char *err, size_t len);

/* The document's envelope (every top-level member but the runs' and the
 * aggregates' contents: "runs" and "aggregates" are empty arrays), after
 * on_run was called for every run in order; NULL with a message naming
 * the file in err. With on_run NULL the runs are only skipped over (their
 * brackets and strings matched, not parsed). *nruns (optional): how many
 * runs the document holds. The callback may already have been called when
 * a later part of the file turns out to be wrong. */
json_t *doc_stream__read(const char *path, doc_stream_run_fn on_run, void *ctx, size_t *nruns,
                         char *err, size_t len);

#endif
