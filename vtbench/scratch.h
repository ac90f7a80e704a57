/* scratch.h - a private directory for the files of vtbench's children
 * (refvmm's run.json and run.log), $TMPDIR/vtbench-tmp-WHAT.XXXXXX (/tmp
 * without TMPDIR), held with flock(2) for as long as vtbench uses it.
 *
 * A vtbench killed with SIGKILL cannot remove its directory; the next
 * scratch__create() does: every vtbench-tmp-* directory no process holds
 * is removed with its files. The lock closes the race with a directory
 * just being created: its creator locks it, then checks that it still
 * exists (a sweep that got there first removed it: it makes another). */
#ifndef VTBENCH_SCRATCH_H
#define VTBENCH_SCRATCH_H

#include <limits.h>
#include <stddef.h>

struct scratch {
  char path[PATH_MAX];
  int fd; /* the directory, locked; -1 when there is none */
};

/* Sweep stale directories, then create and lock a new one named after
 * `what` ("run", "calibrate"). 0, or -1 with a message naming the
 * directory in err. */
int scratch__create(struct scratch *s, const char *what, char *err, size_t len);
/* Remove the directory and its files; unlock. */
void scratch__remove(struct scratch *s);
/* Remove the vtbench-tmp-* directories under `root` that no process
 * holds; the count removed. */
int scratch__sweep(const char *root);

#endif
