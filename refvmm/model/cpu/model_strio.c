/* model_strio.c - INS and OUTS with and without REP (model_strio.h).
 *
 * The exits are KVM's: its emulator (arch/x86/kvm/emulate.c) hands OUTS to
 * user space one element per KVM_EXIT_IO, and reads INS ahead in batches
 * of min(count, 1024 / size, bytes to the page's end (forward) or from its
 * start (DF=1)) elements, at least one, each batch one KVM_EXIT_IO with
 * count and data buffer; the batch is stored element by element when the
 * instruction runs on (a store that faults drops the rest of the batch).
 * A REP instruction stays at RIP until RCX reaches 0, so an exit, a fault
 * or an event between its elements leaves RSI/RDI/RCX at the next one. */
#include "model_strio.h"

#include <string.h>

#include "model_events.h"
#include "model_mmu.h"

#define READ_AHEAD 1024u /* KVM's read-ahead buffer (struct read_cache) */

static unsigned io_size(const struct model_insn *d) {
  return d->osz == 8 ? 4 : d->osz; /* REX.W does not widen port I/O */
}

static uint64_t addr_mask(const struct model_insn *d) {
  return d->asz == 4 ? 0xffffffffull : ~0ull;
}

/* RCX - 1 under the address size; true when the REP is done. */
static bool count_down(struct model_cpu *c, uint64_t am) {
  c->gpr[1] = (c->gpr[1] & ~am) | (((c->gpr[1] & am) - 1) & am);
  return (c->gpr[1] & am) == 0;
}

bool model_strio__outs(struct model_cpu *c, const struct model_insn *d) {
  uint64_t am = addr_mask(d);
  if (d->rep && (c->gpr[1] & am) == 0) return true; /* RCX = 0: no access */
  unsigned isz = io_size(d);
  uint16_t port = (uint16_t)c->gpr[2];
  if (!model_exec__io_allowed(c, port, isz)) model__gp0(c);
  uint64_t si = c->gpr[6] & am;
  uint64_t v = model_mem__read(c, si + (d->seg ? c->seg[d->seg].base : 0), isz);
  int64_t step = (c->rflags & RF_DF) ? -(int64_t)isz : (int64_t)isz;
  c->gpr[6] = (c->gpr[6] & ~am) | ((si + step) & am);
  c->io.port = port, c->io.size = (uint8_t)isz, c->io.write = 1;
  memcpy(c->io.data, &v, 8);
  c->stop = MSTOP_IO; /* one element per exit */
  c->slice_end = 0;
  if (!d->rep) return true;
  c->cnt.rep_iterations++;
  return count_down(c, am);
}

/* The exit for the next batch of an INS at RIP. */
static void ins_exit(struct model_cpu *c, const struct model_insn *d, uint16_t port, unsigned isz) {
  uint64_t count = d->rep ? c->gpr[1] & addr_mask(d) : 1;
  uint64_t off = c->gpr[7] & 0xfff;
  uint64_t n = (c->rflags & RF_DF) ? off : 4096 - off; /* bytes, as KVM compares them */
  if (n > READ_AHEAD / isz) n = READ_AHEAD / isz;
  if (n > count) n = count;
  if (n == 0) n = 1;
  struct model_strio *s = &c->strio;
  s->rip = c->rip;
  s->count = (uint32_t)n;
  s->wait = true;
  s->ready = false;
  memset(s->buf, 0, n * isz);
  c->io.port = port, c->io.size = (uint8_t)isz, c->io.write = 0;
  c->io.in_pending = true; /* model_cpu__complete_io() hands it to model_strio__complete() */
  c->io.len = d->len;
  c->stop = MSTOP_IO;
  c->slice_end = 0;
}

bool model_strio__ins(struct model_cpu *c, const struct model_insn *d) {
  uint64_t am = addr_mask(d);
  if (d->rep && (c->gpr[1] & am) == 0) return true;
  unsigned isz = io_size(d);
  uint16_t port = (uint16_t)c->gpr[2];
  struct model_strio *s = &c->strio;
  if (!(s->ready && s->rip == c->rip && c->io.port == port && c->io.size == isz)) {
    if (!model_exec__io_allowed(c, port, isz)) model__gp0(c);
    s->ready = false; /* a batch another instruction left is not this one's */
    ins_exit(c, d, port, isz);
    return false;
  }
  s->ready = false; /* consumed now; a faulting store drops the rest */
  int64_t step = (c->rflags & RF_DF) ? -(int64_t)isz : (int64_t)isz;
  for (uint32_t i = 0; i < s->count; i++) {
    uint64_t v = 0, di = c->gpr[7] & am;
    memcpy(&v, s->buf + (size_t)i * isz, isz);
    model_mem__write(c, di, isz, v);
    c->gpr[7] = (c->gpr[7] & ~am) | ((di + step) & am);
    if (!d->rep) return true;
    c->cnt.rep_iterations++;
    if (count_down(c, am)) return true;
  }
  c->slice_end = 0; /* back into the guest between batches, as KVM re-enters it */
  return false;
}

bool model_strio__complete(struct model_cpu *c) {
  if (!c->strio.wait) return false;
  c->strio.wait = false;
  c->strio.ready = true;
  return true;
}
