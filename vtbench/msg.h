/* msg.h - vtbench's messages on stderr, in one format:
 *
 *   vtbench COMMAND: TEXT          (msg__error; msg__info for progress)
 *   vtbench COMMAND: note: TEXT    (msg__note)
 *
 * COMMAND is the subcommand main.c dispatched to ("report", "host set"),
 * so every message says which command it comes from; "vtbench: TEXT"
 * before one is chosen. A progress line a command keeps on a terminal
 * (msg__progress) is erased before a message is printed, so messages never
 * land in the middle of it.
 *
 * Functions that hand their errors to the caller format them with
 * msg__fail(err, len, ...) and return its -1. */
#ifndef VTBENCH_MSG_H
#define VTBENCH_MSG_H

#include <stdarg.h>
#include <stddef.h>

#define MSG_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The command messages name from now on ("run", "host set"); NULL: none. */
void msg__set_command(const char *name);
/* The current command, or NULL. */
const char *msg__command(void);

/* "vtbench COMMAND: TEXT\n" on stderr. */
void msg__error(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg__verror(const char *fmt, va_list ap);
/* The same format for what a long command is doing ("wrote X"). */
void msg__info(const char *fmt, ...) MSG_PRINTF(1, 2);
/* "vtbench COMMAND: note: TEXT\n" on stderr. */
void msg__note(const char *fmt, ...) MSG_PRINTF(1, 2);

/* Format TEXT into err[len] (cut to fit) and return -1: for functions that
 * report an error through a caller's buffer. */
int msg__fail(char *err, size_t len, const char *fmt, ...) MSG_PRINTF(3, 4);

/* Show `line` as the one-line progress display on stderr (a terminal):
 * it overwrites the previous one. NULL erases it. */
void msg__progress(const char *line);

#endif
