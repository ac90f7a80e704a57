/* vmm_shadow.h - refvmm's shadow page-table manager for the model CPU (the
 * VMM's code, not the CPU's): shadow tables per guest root in a bounded
 * cache (reused on a CR3 switch back), filled on hidden page faults, true
 * faults reflected to the guest, guest page-table pages write-protected and
 * the trapped writes emulated (counted as KVM's mmu_pte_write), guest A/D
 * bits kept by the fills, stale entries zapped. The CPU walks the shadow
 * tables (hardware format, in this manager's memory) instead of the guest's.
 *
 * Two policies for the guest's last-level page tables (docs/MODEL.md,
 * "Shadow paging"): `sync` keeps every shadowed guest table write-protected
 * (each write exits); `unsync` lets a last-level table go out of sync as
 * KVM's shadow MMU does (mmu_try_to_unsync_pages()): a fill that maps it
 * writable makes its shadow pages unsync, the guest then writes it without
 * exits, and the VMM brings the shadow entries back in line at the guest's
 * TLB invalidations (a CR3 load: every unsync page of the new root; INVLPG:
 * the one entry). In both, INVLPG leaves an entry of a synced page alone:
 * write protection already keeps it equal to the guest's. */
#ifndef REFVMM_MODEL_VMM_SHADOW_H
#define REFVMM_MODEL_VMM_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

struct model_cpu;
struct model_vmcs;

#define SHADOW_ROOTS 8

enum vmm_shadow_policy {
  SHADOW_POLICY_SYNC,   /* every shadowed guest table write-protected (default) */
  SHADOW_POLICY_UNSYNC, /* last-level tables may go out of sync (KVM) */
  SHADOW_POLICY_FLOOD,  /* as sync, and last-level pages flood as upper-level ones do */
};

/* The manager's counters (a run's `model.shadow`, docs/MODEL.md):
 * - hidden_faults, true_faults, pt_write_exits: #PF exits by outcome (a fill
 *   of a missing shadow entry, a fault reflected to the guest, a write to a
 *   write-protected guest page table emulated); the *_cpl0 parts are the
 *   supervisor-mode accesses among them (CPL0 code, or the implicit
 *   supervisor accesses of event delivery and descriptor reads at CPL3), the
 *   rest are user-mode (CPL3) accesses;
 * - roots_built, roots_reused, cr3_exits, invlpg_exits; zaps: shadow entries
 *   zapped (and roots dropped);
 * - flooded: upper-level shadow pages zapped whole because their guest table
 *   was written 3 times with no fill through them in between (KVM's write
 *   flooding detection, mmu_flooded); leaf-level pages are exempt but under
 *   policy flood;
 * - flush_zap, flush_protect, flush_root_drop, flush_invlpg: TLB flushes the
 *   VMM starts itself (after zapping entries or flooded pages for a guest page-table write,
 *   after write-protecting a new guest page table, after dropping roots to
 *   make room, after an INVLPG's resync changed an entry): KVM's
 *   remote_tlb_flush_requests; flush_protect_user: of the protect flushes,
 *   those that take away write access a user-mode fill gave (the only kind
 *   a VMM that emulates ring 0 has: its ring-0 accesses make no shadow
 *   entries);
 * - unsynced, resynced: (policy unsync) last-level shadow pages let go out of
 *   sync (KVM's mmu_unsync rises by one each), and brought back in sync at a
 *   CR3 load (write-protected again, every entry checked against the guest
 *   table); invlpg_resyncs: entries an INVLPG checked in an unsync page;
 *   flush_sync: flushes after a resync at a CR3 load changed entries or
 *   took write access away (KVM's remote flush requests there);
 *   pt_write_retries: (policy unsync) of the pt_write_exits, those KVM does
 *   not emulate: the instruction does not write page tables (a REP STOS
 *   zeroing a freed table), so the frame is unprotected (its shadow pages
 *   zapped) and the instruction retried (KVM's pf_emulate counts them, its
 *   mmu_pte_write does not);
 * - flush_exits: exits whose handling flushed the TLB (guest CR3 loads
 *   included): KVM's tlb_flush on a VT-x host, where every flush request is
 *   serviced at the next VM entry;
 * - flush_batches: the same flushes coalesced the way a VMM that emulates
 *   the guest's ring 0 services them (kvm_pvm): once per stretch of CPL0
 *   execution between two returns to CPL3, once per exit from CPL3 (protect
 *   flushes that only supervisor-mode fills made necessary left out);
 * - pages_allocated, pages_freed: shadow table pages (roots included): KVM's
 *   mmu_cache_miss and mmu_shadow_zapped (a root zapped whole counts twice,
 *   as KVM zaps a root in use once to invalidate it and once to free it).
 *   Pages are freed with their root
 *   (dropped from the root cache or to make room); a zapped upper-level
 *   entry leaves the subtree below unlinked until then. */
#define VMM_SHADOW_STATS(X)                                                                        \
  X(hidden_faults)                                                                                 \
  X(true_faults)                                                                                   \
  X(pt_write_exits)                                                                                \
  X(hidden_faults_cpl0)                                                                            \
  X(true_faults_cpl0)                                                                              \
  X(pt_write_exits_cpl0)                                                                           \
  X(roots_built)                                                                                   \
  X(roots_reused)                                                                                  \
  X(zaps)                                                                                          \
  X(cr3_exits)                                                                                     \
  X(invlpg_exits)                                                                                  \
  X(flooded)                                                                                       \
  X(flush_zap)                                                                                     \
  X(flush_protect)                                                                                 \
  X(flush_protect_user)                                                                            \
  X(flush_root_drop)                                                                               \
  X(flush_invlpg)                                                                                  \
  X(flush_exits)                                                                                   \
  X(flush_batches)                                                                                 \
  X(pages_allocated)                                                                               \
  X(pages_freed)                                                                                   \
  X(unsynced)                                                                                      \
  X(resynced)                                                                                      \
  X(invlpg_resyncs)                                                                                \
  X(pt_write_retries)                                                                              \
  X(flush_sync)
