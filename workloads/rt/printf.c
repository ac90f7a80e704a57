/* printf.c - formatting and the per-line console buffer. */
#include "printf.h"

#include <stdint.h>

#include "hc.h"

#define LINE_MAX 256

static char line[LINE_MAX];
static size_t line_len;

void console_flush(void) {
  if (line_len) {
    hc_console(line, line_len);
    line_len = 0;
  }
}

static void console_putc(char c) {
  line[line_len++] = c;
  if (c == '\n' || line_len == LINE_MAX) console_flush();
}

struct out {
  char *buf;
  size_t size, n; /* buf == NULL: to the console */
};

static void put(struct out *o, char c) {
  if (o->buf) {
    if (o->n + 1 < o->size) o->buf[o->n] = c;
  } else {
    console_putc(c);
  }
  o->n++;
}

static void put_num(struct out *o, uint64_t v, int neg, unsigned base, int upper, int width,
                    int zero, int left, const char *prefix) {
  char tmp[24];
  int n = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  int plen = (neg ? 1 : 0) + (prefix ? 2 : 0);
  int pad = width > n + plen ? width - n - plen : 0;
  if (!left && !zero)
    while (pad-- > 0)
      put(o, ' ');
  if (neg) put(o, '-');
  if (prefix) put(o, prefix[0]), put(o, prefix[1]);
  if (!left && zero)
    while (pad-- > 0)
      put(o, '0');
  while (n)
    put(o, tmp[--n]);
  if (left)
    while (pad-- > 0)
      put(o, ' ');
}

static int format(struct out *o, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(o, *fmt);
      continue;
    }
    int zero = 0, left = 0, alt = 0, width = 0, prec = -1, lng = 0;
    for (;; fmt++) {
      if (fmt[1] == '0')
        zero = 1;
      else if (fmt[1] == '-')
        left = 1;
      else if (fmt[1] == '#')
        alt = 1;
      else
        break;
    }
    if (fmt[1] == '*') fmt++, width = va_arg(ap, int);
    while (fmt[1] >= '0' && fmt[1] <= '9')
      width = width * 10 + (*++fmt - '0');
    if (fmt[1] == '.') {
      fmt++;
      prec = 0;
      if (fmt[1] == '*') fmt++, prec = va_arg(ap, int);
      while (fmt[1] >= '0' && fmt[1] <= '9')
        prec = prec * 10 + (*++fmt - '0');
    }
    while (fmt[1] == 'l' || fmt[1] == 'z')
      fmt++, lng = 1;
    char c = *++fmt;
    switch (c) {
    case 'd':
    case 'i': {
      int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
      put_num(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, 0, width, zero, left, 0);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
      unsigned base = c == 'u' ? 10 : 16;
      put_num(o, v, 0, base, c == 'X', width, zero, left, alt && base == 16 ? "0x" : 0);
      break;
    }
    case 'p':
      put_num(o, (uint64_t)va_arg(ap, void *), 0, 16, 0, width, zero, left, "0x");
      break;
    case 'c':
      put(o, (char)va_arg(ap, int));
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      int n = 0;
      while (s[n] && (prec < 0 || n < prec))
        n++;
      int pad = width > n ? width - n : 0;
      if (!left)
        while (pad-- > 0)
          put(o, ' ');
      for (int i = 0; i < n; i++)
        put(o, s[i]);
      if (left)
        while (pad-- > 0)
          put(o, ' ');
      break;
    }
    case '%':
      put(o, '%');
      break;
    case 0:
      fmt--;
      break;
    default:
      put(o, '%');
      put(o, c);
      break;
    }
  }
  return (int)o->n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct out o = {buf, size, 0};
  int n = format(&o, fmt, ap);
  if (size) buf[o.n < size ? o.n : size - 1] = 0;
  return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

int vprintf(const char *fmt, va_list ap) {
  struct out o = {0, 0, 0};
  return format(&o, fmt, ap);
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
