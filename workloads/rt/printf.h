/* printf.h - a tiny printf to the console hypercall, buffered per line.
 * Conversions: %d %i %u %x %X %p %s %c %%, flags '0' '-' '#', width,
 * length modifiers l ll z. Usable from ring 0 and ring 3 (not from NMI
 * handlers: the line buffer is shared). */
#ifndef RT_PRINTF_H
#define RT_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...);
int vprintf(const char *fmt, va_list ap);
__attribute__((format(printf, 3, 4))) int snprintf(char *buf, size_t size, const char *fmt, ...);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void console_flush(void);

#endif
