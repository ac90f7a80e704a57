/* string_io - INS and OUTS, with and without REP, at the guest's CPL (ring
 * 3 gets IOPL 3 for it), against refvmm's ports:
 *   case 0: INSB/INSW/INSD from the ident port (VTB_IDENT_MAGIC, narrower
 *           reads its low bytes) into a buffer: single, REP with n elements
 *           (forward and, with DF=1, backward), REP with RCX=0 (no access),
 *           and REP with a 32-bit address size.
 *   case 1: REP OUTSB of a line to COM1 (the console shows it), REP OUTSW and
 *           REP OUTSD of n elements and a single OUTSD to the bench port
 *           (its `sum` counts them), REP with RCX=0.
 *   case 2: REP OUTSD of n argument GPAs to the report hypercall's port: n
 *           hypercalls, one per element, reporting s.K = K+1.
 *   case 3: INSD from a hypercall port (hypercalls are OUTs): refused.
 *   case 4: REP OUTSB to a hypercall port (hypercalls are 32-bit): refused.
 * checksum (cases 0-2): a hash of the buffers and of RSI/RDI/RCX after each
 * instruction. Inside the timed region: only the string instructions. */
#include "rt.h"

static const struct vtb_param params[] VTB_PARAM_TABLE = {
    {"case", 0, 0, 4, "0: INS, 1: OUTS, 2: OUTS to a hypercall port, 3: INS from one, 4: OUTSB"},
    {"n", 64, 1, 512, "elements per REP instruction"},
    VTB_PARAM_END,
};

static uint8_t buf[8 * 512 + 64] __attribute__((aligned(64)));
static struct vtb_hc_report reps[512];
static uint32_t gpas[512];

/* What a string instruction left behind: the pointers' distance from where
 * they started and the count. */
static uint64_t fold(uint64_t h, uint64_t v) {
  return vtb_mix64(h ^ v);
}

/* INS writes [RDI], OUTS reads [RSI]: each macro ties the one it uses. */
#define INS(insn, dst, port, count)                                                                \
  ({                                                                                               \
    uint64_t d_ = (uint64_t)(dst), c_ = (count);                                                   \
    __asm__ volatile(insn : "+D"(d_), "+c"(c_) : "d"((uint16_t)(port)) : "memory");                \
    fold(d_ - (uint64_t)(dst), c_);                                                                \
  })
#define OUTS(insn, src, port, count)                                                               \
  ({                                                                                               \
    uint64_t s_ = (uint64_t)(src), c_ = (count);                                                   \
    __asm__ volatile(insn : "+S"(s_), "+c"(c_) : "d"((uint16_t)(port)) : "memory");                \
    fold(s_ - (uint64_t)(src), c_);                                                                \
  })

static uint64_t case_ins(uint64_t n) {
  uint64_t h = 0;
  memset(buf, 0x5a, sizeof buf);
  h ^= INS("insb", buf, VTB_PORT_IDENT, 0);
  h ^= INS("insw", buf + 1, VTB_PORT_IDENT, 0);
  h ^= INS("insl", buf + 3, VTB_PORT_IDENT, 0);
  h ^= INS("rep insb", buf + 8, VTB_PORT_IDENT, n);
  h ^= INS("rep insw", buf + 8 + n, VTB_PORT_IDENT, n);
  h ^= INS("rep insl", buf + 8 + 3 * n, VTB_PORT_IDENT, n);
  h ^= INS("rep insb", buf, VTB_PORT_IDENT, 0); /* RCX = 0: nothing */
  /* DF = 1: backward from the buffer's last dword */
  uint8_t *last = buf + sizeof buf - 4;
  __asm__ volatile("std" ::: "memory");
  h ^= INS("rep insl", last, VTB_PORT_IDENT, n / 2);
  h ^= INS("rep insw", last - 2 * n - 2, VTB_PORT_IDENT, n / 4);
  __asm__ volatile("cld" ::: "memory");
  h ^= INS(".byte 0x67; rep insb", buf + 8 + 7 * n, VTB_PORT_IDENT, 3);
  for (size_t i = 0; i < sizeof buf; i++)
    h = fold(h, buf[i]);
  return h;
}

static uint64_t case_outs(uint64_t n) {
  static const char line[] = "string_io: REP OUTSB to COM1\n";
  uint64_t h = OUTS("rep outsb", line, 0x3f8, sizeof line - 1);
  for (uint64_t i = 0; i < sizeof buf; i++)
    buf[i] = (uint8_t)vtb_mix64(i);
  h ^= OUTS("rep outsw", buf, VTB_PORT_BENCH, n);
  h ^= OUTS("rep outsl", buf + 2 * n, VTB_PORT_BENCH, n);
  h ^= OUTS("outsl", buf + 6 * n, VTB_PORT_BENCH, 0);
  h ^= OUTS("rep outsl", buf, VTB_PORT_BENCH, 0);
  return h;
}

static uint64_t case_hypercalls(uint64_t n) {
  for (uint64_t k = 0; k < n; k++) {
    snprintf(reps[k].key, sizeof reps[k].key, "s.%lu", k);
    reps[k].value = k + 1;
    gpas[k] = (uint32_t)(uint64_t)&reps[k];
  }
  return OUTS("rep outsl", gpas, VTB_HC_PORT_BASE + VTB_HC_REPORT, n);
}

static int setup(void) {
  rt_user_rflags |= 3ull << 12; /* IOPL 3: ring 3 may use the ports */
  return 0;
}

static int run(struct wl_result *res) {
  uint64_t which = param("case"), n = param("n"), h = 0;
  mark_begin();
  if (which == 0) h = case_ins(n);
  if (which == 1) h = case_outs(n);
  if (which == 2) h = case_hypercalls(n);
  if (which == 3) h = INS("insl", buf, VTB_HC_PORT_BASE + VTB_HC_REPORT, 0);
  if (which == 4) h = OUTS("rep outsb", gpas, VTB_HC_PORT_BASE + VTB_HC_REPORT, 4);
  mark_end();
  if (which >= 3) printf("string_io: the VMM accepted case %lu\n", which);
  res->checksum = h;
  res->iterations = n;
  return which >= 3;
}

const struct workload WORKLOAD = {
    .name = "string_io",
    .desc = "hostile: INS/OUTS with and without REP, to devices and hypercall ports",
    .params = params,
    .cpl_allowed = WL_CPL0 | WL_CPL3,
    .cpl_default = 3,
    .setup = setup,
    .run = run,
};
