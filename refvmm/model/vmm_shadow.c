/* vmm_shadow.c - refvmm's shadow MMU for the model CPU (vmm_shadow.h). */
#include "vmm_shadow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_cpu.h"

#define SP_P  1ull
#define SP_W  2ull
#define SP_U  4ull
#define SP_NX (1ull << 63)
#define G_A   (1ull << 5)
#define G_D   (1ull << 6)
#define G_PS  (1ull << 7)
#define ADDR  0x000ffffffffff000ull

static void page_free(struct vmm_shadow *s, uint32_t pg) {
  s->owner[pg] = -1;
  s->src[pg] = -1;
  s->free_stack[s->nfree++] = pg;
}

static int64_t page_alloc(struct vmm_shadow *s, int owner, int64_t src) {
  if (!s->nfree) return -1;
  uint32_t pg = s->free_stack[--s->nfree];
  if (pg >= s->hiwater) s->hiwater = pg + 1;
  memset(&s->mem[(uint64_t)pg * 512], 0, 4096);
  s->owner[pg] = (int8_t)owner;
  s->src[pg] = src;
  return pg;
}

static void root_drop(struct vmm_shadow *s, int r) {
  for (uint32_t pg = 0; pg < s->hiwater; pg++)
    if (s->owner[pg] == r) page_free(s, pg);
  s->roots[r].valid = false;
  s->zaps++;
}

static void sync_cpu(struct vmm_shadow *s, struct model_cpu *c) {
  c->vmcs.shadow_root = s->roots[s->cur].page;
}

/* Pick (or build) the shadow root for guest CR3 `cr3`. */
static void root_switch(struct vmm_shadow *s, struct model_cpu *c, uint64_t cr3) {
  uint64_t key = cr3 & ADDR;
  s->clock++;
  for (int r = 0; r < SHADOW_ROOTS; r++)
    if (s->roots[r].valid && s->roots[r].cr3 == key) {
      s->cur = r;
      s->roots[r].last_use = s->clock;
      s->roots_reused++;
      sync_cpu(s, c);
      return;
    }
  int victim = 0;
  for (int r = 0; r < SHADOW_ROOTS; r++) {
    if (!s->roots[r].valid) {
      victim = r;
      break;
    }
    if (s->roots[r].last_use < s->roots[victim].last_use) victim = r;
  }
  if (s->roots[victim].valid) root_drop(s, victim);
  int64_t pg = page_alloc(s, victim, (int64_t)(key >> 12));
  if (pg < 0) { /* full: drop every root */
    for (int r = 0; r < SHADOW_ROOTS; r++)
      if (s->roots[r].valid) root_drop(s, r);
    pg = page_alloc(s, victim, (int64_t)(key >> 12));
  }
  s->roots[victim].cr3 = key;
  s->roots[victim].page = (uint32_t)pg;
  s->roots[victim].last_use = s->clock;
  s->roots[victim].valid = true;
  s->cur = victim;
  s->roots_built++;
  sync_cpu(s, c);
}

static uint64_t gread(struct model_cpu *c, uint64_t gpa) {
  uint8_t *p = model_mem__ptr(c, gpa, 8);
  uint64_t v = 0;
  if (p) memcpy(&v, p, 8);
  return v;
}

/* A guest frame becomes a page table: no shadow leaf may map it writable. */
static void protect_frame(struct vmm_shadow *s, struct model_cpu *c, uint64_t frame) {
  if (frame >= s->nframes || s->is_pt[frame]) return;
  s->is_pt[frame] = 1;
  if (!s->wleaves[frame]) return; /* no writable leaf was ever made to it: nothing to scan */
  s->wleaves[frame] = 0;
  bool changed = false;
  for (uint32_t pg = 0; pg < s->hiwater; pg++) {
    if (s->owner[pg] < 0) continue;
    uint64_t *t = &s->mem[(uint64_t)pg * 512];
    for (int i = 0; i < 512; i++)
      if ((t[i] & (SP_P | SP_W)) == (SP_P | SP_W) && (t[i] & ADDR) >> 12 == frame &&
          (t[i] & (1ull << 9))) { /* bit 9 (software): a leaf */
        t[i] &= ~SP_W;
        changed = true;
      }
  }
  if (changed) model_mmu__flush_vmx(c);
}

