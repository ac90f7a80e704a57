/* test_model_harness.c - see test_model_harness.h. No suite here. */
#include "test_model_harness.h"

#include <stdlib.h>
#include <string.h>

#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v) {
  memcpy(ram + gpa, &v, 8);
}
static uint64_t get64(const uint8_t *ram, uint64_t gpa) {
  uint64_t v;
  memcpy(&v, ram + gpa, 8);
  return v;
}

bool tm_vector_has_error(int v) {
  return v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17;
}

void tm_build_image(uint8_t *ram, const uint8_t *code, size_t len) {
  /* ram is zero-filled by the caller (calloc / anonymous mmap) */
  /* page tables: identity map of RAM in 2 MiB pages, user + writable; the
   * last 2 MiB not executable (TM_NX_BASE); RAM again at TM_ALIAS_1G
   * through one 1 GiB page */
  put64(ram, TM_PML4, TM_PDPT | 0x7);
  put64(ram, TM_PDPT, TM_PD | 0x7);
  put64(ram, TM_PDPT + 8 * (TM_ALIAS_1G >> 30), 0x87);
  for (uint64_t i = 0; i < TM_RAM >> 21; i++)
    put64(ram, TM_PD + 8 * i, (i << 21) | 0x87 | ((i << 21) >= TM_NX_BASE ? 1ull << 63 : 0));
  /* GDT: null, kcode64, kdata, udata, ucode64, TSS */
  put64(ram, TM_GDT + 0x08, 0x00af9b000000ffffull);
  put64(ram, TM_GDT + 0x10, 0x00cf93000000ffffull);
  put64(ram, TM_GDT + 0x18, 0x00cff3000000ffffull);
  put64(ram, TM_GDT + 0x20, 0x00affb000000ffffull);
  uint64_t tb = TM_TSS;
  put64(ram, TM_GDT + 0x28,
        0x67 | ((tb & 0xffffff) << 16) | (0x8bull << 40) | (((tb >> 24) & 0xff) << 56));
  put64(ram, TM_GDT + 0x30, tb >> 32);
  /* TSS */
  put64(ram, TM_TSS + 4, TM_KSTACK);
  put64(ram, TM_TSS + 0x24, TM_ISTACK);
  ram[TM_TSS + 0x66] = 0x68; /* I/O bitmap base past the limit: no bitmap */
  /* IDT: every vector to its HLT stub; 3 and 0x80 callable from ring 3;
   * #DF and NMI on IST1 */
  for (uint64_t v = 0; v < 256; v++) {
    uint64_t h = TM_STUBS + 16 * v;
    uint64_t attr = (v == 3 || v == 0x80) ? 0xee : 0x8e;
    uint64_t ist = (v == 8 || v == 2) ? 1 : 0;
    put64(ram, TM_IDT + 16 * v,
          (h & 0xffff) | (0x08ull << 16) | (ist << 32) | (attr << 40) |
              (((h >> 16) & 0xffff) << 48));
    put64(ram, TM_IDT + 16 * v + 8, h >> 32);
    ram[h] = 0xf4; /* hlt */
  }
  memcpy(ram + TM_CODE, code, len);
  ram[TM_CODE + len] = 0x0f; /* ud2 */
  ram[TM_CODE + len + 1] = 0x0b;
}

void tm_parse_frame(const uint8_t *ram, uint64_t rsp, int vector, struct tm_result *r) {
  r->vector = vector;
  uint64_t sp = rsp;
  if (tm_vector_has_error(vector)) {
    r->err = get64(ram, sp);
    sp += 8;
  }
  r->rip = get64(ram, sp);
  r->rflags = get64(ram, sp + 16);
  r->gpr[4] = get64(ram, sp + 24);
  memcpy(r->data, ram + TM_DATA, TM_DATA_LEN);
}

struct tm *tm_new(const uint8_t *code, size_t len, const struct tm_state *st) {
  struct tm *t = calloc(1, sizeof *t);
  t->ram = calloc(1, TM_RAM);
  t->c = calloc(1, sizeof *t->c);
  struct model_cpu *c = t->c;
  c->icache = calloc(MODEL_ICACHE_SIZE, sizeof *c->icache);
  c->code_pages = calloc(TM_RAM >> 12, 1);
  c->ram = t->ram;
  c->ram_size = TM_RAM;
  t->cost = calloc(1, sizeof *t->cost);
  model_cost__init(t->cost, c, NULL);
  c->clock = (struct model_clock){.now = model_cost__now, .arg = t->cost};
  tm_build_image(t->ram, code, len);
  tm_set_state(t, st);
  return t;
}

void tm_set_state(struct tm *t, const struct tm_state *st) {
  struct model_cpu *c = t->c;
  model_cpu__reset(c);
  memcpy(c->gpr, st->gpr, sizeof c->gpr);
  c->gpr[4] = st->gpr[4] ? st->gpr[4] : TM_STACK;
  c->rflags = (st->rflags | RF_FIXED) & ~(RF_TF | (st->keep_if ? 0 : RF_IF));
  c->rip = TM_CODE;
  c->cr0 = 0x80050033;
  c->cr3 = TM_PML4;
  c->cr4 = 0x620;
  c->efer = 0xd01;
  c->gdtr.base = TM_GDT;
  c->gdtr.limit = 0x37;
  c->idtr.base = TM_IDT;
  c->idtr.limit = 0xfff;
  c->tr.sel = 0x28;
  c->tr.base = TM_TSS;
  c->tr.limit = 0x67;
  c->cpl = (uint8_t)st->cpl;
  for (int s = 0; s < SEG_COUNT; s++)
    c->seg[s].sel = st->cpl ? 0x1b : 0x10;
  c->seg[SEG_CS].sel = st->cpl ? 0x23 : 0x08;
  model_mmu__flush(c);
}

void tm_free(struct tm *t) {
  if (!t) return;
  free(t->c->icache);
  free(t->c->code_pages);
  free(t->c);
  free(t->cost);
  free(t->ram);
  free(t);
}

int tm_run(struct tm *t, struct tm_result *r) {
  struct model_cpu *c = t->c;
  enum model_stop s = MSTOP_SLICE;
  for (int i = 0; i < 64 && s == MSTOP_SLICE; i++)
    s = model_cpu__run(c, 1u << 20);
  memset(r, 0, sizeof *r);
  memcpy(r->gpr, c->gpr, sizeof r->gpr);
  r->stop = (int)s;
  r->vector = -1;
  r->rip = c->rip;
  r->rflags = c->rflags;
  r->cr2 = c->cr2;
  memcpy(r->data, t->ram + TM_DATA, TM_DATA_LEN);
  if (s == MSTOP_HLT && c->rip > TM_STUBS && c->rip <= TM_STUBS + 16 * 256 &&
      ((c->rip - 1 - TM_STUBS) % 16) == 0)
    tm_parse_frame(t->ram, c->gpr[4], (int)((c->rip - 1 - TM_STUBS) / 16), r);
  return (int)s;
}

int tm_model_exec(const uint8_t *code, size_t len, const struct tm_state *st, struct tm_result *r) {
  struct tm *t = tm_new(code, len, st);
  int s = tm_run(t, r);
  tm_free(t);
  return s;
}
