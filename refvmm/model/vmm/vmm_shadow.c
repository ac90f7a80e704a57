/* vmm_shadow.c - refvmm's shadow MMU for the model CPU (vmm_shadow.h). */
#include "vmm_shadow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/model_vmcs.h"
#include "../cpu/x86.h"

#define SP_P  1ull
#define SP_W  2ull
#define SP_U  4ull
#define SP_NX (1ull << 63)
#define G_A   (1ull << 5)
#define G_D   (1ull << 6)
#define G_PS  (1ull << 7)
#define ADDR  0x000ffffffffff000ull

enum flush_cause {
  FLUSH_ZAP,
  FLUSH_PROTECT,      /* only supervisor-mode fills made writable leaves to the frame */
  FLUSH_PROTECT_USER, /* a user-mode fill did */
  FLUSH_ROOT_DROP,
  FLUSH_INVLPG,
  FLUSH_SYNC,
  FLUSH_GUEST,
};

#define NONE     UINT32_MAX
#define RMAP_MAX 4096u /* slots per frame; beyond, protect_frame scans every page */

static uint32_t bucket_of(const struct vmm_shadow *s, int64_t src) {
  return (uint32_t)((uint64_t)src & (s->npages - 1));
}

/* The index by guest frame (vmm_shadow.h): a page goes in when it gets an
 * owner and a frame, out before either changes. */
static void index_add(struct vmm_shadow *s, uint32_t pg) {
  uint32_t b = bucket_of(s, s->src[pg]);
  s->hprev[pg] = NONE;
  s->hnext[pg] = s->hhead[b];
  if (s->hhead[b] != NONE) s->hprev[s->hhead[b]] = pg;
  s->hhead[b] = pg;
  s->hashed[pg] = 1;
}

static void index_del(struct vmm_shadow *s, uint32_t pg) {
  if (!s->hashed[pg]) return;
  uint32_t next = s->hnext[pg], prev = s->hprev[pg];
  if (prev != NONE)
    s->hnext[prev] = next;
  else
    s->hhead[bucket_of(s, s->src[pg])] = next;
  if (next != NONE) s->hprev[next] = prev;
  s->hashed[pg] = 0;
}

/* The live pages shadowing `frame`, ascending (the order of a scan of every
 * page: the zaps depend on it when one page is the parent of another). */
static int pages_of(const struct vmm_shadow *s, int64_t frame, uint32_t *out, int max) {
  int n = 0;
  for (uint32_t pg = s->hhead[bucket_of(s, frame)]; pg != NONE && n < max; pg = s->hnext[pg]) {
    if (s->src[pg] != frame) continue;
    int i = n++;
    for (; i > 0 && out[i - 1] > pg; i--)
      out[i] = out[i - 1];
    out[i] = pg;
  }
  return n;
}

static bool frame_shadowed(const struct vmm_shadow *s, int64_t frame) {
  for (uint32_t pg = s->hhead[bucket_of(s, frame)]; pg != NONE; pg = s->hnext[pg])
    if (s->src[pg] == frame) return true;
  return false;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static bool is_wleaf_to(const struct vmm_shadow *s, uint32_t slot, uint64_t frame) {
  uint64_t e = s->mem[slot];
  return s->owner[slot >> 9] >= 0 && (e & (SP_P | SP_W)) == (SP_P | SP_W) &&
         (e & ADDR) >> 12 == frame && (e & (1ull << 9)); /* bit 9 (software): a leaf */
}

/* Record a writable leaf to `frame` written at `slot`. A full list drops the
 * slots that changed since (and duplicates) before it grows; past RMAP_MAX
 * (or out of memory) the frame falls back to a scan of every page. */
static void rmap_add(struct vmm_shadow *s, uint64_t frame, uint32_t slot) {
  struct vmm_shadow_rmap *r = &s->rmap[frame];
  if (r->full) return;
  if (r->n == r->cap) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n; i++)
      if (is_wleaf_to(s, r->slot[i], frame)) r->slot[n++] = r->slot[i];
    if (n > 1) {
      qsort(r->slot, n, sizeof *r->slot, cmp_u32);
      uint32_t u = 1;
      for (uint32_t i = 1; i < n; i++)
        if (r->slot[i] != r->slot[u - 1]) r->slot[u++] = r->slot[i];
      n = u;
    }
    r->n = n;
    if (n >= r->cap / 2) {
      uint32_t cap = r->cap ? r->cap * 2 : 4;
      uint32_t *p = cap <= RMAP_MAX ? realloc(r->slot, cap * sizeof *p) : NULL;
      if (!p) {
        r->full = true;
        return;
      }
      r->slot = p;
      r->cap = cap;
    }
  }
  r->slot[r->n++] = slot;
}

static void page_free(struct vmm_shadow *s, uint32_t pg) {
  index_del(s, pg);
  if (s->unsync[pg]) {
    s->unsync[pg] = 0;
    s->roots[s->owner[pg]].unsync_pages--;
    s->unsync_pages--;
  }
  s->owner[pg] = -1;
  s->src[pg] = -1;
  s->free_stack[s->nfree++] = pg;
}

/* A page that held shadow entries goes back (counted: KVM's mmu_shadow_zapped). */
static void page_release(struct vmm_shadow *s, uint32_t pg) {
  page_free(s, pg);
  s->pages_freed++;
}

