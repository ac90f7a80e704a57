/* atomic_file.h - write a derived output (CSV, Markdown, HTML, plot data,
 * a merged document) so that a reader never sees it half written: the text
 * goes to a temporary in the same directory (unnamed where the file system
 * allows: a SIGKILLed writer leaves nothing; else PATH.tmp.PID.N), is
 * fsync'ed, renamed over PATH, and the directory is fsync'ed. After a
 * crash, a kill or a full disk PATH is either its previous content or the
 * complete new one, and a failed write is reported with its own errno
 * (ENOSPC, EFBIG, ...).
 *
 * The same protocol as result_doc__write (results/result_doc.c), which
 * vtbench uses for its JSON outputs; this one hands out a FILE * for the
 * writers that print. */
#ifndef VTBENCH_ATOMIC_FILE_H
#define VTBENCH_ATOMIC_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct atomic_file {
  FILE *f;
  char path[PATH_MAX];
  char tmp[PATH_MAX]; /* the temporary's name (an unnamed one gets it at the commit) */
  int fd;             /* the temporary */
  int err;            /* errno of the first failed write */
  bool unnamed;       /* O_TMPFILE */
};

/* Create the temporary next to `path`; its stream, or NULL with errno set
 * (nothing created). af->path names the target either way, for messages. */
FILE *atomic_file__open(struct atomic_file *af, const char *path);
/* The same for DIR/NAME. */
FILE *atomic_file__open_in(struct atomic_file *af, const char *dir, const char *name);
/* Flush, fsync and close the stream, rename it over `path`, fsync the
 * directory. 0, or -1 with errno set: then the temporary is removed and
 * `path` is untouched (a stream error earlier, ferror(), also fails here). */
int atomic_file__commit(struct atomic_file *af);
/* Close and remove the temporary; `path` is untouched. */
void atomic_file__abort(struct atomic_file *af);

/* Move an already written, closed file `tmp` over `path` the same way
 * (fsync, rename, fsync of the directory): for files a child process
 * writes, such as gnuplot's PNG and SVG. 0, or -1 with errno set and `tmp`
 * removed. */
int atomic_file__publish(const char *tmp, const char *path);

#endif
