/* refvmm_child.h - one refvmm run as a child process (spawn.h), for
 * the subcommands that run it themselves (calibrate, validate --time): its
 * output to a log file, its result document read back, the log's last line
 * for a message when it failed. */
#ifndef VTBENCH_REFVMM_CHILD_H
#define VTBENCH_REFVMM_CHILD_H

#include <jansson.h>
#include <stddef.h>

/* Run argv (argv[0] the refvmm binary, NULL-terminated) through spawn.h
 * with stdout and stderr to log_path, ended after timeout_s (> 0), and
 * wait. Its exit status, 128 + the signal that ended it, or -1 when it
 * could not start (err says why). A signal spawn__catch_signals() records
 * is passed on to it. */
int refvmm_child__run(const char *const *argv, const char *log_path, double timeout_s, char *err,
                      size_t errlen);
/* The run's document at json_path when it ended ok (exit 0, runs[0].status
 * "ok"): a new reference. Else NULL and a message in err naming `what`, the
 * exit code, the status and the log's last line. */
json_t *refvmm_child__result(const char *what, int code, const char *json_path,
                             const char *log_path, char *err, size_t errlen);
/* The object at a dotted path below j ("guest.checksum"), or NULL. */
const json_t *refvmm_child__path(const json_t *j, const char *path);

#endif
