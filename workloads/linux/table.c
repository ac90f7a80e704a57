/* table.c - the Linux guest's workloads, in the order vtbench lists them. */
#include "lx.h"

extern const struct lx_workload lx_wl_null, lx_wl_fork, lx_wl_forkexec, lx_wl_pgfault,
    lx_wl_mprotect, lx_wl_ctx, lx_wl_ptrchase, lx_wl_gups, lx_wl_make;

const struct lx_workload *const lx_workloads[] = {
    &lx_wl_null, &lx_wl_fork,     &lx_wl_forkexec, &lx_wl_pgfault, &lx_wl_mprotect,
    &lx_wl_ctx,  &lx_wl_ptrchase, &lx_wl_gups,     &lx_wl_make,    0,
};
