/* lx.h - what a workload of the Linux guest sees: its parameters, the guest
 * ABI's hypercalls from a Linux process, and a few helpers over raw system
 * calls (no C library).
 *
 * A workload file defines
 *   const struct lx_workload lx_wl_NAME = {.name, .desc, .params, .setup, .run};
 * listed in table.c. The init (init.c) reads the kernel command line's
 * vtb.KEY=VALUE words against .params, forks the workload process, which
 * runs .setup and then .run; .run brackets its measured loop with
 * mark_begin()/mark_end() and fills struct wl_result. hc_report() records a
 * fact (a `report KEY=VALUE` console line, and the VMM's report hypercall
 * when refvmm answers). Functions return 0 or an exit status (LX_EXIT_*,
 * VTB_EXIT_*) after printing a message that names what failed. */
#ifndef LX_LX_H
#define LX_LX_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "hc.h"
#include "kstring.h"
#include "printf.h"
#include "sys.h"
#include "vtb_abi.h"
#include "wl_params.h"

/* Exit statuses of the Linux guest besides VTB_EXIT_BAD_PARAM (2) and
 * VTB_EXIT_NO_MEMORY (3); docs/LINUX.md. */
#define LX_EXIT_SYSCALL 4   /* a system call failed unexpectedly (message names it) */
#define LX_EXIT_CHECK   5   /* a workload's self-check failed (a child's answer, a value read) */
#define LX_EXIT_HCPAGE  6   /* no hypercall page: pagemap unreadable, frame above 4 GiB, moved */
#define LX_EXIT_INIT    7   /* init could not prepare the system (mount, console, ioperm) */
#define LX_EXIT_SIGNAL  128 /* + signal: the workload process was killed by a signal */

struct lx_workload {
  const char *name;               /* [a-z0-9]+; vtbench's catalog knows it as linux:NAME */
  const char *desc;               /* what it stresses, one line */
  const struct vtb_param *params; /* ends with an entry whose key is empty */
  int (*setup)(void);             /* before .run, in the workload process; may be NULL */
  int (*run)(struct wl_result *res);
};

extern const struct lx_workload *const lx_workloads[]; /* NULL-terminated (table.c) */

/* Value of a declared parameter of the workload being run (its default when
 * not given). An undeclared key is a bug: message and exit. */
uint64_t param(const char *key);

/* ---- hypercalls from a Linux process (lx_hc.c; docs/LINUX.md) ------------
 * Arguments are guest-physical: each process that makes hypercalls has one
 * locked page whose frame it reads from /proc/self/pagemap. */
extern int lx_vmm;          /* refvmm answered VTB_PORT_IDENT (set by init before forking) */
int lx_hc__ports(void);     /* ioperm for the hypercall and ident ports; probes lx_vmm */
int lx_hc__init(void);      /* this process's hypercall page (again after fork) */
uint64_t lx_hc__gpa(void);  /* its guest-physical address */
uint64_t lx_timed_ns(void); /* CLOCK_MONOTONIC between mark_begin and mark_end */

/* ---- helpers (lxlib.c) ----------------------------------------------------- */
uint64_t lx_now_ns(void);
const char *lx_errname(long err); /* "ENOMEM" for -12 or 12; "errno N" otherwise */
/* Prints "vtb: WHAT: ERRNAME" for a failed call and returns LX_EXIT_SYSCALL. */
int lx_syserr(const char *what, long err);
long lx_fork(void); /* flushes the console line buffer first (no duplicated output) */
/* Writes all of buf; 0 or -errno. */
long lx_write_all(int fd, const void *buf, size_t n);
/* Reads a whole small file into buf (NUL-terminated); length or -errno. */
long lx_read_file(const char *path, char *buf, size_t size);
/* Writes text to an existing file (a /proc or /sys setting); 0 or -errno. */
long lx_write_file(const char *path, const char *text);
/* Decimal text of v into buf (at least 21 bytes); returns buf. */
char *lx_utoa(uint64_t v, char *buf);

#endif
