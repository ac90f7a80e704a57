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
  c->tail_pos = c->tail_len = 0;
}

void console__write(struct console *c, const void *data, size_t n) {
  c->total += n;
  size_t room = CONSOLE_KEEP_MAX - c->len;
  size_t keep = n < room ? n : room;
  memcpy(c->buf + c->len, data, keep);
  c->len += keep;
  c->buf[c->len] = '\0';
  c->dropped += n - keep;
  const char *d = data;
  for (size_t i = n > CONSOLE_TAIL ? n - CONSOLE_TAIL : 0; i < n; i++) {
    c->tail[c->tail_pos] = d[i];
    c->tail_pos = (c->tail_pos + 1) % CONSOLE_TAIL;
    if (c->tail_len < CONSOLE_TAIL) c->tail_len++;
  }
  if (c->echo && n) {
    fwrite(data, 1, n, stdout);
    /* line-buffered by hand: serial output comes a byte per exit */
    if (memchr(data, '\n', n)) fflush(stdout);
  }
}

const char *console__last_line(const struct console *c, char *buf, size_t len) {
  char lin[CONSOLE_TAIL + 1];
  size_t n = c->tail_len, start = (c->tail_pos + CONSOLE_TAIL - n) % CONSOLE_TAIL;
  for (size_t i = 0; i < n; i++)
    lin[i] = c->tail[(start + i) % CONSOLE_TAIL];
  while (n && (lin[n - 1] == '\n' || lin[n - 1] == '\r' || lin[n - 1] == ' '))
    n--;
  size_t b = n;
  while (b && lin[b - 1] != '\n')
    b--;
  size_t k = 0;
  for (size_t i = b; i < n && k + 1 < len; i++) {
    unsigned char ch = (unsigned char)lin[i];
    buf[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  if (len) buf[k] = '\0';
  return buf;
}
