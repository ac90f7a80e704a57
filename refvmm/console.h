/* console.h - the guest's console: bytes from the serial port and the
 * console hypercall, kept (bounded) for the result and echoed to stdout. */
#ifndef REFVMM_CONSOLE_H
#define REFVMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_KEEP_MAX (64u * 1024u) /* bytes kept for the JSON record */
#define CONSOLE_TAIL     1024u         /* the last bytes, kept whatever was dropped */

struct console {
  char buf[CONSOLE_KEEP_MAX + 1]; /* always NUL-terminated */
  size_t len;
  uint64_t total;   /* bytes written by the guest */
  uint64_t dropped; /* bytes not kept (past CONSOLE_KEEP_MAX) */
  bool echo;        /* copy to stdout */
  char tail[CONSOLE_TAIL];
  size_t tail_pos; /* next byte of the ring; tail_len bytes are valid */
  size_t tail_len;
};

void console__init(struct console *c, bool echo);
void console__write(struct console *c, const void *data, size_t n);
/* The last non-empty line written (without its newline), truncated to
 * fit buf; "" if none. Returns buf. */
const char *console__last_line(const struct console *c, char *buf, size_t len);

#endif