/* Zap the shadow entries derived from the guest entry at gpa. */
static void zap_guest_entry(struct vmm_shadow *s, struct model_cpu *c, uint64_t gpa) {
  int64_t frame = (int64_t)(gpa >> 12);
  unsigned idx = (unsigned)((gpa & 0xfff) >> 3);
  bool any = false;
  for (uint32_t pg = 0; pg < s->hiwater; pg++)
    if (s->owner[pg] >= 0 && s->src[pg] == frame && s->mem[(uint64_t)pg * 512 + idx]) {
      s->mem[(uint64_t)pg * 512 + idx] = 0; /* a subtree below stays until its root goes */
      s->zaps++;
      any = true;
    }
  if (any) model_mmu__flush_vmx(c);
}

static int pf_handler(void *vmm, struct model_cpu *c, uint64_t va, unsigned acc) {
  struct vmm_shadow *s = vmm;
  uint64_t gpa;
  uint32_t gperm;
  int err = model_mmu__walk(c, va, acc, &gpa, &gperm, true); /* sets the guest's A/D */
  if (err) {
    c->vmcs.inject_error = (uint32_t)err & 0xffff;
    s->true_faults++;
    return SPF_TRUE_FAULT;
  }
  uint64_t frame = gpa >> 12;
  if ((acc & ACC_W) && frame < s->nframes && s->is_pt[frame]) {
    s->pt_write_exits++; /* KVM: mmu_pte_write */
    zap_guest_entry(s, c, gpa & ~7ull);
    c->vmcs.emulate_hpa = gpa & ~0xfffull;
    return SPF_EMULATE;
  }
  s->hidden_faults++;
  /* the guest's tables again, for their frames and the leaf's bits */
  uint64_t gtab[5] = {0}, e = 0;
  uint64_t table = c->cr3 & ADDR;
  int leaf_level = 1;
  uint64_t allow_u = 1, allow_w = 1, nx = 0;
  for (int level = 4; level >= 1; level--) {
    gtab[level] = table;
    e = gread(c, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
    allow_u &= e >> 2;
    allow_w &= e >> 1;
    nx |= e >> 63;
    if (level == 1 || (level <= 3 && (e & G_PS))) {
      leaf_level = level;
      break;
    }
    table = e & ADDR;
  }
  if (s->nfree < 8) { /* make room: keep only the current root */
    uint64_t cr3 = s->roots[s->cur].cr3;
    for (int r = 0; r < SHADOW_ROOTS; r++)
      if (s->roots[r].valid) root_drop(s, r);
    root_switch(s, c, cr3);
    s->roots_built--; /* a rebuild, not a new root */
    model_mmu__flush_vmx(c);
  }
  for (int level = 4; level >= leaf_level; level--)
    protect_frame(s, c, gtab[level] >> 12);
  if (frame < s->nframes && s->is_pt[frame]) allow_w = 0; /* maps a page table */
  uint64_t spg = s->roots[s->cur].page;
  for (int level = 4; level >= 2; level--) {
    uint64_t *p = &s->mem[spg * 512 + ((va >> (12 + 9 * (level - 1))) & 511)];
    if (!(*p & SP_P)) {
      int64_t src = level - 1 >= leaf_level ? (int64_t)(gtab[level - 1] >> 12) : -1;
      int64_t pg = page_alloc(s, s->cur, src);
      if (pg < 0) return SPF_RETRY; /* cannot happen: room was made above */
      *p = ((uint64_t)pg << 12) | SP_P | SP_W | SP_U;
    }
    spg = (*p & ADDR) >> 12;
  }
  uint64_t leaf = (gpa & ~0xfffull) | SP_P | (1ull << 9);
  if (allow_u & 1) leaf |= SP_U;
  if ((allow_w & 1) && (e & G_D)) { /* clean: the first write must exit (D bit) */
    leaf |= SP_W;
    if (frame < s->nframes) s->wleaves[frame]++;
  }
  if ((nx & 1) && (c->efer & (1ull << 11))) leaf |= SP_NX;
  s->mem[spg * 512 + ((va >> 12) & 511)] = leaf;
  return SPF_RETRY;
}

static void cr3_handler(void *vmm, struct model_cpu *c, uint64_t cr3) {
  struct vmm_shadow *s = vmm;
  s->cr3_exits++;
  c->cr3 = cr3;
  root_switch(s, c, cr3);
  model_mmu__flush_cr3(c); /* what the guest's CR3 load does to its TLB entries */
}

static void invlpg_handler(void *vmm, struct model_cpu *c, uint64_t va) {
  struct vmm_shadow *s = vmm;
  s->invlpg_exits++;
  uint64_t spg = s->roots[s->cur].page;
  for (int level = 4; level >= 2; level--) {
    uint64_t *p = &s->mem[spg * 512 + ((va >> (12 + 9 * (level - 1))) & 511)];
    if (!(*p & SP_P)) goto done;
    if (level == 3 && s->src[(*p & ADDR) >> 12] < 0) { /* a guest 1 GiB page: its whole
                                                        * shadow subtree goes */
      *p = 0;
      s->zaps++;
      model_mmu__flush_vmx(c);
      goto done;
    }
    spg = (*p & ADDR) >> 12;
  }
  if (s->src[spg] < 0) { /* shadows a guest large page: all its pieces, and the
                          * TLB's 4 KiB entries of it (KVM flushes the TLB here too) */
    memset(&s->mem[spg * 512], 0, 4096);
    s->zaps++;
    model_mmu__flush_vmx(c);
  } else if (s->mem[spg * 512 + ((va >> 12) & 511)]) {
    s->mem[spg * 512 + ((va >> 12) & 511)] = 0;
    s->zaps++;
  }
done:
  model_mmu__flush_va(c, va);
}

int vmm_shadow__init(struct vmm_shadow *s, struct model_cpu *c, uint64_t ram_size, bool vpid) {
  memset(s, 0, sizeof *s);
  s->npages = 4096;
  s->nframes = ram_size >> 12;
  s->mem = calloc(s->npages, 4096);
  s->src = calloc(s->npages, sizeof *s->src);
  s->owner = calloc(s->npages, 1);
  s->free_stack = calloc(s->npages, sizeof *s->free_stack);
  s->is_pt = calloc((size_t)s->nframes, 1);
  s->wleaves = calloc((size_t)s->nframes, sizeof *s->wleaves);
  if (!s->mem || !s->src || !s->owner || !s->free_stack || !s->is_pt || !s->wleaves) {
    vmm_shadow__free(s);
    return -ENOMEM;
  }
  for (uint32_t pg = s->npages; pg-- > 0;)
    page_free(s, pg);
  struct model_vmcs *v = &c->vmcs;
  v->active = true;
  v->proc_based = CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_INVLPG_EXITING |
                  (vpid ? CPU_BASED_ACTIVATE_SECONDARY : 0);
  v->secondary = vpid ? SECONDARY_EXEC_ENABLE_VPID : 0;
  v->exception_bitmap = 1u << X86_PF;
  v->vpid = vpid ? 1 : 0;
  v->spt_mem = s->mem;
  v->spt_pages = s->npages;
  v->pf_handler = pf_handler;
  v->cr3_handler = cr3_handler;
  v->invlpg_handler = invlpg_handler;
  v->vmm = s;
  c->tlbm.vpid = v->vpid;
  return 0;
}

/* The root for the boot CR3 (after the boot state is set). */
void vmm_shadow__boot(struct vmm_shadow *s, struct model_cpu *c) {
  root_switch(s, c, c->cr3);
  s->roots_built = 1;
  s->roots_reused = 0;
}

void vmm_shadow__free(struct vmm_shadow *s) {
  free(s->mem);
  free(s->src);
  free(s->owner);
  free(s->free_stack);
  free(s->is_pt);
  free(s->wleaves);
  memset(s, 0, sizeof *s);
}