#define VMM_SHADOW_FIELD(name) uint64_t name;

/* The counters alone (snapshots at the timed region's marks). */
struct vmm_shadow_stats {
  VMM_SHADOW_STATS(VMM_SHADOW_FIELD)
};

struct vmm_shadow {
  struct model_vmcs *vmcs; /* the CPU's controls and exit information */
  const uint8_t *ram;      /* guest RAM, for the guest's page tables */
  uint64_t ram_size;
  uint64_t *mem;   /* npages x 512 shadow entries */
  int64_t *src;    /* per page: the guest table frame it shadows, -1 none */
  int8_t *owner;   /* per page: the root slot owning it, -1 free */
  uint8_t *role;   /* per page: the guest table's level and the access of the path above it */
  uint8_t *flood;  /* per page: guest writes to its table since the last fill through it */
  uint8_t *unsync; /* per page: a last-level page out of sync (policy unsync) */
  enum vmm_shadow_policy policy;
  uint32_t *free_stack;
  uint32_t npages, nfree;
  uint32_t hiwater;  /* pages at or above are free: scans stop here */
  uint8_t *is_pt;    /* per guest frame: holds a guest page table (write-protected) */
  uint8_t *open;     /* per guest frame: its shadow pages are unsync and it is not
                      * write-protected: writable leaves may map it (policy unsync) */
  uint32_t *wleaves; /* per guest frame: writable shadow leaves made to it (upper bound) */
  uint8_t *wuser;    /* per guest frame: one of them was made by a user-mode access */
  uint64_t nframes;
  /* The index of shadow pages by the guest table frame they shadow (KVM's
   * mmu_page_hash): every page with an owner and a frame (src >= 0) is in
   * the list of bucket src & (npages - 1), and no other page is. */
  uint32_t *hhead; /* per bucket: the first page, UINT32_MAX none */
  uint32_t *hnext; /* per page: the next page of its bucket */
  uint32_t *hprev; /* per page: the previous one, UINT32_MAX first */
  uint8_t *hashed; /* per page: in the index */
  /* Per guest frame, the shadow entries (page x 512 + index) a writable
   * leaf to it was written to since its last write protection (KVM's
   * rmap): some may have changed since, and are checked when used. */
  struct vmm_shadow_rmap {
    uint32_t *slot;
    uint32_t n, cap;
    bool full; /* more than the list holds were made: scan every page */
  } * rmap;
  uint32_t *scratch; /* npages: the pages of one frame, for a zap */
  /* Per page: the entry (page x 512 + index) that linked it to a page of
   * its root (KVM's parent_ptes), UINT32_MAX none; more_parents: it was
   * linked from another entry too (a zap of it then scans its level). */
  uint32_t *parent;
  uint8_t *more_parents;
  struct {
    uint64_t cr3;
    uint32_t page;
    uint64_t last_use;
    uint32_t unsync_pages; /* its pages out of sync */
    bool valid;
  } roots[SHADOW_ROOTS];
  uint32_t unsync_pages; /* all roots' */
  int cur;
  uint64_t clock;
  uint64_t exit_id;                       /* handler calls: one per VM exit the manager handled */
  uint64_t flushed_exit;                  /* exit_id + 1 of the last exit that flushed (0 none) */
  uint64_t batch_key;                     /* the last flush batch counted (see flush_batches) */
  uint64_t last_retry_rip, last_retry_va; /* the last unprotect-and-retry (policy unsync) */
  VMM_SHADOW_STATS(VMM_SHADOW_FIELD)
};

/* Program the CPU's controls for shadow paging over guest RAM [ram,
 * ram + ram_size). 0 or -ENOMEM. */
int vmm_shadow__init(struct vmm_shadow *s, struct model_cpu *c, const uint8_t *ram,
                     uint64_t ram_size, bool vpid);
void vmm_shadow__free(struct vmm_shadow *s);
/* The last-level-table policy (before the boot; default sync). */
void vmm_shadow__set_policy(struct vmm_shadow *s, enum vmm_shadow_policy p);
const char *vmm_shadow__policy_name(enum vmm_shadow_policy p);
/* Build the root for the boot CR3 once the boot state is set. */
void vmm_shadow__boot(struct vmm_shadow *s, struct model_cpu *c);
/* The VMM itself stored into guest RAM [gpa, gpa+len): shadow entries made
 * from a guest page table there are zapped, as for a trapped guest write
 * (a VMM store raises no write-protection exit, so none is counted). */
void vmm_shadow__guest_written(struct vmm_shadow *s, struct model_cpu *c, uint64_t gpa,
                               uint64_t len);
/* Copy the counters (NULL s: all zero). */
void vmm_shadow__stats(const struct vmm_shadow *s, struct vmm_shadow_stats *out);
/* Test hooks: the live pages shadowing guest frame `frame` as the index
 * finds them (ascending, at most max; returns the count), and a check of
 * the index and the reverse map against a scan of every page (0 when they
 * agree, else a negative code naming the broken invariant). */
int vmm_shadow__pages_of(const struct vmm_shadow *s, int64_t frame, uint32_t *out, int max);
int vmm_shadow__check(const struct vmm_shadow *s);

#endif
