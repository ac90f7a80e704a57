/* tracefs.h - find the kernel's trace file system, read a tracepoint's id
 * and the layout of its fields (for perf_event_open on PERF_TYPE_TRACEPOINT).
 *
 * tracefs is often not mounted; as root it is mounted at /sys/kernel/tracing,
 * otherwise the probe that needs it is reported unavailable with the reason. */
#ifndef PROBES_TRACEFS_H
#define PROBES_TRACEFS_H

#include <stdbool.h>
#include <stddef.h>

/* Directory holding events/ (e.g. "/sys/kernel/tracing"): 0 and dir set, or
 * -1 with the reason in why (names the paths tried and the mount error).
 * root_dir NULL = the live system; tests pass a fixture directory, which is
 * used as it is (never mounted). */
int tracefs__find(const char *root_dir, char *dir, size_t dirlen, char *why, size_t whylen);

/* The id of SYSTEM:EVENT (events/SYSTEM/EVENT/id): >= 0, or -errno. */
long tracefs__event_id(const char *dir, const char *system, const char *event);

/* Offset and size of a field in the event's raw record (events/.../format,
 * "field:unsigned int exit_reason; offset:8; size:4; ..."). 0, or -1 when
 * the event or the field is absent. */
int tracefs__field(const char *dir, const char *system, const char *event, const char *field,
                   unsigned *offset, unsigned *size);

#endif
