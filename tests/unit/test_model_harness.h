/* test_model_harness.h - a tiny machine for running hand-assembled snippets on
 * the model CPU (and, in test_model_vs_kvm.c, on KVM) from a given register
 * state: identity-mapped RAM (its last 2 MiB NX, and an alias through a
 * 1 GiB page), GDT, IDT whose every vector points to a HLT stub, TSS with
 * RSP0 and IST1. A snippet ends with an appended UD2, so a
 * normal end is "#UD at code+len"; any other exception shows up as its own
 * vector. */
#ifndef TEST_MODEL_HARNESS_H
#define TEST_MODEL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refvmm/model/cost/cost_model.h"
#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"

#define TM_RAM      (8u << 20)
#define TM_GDT      0x1000ull
#define TM_IDT      0x2000ull
#define TM_TSS      0x3000ull
#define TM_STUBS    0x4000ull /* vector v: HLT at TM_STUBS + 16 * v */
#define TM_PML4     0x10000ull
#define TM_PDPT     0x11000ull
#define TM_PD       0x12000ull
#define TM_CODE     0x100000ull
#define TM_DATA     0x200000ull /* 4 KiB compared after each run */
#define TM_DATA_LEN 256u
#define TM_STACK    0x300000ull   /* initial RSP */
#define TM_KSTACK   0x380000ull   /* TSS.RSP0 */
#define TM_ISTACK   0x390000ull   /* TSS.IST1 (#DF, NMI) */
#define TM_NX_BASE  0x600000ull   /* from here to the end of RAM: not executable */
#define TM_ALIAS_1G 0x40000000ull /* RAM again, through a 1 GiB page */

#define TM_RFLAGS_MASK_ALL 0xcd5ull /* OF DF SF ZF AF PF CF */

struct tm_state {
  uint64_t gpr[16];
  uint64_t rflags;
  int cpl;
  bool keep_if; /* start with IF as in rflags (ring 3 of an OS runs with IF=1); else IF=0 */
};

struct tm_result {
  int vector;       /* delivered exception vector, -1 if none (stopped otherwise) */
  int stop;         /* enum model_stop of the model run (kvm: exit reason) */
  uint64_t gpr[16]; /* RSP is the interrupted RSP from the frame */
  uint64_t rip;     /* interrupted RIP from the frame */
  uint64_t rflags;  /* from the frame */
  uint64_t err;     /* error code when the vector has one */
  uint64_t cr2;
  uint8_t data[TM_DATA_LEN];
};

/* Fill zero-filled `ram` (TM_RAM bytes) with tables, stubs, and code+UD2 at TM_CODE. */
void tm_build_image(uint8_t *ram, const uint8_t *code, size_t len);
/* Parse the exception frame after a HLT in stub `vector`. */
void tm_parse_frame(const uint8_t *ram, uint64_t rsp, int vector, struct tm_result *r);
bool tm_vector_has_error(int v);

/* The model machine. */
struct tm {
  struct model_cpu *c;
  struct model_cost *cost; /* the CPU's clock, as the model backend binds it */
  uint8_t *ram;
};
struct tm *tm_new(const uint8_t *code, size_t len, const struct tm_state *st);
void tm_free(struct tm *t);
/* Reset the CPU to st (RAM untouched) for another run of the same code. */
void tm_set_state(struct tm *t, const struct tm_state *st);
/* Run until HLT (or another stop); fills r. Returns the model stop. */
int tm_run(struct tm *t, struct tm_result *r);
/* One call: build, run, free. */
int tm_model_exec(const uint8_t *code, size_t len, const struct tm_state *st, struct tm_result *r);

#endif
