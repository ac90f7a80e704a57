/* fuzz_model.c - libFuzzer harness for the model CPU (refvmm/model): the
 * input is a register state, a few page-table entries and code bytes; the
 * CPU runs them under an instruction budget. Finds: crashes, ASan/UBSan
 * reports (any access outside guest RAM), hangs (the budget must end
 * every run). Built by `make fuzz` with the whole host library; the CPU
 * runs without a clock (RDTSC counts retired instructions). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "refvmm/model/cpu/model_cpu.h"
#include "refvmm/model/cpu/model_events.h"
#include "refvmm/model/cpu/model_mmu.h"

#define RAM  (8u << 20)
#define CODE 0x100000ull

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v) {
  memcpy(ram + gpa, &v, 8);
}

static void build(uint8_t *ram) {
  memset(ram, 0, RAM);
  put64(ram, 0x10000, 0x11000 | 7);
  put64(ram, 0x11000, 0x12000 | 7);
  for (uint64_t i = 0; i < 4; i++)
    put64(ram, 0x12000 + 8 * i, (i << 21) | 0x87);
  put64(ram, 0x1008, 0x00af9b000000ffffull);
  put64(ram, 0x1010, 0x00cf93000000ffffull);
  put64(ram, 0x1018, 0x00cff3000000ffffull);
  put64(ram, 0x1020, 0x00affb000000ffffull);
  put64(ram, 0x3004, 0x380000);
  put64(ram, 0x3024, 0x390000);
  for (uint64_t v = 0; v < 256; v++) {
    uint64_t h = 0x4000 + 16 * v;
    put64(ram, 0x2000 + 16 * v,
          (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((h >> 16) & 0xffff) << 48));
    ram[h] = 0xf4;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t *ram;
  static struct model_cpu *c;
  if (!ram) {
    ram = malloc(RAM);
    c = calloc(1, sizeof *c);
    c->icache = calloc(MODEL_ICACHE_SIZE, sizeof *c->icache);
    c->code_pages = calloc(RAM >> 12, 1);
    c->ram = ram;
    c->ram_size = RAM;
  }
  if (size < 16 * 8 + 4 * 8 + 2) return 0;
  build(ram);
  memset(c->code_pages, 0, RAM >> 12);
  model_cpu__reset(c);
  memcpy(c->gpr, data, 16 * 8);
  data += 16 * 8, size -= 16 * 8;
  for (int i = 0; i < 4; i++) { /* page-table entries of the fuzzer's choosing */
    uint64_t e;
    memcpy(&e, data, 8);
    put64(ram, 0x12000 + 8 * (4 + (uint64_t)(e & 7)), e); /* not the ones mapping 0-8 MiB */
    data += 8, size -= 8;
  }
  c->cpl = (data[0] & 1) ? 3 : 0;
  c->rflags = ((uint64_t)data[1] << 4 | data[0]) & 0xcd5;
  c->rflags |= RF_FIXED;
  data += 2, size -= 2;
  if (size > 0x10000) size = 0x10000;
  memcpy(ram + CODE, data, size);
  c->rip = CODE;
  c->cr0 = 0x80050033, c->cr3 = 0x10000, c->cr4 = 0x620, c->efer = 0xd01;
  c->gdtr.base = 0x1000, c->gdtr.limit = 0x37;
  c->idtr.base = 0x2000, c->idtr.limit = 0xfff;
  c->tr.base = 0x3000, c->tr.limit = 0x67, c->tr.sel = 0x28;
  for (int s = 0; s < SEG_COUNT; s++)
    c->seg[s].sel = c->cpl ? 0x1b : 0x10;
  c->seg[SEG_CS].sel = c->cpl ? 0x23 : 0x08;
  model_mmu__flush(c);
  for (int i = 0; i < 4; i++) {
    enum model_stop s = model_cpu__run(c, 5000);
    if (s != MSTOP_SLICE && s != MSTOP_IO && s != MSTOP_MMIO && s != MSTOP_HYPERCALL) break;
    if (c->io.in_pending || c->hc.pending) model_cpu__complete_io(c);
    if (s == MSTOP_MMIO && !c->mmio.write) c->mmio.read_ready = true;
  }
  return 0;
}