/* Roles: the level of the guest table a page shadows (bits 0-2) and the
 * access the guest entries above it allow (U, W, NX, EFER.NXE): a page's
 * leaves combine both, so only a page of the same role can stand in. */
#define ROLE_U   0x08u
#define ROLE_W   0x10u
#define ROLE_NX  0x20u
#define ROLE_NXE 0x40u
_Static_assert(ROLE_U == 1u << 3 && ROLE_W == 2u << 3 && ROLE_NX == 4u << 3,
               "roles hold vmx_guest_path.above << 3");

static int64_t page_alloc(struct vmm_shadow *s, int owner, int64_t src, uint8_t role) {
  if (!s->nfree) return -1;
  s->pages_allocated++;
  uint32_t pg = s->free_stack[--s->nfree];
  if (pg >= s->hiwater) s->hiwater = pg + 1;
  memset(&s->mem[(uint64_t)pg * 512], 0, 4096);
  s->owner[pg] = (int8_t)owner;
  s->src[pg] = src;
  s->role[pg] = role;
  s->flood[pg] = 0;
  s->parent[pg] = NONE;
  s->more_parents[pg] = 0;
  if (src >= 0) index_add(s, pg);
  return pg;
}

/* A page of this root that already shadows guest table `src` in this role,
 * unlinked when an entry above it was zapped (or linked elsewhere): its
 * entries were kept in sync by the write protection of src (every guest
 * write zaps the entry in every page shadowing the frame), so it can be
 * linked again instead of filling a new page entry by entry. KVM does the
 * same: kvm_mmu_get_shadow_page() finds the shadow page by gfn and role. */
static int64_t page_find(const struct vmm_shadow *s, int owner, int64_t src, uint8_t role) {
  int64_t found = -1; /* the lowest, as a scan of every page finds it */
  for (uint32_t pg = s->hhead[bucket_of(s, src)]; pg != NONE; pg = s->hnext[pg])
    if (s->src[pg] == src && s->owner[pg] == owner && s->role[pg] == role &&
        (found < 0 || pg < found))
      found = pg;
  return found;
}

static void root_drop(struct vmm_shadow *s, int r) {
  for (uint32_t pg = 0; pg < s->hiwater; pg++)
    if (s->owner[pg] == r) page_release(s, pg);
  s->roots[r].valid = false;
  s->zaps++;
}

/* Every TLB flush of this manager. A VMM on VT-x requests the flush and
 * services it at the next VM entry: one per exit that flushed (flush_exits).
 * A VMM that emulates the guest's ring 0 (kvm_pvm) enters the guest only
 * when it returns to ring 3, so all requests of a CPL0 stretch coalesce
 * (flush_batches; the stretch is named by the CPU's privilege-switch count). */
static void tlb_flush(struct vmm_shadow *s, struct model_cpu *c, enum flush_cause why) {
  switch (why) {
  case FLUSH_ZAP:
    s->flush_zap++;
    break;
  case FLUSH_PROTECT:
    s->flush_protect++;
    break;
  case FLUSH_PROTECT_USER:
    s->flush_protect++;
    s->flush_protect_user++;
    break;
  case FLUSH_ROOT_DROP:
    s->flush_root_drop++;
    break;
  case FLUSH_INVLPG:
    s->flush_invlpg++;
    break;
  case FLUSH_SYNC:
    s->flush_sync++;
    break;
  case FLUSH_GUEST:
    break;
  }
  if (why == FLUSH_GUEST)
    model_vmx__flush_nonglobal(c);
  else
    model_vmx__flush_all(c);
  if (s->flushed_exit != s->exit_id + 1) {
    s->flushed_exit = s->exit_id + 1;
    s->flush_exits++;
  }
  uint64_t key =
      model_vmx__guest_cpl(c) == 0 ? model_vmx__cpl_switches(c) << 1 : (s->exit_id << 1) | 1;
  if (why != FLUSH_PROTECT && (key != s->batch_key || !s->flush_batches)) {
    s->batch_key = key;
    s->flush_batches++;
  }
}

/* The CPU walks the current root's tables (VMCS field). */
static void sync_root(struct vmm_shadow *s) {
  s->vmcs->shadow_root = s->roots[s->cur].page;
}

static void sync_unsync_pages(struct vmm_shadow *s, struct model_cpu *c);
static void page_created(struct vmm_shadow *s, struct model_cpu *c, uint32_t pg);

