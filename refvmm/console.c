/* console.c - bounded console buffer with optional echo. */
#include "console.h"

#include <stdio.h>
#include <string.h>

void console__init(struct console *c, bool echo) {
  c->len = 0;
  c->total = 0;
  c->dropped = 0;
  c->buf[0] = '\0';
  c->echo = echo;
}

void console__write(struct console *c, const void *data, size_t n) {
  c->total += n;
  size_t room = CONSOLE_KEEP_MAX - c->len;
  size_t keep = n < room ? n : room;
  memcpy(c->buf + c->len, data, keep);
  c->len += keep;
  c->buf[c->len] = '\0';
  c->dropped += n - keep;
  if (c->echo && n) {
    fwrite(data, 1, n, stdout);
    /* line-buffered by hand: serial output comes a byte per exit */
    if (memchr(data, '\n', n)) fflush(stdout);
  }
}
