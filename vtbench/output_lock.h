/* output_lock.h - one writer per result document. `vtbench run -o OUT`
 * holds an exclusive flock(2) on OUT.lock for as long as it writes OUT;
 * a second run, resume or shard onto the same OUT is refused at once with
 * the holder's pid instead of silently overwriting the first one's runs.
 * The lock file holds "PID COMMAND" and is removed by its holder when it
 * ends; one left by a killed holder is simply taken over (a lock dies
 * with its process).
 *
 * The protocol that keeps removal safe: lock, then check that the path
 * still names the locked file (a holder that ended may have removed it in
 * between: then try again). */
#ifndef VTBENCH_OUTPUT_LOCK_H
#define VTBENCH_OUTPUT_LOCK_H

#include <limits.h>
#include <stddef.h>

struct output_lock {
  char path[PATH_MAX]; /* OUT.lock */
  int fd;              /* -1: not held */
};

/* Take the lock of `out`: 0; 1 when another process holds it (err says
 * which); -1 when the lock file cannot be created (err says why). */
int output_lock__take(struct output_lock *l, const char *out, char *err, size_t len);
/* Remove the lock file and release it (no-op when not held). */
void output_lock__release(struct output_lock *l);

#endif