/* Pick (or build) the shadow root for guest CR3 `cr3`. */
static void root_switch(struct vmm_shadow *s, struct model_cpu *c, uint64_t cr3) {
  uint64_t key = cr3 & ADDR;
  s->clock++;
  for (int r = 0; r < SHADOW_ROOTS; r++)
    if (s->roots[r].valid && s->roots[r].cr3 == key) {
      s->cur = r;
      s->roots[r].last_use = s->clock;
      s->roots_reused++;
      sync_root(s);
      if (s->roots[r].unsync_pages) sync_unsync_pages(s, c);
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
  int64_t pg = page_alloc(s, victim, (int64_t)(key >> 12), 4);
  if (pg < 0) { /* full: drop every root */
    for (int r = 0; r < SHADOW_ROOTS; r++)
      if (s->roots[r].valid) root_drop(s, r);
    pg = page_alloc(s, victim, (int64_t)(key >> 12), 4);
  }
  s->roots[victim].cr3 = key;
  s->roots[victim].page = (uint32_t)pg;
  s->roots[victim].last_use = s->clock;
  s->roots[victim].valid = true;
  s->cur = victim;
  s->roots_built++;
  sync_root(s);
  page_created(s, c, (uint32_t)pg);
}

/* A guest page-table entry from guest RAM; 0 outside it. */
static uint64_t gread(const struct vmm_shadow *s, uint64_t gpa) {
  uint64_t v = 0;
  if (gpa <= s->ram_size && 8 <= s->ram_size - gpa) memcpy(&v, s->ram + gpa, 8);
  return v;
}

/* Take write access away from every shadow leaf to `frame`. */
static void wp_leaves(struct vmm_shadow *s, struct model_cpu *c, uint64_t frame) {
  if (!s->wleaves[frame]) return; /* no writable leaf was ever made to it: nothing to scan */
  s->wleaves[frame] = 0;
  bool user = s->wuser[frame];
  s->wuser[frame] = 0;
  bool changed = false;
  struct vmm_shadow_rmap *r = &s->rmap[frame];
  if (r->full) { /* the list overflowed: every page */
    for (uint32_t pg = 0; pg < s->hiwater; pg++)
      for (uint32_t i = 0; i < 512; i++)
        if (is_wleaf_to(s, pg * 512 + i, frame)) {
          s->mem[pg * 512 + i] &= ~SP_W;
          changed = true;
        }
    r->full = false;
  } else {
    for (uint32_t i = 0; i < r->n; i++)
      if (is_wleaf_to(s, r->slot[i], frame)) {
        s->mem[r->slot[i]] &= ~SP_W;
        changed = true;
      }
  }
  r->n = 0;
  if (changed) tlb_flush(s, c, user ? FLUSH_PROTECT_USER : FLUSH_PROTECT);
}

/* A guest frame becomes a page table: no shadow leaf may map it writable. */
static void protect_frame(struct vmm_shadow *s, struct model_cpu *c, uint64_t frame) {
  if (frame >= s->nframes || s->is_pt[frame]) return;
  s->is_pt[frame] = 1;
  wp_leaves(s, c, frame);
}

/* Release a page that is not a root: the entries of its root that link it
 * go, the pages below it stay unlinked (found again by page_find). */
static void page_unlink_release(struct vmm_shadow *s, uint32_t pg) {
  unsigned level = s->role[pg] & 7;
  int owner = s->owner[pg];
  if (s->more_parents[pg]) { /* every entry of its level that links it */
    for (uint32_t p = 0; p < s->hiwater; p++) {
      if (s->owner[p] != owner || (s->role[p] & 7) != level + 1) continue;
      uint64_t *t = &s->mem[(uint64_t)p * 512];
      for (int i = 0; i < 512; i++)
        if ((t[i] & SP_P) && !(t[i] & (1ull << 9)) && ((t[i] & ADDR) >> 12) == pg) t[i] = 0;
    }
    page_release(s, pg);
  } else { /* the one entry that linked it, if it still does */
    uint32_t slot = s->parent[pg], p = slot >> 9;
    if (slot != NONE && s->owner[p] == owner && (s->role[p] & 7) == level + 1 &&
        (s->mem[slot] & SP_P) && !(s->mem[slot] & (1ull << 9)) &&
        ((s->mem[slot] & ADDR) >> 12) == pg)
      s->mem[slot] = 0;
    page_release(s, pg);
  }
}

/* Zap a whole shadow page (write flooding, or an unprotect): the frame is
 * no longer write-protected when no other page shadows it. A root is
 * emptied in place and shadows nothing until the next fill through it.
 * KVM marks a root in use invalid (kvm_mmu_prepare_zap_page(), counted in
 * mmu_shadow_zapped), frees it when the vCPU lets it go at its next entry
 * (kvm_mmu_free_obsolete_roots(): zapped, and counted, a second time) and
 * allocates a new one: counted the same way here, twice freed, allocated
 * at the next fill. */
static void page_zap_whole(struct vmm_shadow *s, uint32_t pg) {
  int64_t frame = s->src[pg];
  s->zaps++;
  if ((s->role[pg] & 7) == 4) {
    memset(&s->mem[(uint64_t)pg * 512], 0, 4096);
    index_del(s, pg);
    s->src[pg] = -1;
    s->pages_freed += 2;
  } else {
    page_unlink_release(s, pg);
  }
  if (frame_shadowed(s, frame)) return;
  if (frame >= 0 && (uint64_t)frame < s->nframes) s->is_pt[frame] = 0;
}

static void page_zap(struct vmm_shadow *s, uint32_t pg) {
  s->flooded++;
  page_zap_whole(s, pg);
}

/* KVM's x86_page_table_writing_insn(): the instructions its emulator flags
 * PageTable (arch/x86/kvm/emulate.c, 6.1): OR, AND (00-0F/20-25 forms and
 * group 1 /1, /4), XCHG, MOV to memory (88, 89, 8C, A2, A3, C6/C7 /0), BTS,
 * BTC (0F AB, 0F BB, 0F BA /5 /7), CMPXCHG (0F B0, B1) and CMPXCHG8B/16B
 * (0F C7 /1). Every other store (string instructions, ADD, SUB, XOR, INC,
 * XADD, BTR, pushes, SSE moves ...) is taken as not writing a page table. */
static bool pt_writing_insn(uint16_t op, uint8_t r, bool mod3) {
  static const uint16_t always[] = {0x08, 0x09, 0x0a, 0x0b,  0x0c,  0x0d,  0x20, 0x21,
                                    0x22, 0x23, 0x24, 0x25,  0x86,  0x87,  0x88, 0x89,
                                    0x8c, 0xa2, 0xa3, 0x1ab, 0x1bb, 0x1b0, 0x1b1};
  for (size_t k = 0; k < sizeof always / sizeof always[0]; k++)
    if (op == always[k]) return true;
  if (op >= 0x80 && op <= 0x83) return r == 1 || r == 4; /* group 1: OR, AND */
  if (op == 0xc6 || op == 0xc7) return r == 0;           /* MOV r/m, imm */
  if (op == 0x1ba) return r == 5 || r == 7;              /* BTS, BTC r/m, imm8 */
  return op == 0x1c7 && r == 1 && !mod3;                 /* CMPXCHG8B/16B */
}

/* KVM's retry_instruction() (arch/x86/kvm/x86.c, 6.1), for a write fault on
 * a write-protected guest table under policy unsync (KVM with ring 0 run
 * natively): an instruction that does not write page tables (above) makes
 * KVM unprotect the frame instead of emulating it: every shadow page of the
 * frame is zapped (kvm_mmu_unprotect_page()) and the instruction runs
 * again, now with write access after a fill. Not twice in a row for the
 * same RIP and address (KVM's guard against a loop; the guard is cleared
 * at every write emulation KVM attempts). True: unprotected, retry. */
static bool retry_unprotected(struct vmm_shadow *s, struct model_cpu *c, uint64_t va,
                              uint64_t frame) {
  uint64_t last_rip = s->last_retry_rip, last_va = s->last_retry_va;
  s->last_retry_rip = s->last_retry_va = 0;
  uint64_t rip;
  uint16_t op;
  uint8_t reg;
  bool mod3;
  if (!model_vmx__exit_insn(c, &rip, &op, &reg, &mod3) || pt_writing_insn(op, reg, mod3) ||
      (rip == last_rip && va == last_va))
    return false;
  s->last_retry_rip = rip;
  s->last_retry_va = va;
  int n = pages_of(s, (int64_t)frame, s->scratch, (int)s->npages);
  for (int i = 0; i < n; i++)
    page_zap_whole(s, s->scratch[i]);
  s->pt_write_retries++;
  if (n) tlb_flush(s, c, FLUSH_ZAP); /* kvm_mmu_commit_zap_page()'s remote flush */
  return true;
}

/* ---- unsync (policy unsync; KVM's arch/x86/kvm/mmu/mmu.c) ---------------------------- */

/* The shadow leaf a guest PTE `g` gives in a last-level page of role
 * `role` (the access of the path above it), as a fill makes it; 0 when the
 * entry cannot be kept without a fault: not present, reserved bits, or
 * accessed bit clear (KVM keeps only accessed gptes when it maps without a
 * fault, FNAME(prefetch_invalid_gpte)). */
static uint64_t leaf_of(const struct vmm_shadow *s, struct model_cpu *c, uint8_t role, uint64_t g) {
  bool nxe = (model_vmx__guest_efer(c) & EFER_NXE) != 0;
  uint64_t rsvd = (((1ull << 52) - 1) & ~((1ull << MODEL_MAXPHYADDR) - 1)) | (nxe ? 0 : SP_NX);
  if (!(g & SP_P) || !(g & G_A) || (g & rsvd)) return 0;
  uint64_t frame = (g & ADDR) >> 12, leaf = (g & ADDR) | SP_P | (1ull << 9);
  if ((role & ROLE_U) && (g & SP_U)) leaf |= SP_U;
  if ((role & ROLE_W) && (g & SP_W) && (g & G_D) &&
      !(frame < s->nframes && s->is_pt[frame] && !s->open[frame]))
    leaf |= SP_W;
  if (((role & ROLE_NX) || (g & SP_NX)) && nxe) leaf |= SP_NX;
  return leaf;
}

/* Record a writable leaf written at `slot` (protection finds it later). */
static void wleaf_made(struct vmm_shadow *s, uint64_t leaf, uint32_t slot, bool sup) {
  uint64_t frame = (leaf & ADDR) >> 12;
  if (!(leaf & SP_W) || frame >= s->nframes) return;
  s->wleaves[frame]++;
  if (!sup) s->wuser[frame] = 1;
  rmap_add(s, frame, slot);
}

/* Bring entry `idx` of unsync page `pg` in line with its guest PTE: kept,
 * updated or dropped (KVM's FNAME(sync_spte)). True when it changed. */
static bool resync_entry(struct vmm_shadow *s, struct model_cpu *c, uint32_t pg, unsigned idx) {
  uint64_t *p = &s->mem[(uint64_t)pg * 512 + idx];
  if (!*p) return false;
  uint64_t g = gread(s, ((uint64_t)s->src[pg] << 12) + idx * 8);
  uint64_t leaf = leaf_of(s, c, s->role[pg], g);
  if ((leaf & ADDR) != (*p & ADDR)) leaf = 0; /* another frame: dropped, not moved */
  if (leaf == *p) return false;
  if (!leaf) s->zaps++;
  *p = leaf;
  wleaf_made(s, leaf, pg * 512 + idx, true);
  return true;
}

static void mark_unsync(struct vmm_shadow *s, uint32_t pg) {
  if (s->unsync[pg]) return;
  s->unsync[pg] = 1;
  s->roots[s->owner[pg]].unsync_pages++;
  s->unsync_pages++;
  s->unsynced++;
}

/* A fill would map guest table `frame` writable: let its shadow pages go
 * out of sync, unless one of them shadows an upper-level table (those stay
 * write-protected: KVM write-tracks them). True when the frame is open. */
static bool unsync_frame(struct vmm_shadow *s, uint64_t frame) {
  int n = pages_of(s, (int64_t)frame, s->scratch, (int)s->npages);
  for (int i = 0; i < n; i++)
    if ((s->role[s->scratch[i]] & 7) != 1) return false;
  for (int i = 0; i < n; i++)
    mark_unsync(s, s->scratch[i]);
  s->open[frame] = 1;
  return true;
}

/* A new shadow page for guest table `frame` (KVM's account_shadowed() and
 * kvm_mmu_find_shadow_page()): an open frame is write-protected again, and
 * an upper-level page takes the unsync pages of the frame with it. */
static void page_created(struct vmm_shadow *s, struct model_cpu *c, uint32_t pg) {
  int64_t frame = s->src[pg];
  if (s->policy != SHADOW_POLICY_UNSYNC || frame < 0 || (uint64_t)frame >= s->nframes) return;
  if ((s->role[pg] & 7) >= 2 && s->unsync_pages) {
    int n = pages_of(s, frame, s->scratch, (int)s->npages);
    bool zapped = false;
    for (int i = 0; i < n; i++)
      if (s->unsync[s->scratch[i]]) {
        page_unlink_release(s, s->scratch[i]);
        s->zaps++;
        zapped = true;
      }
    /* kvm_mmu_commit_zap_page()'s remote flush: the zapped pages' entries
     * may be in a TLB */
    if (zapped) tlb_flush(s, c, FLUSH_ZAP);
  }
  if (s->open[frame]) {
    s->open[frame] = 0;
    wp_leaves(s, c, (uint64_t)frame);
  }
}

/* At a CR3 load: every unsync page of the current root is write-protected
 * again and checked entry by entry (KVM's kvm_mmu_sync_roots()). */
static void sync_unsync_pages(struct vmm_shadow *s, struct model_cpu *c) {
  int r = s->cur;
  bool changed = false;
  for (uint32_t pg = 0; pg < s->hiwater && s->roots[r].unsync_pages; pg++) {
    if (s->owner[pg] != r || !s->unsync[pg]) continue;
    s->unsync[pg] = 0;
    s->roots[r].unsync_pages--;
    s->unsync_pages--;
    s->resynced++;
    uint64_t frame = (uint64_t)s->src[pg];
    if (frame < s->nframes && s->open[frame]) {
      s->open[frame] = 0;
      wp_leaves(s, c, frame);
    }
    for (unsigned i = 0; i < 512; i++)
      changed |= resync_entry(s, c, pg, i);
  }
  if (changed) tlb_flush(s, c, FLUSH_SYNC);
}

/* Zap the shadow entries derived from the guest entry at gpa; a page
 * written the third time with no fill through it since goes whole (KVM's
 * detect_write_flooding()). KVM exempts last-level pages "because [they]
 * can become unsync, then the guest page is not write-protected". Policy
 * sync keeps the exemption (KVM's rule, as on kvm_pvm, whose emulated ring 0
 * writes the tables without faulting, so they never unsync: validated
 * there); policy flood drops it, as KVM did before it had unsync, for a guest
 * whose ring 0 runs natively: there a guest table the kernel frees and
 * reuses as data stays write-protected while any root holds its shadow
 * page, and every store to it exits (a Linux fork+exec: 44,000 exits per
 * iteration under sync, docs/LINUX.md). */
static void zap_guest_entry(struct vmm_shadow *s, struct model_cpu *c, uint64_t gpa) {
  int64_t frame = (int64_t)(gpa >> 12);
  unsigned idx = (unsigned)((gpa & 0xfff) >> 3);
  bool any = false;
  unsigned flood_level = s->policy == SHADOW_POLICY_FLOOD ? 1 : 2;
  int n = pages_of(s, frame, s->scratch, (int)s->npages);
  for (int i = 0; i < n; i++) {
    uint32_t pg = s->scratch[i];
    if ((s->role[pg] & 7) >= flood_level && ++s->flood[pg] >= 3) {
      page_zap(s, pg);
      any = true;
      continue;
    }
    if (s->mem[(uint64_t)pg * 512 + idx]) {
      /* a subtree below stays, unlinked: its pages still shadow their guest
       * tables and are zapped entry by entry on writes, until a fill links
       * them again (page_find), flooding zaps them or their root goes (KVM
       * too keeps unlinked shadow pages, write-tracked, in its hash) */
      s->mem[(uint64_t)pg * 512 + idx] = 0;
      s->zaps++;
      any = true;
    }
  }
  if (any) tlb_flush(s, c, FLUSH_ZAP);
}

void vmm_shadow__guest_written(struct vmm_shadow *s, struct model_cpu *c, uint64_t gpa,
                               uint64_t len) {
  if (!s->mem || !len || gpa >= s->ram_size) return;
  uint64_t end = len > s->ram_size - gpa ? s->ram_size : gpa + len;
  for (uint64_t q = gpa & ~7ull; q < end; q += 8) {
    uint64_t frame = q >> 12;
    if (frame < s->nframes && s->is_pt[frame])
      zap_guest_entry(s, c, q);
    else
      q = ((frame + 1) << 12) - 8; /* not a page table: on to the next frame */
  }
}

static int pf_handler(void *vmm, struct model_cpu *c, uint64_t va, unsigned acc) {
  struct vmm_shadow *s = vmm;
  s->exit_id++;
  bool sup = !(acc & ACC_U); /* a supervisor-mode access (CPL0 or implicit) */
  uint64_t gpa;
  const struct vmx_guest_path *path; /* the walk memo's (speed: not copied) */
  int err = model_vmx__walk_guest_path(c, va, acc, &gpa, NULL, &path); /* sets the guest's A/D */
  if (err) {
    s->vmcs->inject_error = (uint32_t)err & 0xffff;
    s->true_faults++;
    s->true_faults_cpl0 += sup;
    return SPF_TRUE_FAULT;
  }
  uint64_t frame = gpa >> 12;
  bool may_unsync = s->policy == SHADOW_POLICY_UNSYNC;
  if ((acc & ACC_W) && frame < s->nframes && s->is_pt[frame] && !s->open[frame] &&
      !(may_unsync && unsync_frame(s, frame))) {
    s->pt_write_exits++; /* KVM: pf_emulate (on VT-x) */
    s->pt_write_exits_cpl0 += sup;
    if (may_unsync && retry_unprotected(s, c, va, frame)) return SPF_RETRY;
    zap_guest_entry(s, c, gpa & ~7ull);
    s->vmcs->emulate_hpa = gpa & ~0xfffull;
    return SPF_EMULATE;
  }
  s->hidden_faults++;
  s->hidden_faults_cpl0 += sup;
  /* the guest's tables, their frames and the access above each level (from
   * the walk's path, or read again when it kept none), and the leaf's bits */
  uint64_t gtab_read[5], e = 0;
  const uint64_t *gtab = path->tab;
  uint8_t role[5] = {0};
  int leaf_level = path->leaf_level;
  uint64_t allow_u, allow_w, nx;
  uint8_t nxe = (model_vmx__guest_efer(c) & EFER_NXE) ? ROLE_NXE : 0;
  if (leaf_level) {
    for (int level = 4; level >= leaf_level; level--) /* above: U, W, NX as ROLE_U, _W, _NX */
      role[level] = (uint8_t)(level | path->above[level] << 3 | nxe);
    e = path->e[leaf_level];
    allow_u = path->above[leaf_level] & e >> 2;
    allow_w = path->above[leaf_level] >> 1 & e >> 1;
    nx = (path->above[leaf_level] >> 2 | e >> 63) & 1;
  } else {
    gtab = gtab_read;
    uint64_t table = model_vmx__guest_cr3(c) & ADDR;
    allow_u = allow_w = 1;
    nx = 0;
    leaf_level = 1;
    for (int level = 4; level >= 1; level--) {
      gtab_read[level] = table;
      role[level] = (uint8_t)(level | ((allow_u & 1) ? ROLE_U : 0) | ((allow_w & 1) ? ROLE_W : 0) |
                              ((nx & 1) ? ROLE_NX : 0) | nxe);
      e = gread(s, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8);
      allow_u &= e >> 2;
      allow_w &= e >> 1;
      nx |= e >> 63;
      if (level == 1 || (level <= 3 && (e & G_PS))) {
        leaf_level = level;
        break;
      }
      table = e & ADDR;
    }
  }
  if (s->nfree < 8) { /* make room: keep only the current root */
    uint64_t cr3 = s->roots[s->cur].cr3;
    for (int r = 0; r < SHADOW_ROOTS; r++)
      if (s->roots[r].valid) root_drop(s, r);
    root_switch(s, c, cr3);
    s->roots_built--; /* a rebuild, not a new root */
    tlb_flush(s, c, FLUSH_ROOT_DROP);
  }
  for (int level = 4; level >= leaf_level; level--)
    protect_frame(s, c, gtab[level] >> 12);
  uint64_t spg = s->roots[s->cur].page;
  if (s->src[spg] < 0) { /* the root was zapped (flooding): it shadows its table again */
    s->src[spg] = (int64_t)(gtab[4] >> 12);
    index_add(s, (uint32_t)spg);
    s->pages_allocated++;
    page_created(s, c, (uint32_t)spg);
  }
  for (int level = 4; level >= 2; level--) {
    s->flood[spg] = 0; /* used by a fill: not flooded */
    uint64_t *p = &s->mem[spg * 512 + ((va >> (12 + 9 * (level - 1))) & 511)];
    if (!(*p & SP_P)) {
      int64_t src = level - 1 >= leaf_level ? (int64_t)(gtab[level - 1] >> 12) : -1;
      int64_t pg = src >= 0 ? page_find(s, s->cur, src, role[level - 1]) : -1;
      if (pg >= 0 && s->unsync[pg]) { /* linked again: its entries checked, it stays unsync */
        bool changed = false;
        for (unsigned i = 0; i < 512; i++)
          changed |= resync_entry(s, c, (uint32_t)pg, i);
        if (changed) tlb_flush(s, c, FLUSH_SYNC);
      }
      if (pg < 0) {
        pg = page_alloc(s, s->cur, src, src >= 0 ? role[level - 1] : 0);
        if (pg < 0) return SPF_RETRY; /* cannot happen: room was made above */
        page_created(s, c, (uint32_t)pg);
      }
      *p = ((uint64_t)pg << 12) | SP_P | SP_W | SP_U;
      uint32_t slot = (uint32_t)(p - s->mem);
      if (s->parent[pg] == NONE)
        s->parent[pg] = slot;
      else if (s->parent[pg] != slot)
        s->more_parents[pg] = 1;
    }
    spg = (*p & ADDR) >> 12;
  }
  s->flood[spg] = 0; /* the leaf's page too (it floods under policy flood) */
  /* a page table is mapped read-only, unless it can go out of sync */
  bool maps_pt = frame < s->nframes && s->is_pt[frame] && !s->open[frame];
  if (maps_pt && may_unsync && (allow_w & 1) && (e & G_D) && unsync_frame(s, frame))
    maps_pt = false;
  if (maps_pt) allow_w = 0;
  uint64_t leaf = (gpa & ~0xfffull) | SP_P | (1ull << 9);
  if (allow_u & 1) leaf |= SP_U;
  if ((allow_w & 1) && (e & G_D)) { /* clean: the first write must exit (D bit) */
    leaf |= SP_W;
    if (frame < s->nframes) {
      s->wleaves[frame]++;
      if (!sup) s->wuser[frame] = 1;
      rmap_add(s, frame, (uint32_t)(spg * 512 + ((va >> 12) & 511)));
    }
  }
  if ((nx & 1) && (model_vmx__guest_efer(c) & EFER_NXE)) leaf |= SP_NX;
  s->mem[spg * 512 + ((va >> 12) & 511)] = leaf;
  return SPF_RETRY;
}

static void cr3_handler(void *vmm, struct model_cpu *c, uint64_t cr3) {
  struct vmm_shadow *s = vmm;
  s->exit_id++;
  s->cr3_exits++;
  model_vmx__set_guest_cr3(c, cr3);
  root_switch(s, c, cr3);
  tlb_flush(s, c, FLUSH_GUEST); /* what the guest's CR3 load does to its TLB entries */
}

/* INVLPG (KVM's kvm_mmu_invlpg()): the guest's own TLB entry for va goes;
 * a shadow entry of a synced page stays (write protection kept it equal to
 * the guest's PTE), one of an unsync page in any root is brought in line
 * with the guest's PTE (kept, updated or dropped). A guest large page is
 * shadowed by synced pages only. */
static void invlpg_handler(void *vmm, struct model_cpu *c, uint64_t va) {
  struct vmm_shadow *s = vmm;
  s->exit_id++;
  s->invlpg_exits++;
  bool changed = false;
  for (int r = 0; r < SHADOW_ROOTS && s->unsync_pages; r++) {
    if (!s->roots[r].valid || !s->roots[r].unsync_pages) continue;
    uint64_t spg = s->roots[r].page;
    for (int level = 4; level >= 2 && spg != NONE; level--) {
      uint64_t e = s->mem[spg * 512 + ((va >> (12 + 9 * (level - 1))) & 511)];
      spg = (e & SP_P) ? (e & ADDR) >> 12 : NONE;
    }
    if (spg == NONE || !s->unsync[spg]) continue;
    s->invlpg_resyncs++;
    changed |= resync_entry(s, c, (uint32_t)spg, (unsigned)((va >> 12) & 511));
  }
  if (changed) tlb_flush(s, c, FLUSH_INVLPG);
  model_vmx__flush_va(c, va);
}

int vmm_shadow__init(struct vmm_shadow *s, struct model_cpu *c, const uint8_t *ram,
                     uint64_t ram_size, bool vpid) {
  memset(s, 0, sizeof *s);
  s->vmcs = model_vmx__vmcs(c);
  s->ram = ram;
  s->ram_size = ram_size;
  s->npages = 4096;
  s->nframes = ram_size >> 12;
  s->mem = calloc(s->npages, 4096);
  s->src = calloc(s->npages, sizeof *s->src);
  s->owner = calloc(s->npages, 1);
  s->role = calloc(s->npages, 1);
  s->flood = calloc(s->npages, 1);
  s->unsync = calloc(s->npages, 1);
  s->free_stack = calloc(s->npages, sizeof *s->free_stack);
  s->is_pt = calloc((size_t)s->nframes, 1);
  s->open = calloc((size_t)s->nframes, 1);
  s->wleaves = calloc((size_t)s->nframes, sizeof *s->wleaves);
  s->wuser = calloc((size_t)s->nframes, 1);
  s->hhead = malloc(s->npages * sizeof *s->hhead);
  s->hnext = calloc(s->npages, sizeof *s->hnext);
  s->hprev = calloc(s->npages, sizeof *s->hprev);
  s->hashed = calloc(s->npages, 1);
  s->rmap = calloc((size_t)s->nframes, sizeof *s->rmap);
  s->scratch = calloc(s->npages, sizeof *s->scratch);
  s->parent = calloc(s->npages, sizeof *s->parent);
  s->more_parents = calloc(s->npages, 1);
  if (!s->mem || !s->src || !s->owner || !s->role || !s->flood || !s->unsync || !s->free_stack ||
      !s->is_pt || !s->open || !s->wleaves || !s->wuser || !s->hhead || !s->hnext || !s->hprev ||
      !s->hashed || !s->rmap || !s->scratch || !s->parent || !s->more_parents) {
    vmm_shadow__free(s);
    return -ENOMEM;
  }
  for (uint32_t b = 0; b < s->npages; b++) /* npages: a power of 2 (bucket_of) */
    s->hhead[b] = NONE;
  for (uint32_t pg = s->npages; pg-- > 0;)
    page_free(s, pg);
  struct model_vmcs *v = model_vmx__vmcs(c);
  v->active = true;
  v->proc_based = CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_INVLPG_EXITING |
                  (vpid ? CPU_BASED_ACTIVATE_SECONDARY : 0);
  v->secondary = vpid ? SECONDARY_EXEC_ENABLE_VPID : 0;
  v->exception_bitmap = 1u << X86_PF;
  model_vmx__set_vpid(c, vpid ? 1 : 0);
  v->spt_mem = s->mem;
  v->spt_pages = s->npages;
  v->pf_handler = pf_handler;
  v->cr3_handler = cr3_handler;
  v->invlpg_handler = invlpg_handler;
  v->vmm = s;
  return 0;
}

void vmm_shadow__set_policy(struct vmm_shadow *s, enum vmm_shadow_policy p) {
  s->policy = p;
}

const char *vmm_shadow__policy_name(enum vmm_shadow_policy p) {
  return p == SHADOW_POLICY_UNSYNC ? "unsync" : p == SHADOW_POLICY_FLOOD ? "flood" : "sync";
}

/* The root for the boot CR3 (after the boot state is set). */
void vmm_shadow__boot(struct vmm_shadow *s, struct model_cpu *c) {
  root_switch(s, c, model_vmx__guest_cr3(c));
  s->roots_built = 1;
  s->roots_reused = 0;
}

void vmm_shadow__stats(const struct vmm_shadow *s, struct vmm_shadow_stats *out) {
  memset(out, 0, sizeof *out);
  if (!s) return;
#define COPY(name) out->name = s->name;
  VMM_SHADOW_STATS(COPY)
#undef COPY
}

void vmm_shadow__free(struct vmm_shadow *s) {
  free(s->mem);
  free(s->src);
  free(s->owner);
  free(s->role);
  free(s->flood);
  free(s->unsync);
  free(s->free_stack);
  free(s->is_pt);
  free(s->open);
  free(s->wleaves);
  free(s->wuser);
  free(s->hhead);
  free(s->hnext);
  free(s->hprev);
  free(s->hashed);
  if (s->rmap)
    for (uint64_t f = 0; f < s->nframes; f++)
      free(s->rmap[f].slot);
  free(s->rmap);
  free(s->scratch);
  free(s->parent);
  free(s->more_parents);
  memset(s, 0, sizeof *s);
}

int vmm_shadow__pages_of(const struct vmm_shadow *s, int64_t frame, uint32_t *out, int max) {
  return pages_of(s, frame, out, max);
}

int vmm_shadow__check(const struct vmm_shadow *s) {
  uint32_t want = 0, seen = 0;
  for (uint32_t pg = 0; pg < s->npages; pg++) {
    bool live = s->owner[pg] >= 0 && s->src[pg] >= 0;
    if (live != (s->hashed[pg] != 0)) return -1; /* in the index iff live with a frame */
    want += live;
  }
  for (uint32_t b = 0; b < s->npages; b++) {
    uint32_t prev = NONE;
    for (uint32_t pg = s->hhead[b]; pg != NONE; pg = s->hnext[pg]) {
      /* a broken or cyclic list */
      if (pg >= s->npages || seen++ > want) return -2;
      if (!s->hashed[pg] || bucket_of(s, s->src[pg]) != b) return -3; /* wrong bucket */
      if (s->hprev[pg] != prev) return -4;
      prev = pg;
    }
  }
  if (seen != want) return -5; /* a live page is missing from its bucket */
  /* every writable leaf is in its frame's rmap */
  for (uint32_t pg = 0; pg < s->hiwater; pg++)
    for (uint32_t i = 0; i < 512; i++) {
      uint32_t slot = pg * 512 + i;
      uint64_t f = (s->mem[slot] & ADDR) >> 12;
      if (f >= s->nframes || !is_wleaf_to(s, slot, f) || s->rmap[f].full) continue;
      bool found = false;
      for (uint32_t k = 0; k < s->rmap[f].n && !found; k++)
        found = s->rmap[f].slot[k] == slot;
      if (!found) return -6;
    }
  /* every entry linking a page of its root is its recorded parent */
  for (uint32_t p = 0; p < s->hiwater; p++)
    for (uint32_t i = 0; p < s->npages && s->owner[p] >= 0 && i < 512; i++) {
      uint64_t e = s->mem[p * 512 + i];
      uint64_t q = (e & ADDR) >> 12;
      if (!(e & SP_P) || (e & (1ull << 9)) || q >= s->hiwater || s->owner[q] != s->owner[p] ||
          (s->role[p] & 7) != (s->role[q] & 7) + 1)
        continue;
      if (!s->more_parents[q] && s->parent[q] != p * 512 + i) return -7;
    }
  return 0;
}
